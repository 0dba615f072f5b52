"""The compressed vector index against exact search on an index's real embeddings.

python benchmarks/ann.py IDX --queries 500

Queries are the titles of random documents of the index, embedded with the index's model. For each, the
exact top 10 (every document scored) is compared with what the product's query path returns from IVF-PQ:
the index's `candidates` (100) nearest codes, rescored exactly from the memory-mapped embeddings. Reported:
recall@10 of that path and of the raw codes, build seconds, bytes per vector and per million vectors,
and query milliseconds (p50 / p95).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--candidates", type=int, default=100)
    args = parser.parse_args()
    import faiss

    from topicchat.indexer.ann import build_faiss, compressed_parameters
    from topicchat.indexer.store import load_index
    from topicchat.models.registry import load_embedder

    index = load_index(args.index)
    vectors = np.ascontiguousarray(index.embeddings, dtype=np.float32)
    n, dim = vectors.shape
    rng = np.random.default_rng(0)
    rows = rng.choice(n, min(args.queries, n), replace=False)
    embedder = load_embedder(
        index.manifest["parameters"]["embedding_model"], index.embedding_dtype, None, index.embedding_max_tokens
    )
    queries = np.ascontiguousarray(embedder.embed(index.documents["title"].iloc[rows].tolist()), dtype=np.float32)
    exact = faiss.IndexFlatIP(dim)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    start = time.perf_counter()
    compressed = build_faiss(vectors, exact_limit=0)
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        faiss.write_index(compressed, f"{tmp}/c.index")
        faiss.write_index(exact, f"{tmp}/e.index")
        per_vector = os.path.getsize(f"{tmp}/c.index") / n
        exact_per_vector = os.path.getsize(f"{tmp}/e.index") / n
    raw_hits, rescored_hits, times = 0, 0, []
    faiss.omp_set_num_threads(1)
    for q, want in zip(queries, truth, strict=True):
        t0 = time.perf_counter()
        _, cand = compressed.search(q[None, :], args.candidates)
        cand = cand[0][cand[0] >= 0]
        scores = index.embeddings[np.sort(cand)] @ q
        top = np.sort(cand)[np.argsort(-scores)[:10]]
        times.append((time.perf_counter() - t0) * 1000)
        raw_hits += len(set(cand[:10].tolist()) & set(want.tolist()))
        rescored_hits += len(set(top.tolist()) & set(want.tolist()))
    total = 10 * len(queries)
    times.sort()
    p = compressed_parameters(n, dim)
    print(f"\nCompressed vector index on {n} real embeddings ({dim}-d) of {args.index}, {len(queries)} title queries\n")
    print("| index | recall@10 vs exact | build s | bytes / vector | MB per million vectors | query ms p50 / p95 |")
    print("|---|---|---|---|---|---|")
    print(f"| exact (IndexFlatIP) | 1.000 | - | {exact_per_vector:.0f} | {exact_per_vector:.0f} | - |")
    print(
        f"| IVF{p['nlist']},PQ{p['m']}x8, nprobe {p['nprobe']}, {args.candidates} candidates rescored exactly | "
        f"{rescored_hits / total:.3f} | {build_s:.1f} | {per_vector:.0f} | {per_vector:.0f} | "
        f"{statistics.median(times):.2f} / {times[int(0.95 * (len(times) - 1))]:.2f} |"
    )
    print(f"| the same codes without rescoring | {raw_hits / total:.3f} | | | | |")


if __name__ == "__main__":
    main()
