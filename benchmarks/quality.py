"""Quality benchmark: retrieval on Cranfield and CISI, clustering and topic quality on BBC News vs BERTopic.

python benchmarks/quality.py --out benchmarks/quality.json
python benchmarks/quality.py --limit 20 --out /tmp/quality-smoke.json   # a quick smoke subset
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data"))
RETRIEVAL_SETS = ("cranfield", "cisi")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import torch

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_retrieval(data: Path, embedder: str, limit: int | None, cache: Path) -> dict[str, Any]:
    """nDCG@10, recall@10/100 and MRR@100 of bm25 / dense / topicchat on each BEIR folder."""
    from topicchat.evaluate import evaluate_retrieval

    out = {}
    for name in RETRIEVAL_SETS:
        log(f"[retrieval] {name} ...")
        report = evaluate_retrieval(
            data / "retrieval" / name,
            embedder,
            (10, 100),
            max_queries=limit,
            max_docs=limit * 10 if limit else None,
            cache_dir=cache,
        )
        log(report.table())
        out[name] = report.to_json()
    return out


def run_clustering(data: Path, embedder: str, limit: int | None, cache: Path, work: Path, seed: int) -> dict[str, Any]:
    """Build a BBC News index (default settings, no LLM labels) and score its topics against the labels."""
    from topicchat.evaluate import evaluate_clustering, topic_quality
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings
    from topicchat.indexer.store import load_index

    source = data / "labelled" / "bbc_news.parquet"
    if limit:  # the file is sorted by label: a smoke run takes a random sample, not the first rows
        import pandas as pd

        frame = pd.read_parquet(source)
        work.mkdir(parents=True, exist_ok=True)
        source = work / "bbc_sample.parquet"
        frame.sample(n=min(limit * 10, len(frame)), random_state=seed).to_parquet(source, index=False)
    settings = BuildSettings(
        embedding_model=embedder, label_topics=False, cache_dir=cache, show_progress=False, seed=seed
    )
    log(f"[clustering] building the BBC News index from {source} ...")
    path = build_index(str(source), work / "bbc-index", settings, report=log)
    index = load_index(path)
    clustering = evaluate_clustering(index, "label")
    quality = topic_quality(index)
    log(clustering.table())
    log(quality.table())
    return {
        "index": str(path),
        "build_timings_s": index.manifest.get("timings_s", {}),
        "min_cluster_size_used": index.manifest.get("parameters", {}).get("min_cluster_size_used"),
        "clustering": clustering.to_json(),
        "topic_quality": quality.to_json(),
    }


def run_bertopic(index_path: Path, seed: int) -> dict[str, Any]:
    """BERTopic defaults (UMAP 15/5/cosine, HDBSCAN min_cluster_size=10) on the same embeddings and texts."""
    import numpy as np
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    from topicchat.evaluate import cluster_agreement, npmi_coherence, topic_diversity
    from topicchat.indexer.store import load_index

    index = load_index(index_path)
    texts = index.documents["text"].tolist()
    embeddings = index.embeddings
    # BERTopic's default UMAP, plus a seed so the run repeats; the product's vectorizer so that the
    # keyword figures (NPMI, diversity) compare clusterings, not stop-word handling.
    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    vectorizer = CountVectorizer(
        stop_words="english", ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b"
    )
    log("[bertopic] fitting ...")
    started = time.perf_counter()
    model = BERTopic(umap_model=umap_model, vectorizer_model=vectorizer, top_n_words=10, calculate_probabilities=False)
    topics, _ = model.fit_transform(texts, embeddings=embeddings)
    seconds = time.perf_counter() - started
    topics = np.asarray(topics)
    words = [[w for w, _ in (model.get_topic(t) or [])][:10] for t in sorted(set(topics.tolist())) if t != -1]
    scores = [s for s in npmi_coherence(words, texts) if s is not None]
    clustering = cluster_agreement(topics, index.documents["label"].tolist(), "label")
    log(clustering.table())
    return {
        "settings": "BERTopic defaults (UMAP n_neighbors=15, n_components=5, min_dist=0, cosine; HDBSCAN "
        f"min_cluster_size=10), UMAP random_state={seed}, vectorizer as the product's",
        "fit_s": round(seconds, 3),
        "clustering": clustering.to_json(),
        "topic_quality": {
            "npmi": round(float(np.mean(scores)), 4) if scores else None,
            "diversity": round(topic_diversity(words, 10), 4),
            "n_topics": len(words),
        },
    }


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def markdown(result: dict[str, Any]) -> str:
    """The headline figures as markdown tables."""
    lines = []
    if result.get("retrieval"):
        lines += ["| data set | system | nDCG@10 | recall@10 | recall@100 | MRR@100 |", "|---|---|---|---|---|---|"]
    for name, report in result.get("retrieval", {}).items():
        for system, m in report["systems"].items():
            lines.append(
                f"| {name} ({report['queries']} q, {report['documents']} d) | {system} | {m['ndcg@10']:.4f} "
                f"| {m['recall@10']:.4f} | {m['recall@100']:.4f} | {m['mrr@100']:.4f} |"
            )
    rows = [("topicchat", result.get("clustering")), ("BERTopic defaults", result.get("bertopic"))]
    if any(r for _, r in rows):
        lines += [
            "",
            "| BBC News | topics | outlier share | NMI | ARI | NMI (clustered) | ARI (clustered) | NPMI | diversity |",
        ]
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for system, r in rows:
            if not r:
                continue
            c, q = r["clustering"], r["topic_quality"]
            cells = [
                c["topics"],
                c["outlier_share"],
                c["nmi"],
                c["ari"],
                c["nmi_clustered"],
                c["ari_clustered"],
                q["npmi"],
                q["diversity"],
            ]
            lines.append(f"| {system} | " + " | ".join(_fmt(v) for v in cells) + " |")
    return "\n".join(lines).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--out", type=Path, help="write the full results as JSON here")
    parser.add_argument("--embedder", default="sentence-transformers/all-MiniLM-L6-v2", help="embedder config string")
    parser.add_argument(
        "--limit", type=int, help="smoke run: N queries per set, ~10N documents (not comparable numbers)"
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=("retrieval", "clustering", "bertopic"),
        default=["retrieval", "clustering", "bertopic"],
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/topicchat-bench/cache"), help="embedding cache")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/topicchat-bench"), help="where the BBC index goes")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not args.data.exists():
        parser.error(f"the data folder {args.data} does not exist (pass --data or set TOPICCHAT_SHARED_DATA)")

    result: dict[str, Any] = {
        "machine": machine(),
        "embedder": args.embedder,
        "limit": args.limit,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    started = time.perf_counter()
    if "retrieval" in args.parts:
        result["retrieval"] = run_retrieval(args.data, args.embedder, args.limit, args.cache_dir)
    if "clustering" in args.parts or "bertopic" in args.parts:
        result["clustering"] = run_clustering(
            args.data, args.embedder, args.limit, args.cache_dir, args.work_dir, args.seed
        )
        if "bertopic" in args.parts:
            result["bertopic"] = run_bertopic(Path(result["clustering"]["index"]), args.seed)
    result["total_s"] = round(time.perf_counter() - started, 1)
    table = markdown(result)
    result["markdown"] = table
    print(table)
    print(f"\nMachine: {result['machine']['platform']}, {result['machine']['cpus_usable']} CPUs; {result['total_s']} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
