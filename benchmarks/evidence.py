"""Evidence sentence selection: quality and cost of other ways to pick each citation's key sentence.

    python benchmarks/evidence.py IDX BEIR_DIR      # e.g. a Cranfield index and ../shared/data/retrieval/cranfield

Every judged question is answered as the chat does (`--generator none`); for each answer whose citations
mix relevant and other documents, every selector picks one sentence per cited document, and the score is
the share of (relevant, other) citation pairs that the picked sentences order right by the index
embedder's cosine to the question (the measure `topicchat eval answers` reports, evidence vs first
sentence). Milliseconds are per answer (5 cited documents) on this machine, question vector given.
Selectors: the shipped one (lexical prefilter to at most 3 sentences per document, those sharing at
least half the best one's question words, then the index's embedder, packed), the same before the
pruning and packing (3 per document, padded batch),
the first sentence, the lexical winner alone, the embedder only where the lexical prefilter ties, the
int8 ONNX encoder in place of the index's, every sentence embedded, and static token vectors of the
embedder (its input word embeddings, IDF-weighted) with no transformer pass at all.
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
    parser.add_argument("beir", type=Path)
    args = parser.parse_args()

    from topicchat.app import evidence
    from topicchat.app.answer import Assistant
    from topicchat.app.settings import AnswerSettings
    from topicchat.evaluate import _pair_accuracy
    from topicchat.indexer.ann import sentences, tokenize
    from topicchat.models.registry import load_embedder

    assistant = Assistant.open(args.index, AnswerSettings(generator="none"))
    embedder = assistant.retriever.embedder
    stem = assistant.index.lexical.stem
    onnx = load_embedder(f"onnx:{assistant.index.manifest['parameters']['embedding_model']}")

    cases = []  # (question, cited texts, relevant flags)
    for question, ids in judged(args.beir):
        relevant = set(ids)
        answer = assistant.ask(question)
        cited = [c for c in answer.citations if c.text]
        flags = [c.doc_id in relevant for c in cited]
        if any(flags) and not all(flags):
            cases.append((question, [c.text for c in cited], flags))

    # static token vectors: the embedder's input word embeddings, weighted by IDF over the cited texts
    model = embedder.model  # a sentence-transformers model (the default torch encoder)
    tokenizer = model.tokenizer
    table = model[0].auto_model.embeddings.word_embeddings.weight.detach().float().numpy()
    df = np.zeros(len(table))
    texts = [t for _, ts, _ in cases for t in ts]
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

    def shipped(question: str, texts: list[str], qvec: np.ndarray) -> list[str]:
        return [s.rstrip("…") for s in evidence.evidence_sentences(question, texts, embedder, qvec, stem)]

    def before(question: str, texts: list[str], qvec: np.ndarray) -> list[str]:
        found = evidence.evidence_sentences(question, texts, Padded(embedder), qvec, stem, min_share_of_best=0.0)
        return [s.rstrip("…") for s in found]

    selectors: dict[str, tuple[Selector, Callable[[str], np.ndarray]]] = {
        "shipped: up to 3 per document (those sharing >= half the best one's words), packed": (
            shipped,
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
    }
    print(f"{len(cases)} answers with relevant and other citations; CPU: {cpu()}\n")
    print("| selector | pairs ordered right | ms per answer p50 |\n|---|---|---|")
    for name, (select, query_vector) in selectors.items():
        right = pairs = 0
        times = []
        for question, texts, flags in cases:
            judge = embedder.embed([question])[0]
            qvec = query_vector(question)
            start = time.perf_counter()
            chosen = select(question, texts, qvec)
            times.append(1000 * (time.perf_counter() - start))
            twice, n = _pair_accuracy((embedder.embed(chosen) @ judge).tolist(), flags)
            right, pairs = right + twice, pairs + n
        print(f"| {name} | {right / (2 * pairs):.4f} ({pairs} pairs) | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    main()
