"""Build speed: topicchat vs the seed notebook pipeline (as written, and tuned), same models, same data.

seed: the blog's steps (SentenceTransformer.encode, UMAP 5-D, HDBSCAN, UMAP 2-D, BERTopic.fit with
those models, which refits them, KeyBERTInspired, MMR, LLM labels through BERTopic's LlamaCPP
representation, visualize_documents). tuned: the same with LlamaCPP(pipeline_kwargs={"max_tokens":
16, "stop": ["\n"]}, doc_length=100, tokenizer="whitespace"). topicchat: `build_index` with its
defaults (transformers GGUF generator); topicchat-llama: the same with llama-cpp:smollm2, the
peers' generator backend. Every system uses the same min_cluster_size (1% of the corpus).
Each system runs in its own subprocess (so peak RSS is its own), runs alternate, and the table gives
per-stage seconds, totals, peak RSS, label validity (topicchat's validator applied to every
system's labels) and each system's time over topicchat's.

    python benchmarks/build_speed.py --limit 2000 --systems seed,tuned,topicchat --out benchmarks/build_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data")) / "corpora" / "arxiv_cscl.parquet"


def _load(limit: int):
    import pandas as pd

    frame = pd.read_parquet(DATA).iloc[:limit]
    return frame["abstract"].tolist(), frame["title"].tolist()


def run_seed(limit: int, tuned: bool) -> dict:
    """The blog's pipeline step by step; BERTopic refits UMAP and HDBSCAN inside .fit()."""
    import numpy as np
    from bertopic import BERTopic
    from bertopic.representation import KeyBERTInspired, LlamaCPP, MaximalMarginalRelevance
    from hdbscan import HDBSCAN
    from llama_cpp import Llama
    from sentence_transformers import SentenceTransformer
    from umap import UMAP

    from topicchat.indexer.label import clean_label, validate_label
    from topicchat.indexer.settings import BuildSettings
    from topicchat.models.catalog import MINILM, SMOLLM2

    abstracts, titles = _load(limit)
    t: dict[str, float] = {}
    s = time.perf_counter()
    model = SentenceTransformer(str(MINILM.path()), device="cpu")
    embeddings = model.encode(abstracts, show_progress_bar=False)
    t["embed"] = time.perf_counter() - s
    s = time.perf_counter()
    umap_model = UMAP(n_components=5, min_dist=0.0, metric="cosine", random_state=42)
    reduced = umap_model.fit_transform(embeddings)
    t["reduce"] = time.perf_counter() - s
    s = time.perf_counter()
    min_size = BuildSettings().cluster_size_for(limit)  # the same cluster size as topicchat uses
    hdbscan_model = HDBSCAN(min_cluster_size=min_size, metric="euclidean", cluster_selection_method="eom").fit(reduced)
    t["cluster"] = time.perf_counter() - s
    s = time.perf_counter()
    reduced_2d = UMAP(n_components=2, min_dist=0.0, metric="cosine", random_state=42).fit_transform(embeddings)
    t["map"] = time.perf_counter() - s
    s = time.perf_counter()
    topic_model = BERTopic(embedding_model=model, umap_model=umap_model, hdbscan_model=hdbscan_model).fit(
        abstracts, embeddings
    )
    topic_model.update_topics(abstracts, representation_model=KeyBERTInspired())
    topic_model.update_topics(abstracts, representation_model=MaximalMarginalRelevance(diversity=0.2))
    t["topics (fit + KeyBERT + MMR)"] = time.perf_counter() - s
    s = time.perf_counter()
    # LLM labels through BERTopic's own LlamaCPP representation, as the issue describes the seed.
    llm = Llama(model_path=str(SMOLLM2.path()), n_ctx=2048, verbose=False)
    if tuned:
        rep = LlamaCPP(llm, pipeline_kwargs={"max_tokens": 16, "stop": ["\n"]}, doc_length=100, tokenizer="whitespace")
    else:
        rep = LlamaCPP(llm)
    topic_model.update_topics(abstracts, representation_model=rep)
    t["label"] = time.perf_counter() - s
    s = time.perf_counter()
    topic_model.visualize_documents(
        titles, reduced_embeddings=np.asarray(reduced_2d, dtype=float), hide_annotations=True
    )
    t["visualize"] = time.perf_counter() - s
    labels = [topic_model.get_topic(tid)[0][0] for tid in topic_model.get_topics() if tid != -1]
    valid = sum(validate_label(clean_label(lbl), abstracts) is None for lbl in labels)
    return {"stages": t, "topics": len(labels), "valid_labels": valid, "examples": labels[:5]}


