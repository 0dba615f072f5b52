"""The assistant core over a fake-model index: intents, routing, citations, coverage."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from topicchat.app.answer import (
    Conversation,
    Coverage,
    DoneEvent,
    RoutingEvent,
    TokenEvent,
    check_citations,
)
from topicchat.app.intent import IntentKind, fix_typos, ordinal_topics, parse_intent
from topicchat.indexer.tree import path_of
from topicchat.models.base import normalise


def _theme_of_topic(assistant, topic_id):
    docs = assistant.index.documents
    return docs[docs.topic == topic_id]["theme"].value_counts().index[0]


def test_intents():
    assert parse_intent("What topics cover question answering?").kind == IntentKind.COVER
    assert parse_intent("What topics cover question answering?").content == "question answering"
    assert parse_intent("list topics").kind == IntentKind.LIST
    assert parse_intent("tell me about topic 3").topic_ids == [3]
    assert parse_intent("tell me about topic 3").kind == IntentKind.TOPIC
    assert parse_intent("use topic 12").kind == IntentKind.FOCUS
    follow = parse_intent("and which of those use retrieval?")
    assert (
        follow.kind == IntentKind.PAPERS and follow.follow_up and follow.content == "retrieval"
    )  # the subject, not "use retrieval"
    assert parse_intent("  ").kind == IntentKind.EMPTY
    # the values are the `intent` strings of `ask --json`
    assert [k.value for k in IntentKind] == [
        "list_topics",
        "which_topics",
        "topic_detail",
        "compare",
        "map",
        "papers",
        "focus",
        "clear_focus",
        "trend",
        "emerging",
        "themes",
        "what_changed",
        "count",
        "authors",
        "largest_topics",
        "document",
        "help",
        "about_index",
        "empty",
    ]


@pytest.mark.parametrize(
    ("question", "kind", "content", "extra"),
    [
        ("How has research on question answering changed?", IntentKind.TREND, "question answering", {}),
        ("trends in machine translation", IntentKind.TREND, "machine translation", {}),
        ("hallucination over time", IntentKind.TREND, "hallucination", {}),
        ("is speech recognition growing?", IntentKind.TREND, "speech recognition", {}),
        ("how has topic 5 changed?", IntentKind.TREND, "topic 5", {"topic_ids": [5]}),
        ("what has changed in question answering?", IntentKind.TREND, "question answering", {}),
        ("what changed?", IntentKind.CHANGED, "", {}),
        ("What has changed since the last update?", IntentKind.CHANGED, "", {}),
        ("which papers were added?", IntentKind.CHANGED, "", {}),
        ("what's new in the index since the last build?", IntentKind.CHANGED, "", {}),
        ("what is emerging?", IntentKind.EMERGING, "", {"window": None, "declining": False}),
        ("which topics grew in the last three months?", IntentKind.EMERGING, "", {"window": (3, "month")}),
        (
            "Which topics declined over the past year?",
            IntentKind.EMERGING,
            "",
            {"window": (1, "year"), "declining": True},
        ),
        ("what's trending?", IntentKind.EMERGING, "", {}),
        ("What are the main themes?", IntentKind.THEMES, "", {"problems": False}),
        ("what are the main areas?", IntentKind.THEMES, "", {}),
        ("summarise this corpus", IntentKind.THEMES, "", {}),
        ("what are the open problems?", IntentKind.THEMES, "", {"problems": True}),
        (
            "what are the open problems in machine translation?",
            IntentKind.THEMES,
            "machine translation",
            {"problems": True},
        ),
        # questions that only look like these stay what they were
        ("papers on emerging languages", IntentKind.PAPERS, "emerging languages", {}),
        ("how do language models handle long documents?", IntentKind.PAPERS, None, {}),
        ("summarise topic 3", IntentKind.TOPIC, None, {"topic_ids": [3]}),
        ("list topics", IntentKind.LIST, "", {}),
    ],
)
def test_time_and_corpus_intents(question, kind, content, extra):
    intent = parse_intent(question)
    assert intent.kind == kind
    if content is not None:
        assert intent.content == content
    for name, value in extra.items():
        assert getattr(intent, name) == value


def test_which_topics_routes_to_the_right_theme_and_cites_real_documents(assistant):
    answer = assistant.ask("which topics cover telescope galaxy nebula?")
    assert answer.matched and answer.topics
    assert _theme_of_topic(assistant, answer.topics[0].id) == "astronomy"
    ids = set(assistant.index.documents.doc_id)
    assert answer.citations and all(c.doc_id in ids for c in answer.citations)
    assert answer.citations[0].doc_id.startswith("astronomy")
    for n in range(1, len(answer.citations) + 1):
        assert answer.citations[n - 1].n == n
    # the coverage is kept apart from the answer text, and rendered once
    assert "Coverage:" not in answer.text
    coverage = answer.coverage.render()
    assert coverage.startswith(f"Coverage: routed to {len(answer.topics)} topic(s) (")
    assert answer.to_json()["coverage"] == coverage


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
    assert "Most words of the question occur in no document of this index (zyxwv, qwerty, plonk)" in answer.text
    assert "Most words" not in assistant.ask("which papers mention telescope qwerty?").text


def test_a_misspelt_question_word_is_read_as_the_word_unless_the_corpus_has_it(assistant):
    assert fix_typos("how mnay papers, wich tpoics?") == "how many papers, which topics?"
    assert fix_typos("tpoics on reacts", known=lambda w: w == "reacts") == "topics on reacts"  # not "trends"
    assert fix_typos("the yeast genome in the last months") == "the yeast genome in the last months"
    typo = assistant.ask("how mnay documents mention telescope?")
    assert typo.intent == IntentKind.COUNT and typo.text == assistant.ask("how many documents mention telescope?").text
    assert assistant.ask("wich topics cover telescope?").intent == IntentKind.COVER


def test_a_rare_word_matches_where_the_meaning_does_not(tmp_path):
    """An acronym ("RLHF") embeds far from the abstracts that use it; a word that few documents hold still
    finds them, and the answer says it matched by words."""
    from tests.conftest import fake_settings, themed_corpus
    from topicchat.app.answer import Assistant
    from topicchat.indexer.pipeline import build_index

    frame = themed_corpus()
    frame.loc[3, "text"] += " The zorkmid array."
    frame.to_csv(tmp_path / "corpus.csv", index=False)
    path = build_index(
        str(tmp_path / "corpus.csv"), tmp_path / "index", fake_settings(tmp_path / "cache"), report=lambda _m: None
    )
    found = Assistant.open(path).ask("papers on zyxwv qwerty zorkmid")
    assert found.matched and found.citations[0].doc_id == frame.loc[3, "id"]
    assert "so these are found by its rare words (zorkmid, as stems)" in found.text
    assert not Assistant.open(path).ask("zyxwv qwerty plonk").matched


def test_topic_detail_list_and_unknown_topic(assistant):
    listing = assistant.ask("list topics")
    assert all(f"Topic {t.id}:" in listing.text for t in assistant.index.topics)
    detail = assistant.ask("tell me about topic 0")
    topic = assistant.index.topics[0]
    assert topic.label in detail.text and str(topic.size) in detail.text
    assert [c.doc_id for c in detail.citations] == topic.representative_doc_ids
    missing = assistant.ask("tell me about topic 99")
    assert "no topic 99" in missing.text and not missing.matched


@pytest.mark.parametrize(
    ("question", "kind", "ids"),
    [
        ("topics 1 and 4", IntentKind.TOPIC, [1, 4]),
        ("topic 1 and topic 4?", IntentKind.TOPIC, [1, 4]),
        ("tell me about topics 3, 5 and 9", IntentKind.TOPIC, [3, 5, 9]),
        ("what are topics 2 and 3 about?", IntentKind.TOPIC, [2, 3]),
        ("show topics 1 and 4", IntentKind.TOPIC, [1, 4]),
        ("topics 3-6", IntentKind.TOPIC, [3, 4, 5, 6]),
        ("how many papers are in topics 3 and 5?", IntentKind.COUNT, [3, 5]),
        ("who writes in topics 3 and 5?", IntentKind.AUTHORS, [3, 5]),
        ("compare topics 1 and 4", IntentKind.COMPARE, [1, 4]),
        ("focus on topics 3, 4 and 5", IntentKind.FOCUS, [3, 4, 5]),
        ("papers in topic 3 from 2025", IntentKind.PAPERS, [3]),
    ],
)
def test_every_topic_of_a_list_is_read(question, kind, ids):
    intent = parse_intent(question)
    assert (intent.kind, intent.topic_ids) == (kind, ids)


def test_papers_in_several_topics_search_only_them():
    intent = parse_intent("papers in topics 1 and 4 about attention heads")
    assert (intent.kind, intent.topic_ids, intent.content) == (IntentKind.PAPERS, [1, 4], "attention heads")


def test_several_topics_are_each_detailed_and_counted(assistant):
    a, b = (t.id for t in assistant.index.topics[:2])
    detail = assistant.ask(f"topics {a} and {b}")
    for t in assistant.index.topics[:2]:
        assert f"Topic {t.id}: {t.label} ({t.size} documents)" in detail.text
    assert [c.doc_id for c in detail.citations] == [
        d for t in assistant.index.topics[:2] for d in t.representative_doc_ids
    ]
    assert [c.n for c in detail.citations] == list(range(1, len(detail.citations) + 1)), "numbered through"
    assert [t.id for t in detail.topics] == [a, b]
    count = assistant.ask(f"how many documents are in topics {a} and {b}?")
    sizes = [t.size for t in assistant.index.topics[:2]]
    assert f"holds {sizes[0]} of" in count.text and f"holds {sizes[1]} of" in count.text
    assert f"Together they hold {sum(sizes)} of" in count.text
    missing = assistant.ask(f"topics {a} and 99")
    assert "no topic 99" in missing.text and not missing.matched


def test_a_topic_named_by_its_subject_or_its_place_in_the_last_answer(assistant):
    cooking = assistant.ask("tell me about the oven garlic flour topic")
    tid = int(re.search(r"is topic (\d+)", cooking.text).group(1))
    assert _theme_of_topic(assistant, tid) == "cooking" and cooking.topics[0].id == tid
    assert f"Topic {tid}: {assistant.topics[tid].label}" in cooking.text
    conv = Conversation()
    listed = assistant.ask("which topics cover galaxy telescope?", conv)
    first = listed.topics[0].id
    detail = assistant.ask("tell me about the first one", conv)  # the first topic listed, not source [1]
    assert detail.intent == "topic_detail" and detail.text.startswith(f"Topic {first}: ")
    papers = assistant.ask("show me the papers in the first topic", conv)
    assert papers.citations and {c.topic for c in papers.citations} <= set(assistant.leaves_under(first))
    source = assistant.ask("tell me about the second one", conv)  # the last answer listed documents
    assert source.intent == "document" and source.text.startswith("Source 2 of the previous answer")
    none = assistant.ask("tell me about the ninth topic", Conversation())
    assert not none.matched and "no topic number 9" in none.text


def test_papers_in_a_topic_are_listed_closest_to_its_centre_first(assistant):
    topic = max(assistant.index.topics, key=lambda t: t.size)
    listed = assistant.ask(f"papers in topic {topic.id}")
    rows = assistant._rows_of(topic.id)
    assert len(listed.citations) == min(10, len(rows)) and all(c.row in rows for c in listed.citations)
    sims = [float(assistant.index.embeddings[c.row] @ assistant._node_vectors[topic.id]) for c in listed.citations]
    assert sims == sorted(sims, reverse=True)
    assert f"Topic {topic.id}: " in listed.text.splitlines()[0] and f"({topic.size} documents)" in listed.text
    every = assistant.ask(f"all papers in topic {topic.id}")
    assert len(every.citations) == min(25, len(rows))


def test_follow_up_and_focus_restrict_the_search(assistant):
    conv = Conversation()
    first = assistant.ask("which topics cover galaxy telescope?", conv)
    listed = [int(t) for t in re.findall(r"^- Topic (\d+):", first.text, re.MULTILINE)]  # routed, then the others
    assert conv.last_topics == listed and listed[: len(first.topics)] == [t.id for t in first.topics]
    follow = assistant.ask("and which of those mention flour?", conv)
    assert sorted(follow.routing.restricted_to) == sorted(listed), "restricted to the topics listed"
    assert {c.topic for c in follow.citations} <= set(listed) | {-1}
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
    events = list(assistant.stream("which papers discuss gene mutation?"))
    assert isinstance(events[0], RoutingEvent) and isinstance(events[-1], DoneEvent)
    assert all(isinstance(e, TokenEvent) for e in events[1:-1]) and len(events) > 2
    answer = events[-1].answer
    assert answer.routing is events[0].routing and answer.matched
    streamed = "".join(e.text for e in events[1:-1])
    assert events[1].text.startswith("Most relevant documents")  # the facts come first
    assert streamed.strip() == answer.text and "Coverage:" not in streamed  # the coverage is rendered apart


def test_streamed_text_is_the_answer_for_intents_without_search(assistant):
    first, second = (t.id for t in assistant.index.topics[:2])
    questions = [
        "list topics",
        f"tell me about topic {first}",
        f"compare topic {first} and topic {second}",
        f"use topic {first}",
        "use all topics",
        "show the map",
        "tell me about topic 99",
    ]
    conv = Conversation()
    for question in questions:
        events = list(assistant.stream(question, conv))
        assert not any(isinstance(e, RoutingEvent) for e in events), question
        assert isinstance(events[-1], DoneEvent) and all(isinstance(e, TokenEvent) for e in events[:-1])
        answer = events[-1].answer
        assert "".join(e.text for e in events[:-1]) == answer.text, question
        assert answer.coverage is None and answer.to_json()["coverage"] == ""


def test_empty_question(assistant):
    events = list(assistant.stream("   "))
    assert len(events) == 1 and isinstance(events[0], DoneEvent)
    answer = events[0].answer
    assert answer.intent == IntentKind.EMPTY and answer.to_json()["intent"] == "empty"
    assert answer.matched and answer.citations == [] and answer.coverage is None
    assert answer.text == "Ask a question about the documents, or type 'list topics'."


def _examples(text: str, topic_id: int) -> str:
    line = next(x for x in text.splitlines() if x.startswith(f"Only topic {topic_id}:"))
    return line.rsplit(". ", 1)[-1]


def test_compare_numbers_the_citations_it_built(assistant):
    a, b = (t.id for t in assistant.index.topics[:2])
    reps = {x: assistant.topics[x].representative_doc_ids for x in (a, b)}
    both = assistant.ask(f"compare topic {a} and topic {b}")
    assert _examples(both.text, a) == "Examples: [1] [2]" and _examples(both.text, b) == "Examples: [3] [4]"
    assert [c.doc_id for c in both.citations] == reps[a][:2] + reps[b][:2]
    # after an update topic a has a single representative document: it cites [1], topic b [2] [3]
    assistant.topics[a] = dataclasses.replace(assistant.topics[a], representative_doc_ids=reps[a][:1])
    one = assistant.ask(f"compare topic {a} and topic {b}")
    assert _examples(one.text, a) == "Examples: [1]" and _examples(one.text, b) == "Examples: [2] [3]"
    assert [(c.n, c.doc_id) for c in one.citations] == list(enumerate(reps[a][:1] + reps[b][:2], start=1))
    # and with none it says so
    assistant.topics[a] = dataclasses.replace(assistant.topics[a], representative_doc_ids=[])
    none = assistant.ask(f"compare topic {a} and topic {b}")
    assert _examples(none.text, a) == "No examples." and _examples(none.text, b) == "Examples: [1] [2]"
    assert [c.doc_id for c in none.citations] == reps[b][:2]
    assert {int(n) for n in re.findall(r"\[(\d+)\]", none.text)} == {1, 2}


def test_coverage_sentence():
    routed = Coverage([0, 3], 57, 200, 26, True)
    assert routed.render() == (
        "Coverage: routed to 2 topic(s) (0, 3) holding 57 documents; the outlier pool (26 documents) was searched too."
    )
    assert Coverage([], 0, 200, 26, False, [4]).render() == (
        "Coverage: searched all 200 documents; the outlier pool (26 documents) was not searched."
    )
    assert Coverage([1], 40, 200, 0, False).render() == (
        "Coverage: routed to 1 topic(s) (1) holding 40 documents; there are no outlier documents."
    )


def test_citation_check():
    assert check_citations("a [1] b [7] c [2]", 2) == "a [1] b  c [2]"


SOURCE_1 = "Telescope surveys map galaxy redshift and nebula light. We measured 412 quasars with the survey."
SOURCE_2 = "Bread recipes need flour, butter and a hot oven to roast garlic."


def _checker():
    from topicchat.app.prose import ProseChecker
    from topicchat.models.fake import HashingEmbedder

    embedder = HashingEmbedder(256)
    texts = {1: SOURCE_1, 2: SOURCE_2}
    return ProseChecker(embedder, texts, {n: embedder.embed([t])[0] for n, t in texts.items()}, "snowball")


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("Galaxy surveys map redshift and nebula light of telescopes [1].", ""),
        ("Galaxy surveys map redshift and nebula light of telescopes.", "cites no source"),
        ("Galaxy surveys map redshift and nebula light of telescopes [7].", "cites no source"),
        ("Telescope surveys map galaxy redshift and nebula light [1].", "copies a source"),
        ("The survey measured 500 quasars and galaxy redshift [1].", "a number not in its sources: 500"),
        ("The survey measured 412 quasars and galaxy redshift [1].", ""),
        ("Bread recipes roast garlic with butter in a hot oven [1].", "not supported by its source"),
        ("Bread needs butter, flour and roast garlic [2].", ""),
        ("Galaxy surveys do not map redshift and nebula light of telescopes [1].", "negates what its source says"),
        ("Galaxy surveys never map redshift or nebula light of telescopes [1].", "negates what its source says"),
        ("Bread doesn't need flour, butter or roast garlic [2].", "negates what its source says"),
        ("The survey measured galaxy redshift of 412 quasars with Hubble [1].", "a name not in its sources: hubble"),
        ("The survey measured galaxy redshift of five quasars [1].", "a number not in its sources: 5"),
        ("The survey (TS) measured galaxy redshift of 412 quasars [1].", ""),  # TS: Telescope Surveys' initials
    ],
)
def test_checked_prose_keeps_only_supported_sentences(sentence, reason):
    verdict = _checker().check(sentence)
    assert verdict.reason == reason and verdict.kept == (reason == "")


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        ("The parser underperforms the baselines on long sentences.", "says 'underperforms' where its source says"),
        ("The baselines perform worse than the parser on long sentences.", ""),  # a comparison: not read
        ("The parser not only outperforms the baselines but also handles long sentences.", ""),
        ("Accuracy decreases as more training data is added.", "says 'decreases' where its source says"),
        ("The parser outperforms the baselines on long sentences.", ""),
        ("The parser does not need a treebank.", "negates what its source says"),
        ("The parser doesn’t need a treebank.", "negates what its source says"),
        ("Training on 3 treebanks makes the parser better.", ""),
    ],
)
def test_a_claim_that_turns_its_source_round_is_caught(claim, why):
    from topicchat.app.prose import contradicts

    source = (
        "We present a parser trained on three treebanks. It outperforms strong baselines on long sentences. "
        "Accuracy increases steadily as more training data is added."
    )
    assert contradicts(claim, source, "snowball").startswith(why) and bool(why) == bool(
        contradicts(claim, source, "snowball")
    )


class _Scripted:
    """A generator that streams a fixed text word by word, optionally slowly."""

    model_id = "scripted"

    def __init__(self, text: str, delay: float = 0.0) -> None:
        self.text, self.delay = text, delay

    def generate(self, messages, max_tokens=64, stop=()):
        return self.text

    def stream(self, messages, max_tokens=64, stop=()):
        import time

        for word in re.findall(r"\S+\s*", self.text):
            time.sleep(self.delay)
            yield word


def _with_generator(assistant, generator, **settings):
    from topicchat.app.answer import Assistant
    from topicchat.app.settings import AnswerSettings

    return Assistant(assistant.index, assistant.retriever.embedder, generator, AnswerSettings(**settings))


def test_streamed_text_is_the_final_text_and_only_checked_sentences_stream(assistant):
    question = "which papers discuss telescope galaxy nebula?"
    first = assistant.ask(question).citations[0]
    words = [w for w in re.findall(r"[a-z]+", first.text.lower()) if len(w) > 3][:6]
    good = f"The papers study {words[3]} and {words[0]}, with {words[5]}, {words[1]} and {words[4]} [1]."  # no copy
    prose = f"{good} Cooking needs butter and flour and garlic [1]. Stars are nice. Another unsupported claim about ovens [9]."
    helper = _with_generator(assistant, _Scripted(prose))
    events = list(helper.stream(question))
    streamed = "".join(e.text for e in events if isinstance(e, TokenEvent))
    final = events[-1].answer.text
    assert streamed.strip() == final
    assert final.startswith("Topics covering") or final.startswith("Most relevant documents")  # facts first
    assert "Summary (every sentence checked" in final and good in final
    assert "Cooking" not in final and "Stars are nice" not in final and "ovens" not in final


def test_when_nothing_survives_or_time_runs_out_the_answer_says_so(assistant):
    question = "which papers discuss telescope galaxy nebula?"
    none = _with_generator(assistant, _Scripted("Cooking needs butter and flour [1]. No sources at all.")).ask(question)
    assert "No summary could be written from the sources" in none.text and none.citations
    slow = _with_generator(assistant, _Scripted("word " * 40 + "[1].", delay=0.05), prose_deadline_s=0.5).ask(question)
    assert "cut at the 0.5-second limit" in slow.text


def test_list_topics_shows_every_node_of_the_tree(assistant):
    answer = assistant.ask("list topics")
    assert answer.intent == "list_topics"
    for node in assistant.index.nodes.values():
        assert f"Topic {node.id}: {node.label} ({node.size} documents)" in answer.text
    top = assistant.index.top_level()
    areas = [t for t in top if t.children]  # a top-level topic with no children is no area
    lone = len(top) - len(areas)
    assert f"grouped into {len(areas)} areas" in answer.text
    assert (f", plus {lone} topic" in answer.text) == (lone > 0)


def test_evidence_picks_the_sentence_that_answers_the_question():
    from topicchat.app.evidence import evidence_sentences, sentences
    from topicchat.models.fake import HashingEmbedder

    embedder = HashingEmbedder(256)
    texts = [
        "We study galaxies. Our telescope survey maps the redshift of 400 quasars. Results are public.",
        "Bread needs flour. A slow oven roast keeps the garlic sweet.",
        "",
    ]
    question = "telescope redshift survey"
    found = evidence_sentences(question, texts, embedder, embedder.embed([question])[0], "snowball")
    assert found[0] == "Our telescope survey maps the redshift of 400 quasars."
    assert found[1] in sentences(texts[1]) and found[2] == ""


class _PieceEmbedder:
    """A tiny mean-pooled 'model' for word-piece tables: a word piece is a word; its output is its own
    direction plus the mean of its row's words (context), so an average over contexts is checkable."""

    model_id = name = "pieces"
    variant = ""
    dim = 8
    mean_pooled = True
    max_tokens = 64

    def __init__(self) -> None:
        self.words = {"[CLS]": 0, "[SEP]": 1, "[PAD]": 2}
        self.calls = 0

        class Tokenizer:
            cls_token_id, sep_token_id, pad_token_id = 0, 1, 2

            def __call__(inner, texts, add_special_tokens=True, truncation=True, max_length=64):
                rows = []
                for text in texts:
                    ids = [self.words.setdefault(w, len(self.words)) for w in text.lower().split()][: max_length - 2]
                    rows.append([0, *ids, 1] if add_special_tokens else ids)
                return {"input_ids": rows}

        self.tokenizer = Tokenizer()

    def direction(self, piece: int) -> np.ndarray:
        return np.random.default_rng(piece).normal(size=self.dim)

    def hidden_states(self, rows):
        self.calls += 1
        out = []
        for row in rows:
            own = np.stack([self.direction(p) for p in row])
            out.append((own + own.mean(axis=0)).astype(np.float32))
        return out

    def embed(self, texts, *, show_progress=False):
        rows = self.tokenizer(texts)["input_ids"]
        return normalise(np.stack([h.mean(axis=0) for h in self.hidden_states(rows)]))


