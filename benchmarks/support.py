"""Measure the support threshold of checked prose (app/prose.py) on a built index.

For sampled documents A: a positive is one of A's own sentences scored against A; a hard negative is a
sentence of another document B of the same leaf topic scored against A (on topic, but not what A says);
an easy negative comes from a random document. Score = cosine(sentence, A's embedding) + w x lexical
share. The table gives, per weight and threshold, the share of positives kept and of negatives dropped.

python benchmarks/support.py /tmp/idx5k --samples 400
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
