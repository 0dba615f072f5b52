"""Query latency: route + retrieve p50/p95 over real questions, and time to first streamed token.

    python benchmarks/latency.py IDX [IDX ...] --questions 200
Questions are the index's own titles rephrased as "which papers discuss <title>?". Per question: the
question's vector through the packed encoder and through the model's padded batch; route + retrieve; and
the evidence sentences of the 5 cited documents three ways, in rotating order: as shipped (every sentence
scored with the index's word-piece vectors, `indexer.tokens`; the shortlist below for an index without
them), the shortlist through the embedder (a lexical prefilter to up to 3 sentences per document, packed),
and as before that (3 per document through the padded batch), with how many picks differ between the
shipped selection and the shortlist's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from common import Padded, cpu  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench(path: Path, n_questions: int, first_token: bool) -> dict:
    from topicchat.app.answer import Assistant, TokenEvent
    from topicchat.app.settings import AnswerSettings

    assistant = Assistant.open(path, AnswerSettings(generator=None if first_token else "none"))
    titles = assistant.index.documents["title"].tolist()
    step = max(1, len(titles) // n_questions)
    questions = [f"which papers discuss {t.lower()}?" for t in titles[::step][:n_questions]]
    from topicchat.app import evidence
    from topicchat.models.base import embed_short

    assistant.retriever.route("warm up")
    texts = assistant.index.documents["text"].tolist()

    embedder, stem = assistant.retriever.embedder, assistant.index.lexical.stem
    # the evidence step as shipped; the shortlist through the packed embedder; as before (3 per document
    # through the padded batch). Each question runs all three, in rotating order.
    table = assistant.index.token_table
    variants = {
        "shipped": (evidence.MIN_SHARE_OF_BEST, embedder, table),
        "shortlist": (evidence.MIN_SHARE_OF_BEST, embedder, None),
        "before": (0.0, Padded(embedder), None),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    query_ms: dict[str, list[float]] = {"packed": [], "padded": []}
    route_ms: list[float] = []
    changed = cited_total = 0
    for n, q in enumerate(questions):
        for which in ("packed", "padded") if n % 2 else ("padded", "packed"):  # the question's vector
            start = time.perf_counter()
            embed_short(embedder, [q]) if which == "packed" else embedder.embed([q])
            query_ms[which].append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        routing = assistant.retriever.route(q)
        route_ms.append((time.perf_counter() - start) * 1000)
        cited = [texts[h.row] for h in routing.hits[: assistant.k_docs]]
        vector = assistant.retriever.embed_query(q)
        names = list(variants)
        picks = {}
        for name in names[n % 3 :] + names[: n % 3]:
            floor, chosen_embedder, pieces = variants[name]
            start = time.perf_counter()
            picks[name] = evidence.evidence_sentences(
                q, cited, chosen_embedder, vector, stem, min_share_of_best=floor, table=pieces
            )
            times[name].append((time.perf_counter() - start) * 1000)
        changed += sum(a != b for a, b in zip(picks["shipped"], picks["shortlist"], strict=True))
        cited_total += len(cited)
    result = {
        "index": str(path),
        "documents": len(titles),
        "word_pieces": table is not None,
        "topics": len(assistant.index.topics),
        "questions": len(questions),
        "p50_ms": statistics.median(route_ms),
        "p95_ms": percentile(route_ms, 0.95),
        "query_packed_p50_ms": statistics.median(query_ms["packed"]),
        "query_padded_p50_ms": statistics.median(query_ms["padded"]),
        "evidence_p50_ms": statistics.median(times["shipped"]),
        "evidence_p95_ms": percentile(times["shipped"], 0.95),
        "shortlist_p50_ms": statistics.median(times["shortlist"]),
        "before_p50_ms": statistics.median(times["before"]),
        "picks_changed": f"{changed} / {cited_total}",
    }
    if first_token and assistant.generator is not None:
        ttft, total = [], []
        for q in questions[:10]:
            start = time.perf_counter()
            seen = None
            for event in assistant.stream(q):
                if isinstance(event, TokenEvent) and seen is None:
                    seen = time.perf_counter() - start
            ttft.append(seen or 0.0)
            total.append(time.perf_counter() - start)
        result["ttft_p50_s"] = statistics.median(ttft)
        result["answer_p50_s"] = statistics.median(total)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("indexes", nargs="+", type=Path)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--no-first-token", action="store_true")
    args = parser.parse_args()
    rows = [bench(p, args.questions, not args.no_first_token) for p in args.indexes]
    print(f"\nQuery latency ({cpu()}, {os.cpu_count()} cores)\n")
    print(
        "| index | documents | topics | questions | route+retrieve p50 / p95 ms | question vector packed / padded "
        "p50 ms | evidence sentences p50 / p95 ms (shipped) | shortlist through the embedder p50 ms | before "
        "(3 per document, padded) p50 ms | speed-up | picks differing from the shortlist's | first token p50 s "
        "| full answer p50 s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        how = "word-piece vectors" if r["word_pieces"] else "no word-piece vectors: the shortlist"
        print(
            f"| {Path(r['index']).name} | {r['documents']} | {r['topics']} | {r['questions']} | "
            f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} | {r['query_packed_p50_ms']:.1f} / {r['query_padded_p50_ms']:.1f} | "
            f"{r['evidence_p50_ms']:.1f} / {r['evidence_p95_ms']:.1f} ({how}) | {r['shortlist_p50_ms']:.1f} | "
            f"{r['before_p50_ms']:.1f} | {r['before_p50_ms'] / r['evidence_p50_ms']:.2f}x | {r['picks_changed']} | "
            f"{r.get('ttft_p50_s', float('nan')):.2f} | {r.get('answer_p50_s', float('nan')):.2f} |"
        )


if __name__ == "__main__":
    main()
