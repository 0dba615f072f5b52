"""transformers generators: causal LMs (GGUF included, no compiler needed) and seq2seq (Flan-T5)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from topicchat.models.base import Message, ModelError, cut_at_stop, flatten_messages
from topicchat.models.catalog import offline_alternatives
from topicchat.models.st_backend import cpu_has_bf16


def _load_error(name: str, exc: Exception) -> ModelError:
    return ModelError(
        f"Could not load the generator '{name}' ({type(exc).__name__}: {exc}). "
        "If this machine cannot reach the Hugging Face hub, use a local folder, a .gguf file, or an "
        f"offline model:\n{offline_alternatives('generator')}"
    )


def generator_dtype() -> str:
    """The precision a transformers causal LM runs in: bfloat16 where the CPU computes it natively (measured
    2.2x float32's speed for batched labels on such a CPU), else float32; `TOPICCHAT_GENERATOR_DTYPE=float32`
    or `bfloat16` overrides."""
    requested = os.environ.get("TOPICCHAT_GENERATOR_DTYPE", "auto").strip().lower() or "auto"
    if requested not in ("auto", "float32", "bfloat16"):
        raise ModelError(
            f"Unknown generator dtype '{requested}' (TOPICCHAT_GENERATOR_DTYPE): use auto, float32 or bfloat16."
        )
    if requested == "auto":
        return "bfloat16" if cpu_has_bf16() else "float32"
    return requested


class _TransformersBase:
    """Shared greedy generation and streaming for transformers models."""

    model_id: str
    model: Any
    tokenizer: Any
    decoder_only: bool

    def _text(self, messages: Sequence[Message]) -> str:
        return flatten_messages(messages)

    def _batch_inputs(self, texts: list[str]):  # pragma: no cover - overridden
        raise NotImplementedError

    def _inputs(self, messages: Sequence[Message]):
        return self._batch_inputs([self._text(messages)])

    def generate_batch(
        self, prompts: Sequence[Sequence[Message]], max_tokens: int = 64, stop: Sequence[str] = (), batch_size: int = 16
    ) -> list[str]:
        """Greedy replies for many prompts, batched."""
        return _generate_batch(self, [self._text(p) for p in prompts], max_tokens, stop, batch_size)

    def generate(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> str:
        return "".join(self.stream(messages, max_tokens, stop))

    def stream(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> Iterator[str]:
        import torch
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(**inputs, max_new_tokens=max_tokens, do_sample=False, streamer=streamer)
        if stop:
            # Stop in generate() itself, so the model does not keep writing after the caller stopped reading.
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)

        def run() -> None:
            with torch.inference_mode():
                self.model.generate(**kwargs)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        text = ""
        for piece in streamer:
            new_text = text + piece
            cut = cut_at_stop(new_text, stop)
            if len(cut) < len(new_text):
                if cut[len(text) :]:
                    yield cut[len(text) :]
                break
            text = new_text
            if piece:
                yield piece
        thread.join()


def _generate_batch(gen, encoded_prompts, max_tokens: int, stop: Sequence[str], batch_size: int) -> list[str]:
    """Greedy generation for many prompts at once (left padding): small models are latency bound on CPUs."""
    import torch

    tok = gen.tokenizer
    outputs: list[str] = []
    for start in range(0, len(encoded_prompts), batch_size):
        chunk = encoded_prompts[start : start + batch_size]
        inputs = gen._batch_inputs(chunk)
        kwargs = dict(**inputs, max_new_tokens=max_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=tok)
        with torch.inference_mode():
            out = gen.model.generate(**kwargs)
        new = out[:, inputs["input_ids"].shape[1] :] if gen.decoder_only else out
        outputs += [cut_at_stop(t, stop) for t in tok.batch_decode(new, skip_special_tokens=True)]
    return outputs


class CausalLMGenerator(_TransformersBase):
    """A chat model via AutoModelForCausalLM: a hub id, a folder, or a `.gguf` file (dequantised)."""

    def __init__(self, name: str, cache_dir: Path | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        dtype = generator_dtype()  # before loading: a wrong setting costs no load
        path = Path(name)
        kwargs: dict = {}
        source = name
        converted = None
        if path.suffix == ".gguf":
            if not path.exists():
                raise ModelError(f"The GGUF file '{name}' does not exist.")
            converted = _converted_dir(path, cache_dir)
            if (converted / "model.safetensors").exists():
                source = str(converted)
            else:
                source, kwargs = str(path.parent), {"gguf_file": path.name}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            self.model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
            if converted is not None and kwargs:
                _save_converted(self.model, self.tokenizer, converted)
        except ImportError as exc:
            raise ModelError(f"Loading '{name}' needs a package that is missing: {exc}") from exc
        except Exception as exc:
            raise _load_error(name, exc) from exc
        self.model.eval()
        self.model_id = f"transformers:{path.name if path.suffix == '.gguf' else name}"
        # Always cast: hub checkpoints load in their own dtype (often bf16), a GGUF dequantises to float32;
        # the cached conversion above stays float32 either way.
        self.model.to(torch.bfloat16 if dtype == "bfloat16" else torch.float32)
        if self.model.dtype == torch.bfloat16:
            self.model_id += "#bf16"
        self.decoder_only = True
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _text(self, messages: Sequence[Message]) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return str(self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True))
        return flatten_messages(messages)

    def _batch_inputs(self, texts: list[str]):
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)


def _converted_dir(gguf: Path, cache_dir: Path | None = None) -> Path:
    """Where the dequantised copy of a GGUF file is kept, keyed by its path, size and mtime."""
    import hashlib

    from topicchat.models.catalog import cache_root

    stat = gguf.stat()
    key = hashlib.sha1(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return (cache_dir or cache_root()) / "converted" / f"{gguf.stem}-{key}"


def _save_converted(model, tokenizer, target: Path) -> None:
    """Keep the dequantised weights as safetensors: loading them takes 0.2 s instead of ~15 s.

    transformers refuses save_pretrained() on a GGUF-loaded model, so the state dict and config
    are written directly (no pickle); a failure only costs the speed-up.
    """
    import json
    import os
    import shutil
    import tempfile

    from safetensors.torch import save_file

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        if getattr(model.config, "tie_word_embeddings", False):
            state.pop("lm_head.weight", None)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (tmp / "config.json").write_text(json.dumps(config, indent=1, default=str))
        if model.generation_config is not None:
            model.generation_config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except Exception as exc:  # the model in memory is fine; only the cache is missing
        import logging

        logging.getLogger(__name__).warning("Could not cache the dequantised GGUF model in %s: %s", target, exc)


class Seq2SeqGenerator(_TransformersBase):
    """An encoder-decoder model (Flan-T5, the seed's labeller) via AutoModelForSeq2SeqLM.generate()."""

    def __init__(self, name: str, max_input_tokens: int = 512) -> None:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(name)
        except Exception as exc:
            raise _load_error(name, exc) from exc
        self.model.eval()
        self.max_input_tokens = max_input_tokens
        self.model_id = f"flan-t5:{name}"
        self.decoder_only = False

    def _batch_inputs(self, texts: list[str]):
        return self.tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_input_tokens
        )
