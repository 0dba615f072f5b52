"""Granularity sweep: topics per corpus size (leaves, levels, largest leaf, outliers, diversity, labels),
and stability of the leaf count across seeds and embedding noise.

python benchmarks/granularity.py --corpus arxiv_cscl --sizes 1000 2000 5000 10000 20699
python benchmarks/granularity.py --corpus arxiv_cs --sizes 1000 5000 20000 74728 --no-labels
python benchmarks/granularity.py --stability 5000 --seeds 0 1 2 3 42

Embeddings come from the product's cache (--cache-dir), so a rerun only clusters again.
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
DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "corpora"


def ctfidf_diversity(texts: list[str], labels: np.ndarray, reduce_frequent_words: bool, top_n: int = 10) -> float:
    """Topic diversity of the top c-TF-IDF words per leaf, with or without BERTopic's frequent-word damping."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    from topicchat.evaluate import topic_diversity

    ids = sorted(set(labels.tolist()) - {-1})
    joined = [" ".join(t for t, lab in zip(texts, labels, strict=True) if lab == i) for i in ids]
    vectorizer = CountVectorizer(
        stop_words="english", ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b"
    )
    counts = vectorizer.fit_transform(joined)
    weights = ClassTfidfTransformer(reduce_frequent_words=reduce_frequent_words).fit_transform(counts).toarray()
    words = vectorizer.get_feature_names_out()
    return topic_diversity([[words[j] for j in np.argsort(-row)[:top_n]] for row in weights], top_n)


def label_checks(index) -> dict[str, float]:
    """Grounded (every content word in the topic's own documents), unique, and closer to the own topic
    than to any other (the label embedded) — over the leaves; plus the share of leaf labels from the LLM."""
    from topicchat.indexer.label import ungrounded
    from topicchat.indexer.topics import LabelSource
    from topicchat.models.registry import load_embedder

    docs = index.documents
    leaves = index.topics
    grounded = sum(not ungrounded(t.label, docs.loc[docs.topic == t.id, "text"].tolist()) for t in leaves)
    labels = [t.label.lower() for t in index.nodes.values()]
    embedder = load_embedder(
        index.manifest["parameters"]["embedding_model"], index.embedding_dtype, None, index.embedding_max_tokens
    )
    sims = embedder.embed([t.label for t in leaves]) @ index.topic_embeddings.T
    closest = float(np.mean(sims.argmax(axis=1) == np.arange(len(leaves)))) if len(leaves) else 0.0
    llm = sum(t.label_source is LabelSource.LLM for t in leaves)
    return {
        "grounded": grounded / max(len(leaves), 1),
        "unique": float(len(set(labels)) == len(labels)),
        "closest_own": closest,
        "llm": llm / max(len(leaves), 1),
    }


