"""The chat app without a browser: the streaming `respond` handler, topic browser, plots and `launch`."""

from __future__ import annotations

import dataclasses
import html
import os
import re
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest

from tests.ui_helpers import XSS_DOC_ID, XSS_QUESTION, msg_text, msg_title, shared_index
from topicchat.app.answer import Assistant, Conversation
from topicchat.app.plots import (
    HIGHLIGHT_NAME,
    OUTLIER_COLOUR,
    OUTLIER_NAME,
    document_map,
    topic_heatmap,
    trend_figure,
)
from topicchat.app.settings import ServeSettings
from topicchat.app.ui import TopicChatUI, create_app, launch, md_safe
from topicchat.indexer.errors import TopicchatError

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    return shared_index(tmp_path_factory)


@pytest.fixture(scope="module")
def assistant(index_path) -> Assistant:
    return Assistant.open(index_path)


@pytest.fixture(scope="module")
def ui(assistant) -> TopicChatUI:
    return TopicChatUI(assistant)


def ask(ui: TopicChatUI, question: str, conv: Conversation, history: list | None = None) -> tuple[list, list]:
    """Drive `respond` to the end; returns (a (title, text, status) snapshot of every yield, the final history)."""
    steps, final = [], []
    for final in ui.respond(question, history or [], conv):
        steps.append([(msg_title(m), msg_text(m), (getattr(m, "metadata", None) or {}).get("status")) for m in final])
    return steps, final


def last_turn(history: list) -> dict[str, str]:
    """The blocks of the last answer by title: Routing, Sources and the plain answer ('answer')."""
    turn: dict[str, str] = {}
    for message in reversed(history):
        role = message.role if hasattr(message, "role") else message["role"]
        if role == "user":
            break
        turn[msg_title(message) or "answer"] = msg_text(message)
    return {k.split(" (")[0]: v for k, v in turn.items()}


def cited(ui: TopicChatUI, sources: str) -> list[tuple[int, str]]:
    """(n, doc_id) pairs listed in a Sources block."""
    pairs = re.findall(r"\*\*\[(\d+)\]\*\*.*?· id: (\S+) ·", sources, flags=re.S)
    return [(int(n), doc_id) for n, doc_id in pairs]


def topic_of(ui: TopicChatUI, doc_id: str) -> int:
    return int(ui.index.documents["topic"].iat[ui.index.row_of(doc_id)])


def test_answer_streams_with_routing_and_sources(ui):
    conv = Conversation()
    steps, history = ask(ui, "which papers discuss speech recognition?", conv)
    assert len(steps) >= 3
    assert steps[0] == [(None, "which papers discuss speech recognition?", None)]
    assert steps[1][1:] == [("Routing", "Routing the question…", "pending"), (None, "", None)]
    assert any(s[1:2] == [("Routing", s[1][1], "pending")] and "Chosen topics" in s[1][1] for s in steps[2:])
    turn = last_turn(history)
    assert set(turn) == {"Routing", "answer", "Sources"}
    assert [msg_title(m) for m in history[-3:]][0] == "Routing"
    assert history[-3].metadata["status"] == "done" and history[-1].metadata["status"] == "done"
    speech_topic = topic_of(ui, "speech-0")
    label = ui.topics[speech_topic].label
    assert f"**Topic {speech_topic}**: {label} (score " in turn["Routing"]
    assert f"{ui.topics[speech_topic].size} documents)" in turn["Routing"]
    assert turn["Routing"].count("Coverage:") == 1 and "Coverage:" not in turn["answer"]
    pairs = cited(ui, turn["Sources"])
    assert pairs and [n for n, _ in pairs] == list(range(1, len(pairs) + 1))
    doc_ids = set(ui.index.documents["doc_id"])
    for n, doc_id in pairs:
        assert doc_id in doc_ids
        title = ui.index.documents["title"].iat[ui.index.row_of(doc_id)]
        assert f"**[{n}]** {title}" in turn["Sources"]
        assert f"Full abstract [{n}]</summary>" in turn["Sources"]
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", turn["answer"])}
    assert numbers and numbers <= {n for n, _ in pairs}
    assert [c.doc_id for c in conv.last_citations] == [d for _, d in pairs]


