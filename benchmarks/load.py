"""Load: N concurrent chat sessions against `topicchat serve` on the demo index, over loopback.

python benchmarks/load.py --sessions 20

Builds the demo index (314 arXiv abstracts, the default embedder and writer) once, then serves it twice:
with this version's concurrent queue and, as the reference in the same run, one chat at a time (the
queue before it, `TOPICCHAT_SERVE__CONCURRENCY=1`). Every session asks two questions; every other session
first says "use topic N". Reported: p50 / p95 seconds to the complete facts-and-evidence answer and to
the end of the answer (prose included), errors, and state crossing between sessions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from common import cpu  # noqa: E402

QUESTIONS = [
    "which papers study question answering over knowledge bases?",
    "which papers discuss machine translation for low-resource languages?",
    "which papers evaluate sentiment analysis?",
    "which papers use transformers for summarization?",
    "what topics cover named entity recognition?",
    "which papers study hate speech detection?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--index", type=Path, default=None, help="an existing demo index (default: build one)")
    args = parser.parse_args()
    from topicchat.app.loadcheck import run_load, serving, summary
    from topicchat.indexer.store import load_index

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            index = Path(tmp) / "demo"
            subprocess.run(
                [sys.executable, "-m", "topicchat.cli", "demo", "--out", str(index)],
                check=True,
                capture_output=True,
                env=os.environ | {"HF_HUB_OFFLINE": "1"},
            )
        leaves = [t.id for t in load_index(index).topics][:4]
        for name, concurrency in (("this version (concurrent queue)", "20"), ("reference: one chat at a time", "1")):
            os.environ["TOPICCHAT_SERVE__CONCURRENCY"] = concurrency
            with serving(index) as url:
                results = run_load(url, args.sessions, QUESTIONS, leaves, timeout_s=300)
            rows.append((name, summary(results), [e for r in results for e in r.errors + r.leaks][:3]))
    print(
        f"\nLoad: {args.sessions} concurrent sessions x 2 questions on the demo index ({cpu()}, {os.cpu_count()} cores)\n"
    )
    print("| server | answers | errors | state leaks | facts p50 s | facts p95 s | complete p50 s | complete p95 s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, s, _ in rows:
        print(
            f"| {name} | {s['answers']} | {s['errors']} | {s['leaks']} | {s['facts_p50_s']} | {s['facts_p95_s']} | "
            f"{s['done_p50_s']} | {s['done_p95_s']} |"
        )
    for name, _, problems in rows:
        if problems:
            print(f"\n{name}: {problems}")
    ours, ref = rows[0][1], rows[1][1]
    print(f"\nfacts p95: {ref['facts_p95_s'] / max(ours['facts_p95_s'], 1e-9):.1f}x faster than one chat at a time")


if __name__ == "__main__":
    main()
