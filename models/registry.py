"""Turns config strings into model backends.

Embedders: `fake[:dim]`, `sentence-transformers:<id-or-folder>`, `onnx:<id-or-folder>` (int8 ONNX
encoder), or a bare id / folder (sentence-transformers).
Generators: `fake`, `llama-cpp:<file.gguf|smollm2>`, `transformers:<id|folder|file.gguf|smollm2>`,
`flan-t5:<id-or-folder>`, `openai:<model>@<base url>` (any OpenAI-compatible server: Ollama, llama.cpp's
server, vLLM, LM Studio), a bare `.gguf` path (llama.cpp), or `smollm2` (llama.cpp when installed, else
transformers' GGUF loader, with a warning).
"""

from __future__ import annotations

import importlib.util
import logging
from functools import lru_cache
from pathlib import Path

from topicchat.models.base import Embedder, Generator, ModelError
from topicchat.models.catalog import SMOLLM2, find_offline

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_GENERATOR = "transformers:smollm2"


# On CPUs without native bf16, `auto` embeds the first 128 tokens of each text (MiniLM was trained on 128
# word pieces): with the int8 ONNX encoder where the CPU has VNNI (4.6x float32's documents/s on a Zen 4),
# else in float32 (2.4x on AVX2 code paths, where int8 was no faster and lost 0.011 nDCG@10), each with
# Cranfield/CISI nDCG@10 and title -> abstract recall@10 within 0.01 of float32 (benchmarks/encoder.py,
# RESULTS.md).
FAST_PATH_TOKENS = 128

KINDS = ("fake", "sentence-transformers", "onnx", "llama-cpp", "transformers", "flan-t5", "openai")


def _split(spec: str) -> tuple[str, str]:
    prefix, sep, rest = spec.partition(":")
    if sep and prefix in KINDS:
        return prefix, rest
    return "", spec


_HUB_ID = r"[A-Za-z0-9][\w.\-]*/[\w.\-]+"


def check_spec(spec: str, role: str) -> None:
    """Refuse a model string that can name nothing, before any heavy stage runs: an unknown `kind:` prefix,
    a generator prefix given as an embedder (or the reverse), a bad `openai:` URL, or a name that is neither
    a known model, a file or folder here, nor a Hugging Face hub id (owner/name)."""
    import re

    spec = spec.strip()
    allowed = (
        ("fake", "sentence-transformers", "onnx")
        if role == "embedder"
        else ("fake", "llama-cpp", "transformers", "flan-t5", "openai")
    )
    what = "--embedding-model" if role == "embedder" else "--generator"
    kind, sep, rest = spec.partition(":")
    if spec in ("fake", "none") or (spec == "smollm2" and role == "generator"):
        return
    if sep and kind in KINDS:
        if kind not in allowed:
            raise ModelError(
                f"'{spec}' names a {'generator' if role == 'embedder' else 'embedder'}, not an {role}; "
                f"{what} takes {', '.join(k + ':' for k in allowed)} or a hub id or folder."
            )
        if kind == "openai":
            from topicchat.models.openai_backend import parse_spec

            parse_spec(rest)
            return
        name = rest
    elif sep and not Path(spec).exists() and not re.fullmatch(r"[A-Za-z]:[\\/].*", spec):
        raise ModelError(
            f"Unknown model string '{spec}' for {what}: '{kind}:' is not a backend. Use one of "
            f"{', '.join(k + ':' for k in allowed)}, a Hugging Face hub id (owner/name) or a local folder."
        )
    else:
        name = spec
    if kind == "fake" or find_offline(name) is not None or Path(name).expanduser().exists():
        return
    if not re.fullmatch(_HUB_ID, name) and not re.fullmatch(r"[\w.\-]+", name):
        raise ModelError(
            f"The {role} '{spec}' is neither a file or folder here nor a Hugging Face hub id (owner/name)."
        )