def test_word_piece_table_averages_contexts_weighs_rarity_and_fills_in_new_pieces(tmp_path):
    from topicchat.app.evidence import evidence_sentences
    from topicchat.indexer.tokens import TokenTable, build_table

    embedder = _PieceEmbedder()
    assert build_table(embedder, ["", " "]) is None  # no word piece at all: no table, the shortlist serves
    corpus = ["alpha beta gamma", "alpha delta", "alpha beta"]
    table = build_table(embedder, corpus)
    assert table is not None and table.sampled == table.counted == 3
    ids = {w: embedder.words[w] for w in ("alpha", "beta", "gamma", "delta")}
    assert table.ids.tolist() == sorted(ids.values())
    # "beta" in two documents: its vector is the mean of its two outputs (each with its own context)
    contexts = [embedder.hidden_states([embedder.tokenizer([t])["input_ids"][0]])[0] for t in corpus]
    beta = (contexts[0][2] + contexts[2][2]) / 2
    row = int(np.searchsorted(table.ids, ids["beta"]))
    assert np.allclose(table.vectors[row].astype(np.float32), beta, atol=1e-2)
    # rarer pieces weigh more: alpha is in every document, gamma in one
    weight = dict(zip(table.ids.tolist(), table.weights.tolist(), strict=True))
    assert weight[ids["gamma"]] > weight[ids["beta"]] > weight[ids["alpha"]]
    table.save(tmp_path)
    again = TokenTable.load(tmp_path, "pieces")
    assert np.array_equal(again.ids, table.ids) and np.array_equal(again.vectors, table.vectors)
    # a piece no document had gets its output on its own, once, and counts in the sentence's vector
    before = embedder.calls
    vector = again.encode(["omega"], embedder)[0]
    assert embedder.calls == before + 1 and np.linalg.norm(vector) > 0.99
    again.encode(["omega alpha"], embedder)
    assert embedder.calls == before + 1, "computed once, then reused"
    # evidence: every sentence is scored through the table, no sentence is embedded
    question = "gamma"
    texts = ["alpha delta. alpha beta gamma. delta delta."]
    found = evidence_sentences(question, texts, embedder, embedder.embed([question])[0], "light", table=again)
    assert found == ["alpha beta gamma."]


