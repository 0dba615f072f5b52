"""Questions users ask, beyond the development set: does the chat read each as the kind of question it is,
and what does it answer? (`benchmarks/question_set.jsonl`: a question and the kind a reader expects, from
trying the chat with questions it had not seen.)

    python benchmarks/questions.py                 # how many are read as the expected kind
    python benchmarks/questions.py IDX             # ... and each answer's first line and latency on an index
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index", nargs="?", help="an index folder to answer the questions on (--generator none)")
    ap.add_argument("--questions", default=str(HERE / "question_set.jsonl"))
    args = ap.parse_args()
    from topicchat.app.intent import fix_typos, parse_intent

    rows = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    assistant = None
    if args.index:
        from topicchat.app.answer import Assistant
        from topicchat.app.settings import AnswerSettings

        assistant = Assistant.open(args.index, AnswerSettings(generator="none"))
        assistant.ask("warm up")
    right, times = 0, []
    print("| question | expected | read as | answer (first line) | ms |")
    print("|---|---|---|---|---|")
    for row in rows:
        kind = str(parse_intent(fix_typos(row["q"])).kind)
        first, ms = "", ""
        if assistant is not None:
            t0 = time.perf_counter()
            answer = assistant.ask(row["q"])
            times.append((time.perf_counter() - t0) * 1000)
            kind = str(answer.intent)
            first = answer.text.splitlines()[0][:110].replace("|", "/") if answer.text else ""
            ms = f"{times[-1]:.0f}"
        ok = kind == row["kind"]
        right += ok
        mark = "" if ok else " **✗**"
        print(f"| {row['q']} | {row['kind']} | {kind}{mark} | {first} | {ms} |")
    print(f"\n{right} of {len(rows)} read as the expected kind.")
    if times:
        print(f"latency p50 {statistics.median(times):.0f} ms, max {max(times):.0f} ms")


if __name__ == "__main__":
    main()
