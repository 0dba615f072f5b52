"""Measure the support threshold of checked prose (app/prose.py) on a built index.

For sampled documents A: a positive is one of A's own sentences scored against A; a hard negative is a
sentence of another document B of the same leaf topic scored against A (on topic, but not what A says);
an easy negative comes from a random document. Score = cosine(sentence, A's embedding) + w x lexical
share. The table gives, per weight and threshold, the share of positives kept and of negatives dropped.

python benchmarks/support.py /tmp/idx5k --samples 400

With --pairs, it scores instead the hand-labelled (sentence, abstract) pairs of benchmarks/support_pairs.jsonl
(arxiv_cscl documents; the index must hold them, e.g. a build of all 20,699): faithful paraphrases
(supported), negations, wrong numbers or entities and plausible unsupported claims, through the whole check
of app/prose.py (numbers, copies, polarity, support score), per threshold and polarity rule.

python benchmarks/support.py /tmp/cscl20k --pairs benchmarks/support_pairs.jsonl
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=Path, help="hand-labelled pairs (JSONL: doc_id, kind, supported, sentence)")
    args = parser.parse_args()
    if args.pairs:
        return score_pairs(args.index, args.pairs)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from topicchat.app.evidence import sentences
    from topicchat.app.prose import lexical_share
    from topicchat.indexer.store import load_index
    from topicchat.models.registry import load_embedder

    index = load_index(args.index)
    docs = index.documents
    embedder = load_embedder(
        index.manifest["parameters"]["embedding_model"], index.embedding_dtype, None, index.embedding_max_tokens
    )
    rng = np.random.default_rng(args.seed)
    topic_of = docs["topic"].to_numpy()
    texts = docs["text"].tolist()
    rows = [r for r in rng.permutation(len(docs)) if topic_of[r] >= 0][: args.samples]
    stem = index.lexical.stem
    triples = []  # (kind, sentence, row of A)
    for a in rows:
        mates = np.flatnonzero((topic_of == topic_of[a]) & (np.arange(len(docs)) != a))
        own, mate, other = sentences(texts[a]), None, None
        if mates.size:
            mate = sentences(texts[int(rng.choice(mates))])
        other = sentences(texts[int(rng.integers(len(docs)))])
        for kind, pool in (("positive", own), ("hard negative", mate), ("easy negative", other)):
            if pool:
                triples.append((kind, pool[int(rng.integers(len(pool)))], a))
    vectors = embedder.embed([s for _, s, _ in triples])
    cos = np.array([float(v @ index.embeddings[a]) for v, (_, _, a) in zip(vectors, triples, strict=True)])
    lex = np.array([lexical_share(s, texts[a], stem) for _, s, a in triples])
    kinds = np.array([k for k, _, _ in triples])
    print(f"index {args.index} ({len(docs)} documents), {len(rows)} sampled documents, {len(triples)} sentences")
    print("| weight | threshold | positives kept | hard negatives dropped | easy negatives dropped |")
    print("|---|---|---|---|---|")
    for w in (0.0, 0.25, 0.5, 1.0):
        score = cos + w * lex
        for t in np.arange(0.3, 1.21, 0.05):
            kept = (score[kinds == "positive"] >= t).mean()
            hard = (score[kinds == "hard negative"] < t).mean()
            easy = (score[kinds == "easy negative"] < t).mean()
            print(f"| {w} | {t:.2f} | {kept:.3f} | {hard:.3f} | {easy:.3f} |")


def score_pairs(index_path: Path, pairs_path: Path) -> None:
    import json
    from collections import Counter

    from topicchat.app import prose
    from topicchat.indexer.store import load_index
    from topicchat.models.registry import load_embedder

    index = load_index(index_path)
    embedder = load_embedder(
        index.manifest["parameters"]["embedding_model"], index.embedding_dtype, None, index.embedding_max_tokens
    )
    pairs = [json.loads(line) for line in pairs_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = index.documents
    row_of = {str(d): r for r, d in enumerate(docs["doc_id"].astype(str))}
    missing = sorted({p["doc_id"] for p in pairs} - set(row_of))
    if missing:
        raise SystemExit(f"{len(missing)} documents of the pairs are not in {index_path}: {missing[:5]} ...")
    texts = docs["text"].tolist()
    stem = index.lexical.stem
    vectors = embedder.embed([p["sentence"] for p in pairs])
    rules = {  # name -> (closest source sentences, negation counted both ways); None = no polarity check
        "off": None,
        "closest sentence (shipped)": (1, False),
        "closest 2 sentences": (2, False),
        "closest sentence, either way": (1, True),
    }
    verdicts = {name: [] for name in rules}  # per rule: (reason before the score check, score)
    for p, vector in zip(pairs, vectors, strict=True):
        row = row_of[p["doc_id"]]
        score = prose.support_score(
            vector, index.embeddings[row].astype(vector.dtype), prose.lexical_share(p["sentence"], texts[row], stem)
        )
        checker = prose.ProseChecker(
            embedder, {1: texts[row]}, {1: index.embeddings[row]}, stem, threshold=-9.0, polarity=False
        )
        checked = checker.check(p["sentence"] + " [1]").reason  # every check but polarity and the score
        for name, rule in rules.items():
            reason = checked
            if not reason and rule is not None:
                reason = prose.contradicts(p["sentence"], texts[row], stem, closest=rule[0], both_ways=rule[1])
            verdicts[name].append((reason, score))
    kinds = sorted({p["kind"] for p in pairs if not p["supported"]})
    counts = Counter(p["kind"] for p in pairs)
    print(f"{len(pairs)} hand-labelled pairs over {len({p['doc_id'] for p in pairs})} abstracts: {dict(counts)}")
    head = ["polarity rule", "threshold", "supported kept", *[f"{k} dropped" for k in kinds], "kept that are supported"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    supported = np.array([bool(p["supported"]) for p in pairs])
    kind = np.array([p["kind"] for p in pairs])
    for name in rules:
        passed = np.array([not r for r, _ in verdicts[name]])
        score = np.array([s for _, s in verdicts[name]])
        for t in np.arange(0.55, 0.96, 0.05):
            kept = passed & (score >= t)
            cells = [f"{kept[supported].mean():.3f}"]
            cells += [f"{(~kept[(kind == k) & ~supported]).mean():.3f}" for k in kinds]
            cells.append(f"{supported[kept].mean():.3f} ({kept.sum()})" if kept.any() else "-")
            print(f"| {name} | {t:.2f} | " + " | ".join(cells) + " |")
    reasons = Counter(r.split(":")[0] for r, _ in verdicts["closest sentence (shipped)"] if r)
    print(f"reasons before the score (shipped rules): {dict(reasons)}")


if __name__ == "__main__":
    main()
