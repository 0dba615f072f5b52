"""transformers generators: causal LMs (GGUF included, no compiler needed) and seq2seq (Flan-T5)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from models.base import Message, ModelError, cut_at_stop, flatten_messages
from models.catalog import offline_alternatives


def _load_error(name: str, exc: Exception) -> ModelError:
    return ModelError(
        f"Could not load the generator '{name}' ({type(exc).__name__}: {exc}). "
        "If this machine cannot reach the Hugging Face hub, use a local folder, a .gguf file, or an "
        f"offline model:\n{offline_alternatives('generator')}"
    )


class _TransformersBase:
    """Shared greedy generation and streaming for transformers models."""

    model_id: str

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
                if cut[len(text):]:
                    yield cut[len(text):]
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

    def __init__(self, name: str) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(name)
        kwargs: dict = {}
        source = name
        if path.suffix == ".gguf":
            if not path.exists():
                raise ModelError(f"The GGUF file '{name}' does not exist.")
            source, kwargs = str(path.parent), {"gguf_file": path.name}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            self.model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        except ImportError as exc:
            raise ModelError(f"Loading '{name}' needs a package that is missing: {exc}") from exc
        except Exception as exc:
            raise _load_error(name, exc) from exc
        self.model.eval()
        self.model_id = f"transformers:{path.name if path.suffix == '.gguf' else name}"
        self.decoder_only = True
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _text(self, messages: Sequence[Message]) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        return flatten_messages(messages)

    def _batch_inputs(self, texts: list[str]):
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)



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
        return self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_input_tokens)

