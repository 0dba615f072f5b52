"""Evidence sentence selection: quality and cost of other ways to pick each citation's key sentence.

    python benchmarks/evidence.py IDX BEIR_DIR      # e.g. a Cranfield index and ../shared/data/retrieval/cranfield

Every judged question is answered as the chat does (`--generator none`); for each answer whose citations
mix relevant and other documents, every selector picks one sentence per cited document, and the score is
the share of (relevant, other) citation pairs that the picked sentences order right by the index
embedder's cosine to the question (the measure `topicchat eval answers` reports, evidence vs first
sentence), with its difference from the first sentence's and a 95% interval for that difference (answers
resampled 2,000 times). Milliseconds are per answer (5 cited documents) on this machine, question vector
given. The index must hold word-piece vectors (a full build of this version).
Selectors: the shipped one (every sentence scored with the index's word-piece vectors, `indexer.tokens`,
plus 0.1 per shared question word share), the one shipped for indexes without them (lexical prefilter to
at most 3 sentences per document, those sharing at least half the best one's question words, then the
index's embedder, packed), the same before the pruning and packing (3 per document, padded batch),
the first sentence, the lexical winner alone, the embedder only where the lexical prefilter ties, the
int8 ONNX encoder in place of the index's, every sentence embedded, static token vectors of the
embedder (its input word embeddings, IDF-weighted) with no transformer pass at all, the shortlist ranked with
a centrality term (cosine to the document's own vector in the index, as query-focused summarisers weigh
it), and the first sentence added to the shortlist with a bonus.

`--table-cost`: what the word-piece vectors add to a build of the index's corpus: `indexer.tokens.build_table`
timed with the index's embedder and with its float32 variant (what CPUs without native bf16 build with),
beside `embed` of the whole corpus by the same encoder extrapolated from 1,000 documents.

`--encoders`: the cheaper encoders one could put behind the same shortlist where float32 is slow (CPUs
without native bf16): the packed encoder with only its first 2-4 layers, and with int8 dynamic linear
layers; each timed on every answer's candidates (question included, rotating order) and its picks compared
with the full encoder's. Run it under `python -m benchmarks.avx2only` for AVX2 code paths.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from common import Padded, cpu, judged  # noqa: E402

Selector = Callable[[str, list[str], np.ndarray], list[str]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("beir", type=Path, nargs="?", help="the judged collection (not for --table-cost)")
    parser.add_argument("--encoders", action="store_true", help="time cheaper encoders behind the shortlist")
    parser.add_argument("--table-cost", action="store_true", help="time the word-piece vectors of a build")
    args = parser.parse_args()
    if args.table_cost:
        table_cost(args.index)
        return
    if args.beir is None:
        parser.error("name the judged collection (BEIR_DIR), or pass --table-cost")

    from topicchat.app import evidence
    from topicchat.app.answer import Assistant
    from topicchat.app.settings import AnswerSettings
    from topicchat.indexer.ann import sentences, tokenize
    from topicchat.models.registry import load_embedder

    assistant = Assistant.open(args.index, AnswerSettings(generator="none"))
    if assistant.index.token_table is None:
        raise SystemExit(f"{args.index} has no word-piece vectors: rebuild it with this version (topicchat build)")
    embedder = assistant.retriever.embedder
    stem = assistant.index.lexical.stem
    onnx = load_embedder(f"onnx:{assistant.index.manifest['parameters']['embedding_model']}")

    cases = []  # (question, cited texts, relevant flags, rows)
    for question, ids in judged(args.beir):
        relevant = set(ids)
        answer = assistant.ask(question)
        cited = [c for c in answer.citations if c.text]
        flags = [c.doc_id in relevant for c in cited]
        if any(flags) and not all(flags):
            cases.append((question, [c.text for c in cited], flags, [c.row for c in cited]))

    # static token vectors: the embedder's input word embeddings, weighted by IDF over the cited texts
    model = embedder.model  # a sentence-transformers model (the default torch encoder)
    tokenizer = model.tokenizer
    table = model[0].auto_model.embeddings.word_embeddings.weight.detach().float().numpy()
    df = np.zeros(len(table))
    texts = [t for _, ts, _, _ in cases for t in ts]
    for text in texts:
        df[list(set(tokenizer(text, add_special_tokens=False)["input_ids"]))] += 1
    idf = np.log((len(texts) + 1) / (df + 1)).astype(np.float32)

    def static(items: list[str]) -> np.ndarray:
        out = []
        for text in items:
            ids = tokenizer(text, add_special_tokens=False, truncation=True, max_length=256)["input_ids"]
            v = (table[ids] * idf[ids, None]).sum(0) if ids else np.zeros(table.shape[1], np.float32)
            out.append(v / (np.linalg.norm(v) + 1e-9))
        return np.asarray(out, dtype=np.float32)

    def shortlist(question: str, text: str, tie_only: bool, cap: int) -> list[str]:
        wanted = set(tokenize(question, stem=stem))
        scored = sorted((-len(wanted & set(tokenize(s, stem=stem))), i, s) for i, s in enumerate(sentences(text)))
        if tie_only:
            scored = [x for x in scored if x[0] == scored[0][0]]
        return [s for _, _, s in scored[:cap]]

    def by_vectors(encode: Callable[[list[str]], np.ndarray], tie_only: bool = False, cap: int = 3) -> Selector:
        def pick(question: str, texts: list[str], qvec: np.ndarray) -> list[str]:
            lists = [shortlist(question, t, tie_only, cap) for t in texts]
            flat = [s for group in lists if len(group) > 1 for s in group]
            scores = iter(encode(flat) @ qvec if flat else [])
            chosen = []
            for group in lists:
                if len(group) <= 1:
                    chosen.append(group[0] if group else "")
                    continue
                values = [next(scores) for _ in group]
                chosen.append(group[int(np.argmax(values))])
            return chosen

        return pick

    vectors = np.asarray(assistant.index.embeddings)
    rows_of = {tuple(ts): rs for _, ts, _, rs in cases}  # the rows of the texts an answer cites

    def central(weight: float, first_bonus: float = 0.0) -> Selector:
        """The shortlist (up to 3, as shipped) ranked by cosine to the question + 0.1 per shared question word
        share + `weight` x cosine to the document's vector; with `first_bonus`, the first sentence joins it."""

        def pick(question: str, texts: list[str], qvec: np.ndarray) -> list[str]:
            wanted = set(tokenize(question, stem=stem))
            chosen = []
            for text, row in zip(texts, rows_of[tuple(texts)], strict=True):
                parts = sentences(text)
                shares = [len(wanted & set(tokenize(x, stem=stem))) / max(1, len(wanted)) for x in parts]
                order = sorted(range(len(parts)), key=lambda i: (-shares[i], i))[:3]
                order = [i for i in order if shares[i] >= 0.5 * shares[order[0]]]
                if first_bonus and parts and 0 not in order:
                    order.append(0)
                if len(order) <= 1:
                    chosen.append(parts[order[0]] if order else "")
                    continue
                found = embedder.embed([parts[i] for i in order])
                score = found @ qvec + 0.1 * np.asarray([shares[i] for i in order]) + weight * (found @ vectors[row])
                score += first_bonus * np.asarray([i == 0 for i in order])
                chosen.append(parts[order[int(np.argmax(score))]])
            return chosen

        return pick

    pieces = assistant.index.token_table

    def shipped(question: str, texts: list[str], qvec: np.ndarray) -> list[str]:
        found = evidence.evidence_sentences(question, texts, embedder, qvec, stem, table=pieces)
        return [s.rstrip("…") for s in found]

    def shortlist_shipped(question: str, texts: list[str], qvec: np.ndarray) -> list[str]:
        return [s.rstrip("…") for s in evidence.evidence_sentences(question, texts, embedder, qvec, stem)]

    def before(question: str, texts: list[str], qvec: np.ndarray) -> list[str]:
        found = evidence.evidence_sentences(question, texts, Padded(embedder), qvec, stem, min_share_of_best=0.0)
        return [s.rstrip("…") for s in found]

    selectors: dict[str, tuple[Selector, Callable[[str], np.ndarray]]] = {
        "shipped: every sentence, the index's word-piece vectors": (shipped, lambda q: embedder.embed([q])[0]),
        "shipped without them: up to 3 per document (sharing >= half the best one's words), packed": (
            shortlist_shipped,
            lambda q: embedder.embed([q])[0],
        ),
        "before: 3 per document, padded batch": (before, lambda q: embedder.embed([q])[0]),
        "first sentence": (lambda q, ts, v: [(sentences(t) or [""])[0] for t in ts], lambda q: embedder.embed([q])[0]),
        "lexical winner only": (by_vectors(embedder.embed, cap=1), lambda q: embedder.embed([q])[0]),
        "embedder only where the prefilter ties": (
            by_vectors(embedder.embed, tie_only=True),
            lambda q: embedder.embed([q])[0],
        ),
        "3 per document, int8 ONNX encoder": (by_vectors(onnx.embed), lambda q: onnx.embed([q])[0]),
        "every sentence, index embedder": (by_vectors(embedder.embed, cap=1000), lambda q: embedder.embed([q])[0]),
        "every sentence, static token vectors": (by_vectors(static, cap=1000), lambda q: static([q])[0]),
        "shortlist + 0.25 x cosine to the document": (central(0.25), lambda q: embedder.embed([q])[0]),
        "shortlist + 0.5 x cosine to the document": (central(0.5), lambda q: embedder.embed([q])[0]),
        "shortlist + 1.0 x cosine to the document": (central(1.0), lambda q: embedder.embed([q])[0]),
        "shortlist + the first sentence (bonus 0.05)": (central(0.0, 0.05), lambda q: embedder.embed([q])[0]),
        "shortlist + the first sentence (bonus 0.1)": (central(0.0, 0.1), lambda q: embedder.embed([q])[0]),
    }
    if args.encoders:
        encoders(embedder, cases, stem)
        return
    print(f"{len(cases)} answers with relevant and other citations; CPU: {cpu()}\n")
    print(
        "| selector | pairs ordered right | minus the first sentence's (95% interval, answers resampled) "
        "| ms per answer p50 |\n|---|---|---|---|"
    )
    first = np.asarray(per_answer(cases, embedder, selectors["first sentence"]))
    rng = np.random.default_rng(0)
    draws = [rng.integers(0, len(cases), len(cases)) for _ in range(2000)]
    for name, (select, query_vector) in selectors.items():
        times: list[float] = []
        own = np.asarray(per_answer(cases, embedder, (select, query_vector), times))
        share = own[:, 0].sum() / own[:, 1].sum()
        gaps = [own[d, 0].sum() / own[d, 1].sum() - first[d, 0].sum() / first[d, 1].sum() for d in draws]
        low, high = np.percentile(gaps, [2.5, 97.5])
        gap = share - first[:, 0].sum() / first[:, 1].sum()
        print(
            f"| {name} | {share:.4f} ({int(own[:, 1].sum())} pairs) | {gap:+.4f} ({low:+.4f} to {high:+.4f}) "
            f"| {statistics.median(times):.1f} |"
        )