def test_evidence_embeds_only_sentences_that_could_win():
    """Sentences sharing under half the question words of the best candidate never reach the embedder; a
    document left with one candidate is not embedded at all; the rest are embedded in one call."""
    from topicchat.app.evidence import evidence_sentences
    from topicchat.models.fake import HashingEmbedder

    class Counting(HashingEmbedder):
        def __init__(self, dim: int) -> None:
            super().__init__(dim)
            self.calls: list[list[str]] = []

        def embed(self, texts, *, show_progress=False):
            self.calls.append(list(texts))
            return super().embed(texts, show_progress=show_progress)

    embedder = Counting(256)
    question = "contrastive pretraining of speech encoders for low resource languages"
    texts = [
        # one clear lexical winner: the other sentences share at most one of its words
        "Speech is hard. Contrastive pretraining of speech encoders helps low resource languages. Code is out.",
        # two close candidates, a third far behind
        "Contrastive pretraining of speech encoders is studied. Low resource languages gain from speech "
        "encoders with contrastive pretraining. We thank reviewers.",
    ]
    found = evidence_sentences(question, texts, embedder, embedder.embed([question])[0], "snowball")
    assert found[0] == "Contrastive pretraining of speech encoders helps low resource languages."
    assert found[1] != "We thank reviewers."
    embedded = embedder.calls[1:]  # the first call was the question's
    assert len(embedded) == 1, "one call for every candidate of the answer"
    assert sorted(embedded[0]) == sorted(
        [
            "Contrastive pretraining of speech encoders is studied.",
            "Low resource languages gain from speech encoders with contrastive pretraining.",
        ]
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        (  # a lower-cased, tokenised corpus (Cranfield): sentences start with small letters
            "on heat transfer at hypersonic speed . a discussion of wind tunnel data . the results agree .",
            ["on heat transfer at hypersonic speed .", "a discussion of wind tunnel data .", "the results agree ."],
        ),
        (  # a lower-cased text whose one sentence starts with a digit is still lower-cased
            "the wing was tested . the results agree . 3 models were tested . all fail .",
            ["the wing was tested .", "the results agree .", "3 models were tested .", "all fail ."],
        ),
        (  # abbreviations and citations do not end a sentence
            "We follow Smith et al. (2019) closely. Gains hold, e.g. on SQuAD. Fig. 3 shows it.",
            ["We follow Smith et al. (2019) closely.", "Gains hold, e.g. on SQuAD.", "Fig. 3 shows it."],
        ),
        ("Accuracy rises 3.5 points. 2 models fail", ["Accuracy rises 3.5 points.", "2 models fail"]),
        (  # news: names, dates and places with their abbreviations stay whole
            "BAGHDAD, Iraq - U.S. troops left. Intel Corp. cut prices on Aug. 5 as Sen. John F. Kennedy said. Shares rose.",
            [
                "BAGHDAD, Iraq - U.S. troops left.",
                "Intel Corp. cut prices on Aug. 5 as Sen. John F. Kennedy said.",
                "Shares rose.",
            ],
        ),
        (  # bill summaries join sentences without a space; "ASP.NET", "Node.js", "Console.WriteLine" are code
            "Amends the Act to add a grant.Extends the programme.Requires each officer to use ASP.NET, Node.js and "
            "Console.WriteLine in C# or String.Format in reports.",
            [
                "Amends the Act to add a grant.",
                "Extends the programme.",
                "Requires each officer to use ASP.NET, Node.js and Console.WriteLine in C# or String.Format in reports.",
            ],
        ),
        (  # a single letter ends a sentence unless it is an initial
            "See Appendix B. We use rank r. Then John F. Kennedy spoke.",
            ["See Appendix B.", "We use rank r.", "Then John F. Kennedy spoke."],
        ),
    ],
)
def test_sentences_split_lower_cased_text_and_keep_abbreviations(text, expected):
    from topicchat.app.evidence import evidence_sentences, sentences
    from topicchat.models.fake import HashingEmbedder

    assert sentences(text) == expected
    embedder = HashingEmbedder(256)
    question = expected[1].rstrip(". ")
    found = evidence_sentences(question, [text], embedder, embedder.embed([question])[0], "snowball")
    assert found == [expected[1]]  # one sentence as the evidence, not the whole text


def test_a_paper_search_lists_each_paper_with_its_evidence_sentence(assistant):
    answer = assistant.ask("which papers discuss telescope galaxy nebula?")
    assert answer.citations
    for c in answer.citations:
        assert c.evidence and c.evidence.rstrip("…") in " ".join(c.text.split())
        assert f"“{c.evidence}”" in answer.text
    assert all("evidence" in c for c in answer.to_json()["citations"])


