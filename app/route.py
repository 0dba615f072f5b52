"""Routing: a question -> ranked topics (with evidence) and hybrid (dense + BM25) document hits."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import get_cached_controller

from topicchat.app.counts import rows_holding
from topicchat.app.settings import RetrievalSettings
from topicchat.indexer.ann import is_exact, tokenize, tune_for_queries
from topicchat.indexer.store import TopicIndex
from topicchat.models.base import Embedder, embed_short

PIECES = re.compile(r"[^\s\"“”‘’()\[\],;:!?/]+")  # a query's words as typed ("GPT-4", "pre-training")


@dataclass
class Hit:
    """One retrieved document with its scores."""

    row: int
    doc_id: str
    title: str
    topic: int
    score: float
    dense: float
    lexical: float


@dataclass
class RoutedTopic:
    """A topic the question was routed to, with the evidence for it."""

    id: int
    label: str
    size: int
    score: float
    similarity: float  # cosine between the question and the topic embedding
    votes: float  # share of the top hits that belong to the topic


@dataclass
class Routing:
    """What the router decided for one question."""

    query: str
    topics: list[RoutedTopic]
    hits: list[Hit]
    matched: bool
    outliers_searched: bool
    outlier_pool: int
    best_similarity: float
    restricted_to: list[int] = field(default_factory=list)
    by_words: list[str] = field(default_factory=list)  # matched by these rare words, not by meaning

    @property
    def documents_in_topics(self) -> int:
        return sum(t.size for t in self.topics)


class _OneBlasThread:
    """While any query runs, numpy's BLAS uses one thread: idle BLAS threads spinning after a small matrix
    product slowed the next query's embedding 3-10x on 2 cores (p95 110 ms -> 15 ms).

    The first query in sets the limit and the last one out restores it, so overlapping chats (and a route
    that calls search) never restore it under each other. The thread pools come from threadpoolctl's
    cached controller (found again only when new modules were imported): finding them afresh reads /proc
    and every loaded library, 4.6 ms a time on 2 cores, three times per question before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._limiter: Any = None

    def __enter__(self) -> None:
        with self._lock:
            if self._users == 0:
                self._limiter = get_cached_controller().limit(limits=1, user_api="blas")
            self._users += 1

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                self._limiter = None


_ONE_BLAS_THREAD = _OneBlasThread()


