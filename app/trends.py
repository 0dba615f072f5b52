"""Figures for trend answers, counted from the index's timeline (never written by a model)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from topicchat.app.evidence import clip, sentences
from topicchat.indexer.timeline import Timeline

MONTHS_PER = {"week": 0.25, "month": 1, "quarter": 3, "year": 12}
GREW, SHRANK = 1.5, 1 / 1.5  # a share that moves by this factor is called a change; between, "held steady"
MIN_DOCS = 5  # a topic needs this many dated documents in the two windows to be ranked
CUES = re.compile(  # words that name a gap, limitation or open problem
    r"\b(open (problem|question|issue|challenge)s?|remains?|remained|limitations?|limited|lacks?|lacking|struggl\w*|"
    r"fail\w*|unclear|unsolved|unresolved|bottlenecks?|gaps?|future (work|research|directions?)|still|hinders?|"
    r"scarce|scarcity|brittle|vulnerab\w*|underexplored|under-explored|understudied|under-represented|"
    r"not yet|little is known|poorly|insufficient|inadequate\w*)\b",
    re.IGNORECASE,
)
WEAK_CUES = re.compile(r"\b(challenges?|difficult\w*|however|issues?|costly|expensive|risks?)\b", re.IGNORECASE)


@dataclass
class TrendChart:
    """What a trend plot shows: documents per period for some topics (labels are untrusted text)."""

    column: str
    granularity: str
    periods: list[str]
    series: dict[str, list[int]] = field(default_factory=dict)
    totals: list[int] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "column": self.column,
            "granularity": self.granularity,
            "periods": self.periods,
            "series": self.series,
            "totals": self.totals,
        }


@dataclass
class Change:
    """One topic's documents in the recent window against the periods before it."""

    topic: int
    recent: int
    before: int
    recent_total: int
    before_total: int

    @property
    def recent_share(self) -> float:
        return self.recent / self.recent_total if self.recent_total else 0.0

    @property
    def before_share(self) -> float:
        return self.before / self.before_total if self.before_total else 0.0

    @property
    def ratio(self) -> float:
        """How many times its share of the documents grew (smoothed by half a document on both sides, so a
        topic absent before gets a finite, size-aware ratio)."""
        if not self.recent_total or not self.before_total:
            return 1.0
        return ((self.recent + 0.5) / self.recent_total) / ((self.before + 0.5) / self.before_total)

    def verdict(self) -> str:
        if self.ratio >= GREW:
            return f"grew: its share rose ×{self.ratio:.1f}"
        if self.ratio <= SHRANK:
            return f"declined: its share fell to ×{self.ratio:.2f}"
        return f"held steady (share ×{self.ratio:.2f})"


def window_length(timeline: Timeline, window: tuple[int, str] | None, compared: bool = True) -> int:
    """How many of the last periods 'the last three months' (or the default: the last quarter of the span) is;
    at least one period is left before it when the window is `compared` with the rest."""
    n = len(timeline.periods)
    if window is None:
        last = max(1, round(n / 4))
    else:
        count, unit = window
        months = count * MONTHS_PER.get(unit, 1)
        last = max(1, math.ceil(months / MONTHS_PER[timeline.granularity] - 1e-9))
    return max(1, min(last, n - 1 if compared else n))


def change(timeline: Timeline, topic: int, last: int, split: tuple[list[int], list[int]] | None = None) -> Change:
    """A topic's counts and shares in the last `last` periods against all the periods before (or in the
    `split`'s recent periods against its earlier ones)."""
    recent, before = split or timeline.window(last)
    counts = timeline.counts[topic]
    r, b = int(counts[recent].sum()), int(counts[before].sum())
    r_total, b_total = int(timeline.totals[recent].sum()), int(timeline.totals[before].sum())
    return Change(topic, r, b, r_total, b_total)


def rank_changes(
    timeline: Timeline,
    topics: list[int],
    last: int,
    declining: bool = False,
    split: tuple[list[int], list[int]] | None = None,
) -> list[Change]:
    """Topics whose share grew (or fell) the most between the windows, biggest change first."""
    changes = [change(timeline, t, last, split) for t in topics if t in timeline.counts]
    changes = [c for c in changes if c.recent + c.before >= MIN_DOCS]
    if declining:
        picked = [c for c in changes if c.ratio <= SHRANK]
        return sorted(picked, key=lambda c: (c.ratio, -c.before))
    picked = [c for c in changes if c.ratio >= GREW and c.recent >= 3]
    return sorted(picked, key=lambda c: (-c.ratio, -c.recent))


def series_text(timeline: Timeline, counts: np.ndarray) -> str:
    """'2025-03: 4 · 2025-04: 6 · …' (every period, empty ones included)."""
    return " · ".join(f"{p}: {int(c)}" for p, c in zip(timeline.periods, counts, strict=True))


def peak(timeline: Timeline, counts: np.ndarray) -> str:
    i = int(np.argmax(counts))
    return f"{timeline.periods[i]} ({int(counts[i])} documents)"


def problem_sentence(text: str, max_chars: int = 320) -> str | None:
    """The sentence of an abstract that names a challenge, gap or limitation best (None when none does)."""
    best, best_hits = None, 0
    for sentence in sentences(text):
        hits = 2 * len(CUES.findall(sentence)) + len(WEAK_CUES.findall(sentence))
        if hits > best_hits:
            best, best_hits = sentence, hits
    if best is None:
        return None
    return clip(best, max_chars)


def period_positions(timeline: Timeline, asked: str) -> list[int]:
    """Positions of the index's periods that overlap the period a question names: '2025', '2025-03',
    '2025Q1' or a range 'A..B' (both ends included). A month asked of an index counted by quarter or
    year gets the quarter or year that holds it."""
    import pandas as pd

    lo, dots, hi = asked.partition("..")
    try:  # an open end ('2025-03..', '..2025') reaches the index's first or last period
        start = pd.Period(lo).start_time if lo else pd.Timestamp.min
        end = pd.Period(hi or lo).end_time if hi or not dots else pd.Timestamp.max
    except (ValueError, TypeError):
        return []
    code = {"month": "M", "quarter": "Q", "year": "Y"}[timeline.granularity]
    found = []
    for i, label in enumerate(timeline.periods):
        p = pd.Period(label, code)
        if p.start_time <= end and p.end_time >= start:
            found.append(i)
    return found
