"""Deterministic, content-dependent fake backends for fast tests (selectable as `fake`)."""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np

from topicchat.models.base import Message, cut_at_stop, normalise

_WORD = re.compile(r"[a-z][a-z0-9\-]+")
_STOP = frozenset(
    "the a an and or of to in on for with by from is are was were be been this that these those we our "
    "it its as at which their can has have not but into using use used also than more such".split()
)


class HashingEmbedder:
    """A hashed bag-of-words embedder: texts sharing words get similar vectors, so toy corpora cluster."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = self.name = f"fake-hashing-{dim}"
        self.variant = ""

    def _bucket(self, word: str) -> tuple[int, float]:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, 1.0 if (value >> 32) & 1 else -1.0

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if word in _STOP:
                    continue
                col, sign = self._bucket(word)
                out[row, col] += sign
        return normalise(out)


class ScriptedGenerator:
    """Returns queued replies in order; when the queue is empty, a reply built from the prompt's words.

    The fallback reply is deterministic and content-dependent: the most frequent non-stop words of
    the last user message, so a fake-built index still gets distinct, meaningful labels.
    """

    model_id = "fake-generator"

    def __init__(self, replies: Sequence[str] = ()) -> None:
        self.replies: deque[str] = deque(replies)
        self.prompts: list[list[Message]] = []

    def enqueue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def _reply(self, messages: Sequence[Message], max_tokens: int) -> str:
        self.prompts.append(list(messages))
        if self.replies:
            return self.replies.popleft()
        user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        counts: dict[str, int] = {}
        for word in _WORD.findall(user.lower()):
            if word not in _STOP and len(word) > 3:
                counts[word] = counts.get(word, 0) + 1
        top = sorted(counts, key=lambda w: (-counts[w], w))[:3]
        return " ".join(w.capitalize() for w in top) or "General"

    def generate(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> str:
        return cut_at_stop(self._reply(messages, max_tokens), stop)

    def stream(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> Iterator[str]:
        text = self.generate(messages, max_tokens, stop)
        yield from re.findall(r"\S+\s*", text)