def _one_blas_thread(method):
    """Run a query method with numpy's BLAS on one thread (see `_OneBlasThread`)."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        with _ONE_BLAS_THREAD:
            return method(*args, **kwargs)

    return run


def fuse_scores(dense: np.ndarray, lexical: np.ndarray, weight: float, mode: str = "max") -> np.ndarray:
    """Convex mix of dense cosine and BM25 over a candidate set.

    mode "max": BM25 divided by its maximum (cosine kept as is); "zscore": both standardised.
    """
    if mode == "zscore":

        def z(x: np.ndarray) -> np.ndarray:
            sd = float(x.std())
            return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)

        return (1.0 - weight) * z(dense) + weight * z(lexical)
    top = float(lexical.max()) if len(lexical) else 0.0
    lex_norm = lexical / top if top > 0 else np.zeros_like(lexical)
    return (1.0 - weight) * dense + weight * lex_norm


RECENT_QUERIES = 64


class Retriever:
    """Hybrid search and topic routing over a loaded index."""

    def __init__(self, index: TopicIndex, embedder: Embedder, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.candidates = self.settings.candidates
        self.min_similarity = self.settings.min_similarity
        docs = index.documents
        self.topic_of = docs["topic"].to_numpy()
        self.doc_ids = docs["doc_id"].tolist()
        self.titles = docs["title"].tolist()
        self.topics = index.topic_by_id
        self.outlier_pool = int((self.topic_of == -1).sum())
        if hasattr(index.faiss, "hnsw"):  # an index written before IVF-PQ replaced HNSW
            index.faiss.hnsw.efSearch = max(index.faiss.hnsw.efSearch, self.candidates)
        tune_for_queries(index.faiss)
        self._recent: dict[str, np.ndarray] = {}  # query -> vector: one answer embeds its question once
        self._recent_lock = threading.Lock()

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector (read-only), kept for the last RECENT_QUERIES queries."""
        with self._recent_lock:
            vector = self._recent.get(query)
        if vector is None:
            vector = embed_short(self.embedder, [query])[0]
            vector.setflags(write=False)
            with self._recent_lock:
                self._recent[query] = vector
                while len(self._recent) > RECENT_QUERIES:
                    self._recent.pop(next(iter(self._recent)))
        return vector

    def _top(self, scores: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        """The rows with the `candidates` highest scores (among `rows` when given)."""
        if rows is not None:
            scores = scores[rows]
        m = min(self.candidates, len(scores))
        if m == 0:
            return np.zeros(0, dtype=np.int64)
        top = np.argpartition(-scores, m - 1)[:m]
        return rows[top] if rows is not None else top

    @_one_blas_thread
    def search(
        self,
        query: str,
        k: int = 10,
        topics: Sequence[int] | None = None,
        qvec: np.ndarray | None = None,
        dense_all: np.ndarray | None = None,
        lexical: np.ndarray | None = None,
        within: np.ndarray | None = None,
    ) -> list[Hit]:
        """Top-k documents by fused cosine and BM25, optionally within topics and within given rows (a period).

        `dense_all` / `lexical` (every document's cosine and BM25 score) let a caller that searches
        twice for one question compute them once.
        """
        qvec = self.embed_query(query) if qvec is None else qvec
        n = len(self.doc_ids)
        lexical = self.index.lexical.scores(query) if lexical is None else lexical
        allowed = np.flatnonzero(np.isin(self.topic_of, list(topics))) if topics else None
        if within is not None:
            allowed = within if allowed is None else np.intersect1d(allowed, within, assume_unique=True)
            if len(allowed) == 0:
                return []
        if dense_all is None and allowed is None:
            _, idx = self.index.faiss.search(qvec[None, :].astype(np.float32), min(self.candidates, n))
            cand = idx[0][idx[0] >= 0]
        else:
            if dense_all is None:
                dense_all = np.full(n, -np.inf, dtype=np.float32)
                dense_all[allowed] = self.index.embeddings[allowed] @ qvec
            cand = self._top(dense_all, allowed)
        lex_rows = self._top(lexical, allowed)
        lex_rows = lex_rows[lexical[lex_rows] > 0]
        rows = np.unique(np.concatenate([cand, lex_rows])).astype(np.int64)
        if len(rows) == 0:
            return []
        dense = self.index.embeddings[rows] @ qvec
        lex = lexical[rows]
        fused = fuse_scores(dense, lex, self.settings.lexical_weight, self.settings.fusion)
        order = np.argsort(-fused)[:k]
        return [
            Hit(
                int(r),
                self.doc_ids[r],
                self.titles[r],
                int(self.topic_of[r]),
                float(fused[i]),
                float(dense[i]),
                float(lex[i]),
            )
            for i, r in ((i, rows[i]) for i in order)
        ]

    @_one_blas_thread
    def route(
        self,
        query: str,
        k_docs: int = 8,
        restrict_to: Sequence[int] | None = None,
        within: np.ndarray | None = None,
        subject: bool = False,
    ) -> Routing:
        """Rank topics by question-topic similarity and by the topics of the best hits (`within`: only these
        document rows, ascending, are searched, e.g. one period's). `subject`: the query is a subject read from
        a question ('trade' of 'which topics cover trade?'), not the question itself, so when no document is
        close in meaning, the documents holding all its words (up to three) are the ones to rank."""
        cfg = self.settings
        qvec = self.embed_query(query)
        restrict = [t for t in (restrict_to or []) if t in self.topics]
        exact = is_exact(self.index.faiss)
        dense_all = self.index.embeddings @ qvec if exact else None  # one pass, shared by both searches
        lexical = self.index.lexical.scores(query)
        rare, holding = self._rare(query, within)
        if restrict:  # "papers in topic 28 about viruses": only the named topics' holders
            holding = holding[np.isin(self.topic_of[holding], restrict)]

        def vote_pool(rows: np.ndarray | None) -> list[Hit]:
            return self.search(
                query,
                k=cfg.vote_pool,
                topics=restrict or None,
                qvec=qvec,
                dense_all=dense_all,
                lexical=lexical,
                within=rows,
            )

        pool = vote_pool(within)
        # A query of a few rare words ("GSM8K", "RLHF vs DPO") whose closest documents by meaning mostly lack them:
        # the embedder read it poorly (GSM8K lands near "GSM" mobile networks), so the documents that hold the
        # words are the ones to rank; a query whose closest documents do hold its words is routed as usual.
        content = set(tokenize(query, stem=self.index.lexical.stem)) - self._question_words
        closest = [h.row for h in sorted(pool, key=lambda h: -h.dense)[: self.WORDS_FIRST_CHECK]]
        words_first = (
            bool(rare)
            and len(holding) > 0
            and set(rare) == content
            and len(rare) <= self.WORDS_FIRST_MAX
            and (not closest or float(np.isin(closest, holding).mean()) < 0.5)
        )
        if words_first:
            within = holding
            pool = vote_pool(within)
        best = max((h.dense for h in pool), default=0.0)
        matched = best >= self.min_similarity
        by_words: list[str] = []
        if words_first or (not matched and len(holding)):  # no document close in meaning holds... its rare words
            by_words, matched = rare, True
            if not words_first:  # ... and only the documents that hold them are ranked
                within = holding
                pool = vote_pool(within)
        elif not matched and len(held := self._term_holders(query, content, within, restrict, subject)):
            by_words, matched = sorted(content), True  # one term ("RAG") the embedder reads poorly: its holders
            within = held
            pool = vote_pool(within)
        routed: list[RoutedTopic] = []
        if self.index.topics:
            sims = self.index.topic_embeddings @ qvec
            weights: dict[int, float] = {}
            for rank, hit in enumerate(pool):
                if hit.topic >= 0:
                    vote = 1.0 if words_first else max(hit.score, 0.0)  # by words: every holder votes by rank
                    weights[hit.topic] = weights.get(hit.topic, 0.0) + vote / (1.0 + rank / 10)
            total = sum(weights.values()) or 1.0
            scored = []
            for row, topic in enumerate(self.index.topics):
                if restrict and topic.id not in restrict:
                    continue
                votes = weights.get(topic.id, 0.0) / total
                w = 0.0 if words_first else cfg.topic_similarity_weight  # by words: the holders' topics
                scored.append((w * float(sims[row]) + (1.0 - w) * votes, float(sims[row]), votes, topic))
            scored.sort(key=lambda s: -s[0])
            top_score = scored[0][0] if scored else 0.0
            for score, sim, votes, topic in scored[: cfg.k_topics]:
                if routed and score < cfg.keep_ratio * top_score:
                    break
                routed.append(
                    RoutedTopic(topic.id, topic.label, topic.size, round(score, 4), round(sim, 4), round(votes, 4))
                )
        chosen = [t.id for t in routed]
        # Documents come from the routed topics plus the outlier pool, so nothing relevant is hidden by clustering;
        # found by words, from every document that holds them (in the topics a user named), whatever its topic.
        search_topics = (restrict or None) if by_words else (chosen + [-1]) if chosen else None
        hits = (
            self.search(
                query, k=k_docs, topics=search_topics, qvec=qvec, dense_all=dense_all, lexical=lexical, within=within
            )
            if matched
            else []
        )
        outliers_searched = self.outlier_pool > 0 and (search_topics is None or -1 in search_topics)
        return Routing(
            query,
            routed if matched else [],
            hits,
            matched,
            outliers_searched,
            self.outlier_pool,
            round(best, 4),
            restrict,
            by_words,
        )

    RARE_SHARE = 0.02  # a word in at most 2% of the documents is rare enough to match on
    WORDS_FIRST_MAX = 3  # a query of at most this many words, all rare, may rank the documents that hold them
    WORDS_FIRST_CHECK = 10  # ... when fewer than half of its 10 closest documents by meaning hold them
    QUESTION_WORDS = "author authors paper papers study studies work article document propose proposed introduce wrote written write publish published approach method first influential latest"

    @functools.cached_property
    def _question_words(self) -> set[str]:
        """Stems of words that ask about documents rather than name a subject ('who is the author of X?')."""
        return set(tokenize(self.QUESTION_WORDS, stem=self.index.lexical.stem))

    def holders(self, word: str, within: np.ndarray | None = None) -> np.ndarray:
        """The rows (of `within`) holding a stemmed word, ascending."""
        docs = rows_holding(self.index.lexical, [word])
        return docs if within is None else np.intersect1d(docs, within)

    def rare_limit(self) -> int:
        """The most documents a word may be in and still count as rare."""
        return max(1, int(self.RARE_SHARE * len(self.doc_ids)))

    def _term_holders(
        self, query: str, content: set[str], within: np.ndarray | None, restrict: list[int], subject: bool = False
    ) -> np.ndarray:
        """For a query of one term written as a name or acronym ('RAG', 'GPT-4', 'LoRA'), which the embedder
        reads poorly: the rows (of `within`, in the restricted topics) that hold it; else none. Inside
        restricted topics ('which of those mention reinforcement learning?'), or for a subject read from a
        question (up to three words: 'trade'), the rows there that hold every word of any query: a narrowing
        asks which of them say it."""
        none = np.zeros(0, dtype=np.int64)
        if (restrict or (subject and len(content) <= 3)) and content:
            rows = rows_holding(self.index.lexical, sorted(content))
            rows = rows if within is None else np.intersect1d(rows, within)
            return rows[np.isin(self.topic_of[rows], restrict)] if restrict else rows
        if len(content) != 1:
            return none
        stem = self.index.lexical.stem
        (word,) = content
        written = [p for p in PIECES.findall(query) if word in tokenize(p, stem=stem)]
        if not any(sum(ch.isupper() for ch in p) >= 2 or any(ch.isdigit() for ch in p) for p in written):
            return none  # a plain word ("tell me more", "what happened"): no term to look up
        rows = self.holders(word, within)
        return rows[np.isin(self.topic_of[rows], restrict)] if restrict else rows

    def _rare(self, query: str, within: np.ndarray | None = None) -> tuple[list[str], np.ndarray]:
        """The query's rare (stemmed) subject words and the rows (of `within`) that hold all of them; when no
        document holds them all, the most common of them is dropped until some do (none when no word is rare)."""
        lexical = self.index.lexical
        indptr = lexical.weights.indptr
        limit = self.rare_limit()
        df: dict[str, int] = {}
        for word in dict.fromkeys(tokenize(query, stem=lexical.stem)):
            term = lexical.vocab.get(word)
            if word not in self._question_words and term is not None and indptr[term + 1] - indptr[term] <= limit:
                df[word] = int(indptr[term + 1] - indptr[term])
        rare = sorted(df, key=lambda w: df[w])  # rarest first
        while rare:
            rows = within
            for word in rare:
                term = lexical.vocab[word]
                docs = np.asarray(lexical.weights.indices[indptr[term] : indptr[term + 1]], dtype=np.int64)
                rows = np.sort(docs) if rows is None else np.intersect1d(rows, docs)
            if rows is not None and len(rows):
                return rare, np.asarray(rows, dtype=np.int64)
            rare = rare[:-1]
        return [], np.zeros(0, dtype=np.int64)
