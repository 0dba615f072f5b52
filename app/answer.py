"""Answering: intent -> routing -> facts from the index -> LLM prose (streamed) -> checked citations."""

from __future__ import annotations

import collections.abc
import difflib
import functools
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from topicchat.app.counts import Mentions, is_acronym, mentions, rows_holding, spelled_out
from topicchat.app.evidence import evidence_sentences
from topicchat.app.intent import (
    _OTHER_DOCS,
    GRAMMAR_WORDS,
    MAX_LIMIT,
    Intent,
    IntentKind,
    bare_months,
    describe,
    fix_typos,
    month_number,
    name_years,
    ordinal_topics,
    parse_intent,
    pronoun_topic,
)
from topicchat.app.prose import ProseChecker, split_complete, without_instructions
from topicchat.app.route import PIECES, Hit, Retriever, RoutedTopic, Routing
from topicchat.app.settings import AnswerSettings, RetrievalSettings
from topicchat.app.trends import (
    Change,
    TrendChart,
    change,
    peak,
    period_positions,
    problem_sentence,
    rank_changes,
    series_text,
    window_length,
)
from topicchat.indexer import tokens
from topicchat.indexer.ann import tokenize
from topicchat.indexer.label import example_reply
from topicchat.indexer.prompting import render_messages
from topicchat.indexer.store import TopicIndex, load_index
from topicchat.indexer.timeline import Timeline
from topicchat.indexer.topics import LabelSource
from topicchat.indexer.tree import path_of
from topicchat.models.base import Embedder, Generator, embed_short

_CITE = re.compile(r"\[(\d+)\]")
_TIME_WORDS = frozenset(
    tokenize(
        "change changed changes grow grew grown growth trend trends emerging emerge new recent recently year years "
        "month months week weeks past last time decline declined rise rose over since"
    )
)
MAX_QUESTION_CHARS = 2000  # longer input is refused with a message (the intent rules are regular expressions)
SEARCHABLE_WORDS = 6  # a time question without a named subject is searched as a whole from this many content words
PROSE_HEAD = "\n\nSummary (every sentence checked against the source it cites): "


@dataclass
class Citation:
    """A numbered source of an answer: a real document of the index."""

    n: int
    doc_id: str
    title: str
    topic: int
    topic_label: str
    snippet: str
    text: str
    score: float
    evidence: str = ""  # the sentence of the text that answers the question best (searches only)
    row: int = -1  # the document's row in the index
    date: str = ""  # the document's date, shown when the question asked for a period or the latest documents


@dataclass
class Coverage:
    """Which part of the index a search looked at: the routed topics and the outlier pool."""

    topic_ids: list[int]
    documents_in_topics: int
    total_documents: int
    outlier_pool: int
    outliers_searched: bool
    restricted_to: list[int] = field(default_factory=list)
    themes: bool = False  # a whole-corpus answer: the topics are themes that hold documents, nothing was searched

    @classmethod
    def of(cls, routing: Routing, total_documents: int) -> Coverage:
        return cls(
            topic_ids=[t.id for t in routing.topics],
            documents_in_topics=routing.documents_in_topics,
            total_documents=total_documents,
            outlier_pool=routing.outlier_pool,
            outliers_searched=routing.outliers_searched,
            restricted_to=list(routing.restricted_to),
        )

    def render(self) -> str:
        """One sentence, e.g. 'Coverage: routed to 2 topic(s) (0, 3) holding 57 documents; the outlier pool
        (26 documents) was searched too.'"""
        if self.themes:
            share = self.documents_in_topics / self.total_documents if self.total_documents else 0.0
            return (
                f"Coverage: the {len(self.topic_ids)} topic(s) shown hold {self.documents_in_topics} of the "
                f"{self.total_documents} documents ({share:.1%}); {self.outlier_pool} outlier document(s) belong to no topic."
            )
        if not self.topic_ids:
            scope = f"searched all {self.total_documents} documents"
        else:
            ids = ", ".join(str(i) for i in self.topic_ids)
            scope = f"routed to {len(self.topic_ids)} topic(s) ({ids}) holding {self.documents_in_topics} documents"
        if self.outliers_searched:
            pool = f"the outlier pool ({self.outlier_pool} documents) was searched too"
        elif self.outlier_pool:
            pool = f"the outlier pool ({self.outlier_pool} documents) was not searched"
        else:
            pool = "there are no outlier documents"
        return f"Coverage: {scope}; {pool}."


@dataclass
class ProseStats:
    """What happened to the model's prose in one answer: sentences written, kept, supported by their source."""

    written: int = 0
    kept: int = 0
    supported: int = 0  # passed the support score (a kept sentence also passed every other check)
    late: bool = False


@dataclass
class Answer:
    """A finished answer: text, the topics it was routed to, its citations and (for a search) its coverage."""

    question: str
    intent: IntentKind
    text: str
    topics: list[RoutedTopic]
    citations: list[Citation]
    coverage: Coverage | None
    matched: bool
    routing: Routing | None = None
    chart: TrendChart | None = None
    prose: ProseStats | None = None

    def to_json(self) -> dict:
        trend = {"trend": self.chart.to_json()} if self.chart is not None else {}
        return trend | {
            "question": self.question,
            "intent": str(self.intent),
            "answer": self.text,
            "topics": [{"id": t.id, "label": t.label, "score": t.score, "size": t.size} for t in self.topics],
            "citations": [
                {"n": c.n, "doc_id": c.doc_id, "title": c.title, "topic": c.topic}
                | ({"evidence": c.evidence} if c.evidence else {})
                | ({"date": c.date} if c.date else {})
                for c in self.citations
            ],
            "coverage": self.coverage.render() if self.coverage is not None else "",
            "matched": self.matched,
        }


@dataclass
class RoutingEvent:
    """The router has decided (searches only; always the first event of a search)."""

    routing: Routing


@dataclass
class TokenEvent:
    """A piece of the answer text."""

    text: str


@dataclass
class DoneEvent:
    """The finished, checked answer (always the last event)."""

    answer: Answer


Event = RoutingEvent | TokenEvent | DoneEvent


@dataclass
class Reply:
    """What a handler has to say; `Assistant.stream` checks its citations and turns it into the Answer."""

    text: str
    topics: list[RoutedTopic] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    coverage: Coverage | None = None
    matched: bool = True
    routing: Routing | None = None
    chart: TrendChart | None = None
    prose: ProseStats | None = None
    keep_sources: bool = False  # "tell me about [2]": the previous answer's numbering stays the one to point at
    listed: list[int] = field(default_factory=list)  # topics the text lists after `topics` ("the fourth topic")


_INTERNAL_COLUMNS = frozenset({"topic", "probability", "is_outlier", "x", "y", "has_title"})
# Answers that search, count or rank within a period (the others compare a recent window with the rest)
_PERIOD_KINDS = frozenset(
    {IntentKind.PAPERS, IntentKind.COVER, IntentKind.COUNT, IntentKind.AUTHORS, IntentKind.LARGEST}
)
_CITATION_NAME = re.compile(r"(?<![a-z])cit(ed|ations?)(?![a-z])", re.IGNORECASE)  # citations, cited_by; not "excited"


def _similarity(value: float) -> str:
    """A similarity as shown beside the threshold it missed: rounded down, so 0.299 never reads as 0.30."""
    return f"{math.floor(value * 100) / 100:.2f}"


def _citation_count(value: float) -> str:
    if not np.isfinite(value):
        return "no count"
    n = int(value)
    return f"{n:,} citation{'s' if n != 1 else ''}"


def _title_key(title: str) -> str:
    """A title as words only, in lower case: 'Gemma 3: Technical Report' and 'gemma 3 technical report' match."""
    return " ".join(re.findall(r"\w+", title.casefold()))


