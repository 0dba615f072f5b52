"""The `topicchat` command line: the composition root above the layers.

It reads the settings once (`topicchat.config`), turns options into them, and calls `topicchat.api`
or `topicchat.evaluate`. Heavy libraries load inside the commands, so `topicchat --help` is instant.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from topicchat.config import Settings
    from topicchat.indexer.store import TopicIndex

app = typer.Typer(
    help="topicchat: build a topic index of a text corpus, then ask it questions with cited answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
F = TypeVar("F", bound=Callable[..., Any])
_state: dict[str, Any] = {"config": None, "debug": False}


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _guarded(fn: F) -> F:
    """Turn known errors into one clear paragraph and an exit code, never a traceback."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from pydantic import ValidationError

        from topicchat.indexer.errors import TopicchatError
        from topicchat.models.base import ModelError

        try:
            return fn(*args, **kwargs)
        except (TopicchatError, ModelError) as exc:
            _fail(str(exc))
        except ValidationError as exc:  # an option out of range, e.g. --limit 0
            problems = "; ".join(
                f"--{str(e['loc'][-1]).replace('_', '-') if e['loc'] else 'option'}: {e['msg']}" for e in exc.errors()
            )
            _fail(f"invalid option: {problems}.")
        except BrokenPipeError:  # `topicchat topics idx | head -1`: the reader left; nothing to report
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written.", 130)
        except typer.Exit:
            raise
        except Exception as exc:  # last resort: still no bare traceback unless asked for
            if _state["debug"]:
                raise
            _fail(f"unexpected {type(exc).__name__}: {exc}. Set TOPICCHAT_DEBUG=1 to see the traceback.", 1)

    return run  # type: ignore[return-value]


def _settings(**given: Any) -> Settings:
    """The settings, read once per command: options given here, TOPICCHAT_* variables, topicchat.toml."""
    from topicchat.config import load_settings

    settings = load_settings(_state["config"], **given)
    _state["debug"] = settings.debug
    return settings


def _quiet_libraries() -> None:
    import logging
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("bertopic", "BERTopic", "sentence_transformers", "transformers", "numba", "umap"):
        logging.getLogger(name).setLevel(logging.ERROR)


@app.callback()
def main_options(
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (TOML); default: ./topicchat.toml when present.")
    ] = None,
) -> None:
    """topicchat: build a topic index of a text corpus, then ask it questions with cited answers."""
    _state["config"] = config


Out = Annotated[Path, typer.Option("--out", "-o", help="Index folder to write (replaced atomically).")]
IndexDir = Annotated[Path, typer.Argument(help="Index folder.")]
GeneratorOption = Annotated[
    str | None,
    typer.Option(
        help="Generator for the prose ('none' for facts only; 'openai:<model>@<url>' for a local LLM server); "
        "default: the index's."
    ),
]


