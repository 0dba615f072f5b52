"""sentence-transformers embedder: a hub id or a local folder, with the offline catalogue first."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.base import ModelError, normalise
from models.catalog import find_offline, offline_alternatives

log = logging.getLogger(__name__)


def resolve_embedder_path(name: str) -> tuple[str, str]:
    """Map a model name to (what to load, canonical model id); catalogue names load from their package."""
    entry = find_offline(name)
    if entry is not None and entry.kind == "embedder":
        path = entry.path()
        if path is not None:
            return str(path), entry.name
        if not _hub_allowed():
            raise ModelError(
                f"The embedding model '{name}' is not installed and the hub is switched off. "
                f"Install it with: {entry.install}"
            )
    if Path(name).expanduser().exists():
        path = Path(name).expanduser().resolve()
        return str(path), str(path)
    return name, name


def _hub_allowed() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("1", "true", "True")


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model on the CPU (or the device torch picks)."""

    def __init__(self, name: str, batch_size: int = 32, device: str | None = None) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ModelError("sentence-transformers is not installed: pip install topicchat") from exc
        target, self.model_id = resolve_embedder_path(name)
        try:
            self.model = SentenceTransformer(target, device=device or "cpu")
        except Exception as exc:
            raise ModelError(
                f"Could not load the embedding model '{name}' ({type(exc).__name__}: {exc}). "
                "If this machine cannot reach the Hugging Face hub, pick a local folder or one of "
                f"the offline models:\n{offline_alternatives('embedder')}"
            ) from exc
        self.batch_size = batch_size
        dim = self.model.get_sentence_embedding_dimension()
        self.dim = int(dim) if dim else int(self.model.encode(["x"]).shape[1])
        self.max_tokens = int(getattr(self.model, "max_seq_length", 256) or 256)

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return normalise(vectors)
