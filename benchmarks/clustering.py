"""Clustering quality on the labelled corpora: the product's topic tree, scored at the level nearest the gold
label count, against BERTopic's defaults on the same embeddings.

python benchmarks/clustering.py                      # BBC, AG News, StackOverflow, Congress bills
python benchmarks/clustering.py --sets bbc_news --json /tmp/clustering.json

Congress bills carries two gold levels: the top level is scored against `label` (21 classes) and the
leaves against `sublabel` (101). Builds use the default settings without LLM labels; embeddings come
from the product's cache (--cache-dir), so a rerun only clusters again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "labelled"
SETS = {  # file stem -> (gold column, level to score it at: None = the level nearest the label count)
    "bbc_news": [("label", None)],
    "ag_news_test": [("label", None)],
    "stackoverflow_titles": [("label", None)],
    "congress_bills": [("label", "top"), ("sublabel", 0)],
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bertopic_defaults(texts: list[str], embeddings: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """BERTopic's defaults (UMAP 15 neighbours / 5-d / min_dist 0 / cosine, HDBSCAN min_cluster_size 10),
    seeded, on the product's own embeddings; returns the topic of every document and the fit seconds."""
    from bertopic import BERTopic
    from umap import UMAP

    started = time.perf_counter()
    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    model = BERTopic(umap_model=umap_model, calculate_probabilities=False)
    topics, _ = model.fit_transform(texts, embeddings=embeddings)
    return np.asarray(topics), time.perf_counter() - started


def run_set(name: str, work: Path, cache: Path, seed: int) -> list[dict]:
    from topicchat.evaluate import cluster_agreement, evaluate_clustering
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings
    from topicchat.indexer.store import load_index

    settings = BuildSettings(label_topics=False, cache_dir=cache, show_progress=False, seed=seed)
    log(f"[{name}] building ...")
    started = time.perf_counter()
    path = build_index(str(DATA / f"{name}.parquet"), work / name, settings, report=lambda _m: None)
    build_s = time.perf_counter() - started
    index = load_index(path)
    docs = index.documents
    log(f"[{name}] BERTopic defaults ...")
    peer, peer_s = bertopic_defaults(docs["text"].tolist(), index.embeddings, seed)
    rows = []
    for column, level in SETS[name]:
        level_used = index.levels - 1 if level == "top" else level
        mine = evaluate_clustering(index, column, level_used)
        theirs = cluster_agreement(peer, docs[column].tolist(), column)
        rows.append(
            {
                "set": name,
                "documents": len(docs),
                "gold": column,
                "gold_classes": mine.labels,
                "level": mine.level,
                "levels": index.levels,
                "topics": len(index.nodes_at(mine.level)),
                "outliers": round(mine.outlier_share, 4),
                "nmi": round(mine.nmi, 4),
                "ari": round(mine.ari, 4),
                "bertopic_topics": int(len(set(peer.tolist()) - {-1})),
                "bertopic_outliers": round(theirs.outlier_share, 4),
                "bertopic_nmi": round(theirs.nmi, 4),
                "bertopic_ari": round(theirs.ari, 4),
                "build_s": round(build_s, 1),
                "bertopic_fit_s": round(peer_s, 1),
            }
        )
        log(json.dumps(rows[-1]))
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| set (documents) | gold (classes) | tree level (topics there) | outliers | NMI | ARI | BERTopic topics | BERTopic outliers | BERTopic NMI | BERTopic ARI |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        better = "**" if r["nmi"] > r["bertopic_nmi"] else ""
        lines.append(
            f"| {r['set']} ({r['documents']:,}) | {r['gold']} ({r['gold_classes']}) | {r['level']} of {r['levels']} "
            f"({r['topics']}) | {r['outliers']:.1%} | {better}{r['nmi']:.3f}{better} | {r['ari']:.3f} | "
            f"{r['bertopic_topics']} | {r['bertopic_outliers']:.1%} | {r['bertopic_nmi']:.3f} | {r['bertopic_ari']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "topicchat")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not DATA.exists():
        sys.exit(f"The labelled data sets are not at {DATA} (set TOPICCHAT_SHARED_DATA).")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            rows += run_set(name, Path(tmp), args.cache_dir, args.seed)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
