"""Facts a sentence states, read the same way wherever generated text is checked against its sources
(answers' prose in `app/prose.py`, topic summaries at build time): the numbers it states and the words that
name something."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1000000"}
_SPELLED = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_TOKEN_CASED = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+]*[A-Za-z0-9]|[A-Za-z0-9]")
_MEASURE = re.compile(r"\d+(?:\.\d+)?[a-z]{0,2}", re.IGNORECASE)  # "3.5x", "7B", "1st": numbers, not names


def numbers(text: str) -> set[str]:
    """The numbers a text states, as digits ("three" and "3" are one number, "1,000" and "1000" too; "one"
    alone is no number; a unit or percent sign is not part of the number)."""
    found = {x.replace(",", "") for x in _NUMBER.findall(text)}
    found |= {_NUMBER_WORDS[w.lower()] for w in _SPELLED.findall(text) if w.lower() not in ("one", "zero")}
    return found


def names(text: str) -> set[str]:
    """Words that name something (a model, data set, method or place): a capital or a digit inside the word
    ("GPT-4", "BERT", "PubMed") or a capital word after the first; lower-cased, plural 's' dropped,
    hyphenated words in parts. Numbers with a unit ("3.5x", "7B") are left to `numbers`."""
    out = set()
    for i, token in enumerate(_TOKEN_CASED.findall(text.replace("-", " "))):
        if _MEASURE.fullmatch(token):
            continue
        inner = any(c.isupper() for c in token[1:]) or (
            any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        )
        if inner or (i > 0 and token[0].isupper() and len(token) > 1):
            out.add(_singular(token.lower()))
    return out


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


class KnownWords:
    """The words of some source texts, and the acronyms of their runs of words ("large language models" ->
    "llm"): what a name in a generated sentence must be one of."""

    def __init__(self, text: str) -> None:
        words = [w.lower() for w in _TOKEN_CASED.findall(text.replace("-", " "))]
        self.words = {_singular(w) for w in words} | set(words)
        self.initials = {
            "".join(w[0] for w in words[i : i + n]) for n in range(2, 7) for i in range(len(words) - n + 1)
        }

    def knows(self, name: str) -> bool:
        return name in self.words or name in self.initials