@pytest.mark.parametrize(
    ("question", "kind", "content", "extra"),
    [
        ("how many papers are about question answering?", IntentKind.COUNT, "question answering", {"noun": "papers"}),
        ("How many question answering papers are there?", IntentKind.COUNT, "question answering", {"noun": "papers"}),
        ("how many bills address health care", IntentKind.COUNT, "health care", {"noun": "bills"}),
        ("count the documents that mention telescope", IntentKind.COUNT, "telescope", {"noun": "documents"}),
        ("what share of the papers mention BERT?", IntentKind.COUNT, "BERT", {"noun": "papers"}),
        ("how much of the corpus is about machine translation?", IntentKind.COUNT, "machine translation", {}),
        (
            "how many papers on RAG were published in the last 3 months?",
            IntentKind.COUNT,
            "RAG",
            {"window": (3, "month")},
        ),
        ("how many papers on RAG appeared in 2025?", IntentKind.COUNT, "RAG", {"period": "2025"}),
        ("how many documents are there?", IntentKind.COUNT, "", {"noun": "documents"}),
        ("How many abstracts are in the corpus?", IntentKind.COUNT, "", {"noun": "abstracts"}),
        ("how many topics are there?", IntentKind.COUNT, "", {"noun": "topics"}),
        ("how many topics cover speech?", IntentKind.COVER, "speech", {}),
        ("how many topics grew in the last three months?", IntentKind.EMERGING, "", {"window": (3, "month")}),
        ("compare sports and business coverage", IntentKind.COMPARE, None, {"subjects": ["sports", "business"]}),
        (
            "compare question answering with summarization",
            IntentKind.COMPARE,
            None,
            {"subjects": ["question answering", "summarization"]},
        ),
        ("RAG vs. fine-tuning", IntentKind.COMPARE, None, {"subjects": ["RAG", "fine-tuning"]}),
        ("what are the differences between BERT and GPT?", IntentKind.PAPERS, None, {}),  # what the papers say
        ("how does speech recognition differ from speech synthesis?", IntentKind.PAPERS, None, {}),
        ("compare the research on RAG and fine-tuning", IntentKind.COMPARE, None, {"subjects": ["RAG", "fine-tuning"]}),
        ("compare topic 3 and topic 5", IntentKind.COMPARE, None, {"subjects": [], "topic_ids": [3, 5]}),
        (
            "compare topic 3 with question answering",
            IntentKind.COMPARE,
            None,
            {"subjects": ["topic 3", "question answering"]},
        ),
        ("which authors work on speech recognition?", IntentKind.AUTHORS, "speech recognition", {}),
        ("who publishes on machine translation?", IntentKind.AUTHORS, "machine translation", {}),
        ("top authors in topic 5", IntentKind.AUTHORS, "", {"topic_ids": [5]}),
        ("who are the most prolific authors?", IntentKind.AUTHORS, "", {}),
        ("how many authors work on RAG?", IntentKind.AUTHORS, "RAG", {}),
        ("who is the best model?", IntentKind.PAPERS, None, {}),
        # searches scoped in time: the time words are not searched for
        (
            "what are the latest papers on retrieval-augmented generation?",
            IntentKind.PAPERS,
            "retrieval-augmented generation",
            {"recent": True, "window": None, "period": ""},
        ),
        ("papers from 2026-05 about LLM agents", IntentKind.PAPERS, "LLM agents", {"period": "2026-05"}),
        ("papers on RAG in the last three months", IntentKind.PAPERS, "RAG", {"window": (3, "month")}),
        ("recent work on hallucination", IntentKind.PAPERS, "hallucination", {"recent": True}),
        ("which papers use new datasets?", IntentKind.PAPERS, "new datasets", {"recent": False}),
        # questions about the documents' content stay searches (review of the first version)
        ("how many parameters does GPT-3 have?", IntentKind.PAPERS, None, {}),
        ("what is the number of parameters in GPT-3?", IntentKind.PAPERS, None, {}),
        ("how many questions does SQuAD contain?", IntentKind.PAPERS, None, {}),
        ("count data regression for overdispersion", IntentKind.PAPERS, None, {}),
        ("what part of the brain handles language?", IntentKind.PAPERS, None, {}),
        ("how many clusters does k-means find?", IntentKind.PAPERS, None, {}),
        ("which papers compare CNN vs RNN?", IntentKind.PAPERS, None, {}),
        ("what are the trade-offs of model size vs. latency?", IntentKind.PAPERS, None, {}),
        ("how do transformers compare to RNNs?", IntentKind.PAPERS, None, {}),
        ("what is the difference between precision and recall?", IntentKind.PAPERS, None, {}),
        ("compare X, Y and Z", IntentKind.COMPARE, None, {"subjects": ["X", "Y", "Z"]}),
        ("Llama vs Qwen vs Mistral", IntentKind.COMPARE, None, {"subjects": ["Llama", "Qwen", "Mistral"]}),
        ("which papers compare CNN vs RNN vs LSTM?", IntentKind.PAPERS, None, {}),
        ("who wrote the attention paper?", IntentKind.PAPERS, None, {}),
        ("which groups of proteins bind DNA?", IntentKind.PAPERS, None, {}),
        ("models with a vocabulary of 2048 tokens", IntentKind.PAPERS, None, {"period": ""}),
        ("a cohort of 2000 patients with diabetes", IntentKind.PAPERS, None, {"period": ""}),
        ("outcomes in the last three months of pregnancy", IntentKind.PAPERS, None, {"window": None}),
        ("how many of those are about RL?", IntentKind.COUNT, "RL", {"follow_up": True}),  # the last subject's
        ("how many of them?", IntentKind.COUNT, "", {"follow_up": True}),
        ("which researchers have studied catastrophic forgetting?", IntentKind.AUTHORS, "catastrophic forgetting", {}),
        ("who studies bias in LLMs?", IntentKind.AUTHORS, "bias in LLMs", {}),
        ("how many are about RL?", IntentKind.COUNT, "RL", {"noun": "documents"}),
        ("how many?", IntentKind.COUNT, "", {"follow_up": True}),  # in a conversation: the last subject's
        ("how many papers are in topic 5?", IntentKind.COUNT, "", {"topic_ids": [5]}),
        ("how many papers on RL from 2019 to 2021?", IntentKind.COUNT, "RL", {"period": "2019..2021"}),
        ("papers on agents from 2025Q1", IntentKind.PAPERS, "agents", {"period": "2025Q1"}),
        ("the most recent papers", IntentKind.PAPERS, "", {"recent": True}),
        ("What are the main findings on hallucination?", IntentKind.PAPERS, "hallucination", {}),
        ("what are the main areas of speech processing?", IntentKind.COVER, "speech processing", {}),
        ("give me an overview of question answering research", IntentKind.COVER, "question answering", {}),
        ("give me an overview", IntentKind.LIST, "", {}),
        ("which topics are most popular?", IntentKind.LARGEST, "", {}),
        ("what is the biggest topic?", IntentKind.LARGEST, "", {}),
        ("papers by Shinji Watanabe", IntentKind.AUTHORS, "", {"person": "Shinji Watanabe"}),
        ("how many papers did Yoshua Bengio write?", IntentKind.AUTHORS, "", {"person": "Yoshua Bengio"}),
        ("papers by topic", IntentKind.PAPERS, None, {"person": ""}),
        ("papers by Min Zhang on reasoning", IntentKind.AUTHORS, "reasoning", {"person": "Min Zhang"}),
        ("papers on reasoning by Min Zhang", IntentKind.AUTHORS, "reasoning", {"person": "Min Zhang"}),
        ("papers by Jane Doe in 2025", IntentKind.AUTHORS, "", {"person": "Jane Doe", "period": "2025"}),
        ("what has Jane Doe published on speech?", IntentKind.AUTHORS, "speech", {"person": "Jane Doe"}),
        ("papers by Jane Doe using transformers", IntentKind.PAPERS, None, {"person": ""}),
        ("papers on parsing by hand", IntentKind.PAPERS, None, {"person": ""}),
        ("which authors work on RAG in 2025?", IntentKind.AUTHORS, "RAG", {"period": "2025"}),
        ("who publishes on ASR in the last three months?", IntentKind.AUTHORS, "ASR", {"window": (3, "month")}),
        (
            "which month had the most papers on question answering?",
            IntentKind.COUNT,
            "question answering",
            {"peak": "most", "unit": "month"},
        ),
        ("what year saw the fewest papers?", IntentKind.COUNT, "", {"peak": "fewest", "unit": "year"}),
        ("when did RAG peak?", IntentKind.COUNT, "RAG", {"peak": "most"}),
        (
            "what was the busiest month for machine translation?",
            IntentKind.COUNT,
            "machine translation",
            {"peak": "most"},
        ),
        ("which quarter had the most papers in topic 5?", IntentKind.COUNT, "", {"topic_ids": [5], "unit": "quarter"}),
        ("which month had the most papers in 2025?", IntentKind.COUNT, "", {"period": "2025", "peak": "most"}),
        ("which topics had the most papers?", IntentKind.LARGEST, "", {}),
        ("papers from March 2025 about agents", IntentKind.PAPERS, "agents", {"period": "2025-03"}),
        ("help", IntentKind.HELP, None, {}),
        # ordinary questions the new rules must leave to the search (a review of the first version)
        ("what is the corpus used for pretraining BERT?", IntentKind.PAPERS, None, {}),
        ("which embedding models are used for retrieval?", IntentKind.PAPERS, None, {}),
        ("what parameters are used for LoRA fine-tuning?", IntentKind.PAPERS, None, {}),
        ("how was the dataset built for MultiWOZ?", IntentKind.PAPERS, None, {}),
        ("when was the most recent survey on RAG published?", IntentKind.PAPERS, None, {}),
        ("when did the model performance peak during training?", IntentKind.PAPERS, None, {}),
        ("which year was the most important for NLP?", IntentKind.PAPERS, None, {}),
        ("Idefics-2 vs LLaVA", IntentKind.COMPARE, None, {"doc_ref": "", "subjects": ["Idefics-2", "LLaVA"]}),
        ("papers on PaperQA-2", IntentKind.PAPERS, "PaperQA-2", {"doc_ref": ""}),
        ("paper GPT-4 technical report safety", IntentKind.PAPERS, None, {"doc_ref": ""}),
        ("is hallucination more common than omission in summaries?", IntentKind.PAPERS, None, {}),
        ("is BERT more popular than RoBERTa for classification?", IntentKind.PAPERS, None, {}),
        ("compare BERT and GPT on GLUE", IntentKind.PAPERS, None, {}),
        ("SFT vs RL for reasoning", IntentKind.PAPERS, None, {}),
        ("compare BERT, GPT and T5 on GLUE", IntentKind.PAPERS, None, {}),
        ("how does it work?", IntentKind.PAPERS, None, {}),
        ("what do papers in topic 12 say about DPO?", IntentKind.PAPERS, "DPO", {"topic_ids": [12]}),
        ("top 5 papers on RAG", IntentKind.PAPERS, "RAG", {"limit": 5}),
        ("papers on RAG in 2026 so far", IntentKind.PAPERS, "RAG", {"period": "2026"}),
        ("papers on RAG from 2025 onwards", IntentKind.PAPERS, "RAG", {"period": "2025.."}),
        ("what has been published in 2026?", IntentKind.PAPERS, "", {"person": "", "period": "2026"}),
        ("what was the first paper on RLHF?", IntentKind.PAPERS, None, {"cited": 0}),
        ("the first paper in the list", IntentKind.PAPERS, None, {"oldest": False}),
        ("papers on data collection", IntentKind.PAPERS, "data collection", {}),
        ("how to build a parallel corpus", IntentKind.PAPERS, "how to build a parallel corpus", {}),
        ("the newest paper on the SQuAD dataset", IntentKind.PAPERS, "the SQuAD dataset", {"recent": True}),
        ("the oldest paper in the collection about RAG", IntentKind.PAPERS, "RAG", {"oldest": True}),
        ("how many authors in a typical paper?", IntentKind.PAPERS, None, {}),
        ("how many authors are on the BERT paper?", IntentKind.PAPERS, None, {}),
        ("how many researchers is too many?", IntentKind.PAPERS, None, {}),
        ("today's challenges in NLP", IntentKind.PAPERS, None, {"recent": False}),
        ("how is RAG used today?", IntentKind.PAPERS, None, {"recent": False}),
        ("papers from today", IntentKind.PAPERS, "", {"recent": True}),
        ("which author has the most citations?", IntentKind.PAPERS, None, {"by_citations": False}),
        ("the most cited papers in topic 12", IntentKind.PAPERS, "", {"by_citations": True, "topic_ids": [12]}),
        ("show me the newest paper", IntentKind.PAPERS, "", {"recent": True}),
        ("what is the oldest paper in the collection?", IntentKind.PAPERS, "", {"oldest": True, "recent": False}),
        ("the 3 earliest papers about agents in 2025", IntentKind.PAPERS, "agents", {"oldest": True, "limit": 3}),
        ("most cited paper", IntentKind.PAPERS, "", {"by_citations": True}),
        ("which papers on RAG have the most citations?", IntentKind.PAPERS, "RAG", {"by_citations": True}),
        ("the 5 most cited papers on speech", IntentKind.PAPERS, "speech", {"by_citations": True, "limit": 5}),
        ("how many authors are there?", IntentKind.AUTHORS, "", {}),
        ("how many different authors wrote about speech recognition?", IntentKind.AUTHORS, "speech recognition", {}),
        ("list all topics about speech", IntentKind.COVER, "speech", {}),
        ("what are the main research themes?", IntentKind.THEMES, "", {}),
        ("papers on RAG this year", IntentKind.PAPERS, "RAG", {"window": (0, "year")}),
        ("papers published today", IntentKind.PAPERS, "", {"recent": True}),
        ("what came out today?", IntentKind.PAPERS, "", {"recent": True}),
        ("any new papers on RAG today?", IntentKind.PAPERS, "RAG", {"recent": True}),
        ("what does article 13 of the EU AI Act require?", IntentKind.PAPERS, None, {"cited": 0}),
        ("how many authors does a typical NLP paper have?", IntentKind.PAPERS, None, {}),
        ("who writes better code, GPT-4 or humans?", IntentKind.PAPERS, None, {}),
        ("who publishes fake news on Twitter?", IntentKind.PAPERS, None, {}),
        ("how have LLMs changed education?", IntentKind.PAPERS, None, {}),
        ("what is new about Mamba compared to transformers?", IntentKind.PAPERS, None, {}),
        ("which attention heads are declining in importance?", IntentKind.PAPERS, None, {}),
        ("which models are growing in size fastest?", IntentKind.PAPERS, None, {}),
        ("and for Arabic?", IntentKind.PAPERS, "Arabic", {"elliptical": True, "follow_up": True}),
        ("and by quarter?", IntentKind.PAPERS, "", {"elliptical": True, "unit": "quarter"}),
        ("and is it robust?", IntentKind.PAPERS, None, {"elliptical": False}),
        ("papers from may 2025 on speech recognition", IntentKind.PAPERS, "speech recognition", {"period": "2025-05"}),
        ("papers on RAG from 2025 on", IntentKind.PAPERS, "RAG", {"period": "2025.."}),
        ("last month's papers on RAG", IntentKind.PAPERS, "RAG", {"window": (-1, "month")}),
        ("papers on RAG in the last month", IntentKind.PAPERS, "RAG", {"window": (1, "month")}),
        ("papers on RAG from the past year", IntentKind.PAPERS, "RAG", {"window": (1, "year")}),
        ("papers on RAG last week", IntentKind.PAPERS, "RAG", {"window": (1, "week")}),
        ("list all topics about speech in 2025", IntentKind.COVER, "speech", {"period": "2025"}),
        (
            "what topics cover question answering in the last year?",
            IntentKind.COVER,
            "question answering",
            {"window": (1, "year")},
        ),
        (
            "how many topics cover speech last quarter?",
            IntentKind.COVER,
            "speech",
            {"window": (-1, "quarter"), "noun": "count"},
        ),
        ("list all topics in 2025", IntentKind.LARGEST, "", {"period": "2025"}),
        ("which topic has the fewest documents?", IntentKind.LARGEST, "", {"peak": "fewest", "limit": 1}),
        ("top 5 topics by growth", IntentKind.EMERGING, "", {"limit": 5, "declining": False}),
        ("top 3 topics ranked by decline", IntentKind.EMERGING, "", {"limit": 3, "declining": True}),
        ("what's the difference between topic 1 and topic 4?", IntentKind.COMPARE, None, {"topic_ids": [1, 4]}),
        (
            "what are people saying about chain of thought faithfulness?",
            IntentKind.PAPERS,
            "chain of thought faithfulness",
            {},
        ),
        ("what do researchers think about RLHF?", IntentKind.PAPERS, "RLHF", {}),
        ("what is known about tokenizer bias?", IntentKind.PAPERS, "tokenizer bias", {}),
        ("show me the papers on RAG", IntentKind.PAPERS, "RAG", {"limit": 0}),  # "the" is no count of one
        ("show me the new topics", IntentKind.EMERGING, "", {"limit": 0}),
        ("list the topics in 2025", IntentKind.LARGEST, "", {"limit": 0, "period": "2025"}),
        ("list all topics in 2025", IntentKind.LARGEST, "", {"limit": 25, "period": "2025"}),
        ("top ten topics", IntentKind.LARGEST, "", {"limit": 10}),
        ("show all topics that declined in 2025", IntentKind.EMERGING, "", {"declining": True, "period": "2025"}),
        ("list all topics that grew last year", IntentKind.EMERGING, "", {"window": (-1, "year")}),
        ("how many topics cover speech in 2025", IntentKind.COVER, "speech", {"period": "2025", "noun": "count"}),
        ("papers on RAG since last month", IntentKind.PAPERS, "RAG", {"window": (-2, "month")}),
        ("how many papers since last year", IntentKind.COUNT, "", {"window": (-2, "year")}),
        ("papers on RAG from previous years", IntentKind.PAPERS, "RAG", {"window": None}),
        ("what happened last month in RAG", IntentKind.PAPERS, "RAG", {"window": (-1, "month")}),
        ("the last layer of transformers", IntentKind.PAPERS, None, {"window": None}),
        ("find documents in topic 2 and topic 6 on differential privacy", IntentKind.PAPERS, None, {}),
        ("papers in topic 2 and topic 6 using contrast enhancement", IntentKind.PAPERS, None, {}),
        ("what's the difference between topic 1 and 4?", IntentKind.COMPARE, None, {"topic_ids": [1, 4]}),
        ("how does topic 3 differ from topic 5?", IntentKind.COMPARE, None, {"topic_ids": [3, 5]}),
        ("how similar are topic 2 and topic 7?", IntentKind.COMPARE, None, {"topic_ids": [2, 7]}),
        ("which topics are similar to topic 4?", IntentKind.TOPIC, None, {"topic_ids": [4]}),
        ("how is topic 3 different from topic 5", IntentKind.COMPARE, None, {"topic_ids": [3, 5]}),
        ("what distinguishes topic 3 from topic 5", IntentKind.COMPARE, None, {"topic_ids": [3, 5]}),
        ("contrast topic 3 with topic 5", IntentKind.COMPARE, None, {"topic_ids": [3, 5]}),
        ("how related are topic 2 and topic 5", IntentKind.COMPARE, None, {"topic_ids": [2, 5]}),
        ("compare topic 1 and 4", IntentKind.COMPARE, None, {"topic_ids": [1, 4]}),
        ("topic 3 vs 5", IntentKind.COMPARE, None, {"topic_ids": [3, 5]}),
        ("what happened in 2025", IntentKind.PAPERS, "", {"period": "2025"}),
        # other corpora's own words for their documents
        ("latest news on Apple", IntentKind.PAPERS, "Apple", {"recent": True}),
        ("which bills are about health care?", IntentKind.PAPERS, "health care", {}),
        ("what are the main stories about the election?", IntentKind.PAPERS, "the election", {}),
        ("articles mentioning Tony Blair", IntentKind.PAPERS, "Tony Blair", {}),
        ("what news is there on Brexit?", IntentKind.PAPERS, "Brexit", {}),
        ("is there anything about the iPod?", IntentKind.PAPERS, "the iPod", {}),
        ("is there a paper on sign language translation?", IntentKind.PAPERS, "sign language translation", {}),
        ("is there a topic on speech?", IntentKind.COVER, "speech", {}),
        ("summarize the news on Iraq", IntentKind.PAPERS, "Iraq", {}),
        ("summarise what the papers say about RLHF", IntentKind.PAPERS, "RLHF", {}),
        ("are there topics about Arabic?", IntentKind.COVER, "Arabic", {}),
        ("papers from previous years on RAG", IntentKind.PAPERS, "RAG", {"window": None}),
        ("what have LLMs written in student essays?", IntentKind.PAPERS, None, {"person": ""}),
        ("who studies at universities using ChatGPT?", IntentKind.PAPERS, None, {}),
        ("are there more papers in 2025 or 2026?", IntentKind.COUNT, "", {"period": "2025..2026", "peak": "most"}),
        ("hate speech papers by Paloma Piot", IntentKind.AUTHORS, "hate speech", {"person": "Paloma Piot"}),
        ("what's the peak month for speech papers?", IntentKind.COUNT, "speech", {"peak": "most"}),
        ("has interest in chain-of-thought declined?", IntentKind.TREND, "chain-of-thought", {}),
        ("what are the limitations of RAG?", IntentKind.THEMES, "RAG", {"problems": True}),
        ("the best papers by far", IntentKind.PAPERS, None, {"person": ""}),
        ("compare RAG in 2025 and 2026", IntentKind.COUNT, "RAG", {"period": "2025..2026", "unit": "year"}),
        ("RAG in 2025-03 vs 2025-06", IntentKind.COUNT, "RAG", {"period": "2025-03..2025-06", "unit": "month"}),
        (
            "which year had more papers on agents, 2025 or 2026?",
            IntentKind.COUNT,
            "agents",
            {"period": "2025..2026", "peak": "most"},
        ),
        (
            "how many papers on agents in 2025 and how many in 2026?",
            IntentKind.COUNT,
            "agents",
            {"period": "2025..2026"},
        ),
        ("BERT 2019 vs GPT 2020", IntentKind.COMPARE, None, {"period": ""}),
        ("what are the emerging topics in speech?", IntentKind.EMERGING, "speech", {}),
        ("what's new in bias and fairness research?", IntentKind.EMERGING, "bias and fairness", {}),
        ("what topics emerged in 2026?", IntentKind.EMERGING, "", {"period": "2026"}),
        ("which topics grew the most between 2025 and 2026?", IntentKind.EMERGING, "", {"period": "2025..2026"}),
        ("which topics grew in the last three months?", IntentKind.EMERGING, "", {"window": (3, "month")}),
        ("papers in topic 12 about DPO", IntentKind.PAPERS, "DPO", {"topic_ids": [12]}),
        ("latest papers in topic 12", IntentKind.PAPERS, "", {"topic_ids": [12], "recent": True}),
        ("papers in topic 12", IntentKind.TOPIC, None, {"topic_ids": [12]}),
        ("give me 10 papers about summarization", IntentKind.PAPERS, "summarization", {"limit": 10}),
        ("what are the 5 largest topics?", IntentKind.LARGEST, "", {"limit": 5}),
        ("top 20 authors in topic 5", IntentKind.AUTHORS, "", {"limit": 20, "topic_ids": [5]}),
        ("find papers on top-5 accuracy", IntentKind.PAPERS, "top-5 accuracy", {"limit": 0}),
        ("what is the smallest topic?", IntentKind.LARGEST, "", {"peak": "fewest", "limit": 1}),
        ("what is the largest topic in speech?", IntentKind.LARGEST, "speech", {"limit": 1}),
        ("which topic is the biggest?", IntentKind.LARGEST, "", {"limit": 1}),
        ("what are the largest topic areas?", IntentKind.LARGEST, "", {"limit": 0}),
        ("what are the largest topic groupings?", IntentKind.LARGEST, "", {"limit": 0}),
        ("largest topic(s)?", IntentKind.LARGEST, "", {"limit": 0}),
        ("what are the most common subjects in the speech topic?", IntentKind.LARGEST, None, {"limit": 0}),
        ("what is the smallest topic in 2025?", IntentKind.LARGEST, "", {"limit": 1, "period": "2025"}),
        ("what are the biggest topics in speech?", IntentKind.LARGEST, "speech", {}),
        ("top 5 topics in speech recognition", IntentKind.LARGEST, "speech recognition", {"limit": 5}),
        ("which topics are the largest in healthcare?", IntentKind.LARGEST, "healthcare", {}),
        ("the smallest topics on translation", IntentKind.LARGEST, "translation", {"peak": "fewest"}),
        ("biggest topics in 2025", IntentKind.LARGEST, "", {"period": "2025"}),
        ("today's papers on RAG", IntentKind.PAPERS, "RAG", {"recent": True}),
        ("the dominant topic modeling approaches", IntentKind.PAPERS, None, {}),
        (
            "most popular topics in 2026 related to hallucination",
            IntentKind.LARGEST,
            "hallucination",
            {"period": "2026"},
        ),
        ("top topics concerning low-resource languages", IntentKind.LARGEST, "low-resource languages", {}),
        ("which topics are biggest in terms of citations?", IntentKind.LARGEST, "", {"noun": "citations"}),
        ("papers from 2000 patients", IntentKind.PAPERS, None, {"period": ""}),
        ("top topic models like LDA and BERTopic", IntentKind.PAPERS, None, {}),
        ("what are the main topics in 2025?", IntentKind.LARGEST, "", {"period": "2025"}),
        ("and hallucination vs reasoning?", IntentKind.COMPARE, None, {"subjects": ["hallucination", "reasoning"]}),
        (
            "which topic has the most papers in the last three months?",
            IntentKind.LARGEST,
            "",
            {"window": (3, "month"), "limit": 1},
        ),
        ("what are the most common topics in this corpus?", IntentKind.LARGEST, "", {}),
        ("is the RLHF topic growing?", IntentKind.TREND, "RLHF", {}),
        ("who wrote 2503.12141?", IntentKind.DOCUMENT, "", {"doc_ref": "2503.12141", "similar": False}),
        ("tell me about paper 2503.12141", IntentKind.DOCUMENT, "", {"doc_ref": "2503.12141"}),
        ("it cost 1234.5678 dollars", IntentKind.PAPERS, None, {"doc_ref": ""}),
        ("and in 2026?", IntentKind.PAPERS, "", {"elliptical": True, "period": "2026"}),
        ("what about speech?", IntentKind.PAPERS, "speech", {"elliptical": True}),
        ("and topic 1?", IntentKind.PAPERS, "", {"elliptical": True, "topic_ids": [1]}),
        ("and last month?", IntentKind.PAPERS, "", {"elliptical": True, "window": (-1, "month")}),
        ("and RAG?", IntentKind.PAPERS, "RAG", {"elliptical": True}),
        (
            "and which of those use retrieval?",
            IntentKind.PAPERS,
            "retrieval",
            {"elliptical": False, "follow_up": True},
        ),
        ("how many papers by Min Zhang?", IntentKind.AUTHORS, "", {"person": "Min Zhang"}),
        ("Preslav Nakov's papers on fact-checking", IntentKind.AUTHORS, "fact-checking", {"person": "Preslav Nakov"}),
        ("which topics does Iryna Gurevych work on?", IntentKind.AUTHORS, "", {"person": "Iryna Gurevych"}),
        ("who is Preslav Nakov?", IntentKind.AUTHORS, "", {"person": "Preslav Nakov"}),
        ("who wrote the most papers about agents?", IntentKind.AUTHORS, "agents", {"person": ""}),
        ("who is the most prolific author on reasoning?", IntentKind.AUTHORS, "reasoning", {}),
        ("which authors published the most in 2026?", IntentKind.AUTHORS, "", {"period": "2026"}),
        ("the model's papers", IntentKind.PAPERS, None, {"person": ""}),
        ("what can you do?", IntentKind.HELP, None, {}),
        ("hi!", IntentKind.HELP, None, {}),
        ("help me find papers on RAG", IntentKind.PAPERS, "RAG", {}),
        ("how was this index built?", IntentKind.ABOUT, "", {}),
        ("what's the date range of the corpus?", IntentKind.ABOUT, "", {}),
        ("which embedding model was used?", IntentKind.ABOUT, "", {}),
        ("what is this corpus about?", IntentKind.THEMES, "", {}),
        ("how many papers were published each month?", IntentKind.COUNT, "", {"noun": "papers"}),
        ("how many documents are outliers?", IntentKind.COUNT, "outliers", {}),
        ("papers on DPO", IntentKind.PAPERS, "DPO", {}),
        ("what was published in June 2026?", IntentKind.PAPERS, "", {"period": "2026-06"}),
        ("RAG papers in Q1 2026", IntentKind.PAPERS, "RAG papers", {"period": "2026Q1"}),
        ("papers on RAG in the first quarter of 2026", IntentKind.PAPERS, "RAG", {"period": "2026Q1"}),
        ("how many papers on RAG since 2026-03?", IntentKind.COUNT, "RAG", {"period": "2026-03.."}),
        ("papers on RAG after October 2025", IntentKind.PAPERS, "RAG", {"period": "2025-11.."}),
        ("papers on RAG before 2026", IntentKind.PAPERS, "RAG", {"period": "..2025"}),
        ("papers on agents after 2025Q4", IntentKind.PAPERS, "agents", {"period": "2026Q1.."}),
        ("models released before 2020 were small", IntentKind.PAPERS, None, {"period": ""}),
        (
            "are there more papers on RAG or fine-tuning?",
            IntentKind.COMPARE,
            None,
            {"subjects": ["RAG", "fine-tuning"]},
        ),
        (
            "which is more popular, speech recognition or machine translation?",
            IntentKind.COMPARE,
            None,
            {"subjects": ["speech recognition", "machine translation"]},
        ),
        ("is RAG more popular than fine-tuning?", IntentKind.COMPARE, None, {"subjects": ["RAG", "fine-tuning"]}),
        ("is BERT more robust than GPT?", IntentKind.PAPERS, None, {}),
        ("which is more accurate, BERT or GPT?", IntentKind.PAPERS, None, {}),
        ("tell me more about the second paper", IntentKind.DOCUMENT, "", {"cited": 2, "similar": False}),
        ("what does paper 2 say?", IntentKind.DOCUMENT, "", {"cited": 2}),
        ("more like [3]", IntentKind.DOCUMENT, "", {"cited": 3, "similar": True}),
        ("find papers similar to 2505.00059", IntentKind.DOCUMENT, "", {"doc_ref": "2505.00059", "similar": True}),
        ("which topic is question answering in?", IntentKind.COVER, "question answering", {}),
        ("where does machine translation fit in the topic tree?", IntentKind.COVER, "machine translation", {}),
        ("what topics are related to topic 5?", IntentKind.TOPIC, None, {"topic_ids": [5]}),
        ("how many new papers on agents this month?", IntentKind.COUNT, "agents", {"window": (0, "month")}),
        ("papers on GPT-2", IntentKind.PAPERS, None, {"cited": 0}),
        # not counts or comparisons
        ("how do language models handle long documents?", IntentKind.PAPERS, None, {}),
    ],
)
def test_count_and_compare_intents(question, kind, content, extra):
    test_time_and_corpus_intents(question, kind, content, extra)


