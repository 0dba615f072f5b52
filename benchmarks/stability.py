"""Living corpora on real abstracts: build N, `add` the next 5%, `diff` against a fresh build of N x 1.05, and
rebuild N with other seeds into the same folder (stable topic ids): what keeps its id, per-topic Jaccard.

python benchmarks/stability.py --limit 5000 --seeds 43 44

Every step runs the `topicchat` command a user runs (a subprocess each), on the first rows of
arxiv_cscl.parquet; the embedding cache is shared, so after the first build only the new rows embed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from common import cpu, topicchat  # noqa: E402

DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "corpora" / "arxiv_cscl.parquet"
COLUMNS = ["--text-col", "abstract", "--title-col", "title", "--id-col", "id"]


def manifest(path: Path) -> dict:
    from topicchat.indexer.store import read_manifest

    return read_manifest(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--added", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, nargs="*", default=[43, 44])
    parser.add_argument("--cache-dir", default=None, help="embedding cache (default: the user's)")
    parser.add_argument("--no-labels", action="store_true", help="keyword labels only (faster)")
    args = parser.parse_args()
    more = int(round(args.limit * (1 + args.added)))
    cache = ["--cache-dir", args.cache_dir] if args.cache_dir else []
    labels = ["--no-labels"] if args.no_labels else []
    frame = pd.read_parquet(DATA)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        frame.iloc[args.limit : more].to_parquet(t / "next.parquet")
        rows: list[tuple[str, float, str]] = []
        secs, _ = topicchat(
            "build", str(DATA), "--out", str(t / "a"), "--limit", str(args.limit), "-q", *COLUMNS, *cache, *labels
        )
        rows.append((f"build {args.limit}", secs, f"{manifest(t / 'a')['topics']['count']} leaf topics"))
        shutil.copytree(t / "a", t / "a0", symlinks=True)
        secs, _ = topicchat("add", str(t / "a"), str(t / "next.parquet"), "-q", *cache)
        drift = manifest(t / "a")["update"]["drift"]
        rows.append(
            (
                f"add the next {more - args.limit}",
                secs,
                f"{drift['unfit']} fit no topic; rebuild advised: {'; '.join(drift['advice']) or 'no'}",
            )
        )
        secs, _ = topicchat(
            "build", str(DATA), "--out", str(t / "b"), "--limit", str(more), "-q", *COLUMNS, *cache, *labels
        )
        rows.append((f"fresh build of {more}", secs, f"{manifest(t / 'b')['topics']['count']} leaf topics"))
        _, text = topicchat("diff", str(t / "a"), str(t / "b"))
        _, js = topicchat("diff", str(t / "a"), str(t / "b"), "--json")
        report = json.loads(js[js.index("{") :])
        shutil.copytree(t / "a0", t / "c", symlinks=True)
        secs, _ = topicchat(
            "build", str(DATA), "--out", str(t / "c"), "--limit", str(more), "--full", "-q", *COLUMNS, *cache, *labels
        )
        grown = manifest(t / "c")["topics"]["lineage"]
        rows.append(
            (
                f"full rebuild of {more} into the {args.limit} index",
                secs,
                f"{grown['leaves_kept']} of {grown['leaves']} topics kept their id; "
                f"{grown['documents_same_topic']:.1%} of documents kept their topic id",
            )
        )
        seed_rows = []
        jaccards: list[float] = []
        for seed in args.seeds:
            shutil.rmtree(t / "s", ignore_errors=True)
            shutil.copytree(t / "a0", t / "s", symlinks=True)
            secs, _ = topicchat(
                "build",
                str(DATA),
                "--out",
                str(t / "s"),
                "--limit",
                str(args.limit),
                "--full",
                "--seed",
                str(seed),
                "-q",
                *COLUMNS,
                *cache,
                *labels,
            )
            lin = manifest(t / "s")["topics"]["lineage"]
            jaccards += list(lin["jaccard"].values())
            seed_rows.append((seed, lin["leaves"], lin["leaves_kept"], lin["documents_same_topic"], secs))

    print(f"\nLiving corpus, first {args.limit} of arxiv_cscl ({cpu()}, {os.cpu_count()} cores)\n")
    print("| step | seconds | result |\n|---|---|---|")
    for name, secs, what in rows:
        print(f"| {name} | {secs:.1f} | {what} |")
    print(f"\n`topicchat diff` of the index after `add` vs the fresh build of {more}: {report['summary']}\n")
    print("```\n" + "\n".join(text.strip().splitlines()[:40]) + "\n```")
    print(
        f"\nRebuild of the same {args.limit} with another seed into the index (stable ids, Jaccard >= {report['threshold_jaccard']}):\n"
    )
    print(
        "| seed | leaves | leaves that kept an id | documents under the same topic id | seconds |\n|---|---|---|---|---|"
    )
    for seed, leaves, kept, same, secs in seed_rows:
        print(f"| {seed} | {leaves} | {kept} | {same:.1%} | {secs:.1f} |")
    if jaccards:
        q = np.quantile(jaccards, [0.1, 0.5, 0.9])
        print(
            f"\nJaccard of matched leaves: p10 {q[0]:.2f}, median {q[1]:.2f}, p90 {q[2]:.2f} ({len(jaccards)} matches)"
        )


if __name__ == "__main__":
    main()
