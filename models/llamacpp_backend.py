"""llama.cpp generator (llama-cpp-python) for `.gguf` files: the fastest local generator."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from topicchat.models.base import Message, ModelError


class LlamaCppGenerator:
    """Chat completions from a GGUF file, greedy decoding so labels are reproducible."""

    def __init__(self, gguf: str | Path, n_ctx: int = 2048, threads: int | None = None, seed: int = 42) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError(
                "The llama.cpp backend needs llama-cpp-python, which is not installed. "
                "Install the extra with: pip install 'topicchat[llama]' (it compiles, ~10 min on 2 cores), "
                "or use the transformers backend: --generator transformers:<file.gguf>"
            ) from exc
        path = Path(gguf)
        if not path.exists():
            raise ModelError(f"The GGUF file '{gguf}' does not exist.")
        self.model_id = f"llama-cpp:{path.name}"
        self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, seed=seed, verbose=False)

    def generate(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> str:
        out: Any = self.llm.create_chat_completion(
            messages=cast(Any, list(messages)),  # plain role/content dicts
            max_tokens=max_tokens,
            temperature=0.0,
            stop=list(stop) or None,
        )
        return str(out["choices"][0]["message"]["content"] or "")

    def stream(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> Iterator[str]:
        chunks: Any = self.llm.create_chat_completion(
            messages=cast(Any, list(messages)),  # plain role/content dicts
            max_tokens=max_tokens,
            temperature=0.0,
            stop=list(stop) or None,
            stream=True,
        )
        for chunk in chunks:
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                yield str(piece)
