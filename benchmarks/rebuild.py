"""Rebuild after adding 1% new documents: in-place update vs a full build, same corpus and models.

python benchmarks/rebuild.py --limit 2000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "corpora" / "arxiv_cscl.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--added", type=float, default=0.01, help="share of new documents")
    args = parser.parse_args()
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings
    from topicchat.indexer.store import load_index

    more = int(round(args.limit * (1 + args.added)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"

        def build(limit: int, out: str, full: bool) -> float:
            settings = BuildSettings(
                text_col="abstract",
                title_col="title",
                id_col="id",
                limit=limit,
                cache_dir=cache,
                show_progress=False,
                full_rebuild=full,
            )
            start = time.perf_counter()
            build_index(str(DATA), Path(tmp) / out, settings, report=lambda _m: None)
            return time.perf_counter() - start

        rows.append(("full build, cold cache", args.limit, build(args.limit, "idx", True)))
        rows.append((f"update in place (+{more - args.limit} documents)", more, build(more, "idx", False)))
        updated = load_index(Path(tmp) / "idx").manifest
        rows.append(("full rebuild of the larger corpus, warm cache", more, build(more, "full", True)))
    base = rows[0][2]
    print(f"\nRebuild after adding {args.added:.0%} ({platform.machine()}, {os.cpu_count()} cores)\n")
    print("| run | documents | seconds | speed-up vs full build |")
    print("|---|---|---|---|")
    for name, n, seconds in rows:
        print(f"| {name} | {n} | {seconds:.1f} | {base / seconds:.1f}x |")
    print(f"\nupdate manifest entry: {updated.get('update')}; stages: {updated['timings_s']}")


if __name__ == "__main__":
    main()