def _author_sep(values: pd.Series) -> str:
    """How an author column separates names: ';' when at least a quarter of its first 200 text cells use it,
    else ','."""
    sample = [str(v) for v in values.head(200) if isinstance(v, str)]
    return ";" if sum(";" in v for v in sample) >= max(1, len(sample) // 4) else ","


def _author_names(value: Any, sep: str) -> list[str]:
    """The names of one document's author cell: text split at `sep` (and ' and '), a JSON list written as
    text, or a list."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(n).strip() for n in value if str(n).strip()]
    if not isinstance(value, str):
        return []
    parts = [p for chunk in value.split(sep) for p in re.split(r"\s+and\s+", chunk)]
    return [p.strip() for p in parts if p.strip()]


def _shown(period: str) -> str:
    """'2019..2021' -> '2019 to 2021'; '2025-03..' -> 'from 2025-03 on'; '..2025' -> 'up to 2025'."""
    lo, dots, hi = period.partition("..")
    if dots and not hi:
        return f"from {lo} on"
    if dots and not lo:
        return f"up to {hi}"
    return period.replace("..", " to ")


_TOPIC_NAMED = re.compile(r"topic\s*#?\s*(-?\d+)", re.IGNORECASE)
# The questions a follow-up can change ("and in 2026?") or refer back to ("how has it changed?").
_CARRIED = frozenset(
    {
        IntentKind.COUNT,
        IntentKind.AUTHORS,
        IntentKind.TREND,
        IntentKind.PAPERS,
        IntentKind.COVER,
        IntentKind.TOPIC,
        IntentKind.EMERGING,
        IntentKind.COMPARE,
        IntentKind.LARGEST,
    }
)
_TOPIC_LISTS = frozenset(
    {IntentKind.COVER, IntentKind.LARGEST, IntentKind.EMERGING, IntentKind.THEMES, IntentKind.LIST}
)
_PRONOUNS = frozenset(
    "it|that|this|them|those|these|that topic|this topic|the topic|that one|this one|that subject|this subject|"
    "that area|this area|the same".split("|")
)


def _documents(n: int) -> str:
    return f"{n} document" if n == 1 else f"{n} documents"


@dataclass
class _Side:
    """One side of a comparison: what the user wrote, how the answer names it, its closest topics, the
    documents that mention it (None for a topic named by number) and its routing."""

    subject: str
    name: str
    ids: list[int]
    found: Mentions | None
    routing: Routing | None


@dataclass
class Conversation:
    """What a chat remembers between turns: the last routed topics and any topic focus the user set."""

    last_topics: list[int] = field(default_factory=list)
    focus: list[int] = field(default_factory=list)
    last_citations: list[Citation] = field(default_factory=list)
    last_intent: Intent | None = None  # the last question a fragment ("and in 2026?") can change
    topics_listed: bool = False  # the last answer listed topics: "the first one" is its first topic
    topic_in_view: int | None = None  # the last answer showed this one topic: "what is related to it?"


class OneAtATime:
    """An embedder that several threads (concurrent chats) may share: one `embed` call runs at a time;
    every other attribute is the wrapped embedder's."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._lock = threading.Lock()

    def embed(self, texts: collections.abc.Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        with self._lock:
            return self._embedder.embed(texts, show_progress=show_progress)

    def embed_short(self, texts: collections.abc.Sequence[str]) -> np.ndarray:
        with self._lock:
            return embed_short(self._embedder, texts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


def id_ranges(ids: collections.abc.Iterable[int]) -> str:
    """Ids as ranges: [0, 1, 2, 3, 7, 9, 10] -> "0-3, 7, 9-10" (ids kept across rebuilds leave gaps)."""
    spans: list[list[int]] = []
    for n in sorted(set(ids)):
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def snippet(text: str, words: int = 40) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


def check_citations(text: str, n_citations: int) -> str:
    """Drop every [n] that does not point at a listed source."""
    return _CITE.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_citations else "", text)


def _ngrams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _window_positions(timeline: Timeline, window: tuple[int, str]) -> list[int]:
    """The period positions of 'the last three months' for a search or a count: every period may be in it,
    as nothing before it is compared with it."""
    n = len(timeline.periods)
    return list(range(n - window_length(timeline, window, compared=False), n))


class Assistant:
    """Answers questions about one index; the CLI and the UI both drive `stream`."""

    def __init__(
        self,
        index: TopicIndex,
        embedder: Embedder,
        generator: Generator | None,
        settings: AnswerSettings | None = None,
        retrieval: RetrievalSettings | None = None,
    ) -> None:
        self.index = index
        self.retriever = Retriever(index, OneAtATime(embedder), retrieval)
        self.generator = generator
        # Concurrent chats share the models: the embedder takes one batch at a time (milliseconds per query)
        # and the writer one answer's prose at a time; facts and evidence never wait for the writer.
        self._writer = threading.Lock()
        self.settings = settings or AnswerSettings()
        self.k_docs = self.settings.k_docs
        self.prompts_dir = index.path / "prompts"
        self.topics = index.nodes  # leaves and the tree's parents: one id space
        self._node_vectors = {t.id: v for t, v in zip(index.topics, index.topic_embeddings, strict=True)}
        if index.parents and index.parent_embeddings is not None:
            self._node_vectors |= {t.id: v for t, v in zip(index.parents, index.parent_embeddings, strict=True)}
        self._texts = index.documents["text"].tolist()
        self._answer_example = example_reply("answer", self.prompts_dir)
        self._lazy_lock = threading.Lock()  # word lists built on first need, once for every chat
        self._surface: dict[str, int] | None = None
        self._spelled_forms: dict[str, tuple[str, np.ndarray]] = {}  # an acronym's written-out form, once per subject
        self._real_words: frozenset[str] | None = None

    @classmethod
    def open(
        cls,
        path: Path | str,
        answer: AnswerSettings | None = None,
        retrieval: RetrievalSettings | None = None,
        embedder: str | None = None,
        cache_dir: Path | None = None,
    ) -> Assistant:
        """Load an index and the models it was built with (`answer.generator` overrides the generator; 'none': facts only)."""
        answer = answer or AnswerSettings()
        from topicchat.models.registry import load_embedder, load_generator

        index = load_index(path)
        params = index.manifest["parameters"]
        emb = load_embedder(
            embedder or params["embedding_model"], index.embedding_dtype, cache_dir, index.embedding_max_tokens
        )
        if emb.dim != index.embeddings.shape[1]:
            from topicchat.indexer.errors import TopicchatError

            raise TopicchatError(
                f"The embedder '{emb.model_id}' makes {emb.dim}-d vectors but the index holds "
                f"{index.embeddings.shape[1]}-d ones; use the index's model ({index.manifest['models']['embedder']})."
            )
        embed_short(emb, ["Warm up."])  # builds the packed encoder now rather than during the first question
        spec = answer.generator or params.get("generator") or "none"
        gen = None if spec == "none" else load_generator(spec, cache_dir)
        return cls(index, emb, gen, answer, retrieval)

    # -- facts ---------------------------------------------------------------------------------
    def _citation(self, n: int, row: int, score: float) -> Citation:
        topic = int(self.index.documents["topic"].iat[row])
        label = self.topics[topic].label if topic in self.topics else "outliers"
        text = self._texts[row]
        return Citation(
            n,
            self.retriever.doc_ids[row],
            self.retriever.titles[row],
            topic,
            label,
            snippet(text),
            text,
            score,
            row=row,
        )

    def _keywords(self, topic_id: int, kind: str = "keybert", n: int = 6) -> str:
        return ", ".join(self.topics[topic_id].top_keywords(n, kind))

    NAMING_SHOWN = 8

    def _topics_naming(self, subject: str) -> list[int]:
        """Leaf topics whose label or first keywords hold every (stemmed) word of the subject, largest first."""
        words = set(tokenize(subject, stem=self.index.lexical.stem))
        if not words:
            return []
        return [t for t, named in self._topic_words.items() if words <= named]

    def _cover_extra(self, query: str, routing: Routing) -> tuple[list[int], list[tuple[int, int]]]:
        """The topics a 'which topics cover X?' answer lists besides those X routes to: those whose label or
        keywords name X, and those where a third of the documents hold X's words (with how many do)."""
        shown = {t.id for t in routing.topics}
        named = [t for t in self._topics_naming(query) if t not in shown][: self.NAMING_SHOWN]
        mentioning = [(t, n) for t, n in self._topics_mentioning(query) if t not in shown and t not in named]
        return named, mentioning[: self.NAMING_SHOWN]

    MENTIONING_SHARE = 1 / 3  # "topics where most documents mention X": at least this share of a topic's documents
    MENTIONING_MIN = 3  # ... and at least this many

    def _topics_mentioning(self, subject: str) -> list[tuple[int, int]]:
        """Leaf topics where at least a third of the documents hold every (stemmed) word of the subject, with
        how many do; the largest share first."""
        words = tokenize(subject, stem=self.index.lexical.stem)
        if not words:
            return []
        rows = rows_holding(self.index.lexical, words)
        topic_of = self.retriever.topic_of[rows]
        counts = collections.Counter(int(t) for t in topic_of[topic_of >= 0])
        kept = [
            (t, n)
            for t, n in counts.items()
            if t in self.topics and n >= self.MENTIONING_MIN and n >= self.MENTIONING_SHARE * self.topics[t].size
        ]
        return sorted(kept, key=lambda x: (-x[1] / self.topics[x[0]].size, x[0]))

    @functools.cached_property
    def _topic_words(self) -> dict[int, set[str]]:
        """Each leaf topic's stemmed label and first keywords, largest topic first (read once, not per question)."""
        stem = self.index.lexical.stem
        return {
            t.id: set(
                tokenize(" ".join([t.label, *t.top_keywords(10, "keybert"), *t.top_keywords(10, "ctfidf")]), stem=stem)
            )
            for t in sorted(self.index.topics, key=lambda t: (-t.size, t.id))
        }

    def leaves_under(self, topic_id: int) -> list[int]:
        """The leaf topics a node stands for (itself, for a leaf)."""
        node = self.topics[topic_id]
        if not node.children:
            return [topic_id] if node.level == 0 else []
        return [leaf for child in node.children for leaf in self.leaves_under(child)]

    def path(self, topic_id: int) -> str:
        """A topic with its ancestors, top level first: 'Reasoning > Math word problems'."""
        return " > ".join(t.label for t in path_of(topic_id, self.topics))

    def _routed(self, topic_id: int) -> RoutedTopic:
        """A topic the user named (no routing score: it is certain)."""
        t = self.topics[topic_id]
        return RoutedTopic(t.id, t.label, t.size, 1.0, 1.0, 1.0)

    # -- streaming -----------------------------------------------------------------------------
    def stream(self, question: str, conversation: Conversation | None = None) -> Iterator[Event]:
        """Answer a question step by step: routing first (searches only), then text, then the checked answer."""
        conv = conversation if conversation is not None else Conversation()
        question = question.strip()
        too_long = len(question) > MAX_QUESTION_CHARS
        text, respelled = self._spelled("" if too_long else fix_typos(question, self._known_word))
        text = ordinal_topics(text, conv.last_topics, conv.topics_listed)  # "the second topic": its id
        text = pronoun_topic(text, conv.topic_in_view)  # "what topics are related to it?" after topic 10
        text, months = name_years(text, self._year_of_month(conv))
        rest, where = self._where(text)  # "questions with label svn": a data column's value, taken out
        intent = self._resolve(parse_intent(rest if where is not None else text), conv, question)
        if where is not None and self._filters(intent):
            intent = self._with_where(intent, where)
        elif where is not None:  # a kind of answer the filter cannot narrow: the question as asked
            intent = self._resolve(parse_intent(text), conv, question)
        elif (column := self._column_asked(text)) is not None:  # "what labels are there?": the column's values
            intent = Intent(IntentKind.ABOUT, column)
        intent = self._calendar(intent)
        read_as = f"(Read as: {describe(intent)}.)\n" if intent.elliptical else ""
        read_as += self._months_note(months)
        timeline = self.index.timeline
        if (timeline is None or not len(timeline.periods)) and (dateless := bare_months(text)):
            named = ", ".join(f"“{m}”" for m in dict.fromkeys(dateless))
            read_as += f"(This index has no dates, so {named} is read as a word, not as a month.)\n"
        if respelled:  # "(No document holds “summerization”; searched for “summarization”.)"
            pairs = "; ".join(f"no document holds “{typed}”, so it was read as “{read}”" for typed, read in respelled)
            read_as += f"({pairs[0].upper()}{pairs[1:]}.)\n"
        if (
            intent.kind is IntentKind.AUTHORS
            and intent.person
            and intent.content
            and not self._names_anyone(intent.person)
        ):
            intent = Intent(IntentKind.PAPERS, question)  # "papers on parsing by hand rules": no such author, a search
        if read_as:
            yield TokenEvent(read_as)
        match intent.kind:
            case IntentKind.EMPTY if too_long:
                reply = Reply(
                    f"This question is {len(question):,} characters long; ask in at most {MAX_QUESTION_CHARS:,} "
                    "(to search for a passage, ask about its key words).",
                    matched=False,
                )
                yield TokenEvent(reply.text)
            case IntentKind.EMPTY:
                reply = Reply("Ask a question about the documents, or type 'list topics'.")  # nothing to stream
            case IntentKind.PAPERS | IntentKind.COVER:
                reply = yield from self._search_answer(question, intent, conv)
            case IntentKind.TREND | IntentKind.EMERGING if undated := self._undated_search(question, intent):
                # No dates to count: say so, then answer the subject as a search rather than stop there.
                note, subject = undated
                yield TokenEvent(note)
                reply = yield from self._search_answer(
                    subject.content, subject, conv
                )  # the writer sees no "how changed"
                reply = replace(reply, text=note + reply.text)
            case _:
                reply = self._instant_handlers()[intent.kind](intent, conv)
                yield TokenEvent(reply.text)
        if intent.kind in _CARRIED:
            conv.last_intent = intent
        one = intent.topic_ids or ([t.id for t in reply.topics[:1]] if intent.kind is IntentKind.TOPIC else [])
        conv.topic_in_view = one[0] if len(one) == 1 and reply.matched else None  # an answer about one topic
        yield DoneEvent(self._answer(question, intent.kind, replace(reply, text=read_as + reply.text), conv))

    def _year_of_month(self, conv: Conversation) -> Callable[[int], int | None]:
        """For a month named without a year ('papers from April'): the year of the conversation's last period
        when the index has that month in it, else the newest year whose dates hold it (or the index's newest
        year, where none does: the answer then says which dates it spans). None for an undated index."""
        timeline = self.index.timeline
        if timeline is None or not len(timeline.periods):
            return lambda _month: None
        periods = {str(p) for p in timeline.periods}
        years = sorted({int(p[:4]) for p in periods})
        asked = conv.last_intent.period if conv.last_intent is not None else ""
        last = asked[:4] if ".." not in asked else ""  # a year, month or quarter asked before; not a range

        def held(year: int, month: int) -> bool:
            if timeline.granularity == "month":
                return f"{year}-{month:02d}" in periods
            if timeline.granularity == "quarter":
                return f"{year}Q{(month + 2) // 3}" in periods
            return str(year) in periods

        def year_of(month: int) -> int | None:
            holding = [y for y in years if held(y, month)]
            if last.isdigit() and int(last) in holding:
                return int(last)
            return holding[-1] if holding else years[-1]

        return year_of

    def _months_note(self, months: list[tuple[str, int]]) -> str:
        """'(April: April 2026, the newest April in the index; it also holds April 2025.)' for each month
        named without a year that the index's dates hold in more than one year."""
        timeline = self.index.timeline
        if timeline is None or timeline.granularity != "month":
            return ""
        notes = []
        for name, year in dict.fromkeys(months):
            n = month_number(name)
            others = sorted({int(str(p)[:4]) for p in timeline.periods if int(str(p)[5:7]) == n} - {year})
            if others:
                also = ", ".join(f"{name} {y}" for y in others)
                notes.append(f"{name} read as {name} {year}; the index also holds {also}")
        return f"({'; '.join(notes)}.)\n" if notes else ""

    def _calendar(self, intent: Intent) -> Intent:
        """'This year' / 'this quarter' / 'this month': the calendar period holding the index's newest dated
        document (the index may end before today); 'last year' / 'last quarter' / 'last month': the one
        before it. A unit finer than the index's periods (or 'this week') stays a window of one such unit."""
        if not intent.window or intent.window[0] > 0:
            return intent
        since, unit = intent.window[0] == -2, intent.window[1]  # "since last year": from it on
        back = 1 if intent.window[0] < 0 else 0
        timeline = self.index.timeline
        if intent.kind not in _PERIOD_KINDS:  # trends and growth compare windows: "this year" is the last 12 months
            return replace(intent, window=(1, unit))
        if intent.period or timeline is None or not len(timeline.periods):
            return replace(intent, window=None if intent.period else (1, unit))
        last, granularity = str(timeline.periods[-1]), timeline.granularity
        year = int(last[:4])
        if unit == "year":
            period = str(year - back)
        elif unit == "quarter" and granularity in ("month", "quarter"):
            quarter = year * 4 + (int(last[-1]) if granularity == "quarter" else (int(last[5:7]) + 2) // 3) - 1 - back
            period = f"{quarter // 4}Q{quarter % 4 + 1}"
        elif unit == "month" and granularity == "month":
            month = year * 12 + int(last[5:7]) - 1 - back
            period = f"{month // 12}-{month % 12 + 1:02d}"
        else:
            return replace(intent, window=(1, unit))
        return replace(intent, window=None, period=f"{period}.." if since else period)

    def _unknown_words(self, query: str) -> list[str]:
        """The query's words no document holds, when they are at least half of its (3 or more) words."""
        words, unknown = self._absent_words(query)
        return unknown if len(words) >= 2 and 2 * len(unknown) >= len(words) else []

    def _absent_words(self, query: str) -> tuple[list[str], list[str]]:
        """The query's searchable words (no stop words), and those of them no document holds."""
        stem = self.index.lexical.stem
        words = [w for w in dict.fromkeys(re.findall(r"[^\W\d_]+", query.lower())) if tokenize(w, stem=stem)]
        return words, [w for w in words if not self._known_word(w)]

    def _absent_pieces(self, query: str) -> list[str]:
        """The query's words (as typed: 'pre-training', 'COVID-19') that no document holds in any spelling the
        index knows ('pretraining', 'pre training'), when they are at least half of its searchable words."""
        stem, vocab = self.index.lexical.stem, self.index.lexical.vocab
        pieces = [
            p
            for p in PIECES.findall(query)
            if tokenize(p, stem=stem) and p.lower().strip(".") not in ("vs", "e.g", "i.e", "etc", "cf")
        ]

        def known(piece: str) -> bool:
            spellings = (piece, piece.replace("-", ""), piece.replace("-", " ")) if "-" in piece else (piece,)
            return any(all(t in vocab for t in tokenize(x, stem=stem)) for x in spellings)

        absent = [p.strip(".'") for p in pieces if not known(p)]
        return absent if absent and 2 * len(absent) >= len(pieces) else []

    SPELLING_MIN_LENGTH = 6  # shorter words have too many neighbours one letter away
    SPELLING_MIN_DOCUMENTS = 3  # the word read in its place is in at least this many (sampled) documents
    SPELLING_SAMPLE = 5000  # documents whose words are the ones a misspelling may be read as

    def _spelled(self, question: str) -> tuple[str, list[tuple[str, str]]]:
        """A word no document holds that is one letter off a word the documents hold as written
        ('summerization', 'retreival': a letter changed, added, dropped or two swapped; the first letter as
        typed) is read as the most common such word; also the (typed, read) pairs. Left alone: words with a
        capital (names, acronyms), short words, grammar words (`fix_typos` mends those) and words the
        embedder's own vocabulary holds whole ('tennis', 'spring': English the corpus happens to lack)."""
        pairs: list[tuple[str, str]] = []

        def one(m: re.Match[str]) -> str:
            typed = m.group(0)
            if len(typed) < self.SPELLING_MIN_LENGTH or typed in GRAMMAR_WORDS or self._known_word(typed):
                return typed
            if not tokenize(typed, stem=self.index.lexical.stem):
                return typed
            surface = self._surface_words()
            american = re.sub(r"our$", "or", re.sub(r"is(e|ed|es|ing|ation|ations|er|ers)$", r"iz\1", typed))
            if american != typed and surface.get(american, 0) >= self.SPELLING_MIN_DOCUMENTS:
                pairs.append((typed, american))  # "tokenisation": the documents write "tokenization"
                return american
            if self._is_english(typed):
                return typed
            head, tail = typed[0], typed[1:]
            letters = "abcdefghijklmnopqrstuvwxyz"
            edits = {tail[:i] + tail[i + 1 :] for i in range(len(tail))}  # dropped
            edits |= {tail[:i] + tail[i + 1] + tail[i] + tail[i + 2 :] for i in range(len(tail) - 1)}  # swapped
            edits |= {tail[:i] + c + tail[i + 1 :] for i in range(len(tail)) for c in letters}  # changed
            edits |= {tail[:i] + c + tail[i:] for i in range(len(tail) + 1) for c in letters}  # added
            scored = sorted((-surface.get(head + e, 0), head + e) for e in edits if head + e != typed)
            if not scored or -scored[0][0] < self.SPELLING_MIN_DOCUMENTS:
                return typed
            pairs.append((typed, scored[0][1]))
            return scored[0][1]

        return re.sub(r"(?<![\w-])[a-z]+(?![\w-])", one, question), pairs

    def _surface_words(self) -> dict[str, int]:
        """Lower-case words as the documents write them (an even sample of SPELLING_SAMPLE documents) and how
        many of the sampled documents hold each; computed once."""
        with self._lazy_lock:
            if self._surface is None:
                n = len(self._texts)
                step = max(1, n // self.SPELLING_SAMPLE)
                counts: collections.Counter[str] = collections.Counter()
                for row in range(0, n, step):
                    text = f"{self.retriever.titles[row]} {self._texts[row]}".lower()
                    counts.update(set(re.findall(r"(?<![\w-])[a-z]+(?![\w-])", text)))
                self._surface = dict(counts)
            return self._surface

    def _is_english(self, word: str) -> bool:
        """Whether the word is a real word the corpus merely lacks: in an English word list (pyspellchecker's,
        160k words), a whole word of the embedder's tokenizer, or (without an ending such as -s, -ing, -ed)
        one of those or a word the documents write ('codecs', 'sharding')."""
        with self._lazy_lock:
            if self._real_words is None:
                from spellchecker import SpellChecker

                tokenizer = getattr(self.retriever.embedder, "tokenizer", None)
                vocab = tokenizer.get_vocab() if tokenizer is not None and hasattr(tokenizer, "get_vocab") else {}
                pieces = {w.lstrip("▁Ġ").lower() for w in vocab}
                english = set(SpellChecker(language="en", distance=1).word_frequency.dictionary)
                self._real_words = frozenset(w for w in pieces | english if w.isalpha())
        known = self._real_words
        if word in known:
            return True
        surface = self._surface_words()
        for ending in ("s", "es", "ing", "ed", "er", "ers", "ly", "ies"):
            base = word[: -len(ending)] if word.endswith(ending) else ""
            if len(base) >= 3 and (base in known or base in surface or (ending == "ies" and base + "y" in known)):
                return True
        return False

    def _known_word(self, word: str) -> bool:
        """Whether the corpus holds the word (as the index stems it): such a word is never 'mended'."""
        lexical = self.index.lexical
        stems = tokenize(word, stem=lexical.stem)
        return bool(stems) and all(s in lexical.vocab for s in stems)

    def _resolve(self, intent: Intent, conv: Conversation, question: str = "") -> Intent:
        """Fill in a follow-up from the conversation: a fragment ('and in 2026?', 'what about speech?', 'and
        for Arabic?', 'and topic 1?', 'and by quarter?') changes the previous question; 'it' / 'that topic'
        stands for its subject or topic, also inside a question ('is it robust?')."""
        last = conv.last_intent
        bare = re.fullmatch(r"\s*(examples?|how\s+does\s+(it|this)\s+work)\s*[?.!]*\s*", question, re.IGNORECASE)
        if bare and (last is None or not last.content):  # "examples?" as the first question: how to use the chat
            return Intent(IntentKind.HELP, question)
        if bare and last is not None and bare.group(1).lower().startswith("example"):
            return Intent(IntentKind.PAPERS, f"{last.content} examples")  # "examples?" after a search on X
        if (
            intent.kind is IntentKind.DOCUMENT
            and intent.cited
            and not conv.last_citations
            and not re.search(r"\[\d|\bsources?\b", question, re.IGNORECASE)
        ):
            return Intent(IntentKind.PAPERS, question)  # "what was the first paper ...": no answer to point into
        if intent.elliptical:
            base = last if last is not None else Intent(IntentKind.PAPERS, "")
            month = month_number(intent.content) if intent.content and not (intent.period or intent.window) else 0
            if month and base.period[:4].isdigit():  # "and in April?" after a question on March 2026
                intent = replace(intent, content="", period=f"{base.period[:4]}-{month:02d}")
            if base.kind is IntentKind.COMPARE and (intent.content or intent.topic_ids):
                # "what about speech?" after a comparison: a search on it, in the same period
                base = Intent(IntentKind.PAPERS, "", window=base.window, period=base.period)
            if base.kind is IntentKind.LARGEST and intent.topic_ids:  # "and topic 1?" after the largest topics
                base = Intent(IntentKind.PAPERS, "")
            keep = base.subjects if base.kind is IntentKind.COMPARE else []  # "and in 2026?" compares them then
            new = replace(base, elliptical=True, follow_up=False, subjects=keep, cited=0, doc_ref="", similar=False)
            if intent.unit:  # "and by quarter?"
                new.unit = intent.unit
                return new
            if intent.period or intent.window:
                new.period, new.window, new.recent, new.oldest = intent.period, intent.window, False, False
            if intent.topic_ids:
                new.topic_ids, new.content = list(intent.topic_ids), ""
                if new.kind in (IntentKind.PAPERS, IntentKind.COVER):
                    new.kind = IntentKind.TOPIC
            if intent.content:
                named = all(w[:1].isupper() for w in intent.content.split()) and len(intent.content.split()) <= 4
                if base.person and named:  # "papers by Jane Doe" ... "what about John Roe?"
                    new.person = intent.content
                elif intent.content.strip().lower() in _PRONOUNS:  # "what about it in 2025?"
                    pass
                else:
                    narrowed = f"{base.content} {intent.content}" if intent.follow_up and base.content else ""
                    new.content, new.topic_ids = narrowed or intent.content, []
                    if new.kind is IntentKind.TOPIC:
                        new.kind = IntentKind.PAPERS
            return new
        narrowing = re.search(r"\b(of|among)\s+(them|those|these)\b", question, re.IGNORECASE)  # "how many of those"
        if (
            last is not None
            and intent.follow_up
            and intent.kind in (IntentKind.PAPERS, IntentKind.COUNT)
            and not (intent.topic_ids or intent.peak or intent.person)
            and not last.person
        ):  # "which of those are from April?", "how many of them?", "how many of those mention RL?"
            subject = last.content if last.kind in (IntentKind.PAPERS, IntentKind.COUNT, IntentKind.COVER) else ""
            if not (intent.period or intent.window):  # the period asked before stays
                intent = replace(intent, period=last.period, window=last.window)
            if not intent.excluded and last.excluded:  # ... and what it left out ("but not medical")
                intent = replace(intent, excluded=last.excluded)
            if intent.where is None and last.where is not None:  # ... and the column's value ("with label svn")
                intent = replace(intent, where=last.where)
            if not intent.content and (subject or last.topic_ids):
                return replace(intent, content=subject, topic_ids=[] if subject else list(last.topic_ids))
            if (
                narrowing
                and intent.kind is IntentKind.COUNT
                and subject
                and intent.content.lower() not in subject.lower()
            ):
                return replace(intent, content=f"{subject} {intent.content}")  # "how many of those mention RL?"
            if (
                narrowing
                and intent.kind is IntentKind.PAPERS
                and last.kind is IntentKind.COUNT  # the counted documents are in many topics, not the routed ones
                and subject
                and intent.content
                and intent.content.lower() not in subject.lower()
            ):  # "which of those are about security?" after "how many are about spring?": both, wherever they are
                return replace(intent, content=f"{subject} {intent.content}", follow_up=False)
        if (
            last is not None
            and narrowing
            and intent.kind is IntentKind.COUNT
            and intent.topic_ids
            and not intent.content
            and last.content
            and last.kind in (IntentKind.PAPERS, IntentKind.COUNT, IntentKind.COVER)
        ):  # "how many of those are in topic 18?": the last subject's documents in that topic
            return replace(intent, content=last.content)
        if (
            last is not None
            and intent.kind is IntentKind.COUNT
            and intent.peak
            and not (intent.content or intent.topic_ids)
            and not re.search(
                r"\b(papers|documents|articles|abstracts|publications|preprints|research|compare|vs\.?|versus)\b",
                question,
                re.I,
            )
        ):  # "which month had the most?" after a question on a subject
            return replace(intent, content=last.content, topic_ids=last.topic_ids[:1] if not last.content else [])
        if last is not None and last.content and re.search(r"\bits?\b", intent.content, re.IGNORECASE):
            if intent.content.strip().lower() not in _PRONOUNS:  # "is it robust?" after a question on DPO
                filled = re.sub(r"\bits?\b", last.content, intent.content, flags=re.IGNORECASE)
                return replace(intent, content=filled)
        if last is not None and intent.content.strip().lower() in _PRONOUNS:  # "how has it changed?"
            if last.topic_ids and (last.kind is IntentKind.TOPIC or not last.content):
                return replace(intent, content="", topic_ids=last.topic_ids[:1])
            if last.content:
                return replace(intent, content=last.content, topic_ids=[])
            if conv.last_topics:
                return replace(intent, content="", topic_ids=conv.last_topics[:1])
        return intent

    def ask(self, question: str, conversation: Conversation | None = None) -> Answer:
        """The finished answer of `stream`."""
        for event in self.stream(question, conversation):
            if isinstance(event, DoneEvent):
                return event.answer
        raise RuntimeError("the answer stream ended without an answer")

    def _instant_handlers(self) -> dict[IntentKind, Callable[[Intent, Conversation], Reply]]:
        """Intents answered from the index alone, in one piece."""
        return {
            IntentKind.LIST: self._list_topics,
            IntentKind.TOPIC: self._topic_detail,
            IntentKind.COMPARE: self._compare,
            IntentKind.FOCUS: self._focus,
            IntentKind.CLEAR: self._clear,
            IntentKind.MAP: self._map,
            IntentKind.TREND: self._trend,
            IntentKind.EMERGING: self._emerging,
            IntentKind.THEMES: self._themes,
            IntentKind.CHANGED: self._changed,
            IntentKind.COUNT: self._count,
            IntentKind.AUTHORS: self._authors,
            IntentKind.LARGEST: self._largest,
            IntentKind.DOCUMENT: self._document,
            IntentKind.HELP: self._help,
            IntentKind.ABOUT: self._about,
        }

    def _answer(self, question: str, intent: IntentKind, reply: Reply, conv: Conversation) -> Answer:
        """Check the reply's citations, remember its topics and sources, and make it the Answer."""
        text = check_citations(reply.text, len(reply.citations)).strip()
        if reply.topics or reply.listed:
            conv.last_topics = [t.id for t in reply.topics] + reply.listed
        conv.topics_listed = intent in _TOPIC_LISTS and bool(reply.topics or reply.listed)
        if reply.citations and not reply.keep_sources:
            conv.last_citations = reply.citations
        return Answer(
            question,
            intent,
            text,
            reply.topics,
            reply.citations,
            reply.coverage,
            reply.matched,
            reply.routing,
            reply.chart,
            reply.prose,
        )

    def _list_topics(self, intent: Intent, conv: Conversation) -> Reply:
        docs = len(self._texts)
        outliers = int((self.index.documents["topic"] == -1).sum())
        if not self.index.topics:
            return Reply(
                f"This index holds {docs} documents but no topics (the corpus was too small or too uniform to cluster). Ask about papers instead."
            )
        top = self.index.top_level()
        if not self.index.parents:
            lines = [
                f"The index holds {docs} documents in {len(self.index.topics)} topics ({outliers} documents are outliers)."
            ]
            lines += [f"- Topic {t.id}: {t.label} ({t.size} documents) — {self._keywords(t.id, n=5)}" for t in top]
            return Reply("\n".join(lines), listed=[t.id for t in top])
        areas = sum(bool(t.children) for t in top)  # the rest of the top level: topics in no area ("on its own")
        lone = len(top) - areas
        alone = (", plus 1 topic on its own" if lone == 1 else f", plus {lone} topics on their own") if lone else ""
        lines = [
            f"The index holds {docs} documents in {len(self.index.topics)} topics, grouped into {areas} areas{alone} "
            f"({outliers} documents are outliers). Say 'tell me about topic N' to open one."
        ]

        def add(node_id: int, depth: int) -> None:
            node = self.topics[node_id]
            words = f" — {self._keywords(node.id, n=5)}" if depth == 0 else ""
            lines.append(f"{'  ' * depth}- Topic {node.id}: {node.label} ({node.size} documents){words}")
            for child in node.children:
                if child in self.topics:
                    add(child, depth + 1)

        for t in top:
            add(t.id, 0)
        return Reply("\n".join(lines), listed=[t.id for t in top])  # "the second one": the second at the top

    def unknown_topic(self, missing: list[int]) -> Reply:
        """The reply to a topic id the index does not have: which ids it does have, leaves and areas apart."""
        leaves = [t.id for t in self.index.topics]
        parents = [t.id for t in self.index.parents]
        known = id_ranges(leaves) if leaves else "none"
        if parents:
            known += f" for topics, {id_ranges(parents)} for the areas above them"
        text = f"There is no topic {', '.join(map(str, missing))} in this index (topic ids: {known}). Type 'list topics' to see them."
        return Reply(text, matched=False)

    MAX_DETAILS = 5  # topics detailed in one answer ("topics 1, 4 and 7")

    def _topic_detail(self, intent: Intent, conv: Conversation) -> Reply:
        """A topic's label, summary, keywords, representative documents, place in the tree and closest topics;
        for several topics ("topics 1 and 4"), each in turn (up to MAX_DETAILS), the sources numbered through."""
        if intent.cited and not intent.topic_ids:  # "the third topic" with fewer topics (or none) before
            shown_before = len(conv.last_topics)
            return Reply(
                f"The last answer showed {shown_before or 'no'} topic{'s' * (shown_before != 1)}, so there is no "
                f"topic number {intent.cited} in it. Ask 'which topics cover X?' or 'list topics' first.",
                matched=False,
            )
        note = ""
        if not intent.topic_ids and intent.content:  # "tell me about the hallucination topic": the closest one
            routing = self.retriever.route(intent.content, k_docs=self.k_docs, subject=True)
            if not (routing.matched and routing.topics):
                return Reply(
                    f"No topic is close to “{intent.content}”. Type 'list topics' to see them, or ask "
                    f"'which topics cover {intent.content}?'.",
                    matched=False,
                )
            best, *others = routing.topics
            also = "; also close: " + ", ".join(f"topic {t.id} ({t.label})" for t in others[:2]) if others else ""
            note = f"(The topic closest to “{intent.content}” is topic {best.id}{also}.)\n"
            intent = replace(intent, topic_ids=[best.id])
        missing = [t for t in intent.topic_ids if t not in self.topics]
        if missing:
            return self.unknown_topic(missing)
        shown = intent.topic_ids[: self.MAX_DETAILS]
        blocks: list[str] = []
        citations: list[Citation] = []
        for tid in shown:
            if intent.noun == "documents":  # "papers in topic 12": its documents
                text, cited = self._topic_documents(tid, len(citations), intent.limit or self.LISTED)
            else:
                text, cited = self._one_topic(tid, len(citations))
            blocks.append(text)
            citations += cited
        if note:
            blocks[0] = note + blocks[0]
        if len(intent.topic_ids) > len(shown):
            rest = ", ".join(map(str, intent.topic_ids[len(shown) :]))
            blocks.append(f"(Shown: the first {len(shown)} topics named; ask for topic {rest} on its own.)")
        return Reply("\n\n".join(blocks), topics=[self._routed(t) for t in shown], citations=citations)

    LISTED = 10  # documents listed for "papers in topic 12" ("all papers in topic 12": up to MAX_LIMIT)

    def _topic_documents(self, tid: int, numbered: int, limit: int) -> tuple[str, list[Citation]]:
        """A topic's documents, the closest to its centre first (up to `limit`), numbered after `numbered`."""
        t, rows = self.topics[tid], self._rows_of(tid)
        order = rows[np.argsort(-(self.index.embeddings[rows] @ self._node_vectors[tid]), kind="stable")][:limit]
        citations = [
            replace(self._citation(numbered + i + 1, int(r), 1.0), date=self._date_of(int(r)))
            for i, r in enumerate(order)
        ]
        head = f"Topic {tid}: {self.path(tid)} ({t.size} documents)"
        head += (
            f"; the {len(order)} closest to its centre:" if len(order) < len(rows) else ", closest to its centre first:"
        )
        lines = [head]
        for c in citations:
            lines.append(f"[{c.n}] {c.title}" + (f" ({c.date})" if c.date else ""))
        if len(order) < len(rows):
            more = f"all papers in topic {tid}" if limit < MAX_LIMIT else f"papers in topic {tid} about X"
            lines.append(f"({len(rows) - len(order)} more; ask '{more}' to see others.)")
        return "\n".join(lines), citations

    def _one_topic(self, tid: int, numbered: int) -> tuple[str, list[Citation]]:
        """One topic's detail, its sources numbered after `numbered` earlier ones."""
        t = self.topics[tid]
        citations = [
            self._citation(numbered + i + 1, self.index.row_of(d), 1.0) for i, d in enumerate(t.representative_doc_ids)
        ]
        lines = [
            f"Topic {t.id}: {t.label} ({t.size} documents)",
            f"{t.summary}",
            f"Keywords (c-TF-IDF): {self._keywords(tid, 'ctfidf', 10)}",
            f"Keywords (KeyBERTInspired): {self._keywords(tid, 'keybert', 10)}",
            f"Keywords (MMR): {self._keywords(tid, 'mmr', 10)}",
            "Representative documents: " + " ".join(f"[{c.n}] {c.title}" for c in citations),
        ]
        if t.label_source is not LabelSource.LLM:
            lines.insert(1, f"(label from keywords: {t.label_rejected or 'no generator was used'})")
        if t.parent is not None:
            lines.insert(1, f"Part of: {self.path(t.parent)}")
        if t.children:
            subtopics = "; ".join(f"topic {c}: {self.topics[c].label} ({self.topics[c].size})" for c in t.children)
            lines.append(f"Subtopics: {subtopics}")
        peers = [n for n in self.topics.values() if n.level == t.level and n.id != tid and n.id in self._node_vectors]
        if peers and tid in self._node_vectors:
            sims = sorted(
                ((float(self._node_vectors[tid] @ self._node_vectors[n.id]), n) for n in peers), key=lambda x: -x[0]
            )
            lines.append(
                "Closest topics: " + "; ".join(f"topic {n.id}: {self.path(n.id)} ({sim:.2f})" for sim, n in sims[:3])
            )
        return "\n".join(lines), citations

    def _compare(self, intent: Intent, conv: Conversation) -> Reply:
        if intent.subjects:
            return self._compare_subjects(intent)
        a, b = intent.topic_ids[:2]
        missing = [x for x in (a, b) if x not in self.topics]
        if missing:
            return self.unknown_topic(missing)
        sim = float(self._node_vectors[a] @ self._node_vectors[b])
        words = {x: [w for w, _ in (self.topics[x].keywords.get("ctfidf") or [])] for x in (a, b)}
        shared = [w for w in words[a] if w in words[b]]
        citations: list[Citation] = []
        examples: dict[int, str] = {}
        for x in (a, b):  # up to two representative documents per topic, numbered in order
            first = len(citations)
            for d in self.topics[x].representative_doc_ids[:2]:
                citations.append(self._citation(len(citations) + 1, self.index.row_of(d), 1.0))
            numbers = " ".join(f"[{c.n}]" for c in citations[first:])
            examples[x] = f"Examples: {numbers}" if numbers else "No examples."
        ta, tb = self.topics[a], self.topics[b]
        text = "\n".join(
            [
                f"Topic {a} ({ta.label}, {ta.size} documents) vs topic {b} ({tb.label}, {tb.size} documents): similarity {sim:.2f}; "
                + (
                    f"topic {a if ta.size > tb.size else b} is the larger ({max(ta.size, tb.size)} against {min(ta.size, tb.size)})."
                    if ta.size != tb.size
                    else "both hold as many documents."
                ),
                f"Shared keywords: {', '.join(shared) or 'none'}.",
                f"Only topic {a}: {', '.join(w for w in words[a] if w not in shared)}. {examples[a]}",
                f"Only topic {b}: {', '.join(w for w in words[b] if w not in shared)}. {examples[b]}",
            ]
        )
        return Reply(text, topics=[self._routed(a), self._routed(b)], citations=citations)

    def _focus(self, intent: Intent, conv: Conversation) -> Reply:
        missing = [x for x in intent.topic_ids if x not in self.topics]
        if missing:
            return self.unknown_topic(missing)
        conv.focus = list(intent.topic_ids)
        names = "; ".join(f"topic {x} ({self.topics[x].label})" for x in conv.focus)
        return Reply(
            f"From now on I search only {names} (plus nothing else). Say 'use all topics' to search everything again."
        )

    def _clear(self, intent: Intent, conv: Conversation) -> Reply:
        conv.focus = []
        return Reply("I search all topics again.")

    def _map(self, intent: Intent, conv: Conversation) -> Reply:
        return Reply(
            f"The document map shows all {len(self._texts)} documents in two dimensions, coloured by topic "
            "(outliers in grey); documents cited in the last answer are highlighted."
        )

    # -- counts and comparisons of subjects -----------------------------------------------------
    COUNT_TOPICS = 3
    COMPARE_TOPICS = 2

    def _mentions(self, subject: str) -> Mentions:
        titles = self.retriever.titles
        return mentions(
            self.index.lexical, lambda row: f"{titles[row]}\n{self._texts[row]}", subject, known=self._is_english
        )

    def _spelled_out(self, found: Mentions) -> tuple[str, np.ndarray]:
        """An acronym's written-out form in this index ('LLMs': 'large language model', read from the documents'
        own '... (LLMs)') and the rows that write the form but not the acronym; ('', none) for other subjects."""
        none = "", np.zeros(0, dtype=np.int64)
        if not len(found.rows) or not is_acronym(found.subject):
            return none
        key = f"{found.subject.strip()}|{len(found.rows)}"
        if key not in self._spelled_forms:
            titles = self.retriever.titles
            form = spelled_out(found.subject, (f"{titles[r]}\n{self._texts[r]}" for r in found.rows[:3000]))
            if len(self._spelled_forms) > 512:  # a bounded memory of the subjects asked
                self._spelled_forms.clear()
            self._spelled_forms[key] = (
                (form, np.setdiff1d(self._mentions(form).phrase_rows, found.rows)) if form else none
            )
        return self._spelled_forms[key]

    MAX_VALUES = 1000  # a column with at most this many distinct values can filter ("label", "category")

    @functools.cached_property
    def _filter_columns(self) -> dict[str, dict[str, np.ndarray]]:
        """The data columns a question may filter by, each value (lower case) with its rows: columns of
        2..MAX_VALUES distinct short values (not the text, title, id, date or author columns); built once."""
        docs = self.index.documents
        skip = set(_INTERNAL_COLUMNS) | {"doc_id", "title", "text", self._author_column() or ""}
        if self.index.timeline is not None:
            skip.add(self.index.timeline.column)
        out: dict[str, dict[str, np.ndarray]] = {}
        for column in docs.columns:
            try:  # (counted before any text is copied: an abstract column stops here)
                distinct = docs[column].nunique(dropna=True)
            except TypeError:  # lists in cells: not one value a document
                continue
            if column in skip or not 2 <= distinct <= self.MAX_VALUES:
                continue
            raw = docs[column]
            if pd.api.types.is_float_dtype(raw) and bool((raw.dropna() % 1 == 0).all()):
                raw = raw.astype("Int64")  # a year read as 2020.0 is 2020
            values = raw.astype("string").fillna("").str.strip().str.lower()
            codes, names = pd.factorize(values)
            order = np.argsort(codes, kind="stable")
            groups = np.split(order, np.cumsum(np.bincount(codes, minlength=len(names)))[:-1])  # rows ascending
            kept = {str(n): g for n, g in zip(names, groups, strict=True) if str(n) and len(str(n)) <= 60}
            if len(kept) >= 2:
                out[str(column)] = kept
        return out

    def _where(self, text: str) -> tuple[str, tuple[str, str] | None]:
        """'questions with label svn', 'papers in category cs.CL about agents', 'how many bills have label
        Health?': the question without the column and its value, and (column, value as the data writes it);
        the text unchanged and None when it names no filterable column with one of its values."""
        for column, values in self._filter_columns.items():
            names = re.escape(column.lower()).replace("_", "[_ ]") + r"(s|es)?"
            m = re.search(  # a cue before the column's name: not "how do I label plots?", "bills on type 2 diabetes"
                rf"\s*\b(?P<cue>with|where|whose|having|has|have|in|under|from|tagged|labell?ed)\s+(the\s+|a\s+)?{names}\s*"
                r"(is\s+|=\s*|:\s*|of\s+)?[\"“']?(?P<v>[^\s\"”'?!,]+(\s+[^\s\"”'?!,]+){0,3})",
                text,
                re.IGNORECASE,
            )
            if m is None or re.search(r"\b(without|not|except|excluding|other\s+than)\s*$", text[: m.start()], re.I):
                continue  # ("questions without label svn": no filter, rather than the opposite one)
            words = m.group("v").split()
            for n in range(len(words), 0, -1):  # the longest run of words that is one of the values
                value = " ".join(words[:n]).rstrip(".").lower()
                if value in values:
                    end = m.start("v") + len(" ".join(words[:n]).rstrip("."))
                    end += 1 if text[end : end + 1] in ('"', "”", "'") else 0  # a closing quote
                    shown = str(self.index.documents[column].iat[int(values[value][0])]).strip()
                    rest = re.sub(r"\s+", " ", f"{text[: m.start()]} {text[end:].lstrip(' .')}").strip()
                    return rest, (column, shown)
        return text, None

    def _column_asked(self, text: str) -> str | None:
        """The filterable column a question asks the values of ('what labels are there?', 'how many
        categories are there?', 'which tags exist?'), else None."""
        m = re.fullmatch(
            r"\s*(what|which|how\s+many)\s+(different\s+|distinct\s+|kinds\s+of\s+|values\s+of\s+)?(the\s+)?(?P<c>[\w-]+)"
            r"\s+(are\s+there|exist|are\s+used|does\s+(it|the\s+\w+)\s+have|do\s+(the\s+)?\w+\s+have)?\s*[?.!]*\s*",
            text,
            re.IGNORECASE,
        )
        if m is None:
            return None
        by_name = {c.lower(): c for c in self._filter_columns}
        word = m.group("c").lower()
        forms = (word, word[:-1], word[:-2], word[:-3] + "y", word.replace(" ", "_"))  # "labels", "categories"
        return next((by_name[w] for w in forms if w in by_name), None)

    def _column_values(self, column: str) -> Reply:
        values = sorted(self._filter_columns[column].items(), key=lambda kv: (-len(kv[1]), kv[0]))
        docs = self.index.documents[column].astype("string").fillna("").str.strip()
        shown = [f"{docs.iat[int(rows[0])]} ({len(rows):,})" for _, rows in values[:30]]
        more = f"; and {len(values) - 30} more" if len(values) > 30 else ""
        example = docs.iat[int(values[0][1][0])]
        return Reply(
            f"The column '{column}' has {len(values)} values (documents each, most first): {'; '.join(shown)}{more}. "
            f"Ask e.g. 'how many documents have {column} {example}?' or 'documents with {column} {example} about X'."
        )

    def _where_rows(self, where: tuple[str, str]) -> np.ndarray:
        column, value = where
        return self._filter_columns[column][value.strip().lower()]

    @staticmethod
    def _filters(intent: Intent) -> bool:
        """Whether the answer to this intent can be narrowed to a column's value: searches, listings and counts
        of documents (not trends, rankings of topics or counts of topics)."""
        kinds = (IntentKind.PAPERS, IntentKind.COUNT, IntentKind.COVER)
        return intent.kind in kinds and intent.noun != "topics" and not intent.peak

    def _with_where(self, intent: Intent, where: tuple[str, str]) -> Intent:
        """The filter on an intent it can narrow (`_filters`); 'list questions' / 'which bills' left with no
        subject asks for them all."""
        bare = re.fullmatch(
            rf"((list|show|give|find|which|what|all|the|me|are|is|there|any)\s+)*((papers?|documents?|articles?|"
            rf"abstracts?|{_OTHER_DOCS}|questions?|items?)\s*)?(are\s+there|there\s+are)?",
            intent.content.strip(" ?.!"),
            re.IGNORECASE,
        )
        kind = IntentKind.PAPERS if intent.kind is IntentKind.COVER and bare else intent.kind
        return replace(intent, kind=kind, content="" if bare else intent.content, where=where)

    def _count_where(self, intent: Intent) -> Reply:
        """'How many questions have label svn (about merging)?': the documents with that value, those of them
        that hold the subject's words, and the topics holding most of them."""
        assert intent.where is not None
        column, value = intent.where
        rows = self._where_rows(intent.where)
        total = len(self._texts)
        noun = intent.noun or "documents"
        lines = [f"{len(rows):,} of the index's {total:,} {noun} ({len(rows) / total:.1%}) have '{column}' “{value}”."]
        within, note, empty = self._time_scope(intent)  # "... in April 2025?": those dated then
        if empty is not None:
            return empty
        if within is not None:
            rows = np.intersect1d(rows, within)
            lines.append(f"{note.strip()} Of them, {len(rows):,}.")
        elif note:
            lines.append(note.strip())
        counted = rows
        if intent.content:
            found = self._mentions(intent.content)
            counted = np.intersect1d(rows, found.rows)
            lines.append(
                f"{len(counted):,} of them ({len(counted) / max(len(rows), 1):.1%}) hold every word of "
                f"“{intent.content}” ({', '.join(found.words)}, as stems); {len(found.rows):,} in the whole index."
            )
        holding = self._holding_topics(counted, exclude=[])
        if holding:
            lines.append(f"The topics holding most of them: {holding}.")
        return Reply("\n".join(lines))

    def _holding_topics(self, rows: np.ndarray, exclude: list[int], n: int = 4) -> str:
        """The topics (not in `exclude`) holding the most of these rows, at least a twentieth of them each:
        'topic 141: Magento Products (300)'; '' when none does."""
        topic_of = self.retriever.topic_of[rows]
        ids, counts = np.unique(topic_of[(topic_of >= 0) & ~np.isin(topic_of, exclude)], return_counts=True)
        order = [i for i in np.argsort(-counts, kind="stable")[:n] if counts[i] * 20 >= len(rows)]
        return "; ".join(f"topic {int(ids[i])}: {self.path(int(ids[i]))} ({int(counts[i])})" for i in order)

    def _mention_line(self, found: Mentions, noun: str, of: int | None = None) -> str:
        total = of or len(self._texts)
        if not found.words:
            return f"“{found.subject}” has no word to look up (only common words)."
        if len(found.rows) == 0:
            return f"No {noun} hold every word of “{found.subject}” ({', '.join(found.words)}, as stems)."
        also = f"; also as “{'”, “'.join(found.also)}”" if found.also else ""
        line = (
            f"{len(found.rows)} {noun} ({len(found.rows) / total:.1%}) hold every word of “{found.subject}” "
            f"({', '.join(found.words)}, as stems{also})"
        )
        one_word = len(found.subject.split()) == 1  # its count tells something only when the stem widened it
        if found.phrase_counted and not (one_word and len(found.phrase_rows) == len(found.rows)):
            line += f"; {len(found.phrase_rows)} of them hold the {'word' if one_word else 'phrase'} itself"
        return line + "."

    def _period_counts(self, rows: np.ndarray) -> np.ndarray:
        timeline = self.index.timeline
        assert timeline is not None
        periods = timeline.doc_period[rows]
        return np.bincount(periods[periods >= 0], minlength=len(timeline.periods))

    def _count(self, intent: Intent, conv: Conversation) -> Reply:
        """How many documents are about a subject: the ones that mention it (word index) and the ones in the
        topics it routes to, counted from the index; with dates, per period. No subject: the index's size."""
        if intent.peak:
            return self._peak(intent)
        if intent.where is not None and intent.noun != "topics":
            return self._count_where(intent)
        total = len(self._texts)
        outliers = int((self.retriever.topic_of == -1).sum())
        timeline = self.index.timeline
        noun = intent.noun or "documents"
        if noun == "topics":
            leaves = len(self.index.topics)
            if not leaves:
                return Reply(f"This index has no topics: its {total} documents were too few or too alike to cluster.")
            levels = ""
            if self.index.parents:
                sizes = collections.Counter(t.level for t in self.index.nodes.values())
                levels = ", grouped " + " > ".join(f"{sizes[lv]}" for lv in sorted(sizes, reverse=True))
                levels += " from the top level down to the leaves"
            return Reply(
                f"The index holds {leaves} topics{levels}; {outliers} of its {total} documents "
                f"({outliers / max(total, 1):.1%}) belong to no topic. Type 'list topics' to see them."
            )
        if intent.topic_ids and not intent.content:  # "how many papers are in topic 5?" ("in topics 5 and 7?")
            missing = [t for t in intent.topic_ids if t not in self.topics]
            if missing:
                return self.unknown_topic(missing)
            ids = intent.topic_ids[: self.MAX_DETAILS]
            texts = []
            for tid in ids:
                node = self.topics[tid]
                text = f"Topic {tid} ({self.path(tid)}) holds {node.size} of the index's {total} {noun} ({node.size / max(total, 1):.1%})."
                dated = self._dated_rows(self._rows_of(tid), intent)  # "how many papers in topic 2 are from 2026?"
                if isinstance(dated, Reply):
                    return dated
                if dated[1]:
                    text += f" {len(dated[0])} of them are{dated[1]}." if dated[1].startswith(" dated") else dated[1]
                if timeline is not None and len(timeline.periods) and tid in timeline.counts:
                    text += f" Per {timeline.granularity}: {series_text(timeline, timeline.counts[tid])}."
                texts.append(text)
            if len(ids) > 1:  # together: each document once (a topic and an area above it share documents)
                rows = self._rows_of_many(ids)
                together = f"Together they hold {len(rows)} of the {total} {noun} ({len(rows) / max(total, 1):.1%})"
                dated = self._dated_rows(rows, intent)
                if not isinstance(dated, Reply) and dated[1].startswith(" dated"):
                    together += f"; {len(dated[0])} of them are{dated[1]}"
                texts.append(together + ".")
            return Reply("\n".join(texts), topics=[self._routed(t) for t in ids])
        if not intent.content and intent.window and timeline is not None and len(timeline.periods):
            recent = _window_positions(timeline, intent.window)  # "how many papers in the last 3 months?"
            return Reply(
                f"{int(timeline.totals[recent].sum())} of the index's {total} {noun} are dated {timeline.span(recent)} "
                f"(by '{timeline.column}')."
            )
        if re.fullmatch(
            r"(the\s+)?(outliers?|noise|unassigned|unclustered|(in|with|of)\s+no\s+topic)", intent.content, re.I
        ):
            return Reply(  # "how many documents are outliers?": the index's own figure, not the word "outlier"
                f"{outliers} of the index's {total} {noun} ({outliers / max(total, 1):.1%}) belong to no topic "
                "(HDBSCAN's outliers that were not close enough to any topic to be placed in one)."
            )
        if re.search(r"\b(or|not|without|except)\b", intent.content, re.IGNORECASE):
            return Reply(
                f"I count the {noun} that hold every word of a subject, so “{intent.content}” (with 'or', 'not', "
                "'without' or 'except') would be miscounted: ask once per subject, e.g. 'how many papers are "
                "about X?' and 'how many papers are about Y?'.",
                matched=False,
            )
        if not intent.content and intent.period:  # "how many papers are from 2025?"
            if timeline is None or not len(timeline.periods):
                return Reply(
                    f"This index has no dates, so it cannot count the {noun} of {_shown(intent.period)} (rebuild with "
                    "--time-col COLUMN).",
                    matched=False,
                )
            hit = period_positions(timeline, intent.period)
            spans = timeline.span(list(range(len(timeline.periods))))
            if not hit:
                return Reply(f"No {noun} are dated {_shown(intent.period)}: this index spans {spans}.", matched=False)
            return Reply(
                f"{int(timeline.totals[hit].sum())} of the index's {total} {noun} are dated {_shown(intent.period)} "
                f"(by '{timeline.column}'; it spans {spans})."
            )
        if not intent.content:
            text = f"The index holds {total} documents in {len(self.index.topics)} topics ({outliers} outliers)."
            if timeline is not None and len(timeline.periods):
                every = list(range(len(timeline.periods)))
                text += (
                    f" {int(timeline.totals.sum())} are dated, {timeline.span(every)}; per {timeline.granularity}: "
                    f"{series_text(timeline, timeline.totals)}."
                )
            return Reply(text)
        subject = intent.content
        found = self._mentions(subject)
        routing = self.retriever.route(subject, k_docs=self.k_docs, subject=True)
        lines = [f"How many {noun} are about “{subject}”, counted from the index ({total} {noun} in all):"]
        lines.append(f"- {self._mention_line(found, noun)}")
        form, more = self._spelled_out(found)
        if len(more):  # "how many papers mention LLMs?": those writing "large language models" only, apart
            both = len(found.rows) + len(more)
            lines.append(
                f"- {len(more)} more {noun} write it out (“{form}”) without the acronym: {both} ({both / total:.1%}) "
                "in all."
            )
        for tid in [t for t in intent.topic_ids if t in self.topics][: self.MAX_DETAILS]:  # "... in topic 18?"
            in_topic = np.intersect1d(found.rows, self._rows_of(tid))
            lines.append(
                f"- In topic {tid} ({self.path(tid)}): {len(in_topic)} of its {self.topics[tid].size} {noun} hold every "
                f"word of “{subject}”."
            )
        if intent.excluded and len(found.rows):  # "how many of them?" after "... but not medical"
            left, mention = self._excluded_rows(intent.excluded)
            if mention:
                lines.append(
                    f"- {len(np.intersect1d(found.rows, left))} of them also mention {mention}: these counts leave no "
                    f"words out ({len(np.setdiff1d(found.rows, left))} of them do not mention it)."
                )
        routed: list[RoutedTopic] = []
        citations: list[Citation] = []
        if routing.matched and routing.topics:
            routed = routing.topics[: self.COUNT_TOPICS]
            held = sum(t.size for t in routed)
            named = "; ".join(f"topic {t.id}: {self.path(t.id)} ({t.size})" for t in routed)
            lines.append(
                f"- {held} {noun} ({held / total:.1%}) are in the {len(routed)} topic(s) it routes to: {named}."
            )
            if len(found.rows):
                inside = int(np.isin(self.retriever.topic_of[found.rows], [t.id for t in routed]).sum())
                lines.append(f"- {inside} of the {len(found.rows)} {noun} that hold its words are in these topics.")
                holding = self._holding_topics(found.rows, exclude=[t.id for t in routed])
                if holding:  # where the others are: "magento" routes to a mixed topic, its own topics hold more
                    lines.append(f"- Other topics holding many of them: {holding}.")
            citations = [self._citation(i + 1, h.row, h.score) for i, h in enumerate(routing.hits[: self.k_docs])]
            self._add_evidence(subject, citations)
        else:
            lines.append(
                f"- No topic fits it well (the closest document has similarity {_similarity(routing.best_similarity)}), "
                "so only the word count above is given."
            )
        if timeline is not None and len(timeline.periods) and len(found.rows):
            per = self._period_counts(found.rows)
            asked: list[tuple[str, list[int]]] = []
            if intent.period:
                hit = period_positions(timeline, intent.period)
                if hit:
                    asked.append((_shown(intent.period), hit))
                else:
                    lines.append(
                        f"- No {noun} are dated {_shown(intent.period)} (the index spans {timeline.span(list(range(len(timeline.periods))))})."
                    )
            if intent.window:
                recent = _window_positions(timeline, intent.window)
                asked.append((timeline.span(recent), recent))
            routed_periods = timeline.doc_period[self._rows_of_many([t.id for t in routed])] if routed else None
            for n, (when, positions) in enumerate(asked):  # the period asked for is the answer: it comes first
                in_topics = ""
                if routed_periods is not None:
                    then = np.isin(routed_periods, positions)
                    in_topics = f"; {int(then.sum())} of the {noun} in the topic(s) it routes to are dated then"
                lines.insert(
                    1 + n,
                    f"- In {when}: {int(per[positions].sum())} of the {int(timeline.totals[positions].sum())} {noun} "
                    f"dated then hold every word of “{subject}”{in_topics}. Over all dates:",
                )
            lines.append(f"- Per {timeline.granularity}, those holding its words: {series_text(timeline, per)}.")
        elif (intent.period or intent.window) and timeline is None:
            lines.append(
                "- This index has no dates, so these counts cover every document (rebuild with --time-col COLUMN "
                "to count by period)."
            )
        if citations:
            lines.append(
                "Closest documents, each with its sentence that answers best:"
                if any(c.evidence for c in citations)
                else "Closest documents:"
            )
            for c in citations:
                lines.append(f"[{c.n}] {c.title}" + (f"\n    “{c.evidence}”" if c.evidence else ""))
        coverage = Coverage.of(routing, total) if routed else None
        return Reply(
            "\n".join(lines),
            topics=routed,
            citations=citations,
            coverage=coverage,
            routing=routing,
            matched=bool(routed) or len(found.rows) > 0,
        )

    def _peak(self, intent: Intent) -> Reply:
        """'Which month had the most papers on X?': the period(s) with the most (or fewest) documents that hold
        X's words (or of a topic, or of the whole index), in counts and as a share of the period's documents,
        with the series, a plot and the documents of that period closest to X. A coarser period than the
        index's ('which year ...' of an index by month) adds its periods up."""
        timeline = self._usable_timeline()
        if isinstance(timeline, Reply):
            return timeline
        asked = self._asked_periods(timeline, intent)
        if isinstance(asked, Reply):
            return asked
        positions = asked[0]
        routed: list[RoutedTopic] = []
        rows: np.ndarray | None = None
        vector: np.ndarray | None = None
        if intent.topic_ids:
            missing = [t for t in intent.topic_ids if t not in self.topics]
            if missing:
                return self.unknown_topic(missing)
            rows = self._rows_of_many(intent.topic_ids)
            what = "documents of " + "; ".join(f"topic {t} ({self.path(t)})" for t in intent.topic_ids)
            routed = [self._routed(t) for t in intent.topic_ids]
            vector = self._mean_vector([self._node_vectors[t] for t in intent.topic_ids])
        elif intent.content:
            found = self._mentions(intent.content)
            if not len(found.rows):
                return Reply(f"- {self._mention_line(found, 'documents')}", matched=False)
            rows = found.rows
            what = f"documents holding every word of “{intent.content}” ({', '.join(found.words)}, as stems)"
        else:
            what = "documents"
        counts = timeline.totals if rows is None else self._period_counts(rows)
        order = ("month", "quarter", "year")
        unit: str = timeline.granularity
        if intent.unit in order and order.index(intent.unit) > order.index(unit):
            unit = intent.unit  # add the index's periods up to the unit asked for
        code = {"month": "M", "quarter": "Q", "year": "Y"}
        group = [str(pd.Period(timeline.periods[i], code[timeline.granularity]).asfreq(code[unit])) for i in positions]
        labels = list(dict.fromkeys(group))
        members = {g: [i for i, x in zip(positions, group, strict=True) if x == g] for g in labels}
        n = np.array([int(counts[members[g]].sum()) for g in labels])
        of = np.array([int(timeline.totals[members[g]].sum()) for g in labels])
        last = len(timeline.periods) - 1
        ends = {0: "first", last: "last"}
        edge = {g: " and ".join(ends[i] for i in sorted(ends) if i in members[g]) for g in labels}
        edge = {g: e for g, e in edge.items() if e}
        pick = np.argmax if intent.peak == "most" else np.argmin
        best = int(n[pick(n)])
        at = [i for i in range(len(labels)) if n[i] == best]
        scope = f" in {asked[1]}" if asked[1] else ""
        note = (
            f" (the index counts by {timeline.granularity})"
            if intent.unit and intent.unit != unit
            else f" (added up from its {timeline.granularity}s)"
            if unit != timeline.granularity
            else ""
        )
        share = (
            f" ({best / of[at[0]]:.1%} of the {of[at[0]]} documents dated then)"
            if rows is not None and of[at[0]]
            else ""
        )
        lines = [
            f"By {unit} of '{timeline.column}'{scope}{note}, the {unit} with the {intent.peak} {what}: "
            + (
                f"{labels[at[0]]}, {best}{share}."
                if len(at) == 1
                else f"{', '.join(labels[i] for i in at)}, {best} each."
            )
        ]
        if any(labels[i] in edge for i in at):
            inner = [i for i in range(len(labels)) if labels[i] not in edge]
            other = ""
            if inner:
                j = inner[int(pick(n[inner]))]
                other = f"; of the other {unit}s, the {intent.peak}: {labels[j]} ({n[j]})"
            lines.append(
                f"{', '.join(labels[i] for i in at if labels[i] in edge)} is the index's "
                f"{' and '.join(dict.fromkeys(edge[labels[i]] for i in at if labels[i] in edge))} {unit}, which its "
                f"documents may cover only in part{other}."
            )
        if rows is not None and (of > 0).any():  # a share of each period's documents can peak elsewhere
            dated = np.flatnonzero(of > 0)
            shares = n[dated] / of[dated]
            top = int(dated[int(pick(shares))])
            if top not in at:
                lines.append(
                    f"As a share of each {unit}'s documents, the {'highest' if intent.peak == 'most' else 'lowest'} "
                    f"is {labels[top]} ({n[top] / of[top]:.1%}: {n[top]} of {of[top]}"
                    + (f"; the index's {edge[labels[top]]} {unit})." if labels[top] in edge else ").")
                )
        few = rows is not None and len(labels) <= 6  # "RAG in 2025 vs 2026": each with its share
        lines.append(
            f"Per {unit}: "
            + " · ".join(
                f"{g}: {c}" + (f" ({c / t:.1%} of {t})" if few and t else "")
                for g, c, t in zip(labels, n, of, strict=True)
            )
            + "."
        )
        citations: list[Citation] = []
        if rows is not None and intent.peak == "most":
            peak_positions = [p for i in at for p in members[labels[i]]]
            in_peak = rows[np.isin(timeline.doc_period[rows], peak_positions)]
            if vector is None:
                vector = self.retriever.embed_query(intent.content)
            closest = np.argsort(-(self.index.embeddings[in_peak] @ vector))[:3]
            citations = [self._citation(i + 1, int(in_peak[j]), 1.0) for i, j in enumerate(closest)]
            for c in citations:
                c.date = self._date_of(c.row)
            if citations:
                lines.append(f"Documents of {', '.join(labels[i] for i in at)} closest to it:")
                lines += [f"[{c.n}] {c.title} ({c.date})" for c in citations]
        name = (
            f"“{intent.content}”" if intent.content else f"topic {intent.topic_ids[0]}" if intent.topic_ids else "all"
        )
        chart = TrendChart(timeline.column, unit, labels, {name: [int(c) for c in n]}, [int(c) for c in of])
        return Reply("\n".join(lines), topics=routed, citations=citations, chart=chart)

    AUTHOR_COLUMNS = ("authors", "author", "creators", "creator", "writers", "by")
    AUTHORS_SHOWN = 10

    def _author_column(self) -> str | None:
        by_name = {str(c).lower(): str(c) for c in self.index.documents.columns}
        return next((by_name[c] for c in self.AUTHOR_COLUMNS if c in by_name), None)

    DOCUMENT_CHARS = 1500  # of a document's text shown by "tell me about [2]"

    def _document(self, intent: Intent, conv: Conversation) -> Reply:
        """One document: a source of the previous answer ('tell me about [2]', 'the second paper') or a document
        id; shown whole (title, id, topic path, date, authors, text), or its closest documents ('more like [2]')."""
        numbered_source = bool(intent.cited) and 1 <= intent.cited <= len(conv.last_citations)
        by_id = None
        if intent.doc_ref and not numbered_source:  # "document 447" after an answer of five sources: the id
            try:
                by_id = self.index.row_of(intent.doc_ref)
            except KeyError:
                if not intent.cited:  # ("paper 2" with no such id: the source it would be, below)
                    return Reply(f"There is no document with id “{intent.doc_ref}” in this index.", matched=False)
        if by_id is not None:
            row = by_id
        elif intent.content and not intent.cited:  # 'papers like "Gemma 3 Technical Report"': the document so titled
            found = self._row_by_title(intent.content)
            if found is None:
                hits = self.retriever.search(intent.content, k=3)
                closest = "; ".join(f"“{self.retriever.titles[h.row]}”" for h in hits)
                return Reply(
                    f"No document of this index is titled “{intent.content}”."
                    + (f" The closest titles: {closest}." if closest else ""),
                    matched=False,
                )
            row = found
        else:
            sources = conv.last_citations
            if not sources:
                return Reply(
                    f"There is no earlier answer with sources, so there is no source {intent.cited} to open: ask a "
                    "question first, then 'tell me about source 2' or 'more like source 2'.",
                    matched=False,
                )
            if not 1 <= intent.cited <= len(sources):
                return Reply(
                    f"The previous answer cited {len(sources)} source(s), so there is no source {intent.cited}.",
                    matched=False,
                )
            row = sources[intent.cited - 1].row
        if intent.similar:
            return self._similar_to(row)
        title = self.retriever.titles[row]
        topic = int(self.retriever.topic_of[row])
        where = f"topic {topic}: {self.path(topic)}" if topic in self.topics else "no topic (an outlier)"
        facts = [f"id {self.retriever.doc_ids[row]}", where]
        if date := self._date_of(row):
            facts.append(f"dated {date}")
        column = self._author_column()
        if column is not None:
            values = self.index.documents[column]
            names = _author_names(values.iat[row], _author_sep(values))
            if names:
                facts.append("by " + "; ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else ""))
        text = self._texts[row]
        shown = text if len(text) <= self.DOCUMENT_CHARS else text[: self.DOCUMENT_CHARS - 1].rstrip() + "…"
        citation = self._citation(1, row, 1.0)
        n = intent.cited or 1
        head = f"Source {n} of the previous answer:\n" if intent.cited else ""
        body = (
            f"{head}[1] {title}\n{' · '.join(facts)}\n\n{shown}\n\n"
            f"Say 'more like {'source ' + str(n) if intent.cited else '[1]'}' for the documents closest to it."
        )
        routed = [self._routed(topic)] if topic in self.topics else []
        return Reply(body, topics=routed, citations=[citation], keep_sources=bool(intent.cited))

    def _excluded_rows(self, excluded: str) -> tuple[np.ndarray, str]:
        """The rows that mention any part of 'medical or legal' (each part: all its words), ascending, and the
        parts as the answer names them ('“medical” or “legal”'; '' when no part has a word to look for)."""
        stem = self.index.lexical.stem
        parts = [p for p in re.split(r"\s*(?:,|/|\bor\b|\band\b|\bnor\b)\s*", excluded) if tokenize(p, stem=stem)]
        found = [self._mentions(p.strip()) for p in parts]  # its forms too ("environmental", "LLM" and "LLMs")
        rows = [f.rows for f in found]
        named = [f"“{p.strip()}”" for p in parts]
        for i, mention in enumerate(found):  # "not about LLMs": nor about "large language models" written out
            form, more = self._spelled_out(mention)
            if form:
                rows.append(more)
                named[i] += f" (or “{form}”)"
        held = np.unique(np.concatenate(rows)) if rows else np.zeros(0, dtype=np.int64)
        return held, " or ".join(named)

    @functools.cached_property
    def _title_rows(self) -> dict[str, int]:
        """Each title's `_title_key` and the row of its first document (built once, on the first title asked)."""
        keys: dict[str, int] = {}
        for row, t in enumerate(self.retriever.titles):
            keys.setdefault(_title_key(t), row)
        return keys

    def _row_by_title(self, title: str) -> int | None:
        """The row of the document with this title: the same words in any case and punctuation, else the one
        title that starts so, else (up to 200,000 documents) a title that differs by a few letters."""
        key = _title_key(title)
        if not key:
            return None
        if key in self._title_rows:
            return self._title_rows[key]
        starting = [r for k, r in self._title_rows.items() if k.startswith(key + " ")][:2]
        if len(starting) == 1:
            return starting[0]
        if len(self._title_rows) <= 200_000:
            close = difflib.get_close_matches(key, list(self._title_rows), n=1, cutoff=0.9)
            if close:
                return self._title_rows[close[0]]
        return None

    def _similar_to(self, row: int) -> Reply:
        """The documents closest to one document (its own embedding as the query), with their topics."""
        title = self.retriever.titles[row]
        vector = np.asarray(self.index.embeddings[row], dtype=np.float32)
        hits = [h for h in self.retriever.search(title, k=self.k_docs + 1, qvec=vector) if h.row != row][: self.k_docs]
        hits.sort(key=lambda h: -h.dense)  # shown with their similarity: the closest first
        citations = [self._citation(1, row, 1.0)] + [self._citation(i + 2, h.row, h.dense) for i, h in enumerate(hits)]
        lines = [f"Documents closest to [1] {title} (by its embedding and its title's words):"]
        for c, h in zip(citations[1:], hits, strict=True):
            lines.append(f"[{c.n}] {c.title} (similarity {h.dense:.2f}; topic {c.topic}: {c.topic_label})")
        if not hits:
            lines.append("No other document is close to it.")
        return Reply("\n".join(lines), citations=citations)

    def _help(self, intent: Intent, conv: Conversation) -> Reply:
        """'Help', 'what can you do?', 'hi': what this chat answers, with example questions built from this
        index (its largest topics' keywords; dates and authors only where the index has them)."""
        if re.match(r"\s*(thanks|thank|thx|cheers|ok)", intent.content, re.IGNORECASE):
            return Reply("You're welcome. Ask another question, or type 'help' for examples.")
        total = len(self._texts)
        largest = sorted(self.index.topics, key=lambda t: -t.size)
        subjects = [kw[0][0] for t in largest if (kw := t.keywords.get("keybert") or t.keywords.get("ctfidf"))][:2] or [
            "your subject",
            "another subject",
        ]
        a, b = subjects[0], subjects[-1] if len(subjects) > 1 else "another subject"
        lines = [
            f"I answer questions about the {total} documents of this index from the index itself: topics, counts, "
            "dates and authors are counted from the documents, and every document I name is cited. Try:",
            "- 'list topics', 'what are the main themes?', 'show the map'",
            f"- 'which topics cover {a}?', 'papers on {a}', 'topic {largest[0].id}'"
            if largest
            else f"- 'papers on {a}'",
            f"- 'how many papers are about {a}?', 'compare {a} and {b}'",
        ]
        timeline = self.index.timeline
        if timeline is not None and len(timeline.periods) >= 2:
            lines.append(
                f"- 'how has {a} changed?', 'what is emerging?', 'which {timeline.granularity} had the most papers on "
                f"{a}?', 'papers on {a} from {timeline.periods[-1]}'"
            )
        if self._author_column() is not None:
            lines.append(f"- 'which authors work on {a}?', 'papers by <a name>'")
        lines.append(
            "- after an answer: 'tell me about source 2', 'more like source 2', 'which of those are about …?', "
            "'focus on topic N' / 'use all topics'; 'how was this index built?' for its settings"
        )
        return Reply("\n".join(lines))

    def _about(self, intent: Intent, conv: Conversation) -> Reply:
        """'How was this index built?', 'what data is this?', 'what dates does it cover?': from the manifest."""
        if intent.content in self._filter_columns:  # "what labels are there?"
            return self._column_values(intent.content)
        m = self.index.manifest
        corpus, models = m.get("corpus") or {}, m.get("models") or {}
        topics, params = m.get("topics") or {}, m.get("parameters") or {}
        total = len(self._texts)
        source = Path(str(corpus.get("source", "?"))).name
        columns = corpus.get("columns") or {}
        cols = ", ".join(f"{k} '{v}'" for k, v in columns.items() if v)
        skipped = {k: v for k, v in (corpus.get("skipped") or {}).items() if v}
        lines = [
            f"This index holds {total} documents from {source}"
            + (f" ({cols})" if cols else "")
            + "."
            + (
                " Skipped when read: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in skipped.items()) + "."
                if skipped
                else ""
            )
        ]
        if m.get("created"):
            lines.append(
                f"Built {m['created']} (index format {m.get('format_version', '?')}, engine {(m.get('engine') or {}).get('name', 'local')})."
            )
        if models.get("embedder"):
            lines.append(
                f"Embedder: {models['embedder']}; generator for labels: {models.get('generator') or 'none (keyword labels)'}."
            )
        gran = topics.get("granularity") or {}
        tree = topics.get("tree") or {}
        levels = " > ".join(str(n) for n in reversed(tree.get("nodes_per_level") or [])) or str(len(self.index.topics))
        outliers = int((self.retriever.topic_of == -1).sum())
        lines.append(
            f"Topics: UMAP to {params.get('umap_components', '?')} dimensions ({params.get('umap_neighbors', '?')} "
            f"neighbours), HDBSCAN ({gran.get('method', '?')}, minimum cluster size "
            f"{gran.get('min_cluster_size', params.get('min_cluster_size_used', '?'))}), {len(self.index.topics)} leaf "
            f"topics"
            + (f" grouped {levels} from the top level down ({tree.get('method')})" if tree else "")
            + f"; {outliers} documents in no topic."
        )
        if topics.get("fit_sample"):
            lines.append(f"Fitted on a sample: {json.dumps(topics['fit_sample'])}.")
        if "llm_labels" in topics:
            lines.append(
                f"Labels: {topics['llm_labels']} written by the generator, {topics.get('fallback_labels', 0)} from key phrases."
            )
        timeline = self.index.timeline
        if timeline is not None and len(timeline.periods):
            every = list(range(len(timeline.periods)))
            lines.append(
                f"Dates: '{timeline.column}' by {timeline.granularity}, {timeline.span(every)} "
                f"({int(timeline.totals.sum())} dated, {timeline.undated} undated)."
            )
        else:
            lines.append("Dates: none (build with --time-col COLUMN to ask about trends).")
        column = self._author_column()
        lines.append(f"Authors: column '{column}'." if column else "Authors: no author column.")
        lines.append(f"Columns kept with each document: {self._data_columns()}.")
        return Reply("\n".join(lines))

    LARGEST_SHOWN = 10

    def _largest(self, intent: Intent, conv: Conversation) -> Reply:
        """The largest (or smallest) leaf topics, with their paths, sizes, shares and keywords, each with an
        example: of the whole corpus, of the topics about a subject ('the biggest topics in speech'), or by
        their documents of a period ('the top topics in 2025')."""
        total = len(self._texts)
        if not self.index.topics:
            return Reply(f"This index has no topics: its {total} documents were too few or too alike to cluster.")
        smallest = intent.peak == "fewest"  # "what is the smallest topic?"
        which = "smallest" if smallest else "largest"
        leaves = list(self.index.topics)
        among, vector = f"of the {len(leaves)} topics ({total} documents in all)", None
        if intent.content:  # among the topics it routes to and those whose label or keywords name it
            routing = self._route_subject(intent.content, " to rank its topics")
            if isinstance(routing, Reply):
                return routing
            ids = [t.id for t in routing.topics if self.topics[t.id].level == 0]
            ids += [t for t in self._topics_naming(intent.content) if t not in ids]
            leaves = [self.topics[t] for t in ids]
            vector = self.retriever.embed_query(intent.content)
            among = (
                f"of the {len(leaves)} topics about “{intent.content}” (those it routes to and those whose label or "
                "keywords name it)"
            )
        sizes = {t.id: t.size for t in leaves}
        scope = self._period_mask(intent)
        if isinstance(scope, Reply):
            return scope
        mask, dated = scope
        if mask is not None:  # rank by the documents of the period
            in_period = int(mask.sum())
            counts = collections.Counter(self.retriever.topic_of[mask].tolist())
            sizes = {t.id: counts.get(t.id, 0) for t in leaves if counts.get(t.id, 0)}
            leaves = [t for t in leaves if t.id in sizes]
            among += f", by their {in_period} documents{dated}"
        else:
            among += dated
        order = sorted(leaves, key=lambda t: (sizes[t.id] if smallest else -sizes[t.id], t.id))
        shown = order[: intent.limit or self.LARGEST_SHOWN]
        if not shown:
            return Reply(f"No topic {among.removeprefix('of ')} has documents{dated}.", matched=False)
        lines = [f"The {which} {among}:" if len(shown) == 1 else f"The {len(shown)} {which} {among}:"]
        if intent.noun == "citations":
            lines.insert(
                0, "This index holds no citation counts, so topics are ranked by how many documents they hold."
            )
        citations: list[Citation] = []
        for t in shown:
            members = self._rows_of(t.id)
            if mask is not None:
                members = members[mask[members]]
            focus = vector if vector is not None else self._node_vectors.get(t.id)
            row = self._best_row(members, focus) if focus is not None else None
            if row is None and t.representative_doc_ids:
                row = self.index.row_of(t.representative_doc_ids[0])
            example = ""
            if row is not None:
                citations.append(self._citation(len(citations) + 1, row, 1.0))
                citations[-1].date = self._date_of(row)
                example = f" [{citations[-1].n}]"
            n = sizes[t.id]
            count = (
                f"{_documents(n)}{dated}, {n / max(in_period, 1):.1%} of them; {t.size} in all"
                if mask is not None
                else f"{n} documents, {n / max(total, 1):.1%}"
            )
            lines.append(f"- Topic {t.id}: {self.path(t.id)} ({count}) — {self._keywords(t.id, n=5)}{example}")
        if intent.limit == 1 and len(order) > 1:  # one was asked for: say how close the next ones are
            after = [f"topic {t.id}, {self.path(t.id)} ({sizes[t.id]})" for t in order[1:3]]
            lines.append(f"Next by size{dated}: {'; '.join(after)}.")
            themes = [t for t in self._theme_nodes() if self.topics[t].children]
            if not intent.content and mask is None and themes and not smallest:  # the tree's top level too
                big = max(themes, key=lambda t: (self.topics[t].size, -t))
                lines.append(
                    f"The largest main theme (a group of topics): {self.topics[big].label} (topic {big}, "
                    f"{self.topics[big].size} documents, {self.topics[big].size / max(total, 1):.1%})."
                )
        return Reply("\n".join(lines), topics=[self._routed(t.id) for t in shown], citations=citations)

    def _names_anyone(self, person: str) -> bool:
        column = self._author_column()
        return column is not None and bool(self._person_rows(person, column))

    def _person_rows(self, person: str, column: str) -> list[int]:
        """Rows whose author cell names the person (the whole name; case ignored, accents as written); for
        co-authors ('Fei Huang; Jingren Zhou'), the rows naming every one of them."""
        wanted = {p.strip().lower() for p in person.split(";") if p.strip()}
        values = self.index.documents[column]
        sep = _author_sep(values)
        return [i for i, v in enumerate(values) if wanted <= {n.lower() for n in _author_names(v, sep)}]

    def _person_papers(self, intent: Intent, column: str) -> Reply:
        """'Papers by Jane Doe': the documents whose author cell names her, newest first when dated, with the
        topics they fall in (matched on the whole name, case and accents as written)."""
        docs = self.index.documents
        wanted = intent.person.strip().lower()
        values = docs[column]
        sep = _author_sep(values)
        rows = self._person_rows(intent.person, column)
        if ";" in intent.person:  # co-authors: the documents naming them all
            names = [p.strip() for p in intent.person.split(";")]
            each = ", ".join(f"“{p}” {len(self._person_rows(p, column))}" for p in names)
            if not rows:
                return Reply(
                    f"No document in this index names all of {', '.join(f'“{p}”' for p in names)} as authors "
                    f"(column '{column}'; documents naming each: {each}).",
                    matched=False,
                )
        kin_note = ""
        if len(wanted.split()) == 1:  # "papers by Zhang": the authors of that surname, by full name
            kin: collections.Counter[str] = collections.Counter()
            holding = 0
            for v in values:
                names = [n for n in dict.fromkeys(_author_names(v, sep)) if n.lower().split()[-1:] == [wanted]]
                kin.update(names)
                holding += bool(names)
            if holding > len(rows):
                top = "; ".join(f"{n} {c}" for n, c in kin.most_common(5))
                kin_note = (
                    f"{holding} documents have an author with the surname “{intent.person}” ({len(kin)} names, "
                    f"most documents: {top}); ask for one by full name"
                )
        if not rows:
            surname = re.compile(rf"\b{re.escape(wanted.split()[-1])}\b") if len(wanted.split()[-1]) > 1 else None
            near = sorted({n for v in values for n in _author_names(v, sep) if surname and surname.search(n.lower())})[
                :5
            ]
            hint = f" {kin_note}." if kin_note else f" Authors with that surname: {'; '.join(near)}." if near else ""
            return Reply(
                f"No document in this index names “{intent.person}” as an author (column '{column}').{hint}",
                matched=False,
            )
        named = f"{len(rows)} documents name “{intent.person}” as an author (column '{column}')"
        if ";" in intent.person:
            together = " and ".join(f"“{p.strip()}”" for p in intent.person.split(";"))
            named = f"{len(rows)} documents name {together} as authors together (column '{column}')"
        if kin_note:
            named += f"; {kin_note}"
        dated = self._dated_rows(np.asarray(rows), intent)
        if isinstance(dated, Reply):
            return dated
        if dated[1]:
            rows = [int(r) for r in dated[0]]
            named += f"; {len(rows)} of them are{dated[1]}" if dated[1].startswith(" dated") else dated[1]
            if not rows:
                return Reply(named + ".", matched=False)
        hits = [self._listed(r) for r in rows]
        subject = ""
        if intent.content:  # "papers by Jane Doe on reasoning": hers, closest to reasoning first
            vector = self.retriever.embed_query(intent.content)
            sims = self.index.embeddings[np.asarray(rows)] @ vector
            found = self._mentions(intent.content)
            holds = np.isin(np.asarray(rows), found.rows)
            hits = [hits[i] for i in np.lexsort((-sims, ~holds))]  # those holding its words, then the closest
            subject = (
                f" {int(holds.sum())} of them hold every word of “{intent.content}”; those first, then the closest"
                " to it."
            )
        ordered = self._latest_first(hits) if self.index.timeline is not None and not intent.content else hits
        shown = ordered[: intent.limit or self.AUTHORS_SHOWN]
        citations = [self._citation(i + 1, h.row, 1.0) for i, h in enumerate(shown)]
        topics = collections.Counter(h.topic for h in hits if h.topic >= 0)
        where = "; ".join(f"topic {t}: {self.path(t)} ({n})" for t, n in topics.most_common(3))
        lines = [named + (f"; most are in {where}." if where else ".") + subject]
        for c in citations:
            c.date = self._date_of(c.row)
            when = f"{c.date}; " if c.date else ""
            lines.append(f"[{c.n}] {c.title} ({when}topic {c.topic}: {c.topic_label})")
        if len(rows) > len(shown):
            lines.append(f"… and {len(rows) - len(shown)} more.")
        return Reply("\n".join(lines), topics=[self._routed(t) for t, _ in topics.most_common(3)], citations=citations)

    def _authors(self, intent: Intent, conv: Conversation) -> Reply:
        """Who writes on a subject (or in a topic, or in the whole corpus): the authors of the most documents
        among the documents of the topics it routes to, counted from the index's author column, each cited
        with their document closest to the subject."""
        column = self._author_column()
        docs = self.index.documents
        if column is None:
            return Reply(
                f"This index has no column of authors (its documents carry: {self._data_columns()}). Build from data with an "
                "'authors' column to ask who writes on a subject.",
                matched=False,
            )
        if intent.person:
            return self._person_papers(intent, column)
        missing = [t for t in intent.topic_ids if t not in self.topics]
        if missing:
            return self.unknown_topic(missing)
        routing = None
        if intent.topic_ids:
            ids = intent.topic_ids
            rows = self._rows_of_many(ids)
            named = "; ".join(f"topic {t} ({self.path(t)})" for t in ids)
            scope = f"the {len(rows)} documents of {named}"
            vector = self._mean_vector([self._node_vectors[t] for t in ids])
            routed = [self._routed(t) for t in ids]
        elif intent.content:
            subject = self._route_subject(intent.content, " to find its authors")
            if isinstance(subject, Reply):
                return subject
            routing = subject
            routed = routing.topics[: self.COUNT_TOPICS]
            ids = [t.id for t in routed]
            rows = np.flatnonzero(np.isin(self.retriever.topic_of, ids))
            named = "; ".join(f"topic {t}: {self.path(t)}" for t in ids)
            scope = f"the {len(rows)} documents of the topic(s) “{intent.content}” routes to ({named})"
            vector = self.retriever.embed_query(intent.content)
        else:
            rows = np.arange(len(docs))
            scope = f"all {len(rows)} documents"
            vector = None
            routed = []
        dated = self._dated_rows(rows, intent)
        if isinstance(dated, Reply):
            return dated
        if dated[1]:
            whole = not (intent.topic_ids or intent.content)  # "top authors in April": not "all 2000 ... dated"
            scope = (
                f"the {len(dated[0])} documents{dated[1]}" if whole else f"{scope}{dated[1]}: {len(dated[0])} documents"
            )
            rows = dated[0]
        values = docs[column].iloc[rows]
        sep = _author_sep(values)
        by_author: dict[str, list[int]] = {}
        shown_as: dict[str, str] = {}  # one person, however the name is cased: the first spelling seen
        for row, value in zip(rows, values, strict=True):
            for name in dict.fromkeys(n.lower() for n in _author_names(value, sep)):
                by_author.setdefault(name, []).append(int(row))
        for value in values:
            for name in _author_names(value, sep):
                shown_as.setdefault(name.lower(), name)
        by_author = {shown_as[k]: v for k, v in by_author.items()}
        if not by_author:
            return Reply(f"No author is named in {scope} (column '{column}').", matched=False)
        ranked = sorted(by_author.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        several = [(name, found) for name, found in ranked if len(found) >= 2][: intent.limit or self.AUTHORS_SHOWN]
        lines = [f"Authors in {scope}, counted from the '{column}' column: {len(by_author)} different authors."]
        citations: list[Citation] = []
        if not several:
            lines.append("No author appears on more than one of these documents.")
        for name, found in several:
            found_rows = np.asarray(found)
            best = self._best_row(found_rows, vector) if vector is not None else int(found_rows[0])
            cite = ""
            if best is not None:
                same = next((c for c in citations if c.row == best), None)  # co-authors of one paper share it
                if same is None:
                    citations.append(self._citation(len(citations) + 1, best, 1.0))
                cite = f" e.g. [{(same or citations[-1]).n}]"
            lines.append(f"- {name}: {len(found)} documents{cite}")
        return Reply("\n".join(lines), topics=routed, citations=citations, routing=routing)

    def _side(self, subject: str) -> _Side:
        """One side of a comparison: a topic named by number, or a subject routed to its closest topics."""
        ref = _TOPIC_NAMED.fullmatch(subject.strip())
        if ref:
            tid = int(ref.group(1))  # known: _compare_subjects refused unknown ids
            return _Side(subject, f"topic {tid} ({self.topics[tid].label})", [tid], None, None)
        routing = self.retriever.route(subject, k_docs=self.k_docs, subject=True)
        ids = [t.id for t in routing.topics[: self.COMPARE_TOPICS]] if routing.matched else []
        return _Side(subject, f"“{subject}”", ids, self._mentions(subject), routing)

    def _compare_subjects(self, intent: Intent) -> Reply:
        """Two subjects (or a subject and a topic) side by side: the topics each routes to with their sizes,
        the documents that mention each and both, how their closest topics relate in the tree, and with
        dates how each moved. Every figure is counted from the index."""
        missing = [
            int(m.group(1))
            for s in intent.subjects
            if (m := _TOPIC_NAMED.fullmatch(s.strip())) and int(m.group(1)) not in self.topics
        ]
        if missing:
            return self.unknown_topic(missing)
        total = len(self._texts)
        scope = self._period_mask(intent)  # "RAG vs agents in 2025": only that period's documents are counted
        if isinstance(scope, Reply):
            return scope
        mask, dated = scope
        timed = mask is not None
        in_scope = mask if mask is not None else np.ones(total, dtype=bool)
        in_period = int(in_scope.sum())
        sides = [self._side(s) for s in intent.subjects]
        if timed:
            for side in sides:
                if side.found is not None:
                    side.found = replace(
                        side.found,
                        rows=side.found.rows[in_scope[side.found.rows]],
                        phrase_rows=side.found.phrase_rows[in_scope[side.found.phrase_rows]],
                    )
        a, b = sides[0], sides[1]
        named = ", ".join(x.name for x in sides[:-1]) + f" and {sides[-1].name}"
        among = f"the {in_period} documents{dated} (of {total})" if timed else f"this index ({total} documents)"
        lines = [f"{named} in {among}, side by side:{dated if dated and not timed else ''}"]
        citations: list[Citation] = []
        routed: list[RoutedTopic] = []

        def topic_size(t: int) -> str:
            node = self.topics[t]
            if not timed:
                return f"{node.size} documents, {node.size / total:.1%}"
            n = int(in_scope[self._rows_of(t)].sum())
            return f"{_documents(n)}{dated}, {n / max(in_period, 1):.1%} of them; {node.size} in all"

        for side in sides:
            if not side.ids:
                best = f" (closest similarity {_similarity(side.routing.best_similarity)})" if side.routing else ""
                lines.append(f"- {side.name}: no topic fits it well{best}.")
                continue
            topics = "; ".join(f"topic {t}: {self.path(t)} ({topic_size(t)})" for t in side.ids)
            cited = {c.row for c in citations}
            rows = (
                [h.row for h in side.routing.hits if h.row not in cited and in_scope[h.row]][:2] if side.routing else []
            )
            if not rows and timed:  # the side's documents of the period closest to it
                members = self._rows_of_many(side.ids)
                members = members[in_scope[members] & ~np.isin(members, list(cited))]
                vector = self.retriever.embed_query(side.subject) if side.routing else self._node_vectors[side.ids[0]]
                best_row = self._best_row(members, vector)
                rows = [best_row] if best_row is not None else []
            if not rows and not timed:
                rows = [self.index.row_of(d) for d in self.topics[side.ids[0]].representative_doc_ids[:2]]
            new = [self._citation(len(citations) + i + 1, r, 1.0) for i, r in enumerate(rows)]
            for cite in new:
                cite.date = self._date_of(cite.row) if timed else cite.date
            self._add_evidence(side.subject, new)
            citations += new
            said = (
                f" {self._mention_line(side.found, f'documents{dated}', in_period)}" if side.found is not None else ""
            )
            examples = " ".join(f"[{c.n}]" for c in new)
            lines.append(f"- {side.name}: {topics}.{said}" + (f" Examples: {examples}" if examples else ""))
            by_id = {t.id: t for t in (side.routing.topics if side.routing else [])}
            routed += [by_id.get(t) or self._routed(t) for t in side.ids if t not in {r.id for r in routed}]
        if len(sides) == 2 and a.ids and b.ids:
            shared = [t for t in a.ids if t in b.ids]
            if shared:
                lines.append(f"- Both route to {', '.join(f'topic {t} ({self.topics[t].label})' for t in shared)}.")
            else:
                sim = float(self._node_vectors[a.ids[0]] @ self._node_vectors[b.ids[0]])
                above_b = {n.id for n in path_of(b.ids[0], self.topics)}
                common = [n.id for n in path_of(a.ids[0], self.topics) if n.id in above_b]
                under = (
                    f"; both sit under {self.path(common[-1])} (topic {common[-1]})"
                    if common
                    else "; they sit in different areas of the tree"
                    if self.index.parents
                    else ""
                )
                lines.append(f"- No topic routes to both; their closest topics have similarity {sim:.2f}{under}.")
                words = {x: [w for w, _ in (self.topics[x].keywords.get("ctfidf") or [])] for x in (a.ids[0], b.ids[0])}
                only_a = [w for w in words[a.ids[0]] if w not in words[b.ids[0]]][:6]
                only_b = [w for w in words[b.ids[0]] if w not in words[a.ids[0]]][:6]
                lines.append(
                    f"- Keywords of {a.name}'s closest topic only: {', '.join(only_a) or 'none'}; "
                    f"of {b.name}'s only: {', '.join(only_b) or 'none'}."
                )
        counted = [x for x in sides if x.found is not None and len(x.found.rows)]
        noun = f"documents{dated}" if timed else "documents"
        if len(sides) == 2 and len(counted) == 2:
            assert a.found is not None and b.found is not None
            both = len(np.intersect1d(a.found.rows, b.found.rows))
            lines.append(f"- {both} {noun} hold the words of both.")
        if len(counted) >= 2:
            ranked = sorted(counted, key=lambda x: -len(x.found.rows) if x.found is not None else 0)
            sizes = [len(x.found.rows) if x.found is not None else 0 for x in ranked]
            if len(counted) == 2:
                lines.append(
                    f"- More {noun} hold the words of {ranked[0].name} ({sizes[0]}) than of {ranked[1].name} "
                    f"({sizes[1]}), {sizes[0] / sizes[1]:.1f}x."
                    if sizes[0] > sizes[1]
                    else f"- As many {noun} hold the words of each ({sizes[0]})."
                )
            else:
                lines.append(
                    f"- {noun.capitalize()} holding the words of each, most first: "
                    + "; ".join(f"{x.name} {n}" for x, n in zip(ranked, sizes, strict=True))
                    + "."
                )
        chart = None
        timeline = self.index.timeline
        firsts = [(side.name, side.ids[0]) for side in sides if side.ids]
        if timeline is not None and len(timeline.periods) >= 2 and firsts:
            last = window_length(timeline, intent.window)
            recent, before = timeline.window(last)
            for name, t in firsts:
                c = change(timeline, t, last)
                lines.append(
                    f"- Over time, {name}'s closest topic {t}: {c.before} documents in {timeline.span(before)} "
                    f"({c.before_share:.1%}), {c.recent} in {timeline.span(recent)} ({c.recent_share:.1%}): "
                    f"{c.verdict()}."
                )
            chart = self._chart(list(dict.fromkeys(t for _, t in firsts)))
        return Reply(
            "\n".join(lines), topics=routed, citations=citations, chart=chart, matched=any(x.ids for x in sides)
        )

    # -- time and whole-corpus answers ---------------------------------------------------------
    MAX_THEMES = 12
    TREND_TOPICS = 3
    EMERGING_TOPICS = 5

    @staticmethod
    def _mean_vector(vectors: list[np.ndarray]) -> np.ndarray:
        """The unit-length mean of unit vectors (several topics' centroids as one direction)."""
        mean = np.mean(np.stack(vectors), axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(vectors[0].dtype)

    def _rows_of(self, topic_id: int) -> np.ndarray:
        """Document rows of a node (its leaves' documents)."""
        return self._rows_of_many([topic_id])

    def _rows_of_many(self, topic_ids: list[int]) -> np.ndarray:
        """Document rows of several nodes, ascending."""
        return np.flatnonzero(
            np.isin(self.retriever.topic_of, [leaf for t in topic_ids for leaf in self.leaves_under(t)])
        )

    def _best_row(self, rows: np.ndarray, vector: np.ndarray) -> int | None:
        if len(rows) == 0:
            return None
        return int(rows[int(np.argmax(self.index.embeddings[rows] @ vector))])

    def _usable_timeline(self) -> Timeline | Reply:
        """The index's timeline, or the reply that says why a time question cannot be answered."""
        timeline = self.index.timeline
        if timeline is None:
            why = (self.index.manifest.get("time") or {}).get("reason") or "no column of dates or years was found"
            return Reply(
                f"I cannot count topics over time in this index: {why}. Rebuild with --time-col COLUMN "
                "(a column of dates or years) to ask about trends.",
                matched=False,
            )
        if len(timeline.periods) < 2:
            only = timeline.periods[0] if timeline.periods else "none"
            return Reply(
                f"Every dated document falls in one {timeline.granularity} ({only}), so there is no trend to show.",
                matched=False,
            )
        return timeline

    def _undated_search(self, question: str, intent: Intent) -> tuple[str, Intent] | None:
        """For a time question this index cannot count (no dates): the note saying so and the search to run
        instead, when the question names a subject (or is long enough to search on); else None."""
        if intent.topic_ids or not isinstance(unusable := self._usable_timeline(), Reply):
            return None
        subject = intent.content.strip()
        if not subject and len(set(tokenize(question)) - _TIME_WORDS) >= SEARCHABLE_WORDS:
            subject = question
        if not set(tokenize(subject)) - _TIME_WORDS:  # "how has it changed?": nothing to search for
            return None
        note = f"{unusable.text} The documents that match instead:\n\n"
        return note, Intent(IntentKind.PAPERS, subject)

    def _route_subject(self, subject: str, purpose: str = "") -> Routing | Reply:
        """Route a subject to topics, or the reply that says nothing in the index matches it."""
        routing = self.retriever.route(subject, k_docs=self.k_docs, subject=True)
        if routing.matched and routing.topics:
            return routing
        return Reply(
            f"Nothing in this index matches “{subject}” well enough{purpose} (closest similarity "
            f"{_similarity(routing.best_similarity)}). Type 'list topics' to see what the corpus covers.",
            matched=False,
            routing=routing,
        )

    def _chart(self, ids: list[int]) -> TrendChart:
        timeline = self.index.timeline
        assert timeline is not None
        return TrendChart(
            timeline.column,
            timeline.granularity,
            list(timeline.periods),
            {f"{t}: {self.topics[t].label}": [int(c) for c in timeline.counts[t]] for t in ids},
            [int(c) for c in timeline.totals],
        )

    def _dated_example(self, topic_id: int, positions: list[int], vector: np.ndarray) -> int | None:
        """The document of a topic, from the given periods, closest to `vector`."""
        timeline = self.index.timeline
        assert timeline is not None
        rows = self._rows_of(topic_id)
        rows = rows[np.isin(timeline.doc_period[rows], positions)]
        return self._best_row(rows, vector)

    def _time_note(self) -> str:
        timeline = self.index.timeline
        assert timeline is not None
        note = f"Counted from the index by {timeline.granularity} of '{timeline.column}' ({timeline.span(list(range(len(timeline.periods))))})"
        if timeline.undated:
            note += f"; {timeline.undated} document(s) without a date are not counted"
        return note + "."

    def _trend(self, intent: Intent, conv: Conversation) -> Reply:
        """How a subject (routed to topics) or a named topic changed: counts and shares per period, cited."""
        timeline = self._usable_timeline()
        if isinstance(timeline, Reply):
            return timeline
        routing = None
        if intent.topic_ids:
            missing = [t for t in intent.topic_ids if t not in self.topics]
            if missing:
                return self.unknown_topic(missing)
            ids = intent.topic_ids[: self.TREND_TOPICS]
            routed = [self._routed(t) for t in ids]
            vector = self._node_vectors[ids[0]]
        else:
            subject = self._route_subject(intent.content, " to count it over time")
            if isinstance(subject, Reply):
                return subject
            routing = subject
            routed = routing.topics[: self.TREND_TOPICS]
            ids = [t.id for t in routed]
            vector = self.retriever.embed_query(intent.content)
        last = window_length(timeline, intent.window)
        split = self._emerging_split(timeline, intent.period) if intent.period else None
        if isinstance(split, Reply):  # "from 2025-03 to 2025-04": the second period against the first
            return split
        recent, before = split or timeline.window(last)
        named = f"“{intent.content}”" if not intent.topic_ids else "the topic(s) you named"
        lines = [f"How {named} changed over time, topic by topic. {self._time_note()}"]
        citations: list[Citation] = []
        for t in ids:
            c = change(timeline, t, last, split)
            examples = []
            for positions in (before, recent):
                row = self._dated_example(t, positions, vector)
                if row is not None:
                    citations.append(self._citation(len(citations) + 1, row, 1.0))
                    period = timeline.periods[int(timeline.doc_period[row])]
                    examples.append(f"[{citations[-1].n}] ({period})")
            lines.append(
                f"- Topic {t}: {self.path(t)} ({self.topics[t].size} documents): {c.before} in {timeline.span(before)} "
                f"({c.before_share:.1%} of the documents then), {c.recent} in {timeline.span(recent)} "
                f"({c.recent_share:.1%}): {c.verdict()}{self._count_moved(c, split)}. "
                f"Peak: {peak(timeline, timeline.counts[t])}. "
                f"Examples: {' '.join(examples) or 'none dated'}"
            )
            lines.append(f"  per {timeline.granularity}: {series_text(timeline, timeline.counts[t])}")
        return Reply("\n".join(lines), topics=routed, citations=citations, routing=routing, chart=self._chart(ids))

    @staticmethod
    def _count_moved(c: Change, split: tuple[list[int], list[int]] | None) -> str:
        """Between two spans of as many periods ('from March to April'), a count that moved against the share:
        ', though its count rose from 8 to 13 (the index grew faster)'."""
        if split is None or len(split[0]) != len(split[1]) or c.ratio == 1.0:
            return ""
        if c.recent > c.before and c.ratio < 1:
            return f", though its count rose from {c.before} to {c.recent} (the whole index grew faster)"
        if c.recent < c.before and c.ratio > 1:
            return f", though its count fell from {c.before} to {c.recent} (the whole index shrank more)"
        return ""

    def _emerging(self, intent: Intent, conv: Conversation) -> Reply:
        """The leaf topics whose share of the documents grew (or fell) most in the recent periods."""
        timeline = self._usable_timeline()
        if isinstance(timeline, Reply):
            return timeline
        missing = [t for t in intent.topic_ids if t not in self.topics]
        if missing:
            return self.unknown_topic(missing)
        scope = sorted({leaf for t in intent.topic_ids for leaf in self.leaves_under(t)}) or [
            t.id for t in self.index.topics
        ]
        where = f" under topic {', '.join(map(str, intent.topic_ids))}" if intent.topic_ids else ""
        routed: list[RoutedTopic] = []
        if intent.content and not intent.topic_ids:  # "emerging topics in speech": the areas that hold speech
            routing = self._route_subject(intent.content, " to find its topics")
            if isinstance(routing, Reply):
                return routing
            routed = routing.topics[:1]  # the area of its closest topic
            areas = list(dict.fromkeys(p if (p := self.topics[t.id].parent) is not None else t.id for t in routed))
            scope = sorted({leaf for a in areas for leaf in self.leaves_under(a)})
            where = f" near “{intent.content}” (under {'; '.join(f'topic {a}: {self.path(a)}' for a in areas)})"
        last = window_length(timeline, intent.window)
        split = self._emerging_split(timeline, intent.period) if intent.period else None
        if isinstance(split, Reply):
            return split
        recent, before = split or timeline.window(last)
        r_total, b_total = int(timeline.totals[recent].sum()), int(timeline.totals[before].sum())
        ranked = rank_changes(timeline, scope, last, intent.declining, split)[: intent.limit or self.EMERGING_TOPICS]
        moved = "lost" if intent.declining else "gained"
        head = (
            f"Topics{where} that {moved} the most share of the documents in {timeline.span(recent)} "
            f"({r_total} dated documents) against {timeline.span(before)} ({b_total}). {self._time_note()}"
        )
        if not ranked:
            return Reply(
                f"{head}\nNo topic{where} {'fell' if intent.declining else 'grew'} by a factor of 1.5 or more in share "
                f"(topics with at least 5 dated documents were compared).",
                chart=None,
            )
        lines = [head]
        citations: list[Citation] = []
        for c in ranked:
            positions = before if intent.declining else recent
            row = self._dated_example(c.topic, positions, self._node_vectors[c.topic])
            example = ""
            if row is not None:
                citations.append(self._citation(len(citations) + 1, row, 1.0))
                example = f" Example: [{citations[-1].n}] ({timeline.periods[int(timeline.doc_period[row])]})"
            lines.append(
                f"- Topic {c.topic}: {self.path(c.topic)}: {c.recent} documents ({c.recent_share:.1%}) against "
                f"{c.before} before ({c.before_share:.1%}): {c.verdict()}.{example}"
            )
        ids = [c.topic for c in ranked]
        return Reply(
            "\n".join(lines), topics=[self._routed(t) for t in ids], citations=citations, chart=self._chart(ids)
        )

    def _emerging_split(self, timeline: Timeline, period: str) -> tuple[list[int], list[int]] | Reply:
        """'What emerged in 2026?': 2026's periods against those before; 'between 2025 and 2026': the last
        named period against the first; 'since 2026-03': from then on against before."""
        lo, dots, hi = period.partition("..")
        if lo and hi:
            before, recent = period_positions(timeline, lo), period_positions(timeline, hi)
        else:
            recent = period_positions(timeline, period if dots else lo)
            before = [i for i in range(len(timeline.periods)) if recent and i < recent[0]]
        if not recent or not before:
            every = timeline.span(list(range(len(timeline.periods))))
            return Reply(
                f"This index spans {every}: there are no documents dated before {_shown(period)} to compare it with."
                if recent
                else f"No documents are dated {_shown(period)}: this index spans {every}.",
                matched=False,
            )
        return recent, before

    CHANGES_SHOWN = 8

    def _changed(self, intent: Intent, conv: Conversation) -> Reply:
        """What the last build, add or remove changed: documents in and out, and the topics that grew, shrank,
        split, merged, appeared or went (the index's previous generation against the live one)."""
        from topicchat.indexer import lineage
        from topicchat.indexer.errors import TopicchatError
        from topicchat.indexer.store import previous_generation, read_tree

        here = Path(self.index.path)
        before = previous_generation(here.parent) if here.name.startswith("gen-") else None
        history = self.index.manifest.get("history") or []
        last = history[-1] if history else {}
        if before is None:
            return Reply(
                "This index has no earlier version to compare with: it was built once and not changed since "
                "(`topicchat add`, `remove` or a rebuild keep the previous version)."
            )
        try:
            _, old_docs, old_nodes = read_tree(before)
        except TopicchatError:
            return Reply("The previous version of this index can no longer be read, so there is nothing to compare.")
        changes = lineage.diff(old_docs, {t.id: t for t in old_nodes}, self.index.documents, self.topics)
        moved = lineage.documents_kept(old_docs, self.index.documents)
        what = {"add": "an addition", "remove": "a removal", "build": "a build"}.get(
            str(last.get("action")), "a change"
        )
        when = f" on {str(last['when'])[:10]}" if last.get("when") else ""
        counts = lineage.summarise(changes)
        head = (
            f"The last change to this index was {what}{when}: {moved['added']} documents added, {moved['removed']} "
            f"removed, {moved['in_both']} unchanged. Topics: "
            + ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
            + f" (a topic is the same one when its documents overlap with a Jaccard index of at least {lineage.SAME_JACCARD})."
        )
        advice = (self.index.manifest.get("update") or {}).get("drift", {}).get("advice") or []
        lines = [head] + [f"A full rebuild is advised: {a}." for a in advice]
        citations: list[Citation] = []
        shown = [c for c in changes if c.kind != "kept"][: self.CHANGES_SHOWN]
        for c in shown:
            refs = []
            for doc_id in c.example_ids:
                try:
                    row = self.index.row_of(doc_id)
                except KeyError:
                    continue  # a removed document: named by title below, not cited
                citations.append(self._citation(len(citations) + 1, row, 1.0))
                refs.append(f"[{citations[-1].n}]")
            ids = " + ".join(map(str, c.old)) or "-"
            into = " + ".join(map(str, c.new)) or "-"
            detail = f"; e.g. {', '.join(refs)}" if refs else (f"; {'; '.join(c.examples)}" if c.examples else "")
            lines.append(
                f"- {c.kind.capitalize()}: topic {ids} -> {into} ({c.label}), {c.old_size} -> {c.new_size} documents{detail}"
            )
        if not shown:
            lines.append("Every topic kept its documents within 10% of its size.")
        routed = [self._routed(c.new[0]) for c in shown if c.new and c.new[0] in self.topics]
        return Reply("\n".join(lines), topics=routed, citations=citations)

    def _theme_nodes(self) -> list[int]:
        """The top level of the tree (for an index without a tree: its largest topics), largest first."""
        return [t.id for t in self.index.top_level()]

    def _themes(self, intent: Intent, conv: Conversation) -> Reply:
        """Whole-corpus answers, map over the top-level themes then reduce: each theme's size, summary,
        subtopics and representative documents, or (open problems) the sentence that names a challenge."""
        if not self.index.topics:
            return Reply(
                f"This index holds {len(self._texts)} documents but no topics, so it has no themes to summarise. "
                "Ask about papers instead.",
                matched=False,
            )
        if intent.problems:
            return self._problems(intent)
        total = len(self._texts)
        ids = self._theme_nodes()
        shown = ids[: self.MAX_THEMES]
        held = sum(self.topics[t].size for t in ids)
        outliers = int((self.retriever.topic_of == -1).sum())
        kind = "main themes (the top level of the topic tree)" if self.index.parents else "topics"
        lines = [f"The {total} documents fall into {len(ids)} {kind}, largest first:"]
        citations: list[Citation] = []
        for i, t in enumerate(shown, start=1):
            node = self.topics[t]
            cites = []
            for doc_id in node.representative_doc_ids[:2]:
                citations.append(self._citation(len(citations) + 1, self.index.row_of(doc_id), 1.0))
                cites.append(f"[{citations[-1].n}]")
            about = node.summary.strip() if node.summary else f"Keywords: {self._keywords(t, n=6)}."
            children = sorted((self.topics[c] for c in node.children if c in self.topics), key=lambda c: -c.size)
            subtopics = f" Subtopics: {'; '.join(c.label for c in children[:4])}." if children else ""
            lines.append(
                f"{i}. {node.label} (topic {t}, {node.size} documents, {node.size / total:.1%}). {about}{subtopics} "
                f"{' '.join(cites)}".rstrip()
            )
        if len(ids) > len(shown):
            rest = ids[len(shown) :]
            lines.append(
                f"… and {len(rest)} smaller themes with {sum(self.topics[t].size for t in rest)} documents ('list topics' shows them all)."
            )
        coverage = Coverage(ids, held, total, outliers, False, themes=True)
        return Reply("\n".join(lines), topics=[self._routed(t) for t in shown], citations=citations, coverage=coverage)

    def _problems(self, intent: Intent) -> Reply:
        """Open problems: per theme (or per topic a subject routes to), the abstract sentence that names a
        challenge, limitation or gap, from the documents closest to 'open problems' in that theme."""
        total = len(self._texts)
        query = f"open problems, challenges and limitations of {intent.content}".strip()
        vector = self.retriever.embed_query(query)
        routing = None
        if intent.content:
            subject = self._route_subject(intent.content)
            if isinstance(subject, Reply):
                return subject
            routing = subject
            ids = [t.id for t in routing.topics]
            lines = [
                f"Open problems the papers name on “{intent.content}”, topic by topic (quoted from the abstracts):"
            ]
        else:
            ids = self._theme_nodes()[: self.MAX_THEMES]
            lines = ["Open problems the papers name, theme by theme (quoted from the abstracts):"]
        citations: list[Citation] = []
        for t in ids:
            rows = self._rows_of(t)
            if len(rows) == 0:
                continue
            ranked = rows[np.argsort(-(self.index.embeddings[rows] @ vector))[:20]]
            found = next(((r, s) for r in ranked if (s := problem_sentence(self._texts[int(r)])) is not None), None)
            node = self.topics[t]
            if found is None:
                lines.append(f"- {node.label} (topic {t}, {node.size} documents): no abstract names an open problem.")
                continue
            row, sentence = found
            citations.append(self._citation(len(citations) + 1, int(row), 1.0))
            lines.append(f"- {node.label} (topic {t}, {node.size} documents): “{sentence}” [{citations[-1].n}]")
        held = sum(self.topics[t].size for t in ids)
        outliers = int((self.retriever.topic_of == -1).sum())
        coverage = Coverage(ids, held, total, outliers, False, themes=True)
        topics = routing.topics if routing is not None else [self._routed(t) for t in ids]
        return Reply("\n".join(lines), topics=topics, citations=citations, coverage=coverage, routing=routing)

    def _search_answer(
        self, question: str, intent: Intent, conv: Conversation
    ) -> collections.abc.Generator[Event, None, Reply]:
        """Route, stream the model's prose and the facts; the Reply is the generator's return value."""
        missing = [t for t in intent.topic_ids if t not in self.topics]
        if intent.kind is IntentKind.PAPERS and missing:  # "papers in topic 999 about X"
            reply = self.unknown_topic(missing)
            yield TokenEvent(reply.text)
            return reply
        # "papers in topic 12 about DPO" searches topic 12; a follow-up ("which of those ...") the last topics
        named = (intent.topic_ids if intent.kind is IntentKind.PAPERS else []) or conv.focus
        named = named or (conv.last_topics if intent.follow_up else [])
        restrict = sorted({leaf for t in named if t in self.topics for leaf in self.leaves_under(t)})
        query = intent.content or question
        k = intent.limit or self.k_docs
        within, note, empty = self._time_scope(intent)
        if intent.where is not None and empty is None:  # "questions with label svn about merging"
            rows = self._where_rows(intent.where)
            within = rows if within is None else np.intersect1d(within, rows)
            column, value = intent.where
            if not intent.content and not (intent.recent or intent.oldest or intent.by_citations):  # all of them
                kept = f"have '{column}' “{value}”"
                return (yield from self._excluded_overview(within, note, restrict, named, kept=kept))
            note += f"Only the {len(within):,} documents whose '{column}' is “{value}” were searched.\n"
        if intent.excluded and empty is None:  # "papers on RAG but not medical (or legal)": their holders left out
            left, mention = self._excluded_rows(intent.excluded)
            base = np.arange(len(self._texts)) if within is None else within
            gone = np.intersect1d(base, left)
            within = np.setdiff1d(base, left)
            note += (
                f"Left out: the {len(gone)} documents that mention {mention}.\n"
                if mention and len(gone)
                else f"No document{' here' if within is not None and len(base) < len(self._texts) else ''} mentions "
                f"{mention}, so nothing was left out.\n"
                if mention
                else f"“{intent.excluded}” has no word to leave out (only common words), so nothing was left out.\n"
            )
            if not len(gone) and not intent.content:  # "which stories don't mention zzqxv?": nothing to show
                yield TokenEvent(note.strip())
                return Reply(note.strip(), matched=False)
        if intent.excluded and not intent.content and empty is None and not (intent.recent or intent.oldest):
            if not intent.by_citations and within is not None:  # "which papers are not about LLMs?": where the rest are
                return (yield from self._excluded_overview(within, note, restrict, named))
        open_range = intent.period.startswith("..") or intent.period.endswith("..")
        if empty is not None and intent.content and open_range:
            # "papers on events before 2023" in an index of 2025-2026: the year is part of the subject
            note = f"{empty.text} So the whole question was searched, at any date.\n"
            query, intent = question, replace(intent, period="", content=question)
        elif empty is not None:
            yield TokenEvent(empty.text)
            return empty
        cited_by = self._citation_column() if intent.by_citations else None
        if intent.by_citations and cited_by is None:  # "the most cited papers": say why they cannot be ranked so
            why = (
                f"This index holds no citation counts (its documents carry: {self._data_columns()}), so its documents cannot be "
                "ranked by citations. Build from data with a numeric 'citations' column to ask for the most cited."
            )
            if not intent.content:
                yield TokenEvent(why)
                return Reply(why, matched=False)
            note = f"{note.rstrip()} {why} These are the documents closest to “{intent.content}”.\n".lstrip()
        if cited_by is not None and not intent.content:
            rows = np.arange(len(self._texts)) if within is None else within
            if restrict:
                rows = rows[np.isin(self.retriever.topic_of[rows], restrict)]
            return (yield from self._most_cited(rows, note, k, cited_by))
        if (
            not intent.content
            and self.index.timeline is not None
            and (intent.recent or intent.oldest or within is not None)
        ):
            if within is None:
                note = ""  # the note about "the closest to X" has no X here
            if restrict:  # "the latest papers in topic 12"
                rows = np.flatnonzero(np.isin(self.retriever.topic_of, restrict))
                where = f"topic(s) {', '.join(map(str, named))}"
                if within is None:
                    within, note = rows, f"Only the {len(rows)} documents of {where} were searched.\n"
                else:
                    within = np.intersect1d(within, rows)
                    note = f"{note.rstrip()} Of those, the {len(within)} in {where}.\n"
            return (yield from self._newest(within, note, k, oldest=intent.oldest))
        by_date = (intent.recent or intent.oldest) and self.index.timeline is not None
        latest = by_date and not (intent.period or intent.window)
        pool = max(self.RECENT_POOL, k) if latest or cited_by else k  # the latest (earliest, most cited) of the closest
        subject = bool(intent.content) and intent.content != question  # a subject read from the question
        routing = self.retriever.route(query, k_docs=pool, restrict_to=restrict, within=within, subject=subject)
        if cited_by is not None:  # "the most cited papers on X": the closest documents, most cited first
            counts = self._citation_counts(cited_by)
            ranked = sorted(self._close(routing), key=lambda h: -np.nan_to_num(counts[h.row], nan=-1.0))
            routing = replace(routing, hits=ranked[:k])  # a document without a count comes after every counted one
            shown = " · ".join(f"[{i + 1}] {_citation_count(counts[h.row])}" for i, h in enumerate(routing.hits))
            note = (
                f"{note.rstrip()} The most cited of the {max(self.RECENT_POOL, k)} documents closest to "
                f"“{intent.content}” (by '{cited_by}': {shown}):\n"
            ).lstrip()
        if latest:
            routing = replace(routing, hits=self._latest_first(self._close(routing), oldest=intent.oldest)[:k])
        elif by_date and intent.oldest:  # "the oldest papers on X in 2025": that period's closest, earliest first
            routing = replace(routing, hits=self._latest_first(routing.hits, oldest=True))
        yield RoutingEvent(routing)
        if not routing.matched:
            text = note + (
                f"Nothing in this index matches “{query}”: the closest document has similarity "
                f"{_similarity(routing.best_similarity)}, below the {self.retriever.min_similarity:.2f} "
                "needed. "
                "Try other words, or type 'list topics' to see what the corpus covers."
            )
            unknown = self._unknown_words(query)
            if unknown:
                text += (
                    f" Most words of the question occur in no document of this index ({', '.join(unknown[:6])}): "
                    "it may be in another language than the documents, or use other terms than they do."
                )
            if routing.restricted_to:
                text += f" (I searched only topics {', '.join(map(str, routing.restricted_to))}; say 'use all topics' to search everything.)"
            yield TokenEvent(text)
            return Reply(text, matched=False, routing=routing)
        citations = [self._citation(i + 1, h.row, h.score) for i, h in enumerate(routing.hits)]
        self._add_evidence(query, citations)
        if note:
            for c in citations:
                c.date = self._date_of(c.row)
        extra = self._cover_extra(query, routing) if intent.kind is IntentKind.COVER else ([], [])
        facts = self._facts(intent, routing, citations, query, extra)
        if note:
            facts = note + facts.replace("Most relevant documents, each with", "Each document with", 1)
        yield TokenEvent(facts)  # facts and evidence first: they do not wait for the model
        text = facts
        stats = None
        if self.generator is not None and citations:
            stats = ProseStats()
            for piece in self._checked_prose(question, citations, stats):
                text += piece
                yield TokenEvent(piece)
        return Reply(
            text,
            listed=extra[0] + [t for t, _ in extra[1]],  # the other topics a cover answer lists ("the fourth topic")
            topics=routing.topics,
            citations=citations,
            coverage=Coverage.of(routing, len(self._texts)),
            routing=routing,
            prose=stats,
        )

    RECENT_POOL = 30  # "the latest papers on X": the most recent of this many closest documents

    def _excluded_overview(
        self, within: np.ndarray, note: str, restrict: list[int], named: list[int], kept: str = "are left"
    ) -> collections.abc.Generator[Event, None, Reply]:
        """'Which papers are not about LLMs?': the documents left after the exclusion, by topic (the topics
        holding most of them), each topic cited by its remaining document closest to the topic's centre."""
        rows = within
        where = ""
        if restrict:  # "which of those are not about LLMs?" after topics were named
            rows = rows[np.isin(self.retriever.topic_of[rows], restrict)]
            where = f" in topic(s) {', '.join(map(str, named))}"
        lines = [note.strip()] if note.strip() else []
        if not len(rows):
            lines.append(
                f"None of the documents{where} {kept}."
                if kept != "are left"
                else f"No document{where} is left: every one of them mentions what was left out."
            )
            text = "\n".join(lines)
            yield TokenEvent(text)
            return Reply(text, matched=False)
        topic_of = self.retriever.topic_of[rows]
        ids, counts = np.unique(topic_of[topic_of >= 0], return_counts=True)
        order = np.argsort(-counts, kind="stable")[: self.k_docs]
        lines.append(
            f"{len(rows):,} document{'s' if len(rows) != 1 else ''}{where} "
            f"{kept if len(rows) != 1 else kept.replace('have ', 'has ').replace('are ', 'is ')}. "
            "The topics that hold most of them "
            "(each with its document there closest to the topic's centre):"
        )
        citations: list[Citation] = []
        listed: list[int] = []
        for i in order:
            tid, n = int(ids[i]), int(counts[i])
            mine = rows[topic_of == tid]
            best = int(mine[int(np.argmax(self.index.embeddings[mine] @ self._node_vectors[tid]))])
            citations.append(replace(self._citation(len(citations) + 1, best, 1.0), date=self._date_of(best)))
            listed.append(tid)
            size = self.topics[tid].size
            lines.append(
                f"- Topic {tid}: {self.path(tid)} ({n:,} of its {size:,} documents, {n / size:.0%}) [{citations[-1].n}]"
            )
        rest = len(rows) - int(counts[order].sum())
        if rest:
            lines.append(f"The other {rest:,} are spread over {len(ids) - len(order)} more topics or in no topic.")
        text = "\n".join(lines)
        yield TokenEvent(text)
        return Reply(text, citations=citations, listed=listed)

    def _listed(self, row: int) -> Hit:
        """A document picked by a rule (an author, a date), not by a search: a hit with neutral scores."""
        r = self.retriever
        return Hit(row, r.doc_ids[row], r.titles[row], int(r.topic_of[row]), 1.0, 1.0, 0.0)

    def _date_of(self, row: int) -> str:
        timeline = self.index.timeline
        if timeline is None:
            return ""
        when = self._timestamp(row)
        return "" if when is None else str(when.date())

    def _timestamp(self, row: int) -> pd.Timestamp | None:
        """A document's date as the timeline read it (years, ISO or other formats), None when undated."""
        timeline = self.index.timeline
        if timeline is None or timeline.doc_period[row] < 0:
            return None
        value = self.index.documents[timeline.column].iat[row]
        when = pd.to_datetime(str(value), errors="coerce", format="mixed")
        if pd.isna(when):  # a bare year, or a form only the whole column parsed: the start of its period
            return pd.Period(timeline.periods[int(timeline.doc_period[row])]).start_time
        return pd.Timestamp(when).tz_localize(None) if pd.Timestamp(when).tzinfo else pd.Timestamp(when)

    def _newest(
        self, within: np.ndarray | None, note: str, k: int = 0, oldest: bool = False
    ) -> collections.abc.Generator[Event, None, Reply]:
        """'The most recent papers' / 'papers from 2024' with no subject: the newest documents (of the period);
        'the oldest papers': the earliest-dated ones."""
        timeline = self.index.timeline
        assert timeline is not None
        k = k or self.k_docs
        rows = np.flatnonzero(timeline.doc_period >= 0) if within is None else within
        rows = rows[timeline.doc_period[rows] >= 0]
        periods = timeline.doc_period[rows] * (1 if oldest else -1)  # ascending: the first wanted
        order = np.argsort(periods, kind="stable")
        if len(order) > k:  # every document of the periods that hold the k wanted
            cut = periods[order[k - 1]]
            order = order[periods[order] <= cut]
        hits = [self._listed(int(r)) for r in rows[order]]
        picked = self._latest_first(hits, oldest=oldest)[:k]
        citations = [self._citation(i + 1, h.row, 1.0) for i, h in enumerate(picked)]
        which = "oldest" if oldest else "newest"
        head = (
            f"The {which} documents of the index (by '{timeline.column}'; no subject was asked):"
            if within is None
            else f"{note.strip()} The {which} of them (no subject was asked):"
        )
        lines = [head]
        for c in citations:
            c.date = self._date_of(c.row)
            lines.append(f"[{c.n}] {c.title} ({c.date}; topic {c.topic}: {c.topic_label})")
        text = "\n".join(lines)
        yield TokenEvent(text)
        return Reply(text, citations=citations)

    def _citation_column(self) -> str | None:
        """The documents' numeric column of citation counts ('citations', 'citation_count', 'cited_by'), if any."""
        docs = self.index.documents
        for column in docs.columns:
            values = docs[column]
            if (
                _CITATION_NAME.search(str(column))
                and pd.api.types.is_numeric_dtype(values)
                and not pd.api.types.is_bool_dtype(values)
            ):
                return str(column)
        return None

    def _citation_counts(self, column: str) -> np.ndarray:
        """Every document's citation count as a float (NaN where it has none or it is not a finite number)."""
        counts = np.array(pd.to_numeric(self.index.documents[column], errors="coerce"), dtype=float)
        counts[~np.isfinite(counts)] = np.nan
        return counts

    def _data_columns(self) -> str:
        """The columns the documents carry from the data (not the index's own), as a user would name them."""
        return ", ".join(str(c) for c in self.index.documents.columns if c not in _INTERNAL_COLUMNS)

    def _close(self, routing: Routing) -> list[Hit]:
        """A route's hits close enough to cite: all of them when found by rare words, else the similar ones."""
        return [h for h in routing.hits if routing.by_words or h.dense >= self.retriever.min_similarity]

    def _most_cited(
        self, rows: np.ndarray, note: str, k: int, column: str
    ) -> collections.abc.Generator[Event, None, Reply]:
        """'The most cited papers' with no subject: the documents (of the period or topics asked) with the most
        citations by the index's citation column."""
        values = self._citation_counts(column)[rows]
        known = np.isfinite(values)
        rows, values = rows[known], values[known]
        order = np.argsort(-values, kind="stable")[:k]
        head = f"{note.strip()} The most cited of them" if note.strip() else "The most cited documents of the index"
        lines = [f"{head} (by '{column}'; no subject was asked):"]
        citations = [self._citation(i + 1, int(rows[j]), 1.0) for i, j in enumerate(order)]
        for c, j in zip(citations, order, strict=True):
            lines.append(f"[{c.n}] {c.title} ({_citation_count(values[j])}; topic {c.topic}: {c.topic_label})")
        if not citations:
            lines = [f"No document here has a citation count in '{column}'."]
        text = "\n".join(lines)
        yield TokenEvent(text)
        return Reply(text, citations=citations, matched=bool(citations))

    def _latest_first(self, hits: list[Hit], oldest: bool = False) -> list[Hit]:
        """Hits by date, newest first (oldest first when asked; undated last); equal dates keep their relevance
        order (a stable sort)."""
        dated = [(self._timestamp(h.row), h) for h in hits]
        newest = sorted((d for d in dated if d[0] is not None), key=lambda d: d[0], reverse=not oldest)  # type: ignore[arg-type,return-value]
        return [h for _, h in newest] + [h for when, h in dated if when is None]

    def _asked_periods(self, timeline: Timeline, intent: Intent) -> tuple[list[int], str] | Reply:
        """The period positions a question's period or window names and how to say them, or the reply that
        no document is dated then."""
        if intent.period:
            positions = period_positions(timeline, intent.period)
            if not positions:
                every = timeline.span(list(range(len(timeline.periods))))
                return Reply(
                    f"No documents are dated {_shown(intent.period)}: this index spans {every}.", matched=False
                )
            return positions, _shown(intent.period) if len(positions) == 1 else timeline.span(positions)
        if intent.window:
            positions = _window_positions(timeline, intent.window)
            return positions, timeline.span(positions)
        return list(range(len(timeline.periods))), ""

    def _dated_count(self, topic_id: int, intent: Intent) -> str:
        """', 150 dated 2025' for a topic when the question names a period the index's dates cover; else ''."""
        dated = self._dated_rows(self._rows_of(topic_id), intent)
        if isinstance(dated, Reply) or not dated[1].startswith(" dated"):
            return ""
        return f", {len(dated[0])}{dated[1]}"

    def _dated_rows(self, rows: np.ndarray, intent: Intent) -> tuple[np.ndarray, str] | Reply:
        """Rows kept by a question's period or window ('which authors work on X in 2025?') and the words that
        say so (' dated 2025'); all rows and a note when the index has no dates."""
        if not (intent.period or intent.window):
            return rows, ""
        timeline = self.index.timeline
        if timeline is None or not len(timeline.periods):
            return rows, " (this index has no dates, so documents of every date are counted)"
        asked = self._asked_periods(timeline, intent)
        if isinstance(asked, Reply):
            return asked
        positions, what = asked
        return rows[np.isin(timeline.doc_period[rows], positions)], f" dated {what}"

    def _period_mask(self, intent: Intent) -> tuple[np.ndarray | None, str] | Reply:
        """For a question scoped to a period or window ('the top topics in 2025', 'RAG vs agents in 2025'):
        which document rows are dated then (None: every row counts, as when no period is asked or the index
        has no dates) and the words that say so (' dated 2025', or the note that the index has no dates)."""
        total = len(self._texts)
        scoped = self._dated_rows(np.arange(total), intent)
        if isinstance(scoped, Reply):
            return scoped
        rows, words = scoped
        if not words.startswith(" dated"):
            return None, words
        mask = np.zeros(total, dtype=bool)
        mask[rows] = True
        return mask, words

    def _time_scope(self, intent: Intent) -> tuple[np.ndarray | None, str, Reply | None]:
        """For a search scoped in time ('in 2025', 'in the last three months', 'the latest papers'): the
        document rows it may cite (None: all), the note that opens its answer, or the reply when no
        document is dated in the period asked for."""
        if not (intent.period or intent.window or intent.recent or intent.oldest):
            return None, "", None
        timeline = self.index.timeline
        if timeline is None or not len(timeline.periods):
            return (
                None,
                "This index has no dates, so these are the closest documents whatever their date (rebuild with "
                "--time-col COLUMN to search by period).\n",
                None,
            )
        if intent.period or intent.window:
            asked = self._asked_periods(timeline, intent)
            if isinstance(asked, Reply):
                return None, "", asked
            positions, what = asked
        else:
            which, first = ("earliest", "oldest first") if intent.oldest else ("most recent", "newest first")
            return (
                None,
                f"The {which} of the {self.RECENT_POOL} documents closest to “{intent.content}” in the "
                f"topics it routes to (similarity at least {self.retriever.min_similarity:.2f}; by "
                f"'{timeline.column}', {first}):\n",
                None,
            )
        rows = np.flatnonzero(np.isin(timeline.doc_period, positions))
        return rows, f"Only the {len(rows)} documents dated {what} were searched (by '{timeline.column}').\n", None

    def _checked_prose(self, question: str, citations: list[Citation], stats: ProseStats) -> Iterator[str]:
        """The model's summary, sentence by sentence, each kept only when its cited source supports it;
        what is yielded is exactly what the answer keeps. Says so when nothing survives or time ran out."""
        assert self.generator is not None
        sources = "\n".join(
            f"[{c.n}] {without_instructions(c.title)}: {snippet(without_instructions(c.text), 25)}"
            for c in citations[:3]
        )
        messages = render_messages("answer", self.prompts_dir, question=question, sources=sources)
        checker = ProseChecker(
            self.retriever.embedder,
            {c.n: f"{c.title}. {c.text}" for c in citations},  # a copied title is a copy too
            {c.n: self.index.embeddings[c.row] for c in citations},
            self.index.lexical.stem,
        )
        example_grams = _ngrams(self._answer_example)
        kept, seen, buffer, late = 0, set(), "", False
        deadline = time.monotonic() + self.settings.prose_deadline_s
        if not self._writer.acquire(timeout=self.settings.prose_deadline_s):
            stats.late = True
            yield (
                f"\n\n(No summary: the writer was busy with other questions for {self.settings.prose_deadline_s:g} "
                "seconds; the facts and evidence above are complete.)"
            )
            return

        def judge(sentence: str) -> str | None:
            key = " ".join(_CITE.sub("", sentence).lower().split())  # the same claim citing another source
            if key in seen or (example_grams & _ngrams(sentence)):
                return None
            seen.add(key)
            verdict = checker.check(sentence)
            stats.written += 1
            stats.supported += verdict.support >= checker.threshold  # scored only past the cheaper checks
            stats.kept += verdict.kept
            return sentence if verdict.kept else None

        try:
            stream = self.generator.stream(
                messages, max_tokens=self.settings.max_tokens, stop=["\n\n", "Sources:", "Question:"]
            )
        except BaseException:
            self._writer.release()
            raise
        try:
            for piece in stream:
                buffer += piece
                complete, buffer = split_complete(buffer)
                for sentence in complete:
                    if (good := judge(sentence)) is not None:
                        yield (PROSE_HEAD if kept == 0 else " ") + good
                        kept += 1
                if time.monotonic() > deadline:
                    late = stats.late = True
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            self._writer.release()
        if not late and buffer.strip() and (good := judge(buffer.strip())) is not None:
            yield (PROSE_HEAD if kept == 0 else " ") + good
            kept += 1
        if kept == 0:
            yield "\n\nNo summary could be written from the sources: no sentence the model wrote was supported by the source it cites."
        if late:
            yield f" (The summary was cut at the {self.settings.prose_deadline_s:g}-second limit.)"

    def _token_table(self) -> tokens.TokenTable | None:
        """The index's word-piece vectors, when this embedder reads text with their tokenizer (the same model,
        in any precision) and can compute a piece they lack."""
        table, embedder = self.index.token_table, self.retriever.embedder
        if table is None or not tokens.supported(embedder):
            return None
        return table if table.model_id.split("#")[0] == embedder.name else None

    def _add_evidence(self, query: str, citations: list[Citation]) -> None:
        """Each citation's key sentence for the question (the index's word-piece vectors, or a lexical
        prefilter and the embedder: `app.evidence`)."""
        if not citations:
            return
        found = evidence_sentences(
            query,
            [c.text for c in citations],
            self.retriever.embedder,
            self.retriever.embed_query(query),
            self.index.lexical.stem,
            table=self._token_table(),
        )
        for citation, sentence in zip(citations, found, strict=True):  # a title-only text: its title says it
            citation.evidence = "" if _title_key(sentence) == _title_key(citation.title) else sentence

    def _facts(
        self,
        intent: Intent,
        routing: Routing,
        citations: list[Citation],
        query: str,
        extra: tuple[list[int], list[tuple[int, int]]],
    ) -> str:
        found_by = ""
        if routing.by_words:
            limit = self.retriever.rare_limit()
            rare = all(len(self.retriever.holders(w)) <= limit for w in routing.by_words)
            words = f"its {'rare ' if rare else ''}words ({', '.join(routing.by_words)}, as stems)"
            found_by = (
                f"No document is close to “{query}” in meaning (best similarity {_similarity(routing.best_similarity)}), so "
                f"these are found by {words}.\n"
                if routing.best_similarity < self.retriever.min_similarity
                else f"“{query}” is searched by {words}: only documents that hold them are ranked.\n"
            )
        elif absent := self._absent_pieces(query):  # "papers about Klingon": say so before the nearest ones
            named = ", ".join(f"“{w}”" for w in absent[:6])
            found_by = f"No document holds the word{'s' if len(absent) > 1 else ''} {named}; these are the closest in meaning.\n"
        return found_by + self._fact_lines(intent, routing, citations, query, extra)

    def _fact_lines(
        self,
        intent: Intent,
        routing: Routing,
        citations: list[Citation],
        query: str,
        extra: tuple[list[int], list[tuple[int, int]]],
    ) -> str:
        """The answer's fact lines; for 'which topics cover X?' the routed topics, then `extra` (`_cover_extra`)."""
        if intent.kind is IntentKind.COVER:
            lines = [f"Topics covering “{query}”:"]
            for t in routing.topics:
                cites = [c for c in citations if c.topic == t.id][:2]
                example = " ".join(f"[{c.n}]" for c in cites)
                lines.append(
                    f"- Topic {t.id}: {self.path(t.id)} ({t.size} documents{self._dated_count(t.id, intent)}, score "
                    f"{t.score:.2f}) — {self._keywords(t.id, n=5)} {example}".rstrip()
                )
            if not routing.topics:
                lines.append("- no topic fits well; the closest documents are below.")
            shown = {t.id for t in routing.topics}
            named, mentioning = extra
            if named:
                lines.append(f"Other topics whose label or keywords name “{query}”:")
                lines += [
                    f"- Topic {t}: {self.path(t)} ({self.topics[t].size} documents{self._dated_count(t, intent)}) — "
                    f"{self._keywords(t, n=5)}"
                    for t in named
                ]
            if mentioning:  # "which topics are about rugby?": also the topics most of whose documents say it
                lines.append(f"Other topics where at least a third of the documents hold every word of “{query}”:")
                lines += [
                    f"- Topic {t}: {self.path(t)} ({n} of its {self.topics[t].size} documents) — {self._keywords(t, n=5)}"
                    for t, n in mentioning
                ]
                named = named + [t for t, _ in mentioning]
            if intent.noun == "count":  # "how many topics cover X?"
                n = len(shown) + len(named)
                lines.insert(
                    0,
                    f"{n} topic{'s' if n != 1 else ''}: the {len(shown)} it routes to"
                    + (f" and {len(named)} more whose label, keywords or documents name it." if named else "."),
                )
            lines.append("Closest documents: " + "; ".join(f"[{c.n}] {c.title}" for c in citations))
            return "\n".join(lines)
        lines = [
            "Most relevant documents, each with its sentence that answers best:"
            if any(c.evidence for c in citations)
            else "Most relevant documents:"  # short texts: the title is the whole text
        ]
        for c in citations:
            dated = f"{c.date}; " if c.date else ""
            lines.append(f"[{c.n}] {c.title} ({dated}topic {c.topic}: {c.topic_label})")
            if c.evidence:
                lines.append(f"    “{c.evidence}”")
        return "\n".join(lines)
