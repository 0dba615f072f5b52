"""Writer prompts: how often checked prose survives, per way of asking the writer, on judged questions.

The shipped way (`prompts/answer.txt`: one prompt with the question and the top three sources, the writer
cites them) against one prompt per cited document: the question and that document's evidence sentence,
"answer from the finding in one short sentence", the citation added by the benchmark (the sentence is
about that document by construction). Every sentence goes through the product's check (`app/prose.py`);
kept sentences are written to --kept (JSONL with their sources) for reading by hand, since the check's
precision on model prose is what decides whether more kept prose is better prose.

    python benchmarks/writer_prompts.py IDX --collection cranfield --questions 20 --kept /tmp/kept.jsonl

IDX: an index of the collection's corpus (`benchmarks/answers.py` builds one the same way); --generator
takes any generator spec (default: SmolLM2-135M through llama-cpp, the offline writer).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
from common import cpu, judged  # noqa: E402

DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "retrieval"
PER_SOURCE = [
    {
        "role": "system",
        "content": "Answer the question from the finding in one short sentence, in your own words.",
    },
    {
        "role": "user",
        "content": "Question: which papers study fake news detection?\nPaper: Detecting Fake News with Graph "
        "Networks\nFinding: We propose a graph neural network that spots fake news from how it spreads on "
        "social media platforms.",
    },
    {"role": "assistant", "content": "This paper detects fake news with a graph network over how stories spread."},
]


def per_source(generator, question: str, citations) -> list[str]:
    """One sentence per cited document (the first three), each citing that document."""
    out = []
    for c in citations[:3]:
        finding = c.evidence or " ".join(c.text.split()[:25])
        messages = [
            *PER_SOURCE,
            {"role": "user", "content": f"Question: {question}\nPaper: {c.title}\nFinding: {finding}"},
        ]
        text = generator.generate(messages, max_tokens=60, stop=["\n"]).strip()
        text = re.sub(r"\s*\[\d+\]", "", text).rstrip()
        if not text:
            continue
        if text[-1] not in ".!?":
            text += "."
        out.append(f"{text[:-1]} [{c.n}]{text[-1]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--collection", default="cranfield")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--skip", type=int, default=0, help="start after this many judged queries (a held-out set)")
    parser.add_argument("--per-source-only", action="store_true", help="time only the per-source prompts")
    parser.add_argument("--generator", default="llama-cpp:smollm2")
    parser.add_argument("--kept", type=Path, help="write the kept sentences and their sources here (JSONL)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from topicchat.app.answer import Assistant
    from topicchat.app.prose import ProseChecker
    from topicchat.app.settings import AnswerSettings

    questions = [q for q, _ in judged(DATA / args.collection)][args.skip : args.skip + args.questions]
    writer = Assistant.open(args.index, AnswerSettings(generator=args.generator))
    facts = Assistant.open(args.index, AnswerSettings(generator="none"))
    generator = writer.generator
    rows = {"shipped (one prompt, top 3 sources)": [0, 0, 0, 0.0], "one prompt per source": [0, 0, 0, 0.0]}
    kept_out = []
    for question in questions:
        start = time.perf_counter()
        answer = facts.ask(question) if args.per_source_only else writer.ask(question)
        shipped = rows["shipped (one prompt, top 3 sources)"]
        shipped[3] += time.perf_counter() - start
        if answer.prose is not None:
            shipped[0] += answer.prose.kept > 0
            shipped[1] += answer.prose.written
            shipped[2] += answer.prose.kept
        citations = facts.ask(question).citations
        if not citations:
            continue
        checker = ProseChecker(
            facts.retriever.embedder,
            {c.n: f"{c.title}. {c.text}" for c in citations},
            {c.n: facts.index.embeddings[c.row] for c in citations},
            facts.index.lexical.stem,
        )
        start = time.perf_counter()
        sentences = per_source(generator, question, citations)
        mine = rows["one prompt per source"]
        mine[3] += time.perf_counter() - start
        kept = [s for s in sentences if checker.check(s).kept]
        mine[0] += bool(kept)
        mine[1] += len(sentences)
        mine[2] += len(kept)
        for sentence in kept:
            n = int(re.findall(r"\[(\d+)\]", sentence)[-1])
            source = next(c for c in citations if c.n == n)
            kept_out.append({"question": question, "sentence": sentence, "source": f"{source.title}. {source.text}"})
    if args.kept:
        args.kept.write_text("\n".join(json.dumps(k) for k in kept_out) + "\n", encoding="utf-8")
    print(
        f"\nCPU: {cpu()}; {os.cpu_count()} cores; writer {generator.model_id}; {args.collection}, first {len(questions)} judged queries\n"
    )
    print("| prompt | answers with kept prose | sentences written | kept | writer s per answer |")
    print("|---|---|---|---|---|")
    for name, (answers, written, kept_n, seconds) in rows.items():
        if args.per_source_only and name.startswith("shipped"):
            continue
        print(f"| {name} | {answers} of {len(questions)} | {written} | {kept_n} | {seconds / len(questions):.2f} |")


if __name__ == "__main__":
    main()
