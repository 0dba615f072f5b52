"""Quality evaluation: clusters vs gold labels, topic coherence and diversity, retrieval (BEIR, self-retrieval)."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from topicchat.app.settings import RetrievalSettings
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.store import TopicIndex, load_index, write_topic_quality
from topicchat.indexer.tree import ancestor_at
from topicchat.models.base import Embedder

# The token pattern and stop words of the c-TF-IDF vectorizer (indexer.topics), lower-cased, no stemming.
_WORD = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b")
EPS = 1e-12
SYSTEMS = ("bm25", "dense", "topicchat")


def _num(value: Any) -> Any:
    """NaN becomes None (valid JSON); floats are rounded for reports."""
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else round(float(value), 4)
    return value


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A left-aligned plain-text table."""
    cells = [[("-" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def _as_index(index: TopicIndex | Path | str) -> TopicIndex:
    return index if isinstance(index, TopicIndex) else load_index(index)


@dataclass
class ClusteringReport:
    """Agreement between topics and a gold label column (outliers form their own cluster -1)."""

    label_col: str
    documents: int
    labels: int
    topics: int
    outlier_share: float
    nmi: float
    ari: float
    clustered: int
    nmi_clustered: float | None
    ari_clustered: float | None
    level: int = 0  # the topic-tree level scored (0: the leaves)

    def to_json(self) -> dict[str, Any]:
        return {k: _num(v) for k, v in asdict(self).items()}

    def table(self) -> str:
        return _table(("metric", "value"), [(k, _num(v)) for k, v in asdict(self).items()])


def cluster_agreement(
    topics: Sequence[int] | np.ndarray, labels: Sequence[Any], label_col: str = "label"
) -> ClusteringReport:
    """NMI/ARI of topic assignments vs gold labels, over all documents and over clustered ones only."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    assigned = np.asarray(topics)
    series = pd.Series(list(labels), dtype=object)
    known = series.notna().to_numpy()
    found: np.ndarray = assigned[known]
    gold = series[known].astype(str).to_numpy()
    clustered: np.ndarray = found != -1
    both = int(clustered.sum()) > 0
    return ClusteringReport(
        label_col,
        len(found),
        len(set(gold.tolist())),
        len(set(found[clustered].tolist())),
        float((~clustered).mean()) if len(found) else 0.0,
        float(normalized_mutual_info_score(gold, found)),
        float(adjusted_rand_score(gold, found)),
        int(clustered.sum()),
        float(normalized_mutual_info_score(gold[clustered], found[clustered])) if both else None,
        float(adjusted_rand_score(gold[clustered], found[clustered])) if both else None,
    )


def level_labels(index: TopicIndex, level: int) -> np.ndarray:
    """Each document's topic at one level of the tree (its leaf's ancestor there; -1 stays -1)."""
    leaf = index.documents["topic"].to_numpy()
    ancestor = ancestor_at(index.topics, index.nodes, level)
    return np.array([ancestor.get(int(t), -1) for t in leaf], dtype=np.int64)


def evaluate_clustering(index: TopicIndex | Path | str, label_col: str, level: int | None = None) -> ClusteringReport:
    """Compare an index's topics with the metadata column `label_col` (NMI, ARI, outlier share), at the
    tree level `level`, or by default at the level whose node count is nearest the number of labels."""
    index = _as_index(index)
    docs = index.documents
    if label_col not in docs.columns:
        raise TopicchatError(
            f"The index has no column '{label_col}' to compare topics with. Its columns are: "
            f"{', '.join(map(str, docs.columns))}."
        )
    gold = docs[label_col].tolist()
    if level is None:
        wanted = len(set(g for g in gold if g is not None and g == g))
        counts = [len(index.nodes_at(lv)) for lv in range(index.levels)]
        level = min(range(len(counts)), key=lambda lv: (abs(counts[lv] - wanted), lv))
    if not 0 <= level < index.levels:
        raise TopicchatError(f"The index's topic tree has levels 0 to {index.levels - 1}, not {level}.")
    report = cluster_agreement(level_labels(index, level), gold, label_col)
    report.level = level
    return report


def _doc_terms(text: str, wanted: set[str], stop: frozenset[str] | Any) -> set[str]:
    """Wanted unigrams and bigrams in a text; bigrams join neighbours after stop-word removal, as c-TF-IDF does."""
    tokens = [t for t in _WORD.findall(text.lower()) if t not in stop]
    found = {t for t in tokens if t in wanted}
    found.update(p for p in (f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)) if p in wanted)
    return found


def npmi_pair(n_i: int, n_j: int, n_ij: int, n: int) -> float:
    """NPMI from document frequencies: -1 when the words never co-occur, 1 when they always do."""
    if n_ij == 0 or n == 0:
        return -1.0
    p_i, p_j, p_ij = n_i / n, n_j / n, n_ij / n
    if p_ij >= 1.0:
        return 1.0
    value = math.log((p_ij + EPS) / (p_i * p_j)) / -math.log(p_ij + EPS)
    return max(-1.0, min(1.0, value))


def npmi_coherence(topic_words: Sequence[Sequence[str]], texts: Sequence[str]) -> list[float | None]:
    """Mean pairwise NPMI of each word list, by document co-occurrence in `texts` (None under two words)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as stop

    vocab = sorted({w.lower() for words in topic_words for w in words})
    column = {w: i for i, w in enumerate(vocab)}
    rows, cols, wanted = [], [], set(column)
    for doc, text in enumerate(texts):
        for term in _doc_terms(text, wanted, stop):
            rows.append(doc)
            cols.append(column[term])
    presence = sparse.csc_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab)))
    out: list[float | None] = []
    for words in topic_words:
        ids = [column[w.lower()] for w in dict.fromkeys(words)]
        if len(ids) < 2:
            out.append(None)
            continue
        sub = presence[:, ids]
        co = (sub.T @ sub).toarray()
        pairs = [
            npmi_pair(int(co[a, a]), int(co[b, b]), int(co[a, b]), len(texts))
            for a in range(len(ids))
            for b in range(a + 1, len(ids))
        ]
        out.append(float(np.mean(pairs)))
    return out