def run_topicchat(limit: int, keep: Path | None = None, generator: str | None = None) -> dict:
    """topicchat build with the default offline models, a fresh embedding cache (the index kept in `keep`)."""
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings
    from topicchat.indexer.store import index_folder, read_manifest

    with tempfile.TemporaryDirectory() as tmp:
        settings = BuildSettings(
            text_col="abstract",
            title_col="title",
            id_col="id",
            limit=limit,
            cache_dir=Path(tmp) / "cache",
            show_progress=False,
        )
        if generator:
            settings.generator = generator
        path = build_index(str(DATA), Path(tmp) / "idx", settings, report=lambda _m: None)
        manifest = read_manifest(path)
        topics = json.loads((index_folder(path) / "topics.json").read_text())
        if keep is not None:
            import shutil

            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(path, keep)
    stages = {k: v for k, v in manifest["timings_s"].items() if k != "total"}
    valid = sum(t["label_source"] == "llm" for t in topics)
    return {
        "stages": stages,
        "topics": len(topics),
        "valid_labels": valid,
        "examples": [t["label"] for t in topics[:5]],
    }


def one(system: str, limit: int, keep: Path | None) -> None:
    start = time.perf_counter()
    if system == "topicchat":
        result = run_topicchat(limit, keep)
    elif system == "topicchat-llama":
        result = run_topicchat(limit, None, "llama-cpp:smollm2")
    else:
        result = run_seed(limit, tuned=system == "tuned")
    result["total_s"] = time.perf_counter() - start
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--systems", default="seed,tuned,topicchat")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds before a system's run is stopped")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help="copy topicchat's index here (for the latency benchmark)")
    args = parser.parse_args()
    if args.one:
        one(args.one, args.limit, args.keep)
        return
    results: dict[str, list[dict]] = {}
    for _ in range(args.rounds):
        for system in args.systems.split(","):
            try:
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", system, "--limit", str(args.limit)]
                    + (["--keep", str(args.keep)] if args.keep else []),
                    capture_output=True,
                    text=True,
                    cwd=REPO,
                    timeout=args.timeout,
                )
            except subprocess.TimeoutExpired:
                results.setdefault(system, []).append(
                    {
                        "stages": {},
                        "topics": 0,
                        "valid_labels": 0,
                        "total_s": float(args.timeout),
                        "peak_rss_mb": float("nan"),
                        "timed_out": True,
                        "examples": [],
                    }
                )
                continue
            if proc.returncode != 0:
                raise SystemExit(f"{system} failed:\n{proc.stderr[-3000:]}")
            results.setdefault(system, []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = {s: min(r, key=lambda x: x["total_s"]) for s, r in results.items()}
    base = best.get("topicchat", {}).get("total_s")
    base = base or best.get("topicchat-llama", {}).get("total_s")
    print(
        f"\nBuild of the first {args.limit} abstracts of arxiv_cscl ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)\n"
    )
    print("| system | total s | time / topicchat's | peak RSS MB | topics | valid labels | stages (s) |")
    print("|---|---|---|---|---|---|---|")
    for system, r in best.items():
        ratio = f"{r['total_s'] / base:.2f}x" if base else "-"
        if r.get("timed_out"):
            ratio = f"> {r['total_s'] / base:.2f}x (stopped at {r['total_s']:.0f} s)" if base else "stopped"
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
        share = f"{r['valid_labels']}/{r['topics']}"
        print(
            f"| {system} | {r['total_s']:.1f} | {ratio} | {r['peak_rss_mb']:.0f} | {r['topics']} | {share} | {stages} |"
        )
    if args.out:
        args.out.write_text(
            json.dumps(
                {"limit": args.limit, "machine": platform.platform(), "cpus": os.cpu_count(), "results": results},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
