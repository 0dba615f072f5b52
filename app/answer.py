"""Answering: intent -> routing -> facts from the index -> LLM prose (streamed) -> checked citations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.intent import CLEAR, COMPARE, COVER, FOCUS, LIST, MAP, TOPIC, Intent, parse_intent
from app.route import Retriever, RoutedTopic, Routing
from indexer.label import example_reply
from indexer.prompting import render_messages
from indexer.store import TopicIndex, load_index
from models.base import Embedder, Generator

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
class Answer:
    """A finished answer: text, the topics it was routed to, and its citations."""

    question: str
    intent: str
    text: str
    topics: list[RoutedTopic]
    citations: list[Citation]
    coverage: str
    matched: bool
    routing: Routing | None = None

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "intent": self.intent,
            "answer": self.text,
            "topics": [{"id": t.id, "label": t.label, "score": t.score, "size": t.size} for t in self.topics],
            "citations": [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "topic": c.topic} for c in self.citations],
            "coverage": self.coverage,
            "matched": self.matched,
        }


@dataclass
class Event:
    """One step of a streamed answer: routing decided, a piece of text, or the finished answer."""

    kind: str  # "routing" | "token" | "done"
    routing: Routing | None = None
    token: str = ""
    answer: Answer | None = None


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

    def __init__(self, index: TopicIndex, embedder: Embedder, generator: Generator | None, k_docs: int = 5) -> None:
        self.index = index
        self.retriever = Retriever(index, embedder)
        self.generator = generator
        self.k_docs = k_docs
        self.prompts_dir = index.path / "prompts"
        self.topics = index.topic_by_id
        self._texts = index.documents["text"].tolist()
        self._answer_example = example_reply("answer", self.prompts_dir)

    @classmethod
    def open(cls, path: Path | str, generator: str | None = None, embedder: str | None = None) -> Assistant:
        """Load an index and the models it was built with (the generator can be overridden or 'none')."""
        from models.registry import load_embedder, load_generator

        index = load_index(path)
        params = index.manifest["parameters"]
        emb = load_embedder(embedder or params["embedding_model"])
        if emb.dim != index.embeddings.shape[1]:
            from indexer.errors import TopicchatError

            raise TopicchatError(
                f"The embedder '{emb.model_id}' makes {emb.dim}-d vectors but the index holds "
                f"{index.embeddings.shape[1]}-d ones; use the index's model ({index.manifest['models']['embedder']})."
            )
        spec = generator or params.get("generator") or "none"
        gen = None if spec == "none" else load_generator(spec)
        return cls(index, emb, gen)

    # -- facts ---------------------------------------------------------------------------------
    def _citation(self, n: int, row: int, score: float) -> Citation:
        topic = int(self.index.documents["topic"].iat[row])
        label = self.topics[topic].label if topic in self.topics else "outliers"
        text = self._texts[row]
        return Citation(n, self.retriever.doc_ids[row], self.retriever.titles[row], topic, label, snippet(text), text, score)

    def _coverage(self, routing: Routing) -> str:
        if not routing.topics:
            scope = f"searched all {len(self._texts)} documents"
        else:
            ids = ", ".join(str(t.id) for t in routing.topics)
            scope = f"routed to {len(routing.topics)} topic(s) ({ids}) holding {routing.documents_in_topics} documents"
        if routing.outliers_searched:
            pool = f"the outlier pool ({routing.outlier_pool} documents) was searched too"
        elif routing.outlier_pool:
            pool = f"the outlier pool ({routing.outlier_pool} documents) was not searched"
        else:
            pool = "there are no outlier documents"
        return f"Coverage: {scope}; {pool}."

    def _keywords(self, topic_id: int, kind: str = "keybert", n: int = 6) -> str:
        topic = self.topics[topic_id]
        words = topic.keywords.get(kind) or topic.keywords.get("ctfidf") or []
        return ", ".join(w for w, _ in words[:n])

    # -- streaming -----------------------------------------------------------------------------
    def stream(self, question: str, conversation: Conversation | None = None) -> Iterator[Event]:
        """Answer a question step by step: routing first, then text, then the checked answer."""
        conv = conversation if conversation is not None else Conversation()
        question = question.strip()
        if not question:
            yield from self._finish(question, "empty", "Ask a question about the documents, or type 'list topics'.", [], [], "", True, None, conv)
            return
        intent = parse_intent(question)
        handler = {
            LIST: self._list_topics,
            TOPIC: self._topic_detail,
            COMPARE: self._compare,
            FOCUS: self._focus,
            CLEAR: self._clear,
            MAP: self._map,
        }.get(intent.kind, self._search_answer)
        yield from handler(question, intent, conv)

    def ask(self, question: str, conversation: Conversation | None = None) -> Answer:
        """The finished answer of `stream`."""
        for event in self.stream(question, conversation):
            if event.kind == "done":
                assert event.answer is not None
                return event.answer
        raise RuntimeError("the answer stream ended without an answer")

    def _finish(self, question, intent, text, topics, citations, coverage, matched, routing, conv) -> Iterator[Event]:
        text = check_citations(text, len(citations))
        if coverage and coverage not in text:
            text = f"{text}\n\n{coverage}"
        answer = Answer(question, intent, text.strip(), topics, citations, coverage, matched, routing)
        if topics:
            conv.last_topics = [t.id for t in topics]
        if citations:
            conv.last_citations = citations
        yield Event("done", routing=routing, answer=answer)

    def _list_topics(self, question: str, intent: Intent, conv: Conversation) -> Iterator[Event]:
        docs = len(self._texts)
        outliers = int((self.index.documents["topic"] == -1).sum())
        if not self.index.topics:
            text = f"This index holds {docs} documents but no topics (the corpus was too small or too uniform to cluster). Ask about papers instead."
        else:
            lines = [f"The index holds {docs} documents in {len(self.index.topics)} topics ({outliers} documents are outliers)."]
            for t in self.index.topics:
                lines.append(f"- Topic {t.id}: {t.label} ({t.size} documents) — {self._keywords(t.id, n=5)}")
            text = "\n".join(lines)
        yield Event("token", token=text)
        yield from self._finish(question, intent.kind, text, [], [], "", True, None, conv)

    def _unknown_topic(self, question, intent, conv, missing) -> Iterator[Event]:
        known = f"0 to {max(self.topics)}" if self.topics else "none"
        text = f"There is no topic {', '.join(map(str, missing))} in this index (topic ids: {known}). Type 'list topics' to see them."
        yield Event("token", token=text)
        yield from self._finish(question, intent.kind, text, [], [], "", False, None, conv)

    def _topic_detail(self, question: str, intent: Intent, conv: Conversation) -> Iterator[Event]:
        tid = intent.topic_ids[0]
        if tid not in self.topics:
            yield from self._unknown_topic(question, intent, conv, [tid])
            return
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
        if t.label_source != "llm":
            lines.insert(1, f"(label from keywords: {t.label_source})")
        text = "\n".join(lines)
        routed = [RoutedTopic(t.id, t.label, t.size, 1.0, 1.0, 1.0)]
        yield Event("token", token=text)
        yield from self._finish(question, intent.kind, text, routed, citations, "", True, None, conv)

    def _compare(self, question: str, intent: Intent, conv: Conversation) -> Iterator[Event]:
        a, b = intent.topic_ids[:2]
        missing = [x for x in (a, b) if x not in self.topics]
        if missing:
            yield from self._unknown_topic(question, intent, conv, missing)
            return
        rows = {t.id: i for i, t in enumerate(self.index.topics)}
        sim = float(self.index.topic_embeddings[rows[a]] @ self.index.topic_embeddings[rows[b]])
        words = {x: [w for w, _ in (self.topics[x].keywords.get("ctfidf") or [])] for x in (a, b)}
        shared = [w for w in words[a] if w in words[b]]
        citations: list[Citation] = []
        for x in (a, b):
            for d in self.topics[x].representative_doc_ids[:2]:
                citations.append(self._citation(len(citations) + 1, self.index.row_of(d), 1.0))
        ta, tb = self.topics[a], self.topics[b]
        text = "\n".join(
            [
                f"Topic {a} ({ta.label}, {ta.size} documents) vs topic {b} ({tb.label}, {tb.size} documents): similarity {sim:.2f}.",
                f"Shared keywords: {', '.join(shared) or 'none'}.",
                f"Only topic {a}: {', '.join(w for w in words[a] if w not in shared)}. Examples: [1] [2]",
                f"Only topic {b}: {', '.join(w for w in words[b] if w not in shared)}. Examples: [3] [4]",
            ]
        )
        routed = [RoutedTopic(t.id, t.label, t.size, 1.0, 1.0, 1.0) for t in (ta, tb)]
        yield Event("token", token=text)
        yield from self._finish(question, intent.kind, text, routed, citations, "", True, None, conv)

    def _focus(self, question: str, intent: Intent, conv: Conversation) -> Iterator[Event]:
        missing = [x for x in intent.topic_ids if x not in self.topics]
        if missing:
            yield from self._unknown_topic(question, intent, conv, missing)
            return
        conv.focus = list(intent.topic_ids)
        names = "; ".join(f"topic {x} ({self.topics[x].label})" for x in conv.focus)
        text = f"From now on I search only {names} (plus nothing else). Say 'use all topics' to search everything again."
        yield Event("token", token=text)
        yield from self._finish(question, intent.kind, text, [], [], "", True, None, conv)

    def _clear(self, question: str, intent: Intent, conv: Conversation) -> Iterator[Event]:
        conv.focus = []
        text = "I search all topics again."
        yield Event("token", token=text)
        yield from self._finish(question, intent.kind, text, [], [], "", True, None, conv)

    def _map(self, question: str, intent: Intent, conv: Conversation) -> Iterator[Event]:
        text = (
            f"The document map shows all {len(self._texts)} documents in two dimensions, coloured by topic "
            "(outliers in grey); documents cited in the last answer are highlighted."
        )
        yield Event("token", token=text)
        yield from self._finish(question, intent.kind, text, [], [], "", True, None, conv)

    def _search_answer(self, question: str, intent: Intent, conv: Conversation) -> Iterator[Event]:
        restrict = conv.focus or (conv.last_topics if intent.follow_up else [])
        query = intent.content or question
        routing = self.retriever.route(query, k_docs=self.k_docs, restrict_to=restrict)
        yield Event("routing", routing=routing)
        if not routing.matched:
            text = (
                f"Nothing in this index matches “{query}”: the closest document has similarity "
                f"{routing.best_similarity:.2f}, below the {self.retriever.min_similarity:.2f} needed. "
                "Try other words, or type 'list topics' to see what the corpus covers."
            )
            if routing.restricted_to:
                text += f" (I searched only topics {', '.join(map(str, routing.restricted_to))}; say 'use all topics' to search everything.)"
            yield Event("token", token=text)
            yield from self._finish(question, intent.kind, text, [], [], "", False, routing, conv)
            return
        citations = [self._citation(i + 1, h.row, h.score) for i, h in enumerate(routing.hits)]
        prose = ""
        if self.generator is not None and citations:
            sources = "\n".join(f"[{c.n}] {c.title}: {snippet(c.text, 25)}" for c in citations[:3])
            messages = render_messages("answer", self.prompts_dir, question=question, sources=sources)
            for piece in self.generator.stream(messages, max_tokens=120, stop=["\n\n", "Sources:", "Question:"]):
                prose += piece
                yield Event("token", token=piece)
            prose = clean_prose(prose, len(citations), self._answer_example)
        facts = self._facts(intent, routing, citations, query)
        if prose:
            yield Event("token", token="\n\n")
        yield Event("token", token=facts)
        text = f"{prose}\n\n{facts}" if prose else facts
        yield from self._finish(question, intent.kind, text, routing.topics, citations, self._coverage(routing), True, routing, conv)

    def _facts(self, intent: Intent, routing: Routing, citations: list[Citation], query: str) -> str:
        if intent.kind == COVER:
            lines = [f"Topics covering “{query}”:"]
            for t in routing.topics:
                cites = [c for c in citations if c.topic == t.id][:2]
                example = " ".join(f"[{c.n}]" for c in cites)
                lines.append(
                    f"- Topic {t.id}: {t.label} ({t.size} documents, score {t.score:.2f}) — {self._keywords(t.id, n=5)} {example}".rstrip()
                )
            if not routing.topics:
                lines.append("- no topic fits well; the closest documents are below.")
            lines.append("Closest documents: " + "; ".join(f"[{c.n}] {c.title}" for c in citations))
            return "\n".join(lines)
        lines = ["Most relevant documents:"]
        lines += [f"[{c.n}] {c.title} (topic {c.topic}: {c.topic_label})" for c in citations]
        return "\n".join(lines)

