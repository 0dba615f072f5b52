"""The build pipeline: the order of stages, timed, from a corpus to an index folder."""

from __future__ import annotations

import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from topicchat.indexer import ann, cluster, embed, label, load, reduce, store, timeline, topics, tree, update
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.prompting import prompt_hash, prompt_texts
from topicchat.indexer.settings import BuildSettings
from topicchat.indexer.topics import TopicRecord
from topicchat.models.base import Embedder, Generator

log = logging.getLogger(__name__)
MIN_DOCS_TO_CLUSTER = 20
PROMPTS = ("label", "summary", "answer")


@dataclass
class Built:
    """What the clustering (or an in-place update) produced, ready to be indexed and stored."""

    vectors: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray
    is_outlier: np.ndarray
    coords: np.ndarray
    records: list[TopicRecord]
    topic_vectors: np.ndarray
    parents: list[TopicRecord]
    parent_vectors: np.ndarray | None


@dataclass
class Run:
    """The build's inputs and bookkeeping that the manifest records."""

    source: str
    corpus: load.Corpus
    docs: pd.DataFrame
    embedder: Embedder
    generator_id: str | None
    hits: int
    timings: dict[str, float]
    started: float
    report: Callable[[str], None]
    time: dict  # the manifest's `time` section: which column and period length topics are counted by


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def _timed(timings: dict[str, float], stage: str, report: Callable[[str], None]):
    report(f"[{stage}] ...")
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)
    report(f"[{stage}] done in {timings[stage]:.1f} s")