def topic_diversity(topic_words: Sequence[Sequence[str]], top_n: int = 10) -> float:
    """Share of unique words among all topics' top-n words (1 = no word shared between topics)."""
    words = [w for ws in topic_words for w in list(ws)[:top_n]]
    return len(set(words)) / len(words) if words else 0.0


@dataclass
class TopicQuality:
    """Quality figures of one topic."""

    id: int
    size: int
    label: str
    words: list[str]
    npmi: float | None


@dataclass
class TopicQualityReport:
    """NPMI coherence and diversity of the topics' top c-TF-IDF words."""

    top_n: int
    documents: int
    npmi: float | None
    diversity: float
    topics: list[TopicQuality] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = {k: _num(v) for k, v in asdict(self).items() if k != "topics"}
        data["n_topics"] = len(self.topics)
        data["topics"] = [{k: _num(v) for k, v in asdict(t).items()} for t in self.topics]
        return data

    def table(self) -> str:
        rows = [(t.id, t.size, _num(t.npmi), ", ".join(t.words[:6])) for t in self.topics]
        npmi = "-" if self.npmi is None else f"{self.npmi:.4f}"
        summary = f"topics: {len(self.topics)}  mean NPMI: {npmi}  diversity: {self.diversity:.4f}"
        return _table(("topic", "size", "npmi", "top words"), rows) + "\n" + summary


def topic_quality(index: TopicIndex | Path | str, top_n: int = 10) -> TopicQualityReport:
    """NPMI (against the corpus's own texts) and diversity of each topic's top-n c-TF-IDF words."""
    index = _as_index(index)
    words = [[w for w, _ in t.keywords.get("ctfidf", [])][:top_n] for t in index.topics]
    texts = index.documents["text"].tolist()
    scores = npmi_coherence(words, texts)
    per_topic = [TopicQuality(t.id, t.size, t.label, w, s) for t, w, s in zip(index.topics, words, scores, strict=True)]
    valid = [s for s in scores if s is not None]
    mean = float(np.mean(valid)) if valid else None
    return TopicQualityReport(top_n, len(texts), mean, topic_diversity(words, top_n), per_topic)


def store_quality(index_path: Path | str, report: TopicQualityReport) -> Path:
    """Record each topic's NPMI in the index (through the store, which re-signs the manifest)."""
    return write_topic_quality(Path(index_path), {t.id: t.npmi for t in report.topics if t.npmi is not None}, "npmi")


def ndcg_at_k(ranked: Sequence[Any], grades: Mapping[Any, float], k: int) -> float:
    """nDCG@k with linear graded gains, log2(rank+1) discount, ideal ranking from the judgements."""
    dcg = sum(grades.get(d, 0.0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if grades.get(d, 0.0) > 0)
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[Any], relevant: set[Any], k: int) -> float:
    """Share of the relevant documents in the top k."""
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[Any], relevant: set[Any], k: int) -> float:
    """1/rank of the first relevant document in the top k (0 when none)."""
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if d in relevant), 0.0)