def _corpus_texts(assistant):
    docs = assistant.index.documents
    return {d: f"{t}\n{x}".lower() for d, t, x in zip(docs.doc_id, docs.title, docs.text, strict=True)}


def test_count_counts_the_documents_that_hold_the_words(assistant):
    texts = _corpus_texts(assistant)
    answer = assistant.ask("how many documents mention telescope?")
    expected = sum("telescope" in t for t in texts.values())
    assert 0 < expected < len(texts)
    assert f"{expected} documents ({expected / len(texts):.1%}) hold every word of “telescope”" in answer.text
    # routed to the astronomy topic, cited from it, and the count of the topic is its size
    assert answer.topics and _theme_of_topic(assistant, answer.topics[0].id) == "astronomy"
    assert f"({assistant.topics[answer.topics[0].id].size})" in answer.text
    assert answer.citations and answer.citations[0].doc_id.startswith("astronomy")
    # two words: every word, and the phrase itself, apart
    both = sum(("star" in t and "orbit" in t) for t in texts.values())
    phrase = sum(bool(re.search(r"\bstar orbits?\b", t)) for t in texts.values())
    two = assistant.ask("how many documents are about star orbit?")
    assert f"{both} documents" in two.text and f"{phrase} of them hold the phrase itself" in two.text
    assert "hold the word itself" not in answer.text  # every form of "telescop" here is "telescope"


def test_a_word_its_stem_widens_is_also_counted_as_itself(tmp_path):
    import random

    from tests.conftest import fake_settings, themed_corpus
    from topicchat.app.answer import Assistant
    from topicchat.indexer.pipeline import build_index

    corpus = themed_corpus()
    rng = random.Random(3)
    forms = ["tokenization", "tokens", "token", "tokenizations"]
    corpus["text"] = [f"{t} {rng.choice(forms)}" if i % 3 == 0 else t for i, t in enumerate(corpus["text"])]
    path = tmp_path / "tok.csv"
    corpus.to_csv(path, index=False)
    out = tmp_path / "idx"
    build_index(str(path), out, fake_settings(tmp_path / "cache"), report=lambda _m: None)
    assistant = Assistant.open(out)
    texts = _corpus_texts(assistant)
    stem = sum(bool(re.search(r"\btokens?\b|\btokenizations?\b", t)) for t in texts.values())
    itself = sum(bool(re.search(r"\btokenizations?\b", t)) for t in texts.values())
    assert 0 < itself < stem
    answer = assistant.ask("how many documents mention tokenization?")
    assert (
        f"{stem} documents ({stem / len(texts):.1%}) hold every word of “tokenization” (token, as stems); {itself} of them hold the word itself."
        in answer.text
    ), answer.text


def test_a_search_says_which_of_its_words_no_document_holds(assistant):
    answer = assistant.ask("papers about telescope Klingon")
    assert answer.text.startswith("No document holds the word “Klingon”; these are the closest in meaning.")
    assert answer.citations and answer.citations[0].doc_id.startswith("astronomy")
    assert not assistant.ask("papers about telescope").text.startswith("No document holds")
    # a word held in another spelling the index knows is held ("tele-scope" / "telescope"), and one unknown
    # word among several known ones is no reason to say it
    assert not assistant.ask("papers about tele-scope").text.startswith("No document holds")
    assert not assistant.ask("telescope galaxy orbit klingon").text.startswith("No document holds")


def test_count_without_a_subject_gives_the_index_size(assistant):
    n, topics = len(assistant.index.documents), len(assistant.index.topics)
    assert assistant.ask("how many documents are there?").text.startswith(
        f"The index holds {n} documents in {topics} topics"
    )
    assert assistant.ask("how many topics are there?").text.startswith(f"The index holds {topics} topics")


