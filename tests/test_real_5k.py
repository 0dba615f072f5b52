"""Slow tests on 5,000 real arXiv abstracts with the real offline models: topics do not collapse, the
tree holds, and questions naming a subject route to a topic about it with cited documents.

One index is built per session (embeddings ~2-5 minutes on 2 cores, depending on the CPU) and shared."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytestmark = pytest.mark.slow

# (question, what a topic about it names in its label or keywords); subjects the corpus covers.
SUBJECTS = [
    ("what topics cover machine translation?", r"translat"),
    ("which topics discuss speech recognition?", r"speech|asr|audio"),
    ("what topics cover question answering?", r"question|answer|\bqa\b"),
    ("which topics are about hallucination?", r"hallucinat"),
    ("what topics cover code generation?", r"\bcode\b|program"),
    ("which topics discuss mathematical reasoning?", r"math|reasoning"),
]


@pytest.fixture(scope="session")
def arxiv_5k(tmp_path_factory, shared_data):
    from topicchat import api
    from topicchat.indexer.settings import BuildSettings

    root = tmp_path_factory.mktemp("arxiv5k")
    settings = BuildSettings(
        text_col="abstract",
        title_col="title",
        id_col="id",
        limit=5000,
        # Keyword labels here: LLM labels are checked on 300 abstracts (test_real_models) and measured at
        # 1k-10k in benchmarks/granularity.py; this index checks granularity, the tree and routing.
        label_topics=False,
        cache_dir=root / "cache",
        show_progress=False,
    )
    path = api.build(
        str(shared_data / "corpora" / "arxiv_cscl.parquet"), root / "index", settings, report=lambda _m: None
    )
    return api.open_assistant(path)


def test_topics_do_not_collapse_and_form_a_tree(arxiv_5k):
    index = arxiv_5k.index
    leaf = index.documents.topic.to_numpy()
    sizes = np.bincount(leaf[leaf >= 0])
    assert len(index.topics) >= 8
    assert sizes.max() <= 0.10 * len(leaf), f"largest leaf holds {sizes.max()} of {len(leaf)}"
    assert (leaf == -1).mean() <= 0.10
    assert index.levels >= 2 and all(len(p.children) >= 2 for p in index.parents)
    labels = [t.label.lower() for t in index.nodes.values()]
    assert len(set(labels)) == len(labels), "no two topics share a label"
    assert not any(t.label.count(",") >= 2 for t in index.nodes.values()), "no keyword-list labels"
    assert not any("," in t.label for t in index.nodes.values()), "keyword labels are phrases, not lists"


@pytest.mark.parametrize(("question", "subject"), SUBJECTS)
def test_a_subject_routes_to_a_topic_about_it_with_cited_documents(arxiv_5k, question, subject):
    pattern = re.compile(subject, re.IGNORECASE)
    answer = arxiv_5k.ask(question)
    nodes = arxiv_5k.index.nodes
    assert answer.matched and answer.topics
    named = [
        t.id
        for t in answer.topics[:3]
        if pattern.search(nodes[t.id].label + " " + " ".join(nodes[t.id].top_keywords(10)))
    ]
    assert named, [(t.id, nodes[t.id].label, nodes[t.id].top_keywords(5)) for t in answer.topics]
    docs = arxiv_5k.index.documents.set_index("doc_id")
    assert answer.citations and all(c.doc_id in docs.index for c in answer.citations)
    about = sum(
        bool(pattern.search(docs.loc[c.doc_id, "title"] + " " + docs.loc[c.doc_id, "text"])) for c in answer.citations
    )
    assert about >= 3, [c.title for c in answer.citations]
    assert " > " in answer.text, "leaves are shown with their path in the tree"


def test_main_areas_question_shows_the_top_level(arxiv_5k):
    answer = arxiv_5k.ask("what are the main areas?")
    top = arxiv_5k.index.top_level()
    assert answer.intent == "list_topics" and f"grouped into {len(top)} areas" in answer.text
    assert all(f"Topic {t.id}: {t.label}" in answer.text for t in top)