@dataclass
class RetrievalReport:
    """Ranking metrics (means over queries) per system."""

    name: str
    embedder: str
    documents: int
    queries: int
    systems: dict[str, dict[str, float]]
    notes: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["systems"] = {s: {m: _num(v) for m, v in ms.items()} for s, ms in self.systems.items()}
        data["timings_s"] = {k: _num(v) for k, v in self.timings_s.items()}
        return data

    def table(self) -> str:
        metrics = list(next(iter(self.systems.values()), {}))
        rows = [[s] + [_num(ms.get(m)) for m in metrics] for s, ms in self.systems.items()]
        head = f"{self.name}: {self.documents} documents, {self.queries} queries, embedder {self.embedder}"
        return head + "\n" + _table(["system"] + metrics, rows)


@dataclass
class BeirData:
    """A BEIR folder in memory: corpus in file order, queries, and graded judgements."""

    ids: list[str]
    titles: list[str]
    texts: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, float]]


def load_beir(folder: Path | str) -> BeirData:
    """Read corpus.jsonl, queries.jsonl and qrels.tsv (a header line is skipped)."""
    folder = Path(folder)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (folder / name).exists():
            raise TopicchatError(f"{folder} is not a BEIR folder: {name} is missing.")
    with (folder / "corpus.jsonl").open(encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh if line.strip()]
    with (folder / "queries.jsonl").open(encoding="utf-8") as fh:
        queries = {str(q["_id"]): str(q.get("text") or "") for q in map(json.loads, filter(str.strip, fh))}
    qrels: dict[str, dict[str, float]] = {}
    for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        try:
            grade = float(parts[2])
        except ValueError:
            continue  # the header line
        qrels.setdefault(parts[0].strip(), {})[parts[1].strip()] = grade
    ids, titles, texts = ([str(d.get(key) or "") for d in docs] for key in ("_id", "title", "text"))
    return BeirData(ids, titles, texts, queries, qrels)


def _resolve_embedder(embedder: Embedder | str, dtype: str = "auto", max_tokens: int | None = None) -> Embedder:
    if isinstance(embedder, str):
        from topicchat.models.registry import load_embedder

        return load_embedder(embedder, dtype, None, max_tokens)
    return embedder


def _search_index(ids: list[str], titles: list[str], texts: list[str], vectors: np.ndarray) -> TopicIndex:
    """A topic-less in-memory TopicIndex (exact faiss, BM25 over title + text) for app.route.Retriever."""
    import faiss

    from topicchat.indexer.ann import LexicalIndex

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    frame = pd.DataFrame({"doc_id": ids, "title": titles, "text": texts, "topic": -1})
    lexical = LexicalIndex.build([f"{t}\n{x}" for t, x in zip(titles, texts, strict=True)])
    empty = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    return TopicIndex(Path("."), {}, frame, vectors, flat, [], empty, lexical)


def _bm25_top(index: TopicIndex, query: str, depth: int) -> np.ndarray:
    """Rows of the `depth` best BM25 scores that share a word with the query, best first."""
    lexical = index.lexical.scores(query)
    top = np.argsort(-lexical, kind="stable")[:depth]
    return top[lexical[top] > 0]


def _rank_all(index: TopicIndex, embedder: Embedder, queries: list[str], depth: int) -> dict[str, list[list[int]]]:
    """Top-`depth` rows per query for BM25, dense (faiss) and the product's hybrid search."""
    from topicchat.app.route import Retriever

    retriever = Retriever(index, embedder, RetrievalSettings(candidates=max(100, depth)))
    qvecs = embedder.embed(queries) if queries else np.zeros((0, index.embeddings.shape[1]), np.float32)
    runs: dict[str, list[list[int]]] = {s: [] for s in SYSTEMS}
    depth = min(depth, len(index.documents))
    for query, qvec in zip(queries, qvecs, strict=True):
        runs["bm25"].append(_bm25_top(index, query, depth).tolist())
        _, rows = index.faiss.search(qvec[None, :].astype(np.float32), depth)
        runs["dense"].append([int(r) for r in rows[0] if r >= 0])
        runs["topicchat"].append([h.row for h in retriever.search(query, k=depth, qvec=qvec)])
    return runs