def test_count_of_words_no_document_holds(assistant):
    answer = assistant.ask("how many documents mention zyxwv plonk?")
    assert "No documents hold every word of “zyxwv plonk”" in answer.text
    assert answer.citations == [] and not answer.matched


def test_compare_two_subjects_routes_each_to_its_own_topic(assistant):
    answer = assistant.ask("compare telescope galaxy with flour butter oven")
    assert answer.intent == IntentKind.COMPARE
    themes = [_theme_of_topic(assistant, t.id) for t in answer.topics]
    assert "astronomy" in themes and "cooking" in themes
    sides = [line for line in answer.text.splitlines() if line.startswith("- “")]
    assert sides[0].startswith("- “telescope galaxy”: topic") and sides[1].startswith("- “flour butter oven”: topic")
    assert "No topic routes to both" in answer.text
    cited = [c.doc_id.split("-")[0] for c in answer.citations]
    assert cited[:2] == ["astronomy", "astronomy"] and cited[2:] == ["cooking", "cooking"]
    assert [c.n for c in answer.citations] == [1, 2, 3, 4] and all(c.evidence for c in answer.citations)


def test_compare_a_subject_with_a_named_topic(assistant):
    astronomy = assistant.ask("which topics cover telescope galaxy?").topics[0].id
    answer = assistant.ask(f"compare topic {astronomy} with telescope galaxy")
    assert f"Both route to topic {astronomy}" in answer.text
    assert "There is no topic 999" in assistant.ask("compare topic 999 with telescope").text


@pytest.fixture(scope="module")
def authored(tmp_path_factory):
    """The themed corpus with an authors column: each theme has its own regular author, one author writes
    in every theme, and the rest are one-off co-authors."""
    from tests.conftest import fake_settings, themed_corpus
    from topicchat.app.answer import Assistant
    from topicchat.indexer.pipeline import build_index

    frame = themed_corpus()
    frame["authors"] = [
        "; ".join(
            [f"{theme.capitalize()} Regular"] * (i % 2 == 0)
            + ["Pat Everywhere"] * (i % 5 == 0)
            + [f"Guest {theme} {i}"]
        )
        for theme, i in zip(frame["theme"], frame.groupby("theme").cumcount(), strict=True)
    ]
    root = tmp_path_factory.mktemp("authored")
    frame.to_csv(root / "corpus.csv", index=False)
    path = build_index(str(root / "corpus.csv"), root / "index", fake_settings(root / "cache"), report=lambda _m: None)
    return Assistant.open(path)


def _listed(text: str) -> dict[str, int]:
    found = re.findall(r"^- (.+): (\d+) documents", text, re.MULTILINE)
    return {name: int(n) for name, n in found}


def test_which_authors_counts_the_author_column_of_the_routed_topics(authored):
    docs = authored.index.documents
    answer = authored.ask("which authors work on telescope galaxy nebula?")
    assert answer.intent == IntentKind.AUTHORS and answer.topics
    mine = docs[docs["topic"].isin([t.id for t in answer.topics])]
    assert answer.text.startswith(f"Authors in the {len(mine)} documents of the topic(s)")
    for name, n in _listed(answer.text).items():
        assert n == int(mine["authors"].str.split("; ").apply(lambda a, name=name: name in a).sum()) >= 2
    # an area of the tree: its theme's regular author leads, one-off guests are never listed
    leaf = answer.topics[0].id
    area = [t.id for t in path_of(leaf, authored.topics)][0]
    wide = authored.ask(f"top authors in topic {area}")
    rows = docs[docs["topic"].isin(authored.leaves_under(area))]
    listed = _listed(wide.text)
    regular = int(rows["authors"].str.contains("Astronomy Regular", regex=False).sum())
    assert regular >= 2 and listed["Astronomy Regular"] == regular
    assert not any(name.startswith("Guest") for name in listed)
    first = next(iter(listed))  # [1] is a document of the first author listed
    assert wide.citations and first in docs.set_index("doc_id").loc[wide.citations[0].doc_id, "authors"]


def test_most_prolific_authors_of_the_whole_corpus(authored):
    docs = authored.index.documents
    answer = authored.ask("who are the most prolific authors?")
    listed = _listed(answer.text)
    assert answer.text.startswith(f"Authors in all {len(docs)} documents")
    recount = {n: int(docs["authors"].str.split("; ").apply(lambda a, n=n: n in a).sum()) for n in listed}
    assert listed == recount and list(listed.values()) == sorted(listed.values(), reverse=True)
    assert next(iter(listed)) == "Pat Everywhere" and listed["Pat Everywhere"] == 24  # every fifth document
    assert set(listed) == {"Pat Everywhere"} | {
        f"{t.capitalize()} Regular" for t in ("astronomy", "cooking", "football", "genetics")
    }


def test_authors_on_an_index_without_an_author_column(assistant):
    answer = assistant.ask("which authors work on telescope?")
    assert not answer.matched and answer.text.startswith("This index has no column of authors")


def test_a_count_finds_hyphenated_and_spaced_forms_alike(assistant):
    texts = _corpus_texts(assistant)
    spaced = assistant.ask("how many documents mention star orbit?").text
    hyphen = assistant.ask("how many documents mention star-orbit?").text
    count = re.compile(r"(\d+) documents \([\d.]+%\) hold every word")
    assert count.search(spaced).group(1) == count.search(hyphen).group(1)
    assert int(count.search(spaced).group(1)) == sum(("star" in t and "orbit" in t) for t in texts.values())


def test_a_count_of_a_topic_and_counts_it_cannot_make(assistant):
    leaf = assistant.index.topics[0]
    answer = assistant.ask(f"how many documents are in topic {leaf.id}?")
    assert answer.text.startswith(f"Topic {leaf.id} (") and f"holds {leaf.size} of the index's" in answer.text
    refused = assistant.ask("how many documents are not about telescope?")
    assert not refused.matched and "would be miscounted" in refused.text
    assert "There is no topic 999" in assistant.ask("how many documents are in topic 999?").text


def test_a_question_too_long_to_read_is_refused(assistant):
    answer = assistant.ask("which papers discuss " + "telescope " * 400)
    assert not answer.matched and answer.citations == []
    assert answer.text.startswith("This question is 4,") and "at most 2,000" in answer.text


def test_papers_by_a_person_are_the_documents_that_name_them(authored):
    docs = authored.index.documents
    mine = docs[docs["authors"].str.split("; ").apply(lambda a: "Pat Everywhere" in a)]
    answer = authored.ask("papers by pat everywhere")
    assert answer.text.startswith(f"{len(mine)} documents name “pat everywhere” as an author")
    assert answer.citations and {c.doc_id for c in answer.citations} <= set(mine["doc_id"])
    missing = authored.ask("papers by Ann Nobody")
    assert not missing.matched and missing.text.startswith("No document in this index names “Ann Nobody”")
    assert "Authors with that surname" not in missing.text
    near = authored.ask("papers by Jo Everywhere")
    assert "Authors with that surname: Pat Everywhere." in near.text


def test_which_subject_has_more_documents(assistant):
    texts = _corpus_texts(assistant)
    answer = assistant.ask("are there more documents about telescope or flour?")
    assert answer.intent == IntentKind.COMPARE
    n = {w: sum(bool(re.search(rf"\b{w}s?\b", t)) for t in texts.values()) for w in ("telescope", "flour")}
    more, less = sorted(n, key=lambda w: -n[w])
    expected = (
        f"- More documents hold the words of “{more}” ({n[more]}) than of “{less}” ({n[less]})"
        if n[more] > n[less]
        else f"- As many documents hold the words of each ({n[more]})."
    )
    assert expected in answer.text


def test_a_person_asked_in_other_words_and_a_surname(authored):
    docs = authored.index.documents
    mine = docs[docs["authors"].str.split("; ").apply(lambda a: "Pat Everywhere" in a)]
    for question in ("how many papers by Pat Everywhere?", "which topics does Pat Everywhere work on?"):
        answer = authored.ask(question)
        assert answer.intent == IntentKind.AUTHORS and answer.text.startswith(f"{len(mine)} documents name")
        assert "; most are in topic" in answer.text
    hers = authored.ask("Pat Everywhere's papers on telescope")
    on = mine["doc_id"][mine["text"].str.contains("telescope") | mine["title"].str.contains("telescope")]
    assert f"{len(on)} of them hold every word of “telescope”" in hers.text
    assert {c.doc_id for c in hers.citations[: len(on)]} == set(on)
    regular = authored.ask("papers by Regular")
    with_surname = int(docs["authors"].str.contains(" Regular", regex=False).sum())
    assert f" {with_surname} documents have an author with the surname “Regular” (4 names" in regular.text
    most = authored.ask("who wrote the most papers about telescope galaxy?")
    assert (
        most.intent == IntentKind.AUTHORS and most.text == authored.ask("which authors work on telescope galaxy?").text
    )


def test_three_subjects_side_by_side(assistant):
    texts = _corpus_texts(assistant)
    words = ("telescope", "flour", "striker")
    answer = assistant.ask("compare telescope, flour and striker")
    sides = [line for line in answer.text.splitlines() if line.startswith("- “")]
    assert [s.split("”")[0][3:] for s in sides] == list(words)
    n = {w: sum(bool(re.search(rf"\b{w}s?\b", t)) for t in texts.values()) for w in words}
    ranked = sorted(words, key=lambda w: -n[w])
    assert (
        "- Documents holding the words of each, most first: " + "; ".join(f"“{w}” {n[w]}" for w in ranked)
        in answer.text
    )
    assert len(answer.citations) == 6 and {c.doc_id.split("-")[0] for c in answer.citations} == {
        "astronomy",
        "cooking",
        "football",
    }


def test_largest_topics_are_listed_by_size(assistant):
    answer = assistant.ask("which topics are most popular?")
    sizes = [int(n) for n in re.findall(r"^- Topic \d+: .+? \((\d+) documents", answer.text, re.MULTILINE)]
    expected = sorted((t.size for t in assistant.index.topics), reverse=True)[: len(sizes)]
    assert sizes and sizes == expected
    assert len(answer.citations) == len(sizes)


def test_the_largest_topic_is_one_topic_with_the_next_ones_named(assistant):
    answer = assistant.ask("what is the largest topic?")
    listed = re.findall(r"^- Topic (\d+): .+? \((\d+) documents", answer.text, re.MULTILINE)
    sizes = sorted((t.size for t in assistant.index.topics), reverse=True)
    assert len(listed) == 1 and int(listed[0][1]) == sizes[0], answer.text
    assert answer.text.startswith("The largest of the ") and len(answer.citations) == 1
    nxt = re.search(r"^Next by size: (.+)\.$", answer.text, re.MULTILINE)
    assert nxt and [int(n) for n in re.findall(r"\((\d+)\)(?:;|$)", nxt.group(1))] == sizes[1:3], answer.text
    plural = assistant.ask("what are the largest topics?")
    assert len(re.findall(r"^- Topic \d+:", plural.text, re.MULTILINE)) == min(len(sizes), assistant.LARGEST_SHOWN)


def test_largest_topics_about_a_subject_are_only_that_subjects(assistant):
    answer = assistant.ask("what are the biggest topics about oven flour butter?")
    docs = assistant.index.documents
    listed = [int(t) for t in re.findall(r"^- Topic (\d+):", answer.text, re.MULTILINE)]
    assert listed and "topics about “oven flour butter”" in answer.text, answer.text
    for topic in listed:  # each listed topic is mostly cooking, and they come largest first
        members = docs[docs.topic == topic]["doc_id"]
        assert members.str.startswith("cooking").mean() > 0.5, topic
    sizes = [assistant.index.nodes[t].size for t in listed]
    assert sizes == sorted(sizes, reverse=True)
    assert all(c.doc_id.startswith("cooking") for c in answer.citations)


def test_a_ranking_by_citations_says_the_index_has_none(assistant):
    answer = assistant.ask("which topics are biggest in terms of citations?")
    assert answer.text.startswith("This index holds no citation counts, so topics are ranked by how many")
    assert "largest of the" in answer.text and answer.citations


def test_a_source_of_the_previous_answer_can_be_opened_and_followed(assistant):
    conv = Conversation()
    first = assistant.ask("which papers discuss telescope galaxy nebula?", conv)
    second = first.citations[1]
    opened = assistant.ask("tell me about the second paper", conv)
    assert opened.intent == IntentKind.DOCUMENT and opened.text.startswith("Source 2 of the previous answer:")
    assert f"[1] {second.title}\nid {second.doc_id} · topic {second.topic}:" in opened.text
    assert second.text[:200] in opened.text and [c.doc_id for c in opened.citations] == [second.doc_id]
    # the numbering of the search answer stays the one to point at
    third = assistant.ask("tell me about [3]", conv)
    assert third.citations[0].doc_id == first.citations[2].doc_id
    alike = assistant.ask("more like source 2", conv)
    assert alike.citations[0].doc_id == second.doc_id and len(alike.citations) > 1
    assert second.doc_id not in [c.doc_id for c in alike.citations[1:]]
    assert all(c.doc_id.startswith("astronomy") for c in alike.citations)
    # the list of close documents is now the previous answer: [1] the document, then its neighbours
    assert (
        f"cited {len(alike.citations)} source(s), so there is no source 9"
        in assistant.ask("tell me about [9]", conv).text
    )
    assert assistant.ask("tell me about [1]", Conversation()).text.startswith("There is no earlier answer")