def build_index(
    source: str,
    out: Path | str,
    settings: BuildSettings | None = None,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
    report: Callable[[str], None] = _stderr,
) -> Path:
    """Build an index folder from a corpus; the folder appears only when every stage succeeded."""
    from topicchat.models.registry import load_embedder, load_generator

    settings = settings or BuildSettings()
    timings: dict[str, float] = {}
    started = time.perf_counter()

    with _timed(timings, "load", report):
        corpus = load.load_corpus(
            source,
            settings.text_col,
            settings.title_col,
            settings.id_col,
            settings.limit,
            settings.max_doc_chars,
            settings.on_duplicate_id,
        )
        docs = corpus.frame
        report(f"  {len(docs)} documents ({corpus.rows_read} rows read; skipped: {corpus.skipped})")
        time_spec = timeline.timeline_spec(docs, settings.time_col, load.RESERVED)
        if time_spec["column"]:
            report(f"  topics over time: by {time_spec['granularity']} of '{time_spec['column']}'")

    parameters = settings.parameters()
    old, plan = _previous(Path(out), docs, parameters, settings.full_rebuild)
    if plan is not None and plan.changes == 0:
        report(
            f"The index at {out} is up to date: the corpus and every parameter are unchanged (use --full to rebuild)."
        )
        return Path(os.path.abspath(out))

    with _timed(timings, "embed", report):
        embedder = embedder or load_embedder(settings.embedding_model, settings.embed_dtype, settings.cache_dir)
        todo = docs["text"].tolist() if plan is None else docs["text"].iloc[plan.new_rows].tolist()
        vectors, hits = embed.embed_documents(embedder, todo, settings.cache_dir, settings.show_progress)
        report(f"  {hits} of {len(todo)} embeddings came from the cache")

    n = len(docs)
    if plan is not None:
        report(
            f"  updating in place: {len(plan.new_rows)} new or changed, {plan.removed} removed (use --full to recluster)"
        )
        with _timed(timings, "place", report):
            vectors, labels, probabilities, is_outlier, coords, records, topic_vectors = update.apply_update(
                old, docs, plan, vectors
            )
            parents, parent_vectors = tree.refresh_parents(old.parents, records, vectors, labels)
        manifest_topics = dict(
            old.manifest.get("topics", {}), count=len(records), outliers_left=int((labels == -1).sum())
        )
        extra = {
            "update": {
                "from_content_hash": old.manifest["corpus"]["content_hash"],
                "added": len(plan.new_rows),
                "removed": plan.removed,
            }
        }
        min_size = old.manifest["parameters"].get("min_cluster_size_used")
        gen_id = old.manifest["models"].get("generator")
        built = Built(
            vectors, labels, probabilities, is_outlier, coords, records, topic_vectors, parents, parent_vectors
        )
        run = Run(source, corpus, docs, embedder, gen_id, hits, timings, started, report, time_spec)
        return _finish(out, run, built, parameters | {"min_cluster_size_used": min_size}, manifest_topics, extra)

    clusterable = n >= MIN_DOCS_TO_CLUSTER
    min_size = settings.cluster_size_for(n)
    if clusterable:
        with _timed(timings, "reduce", report):
            knn = reduce.knn_graph(vectors, settings.umap_neighbors)
            reduced = reduce.umap_project(
                vectors, knn, settings.umap_components, settings.umap_neighbors, settings.seed
            )
            coords = reduce.umap_project(vectors, knn, 2, settings.umap_neighbors, settings.seed)
        with _timed(timings, "cluster", report):
            raw_labels, granularity = cluster.leaf_clusters(
                reduced,
                vectors,
                min_size,
                settings.min_samples,
                settings.seed,
                settings.outlier_threshold,
                settings.max_topic_share,
            )
            is_outlier = raw_labels == -1
            labels = raw_labels
            if settings.reduce_outliers:
                labels = cluster.reduce_outliers(
                    vectors, labels, settings.outlier_threshold, settings.max_outlier_share
                )
            labels = cluster.renumber_by_size(labels)
            probabilities = cluster.membership(vectors, labels)
            report(
                f"  {len(set(labels.tolist()) - {-1})} topics; outliers: {int(is_outlier.sum())} found, "
                f"{int((labels == -1).sum())} left after reduction"
            )
    else:
        report(
            f"  only {n} documents: too few to cluster (need {MIN_DOCS_TO_CLUSTER}); building a retrieval-only index"
        )
        coords = np.zeros((n, 2), dtype=np.float32)
        labels = np.full(n, -1, dtype=np.int64)
        probabilities = np.zeros(n, dtype=np.float32)
        is_outlier = labels == -1
        granularity = {"method": f"not clustered: fewer than {MIN_DOCS_TO_CLUSTER} documents"}

    with _timed(timings, "topics", report):
        records, topic_vectors = topics.build_topics(
            docs["text"].tolist(),
            docs["doc_id"].tolist(),
            vectors,
            labels,
            embedder,
            settings.top_n_words,
            seed=settings.seed,
        )
    if clusterable and not records:
        report("  HDBSCAN found no clusters: the index is retrieval-only (try a smaller --min-cluster-size)")

    with _timed(timings, "tree", report):
        parents, parent_vectors, tree_info = tree.build_tree(
            docs["text"].tolist(),
            docs["doc_id"].tolist(),
            vectors,
            labels,
            records,
            topic_vectors,
            embedder,
            settings.top_n_words,
            seed=settings.seed,
        )
        levels = " / ".join(map(str, reversed(tree_info["nodes_per_level"])))
        report(f"  topic tree: {levels} nodes (top level first)")

    with _timed(timings, "label", report):
        gen = None
        if settings.label_topics and records:
            gen = generator or load_generator(settings.generator, settings.cache_dir)
        titles = dict(zip(docs["doc_id"], docs["title"], strict=True))
        texts = dict(zip(docs["doc_id"], docs["text"], strict=True))
        from tqdm import tqdm

        with tqdm(
            total=len(records) + len(parents),
            desc="Labelling topics",
            disable=not settings.show_progress,
            file=sys.stderr,
        ) as bar:
            nodes = [*records, *parents]
            vocabularies = label.topic_vocabularies(docs["text"].tolist(), labels, nodes) if gen else None
            vectors_by_id = dict(zip([t.id for t in records], topic_vectors, strict=True))
            if parents and parent_vectors is not None:
                vectors_by_id |= dict(zip([t.id for t in parents], parent_vectors, strict=True))
            label_counts = label.label_topics(
                nodes,
                gen,
                titles,
                texts,
                settings.summaries,
                progress=bar.update,
                vocabularies=vocabularies,
                embedder=embedder,
                vectors=vectors_by_id,
            )

    manifest_topics = {
        "count": len(records),
        "granularity": granularity,
        "tree": tree_info,
        "outliers_found": int(is_outlier.sum()),
        "outliers_left": int((labels == -1).sum()),
        "retrieval_only": not records,
    } | label_counts
    built = Built(vectors, labels, probabilities, is_outlier, coords, records, topic_vectors, parents, parent_vectors)
    run = Run(source, corpus, docs, embedder, getattr(gen, "model_id", None), hits, timings, started, report, time_spec)
    return _finish(out, run, built, parameters | {"min_cluster_size_used": min_size}, manifest_topics, {})


