"""Answer quality on a real question set: `topicchat eval answers` over a retrieval test collection.

python benchmarks/answers.py --collection cranfield --questions 40

Builds an index of the collection's corpus (default models), turns its queries and relevance judgements
into the JSONL `topicchat eval answers` reads (question, relevant ids), and scores the answers twice:
facts only (`--generator none`: citations and evidence) over every query, and with the index's writer
over the first N queries (prose kept / supported, latency).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
from common import judged, topicchat  # noqa: E402

DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "retrieval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", default="cranfield")
    parser.add_argument("--questions", type=int, default=40, help="questions answered with the writer")
    args = parser.parse_args()
    folder = DATA / args.collection
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        rows = [{"question": question, "relevant": docs} for question, docs in judged(folder)]
        (t / "all.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
        (t / "some.jsonl").write_text("\n".join(json.dumps(r) for r in rows[: args.questions]), encoding="utf-8")
        topicchat("build", str(folder / "corpus.jsonl"), "--out", str(t / "idx"), "--id-col", "_id", "-q")
        _, facts = topicchat("eval", "answers", str(t / "idx"), str(t / "all.jsonl"), "--generator", "none")
        _, prose = topicchat("eval", "answers", str(t / "idx"), str(t / "some.jsonl"))
    print(f"\nAnswers on {args.collection}: {len(rows)} judged queries\n")
    print(f"Facts only (`--generator none`), all {len(rows)} queries:\n\n{facts.strip()}\n")
    print(f"With the index's writer, the first {min(args.questions, len(rows))} queries:\n\n{prose.strip()}")


if __name__ == "__main__":
    main()
