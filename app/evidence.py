"""Evidence sentences: for a cited document, the sentence of its text that answers the question best.

Query-focused and cheap. Where the index holds word-piece vectors (`indexer.tokens`, written by full builds
since they were added), every sentence of a cited document gets its vector from them (no transformer pass:
a few milliseconds on any CPU) and is compared with the question's vector. Otherwise a lexical prefilter
keeps each document's few sentences that share the most (stemmed) words with the question, and only those
are embedded (packed, `models.packed`). Either way no vector per sentence is stored in the index, and each
sentence's score adds a little for the question words it shares.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from topicchat.indexer.ann import sentences, tokenize
from topicchat.indexer.tokens import TokenTable
from topicchat.models.base import Embedder, embed_short

CANDIDATES = 3  # sentences per document that reach the embedder
# ... of which those sharing fewer than this share of the best candidate's question words are left out:
# ~14% fewer sentences to embed; 17 of 1,000 picks changed (`benchmarks/latency.py`, 200 questions)
MIN_SHARE_OF_BEST = 0.5
LEXICAL_WEIGHT = 0.1  # added per shared question word (as a share of the question's words)


def clip(sentence: str, max_chars: int = 320) -> str:
    return sentence if len(sentence) <= max_chars else sentence[: max_chars - 1].rstrip() + "…"


def _share(wanted: set[str], sentence: str, stem: str) -> float:
    """The share of the question's (stemmed) words the sentence holds."""
    return len(wanted & set(tokenize(sentence, stem=stem))) / max(1, len(wanted))


def evidence_sentences(
    question: str,
    texts: Sequence[str],
    embedder: Embedder,
    question_vector: np.ndarray,
    stem: str,
    max_chars: int = 320,
    min_share_of_best: float = MIN_SHARE_OF_BEST,
    table: TokenTable | None = None,
) -> list[str]:
    """The best sentence of each text for the question ('' for an empty text); every sentence scored with
    the index's word-piece vectors where `table` is given, else the shortlist through the embedder."""
    wanted = set(tokenize(question, stem=stem))
    if table is not None:
        return _by_table(wanted, texts, embedder, question_vector, stem, max_chars, table)
    candidates: list[tuple[int, str, float]] = []
    best: dict[int, tuple[float, str]] = {}
    for i, text in enumerate(texts):
        parts = sentences(text)
        scored = []
        for position, sentence in enumerate(parts):
            scored.append((-_share(wanted, sentence, stem), position, sentence))
        shortlist = sorted(scored)[:CANDIDATES]
        floor = min_share_of_best * -shortlist[0][0] if shortlist else 0.0
        kept = [(i, sentence, -neg_shared) for neg_shared, _, sentence in shortlist if -neg_shared >= floor]
        if len(kept) == 1:  # nothing to choose between: no need to embed it
            best[i] = (0.0, kept[0][1])
        else:
            candidates.extend(kept)
    if candidates:
        vectors = embed_short(embedder, [s for _, s, _ in candidates])
        scores = vectors @ question_vector.astype(vectors.dtype)
        for (i, sentence, shared), score in zip(candidates, scores, strict=True):
            total = float(score) + LEXICAL_WEIGHT * shared
            if i not in best or total > best[i][0]:
                best[i] = (total, sentence)
    return [clip(best[i][1], max_chars) if i in best else "" for i in range(len(texts))]


def _by_table(
    wanted: set[str],
    texts: Sequence[str],
    embedder: Embedder,
    question_vector: np.ndarray,
    stem: str,
    max_chars: int,
    table: TokenTable,
) -> list[str]:
    parts = [sentences(text) for text in texts]
    flat = [sentence for group in parts for sentence in group]
    if not flat:
        return ["" for _ in texts]
    scores = table.encode(flat, embedder) @ question_vector.astype(np.float32)
    out, at = [], 0
    for group in parts:
        best, chosen = -np.inf, ""
        for sentence in group:
            total = float(scores[at]) + LEXICAL_WEIGHT * _share(wanted, sentence, stem)
            at += 1
            if total > best:
                best, chosen = total, sentence
        out.append(clip(chosen, max_chars) if chosen else "")
    return out
