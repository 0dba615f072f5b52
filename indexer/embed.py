"""Stage 2, embed: batched, normalised embeddings with an on-disk cache keyed by model id + text hash."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

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
            for i, key in enumerate(shard_keys.tolist()):
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
        np.savez(tmp, keys=np.array(list(keys), dtype="S16"), vectors=vectors.astype(np.float32))
        os.replace(tmp, final)


def embed_documents(
    embedder: Embedder,
    texts: Sequence[str],
    cache_dir: Path | None,
    show_progress: bool = True,
) -> tuple[np.ndarray, int]:
    """Embed texts, reusing cached vectors; returns (vectors, number of cache hits)."""
    keys = [text_key(t) for t in texts]
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    cache = EmbeddingCache(cache_dir, embedder.model_id, embedder.dim) if cache_dir else None
    found = cache.lookup(keys) if cache else {}
    missing = [i for i, k in enumerate(keys) if k not in found]
    for i, key in enumerate(keys):
        if key in found:
            out[i] = found[key]
    if missing:
        fresh = embedder.embed([texts[i] for i in missing], show_progress=show_progress)
        out[missing] = fresh
        if cache:
            unique: dict[bytes, int] = {}
            for j, i in enumerate(missing):
                unique.setdefault(keys[i], j)
            cache.add(list(unique), fresh[list(unique.values())])
    return out, len(texts) - len(missing)