@lru_cache(maxsize=4)
def load_embedder(
    spec: str = DEFAULT_EMBEDDER, dtype: str = "auto", cache_dir: Path | None = None, max_tokens: int | None = None
) -> Embedder:
    """Build the embedder a config string names. For sentence-transformers models `dtype` picks the encoder:
    float32, bfloat16 (torch) or int8 (the int8 ONNX export), and auto bfloat16 where the CPU computes it
    natively, else int8; `max_tokens` cuts texts shorter than the model's own limit. Both are recorded in
    the model id. The embedder remembers the string as `spec`, so other processes (Ray actors) can load
    the same one."""
    embedder = _make_embedder(spec, dtype, cache_dir, max_tokens)
    setattr(embedder, "spec", spec)  # noqa: B010 - not part of the Embedder protocol
    return embedder


def _make_embedder(spec: str, dtype: str, cache_dir: Path | None, max_tokens: int | None) -> Embedder:
    kind, name = _split(spec.strip())
    if spec == "fake" or kind == "fake":
        from topicchat.models.fake import HashingEmbedder

        return HashingEmbedder(int(name) if kind == "fake" and name else 256)
    from topicchat.models.st_backend import SentenceTransformerEmbedder, pick_dtype

    precision = pick_dtype(dtype)
    automatic = kind != "onnx" and dtype == "auto" and precision != "bfloat16"
    cut = FAST_PATH_TOKENS if automatic and max_tokens is None else max_tokens
    if kind == "onnx" or precision == "int8":
        from topicchat.models.onnx_backend import OnnxEmbedder

        try:
            if importlib.util.find_spec("onnxruntime") is None:
                raise ModelError("The int8 ONNX encoder needs onnxruntime: pip install topicchat")
            return OnnxEmbedder(name, cache_dir=cache_dir, max_tokens=cut)
        except ModelError as exc:
            if not automatic:
                raise
            # The automatic choice falls back to float32 torch, on the same 128 tokens.
            log.warning("%s Embedding in float32 with torch instead.", exc)
            return SentenceTransformerEmbedder(name, dtype="float32", max_tokens=cut)
    return SentenceTransformerEmbedder(name, dtype=precision, max_tokens=cut)


def _gguf_for(name: str) -> str:
    entry = find_offline(name)
    if entry is not None and entry.kind == "generator":
        path = entry.path()
        if path is None:
            raise ModelError(f"The generator '{name}' is not installed. Install it with: {entry.install}")
        return str(path)
    return name


def llama_cpp_available() -> bool:
    """Whether the llama.cpp backend (the `llama` extra) is importable."""
    return importlib.util.find_spec("llama_cpp") is not None


@lru_cache(maxsize=4)
def load_generator(spec: str = DEFAULT_GENERATOR, cache_dir: Path | None = None) -> Generator:
    """Build the generator a config string names."""
    spec = spec.strip()
    kind, name = _split(spec)
    if spec == "fake" or kind == "fake":
        from topicchat.models.fake import ScriptedGenerator

        return ScriptedGenerator()
    if kind == "flan-t5":
        from topicchat.models.hf_backend import Seq2SeqGenerator

        return Seq2SeqGenerator(name)
    if kind == "openai":
        from topicchat.models.openai_backend import OpenAIGenerator, parse_spec

        return OpenAIGenerator(*parse_spec(name))
    if kind == "transformers":
        from topicchat.models.hf_backend import CausalLMGenerator

        return CausalLMGenerator(_gguf_for(name), cache_dir)
    if kind == "llama-cpp" or name.endswith(".gguf"):
        from topicchat.models.llamacpp_backend import LlamaCppGenerator

        return LlamaCppGenerator(_gguf_for(name))
    entry = find_offline(name)
    if entry is SMOLLM2:
        if llama_cpp_available():
            from topicchat.models.llamacpp_backend import LlamaCppGenerator

            return LlamaCppGenerator(_gguf_for(name))
        log.warning(
            "llama-cpp-python is not installed: running %s through transformers' GGUF loader "
            "(slower to load). Install the extra for speed: pip install 'topicchat[llama]'",
            name,
        )
        from topicchat.models.hf_backend import CausalLMGenerator

        return CausalLMGenerator(_gguf_for(name), cache_dir)
    if "t5" in name.lower():
        from topicchat.models.hf_backend import Seq2SeqGenerator

        return Seq2SeqGenerator(name)
    from topicchat.models.hf_backend import CausalLMGenerator

    return CausalLMGenerator(name, cache_dir)
