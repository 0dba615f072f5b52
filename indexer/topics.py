"""Stage 5, topics: BERTopic over the precomputed embeddings and clusters (no refits).

BERTopic gets a no-op reduction and a pass-through cluster model, so its only work is the
c-TF-IDF keywords and the KeyBERTInspired and MaximalMarginalRelevance representations.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from topicchat.indexer.cluster import centroids
from topicchat.indexer.embed import text_key
from topicchat.models.base import Embedder

log = logging.getLogger(__name__)


class LabelSource(StrEnum):
    """Who wrote a topic's label."""

    LLM = "llm"  # the generator's reply, validated
    KEYWORDS = "keywords"  # the top keywords (no generator, or its replies were rejected)


_OLD_REJECTED = "keywords (LLM reply rejected: "


@dataclass
class TopicRecord:
    """One topic as the index stores it (labels are filled in by the label stage)."""

    id: int
    size: int
    keywords: dict[str, list[tuple[str, float]]]
    representative_doc_ids: list[str]
    label: str = ""
    label_source: LabelSource = LabelSource.KEYWORDS
    label_rejected: str | None = None  # why the generator's label was not used, when it was not
    summary: str = ""
    quality: dict[str, float] = field(default_factory=dict)
    level: int = 0  # 0: a leaf (documents belong to leaves); 1, 2, ...: coarser levels of the topic tree
    parent: int | None = None
    children: list[int] = field(default_factory=list)

    def top_keywords(self, n: int | None = None, kind: str = "keybert") -> list[str]:
        """The topic's first `n` keywords of one representation, c-TF-IDF when that one is empty."""
        pairs = self.keywords.get(kind) or self.keywords.get("ctfidf") or []
        return [w for w, _ in pairs][:n]

    def keyword_labels(self) -> list[str]:
        """Readable labels from the topic's own key phrases, best first: its first two-word phrases, then
        its top two words joined; title-cased (a word with capitals of its own, like "LLMs", is kept)."""
        words = self.top_keywords(10)
        phrases = [w for w in words if " " in w]
        options = [*phrases[:3]]
        if len(words) >= 2:
            options.append(f"{words[0]} and {words[1]}")
        options += words[:1]
        return [" ".join(w if w != w.lower() else w.capitalize() for w in o.split()) for o in options]

    def keyword_label(self) -> str:
        """The best label made of the topic's own key phrases: the fallback for LLM labels (never a list)."""
        options = self.keyword_labels()
        return options[0] if options else f"Topic {self.id}"

    def to_json(self) -> dict:
        extra = {"label_rejected": self.label_rejected} if self.label_rejected else {}
        return {
            "id": self.id,
            "size": self.size,
            "label": self.label,
            "label_source": str(self.label_source),
            **extra,
            "summary": self.summary,
            "keywords": {k: [[w, round(float(s), 4)] for w, s in v] for k, v in self.keywords.items()},
            "representative_doc_ids": self.representative_doc_ids,
            "quality": self.quality,
            "level": self.level,
            "parent": self.parent,
            "children": self.children,
        }

    @classmethod
    def from_json(cls, data: dict) -> TopicRecord:
        source, rejected = str(data.get("label_source", "keywords")), data.get("label_rejected")
        if source.startswith(_OLD_REJECTED):  # indexes written before the reason had its own field
            source, rejected = "keywords", "LLM reply rejected: " + source[len(_OLD_REJECTED) : -1]
        return cls(
            id=int(data["id"]),
            size=int(data["size"]),
            keywords={k: [(str(w), float(s)) for w, s in v] for k, v in data["keywords"].items()},
            representative_doc_ids=[str(x) for x in data["representative_doc_ids"]],
            label=data.get("label", ""),
            label_source=LabelSource(source),
            label_rejected=rejected,
            summary=data.get("summary", ""),
            quality=dict(data.get("quality", {})),
            level=int(data.get("level", 0)),
            parent=None if data.get("parent") is None else int(data["parent"]),
            children=[int(c) for c in data.get("children", [])],
        )


class _CorpusAwareBackend:
    """A BERTopic embedding backend that reuses corpus vectors and embeds only new strings (words)."""

    def __init__(self, embedder: Embedder, texts: Sequence[str], vectors: np.ndarray) -> None:
        from bertopic.backend import BaseEmbedder

        self._known = {text_key(t): vectors[i] for i, t in enumerate(texts)}
        self._embedder = embedder
        outer = self

        class Backend(BaseEmbedder):
            def embed(self, documents, verbose=False):  # noqa: ARG002 - BERTopic's signature
                return outer.embed(list(documents))

        self.backend = Backend()

    def embed(self, strings: list[str]) -> np.ndarray:
        out = np.zeros((len(strings), self._embedder.dim), dtype=np.float32)
        keys = [text_key(s) for s in strings]
        todo = [i for i, k in enumerate(keys) if k not in self._known]
        if todo:
            fresh = self._embedder.embed([strings[i] for i in todo])
            for j, i in enumerate(todo):
                self._known[keys[i]] = fresh[j]
        for i, k in enumerate(keys):
            out[i] = self._known[k]
        return out


