"""Stage 2, embed: batched, normalised embeddings with an on-disk cache keyed by model id + text hash."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from topicchat.indexer.failpoints import pause_point
from topicchat.models.base import Embedder

log = logging.getLogger(__name__)


def text_key(text: str) -> bytes:
    """A 16-byte digest of a document text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class EmbeddingCache:
    """Append-only shards of (text digest, vector) per model; no pickle, safe to share."""

    def __init__(self, root: Path, model_id: str, dim: int) -> None:
        slug = hashlib.sha1(f"{model_id}|{dim}".encode()).hexdigest()[:16]
        self.folder = Path(root) / "embeddings" / slug
        self.dim = dim

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Vectors for whichever keys the cache holds."""
        wanted = set(keys)
        found: dict[bytes, np.ndarray] = {}
        if not self.folder.exists():
            return found
        for shard in sorted(self.folder.glob("*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    shard_keys, vectors = data["keys"], data["vectors"]
            except (OSError, ValueError, KeyError):
                log.warning("Ignoring an unreadable embedding cache shard: %s", shard)
                continue
            if vectors.ndim != 2 or vectors.shape[1] != self.dim:
                log.warning(
                    "Ignoring embedding cache shard %s: it holds %s vectors, this model makes %d-d ones.",
                    shard,
                    "x".join(map(str, vectors.shape)),
                    self.dim,
                )
                continue
            if shard_keys.dtype.kind == "S":  # older shards: numpy's S16 dropped a digest's trailing zero bytes
                as_bytes = [k.ljust(16, b"\0") for k in shard_keys.tolist()]
            else:  # (n, 16) uint8
                as_bytes = [row.tobytes() for row in shard_keys]
            for i, key in enumerate(as_bytes):
                if key in wanted:
                    found[key] = vectors[i]
        return found

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Write one new shard atomically."""
        if len(keys) == 0:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{uuid.uuid4().hex}.npz"
        tmp = final.with_suffix(".tmp.npz")
        matrix = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)  # every byte kept
        np.savez(tmp, keys=matrix, vectors=vectors.astype(np.float32))
        os.replace(tmp, final)


CHUNK = 2048  # texts embedded (and cached) at a time, so a build stopped midway keeps what it embedded


def embed_documents(
    embedder: Embedder,
    texts: Sequence[str],
    cache_dir: Path | None,
    show_progress: bool = True,
    chunk: int = CHUNK,
    run_chunks: Callable[[list[list[str]]], Iterator[tuple[int, np.ndarray]]] | None = None,
) -> tuple[np.ndarray, int]:
    """Embed texts, reusing cached vectors; returns (vectors, number of cache hits). New vectors are written
    to the cache chunk by chunk, so an interrupted build resumes where it stopped. `run_chunks` embeds a list
    of chunks elsewhere (a Ray cluster), yielding (chunk number, vectors) as each finishes; by default each
    chunk is embedded here, in order."""
    keys = [text_key(t) for t in texts]
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    cache = EmbeddingCache(cache_dir, embedder.model_id, embedder.dim) if cache_dir else None
    found = cache.lookup(keys) if cache else {}
    for i, key in enumerate(keys):
        if key in found:
            out[i] = found[key]
    todo: dict[bytes, list[int]] = {}  # each distinct missing text once
    for i, key in enumerate(keys):
        if key not in found:
            todo.setdefault(key, []).append(i)
    pending = list(todo.items())
    parts = [pending[start : start + chunk] for start in range(0, len(pending), chunk)]
    part_texts = [[texts[rows[0]] for _, rows in part] for part in parts]

    def here(chunks: list[list[str]]) -> Iterator[tuple[int, np.ndarray]]:
        for number, part in enumerate(chunks):
            yield number, embedder.embed(part, show_progress=show_progress)

    for number, fresh in (run_chunks or here)(part_texts):
        part = parts[number]
        for (_, rows), vector in zip(part, fresh, strict=True):
            out[rows] = vector
        if cache:
            cache.add([key for key, _ in part], fresh)
        pause_point("embedded-chunk")
    missing = sum(len(rows) for _, rows in pending)
    return out, len(texts) - missing
