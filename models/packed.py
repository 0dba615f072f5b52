"""Many short texts through a BERT encoder in one pass, packed into rows instead of padded.

Answering a question embeds ~15 short sentences (the evidence candidates of the cited abstracts, ~560
word pieces) and the question. Here the texts are packed first-fit into rows of about `ROW_TOKENS` word
pieces; each text attends only to itself (a block-diagonal mask), its positions restart at 0, and its
vector is the mean of its own word pieces, so it equals the padded batch's vector (cosine >= 0.9999
measured in bf16 and float32; `build_packer` requires >= MIN_COSINE on probe texts). The forward pass is
written out in torch ops over the model's own weights: query, key and value in one matrix multiply, and
in bf16 the weights laid out once for oneDNN with GELU fused. Row widths are rounded up to a small set of
shapes, since oneDNN builds a kernel per new shape. On 15-sentence sets (bf16, AMX): `encode` 47 ms, the
written-out forward one text per row 33 ms, packed 25 ms (`benchmarks/RESULTS.md`).

Only plain BERT encoders with mean pooling qualify (MiniLM, GTE); any other model, or one whose packed
vectors do not match `SentenceTransformer.encode` on the probe texts, gets `None` from `build_packer`
(logged) and its caller embeds the usual way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from topicchat.models.base import normalise

log = logging.getLogger(__name__)

ROW_TOKENS = 96  # word pieces per packed row (a longer text widens every row to its length)
PROBES = (  # several rows' worth, one text longer than a row, one empty
    "Evidence sentences are chosen per cited abstract.",
    "We propose a retrieval-augmented model for open-domain question answering and evaluate it on "
    "three benchmarks, where it improves exact match by four points over strong baselines.",
    "BERT",
    "",
    " ".join(["Low-resource speech recognition benefits from self-supervised pretraining on untranscribed audio"] * 6)
    + " while tokenisers for morphologically rich languages still split words badly.",
    "Annotators preferred the summaries of the fine-tuned model in 62% of 400 comparisons.",
    "Topic models cluster documents; the clusters are labelled with keywords and a language model.",
)
MIN_COSINE = 0.999
SHAPE_STEP = 16  # packed widths are multiples of this
PREPACK_ROWS = 512  # the row count oneDNN lays the weights out for (a hint; any count works)


def _can_prepack() -> bool:
    import torch

    return (
        torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
        and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def rows_for(lengths: Sequence[int], row_tokens: int = ROW_TOKENS) -> list[list[int]]:
    """First-fit decreasing: text indices per row, each row holding at most max(row_tokens, longest)."""
    capacity = max([row_tokens, *lengths])
    rows: list[list[int]] = []
    fill: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        for r, used in enumerate(fill):
            if used + lengths[i] <= capacity:
                rows[r].append(i)
                fill[r] += lengths[i]
                break
        else:
            rows.append([i])
            fill.append(lengths[i])
    return rows


class PackedBertEncoder:
    """Mean-pooled, L2-normalised vectors of a sentence-transformers BERT model, texts packed in rows."""

    def __init__(self, model: Any, prepack: bool = True) -> None:
        import torch

        transformer, pooling = model[0], model[1]
        bert = transformer.auto_model
        config = bert.config
        if config.model_type != "bert" or getattr(pooling, "pooling_mode", "mean") != "mean":
            raise ValueError("not a mean-pooled BERT encoder")
        if getattr(config, "position_embedding_type", "absolute") != "absolute" or config.hidden_act != "gelu":
            raise ValueError("not a plain BERT encoder")
        self.tokenizer = transformer.tokenizer
        self.max_tokens = int(model.max_seq_length)
        embeddings = bert.embeddings
        self.word = embeddings.word_embeddings.weight.detach()
        self.position = embeddings.position_embeddings.weight.detach()
        self.segment = embeddings.token_type_embeddings.weight.detach()[0]
        self.norm = (embeddings.LayerNorm.weight.detach(), embeddings.LayerNorm.bias.detach(), embeddings.LayerNorm.eps)
        self.heads = int(config.num_attention_heads)
        self.prepacked = prepack and self.word.dtype == torch.bfloat16 and _can_prepack()
        self.layers = []
        for layer in bert.encoder.layer:
            attention = layer.attention.self
            out = layer.attention.output
            self.layers.append(
                (
                    self._weights(
                        torch.cat([attention.query.weight, attention.key.weight, attention.value.weight]),
                        torch.cat([attention.query.bias, attention.key.bias, attention.value.bias]),
                    ),
                    self._weights(out.dense.weight, out.dense.bias),
                    (out.LayerNorm.weight.detach(), out.LayerNorm.bias.detach(), out.LayerNorm.eps),
                    self._weights(layer.intermediate.dense.weight, layer.intermediate.dense.bias),
                    self._weights(layer.output.dense.weight, layer.output.dense.bias),
                    (
                        layer.output.LayerNorm.weight.detach(),
                        layer.output.LayerNorm.bias.detach(),
                        layer.output.LayerNorm.eps,
                    ),
                )
            )

    def _weights(self, weight: Any, bias: Any) -> tuple[Any, Any]:
        import torch

        weight, bias = weight.detach().contiguous(), bias.detach().contiguous()
        if self.prepacked:  # oneDNN's own layout, reordered once here instead of on every call (1.4x in bf16)
            weight = torch.ops.mkldnn._reorder_linear_weight(weight, PREPACK_ROWS)
        return weight, bias

    def _linear(self, x: Any, weights: tuple[Any, Any], gelu: bool = False) -> Any:
        import torch
        import torch.nn.functional as F

        if self.prepacked:
            return torch.ops.mkldnn._linear_pointwise(
                x, weights[0], weights[1], "gelu" if gelu else "none", [], "none" if gelu else ""
            )
        y = F.linear(x, *weights)
        return F.gelu(y) if gelu else y

    def encode(self, texts: Sequence[str], row_tokens: int = ROW_TOKENS) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        pieces = self.tokenizer(list(texts), truncation=True, max_length=self.max_tokens)["input_ids"]
        lengths = [len(p) for p in pieces]
        rows = rows_for(lengths, row_tokens)
        # Shapes come from a small set (widths in steps of SHAPE_STEP; rows are full but for the last):
        # oneDNN builds a kernel for each new shape it meets (10-25 ms) and reuses it after.
        width = _round_up(max(sum(lengths[i] for i in row) for row in rows), SHAPE_STEP)
        batch = len(rows)
        ids = np.zeros((batch, width), dtype=np.int64)
        positions = np.zeros((batch, width), dtype=np.int64)
        owner = np.full((batch, width), -1, dtype=np.int64)
        for r, row in enumerate(rows):
            start = 0
            for i in row:
                end = start + lengths[i]
                ids[r, start:end] = pieces[i]
                positions[r, start:end] = np.arange(lengths[i])
                owner[r, start:end] = i
                start = end
        with torch.inference_mode():
            who = torch.from_numpy(owner)
            # a word piece attends to its own text; padding attends to everything (discarded, never NaN)
            allowed = (who[:, :, None] == who[:, None, :]) | (who[:, :, None] < 0)
            mask = torch.zeros(allowed.shape, dtype=self.word.dtype).masked_fill_(~allowed, float("-inf"))[:, None]
            x = self.word[torch.from_numpy(ids)] + self.position[torch.from_numpy(positions)] + self.segment
            size = x.shape[-1]
            x = F.layer_norm(x.reshape(batch * width, size), (size,), *self.norm)
            heads = self.heads
            for qkv_weights, out_weights, norm1, up_weights, down_weights, norm2 in self.layers:
                qkv = self._linear(x, qkv_weights).view(batch, width, 3, heads, size // heads).permute(2, 0, 3, 1, 4)
                attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=mask)
                attended = attended.transpose(1, 2).reshape(batch * width, size)
                x = F.layer_norm(self._linear(attended, out_weights) + x, (size,), *norm1)
                x = F.layer_norm(
                    self._linear(self._linear(x, up_weights, gelu=True), down_weights) + x, (size,), *norm2
                )
            mine = who.reshape(-1)
            keep = mine >= 0
            sums = torch.zeros(len(pieces), size).index_add_(0, mine[keep], x[keep].float())
            counts = torch.tensor(lengths, dtype=torch.float32).clamp(min=1).unsqueeze(1)
            return F.normalize(sums / counts, dim=-1).numpy().astype(np.float32)


def kinds(model: Any) -> list[str]:
    """The class names of a sentence-transformers model's modules, in order."""
    return [type(module).__name__ for module in model] if hasattr(model, "__iter__") else [type(model).__name__]


