"""Topic ids across reseeded rebuilds, with and without keeping borderline documents in their previous topic.

Clusters the first N arXiv abstracts (arxiv_cs, or arxiv_cscl with --corpus; cached embeddings of the default encoder) with seed 42 as
the "previous index", then with other seeds as rebuilds, exactly as the build does (UMAP 5-D, HDBSCAN
leaves, outlier reduction), and reports per seed: leaves matched (member Jaccard >= 0.5), the share of
documents under the same topic id, NMI against arXiv's primary category and cohesion (mean cosine of a
document to its topic's centroid), for each margin of `lineage.stick`.

python benchmarks/stick.py --limit 5000 --seeds 43 44 45 --margins 0 0.05 0.1 [--regroup]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from common import cpu  # noqa: E402

CORPORA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "corpora"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="arxiv_cs", choices=["arxiv_cs", "arxiv_cscl"])
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[43, 44, 45])
    parser.add_argument("--margins", type=float, nargs="+", default=[0.0, 0.05, 0.1])
    parser.add_argument("--regroup", action="store_true", help="also run each margin with split/merge undoing")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from topicchat.indexer import cluster, embed, lineage, reduce
    from topicchat.indexer.settings import BuildSettings
    from topicchat.models.registry import load_embedder

    frame = pd.read_parquet(CORPORA / f"{args.corpus}.parquet").head(args.limit)
    settings = BuildSettings()
    embedder = load_embedder(settings.embedding_model, settings.embed_dtype, settings.cache_dir)
    vectors, _ = embed.embed_documents(embedder, frame["abstract"].tolist(), settings.cache_dir, False)
    ids = frame["id"].astype(str).tolist()
    truth = frame["primary_category"].tolist() if frame["primary_category"].nunique() > 1 else None
    n = len(ids)

    min_size = settings.cluster_size_for(n)

    def clustered(seed: int) -> np.ndarray:
        knn = reduce.knn_graph(vectors, settings.umap_neighbors)
        reduced = reduce.umap_project(vectors, knn, settings.umap_components, settings.umap_neighbors, seed)
        raw, _ = cluster.leaf_clusters(
            reduced,
            vectors,
            min_size,
            settings.min_samples,
            seed,
            settings.outlier_threshold,
            settings.max_topic_share,
        )
        labels = cluster.reduce_outliers(vectors, raw, settings.outlier_threshold, settings.max_outlier_share)
        return cluster.renumber_by_size(labels)

    base = clustered(settings.seed)
    old_docs = pd.DataFrame({"doc_id": ids, "topic": base})
    old_nodes = {int(t): SimpleNamespace(level=0) for t in set(base.tolist()) if t >= 0}
    old_leaf = lineage.leaf_members(ids, base.tolist())

    def measures(labels: np.ndarray) -> tuple[int, float, float, float]:
        matched = lineage.match(old_leaf, lineage.leaf_members(ids, labels.tolist()))
        old_of = {new: old for new, (old, _) in matched.items()}
        same = float(np.mean([old_of.get(int(t), -9) == int(b) for t, b in zip(labels, base, strict=True)]))
        centroids = {c: vectors[labels == c].mean(axis=0) for c in set(labels.tolist()) if c >= 0}
        cohesion = float(
            np.mean(
                [vectors[i] @ (centroids[c] / np.linalg.norm(centroids[c])) for i, c in enumerate(labels) if c >= 0]
            )
        )
        return len(matched), same, float(nmi(truth, labels)) if truth is not None else float("nan"), cohesion

    print(f"CPU: {cpu()}; {n} {args.corpus} abstracts; previous index: seed {settings.seed}, {len(old_nodes)} leaves")
    print(
        "| seed | leaves | margin | documents moved | leaves keeping their id | documents keeping their topic id | NMI | cohesion |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        labels = clustered(seed)
        leaves = len(set(labels.tolist()) - {-1})
        kept, same, score, cohesion = measures(labels)
        print(f"| {seed} | {leaves} | none | 0 | {kept} | {same:.3f} | {score:.4f} | {cohesion:.4f} |", flush=True)
        for margin in args.margins:
            for regroup in (False, True) if args.regroup else (False,):
                stuck, moved = lineage.stick(
                    old_docs,
                    old_nodes,
                    ids,
                    labels,
                    vectors,
                    margin,
                    min_size=min_size if regroup else None,
                    max_size=int(settings.max_topic_share * n),  # as the build passes them
                )
                kept, same, score, cohesion = measures(stuck)
                print(
                    f"| {seed} | {len(set(stuck.tolist()) - {-1})} | {margin}{' + regroup' if regroup else ''} | "
                    f"{moved} | {kept} | {same:.3f} | {score:.4f} | {cohesion:.4f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