def test_follow_up_restricts_to_previous_topics(ui):
    conv = Conversation()
    _, history = ask(ui, "which papers discuss speech recognition?", conv)
    previous = list(conv.last_topics)
    assert topic_of(ui, "speech-0") in previous
    _, history = ask(ui, "and which of those use ranking?", conv, history)
    turn = last_turn(history)
    assert f"Restricted to topic(s) {', '.join(map(str, sorted(previous)))} (a follow-up" in turn["Routing"]
    assert all(topic_of(ui, d) in previous for _, d in cited(ui, turn.get("Sources", "")))
    # the same question in a fresh conversation goes to the retrieval topic instead
    _, fresh = ask(ui, "which papers use ranking?", Conversation())
    assert {d.split("-")[0] for _, d in cited(ui, last_turn(fresh)["Sources"])} == {"retrieval"}


def test_use_topic_focuses_and_clears(ui):
    conv = Conversation()
    target = topic_of(ui, "retrieval-0")
    _, history = ask(ui, f"use topic {target}", conv)
    assert conv.focus == [target]
    assert f"topic {target}" in last_turn(history)["answer"]
    _, history = ask(ui, "which papers discuss ranking and recall?", conv, history)
    turn = last_turn(history)
    assert "(the topic focus)" in turn["Routing"]
    assert cited(ui, turn["Sources"]) and all(topic_of(ui, d) == target for _, d in cited(ui, turn["Sources"]))
    ask(ui, "use all topics", conv, history)
    assert conv.focus == []


def test_use_topic_button_sets_focus(ui):
    conv = Conversation()
    target = ui.index.topics[-1].id
    history, state, tabs = ui.use_topic(target, [], conv)
    assert state is conv and conv.focus == [target]
    assert "search only topic" in msg_text(history[-1])
    assert isinstance(tabs, gr.Tabs) and tabs.selected == "chat"
    with pytest.warns(UserWarning, match="Select a topic"):
        history, state, tabs = ui.use_topic(None, [], Conversation())
    assert history == [] and state.focus == []


def test_html_in_documents_is_escaped(ui):
    conv = Conversation()
    _, history = ask(ui, XSS_QUESTION, conv)
    turn = last_turn(history)
    assert XSS_DOC_ID in [d for _, d in cited(ui, turn["Sources"])]
    for text in turn.values():
        assert "<script" not in text and "<img" not in text and 'onerror="' not in text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in turn["Sources"]
    assert "&lt;img src=x onerror=&quot;window.__xss2=1&quot;&gt;" in turn["Sources"]
    assert "&lt;script&gt;" in turn["answer"]
    note = ui.map_note(conv)
    assert "<script" not in note and "&lt;script&gt;" in note


def test_user_text_and_markdown_images_are_neutralised(ui):
    _, history = ask(ui, "<b>hi</b> ![x](http://example.invalid/p.png)", Conversation())
    user = msg_text(history[0])
    assert "<b>" not in user and "&lt;b&gt;" in user and "![" not in user


@pytest.mark.parametrize(
    "text",
    [
        "[login](https://evil.invalid/a)",
        "[1](https://evil.invalid/a)",
        "[1]: https://evil.invalid/a",
        "see https://evil.invalid/a",
        "see www.evil.invalid",
        "mail spy@evil.invalid",
        "![x](https://evil.invalid/p.png)",
    ],
)
def test_markdown_links_and_urls_from_documents_stay_text(text):
    """What a renderer needs for a link or an autolink is gone: an unescaped ']('/']:', '://', 'www.' or
    '@' (the browser test checks the rendered page has no such link)."""
    safe = md_safe(text)
    assert not re.search(r"(?<!\\)\](\(|:)", safe), safe
    assert not re.search(r"[a-z]://", safe) and "www." not in safe and not re.search(r"(?<!\\)@", safe), safe