def _previous(out: Path, docs, parameters: dict, full: bool):
    """The old index at `out` and an update plan for it, when an in-place update is possible."""
    if full or not (store.index_folder(out) / "manifest.json").exists():
        return None, None
    try:
        if not update.same_parameters(store.read_manifest(out), parameters):
            return None, None  # a full build: no need to load (and checksum) the old index
        old = store.load_index(out)
    except TopicchatError:
        return None, None
    return old, update.plan_update(old, docs, parameters)


def _finish(out: Path | str, run: Run, built: Built, parameters: dict, manifest_topics: dict, extra: dict) -> Path:
    """Search structures, then the index folder with its manifest (shared by full builds and updates)."""
    with _timed(run.timings, "ann", run.report):
        faiss_index = ann.build_faiss(built.vectors)
        lexical = ann.LexicalIndex.build((run.docs["title"] + "\n" + run.docs["text"]).tolist())

    with _timed(run.timings, "store", run.report):
        frame = run.docs.copy()
        frame.insert(3, "topic", built.labels)
        frame.insert(4, "probability", built.probabilities)
        frame.insert(5, "is_outlier", built.is_outlier)
        frame.insert(6, "x", built.coords[:, 0])
        frame.insert(7, "y", built.coords[:, 1])
        run.timings["total"] = round(time.perf_counter() - run.started, 3)
        manifest = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "corpus": {
                "source": str(run.source),
                "rows_read": run.corpus.rows_read,
                "documents": len(run.docs),
                "columns": run.corpus.columns,
                "skipped": run.corpus.skipped,
                "content_hash": _content_hash(run.docs),
            },
            "models": {
                "embedder": run.embedder.model_id,
                "embedder_name": run.embedder.name,
                "embedder_variant": run.embedder.variant,
                "embedding_dim": int(run.embedder.dim),
                "generator": run.generator_id,
            },
            "parameters": parameters,
            "topics": manifest_topics,
            "time": _time_section(run, frame, built),
            "embedding_cache_hits": run.hits,
            "prompts": {name: prompt_hash(name) for name in PROMPTS},
            "timings_s": run.timings,
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
        } | extra
        path = store.write_index(
            Path(out),
            manifest,
            frame,
            built.vectors,
            faiss_index,
            built.records,
            built.topic_vectors,
            lexical,
            prompt_texts(PROMPTS),
            built.parents,
            built.parent_vectors,
        )
    run.report(f"Index written to {path} in {time.perf_counter() - run.started:.1f} s")
    return path


def _time_section(run: Run, frame: pd.DataFrame, built: Built) -> dict:
    """The time spec plus the span it covers (the counts themselves are recounted on load)."""
    if not run.time.get("column"):
        return run.time
    nodes = {t.id: t for t in [*built.records, *built.parents]}
    found = timeline.build_timeline(frame, nodes, run.time["column"], run.time["granularity"])
    return run.time | (found.summary() if found is not None else {})


def _content_hash(docs) -> str:
    import hashlib

    digest = hashlib.sha256()
    for doc_id, text in zip(docs["doc_id"], docs["text"], strict=True):
        digest.update(f"{doc_id}\x00{text}\x01".encode())
    return digest.hexdigest()


__all__ = ["build_index", "BuildSettings", "TopicchatError"]
