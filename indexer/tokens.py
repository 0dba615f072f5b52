"""Word-piece vectors for evidence sentences: each word piece's output vector from the index's embedder,
averaged over the contexts it had in the corpus, and weighted by its rarity.

A sentence's vector is then the rarity-weighted mean of its word pieces' vectors: close to the embedder's
own mean pooling, with each piece's context-dependent output replaced by its corpus average (the special
tokens' outputs left out). No transformer pass at question
time (the evidence step costs 5-10 ms p50 on any CPU instead of ~86 ms in float32 where bf16 is not native:
`benchmarks/latency.py`), and no vector per sentence in the index: one per word piece of the
vocabulary that the corpus uses.

Built once per full build from a sample of documents (`SAMPLE_DOCUMENTS`; rarity is counted over
`COUNT_DOCUMENTS`), carried unchanged through `topicchat add` / `remove`; a piece the table lacks (a new
document's rare word) gets the embedder's output for that piece alone, computed when first needed.
Only for embedders that pool by the mean of their word pieces and can return them (`hidden_states`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from topicchat.models.base import normalise

log = logging.getLogger(__name__)

FILE = "token_vectors.npz"
SAMPLE_DOCUMENTS = 1000  # documents whose word pieces' outputs are averaged (all of a smaller corpus)
COUNT_DOCUMENTS = 20_000  # documents whose word pieces are counted for the rarity weights
SAMPLE_TOKENS = 256  # word pieces of each sampled document that are run through the model
BATCH = 32
SEED = 0


def supported(embedder: Any) -> bool:
    """Whether the embedder can give its word pieces' output vectors and pools them by their mean."""
    return callable(getattr(embedder, "hidden_states", None)) and getattr(embedder, "mean_pooled", False)


