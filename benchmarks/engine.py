"""Local engine vs Ray engine: the same build, embedding every document afresh (an empty cache each run).

python benchmarks/engine.py --limit 1500 [--ray-address auto]

Each build is the `topicchat build` a user runs (`--no-labels`, first N rows of arxiv_cs.parquet); the
table gives the embed stage's seconds and documents/s per engine, the whole build, and the ratio to the
local engine in the same run. Without --ray-address the Ray engine starts a cluster on this machine (its
start-up is inside the embed stage's time).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from common import cpu, topicchat  # noqa: E402

DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "corpora" / "arxiv_cs.parquet"
COLUMNS = ["--text-col", "abstract", "--title-col", "title", "--id-col", "id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1500)
    parser.add_argument("--ray-address")
    parser.add_argument("--actors", type=int, default=2)
    args = parser.parse_args()
    from topicchat.indexer.store import read_manifest

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ("local", "ray"):
            extra = [] if engine == "local" else ["--engine", "ray", "--ray-actors", str(args.actors)]
            if engine == "ray" and args.ray_address:
                extra += ["--ray-address", args.ray_address]
            out, cache = Path(tmp) / engine, Path(tmp) / f"cache-{engine}"
            seconds, _ = topicchat(
                "build", str(DATA), *COLUMNS, "--limit", str(args.limit), "--out", str(out), "--cache-dir", str(cache),
                "--no-labels", "-q", *extra,
            )  # fmt: skip
            manifest = read_manifest(out)
            embed = manifest["timings_s"]["embed"]
            rows.append((engine, seconds, embed, manifest["models"]["embedder"], manifest.get("engine", {})))
    local_embed = rows[0][2]
    print(f"CPU: {cpu()}; {os.cpu_count()} cores; {args.limit} arxiv_cs abstracts, no labels, empty caches\n")
    print("| engine | workers | encoder | embed s | docs/s | embed time / local's | build s |")
    print("|---|---|---|---|---|---|---|")
    for engine, seconds, embed, model, info in rows:
        workers = len(info.get("embed_processes", [])) or 1
        print(
            f"| {engine} | {workers} | `{model}` | {embed:.1f} | {args.limit / embed:.1f} | "
            f"{embed / local_embed:.2f} | {seconds:.1f} |"
        )
    print("\n" + json.dumps([r[4] for r in rows]))


if __name__ == "__main__":
    main()