def _score(
    runs: dict[str, list[list[int]]],
    grades: Sequence[Mapping[Any, float]],
    k_values: Sequence[int],
    mrr_k: int,
    ndcg: bool,
) -> dict[str, dict[str, float]]:
    """Mean nDCG@k (optional), recall@k and MRR@mrr_k over queries, per system."""
    systems = {}
    for system, ranked_rows in runs.items():
        values: dict[str, list[float]] = {}
        for ranked, graded in zip(ranked_rows, grades, strict=True):
            relevant = {d for d, g in graded.items() if g > 0}
            for k in k_values:
                if ndcg:
                    values.setdefault(f"ndcg@{k}", []).append(ndcg_at_k(ranked, graded, k))
                values.setdefault(f"recall@{k}", []).append(recall_at_k(ranked, relevant, k))
            values.setdefault(f"mrr@{mrr_k}", []).append(reciprocal_rank(ranked, relevant, mrr_k))
        systems[system] = {m: float(np.mean(v)) for m, v in values.items()}
    return systems


def evaluate_retrieval(
    beir_dir: Path | str,
    embedder_spec: Embedder | str = "sentence-transformers/all-MiniLM-L6-v2",
    k_values: Sequence[int] = (10, 100),
    max_queries: int | None = None,
    max_docs: int | None = None,
    cache_dir: Path | None = None,
    dtype: str = "auto",
) -> RetrievalReport:
    """nDCG@k, recall@k and MRR@max(k) of BM25, dense and the product's hybrid search on a BEIR folder.

    Only queries with at least one positive judgement count. `max_queries`/`max_docs` make a smoke
    subset: the first queries, and the corpus cut to their judged documents plus the first `max_docs`.
    """
    from topicchat.indexer.embed import embed_documents

    data = load_beir(beir_dir)
    qids = [q for q in data.queries if any(g > 0 for g in data.qrels.get(q, {}).values())][:max_queries]
    keep: Sequence[int] = range(len(data.ids))
    if max_docs is not None:
        judged = {d for q in qids for d in data.qrels[q]}
        keep = [i for i, d in enumerate(data.ids) if i < max_docs or d in judged]
    ids, titles, texts = ([seq[i] for i in keep] for seq in (data.ids, data.titles, data.texts))
    embedder = _resolve_embedder(embedder_spec, dtype)
    started = time.perf_counter()
    docs_in = [f"{t}\n{x}" for t, x in zip(titles, texts, strict=True)]
    vectors, _ = embed_documents(embedder, docs_in, cache_dir, show_progress=False)
    embedded = time.perf_counter()
    index = _search_index(ids, titles, texts, vectors)
    depth = max(k_values)
    row_of = {d: i for i, d in enumerate(ids)}
    grades = [{row_of.get(d, d): g for d, g in data.qrels[q].items()} for q in qids]  # absent docs keep their id
    runs = _rank_all(index, embedder, [data.queries[q] for q in qids], depth)
    systems = _score(runs, grades, k_values, depth, ndcg=True)
    unreachable = sum(1 for graded in grades for d, g in graded.items() if g > 0 and isinstance(d, str))
    notes = {
        "judged_not_in_corpus": unreachable,
        "lexical_weight": RetrievalSettings().lexical_weight,
        "candidates": max(100, depth),
    }
    timings = {"embed": embedded - started, "search": time.perf_counter() - embedded}
    return RetrievalReport(Path(beir_dir).name, embedder.model_id, len(ids), len(qids), systems, notes, timings)


SELF_RETRIEVAL_FIELDS = ("text", "as-built")


