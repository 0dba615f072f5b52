"""Answering: intent -> routing -> facts from the index -> LLM prose (streamed) -> checked citations."""

from __future__ import annotations

import collections.abc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from topicchat.app.intent import Intent, IntentKind, parse_intent
from topicchat.app.route import Retriever, RoutedTopic, Routing
from topicchat.app.settings import AnswerSettings, RetrievalSettings
from topicchat.indexer.label import example_reply
from topicchat.indexer.prompting import render_messages
from topicchat.indexer.store import TopicIndex, load_index
from topicchat.indexer.topics import LabelSource
from topicchat.indexer.tree import path_of
from topicchat.models.base import Embedder, Generator

_CITE = re.compile(r"\[(\d+)\]")


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


@dataclass
class Coverage:
    """Which part of the index a search looked at: the routed topics and the outlier pool."""

    topic_ids: list[int]
    documents_in_topics: int
    total_documents: int
    outlier_pool: int
    outliers_searched: bool
    restricted_to: list[int] = field(default_factory=list)

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

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "intent": str(self.intent),
            "answer": self.text,
            "topics": [{"id": t.id, "label": t.label, "score": t.score, "size": t.size} for t in self.topics],
            "citations": [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "topic": c.topic} for c in self.citations],
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


@dataclass
class Conversation:
    """What a chat remembers between turns: the last routed topics and any topic focus the user set."""

    last_topics: list[int] = field(default_factory=list)
    focus: list[int] = field(default_factory=list)
    last_citations: list[Citation] = field(default_factory=list)


def snippet(text: str, words: int = 40) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


def check_citations(text: str, n_citations: int) -> str:
    """Drop every [n] that does not point at a listed source."""
    return _CITE.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_citations else "", text)