VOCABULARY_SAMPLE_ABOVE = 50_000  # past this many documents, keyword terms come from a sample
VOCABULARY_SAMPLE = 20_000


def sampled_vocabulary(texts: Sequence[str], words: dict, seed: int) -> list[str] | None:
    """For large corpora, the terms (words and word pairs) of a seeded sample of `VOCABULARY_SAMPLE`
    documents that occur in at least 2 of them; None (every term) below `VOCABULARY_SAMPLE_ABOVE`.

    All 74,723 arxiv_cs abstracts hold 4.0 million terms: counting them cost 1.07 GB of the build's peak
    memory, a 20,000-abstract sample's 264 thousand terms 0.17 GB, and 95% of each topic's top-10 c-TF-IDF
    keywords stay the same (benchmarks/RESULTS.md)."""
    if len(texts) <= VOCABULARY_SAMPLE_ABOVE:
        return None
    from sklearn.feature_extraction.text import CountVectorizer

    rows = np.random.default_rng(seed).choice(len(texts), size=VOCABULARY_SAMPLE, replace=False)
    try:
        terms = CountVectorizer(min_df=2, **words).fit([texts[i] for i in sorted(rows)]).vocabulary_
    except ValueError:  # an empty vocabulary: count every term instead
        return None
    return sorted(terms)


def build_topics(
    texts: Sequence[str],
    doc_ids: Sequence[str],
    embeddings: np.ndarray,
    labels: np.ndarray,
    embedder: Embedder,
    top_n_words: int = 10,
    *,
    seed: int,
    n_representative: int = 5,
    backend: _CorpusAwareBackend | None = None,
) -> tuple[list[TopicRecord], np.ndarray]:
    """Keywords by three representations, representative documents and topic embeddings.

    `backend` shares word embeddings between calls (one per level of the topic tree).
    """
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    topic_ids, topic_vectors = centroids(embeddings, labels)
    if len(topic_ids) == 0:
        return [], np.zeros((0, embeddings.shape[1]), dtype=np.float32)
    # BERTopic fits the vectorizer on one joined document per topic, so min_df counts topics:
    # anything above 1 would drop the words that make a topic distinct.
    words = {"stop_words": "english", "ngram_range": (1, 2), "token_pattern": r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b"}
    vectorizer = CountVectorizer(min_df=1, vocabulary=sampled_vocabulary(texts, words, seed), **words)
    model = BERTopic(
        embedding_model=(backend or _CorpusAwareBackend(embedder, texts, embeddings)).backend,
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=vectorizer,
        # Words frequent in every topic ("language models" in a cs.CL corpus) must not lead them all.
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model={
            "KeyBERT": KeyBERTInspired(top_n_words=top_n_words, random_state=seed),
            "MMR": MaximalMarginalRelevance(diversity=0.2, top_n_words=top_n_words),
        },
        top_n_words=top_n_words,
        calculate_probabilities=False,
    )
    try:
        model.fit(list(texts), embeddings=embeddings, y=labels)
    except ValueError as exc:
        # Tiny or single-word corpora can leave c-TF-IDF with an empty vocabulary.
        log.warning("BERTopic could not extract keywords (%s); topics keep empty keyword lists.", exc)
        model = None
    # BERTopic renumbers topics by size (ties in its own order): translate ours to its ids.
    fitted = np.asarray(model.topics_) if model is not None else labels

    records = []
    for row, topic in enumerate(topic_ids.tolist()):
        members = np.flatnonzero(labels == topic)
        sims = embeddings[members] @ topic_vectors[row]
        top = members[np.argsort(-sims)[:n_representative]]
        keywords: dict[str, list[tuple[str, float]]] = {"ctfidf": [], "keybert": [], "mmr": []}
        if model is not None:
            theirs = int(fitted[members[0]])
            keywords["ctfidf"] = _words(model.get_topic(theirs))
            keywords["keybert"] = _words(model.topic_aspects_.get("KeyBERT", {}).get(theirs, []))
            keywords["mmr"] = _words(model.topic_aspects_.get("MMR", {}).get(theirs, []))
        records.append(
            TopicRecord(
                id=int(topic),
                size=len(members),
                keywords=keywords,
                representative_doc_ids=[str(doc_ids[i]) for i in top],
            )
        )
    return records, topic_vectors


def _words(pairs) -> list[tuple[str, float]]:
    if not pairs:
        return []
    return [(str(w), float(s)) for w, s in pairs if str(w).strip()]
