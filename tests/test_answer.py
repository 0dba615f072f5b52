"""The assistant core over a fake-model index: intents, routing, citations, coverage."""

from __future__ import annotations

from app.answer import Conversation, check_citations, clean_prose
from app.intent import COVER, FOCUS, LIST, PAPERS, TOPIC, parse_intent


def _theme_of_topic(assistant, topic_id):
    docs = assistant.index.documents
    return docs[docs.topic == topic_id]["theme"].value_counts().index[0]


def test_intents():
    assert parse_intent("What topics cover question answering?").kind == COVER
    assert parse_intent("What topics cover question answering?").content == "question answering"
    assert parse_intent("list topics").kind == LIST
    assert parse_intent("tell me about topic 3").topic_ids == [3]
    assert parse_intent("tell me about topic 3").kind == TOPIC
    assert parse_intent("use topic 12").kind == FOCUS
    follow = parse_intent("and which of those use retrieval?")
    assert follow.kind == PAPERS and follow.follow_up and follow.content == "use retrieval"


def test_which_topics_routes_to_the_right_theme_and_cites_real_documents(assistant):
    answer = assistant.ask("which topics cover telescope galaxy nebula?")
    assert answer.matched and answer.topics
    assert _theme_of_topic(assistant, answer.topics[0].id) == "astronomy"
    ids = set(assistant.index.documents.doc_id)
    assert answer.citations and all(c.doc_id in ids for c in answer.citations)
    assert answer.citations[0].doc_id.startswith("astronomy")
    for n in range(1, len(answer.citations) + 1):
        assert answer.citations[n - 1].n == n
    assert "Coverage:" in answer.text and "documents" in answer.coverage


def test_json_shape(assistant):
    data = assistant.ask("which papers discuss flour butter oven?").to_json()
    assert set(data) >= {"answer", "topics", "citations"}
    assert {"id", "label", "score"} <= set(data["topics"][0])
    assert {"doc_id", "title", "topic"} <= set(data["citations"][0])
    assert data["citations"][0]["doc_id"].startswith("cooking")


def test_question_that_matches_nothing_says_so(assistant):
    answer = assistant.ask("zyxwv qwerty plonk")
    assert not answer.matched and answer.citations == []
    assert "Nothing in this index matches" in answer.text


def test_topic_detail_list_and_unknown_topic(assistant):
    listing = assistant.ask("list topics")
    assert all(f"Topic {t.id}:" in listing.text for t in assistant.index.topics)
    detail = assistant.ask("tell me about topic 0")
    topic = assistant.index.topics[0]
    assert topic.label in detail.text and str(topic.size) in detail.text
    assert [c.doc_id for c in detail.citations] == topic.representative_doc_ids
    missing = assistant.ask("tell me about topic 99")
    assert "no topic 99" in missing.text and not missing.matched


def test_follow_up_and_focus_restrict_the_search(assistant):
    conv = Conversation()
    first = assistant.ask("which topics cover galaxy telescope?", conv)
    assert conv.last_topics == [t.id for t in first.topics]
    follow = assistant.ask("and which of those mention flour?", conv)
    assert follow.routing.restricted_to == conv.last_topics or follow.routing.restricted_to == [t.id for t in first.topics]
    assert {c.topic for c in follow.citations} <= {t.id for t in first.topics} | {-1}
    cooking = next(t.id for t in assistant.index.topics if _theme_of_topic(assistant, t.id) == "cooking")
    assistant.ask(f"use topic {cooking}", conv)
    assert conv.focus == [cooking]
    focused = assistant.ask("which papers mention oven garlic striker goal?", conv)
    assert focused.topics and all(t.id == cooking for t in focused.topics)
    assert all(c.doc_id.startswith("cooking") for c in focused.citations)
    elsewhere = assistant.ask("which papers mention striker goal referee?", conv)
    assert not elsewhere.matched and "use all topics" in elsewhere.text
    assistant.ask("use all topics", conv)
    assert conv.focus == []


def test_stream_yields_routing_then_tokens_then_answer(assistant):
    kinds = [e.kind for e in assistant.stream("which papers discuss gene mutation?")]
    assert kinds[0] == "routing" and kinds[-1] == "done" and "token" in kinds


def test_citation_check_and_prose_cleaning():
    assert check_citations("a [1] b [7] c [2]", 2) == "a [1] b  c [2]"
    prose = "Genes mutate [1]. Genes mutate [1]. No citation here. Stars shine [9]."
    assert clean_prose(prose, 2) == "Genes mutate [1]."
    assert clean_prose("Fake news is detected with graph networks [1].", 2, "fake news is detected with graph networks [1]") == ""