def per_answer(cases: list, embedder: object, selector: tuple, times: list[float] | None = None) -> list:
    """(pairs ordered right, pairs) of each answer when `selector` picks the sentences."""
    from topicchat.evaluate import _pair_accuracy

    select, query_vector = selector
    out = []
    for question, texts, flags, _ in cases:
        judge = embedder.embed([question])[0]  # type: ignore[attr-defined]
        qvec = query_vector(question)
        start = time.perf_counter()
        chosen = select(question, texts, qvec)
        if times is not None:
            times.append(1000 * (time.perf_counter() - start))
        twice, n = _pair_accuracy((embedder.embed(chosen) @ judge).tolist(), flags)  # type: ignore[attr-defined]
        out.append((twice / 2, n))
    return out


def table_cost(path: Path) -> None:
    """Seconds to build the word-piece vectors for the index's corpus, against embedding that corpus."""
    from topicchat.indexer import tokens
    from topicchat.indexer.store import load_index
    from topicchat.models.registry import load_embedder

    index = load_index(path)
    texts = index.documents["text"].tolist()
    name = index.manifest["parameters"]["embedding_model"]
    print(f"{len(texts):,} documents; CPU: {cpu()}\n")
    print(
        "| encoder | word-piece vectors s | pieces | embedding the corpus s (from 1,000 documents) | share of the two |"
    )
    print("|---|---|---|---|---|")
    from topicchat.models.st_backend import cpu_has_bf16

    dtypes = [d for d in dict.fromkeys((index.embedding_dtype, "float32")) if d != "bfloat16" or cpu_has_bf16()]
    for dtype in dtypes:  # bf16 only where it is native (emulated bf16 says nothing about a real CPU)
        embedder = load_embedder(name, dtype, None, index.embedding_max_tokens)
        embedder.embed(texts[:64])  # warm up
        start = time.perf_counter()
        table = tokens.build_table(embedder, texts)
        took = time.perf_counter() - start
        start = time.perf_counter()
        embedder.embed(texts[:1000])
        whole = (time.perf_counter() - start) * len(texts) / min(1000, len(texts))
        assert table is not None
        print(f"| {embedder.model_id} | {took:.1f} | {len(table.ids):,} | {whole:.0f} | {took / (took + whole):.1%} |")