def test_documents_similar_to_a_document_id(assistant):
    answer = assistant.ask("find papers similar to cooking-3")
    assert answer.citations[0].doc_id == "cooking-3"
    assert all(c.doc_id.startswith("cooking") for c in answer.citations[1:]) and len(answer.citations) > 1
    assert "no document with id “nothing-99”" in assistant.ask("papers similar to nothing-99").text


def test_a_topic_shows_its_closest_topics(assistant):
    leaf = assistant.index.topics[0]
    answer = assistant.ask(f"what topics are related to topic {leaf.id}?")
    line = next(x for x in answer.text.splitlines() if x.startswith("Closest topics: "))
    assert len(re.findall(r"topic \d+:", line)) == min(3, len(assistant.index.topics) - 1)


def test_one_common_word_the_embedder_reads_poorly_is_found_by_the_documents_that_hold_it(tmp_path):
    """ "RAG" alone sits far from the abstracts that use it, yet too many hold it to be a rare word: its
    holders are the answer, and it says they were found by the word."""
    from tests.conftest import fake_settings, themed_corpus
    from topicchat.app.answer import Assistant
    from topicchat.indexer.pipeline import build_index

    frame = themed_corpus()
    holders = list(range(0, 120, 12))  # 10 of 120 documents: not rare (over 2%)
    for i in holders:
        frame.loc[i, "text"] += " The zorkmid array."
    frame.to_csv(tmp_path / "corpus.csv", index=False)
    path = build_index(
        str(tmp_path / "corpus.csv"), tmp_path / "index", fake_settings(tmp_path / "cache"), report=lambda _m: None
    )
    assistant = Assistant.open(path)
    found = assistant.ask("ZORKMID")  # written as an acronym or name: a term to look up
    assert found.matched and "so these are found by its words (zorkmid, as stems)" in found.text, found.text
    assert found.citations and {c.doc_id for c in found.citations} <= set(frame.loc[holders, "id"])
    assert not assistant.ask("ZYXWV").matched  # a word no document holds still matches nothing
    assert not assistant.ask("zorkmid").matched  # a plain word ("tell me more", "what happened"): no term
    # within topics that hold none of it: nothing matches (and the answer says where it searched)
    theme_topics = {t for t in assistant.index.documents["topic"] if t >= 0}
    holding = set(assistant.index.documents.loc[holders, "topic"])
    empty = sorted(theme_topics - holding)
    if empty:
        inside = assistant.ask(f"ZORKMID in topic {empty[0]}")
        assert not inside.matched and not inside.citations, inside.text


def test_a_follow_up_is_read_back_with_the_direction_it_asks_for():
    from topicchat.app.intent import describe

    assert describe(parse_intent("which topics declined in 2025?")) == "which topics declined in 2025"
    assert describe(parse_intent("which topics grew in 2025?")) == "which topics grew in 2025"
    assert describe(parse_intent("papers on RAG since last month")) == "papers on “RAG” since last month"


def test_a_misspelt_subject_word_is_read_as_the_corpus_word(assistant):
    answer = assistant.ask("which papers discuss the telscope?")  # a letter dropped
    assert answer.text.startswith("(No document holds “telscope”, so it was read as “telescope”.)\n"), answer.text
    assert answer.citations and answer.citations[0].doc_id.startswith("astronomy")
    swapped = assistant.ask("papers about the strkier and the refereee")  # two words, two notes
    assert "“strkier”, so it was read as “striker”; no document holds “refereee”" in swapped.text.splitlines()[0]
    for question in ("which papers discuss zyxwvut?", "papers by Telescopio", "which papers mention RLHF?"):
        assert "so it was read as" not in assistant.ask(question).text  # nothing one letter off; a name; an acronym


def test_but_not_leaves_out_the_documents_that_mention_it(assistant):
    texts = _corpus_texts(assistant)
    holding = sum(bool(re.search(r"\bcomets?\b", t)) for t in texts.values())
    answer = assistant.ask("which papers discuss telescope galaxy but not comet?")
    assert answer.text.startswith(f"Left out: the {holding} documents that mention “comet”.\n"), answer.text
    assert answer.citations and all(c.doc_id.startswith("astronomy") for c in answer.citations)
    assert not any(re.search(r"\bcomets?\b", texts[c.doc_id]) for c in answer.citations)
    plain = assistant.ask("which papers discuss telescope galaxy?")
    assert any(re.search(r"\bcomets?\b", texts[c.doc_id]) for c in plain.citations), "without it, comets are cited"
    intent = parse_intent("papers on RAG but not on medicine")
    assert (intent.content, intent.excluded) == ("RAG", "medicine")
    assert parse_intent("papers on RAG without fine-tuning").excluded == "", "'without X' is often the subject"


def test_a_document_named_by_its_title_in_quotes(assistant):
    row = 5
    title = assistant.retriever.titles[row]
    similar = assistant.ask(f'papers similar to "{title.upper()}"')  # any case
    assert similar.intent == "document" and similar.citations[0].row == row
    shown = [float(s) for s in re.findall(r"\(similarity (-?[\d.]+);", similar.text)]
    assert shown and shown == sorted(shown, reverse=True), "the closest first"
    opened = assistant.ask(f"tell me about the paper “{title}”")
    assert opened.text.startswith(f"[1] {title}\nid {assistant.retriever.doc_ids[row]}")
    missing = assistant.ask('more like "A Title No Document Has At All"')
    assert not missing.matched and missing.text.startswith("No document of this index is titled")


def test_the_spelling_fix_leaves_real_words_and_reads_only_words_the_documents_hold(assistant):
    for english in ("planes", "spring", "parsing", "latent", "automaton"):  # real words the corpus lacks
        assert assistant._spelled(f"papers on {english}")[1] == [], english
    assert "read as “planet”" in assistant.ask("papers on plannet").text  # not English: one letter off "planet"
    assert assistant._spelled("recipes for sauces")[1] == [], "words the documents hold are never changed"
    words = assistant._surface_words()
    for typed, read in assistant._spelled("the strkier and the telscope")[1]:
        assert words[read] >= assistant.SPELLING_MIN_DOCUMENTS, (typed, read)


def test_ordinal_topics_follow_the_last_answer_s_topics(assistant):
    conv = Conversation()
    listed = assistant.ask("which topics cover galaxy telescope?", conv)
    first = listed.topics[0].id
    count = assistant.ask("how many documents are in the first topic?", conv)
    assert count.intent == "count" and count.text.startswith(f"Topic {first} (")
    authors = assistant.ask("which authors write in the first topic?", conv)
    assert authors.intent == "authors"


def test_exclusions_take_any_of_their_words_and_stay_for_follow_ups(assistant):
    texts = _corpus_texts(assistant)
    either = sum(bool(re.search(r"\b(comets?|nebulae?)\b", t)) for t in texts.values())
    conv = Conversation()
    answer = assistant.ask("papers on telescope galaxy but not comet or nebula", conv)
    assert answer.text.startswith(f"Left out: the {either} documents that mention “comet” or “nebula”.")
    narrowed = assistant.ask("which of those mention orbit?", conv)
    assert narrowed.text.startswith("Left out:") and not any(
        re.search(r"\b(comets?|nebulae?)\b", texts[c.doc_id]) for c in narrowed.citations
    )
    assert parse_intent("which of those are not about comets?").excluded == "comets"


@pytest.mark.parametrize(
    ("question", "kind", "extra"),
    [
        ("which topics were biggest in 2025-03?", IntentKind.LARGEST, {"period": "2025-03"}),
        ("what were people working on in 2025-03?", IntentKind.LARGEST, {"period": "2025-03"}),
        ("which topics disappeared in 2025-05?", IntentKind.EMERGING, {"declining": True, "period": "2025-05"}),
        ("is topic 3 bigger than topic 2?", IntentKind.COMPARE, {"topic_ids": [3, 2]}),
        ("which topics overlap with topic 18?", IntentKind.TOPIC, {"topic_ids": [18]}),
        ("do topics 1 and 2 overlap?", IntentKind.COMPARE, {"topic_ids": [1, 2]}),
        ("is DPO getting more popular?", IntentKind.TREND, {"content": "DPO"}),
        ("did papers on agents increase from 2025-03 to 2025-04?", IntentKind.TREND, {"period": "2025-03..2025-04"}),
        ("compare 2025-04 and 2025-05", IntentKind.COUNT, {"period": "2025-04..2025-05", "peak": "most"}),
        ("papers by Fei Huang and Jingren Zhou", IntentKind.AUTHORS, {"person": "Fei Huang; Jingren Zhou"}),
        ("papers by hand and machine", IntentKind.PAPERS, {"person": ""}),
        ('papers like "Attention Is All You Need"', IntentKind.DOCUMENT, {"content": "Attention Is All You Need"}),
    ],
)
def test_everyday_phrasings_are_read(question, kind, extra):
    intent = parse_intent(question)
    assert intent.kind == kind, intent
    for field_name, value in extra.items():
        assert getattr(intent, field_name) == value, (field_name, intent)


def test_exclusions_and_ordinals_read_only_what_they_point_at(assistant):
    assert (parse_intent("papers on RAG but not medical from 2025-04").excluded, "2025-04") == ("medical", "2025-04")
    assert parse_intent("papers on RAG but not medical from 2025-04").period == "2025-04"
    for subject in ("papers on models that are not on par with humans", "why is RAG not about retrieval only?"):
        assert parse_intent(subject).excluded == "", subject  # the negation is the subject's
    assert parse_intent("how many of these papers were published in 2025-04?").content == ""
    assert ordinal_topics("what was the first topic to emerge?", [5, 6], True) == "what was the first topic to emerge?"
    assert ordinal_topics("tell me about the second topic", [5, 6], False) == "tell me about topic 6"
    conv = Conversation()
    assistant.ask("list topics", conv)
    top = assistant.index.top_level()
    assert assistant.ask("tell me about the second one", conv).text.startswith(f"Topic {top[1].id}: ")
    a, b = (t for t in assistant.index.topics[:2])
    bigger = a if a.size > b.size else b
    compared = assistant.ask(f"is topic {a.id} bigger than topic {b.id}?")
    assert compared.intent == "compare" and f"topic {bigger.id} is the larger" in compared.text or a.size == b.size


@pytest.fixture(scope="module")
def acronyms(tmp_path_factory):
    """The themed corpus where some astronomy documents name the James Webb Space Telescope: spelled out
    with its acronym in brackets, by the acronym alone, or spelled out alone."""
    from tests.conftest import fake_settings, themed_corpus
    from topicchat.app.answer import Assistant
    from topicchat.indexer.pipeline import build_index

    frame = themed_corpus()
    astronomy = frame.index[frame["theme"] == "astronomy"]
    ways = [
        " Seen by the James Webb Space Telescope (JWST) in infrared.",
        " The JWST saw it first.",
        " The James Webb Space Telescope saw it first.",
    ]
    for i, row in enumerate(astronomy[:18]):
        frame.loc[row, "text"] += ways[i % 3]
    for theme in ("astronomy", "cooking", "football", "genetics"):  # a product name in every theme
        for row in frame.index[frame["theme"] == theme][20:22]:
            frame.loc[row, "text"] += " Measured with the ZB-9 kit."
    for doc in ("astronomy-25", "football-25"):  # a rare word in two themes
        frame.loc[frame["id"] == doc, "text"] += " A quixotic aside."
    for i, doc in enumerate(["cooking-25", "cooking-26", "cooking-27", "genetics-25", "genetics-26"]):
        frame.loc[frame["id"] == doc, "text"] += " Good for the environment." if i < 2 else " Environmental costs."
    root = tmp_path_factory.mktemp("acronyms")
    frame.to_csv(root / "corpus.csv", index=False)
    path = build_index(str(root / "corpus.csv"), root / "index", fake_settings(root / "cache"), report=lambda _m: None)
    return Assistant.open(path)


def test_an_acronym_is_counted_with_the_documents_that_write_it_out(acronyms):
    from topicchat.app.counts import spelled_out

    answer = acronyms.ask("how many papers mention JWST?")
    lines = answer.text.splitlines()
    assert lines[1].startswith("- 12 papers (10.0%) hold every word of “JWST”"), answer.text
    assert (
        lines[2]
        == "- 6 more papers write it out (“james webb space telescope”) without the acronym: 18 (15.0%) in all."
    )
    assert spelled_out("LLMs", ["Large language models (LLMs) are big.", "Large Language Models (LLMs) too"]) == (
        "large language model"
    )
    assert (
        spelled_out("VLM", ["vision-language models (VLM)", "Vision-Language Model (VLM)"]) == "vision-language model"
    )
    assert spelled_out("LLMs", ["Large language models (LLMs) are big."]) == "", "one document is no convention"
    assert spelled_out("telescope", ["the telescope (telescope)"] * 3) == "", "not an acronym"