@app.command()
@_guarded
def build(
    source: Annotated[
        str, typer.Argument(help="CSV/TSV/JSONL/JSON/Parquet file, folder of .txt files, or HF data set (owner/name).")
    ],
    out: Out = Path("index"),
    text_col: Annotated[str | None, typer.Option(help="Column with the text.")] = None,
    title_col: Annotated[str | None, typer.Option(help="Column with the title.")] = None,
    id_col: Annotated[str | None, typer.Option(help="Column with a unique id.")] = None,
    time_col: Annotated[
        str | None, typer.Option(help="Column of dates or years for topics over time (guessed; 'none': off).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N rows.")] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding of CSV/TSV/JSON(L) files (default utf-8; e.g. latin-1).")
    ] = None,
    on_duplicate_id: Annotated[
        str | None,
        typer.Option(help="Two documents with one id: 'error' (default, names them) or 'keep-first'."),
    ] = None,
    embedding_model: Annotated[
        str | None, typer.Option(help="Embedder: hub id, folder, 'onnx:<id>', or 'fake'.")
    ] = None,
    generator: Annotated[
        str | None,
        typer.Option(
            help="Label generator: 'smollm2', 'llama-cpp:<gguf>', 'transformers:<id|gguf>', 'flan-t5:<id>', "
            "'openai:<model>@<url>', 'fake'."
        ),
    ] = None,
    min_cluster_size: Annotated[
        int | None, typer.Option(help="HDBSCAN min_cluster_size (default: sized to the corpus).")
    ] = None,
    no_labels: Annotated[bool, typer.Option("--no-labels", help="Skip LLM labels; keyword labels only.")] = False,
    no_summaries: Annotated[bool, typer.Option("--no-summaries", help="Skip the per-topic LLM summaries.")] = False,
    keep_outliers: Annotated[
        bool, typer.Option("--keep-outliers", help="Do not assign outliers to near topics.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Recluster from scratch instead of updating an existing index in place.")
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 42).")] = None,
    cache_dir: Annotated[Path | None, typer.Option(help="Embedding cache folder.")] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="Where embedding and placement run: 'local' (default) or 'ray' (the ray extra)."),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster for --engine ray: 'auto', 'host:6379', 'ray://host:10001' (default: start one)."
        ),
    ] = None,
    ray_actors: Annotated[int | None, typer.Option(help="Embedding actors on the Ray cluster (default 2).")] = None,
    ray_cpus_per_actor: Annotated[
        float | None, typer.Option(help="CPUs reserved per Ray actor, fractions allowed (default 1).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Build an index folder from a corpus (embed, cluster, name topics, index for search)."""
    _quiet_libraries()
    from topicchat import api

    settings = _settings().build_settings(
        text_col=text_col,
        title_col=title_col,
        id_col=id_col,
        time_col=time_col,
        limit=limit,
        encoding=encoding,
        on_duplicate_id=on_duplicate_id,
        embedding_model=embedding_model,
        generator=generator,
        min_cluster_size=min_cluster_size,
        cache_dir=cache_dir,
        seed=seed,
        label_topics=False if no_labels else None,
        summaries=False if no_summaries else None,
        reduce_outliers=False if keep_outliers else None,
        full_rebuild=True if full else None,
        show_progress=False if quiet else None,
        engine=engine,
        ray_address=ray_address,
        ray_actors=ray_actors,
        ray_cpus_per_actor=ray_cpus_per_actor,
    )
    api.build(source, out, settings)


def print_topic_table(index: TopicIndex) -> None:
    """The topic table: id, size, label, keywords; the tree's levels indented, top level first."""
    from topicchat import api

    rows = {r["id"]: r for r in api.topic_rows(index)}
    outliers = int((index.documents["topic"] == -1).sum())
    areas = f" in {len(index.top_level())} areas" if index.parents else ""
    typer.echo(f"{len(index.documents)} documents, {len(index.topics)} topics{areas}, {outliers} outliers")
    typer.echo(f"{'id':>4}  {'size':>5}  {'label':<46}  keywords")

    def show(node_id: int, depth: int = 0) -> None:
        r = rows[node_id]
        label = "  " * depth + r["label"]
        typer.echo(f"{r['id']:>4}  {r['size']:>5}  {label[:46]:<46}  {', '.join(r['keywords'][:5])}")
        for child in r["children"]:
            show(child, depth + 1)

    for node in index.top_level():
        show(node.id)


@app.command()
@_guarded
def add(
    index_dir: IndexDir,
    source: Annotated[str, typer.Argument(help="File or folder with the documents to add (columns as the index's).")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Update documents whose id the index already holds with another text.")
    ] = False,
    cache_dir: Annotated[Path | None, typer.Option(help="Embedding cache folder.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Add documents to an index without reclustering: only they are embedded and placed into its topics."""
    _quiet_libraries()
    from topicchat import api

    settings = _settings().build_settings(cache_dir=cache_dir, show_progress=False if quiet else None)
    api.add(index_dir, source, replace, settings)


@app.command()
@_guarded
def remove(
    index_dir: IndexDir,
    ids: Annotated[list[str] | None, typer.Argument(help="Ids of the documents to remove.")] = None,
    ids_file: Annotated[Path | None, typer.Option(help="A file with one document id per line.")] = None,
) -> None:
    """Take documents out of an index by id (retracted papers); topics shrink, nothing is reclustered."""
    _quiet_libraries()
    from topicchat import api
    from topicchat.indexer.errors import TopicchatError

    wanted = list(ids or [])
    if ids_file is not None:
        try:
            wanted += ids_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise TopicchatError(f"Cannot read the ids file {ids_file}: {exc}") from None
    api.remove(index_dir, wanted, _settings().build_settings())


@app.command()
@_guarded
def diff(
    old: Annotated[Path, typer.Argument(help="The older index (or, alone, an index: its previous generation vs now).")],
    new: Annotated[Path | None, typer.Argument(help="The newer index.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What changed between two indexes: documents, and topics kept, grown, shrunk, split, merged, new, retired."""
    from topicchat import api

    _settings()
    report = api.diff(old, new)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    typer.echo(render_diff(report))


def render_diff(report: dict[str, Any]) -> str:
    """The diff as a reader scans it: one line of counts, then each change with sizes and examples."""
    d, t = report["documents"], report["topics"]
    lines = [
        f"{report['old']} -> {report['new']}",
        f"Documents: {d['in_both']} in both, {d['added']} added, {d['removed']} removed. "
        f"Topics: {t['old']} -> {t['new']} (same topic: member Jaccard >= {report['threshold_jaccard']}).",
        ", ".join(f"{n} {kind}" for kind, n in report["summary"].items()),
        "",
    ]
    for c in report["changes"]:
        if c["kind"] == "kept":
            continue
        ids = " + ".join(map(str, c["old"])) or "-"
        into = " + ".join(map(str, c["new"])) or "-"
        head = f"{c['kind']:>8}  {ids} -> {into}  {c['old_size']} -> {c['new_size']} docs  {c['label']}"
        if c["jaccard"] is not None:
            head += f"  (Jaccard {c['jaccard']:.2f})"
        lines.append(head)
        lines += [f"            e.g. {e}" for e in c["examples"]]
    kept = [c for c in report["changes"] if c["kind"] == "kept"]
    if kept:
        lines.append(
            f"    kept  {len(kept)} topics within {report['size_change']:.0%} of their size: "
            + ", ".join(str(c["new"][0]) for c in kept[:30])
            + (" ..." if len(kept) > 30 else "")
        )
    return "\n".join(lines)


@app.command()
@_guarded
def topics(
    index_dir: IndexDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the topic table of an index: id, size, label, keywords."""
    from topicchat import api

    _settings()  # a bad settings file is reported here too, and TOPICCHAT_DEBUG applies

    index = api.open_index(index_dir)
    if as_json:
        typer.echo(json.dumps(api.topic_rows(index), indent=2))
    else:
        print_topic_table(index)


@app.command()
@_guarded
def ask(
    index_dir: IndexDir,
    question: Annotated[str, typer.Argument(help="The question.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: answer, topics, citations.")] = False,
    generator: GeneratorOption = None,
) -> None:
    """Answer a question from an index, routed to topics, with citations."""
    _quiet_libraries()
    from topicchat import api

    settings = _settings()
    answer_settings = settings.answer_with(generator)
    answer = api.ask(index_dir, question, answer_settings, settings.retrieval, settings.cache_dir)
    if as_json:
        typer.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
        return
    typer.echo(answer.text)
    if answer.citations:
        typer.echo("\nSources:")
        for c in answer.citations:
            typer.echo(f"  [{c.n}] {c.title} (id {c.doc_id}, topic {c.topic})")
    if answer.coverage is not None:
        typer.echo(f"\n{answer.coverage.render()}")
    if not answer.matched:
        raise typer.Exit(3)


@app.command()
@_guarded
def demo(
    out: Out = Path("demo-index"),
    serve_app: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the chat app afterwards.")] = False,
    port: Annotated[int | None, typer.Option(help="Port for --serve (default 7860).")] = None,
) -> None:
    """Build an index of 314 arXiv NLP abstracts (carried by the `cherche` package) offline, and ask it."""
    _quiet_libraries()
    from topicchat import api

    settings = _settings()
    build_settings = settings.build_settings(text_col="arxiv_summary", title_col="arxiv_title", id_col="arxiv_num")
    api.build(str(api.demo_corpus()), out, build_settings)
    print_topic_table(api.open_index(out))
    question = "what topics cover question answering?"
    typer.echo(f"\n> {question}\n")
    assistant = api.open_assistant(out, settings.answer, settings.retrieval, settings.cache_dir)
    answer = assistant.ask(question)
    typer.echo(answer.text)
    if answer.coverage is not None:
        typer.echo(f"\n{answer.coverage.render()}")
    if serve_app:
        from topicchat.app.ui import launch

        serve_settings = type(settings.serve).model_validate(
            settings.serve.model_dump() | {"host": "127.0.0.1", "port": port or settings.serve.port}
        )
        launch(assistant, serve_settings)


@app.command()
@_guarded
def serve(
    index_dir: IndexDir,
    host: Annotated[
        str | None,
        typer.Option(
            help="Interface to bind (127.0.0.1 by default; set TOPICCHAT_SERVE__PASSWORD before binding elsewhere)."
        ),
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 7860).")] = None,
    generator: GeneratorOption = None,
) -> None:
    """Start the chat app (Gradio) on an index."""
    _quiet_libraries()
    from topicchat import api

    settings = _settings()
    given = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    answer_settings = settings.answer_with(generator)
    api.serve(
        index_dir,
        type(settings.serve).model_validate(settings.serve.model_dump() | given),
        answer_settings,
        settings.retrieval,
        settings.cache_dir,
    )


@app.command("config")
@_guarded
def show_config(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML-like sections.")] = False,
) -> None:
    """Show the settings in force (defaults, topicchat.toml, TOPICCHAT_* variables), secrets masked."""
    from topicchat.config import CONFIG_FILE

    settings = _settings()
    data = settings.shown()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    source = _state["config"] or (Path.cwd() / CONFIG_FILE if (Path.cwd() / CONFIG_FILE).is_file() else None)
    typer.echo(f"# settings file: {source or 'none'}; TOPICCHAT_<SECTION>__<FIELD> variables override it")
    for key, value in data.items():
        if not isinstance(value, dict):
            typer.echo(f"{key} = {json.dumps(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            typer.echo(f"\n[{key}]")
            for field, v in value.items():
                typer.echo(f"{field} = {json.dumps(v)}")


eval_app = typer.Typer(
    help="Evaluate an index: clustering, topic quality, retrieval, self-retrieval.", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _report(report: Any, as_json: bool) -> None:
    typer.echo(json.dumps(report.to_json(), indent=2) if as_json else report.table())


@eval_app.command("clustering")
@_guarded
def eval_clustering(
    index_dir: IndexDir,
    label_col: Annotated[str, typer.Option(help="Corpus column with gold labels.")] = "label",
    level: Annotated[
        int | None,
        typer.Option(help="Topic-tree level to score (0: leaves); default: the one nearest the number of labels."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """NMI and ARI of the topics against a label column, outlier share, number of topics."""
    from topicchat.evaluate import evaluate_clustering

    _report(evaluate_clustering(index_dir, label_col, level), as_json)


@eval_app.command("topics")
@_guarded
def eval_topics(
    index_dir: IndexDir,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Write per-topic quality into the index.")] = True,
    as_json: AsJson = False,
) -> None:
    """NPMI coherence (top-10 words, against the corpus) and topic diversity, per topic and overall."""
    from topicchat.evaluate import store_quality, topic_quality

    report = topic_quality(index_dir)
    if store:
        store_quality(index_dir, report)
    _report(report, as_json)


@eval_app.command("retrieval")
@_guarded
def eval_retrieval(
    beir_dir: Annotated[Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels.tsv.")],
    embedding_model: Annotated[
        str, typer.Option(help="Embedder config string.")
    ] = "sentence-transformers/all-MiniLM-L6-v2",
    as_json: AsJson = False,
) -> None:
    """nDCG@10, recall@10/100 and MRR of topicchat's hybrid search vs BM25 and dense-only."""
    _quiet_libraries()
    from topicchat.evaluate import evaluate_retrieval

    settings = _settings()
    report = evaluate_retrieval(beir_dir, embedding_model, cache_dir=settings.cache_dir, dtype=settings.embed_dtype)
    _report(report, as_json)


@eval_app.command("self-retrieval")
@_guarded
def eval_self_retrieval(
    index_dir: IndexDir,
    sample: Annotated[int | None, typer.Option(help="Use a random sample of N titles.")] = None,
    fields: Annotated[
        str, typer.Option(help="BM25 over 'text' alone (titles not indexed: the default) or 'as-built' (title + text).")
    ] = "text",
    as_json: AsJson = False,
) -> None:
    """Title -> own document: recall@1, recall@10 and MRR for topicchat, BM25 and dense."""
    _quiet_libraries()
    from topicchat.evaluate import evaluate_self_retrieval

    _report(evaluate_self_retrieval(index_dir, sample=sample, fields=fields), as_json)


@eval_app.command("answers")
@_guarded
def eval_answers(
    index_dir: IndexDir,
    questions: Annotated[
        Path, typer.Argument(help='JSONL: {"question": "...", "relevant": ["doc id", ...]} per line.')
    ],
    generator: GeneratorOption = None,
    k: Annotated[int, typer.Option(help="Citations counted for recall.")] = 5,
    as_json: AsJson = False,
) -> None:
    """Answer quality: citation recall@k and precision, share of prose sentences kept and supported, latency."""
    _quiet_libraries()
    from topicchat import api
    from topicchat.evaluate import evaluate_answers, load_answer_questions

    settings = _settings()
    wanted = load_answer_questions(questions)
    assistant = api.open_assistant(index_dir, settings.answer_with(generator), settings.retrieval, settings.cache_dir)
    _report(evaluate_answers(assistant, wanted, k), as_json)


def main() -> None:
    """Console-script entry point."""
    _state["debug"] = os.environ.get("TOPICCHAT_DEBUG", "").lower() in ("1", "true", "yes")
    app(prog_name="topicchat")


if __name__ == "__main__":
    main()
