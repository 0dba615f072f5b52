"""Checked prose: a generated sentence is kept only when it cites a source that supports it.

Support = cosine(sentence, cited document) + LEXICAL_WEIGHT x (share of the sentence's content words found in
the document), over the best of the sentence's citations; the constants were measured with
`benchmarks/support.py` (a sentence of a document against that document, versus a sentence of another
document of the same topic), not guessed. A sentence is also dropped when it cites nothing real, copies
a source verbatim beyond a short quote, or states a number its sources do not hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from topicchat.indexer.ann import sentences, tokenize
from topicchat.indexer.facts import KnownWords, names, numbers
from topicchat.models.base import Embedder

LEXICAL_WEIGHT = 0.5
SUPPORT_THRESHOLD = 0.75  # measured: see benchmarks/RESULTS.md, "Checked prose"
COPY_NGRAM = 6  # six words in a row from a source (title or text) is a copy, not a summary
_CITE = re.compile(r"\[(\d+)\]")
# Words that turn a statement round. A claim holding one whose closest source sentences hold none (or the
# other word of an opposite pair) says the opposite of its source: measured on the hand-labelled pairs in
# benchmarks/support_pairs.jsonl (negations pass the embedding and word-overlap score almost untouched).
NEGATIONS = frozenset("not no never neither nor none nothing cannot fail fails failed unable".split())
_NEGATED_VERB = re.compile(r"\b\w+n't\b")
# Two sides of a scale: a claim on one side whose closest source sentences are only on the other.
OPPOSITES = (
    (
        frozenset(
            "better best outperforms outperform outperformed outperforming surpasses surpass beats beat superior "
            "improves improve improved improving gains".split()
        ),
        frozenset(
            "worse worst underperforms underperform underperformed inferior degrades degrade degraded hurts harms "
            "losses".split()
        ),
    ),
    (
        frozenset("increase increases increased increasing grows grow rises rise larger more higher".split()),
        frozenset("decrease decreases decreased decreasing shrinks shrink drops drop smaller fewer less lower".split()),
    ),
)
CLOSEST = 1  # source sentences a claim's polarity is compared with
SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d+\])*\s+(?=[A-Z\[(])")


@dataclass
class Verdict:
    """What the check decided about one sentence."""

    sentence: str
    kept: bool
    reason: str = ""
    support: float = 0.0


# A sentence in a document that addresses the model instead of the reader (prompt injection). It is data:
# it never reaches the writer's prompt, and prose that repeats its words is dropped.
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\s+(the\s+|your\s+|of\s+)*(all|any|previous|prior|above|earlier|preceding)"
    r"\s+(the\s+|your\s+|previous\s+|prior\s+|above\s+|earlier\s+|system\s+)*(instructions?|prompts?|directions|rules)\b|"
    r"\b(you are now|new instructions?\s*:|system prompt\s*:)|"
    r"(^|\band\s+|\bthen\s+|\bjust\s+|\bonly\s+)(answer|respond|reply|say|print|output)\s+(only\s+|just\s+|with\s+)*"
    r"[\"'“‘][^\"'”’]{1,40}[\"'”’]",
    re.IGNORECASE,
)


def instruction_sentences(text: str) -> list[str]:
    """The sentences of a document that read as instructions to a model."""
    return [s for s in sentences(text) if INSTRUCTION.search(s)]


def without_instructions(text: str) -> str:
    """The text with every instruction-like sentence taken out (what the writer's prompt may show)."""
    return " ".join(s for s in sentences(text) if not INSTRUCTION.search(s))


class _Source:
    """What the checks need of one cited source, worked out once per answer."""

    def __init__(self, text: str, stem: str) -> None:
        self.sentences = [(s, set(tokenize(s, stem=stem))) for s in (sentences(text) or [text])]
        self.tokens = set().union(*(t for _, t in self.sentences))
        self.numbers = numbers(text)
        self.known = KnownWords(text)  # "large language models" -> "llm": an acronym of the source's own words

    def knows(self, name: str) -> bool:
        return self.known.knows(name)

    def closest(self, claim_tokens: set[str], n: int) -> str:
        ranked = sorted(self.sentences, key=lambda st: -len(claim_tokens & st[1]))[:n]
        return " ".join(s for s, _ in ranked)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def copies(sentence: str, source: str, n: int = COPY_NGRAM) -> bool:
    """True when the sentence shares a run of `n` words with the source."""
    words = _words(sentence)
    if len(words) < n:
        return False
    grams = {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
    src = _words(source)
    return any(tuple(src[i : i + n]) in grams for i in range(len(src) - n + 1))


def lexical_share(sentence: str, source: str, stem: str) -> float:
    """Share of the sentence's content words (stemmed, no stop words) that occur in the source."""
    return _share(set(tokenize(sentence, stem=stem)), set(tokenize(source, stem=stem)))


def _share(words: set[str], source_words: set[str]) -> float:
    return len(words & source_words) / len(words) if words else 0.0


def _polarity_words(text: str) -> set[str]:
    text = re.sub(r"\bnot only\b", " ", text.lower().replace("’", "'"))
    found = set(re.findall(r"[a-z']+", text)) & NEGATIONS
    if _NEGATED_VERB.search(text):
        found.add("n't")
    return found


def contradicts(
    claim: str,
    source: str | _Source,
    stem: str,
    closest: int = CLOSEST,
    both_ways: bool = False,
    claim_tokens: set[str] | None = None,
) -> str:
    """Why the claim says the opposite of its source ('' when it does not): it negates, or uses the opposite of
    a word of, the `closest` source sentences sharing most of its content words. A comparison ("than") is
    not read for opposite words: "B is worse than A" says what "A outperforms B" says. `claim_tokens` are the
    claim's `tokenize` tokens when the caller has them."""
    src = source if isinstance(source, _Source) else _Source(source, stem)
    tokens = claim_tokens if claim_tokens is not None else set(tokenize(claim, stem=stem))
    near = src.closest(tokens, closest)
    if _polarity_words(claim) and not _polarity_words(near):
        return "negates what its source says"
    if both_ways and _polarity_words(near) and not _polarity_words(claim):
        return "drops a negation of its source"
    claim_words = set(re.findall(r"[a-z]+", claim.lower()))
    if "than" in claim_words:
        return ""
    near_words = set(re.findall(r"[a-z]+", near.lower()))
    for side_a, side_b in OPPOSITES:
        for mine, theirs in ((side_a, side_b), (side_b, side_a)):
            said, other = claim_words & mine, near_words & theirs
            if said and other and not near_words & mine:
                return f"says '{min(said)}' where its source says '{min(other)}'"
    return ""


def support_score(sentence_vector: np.ndarray, source_vector: np.ndarray, lexical: float) -> float:
    return float(sentence_vector @ source_vector) + LEXICAL_WEIGHT * lexical


class ProseChecker:
    """Checks generated sentences against the numbered sources they cite."""

    def __init__(
        self,
        embedder: Embedder,
        sources: Mapping[int, str],
        source_vectors: Mapping[int, np.ndarray],
        stem: str,
        threshold: float = SUPPORT_THRESHOLD,
        polarity: bool = True,
    ) -> None:
        self.embedder = embedder
        self.polarity = polarity  # drop sentences that negate or invert their source
        self.sources = sources
        self.vectors = source_vectors
        self.stem = stem
        self.threshold = threshold
        # Words a source holds only inside its instruction-like sentences ("PWNED"): prose repeating one obeys
        # the document instead of summarising it.
        self.injected: dict[int, set[str]] = {}
        for n, text in sources.items():
            orders = instruction_sentences(text)
            if orders:
                rest = set(_words(without_instructions(text)))
                self.injected[n] = {w for o in orders for w in _words(o)} - rest
        self._parsed = {n: _Source(text, stem) for n, text in sources.items()}

    def check(self, sentence: str) -> Verdict:
        sentence = sentence.strip()
        cited = [n for n in dict.fromkeys(int(x) for x in _CITE.findall(sentence)) if n in self.sources]
        if not cited:
            return Verdict(sentence, False, "cites no source")
        claim = _CITE.sub("", sentence).strip()
        if INSTRUCTION.search(claim) or any(set(_words(claim)) & self.injected.get(n, set()) for n in self.sources):
            return Verdict(sentence, False, "repeats an instruction found in a source")
        if len(_words(claim)) < 3:
            return Verdict(sentence, False, "too short to say anything")
        parsed = [self._parsed[n] for n in cited]
        if any(copies(claim, t) for t in self.sources.values()):  # any source: a copy under the wrong number too
            return Verdict(sentence, False, "copies a source")
        missing = sorted(numbers(claim) - set().union(*(p.numbers for p in parsed)))
        if missing:
            return Verdict(sentence, False, f"a number not in its sources: {', '.join(missing)}")
        unknown = sorted(n for n in names(claim) if not any(p.knows(n) for p in parsed))
        if unknown:
            return Verdict(sentence, False, f"a name not in its sources: {', '.join(unknown)}")
        tokens = set(tokenize(claim, stem=self.stem))
        if self.polarity:
            turned = [contradicts(claim, p, self.stem, claim_tokens=tokens) for p in parsed]
            if all(turned):
                return Verdict(sentence, False, turned[0])
        vector = self.embedder.embed([claim])[0]
        best = max(
            support_score(vector, self.vectors[n].astype(vector.dtype), _share(tokens, p.tokens))
            for n, p in zip(cited, parsed, strict=True)
        )
        if best < self.threshold:
            return Verdict(sentence, False, "not supported by its source", best)
        return Verdict(sentence, True, "", best)


def split_complete(buffer: str) -> tuple[list[str], str]:
    """Complete sentences at the start of a growing text, and the unfinished rest."""
    out: list[str] = []
    while True:
        m = SENTENCE_END.search(buffer)
        if not m:
            return out, buffer
        out.append(buffer[: m.end()].strip())
        buffer = buffer[m.end() :]