def test_papers_not_about_a_subject_are_shown_by_topic(acronyms, assistant):
    answer = acronyms.ask("which papers are not about JWST?")
    lines = answer.text.splitlines()
    assert lines[0] == "Left out: the 18 documents that mention “JWST” (or “james webb space telescope”).", answer.text
    assert lines[1].startswith("102 documents are left. The topics that hold most of them")
    texts = _corpus_texts(acronyms)
    assert answer.citations and not any(
        "jwst" in texts[c.doc_id] or "james webb" in texts[c.doc_id] for c in answer.citations
    )
    held = sum(int(m) for m in re.findall(r"\((\d+) of its \d+ documents", answer.text))
    rest = re.search(r"The other (\d+) are spread", answer.text)
    assert held + (int(rest.group(1)) if rest else 0) == 102, "every remaining document is accounted for"
    conv = Conversation()
    acronyms.ask("which papers don't mention JWST?", conv)
    first = acronyms.ask("how many documents are in the first topic?", conv)
    assert first.intent == "count" and first.text.startswith(f"Topic {answer.citations[0].topic} ("), first.text
    for question in ("show me papers that do not mention comets", "list the documents that aren't about comets"):
        intent = parse_intent(question)
        assert (intent.content, intent.excluded) == ("", "comets"), question
    assert parse_intent("papers on RAG that don't use LLMs").excluded == "LLMs"
    everything = assistant.ask("which papers are not about telescope galaxy star orbit planet comet or nebula")
    assert "The topics that hold most of them" in everything.text
    assert not any(c.doc_id.startswith("astronomy") for c in everything.citations)


@pytest.mark.parametrize(
    ("question", "kind", "extra"),
    [
        ("how many papers in 2025 are about RAG?", IntentKind.COUNT, {"content": "RAG", "period": "2025"}),
        ("papers in 2025-04 that are about agents", IntentKind.PAPERS, {"content": "agents", "period": "2025-04"}),
        ("which papers from 2025 were published about agents?", IntentKind.PAPERS, {"content": "agents"}),
        ("which papers from April 2025 are not about LLMs?", IntentKind.PAPERS, {"excluded": "LLMs", "content": ""}),
        ("how many papers from 2000 patients", IntentKind.COUNT, {"period": ""}),
        ("what is the main topic?", IntentKind.THEMES, {}),
        ("what's the main theme of this corpus?", IntentKind.THEMES, {}),
        ("what is the main topic of [2]?", IntentKind.DOCUMENT, {}),
        ("who sponsored the most bills?", IntentKind.AUTHORS, {"content": ""}),
        ("which senators wrote bills about gun control", IntentKind.AUTHORS, {"content": "gun control"}),
        ("which reporters cover Iraq?", IntentKind.PAPERS, {}),  # what the documents say, not who wrote them
        ("which senators supported the farm bill?", IntentKind.PAPERS, {}),
        ("which senators sponsored bills about guns?", IntentKind.AUTHORS, {"content": "guns"}),
        ("which bills don't mention taxes?", IntentKind.PAPERS, {"content": "", "excluded": "taxes"}),
        ("which papers in topic 5 are not about LLMs?", IntentKind.PAPERS, {"excluded": "LLMs", "topic_ids": [5]}),
        ("what are the papers that don't use GPT?", IntentKind.PAPERS, {"content": "", "excluded": "GPT"}),
        ("tell me papers about RAG in topic 5", IntentKind.PAPERS, {"topic_ids": [5]}),
        ("how many papers mention The Who?", IntentKind.COUNT, {"content": "The Who"}),
        ("how many bills are about the environment in topic 14?", IntentKind.COUNT, {"content": "environment"}),
        ("how many papers in topic 3 are about RAG?", IntentKind.COUNT, {"content": "RAG", "topic_ids": [3]}),
        ("which authors wrote papers on RAG?", IntentKind.AUTHORS, {"content": "RAG"}),
        ("how many articles r about the nba", IntentKind.COUNT, {"content": "nba"}),
    ],
)
def test_periods_before_a_clause_and_the_main_topic_are_read(question, kind, extra):
    intent = parse_intent(fix_typos(question))
    assert intent.kind == kind, intent
    for field_name, value in extra.items():
        assert getattr(intent, field_name) == value, (field_name, intent)


def test_a_search_by_words_ranks_every_document_that_holds_them(acronyms, monkeypatch):
    texts = _corpus_texts(acronyms)
    holders = {d for d, t in texts.items() if "zb-9" in t}
    assert len(holders) == 8
    monkeypatch.setattr(acronyms.retriever, "min_similarity", 1.01)  # the embedder reads the name poorly
    answer = acronyms.ask("list 8 papers that mention ZB-9")
    assert "so these are found by its words (zb-9, as stems)" in answer.text.splitlines()[0], answer.text
    assert {c.doc_id for c in answer.citations} == holders, answer.text  # from all four themes, not the routed ones
    monkeypatch.undo()
    row_of = {d: i for i, d in enumerate(acronyms.retriever.doc_ids)}
    football, cooking = (int(acronyms.retriever.topic_of[row_of[d]]) for d in ("football-25", "cooking-0"))
    inside = acronyms.ask(f"papers in topic {football} about quixotic")  # the holder in that topic, not the other
    assert [c.doc_id for c in inside.citations][:1] == ["football-25"], inside.text
    assert "astronomy-25" not in {c.doc_id for c in inside.citations}
    elsewhere = acronyms.ask(f"papers in topic {cooking} about quixotic")  # its topic holds no such word
    assert not any("quixotic" in texts[c.doc_id] for c in elsewhere.citations), elsewhere.text


def test_it_and_the_first_theme_point_at_the_topic_just_shown(assistant):
    from topicchat.app.intent import pronoun_topic

    conv = Conversation()
    tid = max(assistant.topics)  # a two-digit id when the tree has ten or more nodes
    shown = assistant.ask(f"tell me about topic {tid}", conv)
    assert shown.intent == "topic_detail"
    size = assistant.ask("how many documents does it have?", conv)
    assert size.intent == "count" and size.text.startswith(f"Topic {tid} ("), size.text
    related = assistant.ask("which topic is it closest to?", conv)
    assert related.intent == "topic_detail" and related.text.startswith(f"Topic {tid}:"), related.text
    assert pronoun_topic("is it raining?", 7) == "is it raining?", "a question that asks nothing of a topic"
    assert pronoun_topic("what topics are related to it?", None) == "what topics are related to it?"
    assert pronoun_topic("who writes in this topic?", 7) == "who writes in topic 7?"
    for other in ("how many papers use it?", "how many stories mention IT spending?", "is it possible to find X?"):
        assert pronoun_topic(other, 7) == other, "the last subject's 'it', an acronym, no pointer"
    themes = Conversation()
    listing = assistant.ask("what are the main themes?", themes)
    first = assistant.ask("tell me more about the first theme", themes)
    assert first.intent == "topic_detail" and first.topics[0].id == listing.topics[0].id, first.text
    for question in ("how many papers does topic 10 have?", "how many documents does topic 12 hold?"):
        intent = parse_intent(question)
        assert (intent.kind, intent.content, intent.topic_ids[0] >= 10) == (IntentKind.COUNT, "", True), question
    assert parse_intent("tell me more about topic 12").kind is IntentKind.TOPIC


def test_a_count_takes_the_forms_the_stemmer_keeps_apart(acronyms):
    from topicchat.app.counts import mentions

    answer = acronyms.ask("how many papers are about the environment?")
    line = answer.text.splitlines()[1]
    assert line.startswith(
        "- 5 papers (4.2%) hold every word of “environment” (environ, as stems; also as “environmental”)"
    )
    assert "2 of them hold the word itself" in line, line
    bare = mentions(acronyms.index.lexical, lambda r: acronyms._texts[r], "environment")  # no word list: the stem only
    assert (len(bare.rows), bare.also) == (2, [])


def test_the_biggest_topic_names_the_largest_main_theme_too(assistant):
    answer = assistant.ask("what is the biggest topic?")
    groups = [t for t in assistant.topics.values() if t.children and t.parent is None]
    if not groups:
        pytest.skip("this index has no topic tree")
    big = max(groups, key=lambda t: t.size)
    assert answer.text.splitlines()[-1].startswith(
        f"The largest main theme (a group of topics): {big.label} (topic {big.id}, {big.size} documents"
    ), answer.text
    assert "main theme" not in assistant.ask("what is the smallest topic?").text


def test_a_title_only_document_shows_no_evidence_line(assistant):
    from topicchat.indexer.label import clean_summary

    cited = assistant._citation(1, 0, 1.0)
    cited.title = cited.text.upper()  # a short text whose title is the text (StackOverflow titles, headlines)
    other = assistant._citation(2, 1, 1.0)
    assistant._add_evidence("telescope galaxy", [cited, other])
    assert cited.evidence == "" and other.evidence, "the title already says it; a longer text keeps its sentence"
    assert parse_intent("which questions mention pandas?").content == "pandas"
    assert clean_summary("- Modify an Excel sheet from Matlab.") == "Modify an Excel sheet from Matlab."


def test_word_forms_are_only_added_never_cut(acronyms):
    from topicchat.app.counts import _derived

    for word in ("legal", "metal", "class", "formal", "academy", "signal", "total"):
        assert _derived(word) == [], word
    assert _derived("LLM") == ["LLMs"] and _derived("LLMs") == ["LLM"]
    nothing = acronyms.ask("which papers don't mention zzqxv?")
    assert nothing.text == "No document mentions “zzqxv”, so nothing was left out." and not nothing.citations


def test_numbered_documents_counts_where_holders_are_and_narrowing_after_a_count(acronyms):
    from topicchat.app.intent import pronoun_topic

    conv = Conversation()
    row = 7
    doc_id = acronyms.retriever.doc_ids[row]
    assert parse_intent(f"show document {doc_id}").doc_ref == doc_id
    for question, (cited, ref) in {
        "show document 447": (0, "447"),
        "open question #12": (12, "12"),
        "document id 9": (0, "9"),
    }.items():
        intent = parse_intent(question)
        assert (intent.kind, intent.cited, intent.doc_ref) == (IntentKind.DOCUMENT, cited, ref), question
    missing = acronyms.ask("show document 4471", conv)
    assert missing.text == "There is no document with id “4471” in this index."
    count = acronyms.ask("how many papers mention ZB-9?", conv)
    holders = [line for line in count.text.splitlines() if line.startswith("- Other topics holding many of them:")]
    routed = {t.id for t in count.topics}
    named = [int(t) for t in re.findall(r"topic (\d+):", holders[0])] if holders else []
    assert not routed & set(named), "the routed topics are not named again"
    narrowed = acronyms.ask("which of those mention kit?", conv)  # the counted subject and the new word, anywhere
    assert narrowed.routing.query == "ZB-9 kit" and narrowed.routing.restricted_to == [], narrowed.routing
    assert pronoun_topic("what is it about?", 3) == "what is topic 3 about?"
    assert pronoun_topic("what are its subtopics?", 3) == "what are topic 3's subtopics?"
    assert pronoun_topic("how many questions are in it?", 3) == "how many questions are in topic 3?"
    assert parse_intent("what does topic 12 cover?").kind is IntentKind.TOPIC


def test_a_phrase_count_reads_a_dotted_name_as_one():
    from topicchat.app.counts import _phrase

    assert _phrase("asp.net").search("Deploying an ASP.NET site") and _phrase("asp net").search("asp.net mvc")


def test_a_data_column_filters_counts_searches_and_lists_its_values(assistant):
    frame = assistant.index.documents
    cooking = set(frame.loc[frame["theme"] == "cooking", "doc_id"])
    count = assistant.ask("how many documents have theme cooking?")
    assert count.text.startswith(f"{len(cooking)} of the index's {len(frame)} documents"), count.text
    texts = _corpus_texts(assistant)
    garlic = sum("garlic" in texts[d] for d in cooking)
    subject = assistant.ask("how many documents with theme Cooking mention garlic?")
    assert f"\n{garlic} of them" in subject.text, subject.text
    search = assistant.ask("documents with theme cooking about oven and flour")
    assert search.text.startswith(f"Only the {len(cooking)} documents whose 'theme' is “cooking” were searched.")
    assert search.citations and {c.doc_id for c in search.citations} <= cooking
    listed = assistant.ask("list the documents with theme football")
    assert listed.text.startswith("30 documents have 'theme' “football”. The topics that hold most of them")
    assert all(c.doc_id.startswith("football") for c in listed.citations)
    values = assistant.ask("what themes are there?")
    assert values.text.startswith("The column 'theme' has 4 values") and "cooking (30)" in values.text
    plain = assistant.ask("papers about garlic")  # no column named: no filter
    assert not plain.text.startswith("Only the")


def test_a_column_filter_needs_a_cue_stays_for_follow_ups_and_never_turns_round(assistant):
    conv = Conversation()
    count = assistant.ask("how many documents have theme cooking?", conv)
    follow = assistant.ask("how many of them mention garlic?", conv)
    assert follow.text.startswith(count.text.splitlines()[0]), follow.text  # still the cooking documents
    quoted = assistant.ask('list the documents with theme "football"')
    assert quoted.text.startswith("30 documents have 'theme' “football”."), quoted.text
    for question in ("how do I theme cooking pages?", "documents without theme cooking", "theme cooking"):
        assert not assistant.ask(question).text.startswith(("30 ", "Only the 30")), question
    trend = assistant.ask("how has theme cooking changed over time?")  # a kind the filter cannot narrow
    assert "“theme cooking”" in trend.text, "the column's words stay in a question the filter cannot narrow"
