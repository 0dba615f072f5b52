"""Evidence sentences against sentences judged by hand: does the sentence shown under a citation answer the question?

    python benchmarks/evidence_judged.py --index cranfield=CRAN_IDX --index cisi=CISI_IDX

`benchmarks/evidence_sentences.jsonl` holds (question, judged-relevant document) pairs from the Cranfield and
CISI collections, taken from real answers (`--generator none`: one relevant document the answer cites, with
at least three sentences, per question; 70 and 61 pairs). Each line lists the document's sentences (as
`indexer.ann.sentences` splits them) and every sentence that shows why the document answers the question
("answers") and the single best one ("best"), marked by an assessor that saw only the question and the
numbered sentences (no selector's pick; a separate session of the assistant that develops this tool, told to
mark a sentence only when it addresses what the question asks, not when it merely shares a word). Each selector
picks one sentence per pair from the document's text in the index (the pair's question vector from the
index's embedder); the score is the share of pairs whose pick is among the marked sentences (pairs with none
marked count as misses for every selector), and the share that picks the best one. Differences from the first
sentence get a 95% interval (pairs resampled 2,000 times). "Chance" is the expected share of a uniformly
random pick.

Selectors: the shipped one (every sentence scored with the index's word-piece vectors plus 0.1 per shared
question word share; the index must hold them), the one shipped for indexes without them (lexical prefilter
to 3 sentences, then the embedder), every sentence embedded by the index's embedder (plus the same 0.1 per
shared word share), the lexical winner alone (most shared question words, the earlier sentence on a tie),
and the first sentence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from common import cpu  # noqa: E402

JUDGED = REPO / "benchmarks" / "evidence_sentences.jsonl"
RESAMPLES = 2000


def picks(assistant: Any, question: str, text: str, qvec: np.ndarray, parts: list[str]) -> dict[str, int]:
    """Each selector's sentence (its position in `parts`, -1 if none) for one cited document."""
    from topicchat.app import evidence
    from topicchat.indexer.ann import tokenize

    embedder, stem = assistant.retriever.embedder, assistant.index.lexical.stem
    clipped = [evidence.clip(s) for s in parts]

    def at(chosen: str) -> int:
        return clipped.index(chosen) if chosen in clipped else -1

    wanted = set(tokenize(question, stem=stem))
    shares = np.asarray([len(wanted & set(tokenize(s, stem=stem))) / max(1, len(wanted)) for s in parts])
    every = embedder.embed(parts) @ qvec.astype(np.float32)
    table = assistant.index.token_table
    return {
        "shipped (word-piece vectors)": at(
            evidence.evidence_sentences(question, [text], embedder, qvec, stem, table=table)[0]
        ),
        "shortlist + embedder": at(evidence.evidence_sentences(question, [text], embedder, qvec, stem)[0]),
        "every sentence embedded": int(np.argmax(every + evidence.LEXICAL_WEIGHT * shares)),
        "lexical winner": int(np.argmax(shares)),
        "first sentence": 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--index", action="append", required=True, help="COLLECTION=INDEX_DIR (a build of that collection)"
    )
    parser.add_argument("--judged", type=Path, default=JUDGED)
    args = parser.parse_args()

    from topicchat.app.answer import Assistant
    from topicchat.app.settings import AnswerSettings
    from topicchat.indexer.ann import sentences

    rows = [json.loads(line) for line in args.judged.read_text(encoding="utf-8").splitlines() if line.strip()]
    indexes = dict(item.split("=", 1) for item in args.index)
    hits: dict[str, dict[str, list[float]]] = {}  # collection -> selector -> per pair 1/0
    bests: dict[str, dict[str, list[float]]] = {}
    chance: dict[str, list[float]] = {}
    for collection, folder in indexes.items():
        pairs = [r for r in rows if r["collection"] == collection]
        if not pairs:
            raise SystemExit(f"{args.judged} has no pairs of '{collection}'")
        assistant = Assistant.open(folder, AnswerSettings(generator="none"))
        if assistant.index.token_table is None:
            raise SystemExit(f"{folder} has no word-piece vectors: rebuild it with this version (topicchat build)")

        for pair in pairs:
            try:
                row = assistant.index.row_of(str(pair["doc_id"]))
            except KeyError:
                raise SystemExit(
                    f"document {pair['doc_id']} is not in {folder}: is it a build of {collection}?"
                ) from None
            text = assistant._texts[row]
            parts = sentences(text)
            if parts != pair["sentences"]:
                raise SystemExit(f"document {pair['doc_id']} splits into other sentences than the judged ones")
            qvec = assistant.retriever.embed_query(pair["question"])
            answers = set(pair["answers"])
            for name, pick in picks(assistant, pair["question"], text, qvec, parts).items():
                hits.setdefault(collection, {}).setdefault(name, []).append(float(pick in answers))
                bests.setdefault(collection, {}).setdefault(name, []).append(float(pick == pair["best"]))
            chance.setdefault(collection, []).append(len(answers) / len(parts))

    print(f"CPU: {cpu()}")
    print(f"judged pairs: {args.judged.name}; a pick counts when it is among the marked sentences\n")
    print(
        "| collection | pairs | selector | pick is a marked sentence | minus first sentence (95% interval) | pick is the best one |"
    )
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    groups = {**{c: (hits[c], bests[c], chance[c]) for c in hits}}
    if len(hits) > 1:  # the collections pooled
        pooled_hits = {n: [x for c in hits for x in hits[c][n]] for n in next(iter(hits.values()))}
        pooled_best = {n: [x for c in bests for x in bests[c][n]] for n in next(iter(bests.values()))}
        groups["pooled"] = (pooled_hits, pooled_best, [x for c in chance for x in chance[c]])
    for name, (by, best, odds) in groups.items():
        first = np.asarray(by["first sentence"])
        draws = rng.integers(0, len(first), size=(RESAMPLES, len(first)))
        for selector, values in by.items():
            v = np.asarray(values)
            if selector == "first sentence":
                interval = "-"
            else:
                diffs = (v[draws] - first[draws]).mean(axis=1)
                low, high = np.percentile(diffs, [2.5, 97.5])
                interval = f"{v.mean() - first.mean():+.3f} ({low:+.3f} .. {high:+.3f})"
            print(f"| {name} | {len(v)} | {selector} | {v.mean():.3f} | {interval} | {np.mean(best[selector]):.3f} |")
        print(f"| {name} | {len(odds)} | chance (a random sentence) | {np.mean(odds):.3f} | | |")


if __name__ == "__main__":
    main()
