"""Topics over time: find the corpus's date column, bucket documents into periods, count every node per period.

The counts are never stored: they are recounted from documents.parquet (the topic of every document and
its date column) when an index is loaded, so they cannot drift from the documents, and an in-place
update needs no extra bookkeeping. The manifest records which column and which period length the build
chose (`time` section); an index without that section gets a guess from the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.topics import TopicRecord

Granularity = Literal["month", "quarter", "year"]
TIME_GUESSES = (
    "date",
    "listed_date",
    "published",
    "publication_date",
    "pub_date",
    "published_date",
    "update_date",
    "created",
    "created_at",
    "timestamp",
    "time",
    "year",
    "pub_year",
    "publication_year",
)
MIN_PARSED = 0.9  # a guessed column must parse as dates on at least this share of its non-blank values
MONTHS_FOR_MONTHLY = 36  # spans up to 3 years are counted by month, up to 10 by quarter, longer by year
MONTHS_FOR_QUARTERLY = 120
_YEAR = re.compile(r"^\s*(1[5-9]\d\d|2[0-2]\d\d)(\.0)?\s*$")


def parse_times(values: pd.Series) -> tuple[pd.Series, bool]:
    """Values as timestamps (NaT where unreadable) and whether they are bare years (1990, "2021")."""
    if pd.api.types.is_datetime64_any_dtype(values):
        times = pd.to_datetime(values, errors="coerce")
        if getattr(times.dt, "tz", None) is not None:
            times = times.dt.tz_convert(None)
        return times, False
    text = values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    filled = text[text != ""]
    if len(filled) and filled.map(lambda s: bool(_YEAR.match(s))).all():
        years = text.map(lambda s: int(m.group(1)) if (m := _YEAR.match(s)) else 0)
        times = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        known = years > 0
        times[known] = pd.to_datetime(years[known].astype(str) + "-01-01", format="%Y-%m-%d")
        return times, True
    if pd.api.types.is_numeric_dtype(values):  # numbers that are not years are not dates
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), False
    times = pd.to_datetime(text.where(text != "", None), errors="coerce", utc=True, format="mixed")
    return times.dt.tz_convert(None), False


def guess_time_column(frame: pd.DataFrame, wanted: str | None, skip: tuple[str, ...] = ()) -> str | None:
    """The column to count topics over time by: `wanted` (checked), or the first known date-like name whose
    values read as dates; None when there is none. Metadata columns may carry a `meta_` prefix."""
    columns = [str(c) for c in frame.columns if str(c) not in skip]
    if wanted is not None:
        name = wanted if wanted in columns else f"meta_{wanted}" if f"meta_{wanted}" in columns else None
        if name is None:
            raise TopicchatError(
                f"The corpus has no time column '{wanted}'. Its columns are: {', '.join(columns)}. "
                "Pass the right one with --time-col, or --time-col none to skip topics over time."
            )
        times, _ = parse_times(frame[name])
        if times.notna().sum() == 0:
            raise TopicchatError(
                f"The column '{wanted}' holds no dates or years (first value: {frame[name].iloc[0]!r}); "
                "pass a date column with --time-col, or --time-col none."
            )
        return name
    best: tuple[int, int, str] | None = None  # (documents with a date, name preference, column)
    for name in columns:
        bare = name.lower().removeprefix("meta_")
        if not (bare in TIME_GUESSES or any(w in bare for w in ("date", "publish", "year", "time", "created"))):
            continue
        values = frame[name]
        filled = values.notna() & (values.astype(str).str.strip() != "")
        if filled.sum() == 0:
            continue
        times, _ = parse_times(values)
        if times[filled].notna().mean() < MIN_PARSED:
            continue
        preference = 2 if ("publish" in bare or "listed" in bare) else 1 if bare in TIME_GUESSES else 0
        key = (int(times.notna().sum()), preference, name)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def choose_granularity(first: pd.Timestamp, last: pd.Timestamp, years_only: bool) -> Granularity:
    """Months for a span of up to 3 years, quarters up to 10, years beyond (and for bare years)."""
    if years_only:
        return "year"
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months <= MONTHS_FOR_MONTHLY:
        return "month"
    return "quarter" if months <= MONTHS_FOR_QUARTERLY else "year"


def period_of(times: pd.Series, granularity: Granularity) -> pd.Series:
    """Each timestamp's period as text: '2025-03', '2025Q1' or '2025' ('' where there is no date)."""
    code = {"month": "M", "quarter": "Q", "year": "Y"}[granularity]
    periods = times.dt.to_period(code).astype(str)
    return periods.where(times.notna(), "")