def encoders(embedder: object, cases: list, stem: str) -> None:
    """Cheaper encoders behind the shipped shortlist: time per answer and picks shared with the full one."""
    import copy
    import types

    import torch

    from topicchat.app.evidence import CANDIDATES, MIN_SHARE_OF_BEST
    from topicchat.indexer.ann import sentences, tokenize
    from topicchat.models.packed import PackedBertEncoder

    model = copy.deepcopy(embedder.model).float()  # type: ignore[attr-defined]  # float32: CPUs without bf16
    layers = len(model[0].auto_model.encoder.layer)

    def int8(weight: torch.Tensor, bias: torch.Tensor) -> torch.nn.Module:
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        linear.weight.data, linear.bias.data = weight.float(), bias.float()
        return torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(linear), {torch.nn.Linear}, torch.qint8)[0]

    def through(self: PackedBertEncoder, x: torch.Tensor, layer: torch.nn.Module, gelu: bool = False) -> torch.Tensor:
        y = layer(x)
        return torch.nn.functional.gelu(y) if gelu else y

    variants: dict[str, PackedBertEncoder] = {}
    for depth in sorted({layers, *(d for d in (4, 3, 2) if d < layers)}, reverse=True):
        packer = PackedBertEncoder(model, prepack=False)
        packer.layers = packer.layers[:depth]
        name = (
            f"float32, first {depth} of {layers} layers"
            if depth < layers
            else f"float32, all {layers} layers (reference)"
        )
        variants[name] = packer
    for depth in sorted({layers, min(3, layers)}, reverse=True):
        packer = PackedBertEncoder(model, prepack=False)
        packer.layers = [(int8(*a), int8(*b), n1, int8(*c), int8(*d), n2) for a, b, n1, c, d, n2 in packer.layers][
            :depth
        ]
        packer._linear = types.MethodType(through, packer)  # type: ignore[method-assign]
        variants[f"int8 dynamic linear layers, {depth} layers"] = packer
    sets = []
    for question, texts, _, _ in cases:
        wanted = set(tokenize(question, stem=stem))
        found = []
        for text in texts:
            scored = sorted((-len(wanted & set(tokenize(x, stem=stem))), i, x) for i, x in enumerate(sentences(text)))[
                :CANDIDATES
            ]
            kept = [x for share, _, x in scored if -share >= MIN_SHARE_OF_BEST * -scored[0][0]]
            if len(kept) > 1:
                found.append(kept)
        if found:
            sets.append((question, found))
    names = list(variants)
    reference = variants[names[0]]
    times: dict[str, list[float]] = {n: [] for n in names}
    same = dict.fromkeys(names, 0)
    picks = 0
    for j, (question, groups) in enumerate(sets):
        flat = [x for g in groups for x in g]
        full = reference.encode(flat) @ reference.encode([question])[0]
        for name in names[j % len(names) :] + names[: j % len(names)]:
            start = time.perf_counter()
            scores = variants[name].encode(flat) @ variants[name].encode([question])[0]
            times[name].append(1000 * (time.perf_counter() - start))
            at = 0
            for g in groups:
                same[name] += int(np.argmax(scores[at : at + len(g)]) == np.argmax(full[at : at + len(g)]))
                at += len(g)
        picks += len(groups)
    print(f"\n{len(sets)} answers, {picks} documents with a choice; CPU: {cpu()}, torch {torch.__version__}\n")
    print("| encoder behind the shortlist | ms per answer p50 (question included) | picks as the full encoder's |")
    print("|---|---|---|")
    for name in names:
        print(f"| {name} | {statistics.median(times[name]):.1f} | {same[name]} / {picks} |")


if __name__ == "__main__":
    main()
