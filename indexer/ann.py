"""Stage 7, ann: a FAISS index over document embeddings plus a BM25 lexical index (hybrid retrieval)."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

EXACT_LIMIT = 50_000  # past this many documents a compressed IVF-PQ index replaces exact search
_TOKEN = re.compile(r"[a-z0-9][a-z0-9\-]*[a-z0-9]|[a-z0-9]")


def compressed_parameters(n: int, dim: int) -> dict[str, int]:
    """IVF-PQ settings from the corpus size: about 2 sqrt(n) lists (trained on 40 points per list), one 8-bit
    code per 8 dimensions (48 bytes for a 384-d vector instead of 1,536), and 1/8 of the lists probed per
    query (benchmarks/ann.py: recall@10 0.938 at 1/16, 0.962 at 1/8 on 74,723 arXiv abstracts). Every candidate is then rescored exactly from embeddings.npy (memory-mapped), so
    the codes only have to put the true neighbours among the candidates."""
    nlist = int(min(max(64, 2 * math.sqrt(n)), n // 40, 65_536))
    m = next(k for k in (dim // 8, dim // 4, dim // 2, dim) if k and dim % k == 0)
    nbits = 8 if n >= 10_000 else max(4, int(math.log2(max(n, 2))) - 2)  # k-means needs points per centroid
    return {"nlist": max(nlist, 1), "m": m, "nbits": nbits, "nprobe": max(8, nlist // 8)}


def build_faiss(embeddings: np.ndarray, exact_limit: int | None = None):
    """Exact inner-product search for corpora up to `exact_limit` (EXACT_LIMIT) documents, IVF-PQ past it."""
    import faiss

    exact_limit = EXACT_LIMIT if exact_limit is None else exact_limit
    n, dim = embeddings.shape
    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    index: Any
    if n <= exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        p = compressed_parameters(n, dim)
        index = faiss.index_factory(dim, f"IVF{p['nlist']},PQ{p['m']}x{p['nbits']}", faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        size = 40 * p["nlist"]
        train = vectors if n <= size else vectors[np.sort(rng.choice(n, size, replace=False))]
        index.train(train)
        faiss.extract_index_ivf(index).nprobe = p["nprobe"]
    index.add(vectors)
    return index


def tune_for_queries(index: Any) -> None:
    """Probe as many lists as `compressed_parameters` says for the index's size (an index written with an
    older setting gets today's)."""
    import faiss

    if is_exact(index) or hasattr(index, "hnsw"):
        return
    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = max(ivf.nprobe, compressed_parameters(index.ntotal, index.d)["nprobe"])