def evaluate_self_retrieval(
    index: TopicIndex | Path | str,
    embedder: Embedder | str | None = None,
    sample: int | None = None,
    seed: int = 42,
    fields: str = "text",
) -> RetrievalReport:
    """Title -> own document: recall@1, recall@10 and MRR@100 of BM25, dense and hybrid over an index.

    Documents whose title was filled in from the text's start (no real title) are skipped.
    `fields="text"` (the default) searches a BM25 index over the texts alone, so a title query has
    to find its abstract by content rather than by matching itself; `fields="as-built"` uses the
    index's own BM25, which covers title + text (what the chat searches). Dense search always runs
    on the stored text embeddings.
    """
    if fields not in SELF_RETRIEVAL_FIELDS:
        raise TopicchatError(f"fields must be one of {', '.join(SELF_RETRIEVAL_FIELDS)}, not {fields!r}.")
    index = _as_index(index)
    built_with = index.embedder_name
    spec = index.manifest.get("parameters", {}).get("embedding_model") or built_with
    embedder = _resolve_embedder(
        embedder if embedder is not None else spec, index.embedding_dtype, index.embedding_max_tokens
    )
    if built_with and embedder.name != built_with:
        raise TopicchatError(f"The index was embedded with '{built_with}' but the queries would use '{embedder.name}'.")
    if fields == "text":  # built after the embedder check, so a refused run does no work
        from dataclasses import replace

        from topicchat.indexer.ann import LexicalIndex

        index = replace(index, lexical=LexicalIndex.build(index.documents["text"].astype(str).tolist()))
    docs = index.documents
    titles = docs["title"].fillna("").astype(str).str.strip()
    titled = docs["has_title"].to_numpy(dtype=bool)
    eligible = np.flatnonzero(titled)
    if sample is not None and sample < len(eligible):
        eligible = np.sort(np.random.default_rng(seed).choice(eligible, size=sample, replace=False))
    started = time.perf_counter()
    runs = _rank_all(index, embedder, [titles.iloc[r] for r in eligible], 100)
    systems = _score(runs, [{int(r): 1.0} for r in eligible], (1, 10), 100, ndcg=False)
    notes = {"untitled_skipped": int((~titled).sum()), "sample": sample, "seed": seed, "lexical_fields": fields}
    name = f"self-retrieval:{Path(index.path).name}"
    timings = {"search": time.perf_counter() - started}
    return RetrievalReport(name, embedder.model_id, len(docs), len(eligible), systems, notes, timings)


@dataclass
class AnswersReport:
    """Answer quality on questions with known relevant documents: citations, checked prose, latency."""

    questions: int
    k: int
    recall_at_k: float
    precision: float
    prose_written: int
    prose_kept_share: float | None
    prose_supported_share: float | None
    first_token_p50_s: float
    first_token_p95_s: float
    total_p50_s: float
    total_p95_s: float
    generator: str
    per_question: list[dict[str, Any]] = field(default_factory=list)
    # plain BM25 and dense top-k over the same index and questions: {"bm25": {"recall": r, "precision": p}, ...}
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    # how well the sentence shown under each citation tells the relevant cited documents from the others
    # (share of (relevant, not relevant) pairs of one answer ordered right by cosine to the question),
    # for the evidence sentence and for the text's first sentence; None when no answer cited both kinds
    evidence_pair_accuracy: float | None = None
    first_sentence_pair_accuracy: float | None = None
    evidence_pairs: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: _num(v) for k, v in asdict(self).items()}

    def table(self) -> str:
        rows: list[list[Any]] = [
            ["questions", self.questions],
            ["generator", self.generator],
            [f"citation recall@{self.k}", self.recall_at_k],
            ["citation precision", self.precision],
            ["prose sentences written", self.prose_written],
            ["share kept (cited, supported, no copy, numbers found)", self.prose_kept_share],
            ["share supported by the cited source", self.prose_supported_share],
            ["first token p50 / p95 (s)", f"{self.first_token_p50_s:.2f} / {self.first_token_p95_s:.2f}"],
            ["whole answer p50 / p95 (s)", f"{self.total_p50_s:.2f} / {self.total_p95_s:.2f}"],
        ]
        for name, scores in self.baselines.items():
            rows.append(
                [f"{name} top-{self.k}: recall / precision", f"{scores['recall']:.4f} / {scores['precision']:.4f}"]
            )
        if self.evidence_pair_accuracy is not None and self.first_sentence_pair_accuracy is not None:
            rows.append(
                [
                    f"sentence shown tells relevant from other cited documents ({self.evidence_pairs} pairs): "
                    "evidence / first sentence",
                    f"{self.evidence_pair_accuracy:.4f} / {self.first_sentence_pair_accuracy:.4f}",
                ]
            )
        return _table(["measure", "value"], rows)


def load_answer_questions(path: Path | str) -> list[tuple[str, set[str]]]:
    """JSONL lines {"question": ..., "relevant": [doc ids]} ("relevant_ids" / "doc_ids" work too)."""
    path = Path(path)
    if not path.exists():
        raise TopicchatError(f"The question file {path} does not exist.")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TopicchatError(f"{path}, line {number}: not JSON ({exc.msg}).") from None
        relevant = row.get("relevant", row.get("relevant_ids", row.get("doc_ids")))
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not isinstance(relevant, list):
            raise TopicchatError(f'{path}, line {number}: expected {{"question": "...", "relevant": ["doc id", ...]}}.')
        out.append((row["question"], {str(r) for r in relevant}))
    if not out:
        raise TopicchatError(f"The question file {path} holds no questions.")
    return out