def plain_modules(model: Any) -> bool:
    """Whether the model is a transformer, a pooling and at most a normalisation (what the packer and the
    word-piece vectors of `indexer.tokens` read)."""
    found = kinds(model)
    return found[:2] == ["Transformer", "Pooling"] and found[2:] in ([], ["Normalize"])


def build_packer(model: Any, prepack: bool = True) -> PackedBertEncoder | None:
    """A packer for this sentence-transformers model, or None (logged) when it does not qualify or disagrees.

    `prepack`: lay bf16 weights out for oneDNN (only where the CPU has bf16 instructions; elsewhere
    oneDNN's bf16 kernels are emulated); if the prepacked path fails or disagrees, plain `F.linear` is
    tried before giving up."""
    if not plain_modules(model):
        log.info("Short texts take the model's own batches: its modules are %s, not Transformer, Pooling", kinds(model))
        return None
    reference = normalise(model.encode(list(PROBES), convert_to_numpy=True, normalize_embeddings=True))
    reason = ""
    for attempt in (True, False) if prepack else (False,):
        try:
            packer = PackedBertEncoder(model, attempt)
            packed = packer.encode(PROBES)
        except Exception as exc:  # any failure here means: embed the usual way
            reason = f"{type(exc).__name__}: {exc}"
            continue
        if packed.shape != reference.shape:
            reason = f"packed vectors have shape {packed.shape}, the model's {reference.shape}"
            continue
        agreement = float((packed * reference).sum(axis=1).min())
        if agreement >= MIN_COSINE:
            return packer
        reason = f"packed vectors differ from the model's (cosine {agreement:.4f} < {MIN_COSINE})"
    log.warning("Short texts take the model's own (slower) batches: %s", reason)
    return None
