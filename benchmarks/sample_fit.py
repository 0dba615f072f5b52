"""Sample-fit + placement against the full fit: NMI with arXiv's primary category, and reduce + cluster time.

python benchmarks/sample_fit.py --limit 20000 --samples 5000 10000

Builds the first N rows of arxiv_cs.parquet (keyword labels only, embeddings from the cache) once with
reduction and clustering fitted on every document (the reference) and once per sample size with
`fit_sample_above` forcing the sample fit; the rest of the documents are placed by their 10 nearest sampled
neighbours. NMI is scored at the leaves and at the tree level nearest the 73 categories' count.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from common import cpu  # noqa: E402

DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "corpora" / "arxiv_cs.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20000)
    parser.add_argument("--samples", type=int, nargs="+", default=[5000, 10000])
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    from topicchat.evaluate import evaluate_clustering
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings
    from topicchat.indexer.store import load_index

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sample in [None, *args.samples]:
            extra = {"cache_dir": args.cache_dir} if args.cache_dir else {}
            settings = BuildSettings(
                text_col="abstract",
                title_col="title",
                id_col="id",
                limit=args.limit,
                label_topics=False,
                show_progress=False,
                fit_sample_above=0 if sample is None else 1000,
                fit_sample_size=sample or 20,
                time_col="none",
                **extra,
            )
            start = time.perf_counter()
            out = build_index(
                str(DATA), Path(tmp) / f"idx-{sample}", settings, report=lambda m: print(m, file=sys.stderr)
            )
            seconds = time.perf_counter() - start
            index = load_index(out)
            t = index.manifest["timings_s"]
            fit = t.get("reduce", 0) + t.get("cluster", 0) + t.get("place", 0)
            leaves = evaluate_clustering(index, "primary_category", 0)
            auto = evaluate_clustering(index, "primary_category")
            rows.append((sample, len(index.topics), leaves.nmi, auto.level, auto.nmi, fit, seconds))
    ref = rows[0]
    print(f"\nSample fit vs full fit, first {args.limit} of arxiv_cs ({cpu()}, {os.cpu_count()} cores)\n")
    print(
        "| fitted on | leaves | NMI leaves | ratio | NMI at level (nodes ~ 73) | ratio | reduce + cluster + place s | speed-up | build s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for sample, leaves, nmi0, level, nmi, fit, seconds in rows:
        name = "all documents (reference)" if sample is None else f"sample of {sample}"
        print(
            f"| {name} | {leaves} | {nmi0:.3f} | {nmi0 / ref[2]:.3f} | {nmi:.3f} (level {level}) | {nmi / ref[4]:.3f} | "
            f"{fit:.1f} | {ref[5] / fit:.1f}x | {seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
