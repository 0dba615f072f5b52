"""Encoder variants: documents/s and retrieval quality of float32, bf16, int8 ONNX and a 128-token cut.

Speed is measured on real arXiv abstracts (the product's typical document); quality on the same abstracts
(title -> own abstract recall@10, dense search alone, so the encoder is all that differs) and on
Cranfield and CISI (nDCG@10 of dense search and of the product's hybrid search). Every variant embeds
everything afresh (no cache). Run: `python benchmarks/encoder.py [--docs 1000]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import cpu  # noqa: E402

SHARED = Path(os.environ.get("TOPICCHAT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
VARIANTS = {  # name: (dtype, token cut, whole documents through the packed encoder: None = as shipped)
    "float32": ("float32", None, None),
    "int8 ONNX": ("int8", None, None),
    "float32, 128 tokens": ("float32", 128, None),
    "int8 ONNX, 128 tokens": ("int8", 128, None),
    "bf16": ("bfloat16", None, None),
    "bf16, padded batches (before)": ("bfloat16", None, False),
    "bf16, 128 tokens": ("bfloat16", 128, None),
}


def title_recall(vectors: np.ndarray, title_vectors: np.ndarray, k: int = 10) -> float:
    scores = title_vectors @ vectors.T
    top = np.argsort(-scores, axis=1)[:, :k]
    return float(np.mean([i in row for i, row in enumerate(top)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000, help="arXiv abstracts to time and to search")
    parser.add_argument("--variants", default=";".join(VARIANTS), help="names separated by ;")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from topicchat.evaluate import evaluate_retrieval
    from topicchat.models.registry import load_embedder
    from topicchat.models.st_backend import cpu_has_bf16

    frame = pd.read_parquet(SHARED / "corpora" / "arxiv_cs.parquet", columns=["title", "abstract"])
    frame = frame.sample(n=args.docs, random_state=7)
    abstracts, titles = frame["abstract"].tolist(), frame["title"].tolist()
    results: dict[str, dict] = {}
    reference: np.ndarray | None = None
    for name in args.variants.split(";"):
        dtype, cut, packed = VARIANTS[name]
        if dtype == "bfloat16" and not cpu_has_bf16():
            continue
        load_embedder.cache_clear()  # each variant its own embedder: one's settings never leak into the next
        embedder = load_embedder(MODEL, dtype, None, cut)
        if packed is not None:
            embedder.bulk_packed = packed  # type: ignore[attr-defined]
        embedder.embed(abstracts[:64])  # warm-up: first-call allocation, ONNX export done once
        start = time.perf_counter()
        vectors = embedder.embed(abstracts)
        seconds = time.perf_counter() - start
        row = {
            "model_id": embedder.model_id,
            "docs_per_s": args.docs / seconds,
            "packed": bool(getattr(embedder, "bulk_packed", False)),
        }
        row["title_recall@10"] = title_recall(vectors, embedder.embed(titles))
        if reference is None:
            reference = vectors
        row["cosine_to_float32_p5"] = float(np.percentile((vectors * reference).sum(axis=1), 5))
        for collection in ("cranfield", "cisi"):
            report = evaluate_retrieval(SHARED / "retrieval" / collection, embedder)
            row[f"{collection}_dense_ndcg@10"] = report.systems["dense"]["ndcg@10"]
            row[f"{collection}_hybrid_ndcg@10"] = report.systems["topicchat"]["ndcg@10"]
        results[name] = row
        print(name, json.dumps(row), flush=True)

    base = results[next(iter(results))]
    print(f"\nCPU: {cpu()}; {os.cpu_count()} cores; {args.docs} arXiv abstracts (arxiv_cs, random_state 7)\n")
    print(
        "| encoder | model id | packed rows | docs/s | x float32 | title->abstract R@10 | Cranfield nDCG@10 dense / hybrid | CISI nDCG@10 dense / hybrid | cosine to fp32 (p5) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | `{r['model_id']}` | {'yes' if r['packed'] else 'no'} | {r['docs_per_s']:.1f} | "
            f"{r['docs_per_s'] / base['docs_per_s']:.2f} | "
            f"{r['title_recall@10']:.3f} | {r['cranfield_dense_ndcg@10']:.4f} / {r['cranfield_hybrid_ndcg@10']:.4f} | "
            f"{r['cisi_dense_ndcg@10']:.4f} / {r['cisi_hybrid_ndcg@10']:.4f} | {r['cosine_to_float32_p5']:.4f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu(), "docs": args.docs, "results": results}, indent=2))


if __name__ == "__main__":
    main()