def is_exact(index: Any) -> bool:
    """True for a flat (exact) FAISS index: scoring every document directly is then as cheap as searching."""
    import faiss

    return isinstance(index, faiss.IndexFlat)


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _light_stem(token: str) -> str:
    """A light English suffix stripper (plurals, -ing, -ed): the stemmer of indexes built before 0.2."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            if suffix == "s" and token.endswith(("ss", "us", "is")):
                return token
            return token[: len(token) - len(suffix)] + keep
    return token


@functools.lru_cache(maxsize=4)
@functools.cache
def stemmer(name: str) -> Callable[[str], str]:
    """A cached token -> stem function: "snowball" (Snowball English, via PyStemmer) or "light"."""
    if name == "light":
        return functools.lru_cache(maxsize=500_000)(_light_stem)
    if name == "snowball":
        import Stemmer  # PyStemmer

        return functools.lru_cache(maxsize=500_000)(Stemmer.Stemmer("english").stemWord)
    raise ValueError(f"unknown stemmer {name!r} (known: snowball, light)")


DEFAULT_STEMMER = "snowball"  # measured: BM25 nDCG@10 Cranfield 0.361 -> 0.368, CISI 0.393 -> 0.406 vs "light"


def tokenize(text: str, stop: frozenset[str] | None = None, stem: str = DEFAULT_STEMMER) -> list[str]:
    """Lower-cased, stop words removed, stemmed tokens."""
    stop = stop if stop is not None else _STOP
    fn = stemmer(stem)
    return [fn(t) for t in _TOKEN.findall(text.lower()) if t not in stop]


_STOP = _stop_words()
# a sentence ends at '.', '!' or '?' and a space, or at a '.' joined to the next sentence ("the Act.Extends")
_BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*\s+|(?<=[a-z]{2})\.(?=[A-Z][a-z]+\s+[a-z])")
_OPENS_SENTENCE = re.compile(r"[A-Z0-9(\"'“\[]")
_ABBREVIATIONS = frozenset(
    "e.g i.e al etc cf fig figs eq eqs vs approx resp ref refs sec no nos vol pp dr mr mrs ms prof st jr inc ltd "
    "corp co sen rep gov gen lt col sgt capt rev jan feb mar apr jun jul aug sep sept oct nov dec mt ft".split()
)
_DOTTED = re.compile(r"([a-z]\.)+[a-z]")  # "U.S.", "a.m."
_STARTERS = frozenset(  # a capital word after "Appendix B." or "vitamin C." that starts a sentence, not a surname
    "a an as at by for he her his however in it its on our she so such the their then there these they this "
    "to we when while with".split()
)


def sentences(text: str) -> list[str]:
    """A text cut into sentences (whitespace normalised): at '.', '!' or '?' and a space, before a capital, a
    digit or an opening quote or bracket; in a text where most sentences start with a small letter (a
    lower-cased corpus), before any word; also at a full stop with no space after a small-letter word and
    before a capital word and a small one ("the surplus.Denies the"; not "String.Format" or "Console.WriteLine").
    Never after a common abbreviation ("e.g.", "et al.", "Fig.", "Corp.", "Aug.", "U.S.") or an initial
    ("John F. Kennedy"; "Appendix B. We" does end a sentence)."""
    text = " ".join(text.split())
    marks = [m for m in _BOUNDARY.finditer(text) if m.end() < len(text)]
    opened = sum(1 for m in marks if _OPENS_SENTENCE.match(text, m.end()))
    cased = opened * 2 > len(marks)
    out, begin = [], 0
    for m in marks:
        if cased and not _OPENS_SENTENCE.match(text, m.end()):
            continue
        before = text[max(begin, m.start() - 12) : m.start()].rsplit(" ", 1)[-1].lstrip("([{\"'“‘")
        word = before.lower()
        if word in _ABBREVIATIONS or _DOTTED.fullmatch(word):
            continue
        if m.group() == "." and not before.islower():  # no space: "Act.Extends" or code ("String.Format")
            continue
        after = text[m.end() :].split(" ", 1)[0]
        if len(before) == 1 and before.isupper() and after[:1].isupper() and after.lower() not in _STARTERS:
            continue  # an initial: "John F. Kennedy"
        out.append(text[begin : m.end()].strip())
        begin = m.end()
    out.append(text[begin:].strip())
    return [s for s in out if s]


class LexicalIndex:
    """BM25 (k1=1.2, b=0.75) as a sparse term x document weight matrix; queries are column sums."""

    def __init__(self, vocab: dict[str, int], weights: sparse.csr_matrix, stem: str = DEFAULT_STEMMER) -> None:
        self.vocab = vocab
        self.weights = weights  # (n_terms, n_docs), rows = terms
        self.stem = stem  # queries must be stemmed the way the documents were

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 1.2, b: float = 0.75, stem: str = DEFAULT_STEMMER) -> LexicalIndex:
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for doc, text in enumerate(texts):
            counts: dict[int, int] = {}
            tokens = tokenize(text, stem=stem)
            lengths[doc] = len(tokens)
            for tok in tokens:
                tid = vocab.setdefault(tok, len(vocab))
                counts[tid] = counts.get(tid, 0) + 1
            rows.extend(counts)
            cols.extend([doc] * len(counts))
            vals.extend(counts.values())
        tf = sparse.csr_matrix(
            (np.array(vals, dtype=np.float32), (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))),
            shape=(len(vocab), len(texts)),
        )
        df = np.diff(tf.indptr).astype(np.float32)
        n = max(len(texts), 1)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg = float(lengths.mean()) if len(texts) else 1.0
        norm = k1 * (1.0 - b + b * lengths / max(avg, 1e-9))
        tf = tf.tocoo()
        data = idf[tf.row] * tf.data * (k1 + 1.0) / (tf.data + norm[tf.col])
        weights = sparse.csr_matrix((data.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        return cls(vocab, weights, stem)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for a query."""
        ids = [self.vocab[t] for t in tokenize(query, stem=self.stem) if t in self.vocab]
        if not ids:
            return np.zeros(self.weights.shape[1], dtype=np.float32)
        return np.asarray(self.weights[ids].sum(axis=0)).ravel()

    def save(self, folder: Path) -> list[str]:
        sparse.save_npz(folder / "lexical.npz", self.weights, compressed=False)
        terms = [""] * len(self.vocab)
        for term, tid in self.vocab.items():
            terms[tid] = term
        meta = {"stemmer": self.stem, "terms": terms}
        (folder / "lexical_vocab.json").write_text(json.dumps(meta), encoding="utf-8")
        return ["lexical.npz", "lexical_vocab.json"]

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        weights = sparse.load_npz(folder / "lexical.npz").tocsr()
        meta = json.loads((folder / "lexical_vocab.json").read_text(encoding="utf-8"))
        if isinstance(meta, list):  # indexes written before the stemmer was recorded used the light one
            meta = {"stemmer": "light", "terms": meta}
        stem = meta.get("stemmer", "light")
        stemmer(stem)  # an unknown name fails here, at load time
        return cls({t: i for i, t in enumerate(meta["terms"])}, weights, stem)
