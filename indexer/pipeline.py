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

from topicchat.indexer import (
    ann,
    cluster,
    embed,
    engine,
    label,
    lineage,
    load,
    reduce,
    store,
    timeline,
    tokens,
    topics,
    tree,
    update,
)
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.failpoints import pause_point
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
    pause_point(stage)
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)
    report(f"[{stage}] done in {timings[stage]:.1f} s (peak memory so far {_peak_rss_mb():,.0f} MB)")


def _release_memory() -> None:
    """Collect garbage and hand the heap's free pages back to the OS. The topics and tree stages free
    hundreds of MB of small objects that glibc's allocator keeps mapped; at 74,723 documents trimming before
    the generator loads took the label stage's resident memory from 2.0 to 1.6 GB, and with the generator
    dropped after labelling the build's peak went from 3.16 to 2.91 GB (RESULTS.md). A no-op where the C
    library is not glibc."""
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # musl and other C libraries: nothing to trim
            pass


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (0 where the platform does not say)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def build_index(
    source: str,
    out: Path | str,
    settings: BuildSettings | None = None,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
    report: Callable[[str], None] = _stderr,
) -> Path:
    """Build an index folder from a corpus; the folder appears only when every stage succeeded."""
    settings = settings or BuildSettings()
    with store.writing(out):
        return _build(source, Path(out), settings, embedder, generator, report)


def _build(
    source: str,
    out: Path,
    settings: BuildSettings,
    embedder: Embedder | None,
    generator: Generator | None,
    report: Callable[[str], None],
) -> Path:
    from topicchat.models.registry import check_spec

    timings: dict[str, float] = {}
    started = time.perf_counter()
    # Everything that can be checked without the heavy stages is checked first.
    store.check_out(out)
    runner = engine.make_engine(settings.engine, settings.ray_address, settings.ray_actors, settings.ray_cpus_per_actor)
    if embedder is None:
        check_spec(settings.embedding_model, "embedder")
    if generator is None and settings.label_topics:
        check_spec(settings.generator, "generator")

    with _timed(timings, "load", report):
        corpus = load.load_corpus(
            source,
            settings.text_col,
            settings.title_col,
            settings.id_col,
            settings.limit,
            settings.max_doc_chars,
            settings.on_duplicate_id,
            settings.encoding,
        )
        docs = corpus.frame
        report(f"  {len(docs)} documents ({corpus.rows_read} rows read; skipped: {corpus.skipped})")
        time_spec = timeline.timeline_spec(docs, settings.time_col, load.RESERVED)
        if time_spec["column"]:
            report(f"  topics over time: by {time_spec['granularity']} of '{time_spec['column']}'")

    try:
        return _build_on(
            source, out, settings, embedder, generator, report, runner, docs, corpus, time_spec, timings, started
        )
    finally:
        runner.close()