def _ngrams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def clean_prose(prose: str, n_citations: int, example: str = "") -> str:
    """Keep the model's sentences that cite a real source, are new, and do not echo the prompt's example."""
    example_grams = _ngrams(example)
    kept: list[str] = []
    seen: set[str] = set()
    for sentence in re.split(r"(?<=[.!?])\s+", check_citations(prose.strip(), n_citations)):
        key = sentence.lower().strip()
        if not key or key in seen or not _CITE.search(sentence):
            continue
        if example_grams & _ngrams(sentence):
            continue
        seen.add(key)
        kept.append(sentence.strip())
    return " ".join(kept)


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
        self.retriever = Retriever(index, embedder, retrieval)
        self.generator = generator
        self.settings = settings or AnswerSettings()
        self.k_docs = self.settings.k_docs
        self.prompts_dir = index.path / "prompts"
        self.topics = index.nodes  # leaves and the tree's parents: one id space
        self._node_vectors = {t.id: v for t, v in zip(index.topics, index.topic_embeddings, strict=True)}
        if index.parents and index.parent_embeddings is not None:
            self._node_vectors |= {t.id: v for t, v in zip(index.parents, index.parent_embeddings, strict=True)}
        self._texts = index.documents["text"].tolist()
        self._answer_example = example_reply("answer", self.prompts_dir)

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
        emb = load_embedder(embedder or params["embedding_model"], index.embedding_dtype, cache_dir)
        if emb.dim != index.embeddings.shape[1]:
            from topicchat.indexer.errors import TopicchatError

            raise TopicchatError(
                f"The embedder '{emb.model_id}' makes {emb.dim}-d vectors but the index holds "
                f"{index.embeddings.shape[1]}-d ones; use the index's model ({index.manifest['models']['embedder']})."
            )
        spec = answer.generator or params.get("generator") or "none"
        gen = None if spec == "none" else load_generator(spec, cache_dir)
        return cls(index, emb, gen, answer, retrieval)

    # -- facts ---------------------------------------------------------------------------------
    def _citation(self, n: int, row: int, score: float) -> Citation:
        topic = int(self.index.documents["topic"].iat[row])
        label = self.topics[topic].label if topic in self.topics else "outliers"
        text = self._texts[row]
        return Citation(
            n, self.retriever.doc_ids[row], self.retriever.titles[row], topic, label, snippet(text), text, score
        )

    def _keywords(self, topic_id: int, kind: str = "keybert", n: int = 6) -> str:
        return ", ".join(self.topics[topic_id].top_keywords(n, kind))

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
        intent = parse_intent(question)
        match intent.kind:
            case IntentKind.EMPTY:
                reply = Reply("Ask a question about the documents, or type 'list topics'.")  # nothing to stream
            case IntentKind.PAPERS | IntentKind.COVER:
                reply = yield from self._search_answer(question, intent, conv)
            case _:
                reply = self._instant_handlers()[intent.kind](intent, conv)
                yield TokenEvent(reply.text)
        yield DoneEvent(self._answer(question, intent.kind, reply, conv))

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
        }

    def _answer(self, question: str, intent: IntentKind, reply: Reply, conv: Conversation) -> Answer:
        """Check the reply's citations, remember its topics and sources, and make it the Answer."""
        text = check_citations(reply.text, len(reply.citations)).strip()
        if reply.topics:
            conv.last_topics = [t.id for t in reply.topics]
        if reply.citations:
            conv.last_citations = reply.citations
        return Answer(
            question, intent, text, reply.topics, reply.citations, reply.coverage, reply.matched, reply.routing
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
            return Reply("\n".join(lines))
        lines = [
            f"The index holds {docs} documents in {len(self.index.topics)} topics, grouped into {len(top)} areas "
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
        return Reply("\n".join(lines))

    def _unknown_topic(self, missing: list[int]) -> Reply:
        known = f"0 to {max(self.topics)}" if self.topics else "none"
        text = f"There is no topic {', '.join(map(str, missing))} in this index (topic ids: {known}). Type 'list topics' to see them."
        return Reply(text, matched=False)

    def _topic_detail(self, intent: Intent, conv: Conversation) -> Reply:
        tid = intent.topic_ids[0]
        if tid not in self.topics:
            return self._unknown_topic([tid])
        t = self.topics[tid]
        citations = [self._citation(i + 1, self.index.row_of(d), 1.0) for i, d in enumerate(t.representative_doc_ids)]
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
        return Reply("\n".join(lines), topics=[self._routed(tid)], citations=citations)

    def _compare(self, intent: Intent, conv: Conversation) -> Reply:
        a, b = intent.topic_ids[:2]
        missing = [x for x in (a, b) if x not in self.topics]
        if missing:
            return self._unknown_topic(missing)
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
                f"Topic {a} ({ta.label}, {ta.size} documents) vs topic {b} ({tb.label}, {tb.size} documents): similarity {sim:.2f}.",
                f"Shared keywords: {', '.join(shared) or 'none'}.",
                f"Only topic {a}: {', '.join(w for w in words[a] if w not in shared)}. {examples[a]}",
                f"Only topic {b}: {', '.join(w for w in words[b] if w not in shared)}. {examples[b]}",
            ]
        )
        return Reply(text, topics=[self._routed(a), self._routed(b)], citations=citations)

    def _focus(self, intent: Intent, conv: Conversation) -> Reply:
        missing = [x for x in intent.topic_ids if x not in self.topics]
        if missing:
            return self._unknown_topic(missing)
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

    def _search_answer(
        self, question: str, intent: Intent, conv: Conversation
    ) -> collections.abc.Generator[Event, None, Reply]:
        """Route, stream the model's prose and the facts; the Reply is the generator's return value."""
        named = conv.focus or (conv.last_topics if intent.follow_up else [])
        restrict = sorted({leaf for t in named if t in self.topics for leaf in self.leaves_under(t)})
        query = intent.content or question
        routing = self.retriever.route(query, k_docs=self.k_docs, restrict_to=restrict)
        yield RoutingEvent(routing)
        if not routing.matched:
            text = (
                f"Nothing in this index matches “{query}”: the closest document has similarity "
                f"{routing.best_similarity:.2f}, below the {self.retriever.min_similarity:.2f} needed. "
                "Try other words, or type 'list topics' to see what the corpus covers."
            )
            if routing.restricted_to:
                text += f" (I searched only topics {', '.join(map(str, routing.restricted_to))}; say 'use all topics' to search everything.)"
            yield TokenEvent(text)
            return Reply(text, matched=False, routing=routing)
        citations = [self._citation(i + 1, h.row, h.score) for i, h in enumerate(routing.hits)]
        prose = ""
        if self.generator is not None and citations:
            sources = "\n".join(f"[{c.n}] {c.title}: {snippet(c.text, 25)}" for c in citations[:3])
            messages = render_messages("answer", self.prompts_dir, question=question, sources=sources)
            for piece in self.generator.stream(
                messages, max_tokens=self.settings.max_tokens, stop=["\n\n", "Sources:", "Question:"]
            ):
                prose += piece
                yield TokenEvent(piece)
            prose = clean_prose(prose, len(citations), self._answer_example)
        facts = self._facts(intent, routing, citations, query)
        if prose:
            yield TokenEvent("\n\n")
        yield TokenEvent(facts)
        return Reply(
            f"{prose}\n\n{facts}" if prose else facts,
            topics=routing.topics,
            citations=citations,
            coverage=Coverage.of(routing, len(self._texts)),
            routing=routing,
        )

    def _facts(self, intent: Intent, routing: Routing, citations: list[Citation], query: str) -> str:
        if intent.kind is IntentKind.COVER:
            lines = [f"Topics covering “{query}”:"]
            for t in routing.topics:
                cites = [c for c in citations if c.topic == t.id][:2]
                example = " ".join(f"[{c.n}]" for c in cites)
                lines.append(
                    f"- Topic {t.id}: {self.path(t.id)} ({t.size} documents, score {t.score:.2f}) — {self._keywords(t.id, n=5)} {example}".rstrip()
                )
            if not routing.topics:
                lines.append("- no topic fits well; the closest documents are below.")
            lines.append("Closest documents: " + "; ".join(f"[{c.n}] {c.title}" for c in citations))
            return "\n".join(lines)
        lines = ["Most relevant documents:"]
        lines += [f"[{c.n}] {c.title} (topic {c.topic}: {c.topic_label})" for c in citations]
        return "\n".join(lines)
