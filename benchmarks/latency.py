"""Query latency: route + retrieve p50/p95 over real questions, and time to first streamed token.

    python benchmarks/latency.py IDX [IDX ...] --questions 200
Questions are the titles of documents *not* in the index when the corpus has more rows, else the
index's own titles rephrased as "which papers discuss <title>?".
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
from common import cpu  # noqa: E402


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

    assistant.retriever.route("warm up")
    texts = assistant.index.documents["text"].tolist()

    class Padded:  # the evidence step before packing: the embedder's own batched `embed`
        def embed(self, batch: list[str], show_progress: bool = False):
            return assistant.retriever.embedder.embed(batch)

    padded = Padded()
    shipped_floor = evidence.MIN_SHARE_OF_BEST
    route_ms, evidence_ms, padded_ms = [], [], []
    for n, q in enumerate(questions):
        start = time.perf_counter()
        routing = assistant.retriever.route(q)
        route_ms.append((time.perf_counter() - start) * 1000)
        cited = [texts[h.row] for h in routing.hits[: assistant.k_docs]]
        vector = assistant.retriever.embed_query(q)
        # what an answer adds: the evidence sentence of each cited document as shipped, and as before
        # (3 candidates per document, the padded `embed`), in alternating order
        for which in (0, 1) if n % 2 else (1, 0):
            evidence.MIN_SHARE_OF_BEST = 0.0 if which else shipped_floor
            start = time.perf_counter()
            evidence.evidence_sentences(
                q, cited, padded if which else assistant.retriever.embedder, vector, assistant.index.lexical.stem
            )
            (padded_ms if which else evidence_ms).append((time.perf_counter() - start) * 1000)
        evidence.MIN_SHARE_OF_BEST = shipped_floor
    result = {
        "index": str(path),
        "documents": len(titles),
        "topics": len(assistant.index.topics),
        "questions": len(questions),
        "p50_ms": statistics.median(route_ms),
        "p95_ms": percentile(route_ms, 0.95),
        "evidence_p50_ms": statistics.median(evidence_ms),
        "evidence_p95_ms": percentile(evidence_ms, 0.95),
        "padded_p50_ms": statistics.median(padded_ms),
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
        "| index | documents | topics | questions | route+retrieve p50 ms | p95 ms | evidence sentences p50 / p95 ms "
        "| evidence before (3 per document, padded) p50 ms | speed-up | first token p50 s | full answer p50 s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {Path(r['index']).name} | {r['documents']} | {r['topics']} | {r['questions']} | {r['p50_ms']:.1f} | "
            f"{r['p95_ms']:.1f} | {r['evidence_p50_ms']:.1f} / {r['evidence_p95_ms']:.1f} | "
            f"{r['padded_p50_ms']:.1f} | {r['padded_p50_ms'] / r['evidence_p50_ms']:.2f}x | {r.get('ttft_p50_s', float('nan')):.2f} | {r.get('answer_p50_s', float('nan')):.2f} |"
        )


if __name__ == "__main__":
    main()