def _build_on(
    source: str,
    out: Path,
    settings: BuildSettings,
    embedder: Embedder | None,
    generator: Generator | None,
    report: Callable[[str], None],
    runner: engine.LocalEngine | engine.RayEngine,
    docs: pd.DataFrame,
    corpus: load.Corpus,
    time_spec: dict,
    timings: dict[str, float],
    started: float,
) -> Path:
    from topicchat.models.registry import load_embedder, load_generator

    parameters = settings.parameters()
    old, plan = _previous(out, docs, parameters, settings.full_rebuild)
    if plan is not None and plan.changes == 0:
        report(
            f"The index at {out} is up to date: the corpus and every parameter are unchanged (use --full to rebuild)."
        )
        return Path(os.path.abspath(out))

    with _timed(timings, "embed", report):
        if embedder is None and plan is not None and old is not None:
            embedder = _index_embedder(old, settings)  # an update keeps the index's encoder, whatever this CPU has
        embedder = embedder or load_embedder(
            settings.embedding_model, settings.embed_dtype, settings.cache_dir, settings.embed_max_tokens
        )
        todo = docs["text"].tolist() if plan is None else docs["text"].iloc[plan.new_rows].tolist()
        vectors, hits = runner.embed(embedder, todo, settings.cache_dir, settings.show_progress, settings.embed_chunk)
        report(f"  {hits} of {len(todo)} embeddings came from the cache")
        workers = len(runner.describe().get("embed_processes", []))
        if workers:
            report(f"  embedded on the Ray cluster in {workers} worker processes")

    n = len(docs)
    if plan is not None and old is not None:
        report(
            f"  updating in place: {len(plan.new_rows)} new or changed, {plan.removed} removed (use --full to recluster)"
        )
        run = Run(source, corpus, docs, embedder, None, hits, timings, started, report, time_spec)
        return _update(out, old, plan, run, vectors, {"action": "build", "source": str(source)}, parameters)

    clusterable = n >= MIN_DOCS_TO_CLUSTER
    # The index being replaced, read once: its topics keep borderline documents (stick) and ids (carry_ids).
    previous = _previous_tree(out) if clusterable else None
    fit_rows = _fit_sample(n, settings)
    fit = vectors if fit_rows is None else vectors[fit_rows]
    min_size = settings.cluster_size_for(len(fit))
    if clusterable:
        if fit_rows is not None:
            report(
                f"  fitting reduction and clustering on a random sample of {len(fit)} of the {n} documents "
                f"(seed {settings.seed}); the rest join the topic of their nearest sampled neighbours"
            )
        with _timed(timings, "reduce", report):
            knn = reduce.knn_graph(fit, settings.umap_neighbors)
            reduced = reduce.umap_project(fit, knn, settings.umap_components, settings.umap_neighbors, settings.seed)
            coords = reduce.umap_project(fit, knn, 2, settings.umap_neighbors, settings.seed)
        with _timed(timings, "cluster", report):
            raw_labels, granularity = cluster.leaf_clusters(
                reduced,
                fit,
                min_size,
                settings.min_samples,
                settings.seed,
                settings.outlier_threshold,
                settings.max_topic_share,
            )
            is_outlier = raw_labels == -1
            labels = raw_labels
            if settings.reduce_outliers:
                labels = cluster.reduce_outliers(fit, labels, settings.outlier_threshold, settings.max_outlier_share)
            labels = cluster.renumber_by_size(labels)
        if fit_rows is not None:
            with _timed(timings, "place", report):
                labels, is_outlier, coords = _place_rest(vectors, fit_rows, labels, is_outlier, coords, runner)
            granularity = granularity | {
                "fitted_on_sample": {
                    "documents": len(fit_rows),
                    "of": n,
                    "seed": settings.seed,
                    "placed_by": "10-NN vote",
                    "placed_on": runner.name,
                }
            }
        runner.close()  # the distributed steps are done: a Ray instance started for the build goes now
        if previous is not None and (labels >= 0).any():
            labels, moved = lineage.stick(
                previous[0],
                previous[1],
                docs["doc_id"].tolist(),
                labels,
                vectors,
                min_size=max(min_size, round(min_size * n / len(fit))),  # pieces count every document
                max_size=int(settings.max_topic_share * n),
            )
            granularity = granularity | {"kept_in_previous_topic": moved}
            if moved:
                report(
                    f"  {moved} documents stay in the topic they had in the previous index (merges and splits only "
                    f"the seed made undone; borderline documents within {lineage.STICK_MARGIN} cosine kept)"
                )
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

    previous = previous if records else None
    carried = None
    if previous is not None:
        old_docs, old_nodes, old_next, old_manifest = previous
        carried = lineage.carry_ids(
            old_docs, old_nodes, docs, labels, {t.id: t for t in [*records, *parents]}, old_next
        )
        labels = lineage.apply_ids(carried, labels, [*records, *parents])
        report(
            f"  stable ids: {carried.report['leaves_kept']} of {carried.report['leaves']} topics are the same as in the "
            f"previous index (member Jaccard >= {lineage.SAME_JACCARD}) and keep their ids; "
            f"{carried.report['documents_same_topic']:.0%} of its documents keep their topic id"
        )

    with _timed(timings, "label", report):
        gen = None
        if settings.label_topics and records:
            _release_memory()  # before the generator's weights arrive
            # not through the loader's cache: the build drops its generator after labelling (below)
            gen = generator or load_generator.__wrapped__(settings.generator, settings.cache_dir)
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
            if carried is not None and previous is not None:
                label_counts["labels_kept"] = lineage.keep_labels(carried, nodes, previous[1])
                label.make_distinct(nodes)
                label_counts["llm_labels"] = sum(t.label_source is label.LabelSource.LLM for t in nodes)
                label_counts["fallback_labels"] = len(nodes) - label_counts["llm_labels"]
    generator_id = getattr(gen, "model_id", None)
    if gen is not None and generator is None:
        del gen  # its weights (0.27-0.54 GB for the default model) are not needed for the vector index
        _release_memory()

    manifest_topics = {
        "count": len(records),
        "granularity": granularity,
        "tree": tree_info,
        "outliers_found": int(is_outlier.sum()),
        "outliers_left": int((labels == -1).sum()),
        "retrieval_only": not records,
        "clustered_documents": n,
        "placed_since_clustering": 0,
        "next_id": max([t.id for t in [*records, *parents]] + [previous[2] - 1 if previous else -1]) + 1,
    } | label_counts
    if carried is not None and previous is not None:
        manifest_topics["lineage"] = carried.report | {
            "previous_created": previous[3].get("created"),
            "previous_content_hash": previous[3].get("corpus", {}).get("content_hash"),
        }
    built = Built(vectors, labels, probabilities, is_outlier, coords, records, topic_vectors, parents, parent_vectors)
    run = Run(source, corpus, docs, embedder, generator_id, hits, timings, started, report, time_spec)
    history = [
        {
            "action": "build",
            "source": str(source),
            "documents": n,
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    ]
    return _finish(
        out,
        run,
        built,
        parameters | {"min_cluster_size_used": min_size},
        manifest_topics,
        {"history": history, "engine": runner.describe()},
    )


def _fit_sample(n: int, settings: BuildSettings) -> np.ndarray | None:
    """Rows to fit reduction and clustering on when the corpus is past `fit_sample_above` (sorted, seeded),
    else None (fit on everything)."""
    if not settings.fit_sample_above or n <= settings.fit_sample_above or settings.fit_sample_size >= n:
        return None
    rng = np.random.default_rng(settings.seed)
    return np.sort(rng.choice(n, size=settings.fit_sample_size, replace=False))


def _place_rest(
    vectors: np.ndarray,
    fit_rows: np.ndarray,
    labels: np.ndarray,
    is_outlier: np.ndarray,
    coords: np.ndarray,
    runner: engine.LocalEngine | engine.RayEngine,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Topics, outlier flags and map positions for every document: the sample's own, and for the rest the
    similarity-weighted vote and position of their 10 nearest sampled documents (as `topicchat add` places)."""
    n = len(vectors)
    rest = np.setdiff1d(np.arange(n), fit_rows)
    topic, _, xy = runner.place(vectors[fit_rows], labels, coords, vectors[rest])
    all_labels = np.full(n, -1, dtype=np.int64)
    all_outlier = np.zeros(n, dtype=bool)
    all_coords = np.zeros((n, 2), dtype=np.float32)
    all_labels[fit_rows], all_outlier[fit_rows], all_coords[fit_rows] = labels, is_outlier, coords
    all_labels[rest], all_outlier[rest], all_coords[rest] = topic, topic == -1, xy
    return all_labels, all_outlier, all_coords


def _update(
    out: Path,
    old: store.TopicIndex,
    plan: update.UpdatePlan,
    run: Run,
    vectors: np.ndarray,
    what: dict,
    parameters: dict | None = None,
) -> Path:
    """Place new documents into the old index's topic tree (no reclustering), drop removed ones, and write
    the result as the index's next generation; the manifest records the change and whether to rebuild."""
    topics_before = old.manifest.get("topics", {})
    clustered = int(topics_before.get("clustered_documents") or len(old.documents))
    placed = int(topics_before.get("placed_since_clustering") or 0) + len(plan.new_rows)
    min_size = old.manifest["parameters"].get("min_cluster_size_used") or 5
    with _timed(run.timings, "place", run.report):
        vectors, labels, probabilities, is_outlier, coords, records, topic_vectors = update.apply_update(
            old, run.docs, plan, vectors
        )
        parents, parent_vectors = tree.refresh_parents(old.parents, records, vectors, labels)
        drift = update.drift(vectors, labels, plan.new_rows, clustered, placed, int(min_size))
    if drift["new"]:
        run.report(f"  {drift['unfit']} of {drift['new']} new documents fit no topic well")
    for reason in drift["advice"]:
        run.report(f"  a full rebuild is advised: {reason} (`topicchat build ... --full`)")
    manifest_topics = dict(
        topics_before,
        count=len(records),
        outliers_left=int((labels == -1).sum()),
        clustered_documents=clustered,
        placed_since_clustering=placed,
    )
    change = {
        "from_content_hash": old.manifest["corpus"]["content_hash"],
        "added": len(plan.new_rows),
        "removed": plan.removed,
    }
    extra = {
        "update": change | {"drift": drift},
        "history": [
            *old.manifest.get("history", []),
            what
            | change
            | {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rebuild_advised": bool(drift["advice"])},
        ],
    }
    run.generator_id = old.manifest["models"].get("generator")
    built = Built(vectors, labels, probabilities, is_outlier, coords, records, topic_vectors, parents, parent_vectors)
    recorded = dict(old.manifest["parameters"])
    if parameters is not None:  # a build that updated in place records its own (run-only) parameters
        recorded = parameters | {"min_cluster_size_used": recorded.get("min_cluster_size_used")}
    return _finish(out, run, built, recorded, manifest_topics, extra, old.token_table)


def add_documents(
    out: Path | str,
    source: str,
    replace: bool = False,
    settings: BuildSettings | None = None,
    embedder: Embedder | None = None,
    report: Callable[[str], None] = _stderr,
) -> Path:
    """Add the documents of `source` to the index at `out` without reclustering: only they are embedded,
    each joins the leaf topic its nearest indexed documents vote for, and the index gets a new generation.
    A document whose id is already indexed with another text is an error unless `replace`; one already
    indexed unchanged is skipped. Columns are read as the index's manifest records them."""
    settings = settings or BuildSettings()
    with store.writing(out):
        old = store.load_index(out)
        columns = old.manifest.get("corpus", {}).get("columns", {})
        params = old.manifest.get("parameters", {})
        timings: dict[str, float] = {}
        started = time.perf_counter()
        with _timed(timings, "load", report):
            incoming = load.load_corpus(
                source,
                columns.get("text") or params.get("text_col"),
                columns.get("title") or params.get("title_col"),
                columns.get("id") or params.get("id_col"),
                None,
                int(params.get("max_doc_chars") or settings.max_doc_chars),
                params.get("on_duplicate_id") or "error",
                params.get("encoding") or "utf-8",
            )
            new = incoming.frame
            if not columns.get("id"):  # row numbers as ids: the new documents continue the count
                if replace:
                    raise TopicchatError(
                        "--replace needs document ids, and this index was built without an id column "
                        "(its ids are row numbers). Rebuild it with --id-col to replace documents by id."
                    )
                start = len(old.documents)
                new["doc_id"] = [str(start + i) for i in range(len(new))]
            base = old.documents.drop(columns=[c for c in load.DERIVED if c in old.documents.columns])
            known = dict(zip(base["doc_id"], base["text"], strict=True))
            same = new["doc_id"].map(lambda d: d in known) & (new["doc_id"].map(known.get) == new["text"])
            changed = new["doc_id"].map(lambda d: d in known) & ~same
            if changed.any() and not replace:
                named = ", ".join(repr(d) for d in new.loc[changed, "doc_id"].head(5))
                raise TopicchatError(
                    f"{int(changed.sum())} document(s) in {source} have ids the index already holds with another "
                    f"text ({named}{' and more' if changed.sum() > 5 else ''}). Pass --replace to update them, "
                    "or give them new ids. Nothing was changed."
                )
            duplicate_text = new["text"].isin(set(base["text"])) & ~new["doc_id"].isin(set(base["doc_id"]))
            new = new[~same & ~duplicate_text].reset_index(drop=True)
            report(
                f"  {len(new)} documents to add or replace ({int(same.sum())} already indexed unchanged, "
                f"{int(duplicate_text.sum())} repeat an indexed text under another id and are skipped)"
            )
            if new.empty:
                report(f"Nothing to add: the index at {out} already holds every document of {source}.")
                return Path(os.path.abspath(out))
            keep = ~base["doc_id"].isin(set(new["doc_id"]))
            docs = pd.concat([base[keep], new], ignore_index=True)
        plan = _plan_keeping(keep, len(docs))
        with _timed(timings, "embed", report):
            embedder = embedder or _index_embedder(old, settings)
            vectors, hits = embed.embed_documents(
                embedder, new["text"].tolist(), settings.cache_dir, settings.show_progress
            )
            report(f"  {hits} of {len(new)} embeddings came from the cache")
        run = _run_on(old, docs, embedder, hits, timings, started, report, incoming.rows_read)
        what = {"action": "add", "source": str(source), "replaced": int((~keep).sum())}
        return _update(Path(out), old, plan, run, vectors, what)


def remove_documents(
    out: Path | str,
    doc_ids: list[str],
    settings: BuildSettings | None = None,
    report: Callable[[str], None] = _stderr,
) -> Path:
    """Take documents out of the index at `out` by id (retracted papers): topics shrink, a topic left with no
    documents goes, nothing is reclustered. Every id must be in the index, or nothing changes."""
    settings = settings or BuildSettings()
    with store.writing(out):
        old = store.load_index(out)
        wanted = list(dict.fromkeys(str(d).strip() for d in doc_ids if str(d).strip()))
        if not wanted:
            raise TopicchatError("No document ids given: name the ids to remove, or pass --ids-file FILE.")
        base = old.documents.drop(columns=[c for c in load.DERIVED if c in old.documents.columns])
        held = set(base["doc_id"])
        unknown = [d for d in wanted if d not in held]
        if unknown:
            raise TopicchatError(
                f"{len(unknown)} of the ids are not in the index at {out}: "
                f"{', '.join(repr(d) for d in unknown[:5])}{' and more' if len(unknown) > 5 else ''}. Nothing was removed."
            )
        keep = ~base["doc_id"].isin(set(wanted))
        if not keep.any():
            raise TopicchatError(f"Removing these ids would leave the index at {out} empty; nothing was removed.")
        docs = base[keep].reset_index(drop=True)
        plan = _plan_keeping(keep, len(docs))
        embedder = _index_embedder(old, settings, load=False)
        run = _run_on(old, docs, embedder, 0, {}, time.perf_counter(), report, 0)
        empty = np.zeros((0, old.embeddings.shape[1]), dtype=np.float32)
        return _update(Path(out), old, plan, run, empty, {"action": "remove", "ids": wanted[:50]})


def _index_embedder(old: store.TopicIndex, settings: BuildSettings, load: bool = True) -> Embedder:
    """The embedder the index was built with (same model and precision), or, when nothing is to be embedded,
    a stand-in that only carries its names into the manifest."""
    from topicchat.models.registry import load_embedder

    if load:
        return load_embedder(
            old.manifest["parameters"]["embedding_model"],
            old.embedding_dtype,
            settings.cache_dir,
            old.embedding_max_tokens,
        )
    models = old.manifest["models"]

    class Recorded:
        model_id = models.get("embedder")
        name = models.get("embedder_name", old.embedder_name)
        variant = models.get("embedder_variant", "")
        dim = int(models.get("embedding_dim") or old.embeddings.shape[1])

    return Recorded()  # type: ignore[return-value]


def _plan_keeping(keep: pd.Series, total: int) -> update.UpdatePlan:
    """An update whose corpus is the old rows `keep` marks (in their order), then new rows up to `total`."""
    kept = int(keep.sum())
    return update.UpdatePlan(
        keep_rows=np.arange(kept, dtype=np.int64),
        old_rows=np.flatnonzero(keep.to_numpy()).astype(np.int64),
        new_rows=np.arange(kept, total, dtype=np.int64),
        removed=int((~keep).sum()),
    )


def _run_on(
    old: store.TopicIndex,
    docs: pd.DataFrame,
    embedder: Embedder,
    hits: int,
    timings: dict[str, float],
    started: float,
    report: Callable[[str], None],
    more_rows: int,
) -> Run:
    """The bookkeeping of an add or remove: the index's own source, columns and time spec, `more_rows` read."""
    recorded = old.manifest.get("corpus", {})
    corpus = load.Corpus(
        docs,
        str(recorded.get("source")),
        int(recorded.get("rows_read") or len(old.documents)) + more_rows,
        recorded.get("columns", {}),
        recorded.get("skipped", {}),
    )
    time_spec = old.manifest.get("time") or {"column": None}
    return Run(corpus.source, corpus, docs, embedder, None, hits, timings, started, report, time_spec)


def _previous_tree(out: Path) -> tuple[pd.DataFrame, dict[int, TopicRecord], int, dict] | None:
    """The topic tree of the index being replaced (documents' ids and topics, nodes, the next free id and its
    manifest), for stable topic ids; None when there is none or it cannot be read."""
    if not (store.index_folder(out) / "manifest.json").exists():
        return None
    try:
        manifest, documents, nodes = store.read_tree(out)
    except TopicchatError:
        return None
    if not nodes:
        return None
    next_id = int(manifest.get("topics", {}).get("next_id") or 0)
    return documents, {t.id: t for t in nodes}, next_id, manifest


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


def _finish(
    out: Path | str,
    run: Run,
    built: Built,
    parameters: dict,
    manifest_topics: dict,
    extra: dict,
    kept_tokens: tokens.TokenTable | None | bool = True,
) -> Path:
    """Search structures, then the index folder with its manifest (shared by full builds and updates).
    `kept_tokens`: an update's word-piece table, carried over (None: the old index had none); True: build it."""
    with _timed(run.timings, "ann", run.report):
        faiss_index = ann.build_faiss(built.vectors)
        lexical = ann.LexicalIndex.build((run.docs["title"] + "\n" + run.docs["text"]).tolist())
    if kept_tokens is True:
        with _timed(run.timings, "tokens", run.report):
            token_table = tokens.build_table(run.embedder, run.docs["text"].tolist(), run.report)
    else:
        token_table = kept_tokens or None

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
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "peak_rss_mb": round(_peak_rss_mb()),
            },
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
            token_table,
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


__all__ = ["build_index", "add_documents", "remove_documents", "BuildSettings", "TopicchatError"]