def test_citations_keep_their_brackets():
    assert md_safe("as shown [1] and [12].") == "as shown [1] and [12]."


def test_failure_is_shown_in_chat(assistant, monkeypatch):
    ui = TopicChatUI(assistant)

    def broken(question, conversation=None):
        raise RuntimeError("<boom>")
        yield  # pragma: no cover

    monkeypatch.setattr(ui.assistant, "stream", broken)
    _, history = ask(ui, "anything", Conversation())
    assert "answering failed (RuntimeError: &lt;boom&gt;)" in msg_text(history[-1])


def test_after_answer_highlights_and_map_intent_switches_tab(ui):
    conv = Conversation()
    ask(ui, "which papers discuss speech recognition?", conv)
    fig, shown, tab, note = ui.after_answer("which papers discuss speech recognition?", conv, ())
    ids = tuple(c.doc_id for c in conv.last_citations)
    assert shown == ids and "[1]" in note
    highlight = [t for t in fig.data if t.name == HIGHLIGHT_NAME]
    assert len(highlight) == 1 and set(highlight[0].customdata) == set(ids)
    assert not isinstance(tab, gr.Tabs)  # no tab switch for an ordinary question
    _, history = ask(ui, "show the map", conv)
    assert "document map" in last_turn(history)["answer"]
    _, _, tab, _ = ui.after_answer("show the map", conv, ids)
    assert isinstance(tab, gr.Tabs) and tab.selected == "map"


def test_topic_browser(ui):
    table = ui.topic_table()
    assert list(table.columns) == ["id", "label", "size", "keywords"]
    assert len(table) == len(ui.index.nodes), "every node of the tree, parents and leaves"
    assert table[table.id.isin([t.id for t in ui.index.topics])]["size"].sum() <= len(ui.index.documents)
    top = ui.index.top_level()[0]
    rows = table["id"].tolist()
    assert rows.index(top.children[0]) == rows.index(top.id) + 1, "a subtopic follows its parent"
    topic = ui.index.topics[0]
    detail = ui.topic_detail(topic.id)
    assert f"Topic {topic.id}: {topic.label}" in detail and f"{topic.size} documents" in detail
    for name in ("c-TF-IDF", "KeyBERTInspired", "MMR"):
        assert f"- {name}: " in detail
    for doc_id in topic.representative_doc_ids:
        assert f"(id {doc_id})</summary>" in detail
    assert "There is no topic 999" in ui.topic_detail(999)
    assert "Select a topic" in ui.topic_detail(None)
    text, tid = ui.select_topic(SimpleNamespace(row_value=[topic.id, topic.label, topic.size, ""]))
    assert tid == topic.id and text == detail


def test_create_app_builds_blocks(assistant):
    demo = create_app(assistant)
    assert isinstance(demo, gr.Blocks)
    chatbots = [b for b in demo.blocks.values() if isinstance(b, gr.Chatbot)]
    assert len(chatbots) == 1 and chatbots[0].elem_id == "chatbot" and chatbots[0].sanitize_html
    assert {b.elem_id for b in demo.blocks.values() if isinstance(b, gr.Plot)} == {"doc-map", "topic-heatmap"}