def all_periods(first: str, last: str, granularity: Granularity) -> list[str]:
    """Every period from `first` to `last`, empty ones included, so a chart has no silent gaps."""
    code = {"month": "M", "quarter": "Q", "year": "Y"}[granularity]
    return [str(p) for p in pd.period_range(pd.Period(first, code), pd.Period(last, code), freq=code)]


@dataclass
class Timeline:
    """Documents per period, for the whole corpus and for every node of the topic tree."""

    column: str
    granularity: Granularity
    periods: list[str]
    totals: np.ndarray  # dated documents per period
    counts: dict[int, np.ndarray]  # node id -> documents per period
    doc_period: np.ndarray  # per document row: index into `periods`, -1 when undated
    undated: int
    outliers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def window(self, last: int) -> tuple[list[int], list[int]]:
        """Period positions of the last `last` periods and of the ones before them."""
        last = max(1, min(last, len(self.periods) - 1))
        cut = len(self.periods) - last
        return list(range(cut, len(self.periods))), list(range(cut))

    def span(self, positions: list[int]) -> str:
        """'2026-04 to 2026-07' (or one period) for a run of period positions."""
        if not positions:
            return ""
        a, b = self.periods[positions[0]], self.periods[positions[-1]]
        return a if a == b else f"{a} to {b}"

    def summary(self) -> dict:
        """What the manifest records about it."""
        return {
            "column": self.column,
            "granularity": self.granularity,
            "first": self.periods[0] if self.periods else None,
            "last": self.periods[-1] if self.periods else None,
            "periods": len(self.periods),
            "dated": int(self.totals.sum()),
            "undated": self.undated,
        }


def build_timeline(
    documents: pd.DataFrame,
    nodes: dict[int, TopicRecord],
    column: str,
    granularity: Granularity | None = None,
) -> Timeline | None:
    """Count documents per period for every node (a parent counts its leaves' documents); None when no
    document has a readable date."""
    if column not in documents.columns:
        return None
    times, years_only = parse_times(documents[column])
    dated = times.notna().to_numpy()
    if not dated.any():
        return None
    granularity = granularity or choose_granularity(times[dated].min(), times[dated].max(), years_only)
    labels = period_of(times, granularity)
    periods = all_periods(min(labels[dated]), max(labels[dated]), granularity)
    position = {p: i for i, p in enumerate(periods)}
    doc_period = np.array([position.get(p, -1) for p in labels], dtype=np.int64)
    n = len(periods)
    topic_of = documents["topic"].to_numpy()
    ok = doc_period >= 0
    totals = np.bincount(doc_period[ok], minlength=n)
    counts: dict[int, np.ndarray] = {}
    for node in sorted(nodes.values(), key=lambda t: t.level):
        if node.level == 0:
            rows = ok & (topic_of == node.id)
            counts[node.id] = np.bincount(doc_period[rows], minlength=n)
        else:
            counts[node.id] = sum((counts[c] for c in node.children if c in counts), start=np.zeros(n, dtype=np.int64))
    outliers = np.bincount(doc_period[ok & (topic_of == -1)], minlength=n)
    return Timeline(column, granularity, periods, totals, counts, doc_period, int((~ok).sum()), outliers)


def timeline_spec(frame: pd.DataFrame, wanted: str | None, skip: tuple[str, ...]) -> dict:
    """The manifest's `time` section for a corpus: the column ('none' turns it off) and period length."""
    if wanted is not None and wanted.lower() == "none":
        return {"column": None, "reason": "turned off with --time-col none"}
    column = guess_time_column(frame, wanted, skip)
    if column is None:
        return {"column": None, "reason": "no column of dates or years was found (pass one with --time-col)"}
    times, years_only = parse_times(frame[column])
    dated = times.notna()
    granularity = choose_granularity(times[dated].min(), times[dated].max(), years_only)
    return {"column": column, "granularity": granularity, "guessed": wanted is None}