@dataclass
class TokenTable:
    """One vector per word piece (float16, unit length is not required) and its rarity weight."""

    ids: np.ndarray  # int64, sorted: the word pieces the table holds
    vectors: np.ndarray  # (len(ids), dim), float16
    weights: np.ndarray  # (len(ids),), float32: log((N + 1) / (df + 1)) + 1 over the counted documents
    unseen_weight: float  # the weight of a piece no counted document holds (the rarest)
    model_id: str
    sampled: int  # documents whose outputs were averaged
    counted: int  # documents counted for the weights
    _extra: dict[int, np.ndarray] = field(default_factory=dict, repr=False)  # pieces computed at question time
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def save(self, folder: Path) -> list[str]:
        np.savez(
            folder / FILE,
            ids=self.ids,
            vectors=self.vectors,
            weights=self.weights,
            unseen_weight=np.float32(self.unseen_weight),
            sampled=np.int64(self.sampled),
            counted=np.int64(self.counted),
        )
        return [FILE]

    def manifest(self) -> dict[str, Any]:
        return {
            "file": FILE,
            "model": self.model_id,
            "pieces": len(self.ids),
            "sampled_documents": self.sampled,
            "counted_documents": self.counted,
        }

    @classmethod
    def load(cls, folder: Path, model_id: str) -> TokenTable:
        with np.load(folder / FILE, allow_pickle=False) as data:
            return cls(
                data["ids"].astype(np.int64),
                data["vectors"],
                data["weights"].astype(np.float32),
                float(data["unseen_weight"]),
                model_id,
                int(data["sampled"]),
                int(data["counted"]),
            )

    def encode(self, texts: Sequence[str], embedder: Any) -> np.ndarray:
        """Unit vectors of short texts (sentences): the rarity-weighted mean of their word pieces' vectors."""
        tokenizer = embedder.tokenizer
        pieces = tokenizer(list(texts), add_special_tokens=False, truncation=True, max_length=embedder.max_tokens)[
            "input_ids"
        ]
        wanted = np.unique(np.fromiter((p for row in pieces for p in row), dtype=np.int64))
        self._add_missing(wanted[~self._rows_of(wanted)[1]].tolist(), embedder)
        dim = self.vectors.shape[1]
        out = np.zeros((len(pieces), dim), dtype=np.float32)
        for row, ids in enumerate(pieces):
            if not ids:
                continue
            ids_array = np.asarray(ids, dtype=np.int64)
            at, found = self._rows_of(ids_array)
            rows = at[found]
            total = (self.vectors[rows].astype(np.float32) * self.weights[rows, None]).sum(axis=0)
            for piece in ids_array[~found].tolist():
                extra = self._extra.get(piece)
                if extra is not None:
                    total += self.unseen_weight * extra
            out[row] = total
        return normalise(out)

    def _rows_of(self, pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each piece sits in the table, and whether the table holds it at all."""
        at = np.searchsorted(self.ids, pieces)
        return at, (at < len(self.ids)) & (self.ids[np.minimum(at, len(self.ids) - 1)] == pieces)

    def _add_missing(self, missing: list[int], embedder: Any) -> None:
        """The output vector of each piece the table lacks (`alone`)."""
        missing = [p for p in missing if p not in self._extra]
        if not missing:
            return
        with self._lock:  # one thread computes a piece; the others find it done
            missing = [p for p in missing if p not in self._extra]
            for piece, vector in zip(missing, alone(embedder, missing), strict=True):
                self._extra[piece] = vector.astype(np.float32)


def _specials(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens the model reads before and after a text ([CLS] and [SEP]; none where it has none)."""
    first, last = tokenizer.cls_token_id, tokenizer.sep_token_id
    return [first] if first is not None else [], [last] if last is not None else []


def alone(embedder: Any, pieces: Sequence[int]) -> list[np.ndarray]:
    """Each piece's own output when the model reads it alone between its special tokens (the special tokens'
    outputs left out, as for the pieces the build averages), 256 pieces per batch."""
    head, tail = _specials(embedder.tokenizer)
    out: list[np.ndarray] = []
    for start in range(0, len(pieces), 256):
        rows = [[*head, p, *tail] for p in pieces[start : start + 256]]
        out += [states[len(head) : len(states) - len(tail)].mean(axis=0) for states in embedder.hidden_states(rows)]
    return out


def build_table(
    embedder: Any,
    texts: Sequence[str],
    report: Any = None,
    sample: int = SAMPLE_DOCUMENTS,
    count: int = COUNT_DOCUMENTS,
    max_tokens: int = SAMPLE_TOKENS,
) -> TokenTable | None:
    """The table for a corpus, or None where the embedder cannot give its word pieces' outputs."""
    if not supported(embedder) or not len(texts):
        return None
    tokenizer = embedder.tokenizer
    rng = np.random.default_rng(SEED)
    n = len(texts)
    counted_rows = np.sort(rng.choice(n, count, replace=False)) if n > count else np.arange(n)
    sampled_rows = (
        np.sort(rng.choice(counted_rows, sample, replace=False)) if len(counted_rows) > sample else counted_rows
    )
    pieces = tokenizer(
        [texts[i] for i in counted_rows], add_special_tokens=False, truncation=True, max_length=embedder.max_tokens
    )["input_ids"]
    counted = len(counted_rows)
    present = [np.unique(np.asarray(row, dtype=np.int64)) for row in pieces]
    held = np.concatenate(present) if present else np.zeros(0, dtype=np.int64)
    df = np.bincount(held, minlength=int(held.max()) + 1 if len(held) else 0)
    ids = np.flatnonzero(df).astype(np.int64)  # every piece some counted document holds
    if not len(ids):
        return None
    position = np.full(len(df), -1, dtype=np.int64)
    position[ids] = np.arange(len(ids))
    dim = int(embedder.dim)
    sums = np.zeros((len(ids), dim), dtype=np.float64)
    seen = np.zeros(len(ids), dtype=np.int64)
    # the sampled documents' word pieces (they are among the counted ones), cut to `max_tokens` with the
    # model's special tokens around them, as the model reads a text
    where = {int(row): i for i, row in enumerate(counted_rows)}
    head, tail = _specials(tokenizer)
    cut = min(max_tokens, embedder.max_tokens) - len(head) - len(tail)
    with_specials = [[*head, *pieces[where[int(r)]][:cut], *tail] for r in sampled_rows]
    order = np.argsort([len(p) for p in with_specials], kind="stable")  # similar lengths per batch
    for start in range(0, len(order), BATCH):
        batch = [with_specials[i] for i in order[start : start + BATCH]]
        states = embedder.hidden_states(batch)
        inner = np.concatenate([np.asarray(row[len(head) : len(row) - len(tail)]) for row in batch])
        vectors_in = np.concatenate([x[len(head) : len(x) - len(tail)] for x in states]).astype(np.float64)
        rows = position[inner.astype(np.int64)]
        if not len(rows):
            continue
        order_rows = np.argsort(rows, kind="stable")
        rows, vectors_in = rows[order_rows], vectors_in[order_rows]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        sums[rows[starts]] += np.add.reduceat(vectors_in, starts, axis=0)
        seen[rows[starts]] += np.diff(np.r_[starts, len(rows)])
    # pieces counted but never in the sample: their output on their own (no context to average over)
    lone = ids[seen == 0].tolist()
    for p, vector in zip(lone, alone(embedder, lone), strict=True):
        sums[position[p]], seen[position[p]] = vector, 1
    vectors = (sums / np.maximum(seen, 1)[:, None]).astype(np.float16)
    weights = (np.log((counted + 1) / (df[ids] + 1)) + 1).astype(np.float32)
    table = TokenTable(
        ids,
        vectors,
        weights,
        float(np.log(counted + 1) + 1),
        embedder.model_id,
        len(sampled_rows),
        counted,
    )
    if report is not None:
        report(
            f"  {len(ids):,} word pieces: outputs averaged over {len(sampled_rows):,} documents, "
            f"rarity counted over {counted:,}"
        )
    return table