def test_document_map_points_outliers_and_highlight(assistant):
    index = assistant.index
    docs = index.documents.copy()
    docs.loc[docs.index[:4], "topic"] = -1
    n_outliers = int((docs.topic == -1).sum())
    with_outliers = dataclasses.replace(index, documents=docs)
    fig = document_map(with_outliers)
    points = [d for t in fig.data if t.meta == "documents" for d in t.customdata]
    assert sorted(points) == sorted(docs["doc_id"])
    outliers = [t for t in fig.data if t.name == OUTLIER_NAME]
    assert len(outliers) == 1 and outliers[0].marker.color == OUTLIER_COLOUR and len(outliers[0].x) == n_outliers
    assert all(t.marker.color != OUTLIER_COLOUR for t in fig.data if t.name != OUTLIER_NAME)
    assert not any(t.meta == "highlight" for t in fig.data)
    cited_ids = [XSS_DOC_ID, docs["doc_id"].iat[10]]
    fig = document_map(with_outliers, cited_ids)
    (highlight,) = [t for t in fig.data if t.meta == "highlight"]
    assert sorted(highlight.customdata) == sorted(cited_ids)
    assert highlight.marker.size > max(t.marker.size for t in fig.data if t.meta == "documents")
    hover = " ".join(h for t in fig.data for h in t.text)
    assert "<script" not in hover and "&lt;script&gt;" in hover


def test_topic_heatmap_is_square(assistant):
    index = assistant.index
    fig = topic_heatmap(index)
    (heat,) = fig.data
    z = np.asarray(heat.z)
    n = len(index.topics)
    assert z.shape == (n, n) and len(heat.x) == len(heat.y) == n
    assert np.allclose(np.diag(z), 1.0, atol=1e-5) and np.allclose(z, z.T)
    assert heat.x[0].startswith(f"{index.topics[0].id}: ")
    empty = dataclasses.replace(
        index, topics=[], topic_embeddings=np.zeros((0, index.topic_embeddings.shape[1])), parents=[]
    )
    assert len(topic_heatmap(empty).data) == 0


def test_launch_missing_index_raises_unchanged(tmp_path):
    from topicchat import api

    with pytest.raises(TopicchatError, match="There is no index at"):
        api.serve(tmp_path / "nowhere", block=False)


@pytest.fixture
def captured_launch(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: calls.append(kw))
    return calls


def test_launch_auth_and_warning(assistant, captured_launch, capsys):
    launch(assistant, ServeSettings(host="0.0.0.0", port=7999))
    assert captured_launch[-1]["auth"] is None and captured_launch[-1]["server_name"] == "0.0.0.0"
    assert captured_launch[-1]["server_port"] == 7999
    assert "without a password" in capsys.readouterr().err
    launch(assistant, ServeSettings(host="0.0.0.0", password="s3cret"))
    assert captured_launch[-1]["auth"] == ("topicchat", "s3cret")
    assert "without a password" not in capsys.readouterr().err
    launch(assistant, ServeSettings(user="alice", password="s3cret"))
    assert captured_launch[-1]["auth"] == ("alice", "s3cret") and captured_launch[-1]["server_name"] == "127.0.0.1"
    launch(assistant, ServeSettings(host="localhost"))
    assert "without a password" not in capsys.readouterr().err


def test_app_for_an_index_without_topics(assistant):
    index = assistant.index
    docs = index.documents.copy()
    docs["topic"] = -1
    bare = dataclasses.replace(
        index, documents=docs, topics=[], topic_embeddings=np.zeros((0, index.topic_embeddings.shape[1])), parents=[]
    )
    services = Assistant(bare, assistant.retriever.embedder, None)
    ui = TopicChatUI(services)
    assert ui.topic_table().empty and "no topic 0" in ui.topic_detail(0)
    assert ui.examples() == ["list topics", "show the map"]
    fig = document_map(bare)
    assert [t.name for t in fig.data] == [OUTLIER_NAME] and len(fig.data[0].x) == len(docs)
    assert isinstance(create_app(services), gr.Blocks)


@pytest.fixture(scope="module")
def dated_ui(tmp_path_factory) -> TopicChatUI:
    from tests.ui_helpers import shared_dated_index

    return TopicChatUI(Assistant.open(shared_dated_index(tmp_path_factory)))