def _pair_accuracy(scores: Sequence[float], relevant: Sequence[bool]) -> tuple[int, int]:
    """(pairs ordered right, pairs) over every (relevant, not relevant) pair; a tie counts half."""
    right, pairs = 0.0, 0
    for a, rel_a in zip(scores, relevant, strict=True):
        for b, rel_b in zip(scores, relevant, strict=True):
            if rel_a and not rel_b:
                pairs += 1
                right += 1.0 if a > b else 0.5 if a == b else 0.0
    return int(round(2 * right)), pairs  # doubled, so halves stay integers


def evaluate_answers(assistant: Any, questions: Sequence[tuple[str, set[str]]], k: int = 5) -> AnswersReport:
    """Ask every question as a new chat, timing the first streamed text and the whole answer; score the
    citations against plain BM25 and dense top-k, and the evidence sentences against first sentences."""
    from topicchat.app.answer import DoneEvent, TokenEvent
    from topicchat.indexer.ann import sentences

    index = assistant.index
    ids = index.documents["doc_id"].astype(str).tolist()
    embedder = assistant.retriever.embedder
    recalls, precisions, firsts, totals, rows = [], [], [], [], []
    base: dict[str, list[tuple[float, float]]] = {"bm25": [], "dense": []}
    written = kept = supported = 0
    right = {"evidence": 0, "first": 0}
    pairs = 0
    for question, relevant in questions:
        started = time.perf_counter()
        first, answer = None, None
        for event in assistant.stream(question):
            if isinstance(event, TokenEvent) and first is None:
                first = time.perf_counter() - started
            if isinstance(event, DoneEvent):
                answer = event.answer
        total = time.perf_counter() - started
        assert answer is not None
        cited = [c.doc_id for c in answer.citations]
        recall = recall_at_k(cited, relevant, k) if relevant else 0.0
        precision = len(set(cited) & relevant) / len(cited) if cited else 0.0
        recalls.append(recall)
        precisions.append(precision)
        firsts.append(first if first is not None else total)
        totals.append(total)
        if answer.prose is not None:
            written += answer.prose.written
            kept += answer.prose.kept
            supported += answer.prose.supported
        qvec = embedder.embed([question])[0]
        cosine = np.asarray(index.embeddings @ qvec.astype(index.embeddings.dtype), dtype=np.float32)  # exact
        dense_rows = np.argsort(-cosine, kind="stable")[:k]
        for name, found in (("bm25", _bm25_top(index, question, k)), ("dense", dense_rows)):
            got = [ids[r] for r in found]
            base[name].append(
                (
                    recall_at_k(got, relevant, k) if relevant else 0.0,
                    len(set(got) & relevant) / len(got) if got else 0.0,
                )
            )
        shown = [c for c in answer.citations if c.evidence]
        is_relevant = [c.doc_id in relevant for c in shown]
        if any(is_relevant) and not all(is_relevant):
            firsts_of = [(sentences(c.text) or [""])[0] for c in shown]
            vectors = embedder.embed([c.evidence.rstrip("…") for c in shown] + firsts_of)
            sims = vectors @ qvec.astype(vectors.dtype)
            for name, part in (("evidence", sims[: len(shown)]), ("first", sims[len(shown) :])):
                twice_right, n_pairs = _pair_accuracy(part.tolist(), is_relevant)
                right[name] += twice_right
            pairs += n_pairs
        rows.append(
            {
                "question": question,
                "recall": round(recall, 4),
                "precision": round(precision, 4),
                "seconds": round(total, 3),
            }
        )
    generator = getattr(assistant.generator, "model_id", None) or "none"
    return AnswersReport(
        len(questions),
        k,
        float(np.mean(recalls)),
        float(np.mean(precisions)),
        written,
        kept / written if written else None,
        supported / written if written else None,
        float(np.percentile(firsts, 50)),
        float(np.percentile(firsts, 95)),
        float(np.percentile(totals, 50)),
        float(np.percentile(totals, 95)),
        generator,
        rows,
        {
            name: {"recall": float(np.mean([r for r, _ in v])), "precision": float(np.mean([p for _, p in v]))}
            for name, v in base.items()
        },
        right["evidence"] / (2 * pairs) if pairs else None,
        right["first"] / (2 * pairs) if pairs else None,
        pairs,
    )