def sweep(corpus: str, sizes: list[int], labels: bool, cache: Path, seed: int) -> list[dict]:
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings
    from topicchat.indexer.store import load_index

    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            settings = BuildSettings(
                text_col="abstract",
                title_col="title",
                id_col="id",
                limit=n,
                cache_dir=cache,
                seed=seed,
                label_topics=labels,
                summaries=False,
                show_progress=False,
            )
            started = time.perf_counter()
            path = build_index(str(DATA / f"{corpus}.parquet"), Path(tmp) / "idx", settings, report=lambda _m: None)
            took = time.perf_counter() - started
            index = load_index(path)
            docs = index.documents
            leaf = docs.topic.to_numpy()
            sizes_ = np.bincount(leaf[leaf >= 0]) if (leaf >= 0).any() else np.zeros(1)
            timings = index.manifest["timings_s"]
            row = {
                "corpus": corpus,
                "documents": len(docs),
                "leaves": len(index.topics),
                "levels": index.levels,
                "nodes_per_level": index.manifest["topics"]["tree"]["nodes_per_level"],
                "alone_per_level": index.manifest["topics"]["tree"].get("alone_per_level", []),
                "top_level": len(index.top_level()),
                "largest_leaf": float(sizes_.max() / len(docs)),
                "outliers": float((leaf == -1).mean()),
                "diversity": ctfidf_diversity(docs.text.tolist(), leaf, True),
                "diversity_without_damping": ctfidf_diversity(docs.text.tolist(), leaf, False),
                "reduce_cluster_s": timings.get("reduce", 0) + timings.get("cluster", 0),
                "tree_s": timings.get("tree", 0),
                "build_s": took,
            }
            if labels:
                row |= {f"labels_{k}": v for k, v in label_checks(index).items()}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def stability(corpus: str, n: int, seeds: list[int], noises: list[float], cache: Path) -> list[dict]:
    """Reduce + cluster (the product's functions) on the cached embeddings, per seed and noise level."""
    import pandas as pd

    from topicchat.indexer import cluster, reduce
    from topicchat.indexer.embed import embed_documents
    from topicchat.indexer.settings import BuildSettings
    from topicchat.models.base import normalise
    from topicchat.models.registry import load_embedder

    texts = pd.read_parquet(DATA / f"{corpus}.parquet").abstract.astype(str).str.strip().tolist()[:n]
    vectors, _ = embed_documents(load_embedder(BuildSettings().embedding_model), texts, cache, show_progress=False)
    settings = BuildSettings()
    rows = []
    for noise in noises:
        for seed in seeds:
            rng = np.random.default_rng(1000 + seed)
            v = normalise(vectors + noise * rng.standard_normal(vectors.shape).astype(np.float32)) if noise else vectors
            knn = reduce.knn_graph(v, settings.umap_neighbors)
            reduced = reduce.umap_project(v, knn, settings.umap_components, settings.umap_neighbors, seed)
            raw, _ = cluster.leaf_clusters(
                reduced,
                v,
                settings.cluster_size_for(n),
                None,
                seed,
                settings.outlier_threshold,
                settings.max_topic_share,
            )
            labels = cluster.reduce_outliers(v, raw, settings.outlier_threshold, settings.max_outlier_share)
            sizes = np.bincount(labels[labels >= 0])
            rows.append(
                {
                    "noise": noise,
                    "seed": seed,
                    "leaves": int((sizes > 0).sum()),
                    "largest_leaf": float(sizes.max() / n),
                    "outliers": float((labels == -1).mean()),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="arxiv_cscl", choices=["arxiv_cscl", "arxiv_cs"])
    parser.add_argument("--sizes", type=int, nargs="*", default=[])
    parser.add_argument("--no-labels", action="store_true", help="skip the LLM labels (and the label checks)")
    parser.add_argument("--stability", type=int, default=0, help="documents for the stability table (0: skip)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 42])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 1e-6, 1e-4])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "topicchat")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}"
    )
    out: dict[str, list[dict]] = {}
    if args.sizes:
        out["sweep"] = sweep(args.corpus, args.sizes, not args.no_labels, args.cache_dir, args.seed)
        keys = ["documents", "leaves", "levels", "largest_leaf", "outliers", "diversity", "diversity_without_damping"]
        if not args.no_labels:
            keys += ["labels_grounded", "labels_unique", "labels_closest_own", "labels_llm"]
        keys += ["reduce_cluster_s", "build_s"]
        print("| " + " | ".join(keys) + " | per level | joined no area, per level | top-level nodes |")
        print("|" + "---|" * (len(keys) + 3))
        for r in out["sweep"]:
            cells = [f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys]
            print(
                "| " + " | ".join(cells) + " | " + " / ".join(map(str, r["nodes_per_level"])) + " | "
                f"{' / '.join(map(str, r['alone_per_level'])) or '-'} | {r['top_level']} |"
            )
    if args.stability:
        out["stability"] = stability(args.corpus, args.stability, args.seeds, args.noise, args.cache_dir)
        print(f"\nstability at {args.stability} documents ({args.corpus}), seeds {args.seeds}")
        print("| noise | leaves min-max | largest leaf min-max | outliers max |\n|---|---|---|---|")
        for noise in args.noise:
            rs = [r for r in out["stability"] if r["noise"] == noise]
            print(
                f"| {noise:g} | {min(r['leaves'] for r in rs)}-{max(r['leaves'] for r in rs)} | "
                f"{min(r['largest_leaf'] for r in rs):.3f}-{max(r['largest_leaf'] for r in rs):.3f} | "
                f"{max(r['outliers'] for r in rs):.3f} |"
            )
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