def test_a_trend_answer_shows_its_plot_in_the_chat(dated_ui):
    _, history = ask(dated_ui, "which topics grew in the last three months?", Conversation())
    plots = [m for m in history if isinstance(getattr(m, "content", None), gr.Plot)]
    assert len(plots) == 1
    # the figure draws one line per topic of the answer, over every month, with the counted values
    chart = dated_ui.assistant.ask("which topics grew in the last three months?").chart
    figure = trend_figure(chart)
    assert [t.name for t in figure.data] == [html.escape(n, quote=False) for n in chart.series]
    assert list(figure.data[0].x) == chart.periods
    assert list(figure.data[0].y) == next(iter(chart.series.values()))
    _, history = ask(dated_ui, "list topics", Conversation())  # no figures, no plot
    assert not [m for m in history if isinstance(getattr(m, "content", None), gr.Plot)]


def test_the_topic_tree_nests_every_node_and_escapes_labels(dated_ui):
    index = dated_ui.index
    tree = dated_ui.topic_tree_html()
    for node in index.nodes.values():
        assert f'data-topic="{node.id}"' in tree
    assert tree.count("<details") == len(index.parents)  # a parent expands, a leaf does not
    original = index.topics[0]
    try:
        index.topics[0] = dataclasses.replace(original, label='<img src=x onerror="alert(1)">')
        tree = dated_ui.topic_tree_html()
        assert "<img" not in tree and "&lt;img src=x" in tree
    finally:
        index.topics[0] = original


def test_the_map_colours_by_any_level_of_the_tree_and_hovers_the_path(dated_ui):
    index = dated_ui.index
    levels = dated_ui.map_levels()
    assert [lv for _, lv in levels] == list(range(index.levels)) and index.levels >= 2
    leaves = document_map(index, (), 0)
    areas = dated_ui.recolour(1, Conversation())
    names = lambda fig: {t.name for t in fig.data} - {OUTLIER_NAME}  # noqa: E731
    assert len(names(leaves)) == len(index.topics)
    assert len(names(areas)) == sum(1 for t in index.parents if t.level == 1)
    # every document keeps its place; the hover names its path from the top of the tree
    assert sum(len(t.x) for t in areas.data) == len(index.documents)
    leaf = index.topics[0]
    parent = index.nodes[leaf.parent]
    assert any(
        f"{parent.label} &gt; {leaf.label}" in h or f"{parent.label} > {leaf.label}" in h
        for t in areas.data
        for h in t.text
    )


def test_the_server_follows_a_rebuilt_index_and_finishes_answers_in_flight(tmp_path):
    from tests.ui_helpers import make_rows, write_corpus
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings

    def build(rows) -> None:
        source = write_corpus(tmp_path / "corpus.csv", rows)
        settings = BuildSettings(
            embedding_model="fake",
            generator="fake",
            cache_dir=tmp_path / "cache",
            show_progress=False,
            min_cluster_size=5,
        )
        build_index(
            str(source), tmp_path / "idx", settings.model_copy(update={"full_rebuild": True}), report=lambda _m: None
        )

    small, large = make_rows(per_theme=20, xss=False), make_rows(per_theme=30, xss=False)
    build(small)
    root = tmp_path / "idx"
    ui = TopicChatUI(Assistant.open(root), reopen=lambda: Assistant.open(root), root=root)
    _, history = ask(ui, "list topics", Conversation())
    assert f"holds {len(small)} documents" in last_turn(history)["answer"]
    in_flight = ui.respond("list topics", [], Conversation())
    next(in_flight)  # the answer has started on the old generation
    build(large)
    finished = list(in_flight)[-1]
    assert f"holds {len(small)} documents" in last_turn(finished)["answer"]
    _, history = ask(ui, "list topics", Conversation())
    assert f"holds {len(large)} documents" in last_turn(history)["answer"]
    assert ui.index.path.parent == root and len(ui.index.documents) == len(large)
