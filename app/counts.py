"""Counting documents that mention a subject, from the index's own word index (never estimated by a model).

A document mentions "question answering" when it holds every content word of it (stemmed the way the
index was: "answers" counts for "answer"); of those, the ones that hold the words as a phrase (in order,
separated by spaces or hyphens, the last word optionally plural) are counted apart, so a user sees both
the broad and the strict figure.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from topicchat.indexer.ann import LexicalIndex, tokenize

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class Mentions:
    """The documents that mention a subject: `rows` hold every stemmed content word, `phrase_rows` the phrase."""

    subject: str
    words: list[str]  # the stemmed content words looked up
    rows: np.ndarray  # document rows, ascending
    phrase_rows: np.ndarray  # the rows holding the subject's words as a phrase (a subset of `rows`)
    also: list[str] = field(default_factory=list)  # forms the stemmer keeps apart, counted too ("environmental")

    @property
    def phrase_counted(self) -> bool:
        """Whether the phrase count tells more than `rows`: a subject of several words, or one word its stem
        shortens beyond a plural ('tokenization' is looked up as 'token')."""
        return len(_WORD.findall(self.subject)) > 1 or _stem_widens(self.subject, self.words)


def _stem_widens(subject: str, words: list[str]) -> bool:
    """Whether a one-word subject's stem stands for more than the word and its plural."""
    if len(words) != 1 or len(_WORD.findall(subject)) != 1:
        return False
    word = subject.strip().lower()
    return words[0] not in (word, re.sub(r"(es|s)$", "", word), word.rstrip("s"))


def _phrase(subject: str) -> re.Pattern[str] | None:
    words = [w.lower() for w in _WORD.findall(subject)]
    if not words:
        return None
    *lead, last = [re.escape(w) for w in words]
    if re.search(r"[^aeiou]y$", last):  # "study": "studies" too
        last = f"{last[:-1]}(y|ies)"
    body = r"[\s\-.]+".join([*lead, last])  # "asp.net" is one name, as is "fine-tuning"
    return re.compile(rf"(?<![^\W_]){body}(s|es)?(?![^\W_])", re.IGNORECASE)


def rows_holding(lexical: LexicalIndex, words: list[str]) -> np.ndarray:
    """Rows holding every one of the (stemmed) words, ascending."""
    rows: np.ndarray | None = None
    for word in words:
        term = lexical.vocab.get(word)
        if term is None:
            return np.zeros(0, dtype=np.int64)
        start, end = lexical.weights.indptr[term], lexical.weights.indptr[term + 1]
        docs = np.asarray(lexical.weights.indices[start:end], dtype=np.int64)
        rows = docs if rows is None else np.intersect1d(rows, docs, assume_unique=True)
        if len(rows) == 0:
            break
    return np.sort(rows) if rows is not None else np.zeros(0, dtype=np.int64)


_ACRONYM = re.compile(r"(?P<a>[A-Z]{2,8})(?P<s>s?)")  # "LLM", "LLMs"


def is_acronym(word: str) -> bool:
    return _ACRONYM.fullmatch(word.strip()) is not None


def _derived(word: str) -> list[str]:
    """Forms of a word the stemmer keeps apart from it, by suffixes that keep the meaning: 'environment' /
    'environmental', 'economy' / 'economic', 'biology' / 'biological', 'terrorism' / 'terrorist'; an
    acronym's plural ('LLM' / 'LLMs'). Never by taking a suffix off ('legal' is not 'leg')."""
    if acronym := _ACRONYM.fullmatch(word):
        return [word[:-1]] if acronym.group("s") else [word + "s"]
    low = word.lower()
    if low.endswith("ment"):
        return [low + "al", low + "ally"]
    if low.endswith(("ogy", "omy")):
        return [low[:-1] + "ic", low[:-1] + "ical"]
    if low.endswith("ism"):
        return [low[:-3] + "ist", low[:-3] + "ists"]
    if low.endswith("ist"):
        return [low[:-3] + "ism"]
    return []


