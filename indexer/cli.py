"""The `topicchat` command line: a thin layer over the library; heavy imports happen inside commands."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="topicchat: build a topic index of a text corpus, then ask it questions with cited answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _guarded(fn):
    """Turn known errors into one clear paragraph and an exit code, never a traceback."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        from indexer.errors import TopicchatError
        from models.base import ModelError

        try:
            return fn(*args, **kwargs)
        except (TopicchatError, ModelError) as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written.", 130)
        except typer.Exit:
            raise
        except Exception as exc:  # last resort: still no bare traceback unless asked for
            if os.environ.get("TOPICCHAT_DEBUG"):
                raise
            _fail(f"unexpected {type(exc).__name__}: {exc}. Set TOPICCHAT_DEBUG=1 to see the traceback.", 1)

    return run


def _quiet_libraries() -> None:
    import logging
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("bertopic", "BERTopic", "sentence_transformers", "transformers", "numba", "umap"):
        logging.getLogger(name).setLevel(logging.ERROR)


Out = Annotated[Path, typer.Option("--out", "-o", help="Index folder to write (replaced atomically).")]


@app.command()
@_guarded
def build(
    source: Annotated[str, typer.Argument(help="CSV/TSV/JSONL/JSON/Parquet file, folder of .txt files, or HF data set (owner/name).")],
    out: Out = Path("index"),
    text_col: Annotated[str | None, typer.Option(help="Column with the text.")] = None,
    title_col: Annotated[str | None, typer.Option(help="Column with the title.")] = None,
    id_col: Annotated[str | None, typer.Option(help="Column with a unique id.")] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N rows.")] = None,
    embedding_model: Annotated[str | None, typer.Option(help="Embedder: hub id, folder, 'onnx:<id>', or 'fake'.")] = None,
    generator: Annotated[str | None, typer.Option(help="Label generator: 'smollm2', 'llama-cpp:<gguf>', 'transformers:<id|gguf>', 'flan-t5:<id>', 'fake'.")] = None,
    min_cluster_size: Annotated[int | None, typer.Option(help="HDBSCAN min_cluster_size (default: sized to the corpus).")] = None,
    no_labels: Annotated[bool, typer.Option("--no-labels", help="Skip LLM labels; keyword labels only.")] = False,
    no_summaries: Annotated[bool, typer.Option("--no-summaries", help="Skip the per-topic LLM summaries.")] = False,
    keep_outliers: Annotated[bool, typer.Option("--keep-outliers", help="Do not assign outliers to near topics.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Recluster from scratch instead of updating an existing index in place.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    cache_dir: Annotated[Path | None, typer.Option(help="Embedding cache folder.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Build an index folder from a corpus (embed, cluster, name topics, index for search)."""
    _quiet_libraries()
    from indexer.pipeline import build_index
    from indexer.settings import BuildSettings

    given = {
        "text_col": text_col, "title_col": title_col, "id_col": id_col, "limit": limit,
        "embedding_model": embedding_model, "generator": generator, "min_cluster_size": min_cluster_size,
        "cache_dir": cache_dir,
    }
    settings = BuildSettings(
        **{k: v for k, v in given.items() if v is not None},
        label_topics=not no_labels,
        summaries=not no_summaries,
        reduce_outliers=not keep_outliers,
        full_rebuild=full,
        seed=seed,
        show_progress=not quiet,
    )
    build_index(source, out, settings)


def _topic_rows(index) -> list[dict]:
    return [
        {
            "id": t.id,
            "size": t.size,
            "label": t.label,
            "label_source": t.label_source,
            "keywords": [w for w, _ in (t.keywords.get("keybert") or t.keywords.get("ctfidf") or [])][:8],
            "summary": t.summary,
        }
        for t in index.topics
    ]


def print_topic_table(index) -> None:
    """The topic table: id, size, label, keywords."""
    rows = _topic_rows(index)
    outliers = int((index.documents["topic"] == -1).sum())
    typer.echo(f"{len(index.documents)} documents, {len(rows)} topics, {outliers} outliers")
    typer.echo(f"{'id':>4}  {'size':>5}  {'label':<42}  keywords")
    for r in rows:
        typer.echo(f"{r['id']:>4}  {r['size']:>5}  {r['label'][:42]:<42}  {', '.join(r['keywords'][:5])}")


@app.command()
@_guarded
def topics(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the topic table of an index: id, size, label, keywords."""
    from indexer.store import load_index

    index = load_index(index_dir)
    if as_json:
        typer.echo(json.dumps(_topic_rows(index), indent=2))
    else:
        print_topic_table(index)


@app.command()
@_guarded
def ask(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    question: Annotated[str, typer.Argument(help="The question.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: answer, topics, citations.")] = False,
    generator: Annotated[str | None, typer.Option(help="Generator for the prose ('none' for facts only); default: the index's.")] = None,
) -> None:
    """Answer a question from an index, routed to topics, with citations."""
    _quiet_libraries()
    from app.answer import Assistant

    assistant = Assistant.open(index_dir, generator=generator)
    answer = assistant.ask(question)
    if as_json:
        typer.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
        return
    typer.echo(answer.text)
    if answer.citations:
        typer.echo("\nSources:")
        for c in answer.citations:
            typer.echo(f"  [{c.n}] {c.title} (id {c.doc_id}, topic {c.topic})")
    if not answer.matched:
        raise typer.Exit(3)


@app.command()
@_guarded
def demo(
    out: Out = Path("demo-index"),
    serve_app: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the chat app afterwards.")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 7860,
) -> None:
    """Build an index of 314 arXiv NLP abstracts (carried by the `cherche` package) offline, and ask it."""
    _quiet_libraries()
    from app.answer import Assistant
    from indexer.errors import TopicchatError
    from indexer.pipeline import build_index
    from indexer.settings import BuildSettings
    from indexer.store import load_index
    from models.catalog import demo_corpus_path

    corpus = demo_corpus_path()
    if corpus is None:
        raise TopicchatError("The demo corpus is not installed: pip install --no-deps cherche==2.2.1")
    settings = BuildSettings(text_col="arxiv_summary", title_col="arxiv_title", id_col="arxiv_num")
    build_index(str(corpus), out, settings)
    print_topic_table(load_index(out))
    question = "what topics cover question answering?"
    typer.echo(f"\n> {question}\n")
    answer = Assistant.open(out).ask(question)
    typer.echo(answer.text)
    if serve_app:
        _serve(out, "127.0.0.1", port)


def _serve(index_dir: Path, host: str, port: int) -> None:
    from app.ui import launch

    launch(index_dir, host=host, port=port)


@app.command()
@_guarded
def serve(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    host: Annotated[str, typer.Option(help="Interface to bind (localhost by default; set TOPICCHAT_PASSWORD before binding elsewhere).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
) -> None:
    """Start the chat app (Gradio) on an index."""
    _quiet_libraries()
    _serve(index_dir, host, port)


eval_app = typer.Typer(help="Evaluate an index: clustering, topic quality, retrieval, self-retrieval.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _report(report, as_json: bool) -> None:
    typer.echo(json.dumps(report.to_json(), indent=2) if as_json else report.table())


@eval_app.command("clustering")
@_guarded
def eval_clustering(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    label_col: Annotated[str, typer.Option(help="Corpus column with gold labels.")] = "label",
    as_json: AsJson = False,
) -> None:
    """NMI and ARI of the topics against a label column, outlier share, number of topics."""
    from app.evaluate import evaluate_clustering

    _report(evaluate_clustering(index_dir, label_col), as_json)


@eval_app.command("topics")
@_guarded
def eval_topics(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    store: Annotated[bool, typer.Option("--store/--no-store", help="Write per-topic quality into the index.")] = True,
    as_json: AsJson = False,
) -> None:
    """NPMI coherence (top-10 words, against the corpus) and topic diversity, per topic and overall."""
    from app.evaluate import store_quality, topic_quality

    report = topic_quality(index_dir)
    if store:
        store_quality(index_dir, report)
    _report(report, as_json)


@eval_app.command("retrieval")
@_guarded
def eval_retrieval(
    beir_dir: Annotated[Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels.tsv.")],
    embedding_model: Annotated[str, typer.Option(help="Embedder config string.")] = "sentence-transformers/all-MiniLM-L6-v2",
    as_json: AsJson = False,
) -> None:
    """nDCG@10, recall@10/100 and MRR of topicchat's hybrid search vs BM25 and dense-only."""
    _quiet_libraries()
    from app.evaluate import evaluate_retrieval
    from indexer.settings import default_cache_dir

    _report(evaluate_retrieval(beir_dir, embedding_model, cache_dir=default_cache_dir()), as_json)


@eval_app.command("self-retrieval")
@_guarded
def eval_self_retrieval(
    index_dir: Annotated[Path, typer.Argument(help="Index folder (its documents need titles).")],
    sample: Annotated[int | None, typer.Option(help="Use a random sample of N titles.")] = None,
    fields: Annotated[
        str, typer.Option(help="BM25 over 'text' alone (titles not indexed: the default) or 'as-built' (title + text).")
    ] = "text",
    as_json: AsJson = False,
) -> None:
    """Title -> own document: recall@1, recall@10 and MRR for topicchat, BM25 and dense."""
    _quiet_libraries()
    from app.evaluate import evaluate_self_retrieval

    _report(evaluate_self_retrieval(index_dir, sample=sample, fields=fields), as_json)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="topicchat")


if __name__ == "__main__":
    sys.exit(main())
