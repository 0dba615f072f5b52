"""The two model seams (Protocols) shared by every backend, and the model-layer error."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


class ModelError(RuntimeError):
    """A model or backend cannot be used; the message says what to do instead."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    `model_id` names the exact vectors (`name`, plus `#variant` when the model runs in another
    precision or runtime, e.g. `#bf16`), so caches and indexes never mix two variants.
    """

    model_id: str
    name: str  # the model, without the variant
    variant: str  # "" (float32 weights as published), "bf16", "int8-onnx", ...
    dim: int

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...


@runtime_checkable
class Generator(Protocol):
    """Writes text for a chat-style prompt (a list of messages)."""

    model_id: str

    def generate(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> str: ...

    def stream(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> Iterator[str]: ...


def embed_short(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """`embedder.embed(texts)` through the embedder's faster path for a few short texts, where it has one."""
    fast = getattr(embedder, "embed_short", None)
    return fast(texts) if fast is not None else embedder.embed(texts)


def pad_rows(rows: Sequence[Sequence[int]], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of word-piece ids as one (ids, attention mask) pair of int64 arrays `width` wide, zero-padded."""
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)], mask[i, : len(row)] = row, 1
    return ids, mask


def variant_id(name: str, variant: str) -> str:
    """The model id of a variant: `name#variant`, or `name` for the published weights."""
    return f"{name}#{variant}" if variant else name


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def flatten_messages(messages: Sequence[Message]) -> str:
    """Render chat messages as one plain prompt, for models without a chat template."""
    parts = []
    for message in messages:
        role, content = message["role"], message["content"].strip()
        if role == "system":
            parts.append(content)
        elif role == "user":
            parts.append(f"Input: {content}")
        else:
            parts.append(f"Output: {content}")
    parts.append("Output:")
    return "\n\n".join(parts)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut generated text at the first stop string."""
    cut = len(text)
    for s in stop:
        i = text.find(s)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]


def generate_many(
    generator: Generator, prompts: Sequence[Sequence[Message]], max_tokens: int = 64, stop: Sequence[str] = ()
) -> list[str]:
    """Generate for many prompts, batched when the backend can (`generate_batch`), else one by one."""
    batch = getattr(generator, "generate_batch", None)
    if batch is not None:
        return list(batch(prompts, max_tokens=max_tokens, stop=stop))
    return [generator.generate(p, max_tokens=max_tokens, stop=stop) for p in prompts]