def _rows_with_forms(lexical: LexicalIndex, subject: str, known: Callable[[str], bool]) -> tuple[np.ndarray, list[str]]:
    """Rows holding every content word of the subject in one of its forms (its stem, or the stem of a
    derived form that is a `known` word, or an acronym's plural, and that the index holds), and the forms
    that added documents."""
    rows: np.ndarray | None = None
    also: list[str] = []
    for word in dict.fromkeys(_WORD.findall(subject)):
        stems = tokenize(word, stem=lexical.stem)
        if not stems:
            continue  # a stop word
        held = rows_holding(lexical, stems[:1])
        acronym = word.isupper() or word[:-1].isupper()
        for form in _derived(word):
            other = tokenize(form, stem=lexical.stem)[:1]
            if other and other != stems[:1] and other[0] in lexical.vocab and (acronym or known(form)):
                more = np.setdiff1d(rows_holding(lexical, other), held)
                if len(more):
                    held, also = np.union1d(held, more), [*also, form]
        rows = held if rows is None else np.intersect1d(rows, held)
    return (rows if rows is not None else np.zeros(0, dtype=np.int64)), also


def mentions(
    lexical: LexicalIndex, text_of: Callable[[int], str], subject: str, known: Callable[[str], bool] | None = None
) -> Mentions:
    """The documents (rows) that hold every content word of `subject`, and those that hold it as a phrase
    (`text_of(row)`: the text the word index was built from, title included)."""
    words = list(dict.fromkeys(tokenize(subject, stem=lexical.stem)))
    empty = np.zeros(0, dtype=np.int64)
    if not words:
        return Mentions(subject, [], empty, empty)
    rows = rows_holding(lexical, words)
    also: list[str] = []
    if known is not None and "-" not in subject:  # "environment" also counts "environmental" (the stemmer
        widened, also = _rows_with_forms(lexical, subject, known)  # keeps them apart); `known`: a real word
        rows = np.union1d(rows, widened)
    # the index keeps a hyphenated word whole: "fine tuning" also finds "fine-tuning", and the other way round
    joined = subject.strip()
    other = joined.replace("-", " ") if "-" in joined else "-".join(joined.split())
    variant = list(dict.fromkeys(tokenize(other, stem=lexical.stem)))
    if variant and variant != words:
        rows = np.union1d(rows, rows_holding(lexical, variant))
    # one word: the phrase is the word, unless its stem also stands for other words ("token" for "tokenization")
    counted = len(_WORD.findall(subject)) > 1 or _stem_widens(subject, words)
    pattern = _phrase(subject) if counted else None
    phrase = (
        np.asarray([r for r in rows if pattern.search(text_of(int(r)))], dtype=np.int64)
        if pattern is not None
        else rows
    )
    return Mentions(subject, words, rows, phrase, also)


def spelled_out(subject: str, texts: Iterable[str], least: int = 2) -> str:
    """What an acronym stands for in these texts ('LLMs' -> 'large language model', from '... large language
    models (LLMs) ...'): the words before the acronym in brackets whose initials spell it (a hyphenated word
    gives one initial a part: 'vision-language model' for 'VLM'), the form written most often (at least
    `least` times), its last word singular ('models': 'model'; not 'analysis'). '' for anything else."""
    m = _ACRONYM.fullmatch(subject.strip())
    if m is None:
        return ""
    letters = m.group("a").lower()
    bracketed = re.compile(rf"\(\s*{m.group('a')}(?P<s>s?)\s*\)")
    word = re.compile(r"^[^\W\d_][\w'’-]*$")
    seen: Counter[str] = Counter()
    for text in texts:
        for found in bracketed.finditer(text):
            words = text[max(0, found.start() - 160) : found.start()].split()[-(len(letters) + 2) :]
            for start in range(len(words) - 1, -1, -1):  # the fewest last words whose initials spell it
                if not word.match(words[start]):
                    break
                parts = [p for w in words[start:] for p in re.split(r"[-‐]", w) if p]
                initials = "".join(p[0].lower() for p in parts)
                if initials == letters:
                    form = [w.lower() for w in words[start:]]
                    if re.search(r"[^siu]s$", form[-1]) and len(form[-1]) > 3:  # "models (LLMs)": "model"
                        form[-1] = form[-1][:-1]
                    seen[" ".join(form)] += 1
                    break
                if len(initials) > len(letters):
                    break
    if not seen:
        return ""
    best, n = seen.most_common(1)[0]
    return best if n >= least else ""
