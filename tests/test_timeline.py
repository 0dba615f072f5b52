"""Topics over time and whole-corpus answers: the time column, the periods, the counts, and the answers
that quote them (fake models; the figures are checked against a recount of the documents)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.ui_helpers import DATED_THEMES, PROBLEM_SENTENCE, UNDATED, shared_dated_index
from topicchat.app.answer import Conversation
from topicchat.app.intent import name_years
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.timeline import all_periods, choose_granularity, guess_time_column, parse_times, timeline_spec


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    from topicchat.app.answer import Assistant

    return Assistant.open(shared_dated_index(tmp_path_factory))


def theme_topic(assistant, theme: str) -> int:
    """The leaf topic holding most documents of a theme."""
    docs = assistant.index.documents
    mine = docs[docs["doc_id"].str.startswith(f"{theme}-")]
    return int(mine["topic"].mode().iat[0])


# -- the time column and the periods ------------------------------------------------------------------
def test_the_time_column_is_guessed_from_names_and_values():
    frame = pd.DataFrame(
        {
            "text": ["a", "b", "c"],
            "note_date": ["soon", "later", "never"],  # a date-like name whose values are not dates
            "published": ["2021-01-05T10:00:00Z", "2021-03-01", None],
        }
    )
    assert guess_time_column(frame, None) == "published"
    assert guess_time_column(pd.DataFrame({"text": ["a"], "score": [3]}), None) is None
    years = pd.DataFrame({"year": [1999, 2005, "2010", None]})
    assert guess_time_column(years, None) == "year"
    times, years_only = parse_times(years["year"])
    assert years_only and times.dt.year.tolist()[:3] == [1999, 2005, 2010] and pd.isna(times.iat[3])


def test_a_named_time_column_must_exist_and_hold_dates():
    frame = pd.DataFrame({"text": ["a", "b"], "when": ["x", "y"]})
    with pytest.raises(TopicchatError, match="no time column 'missing'.*when"):
        guess_time_column(frame, "missing")
    with pytest.raises(TopicchatError, match="holds no dates"):
        guess_time_column(frame, "when")
    assert timeline_spec(frame, "none", ())["column"] is None


def test_the_period_length_follows_the_span():
    ts = pd.Timestamp
    assert choose_granularity(ts("2025-03-01"), ts("2026-07-31"), False) == "month"  # 17 months
    assert choose_granularity(ts("2015-01-01"), ts("2021-06-01"), False) == "quarter"
    assert choose_granularity(ts("1990-01-01"), ts("2020-01-01"), False) == "year"
    assert choose_granularity(ts("2024-01-01"), ts("2024-02-01"), True) == "year"  # bare years stay years
    assert all_periods("2024-11", "2025-02", "month") == ["2024-11", "2024-12", "2025-01", "2025-02"]


# -- the index's timeline ---------------------------------------------------------------------------
def test_the_build_records_the_column_and_every_node_is_counted(dated):
    index = dated.index
    spec = index.manifest["time"]
    assert spec["column"] == "published" and spec["granularity"] == "month" and spec["guessed"]
    timeline = index.timeline
    assert timeline.periods == [f"2024-{m:02d}" for m in range(1, 13)]
    assert timeline.undated == UNDATED == spec["undated"]
    assert int(timeline.totals.sum()) == len(index.documents) - UNDATED == spec["dated"]
    # a leaf's counts are its dated documents; a parent's are the sum of its children's
    months = pd.to_datetime(index.documents["published"], errors="coerce").dt.month
    for leaf in index.topics:
        mine = months[index.documents["topic"] == leaf.id].dropna().astype(int)
        assert timeline.counts[leaf.id].tolist() == [int((mine == m).sum()) for m in range(1, 13)]
    assert index.parents, "the dated corpus is large enough for a tree"
    for parent in index.parents:
        assert np.array_equal(timeline.counts[parent.id], sum(timeline.counts[c] for c in parent.children))


def test_an_index_without_dates_says_how_to_get_trends_and_still_finds_the_subject(assistant):
    from topicchat.app.answer import TokenEvent

    question = "how has research on telescope galaxy nebula changed?"
    events = list(assistant.stream(question))
    answer = assistant.ask(question)
    assert "--time-col" in answer.text and answer.chart is None
    assert answer.citations and all(c.doc_id.startswith("astronomy") for c in answer.citations)
    assert answer.intent == "trend" and answer.matched
    assert not assistant.ask("how has it changed?").citations  # no subject to search for
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)).strip() == answer.text  # streamed == final
    bare = assistant.ask("what is emerging?")  # nothing to search for: the note alone
    assert "--time-col" in bare.text and not bare.citations and not bare.matched


# -- trend answers ----------------------------------------------------------------------------------
def _numbers(line: str) -> tuple[int, int]:
    m = re.search(r": (\d+) documents \([\d.]+%\) against (\d+) before", line)
    assert m, line
    return int(m.group(1)), int(m.group(2))


def test_which_topics_grew_names_the_growing_theme_with_counted_figures(dated):
    answer = dated.ask("which topics grew in the last three months?")
    assert answer.intent == "emerging" and answer.chart is not None
    grower = theme_topic(dated, DATED_THEMES[0])
    assert answer.topics[0].id == grower
    line = next(x for x in answer.text.splitlines() if x.startswith(f"- Topic {grower}:"))
    recent, before = _numbers(line)
    counts = dated.index.timeline.counts[grower]
    assert (recent, before) == (int(counts[9:].sum()), int(counts[:9].sum()))
    assert "2024-10 to 2024-12" in answer.text
    # the example cited for it is one of its documents from the recent months
    cited = answer.citations[0]
    assert (
        cited.topic == grower and dated.index.documents.set_index("doc_id").loc[cited.doc_id, "published"] >= "2024-10"
    )
    assert answer.chart.series[f"{grower}: {dated.index.nodes[grower].label}"] == counts.tolist()


def test_which_topics_declined_names_the_fading_theme(dated):
    answer = dated.ask("which topics declined?")
    fader = theme_topic(dated, DATED_THEMES[1])
    assert answer.intent == "emerging" and answer.topics[0].id == fader
    assert "declined" in answer.text and theme_topic(dated, DATED_THEMES[0]) not in [t.id for t in answer.topics]


def test_a_trend_question_routes_the_subject_and_cites_both_ends(dated):
    theme = DATED_THEMES[0]
    answer = dated.ask(
        f"how has research on {theme} and {theme}s changed?"
    )  # two words: the fake embedder hashes words
    grower = theme_topic(dated, DATED_THEMES[0])
    assert answer.intent == "trend" and answer.topics[0].id == grower
    line = next(x for x in answer.text.splitlines() if "per month:" in x)
    series = [int(n) for n in re.findall(r"\d{4}-\d{2}: (\d+)", line)]
    assert series == dated.index.timeline.counts[grower].tolist()
    assert "grew" in answer.text
    assert all(c.topic == grower for c in answer.citations) and answer.citations
    payload = answer.to_json()
    assert payload["trend"]["periods"][0] == "2024-01" and json.dumps(payload)


def test_a_trend_of_a_named_topic_and_an_unknown_one(dated):
    fader = theme_topic(dated, DATED_THEMES[1])
    answer = dated.ask(f"how has topic {fader} changed?")
    assert answer.intent == "trend" and "declined" in answer.text and answer.topics[0].id == fader
    assert not dated.ask("how has topic 999 changed?").matched


# -- whole-corpus answers ---------------------------------------------------------------------------
def test_main_themes_cover_the_top_level_with_citations_and_coverage(dated):
    index = dated.index
    answer = dated.ask("what are the main themes?")
    assert answer.intent == "themes"
    top = index.top_level()
    assert [t.id for t in answer.topics] == [t.id for t in top]
    for node in top:
        assert f"{node.label} (topic {node.id}, {node.size} documents" in answer.text
    assert answer.citations and all(
        c.doc_id in {d for t in top for d in t.representative_doc_ids} for c in answer.citations
    )
    held = sum(t.size for t in top)
    assert (
        answer.coverage is not None
        and f"hold {held} of the {len(index.documents)} documents" in answer.coverage.render()
    )


def test_open_problems_quote_sentences_of_the_cited_abstracts(dated):
    answer = dated.ask("what are the open problems?")
    assert answer.intent == "themes" and answer.citations
    for line in answer.text.splitlines()[1:]:
        quote = re.search(r"“(.+)” \[(\d+)\]", line)
        if quote:
            cited = answer.citations[int(quote.group(2)) - 1]
            assert quote.group(1) in " ".join(cited.text.split())
            assert "remains an open problem" in quote.group(1)
    theme = DATED_THEMES[2]
    focused = dated.ask(f"what are the open problems in {theme} and {theme}s?")
    assert focused.topics[0].id == theme_topic(dated, DATED_THEMES[2])
    assert PROBLEM_SENTENCE.format(w=DATED_THEMES[2]) in focused.text


# -- searches and counts scoped in time -----------------------------------------------------------------


def _published(assistant) -> dict[str, str]:
    docs = assistant.index.documents
    return dict(zip(docs["doc_id"], docs["published"].astype(str), strict=True))


def test_a_search_in_one_month_cites_only_documents_of_that_month(dated):
    published = _published(dated)
    in_march = sum(p.startswith("2024-03") for p in published.values())
    answer = dated.ask("papers about glacier from 2024-03")
    assert answer.text.startswith(f"Only the {in_march} documents dated 2024-03 were searched")
    assert answer.citations and all(published[c.doc_id].startswith("2024-03") for c in answer.citations)
    assert all(f"[{c.n}] {c.title} ({c.date}; topic" in answer.text for c in answer.citations)
    assert answer.to_json()["citations"][0]["date"] == published[answer.citations[0].doc_id][:10]


def test_a_search_in_the_last_months_cites_only_those_months(dated):
    answer = dated.ask("papers on volcano in the last two months")
    assert answer.text.startswith("Only the") and "dated 2024-11 to 2024-12" in answer.text
    assert answer.citations and all(c.date[:7] in ("2024-11", "2024-12") for c in answer.citations)


def test_the_latest_papers_are_the_newest_of_the_closest(dated):
    published = _published(dated)
    answer = dated.ask("what are the latest papers on violin?")
    dates = [c.date for c in answer.citations]
    assert dates and dates == sorted(dates, reverse=True)
    assert all(c.doc_id.startswith("violin-") for c in answer.citations)
    plain = [published[c.doc_id] for c in dated.ask("which papers discuss violin?").citations]
    assert len(dates) == len(plain) and dates != sorted(plain, reverse=True)  # not the same documents reordered
    assert dates[0] >= max(plain) and dates[-1] >= min(plain)  # newer than what relevance alone shows


def test_a_period_without_documents_says_what_the_index_spans(dated):
    answer = dated.ask("which papers discuss glacier in 2019?")
    assert not answer.matched and answer.citations == []
    assert answer.text == "No documents are dated 2019: this index spans 2024-01 to 2024-12."


def test_time_scoped_questions_on_an_index_without_dates_say_so(assistant):
    answer = assistant.ask("what are the latest papers on telescope galaxy?")
    assert answer.text.startswith("This index has no dates")
    assert answer.citations and answer.citations[0].doc_id.startswith("astronomy") and not answer.citations[0].date


def test_a_count_in_one_month_is_counted_from_the_dates(dated):
    published = _published(dated)
    texts = {
        d: f"{t} {x}".lower()
        for d, t, x in zip(*(dated.index.documents[c] for c in ("doc_id", "title", "text")), strict=True)
    }
    word = "glacier"
    mention = [d for d, t in texts.items() if re.search(rf"\b{word}\b", t)]
    in_oct = sum(published[d].startswith("2024-10") for d in mention)
    dated_oct = sum(p.startswith("2024-10") for p in published.values())
    answer = dated.ask(f"how many documents mention {word} in 2024-10?")
    # the period asked for is the answer's first figure
    assert answer.text.splitlines()[1].startswith(
        f"- In 2024-10: {in_oct} of the {dated_oct} documents dated then hold every word of “{word}”"
    ), answer.text
    topic_rows = dated._rows_of_many([t.id for t in answer.topics])
    in_topics = sum(published[dated.index.documents["doc_id"].iat[r]].startswith("2024-10") for r in topic_rows)
    assert f"; {in_topics} of the documents in the topic(s) it routes to are dated then." in answer.text


def test_how_many_documents_of_a_year_or_month(dated):
    published = _published(dated)
    in_may = sum(p.startswith("2024-05") for p in published.values())
    assert dated.ask("how many papers are from 2024-05?").text.startswith(
        f"{in_may} of the index's {len(published)} papers are dated 2024-05"
    )
    dated_2024 = sum(p.startswith("2024") for p in published.values())
    assert dated.ask("how many documents were published in 2024?").text.startswith(f"{dated_2024} of the index's")
    assert (
        dated.ask("how many papers in 1999?").text == "No papers are dated 1999: this index spans 2024-01 to 2024-12."
    )


def test_the_newest_documents_when_no_subject_is_asked(dated):
    published = _published(dated)
    newest = sorted((p for p in published.values() if p), reverse=True)
    answer = dated.ask("what are the most recent papers?")
    assert answer.text.startswith("The newest documents of the index (by 'published'")
    assert [c.date for c in answer.citations] == newest[: len(answer.citations)]
    october = dated.ask("show me papers from 2024-10")
    in_october = sorted((p for p in published.values() if p.startswith("2024-10")), reverse=True)
    assert [c.date for c in october.citations] == in_october[: len(october.citations)]


def test_the_oldest_documents_first_with_or_without_a_subject(dated):
    published = _published(dated)
    oldest = sorted(p for p in published.values() if p)
    answer = dated.ask("what is the oldest paper in the collection?")
    assert answer.text.startswith("The oldest documents of the index (by 'published'")
    assert [c.date for c in answer.citations] == oldest[: len(answer.citations)]
    on_violin = dated.ask("the oldest papers on violin")
    dates = [c.date for c in on_violin.citations]
    assert dates and dates == sorted(dates) and all(c.doc_id.startswith("violin-") for c in on_violin.citations)
    newest = [c.date for c in dated.ask("the latest papers on violin").citations]
    assert dates[0] < newest[0]  # the other end of the same closest documents
    three = dated.ask("show me the 3 earliest papers")
    assert [c.date for c in three.citations] == oldest[:3]


def test_this_year_and_this_month_are_calendar_periods_of_the_newest_dates(dated, monkeypatch):
    # the same documents six months later: 2024-07 to 2025-06, so "this year" (2025) is not the last 12 months
    docs = dated.index.documents.copy()
    later = pd.to_datetime(docs["published"], errors="coerce", format="mixed") + pd.DateOffset(months=6)
    docs["published"] = later.dt.strftime("%Y-%m-%d").where(later.notna(), docs["published"])  # undated stay so
    monkeypatch.setattr(dated.index, "documents", docs)
    recount = type(dated.index).timeline.func(dated.index)  # the timeline of the moved dates, for this test only
    monkeypatch.setitem(dated.index.__dict__, "timeline", recount)
    published = _published(dated)
    assert dated.index.timeline.periods[0] == "2024-07" and dated.index.timeline.periods[-1] == "2025-06"
    in_2025 = sum(p.startswith("2025") for p in published.values())
    assert 0 < in_2025 < sum(bool(p) for p in published.values())
    assert dated.ask("how many papers this year?").text.startswith(
        f"{in_2025} of the index's {len(published)} papers are dated 2025 "
    )
    in_june = sum(p.startswith("2025-06") for p in published.values())
    answer = dated.ask("papers on volcano this month")
    assert answer.text.startswith(f"Only the {in_june} documents dated 2025-06 were searched"), answer.text
    assert answer.citations and all(c.date.startswith("2025-06") for c in answer.citations)
    quarter = dated.ask("papers on volcano this quarter")
    assert "dated 2025-04 to 2025-06 were searched" in quarter.text.splitlines()[0]
    this_year = dated.ask("papers on volcano this year")
    assert this_year.citations and all(c.date.startswith("2025") for c in this_year.citations)
    assert "dated 2025-01 to 2025-06 were searched" in this_year.text.splitlines()[0]
    # "last year" / "last month" / "last quarter": the calendar period before; "in the last year": 12 months
    in_2024 = sum(p.startswith("2024") for p in published.values())
    assert dated.ask("how many papers were published last year?").text.startswith(
        f"{in_2024} of the index's {len(published)} papers are dated 2024 "
    )
    in_may = sum(p.startswith("2025-05") for p in published.values())
    last_month = dated.ask("show me papers from last month")
    assert last_month.text.startswith(f"Only the {in_may} documents dated 2025-05 were searched"), last_month.text
    assert last_month.citations and all(c.date.startswith("2025-05") for c in last_month.citations)
    last_quarter = dated.ask("papers on volcano last quarter")
    assert "dated 2025-01 to 2025-03 were searched" in last_quarter.text.splitlines()[0]
    since = dated.ask("how many papers since last year?")  # 2024 and on: every dated document here
    assert since.text.startswith(f"{in_2024 + in_2025} of the index's {len(published)} papers are dated"), since.text
    rolling = dated.ask("papers on volcano in the last year")
    assert "dated 2024-07 to 2025-06 were searched" in rolling.text.splitlines()[0]


def test_topics_covering_a_subject_in_a_period_count_their_documents_then(dated):
    published = _published(dated)
    docs = dated.index.documents
    answer = dated.ask("what topics cover volcano in 2024?")
    assert answer.intent == "which_topics"
    lines = [line for line in answer.text.splitlines() if line.startswith("- Topic ")]
    assert lines and "2024" not in answer.text.split("Topics covering")[1].splitlines()[0]  # not searched for
    for line in lines:
        topic = int(line.split()[2].rstrip(":"))
        rows = docs[docs["topic"] == topic]
        in_2024 = sum(published[d].startswith("2024") for d in rows["doc_id"])
        assert f"({len(rows)} documents, {in_2024} dated 2024" in line, line
    listed = dated.ask("list all topics in 2024")  # the topics ranked by their documents of the period
    assert listed.intent == "largest_topics" and "dated 2024" in listed.text.splitlines()[0]


def test_growth_this_year_still_compares_the_last_months_with_the_rest(dated):
    # an index within one calendar year: "this year" as a period would leave nothing earlier to compare with
    answer = dated.ask("which topics grew this year?")
    assert answer.text.startswith("Topics that gained the most share of the documents in 2024-02 to 2024-12"), (
        answer.text
    )


def test_most_cited_papers_are_ranked_by_a_citation_column_or_refused_without_one(dated, monkeypatch):
    refused = dated.ask("what are the most cited papers?")
    assert not refused.matched and refused.citations == []
    assert refused.text.startswith("This index holds no citation counts (its documents carry: doc_id")
    on_violin = dated.ask("the most cited papers on violin")
    assert on_violin.text.startswith("This index holds no citation counts")
    assert on_violin.citations and all(c.doc_id.startswith("violin-") for c in on_violin.citations)
    flagged = dated.index.documents.copy()
    flagged["is_cited"] = True  # a yes/no column is no count
    monkeypatch.setattr(dated.index, "documents", flagged)
    assert dated.ask("the most cited papers").text.startswith("This index holds no citation counts")
    docs = dated.index.documents.copy()
    docs["citations"] = np.arange(len(docs)) * 7 % 101  # counts unrelated to the order of the documents
    monkeypatch.setattr(dated.index, "documents", docs)
    by_count = dict(zip(docs["doc_id"], docs["citations"], strict=True))
    top = dated.ask("which papers have the most citations?")
    expected = sorted(by_count.values(), reverse=True)
    assert [by_count[c.doc_id] for c in top.citations] == expected[: len(top.citations)]
    assert f"({expected[0]:,} citations; topic" in top.text
    ranked = dated.ask("the 3 most cited papers on violin")
    counts = [by_count[c.doc_id] for c in ranked.citations]
    assert len(counts) == 3 and counts == sorted(counts, reverse=True)
    assert all(c.doc_id.startswith("violin-") for c in ranked.citations)
    assert f"[1] {counts[0]:,} citations" in ranked.text


def test_a_range_of_months_is_counted_and_searched(dated):
    published = _published(dated)
    spring = [d for d, p in published.items() if "2024-03" <= p[:7] <= "2024-05"]
    answer = dated.ask("papers about glacier from 2024-03 to 2024-05")
    assert answer.text.startswith(f"Only the {len(spring)} documents dated 2024-03 to 2024-05 were searched")
    assert all("2024-03" <= c.date[:7] <= "2024-05" for c in answer.citations)


# -- peaks, authors and persons in time (the figures are recounted from the documents) -----------------
def _per_period(text: str, unit: str) -> dict[str, int]:
    line = next(x for x in text.splitlines() if x.startswith(f"Per {unit}: "))
    return {p: int(n) for p, n in re.findall(r"([\dQ-]+): (\d+)", line[len(f"Per {unit}: ") :])}


def _mentioning(assistant, word: str) -> list[str]:
    docs = assistant.index.documents
    return [
        d
        for d, t, x in zip(docs["doc_id"], docs["title"], docs["text"], strict=True)
        if re.search(rf"\b{word}s?\b", f"{t} {x}".lower())
    ]


def test_the_month_with_the_most_papers_on_a_subject_is_counted(dated):
    published = _published(dated)
    for word in ("glacier", "tractor"):
        answer = dated.ask(f"which month had the most papers about {word}?")
        assert answer.intent == "count" and answer.chart is not None
        recount: dict[str, int] = {}
        for d in _mentioning(dated, word):
            if published[d]:
                recount[published[d][:7]] = recount.get(published[d][:7], 0) + 1
        per = _per_period(answer.text, "month")
        assert {p: n for p, n in per.items() if n} == recount
        best = max(recount.values())
        peaks = [p for p, n in sorted(recount.items()) if n == best]
        first = answer.text.splitlines()[0]
        assert first.startswith("By month of 'published', the month with the most documents holding every word of")
        assert (f": {peaks[0]}, {best} (" if len(peaks) == 1 else f": {', '.join(peaks)}, {best} each.") in first
        assert answer.citations and all(c.date[:7] in peaks for c in answer.citations)
        assert all(c.doc_id.startswith(f"{word}-") for c in answer.citations)


def test_coarser_periods_add_up_and_edges_are_flagged(dated):
    published = [p for p in _published(dated).values() if p]
    quarter = dated.ask("which quarter had the most papers?")
    recount = {f"2024Q{q}": sum(1 + (int(p[5:7]) - 1) // 3 == q for p in published) for q in range(1, 5)}
    assert _per_period(quarter.text, "quarter") == recount
    best = max(recount.values())
    assert quarter.text.startswith("By quarter of 'published' (added up from its months), the quarter")
    assert [p for p, n in recount.items() if n == best][0] in quarter.text.splitlines()[0]
    year = dated.ask("what year saw the fewest papers?")
    assert f"the year with the fewest documents: 2024, {len(published)}." in year.text
    assert "2024 is the index's first and last year, which its documents may cover only in part." in year.text
    fewest = dated.ask("which month had the fewest papers about glacier?")  # only Oct-Dec mention it
    assert "the month with the fewest documents holding every word of “glacier”" in fewest.text
    assert "is the index's" not in fewest.text.splitlines()[0]


def test_which_authors_in_a_period_counts_only_the_documents_dated_then(dated):
    docs = dated.index.documents
    answer = dated.ask("which authors work on tractor in 2024-01 to 2024-06?")
    assert answer.intent == "authors" and answer.topics
    rows = docs[
        docs["topic"].isin([t.id for t in answer.topics]) & docs["published"].str[:7].between("2024-01", "2024-06")
    ]
    assert f"dated 2024-01 to 2024-06: {len(rows)} documents, counted from the 'authors' column" in answer.text
    listed = dict((n, int(c)) for n, c in re.findall(r"^- (.+): (\d+) documents", answer.text, re.MULTILINE))
    assert listed
    for name, n in listed.items():
        assert n == int(rows["authors"].str.split("; ").apply(lambda a, name=name: name in a).sum())
    assert "No documents are dated 2019" in dated.ask("which authors work on tractor in 2019?").text


def test_papers_by_a_person_on_a_subject_and_in_a_period(dated):
    docs = dated.index.documents
    hers = docs[docs["authors"].str.contains("Dana Dated", regex=False)]
    on = dated.ask("papers by Dana Dated on violin")
    assert on.text.startswith(f"{len(hers)} documents name “Dana Dated” as an author")
    violin = hers["doc_id"].str.startswith("violin-").sum()
    assert f"{violin} of them hold every word of “violin”" in on.text
    assert [c.doc_id.startswith("violin-") for c in on.citations[:violin]] == [True] * violin
    march = dated.ask("papers by Dana Dated from 2024-03")
    in_march = hers[hers["published"].str.startswith("2024-03")]
    assert f"; {len(in_march)} of them are dated 2024-03" in march.text
    assert {c.doc_id for c in march.citations} == set(in_march["doc_id"])
    # a "by" that names no author is read as a search of the whole question
    tools = dated.ask("papers on violin by hand tools")
    assert tools.intent == "papers" and tools.citations and tools.citations[0].doc_id.startswith("violin-")


def test_open_ranges_and_month_names_are_read_as_periods(dated):
    published = _published(dated)
    since = sum(p[:7] >= "2024-11" for p in published.values() if p)
    answer = dated.ask("how many documents were published since November 2024?")
    assert answer.text.startswith(f"{since} of the index's {len(published)} documents are dated from 2024-11 on")
    before = dated.ask("papers about tractor before 2024-04")
    early = [d for d, p in published.items() if p and p[:7] <= "2024-03"]
    assert before.text.startswith(f"Only the {len(early)} documents dated 2024-01 to 2024-03 were searched")
    assert before.citations and all(c.date[:7] <= "2024-03" for c in before.citations)


def test_help_and_what_the_index_is_are_answered_from_the_index(dated, assistant):
    helped = dated.ask("what can you do?")
    assert helped.intent == "help" and helped.text.startswith(
        f"I answer questions about the {len(dated.index.documents)}"
    )
    largest = max(dated.index.topics, key=lambda t: t.size)
    subject = (largest.keywords.get("keybert") or largest.keywords["ctfidf"])[0][0]
    assert f"'papers on {subject}'" in helped.text and "which month had the most papers on" in helped.text
    assert "'which authors work on" in helped.text and "tell me about source 2" in helped.text
    undated = assistant.ask("help")
    assert "changed?" not in undated.text and "which authors" not in undated.text
    assert dated.ask("thanks!").text.startswith("You're welcome.")
    about = dated.ask("how was this index built?")
    assert about.intent == "about_index"
    assert about.text.startswith(f"This index holds {len(dated.index.documents)} documents from dated.csv")
    dated_count = sum(bool(p) for p in _published(dated).values())
    assert f"Dates: 'published' by month, 2024-01 to 2024-12 ({dated_count} dated, {UNDATED} undated)." in about.text
    assert "Authors: column 'authors'." in about.text
    assert "Dates: none" in assistant.ask("what dates does the corpus cover?").text
    outliers = int((dated.index.documents["topic"] == -1).sum())
    assert dated.ask("how many documents are outliers?").text.startswith(
        f"{outliers} of the index's {len(dated.index.documents)} documents"
    )


def test_a_fragment_changes_the_previous_question_and_it_refers_back(dated):
    from topicchat.app.answer import Conversation

    published = _published(dated)
    conv = Conversation()
    dated.ask("how many documents mention glacier?", conv)
    november = dated.ask("and in 2024-11?", conv)
    assert november.intent == "count"
    assert november.text.startswith("(Read as: how many documents are about “glacier” in 2024-11.)\n")
    in_nov = sum(published[d].startswith("2024-11") for d in _mentioning(dated, "glacier"))
    assert f"- In 2024-11: {in_nov} of the " in november.text.splitlines()[2]
    violin = dated.ask("what about violin?", conv)  # the subject changes, the period stays
    assert violin.text.startswith("(Read as: how many documents are about “violin” in 2024-11.)")
    # "it" is the topic asked about before
    leaf = theme_topic(dated, "tractor")
    dated.ask(f"tell me about topic {leaf}", conv)
    authors = dated.ask("which authors work on it?", conv)
    assert authors.text.startswith(f"Authors in the {dated.topics[leaf].size} documents of topic {leaf} (")
    trend = dated.ask("how has it changed?", conv)
    assert trend.intent == "trend" and f"- Topic {leaf}: " in trend.text
    # a person swapped for another, and a fragment with nothing before it
    conv = Conversation()
    dated.ask("papers by Dana Dated", conv)
    other = dated.ask("what about Glacier Writer?", conv)
    writer = dated.index.documents["authors"].str.contains("Glacier Writer", regex=False).sum()
    assert other.text.startswith(f"(Read as: papers by Glacier Writer.)\n{writer} documents name “Glacier Writer”")
    fresh = dated.ask("and in 2024-03?", Conversation())
    assert fresh.citations and all(c.date.startswith("2024-03") for c in fresh.citations)


def test_searches_in_a_topic_limits_and_documents_by_id(dated):
    docs = dated.index.documents
    leaf = theme_topic(dated, "glacier")
    inside = dated.ask(f"papers in topic {leaf} about glacierwood")
    assert inside.citations and {c.topic for c in inside.citations} <= {leaf, -1}
    assert inside.routing.restricted_to == dated.leaves_under(leaf)
    newest = dated.ask(f"latest papers in topic {leaf}")
    in_leaf = docs[docs["topic"] == leaf]
    assert newest.text.startswith(f"Only the {len(in_leaf)} documents of topic(s) {leaf} were searched.")
    dates = [c.date for c in newest.citations]
    assert dates == sorted(in_leaf["published"].str[:10], reverse=True)[: len(dates)]
    assert "There is no topic 999" in dated.ask("papers in topic 999 about glacier").text
    assert len(dated.ask("give me 8 papers about glacier").citations) == 8
    assert len(dated.ask("show me the 7 newest papers").citations) == 7
    top = dated.ask("top 2 topics")
    assert top.text.startswith("The 2 largest of") and len(top.citations) == 2
    smallest = dated.ask("what is the smallest topic?").text
    sizes = [int(n) for n in re.findall(r"^- Topic \d+: .+? \((\d+) documents", smallest, re.MULTILINE)]
    assert sizes and sizes == sorted(t.size for t in dated.index.topics)[: len(sizes)]
    october = int((in_leaf["published"].str[:7] == "2024-10").sum())
    counted = dated.ask(f"how many papers in topic {leaf} were published in 2024-10?")
    assert f" {october} of them are dated 2024-10." in counted.text
    opened = dated.ask("tell me about document glacier-3")
    assert opened.intent == "document" and "· by Dana Dated; Guest 0-3" in opened.text


def test_what_emerged_in_a_period_or_near_a_subject(dated):
    grower, fader = theme_topic(dated, DATED_THEMES[0]), theme_topic(dated, DATED_THEMES[1])
    counts = dated.index.timeline.counts[grower]
    since = dated.ask("what topics emerged since 2024-11?")
    assert since.topics and since.topics[0].id == grower
    line = next(x for x in since.text.splitlines() if x.startswith(f"- Topic {grower}:"))
    assert _numbers(line) == (int(counts[10:].sum()), int(counts[:10].sum()))
    assert "in 2024-11 to 2024-12 (" in since.text
    between = dated.ask("which topics declined between 2024Q1 and 2024Q4?")  # 2024Q4 against 2024Q1
    assert between.topics and between.topics[0].id == fader
    assert "in 2024-10 to 2024-12 (" in between.text and "against 2024-01 to 2024-03 (" in between.text
    assert "no documents dated before 2024-01" in dated.ask("what topics emerged in 2024-01?").text
    near = dated.ask(f"what are the emerging topics in {DATED_THEMES[0]}?")
    area = dated.topics[grower].parent
    assert near.text.startswith(f"Topics near “{DATED_THEMES[0]}” (under topic {area if area is not None else grower}")
    assert {t.id for t in near.topics} <= set(dated.leaves_under(area if area is not None else grower))


def test_one_subject_in_two_periods_is_counted_per_period(dated):
    published = _published(dated)
    docs = _mentioning(dated, "tractor")
    per = {
        q: sum(published[d][:7] in [f"2024-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)] for d in docs) for q in (3, 4)
    }
    totals = {
        q: sum(p[:7] in [f"2024-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)] for p in published.values())
        for q in (3, 4)
    }
    for question in (
        "compare tractor in 2024Q3 and 2024Q4",
        "which quarter had more papers on tractor, 2024Q3 or 2024Q4?",
    ):
        answer = dated.ask(question)
        assert answer.intent == "count", question
        assert (
            f"Per quarter: 2024Q3: {per[3]} ({per[3] / totals[3]:.1%} of {totals[3]}) · "
            f"2024Q4: {per[4]} ({per[4] / totals[4]:.1%} of {totals[4]})." in answer.text
        )


def test_the_topics_whose_label_or_keywords_name_a_subject(dated):
    for word in ("tulip", "glacier", "harbourside"):
        found = dated._topics_naming(word)
        expected = [
            t.id
            for t in sorted(dated.index.topics, key=lambda t: (-t.size, t.id))
            if {word, word + "s"}
            & set(
                re.findall(
                    r"\w+", " ".join([t.label, *t.top_keywords(10, "keybert"), *t.top_keywords(10, "ctfidf")]).lower()
                )
            )
        ]
        assert found == expected, word
    assert dated._topics_naming("tulip")  # the check is not vacuous


def test_fragments_narrow_change_the_unit_and_it_stands_for_the_subject(dated):
    from topicchat.app.answer import Conversation

    conv = Conversation()
    dated.ask("papers on glacier", conv)
    narrowed = dated.ask("and for glacierwood?", conv)
    assert narrowed.text.startswith("(Read as: papers on “glacier glacierwood”.)")
    conv = Conversation()
    dated.ask("which month had the most papers on tractor?", conv)
    quarter = dated.ask("and by quarter?", conv)
    assert quarter.text.startswith("(Read as: which quarter had the most documents on “tractor”.)")
    assert "Per quarter: 2024Q1: " in quarter.text
    conv = Conversation()
    dated.ask("papers on violin", conv)
    most = dated.ask("which month had the most?", conv)
    assert "the month with the most documents holding every word of “violin”" in most.text
    inside = dated.ask("is it early?", conv)  # "it" inside a question is the previous subject
    assert inside.routing is not None and inside.routing.query == "is violin early"
    # a past open range the index does not reach is part of the subject: the question is searched at any date
    before = dated.ask("papers on violin tuning before 2020")
    assert before.text.startswith("No documents are dated up to 2019: this index spans 2024-01 to 2024-12. So the")
    assert before.citations
    assert not dated.ask("papers on violin in 2019").citations  # a period asked for stays a refusal


def test_examples_and_how_it_works_are_help_first_and_about_the_subject_after(dated):
    from topicchat.app.answer import Conversation

    assert dated.ask("examples?").intent == "help" and dated.ask("how does it work?").intent == "help"
    conv = Conversation()
    dated.ask("papers on glacier", conv)
    after = dated.ask("examples?", conv)
    assert after.intent == "papers" and after.routing is not None and after.routing.query == "glacier examples"


def test_the_largest_topics_of_a_period_are_ranked_by_that_periods_documents(dated):
    answer = dated.ask("which topics had the most papers in March 2024?")
    docs = dated.index.documents
    march = pd.to_datetime(docs["published"], errors="coerce").dt.strftime("%Y-%m") == "2024-03"
    expected = docs[march & (docs.topic >= 0)]["topic"].value_counts()
    found = re.findall(r"^- Topic (\d+): .+? \((\d+) documents? dated 2024-03", answer.text, re.MULTILINE)
    assert found, answer.text
    assert [int(n) for _, n in found] == sorted(expected.tolist(), reverse=True)[: len(found)]
    assert all(expected[int(t)] == int(n) for t, n in found), "each count is recounted from the documents"
    dates = {c.doc_id: c.date for c in answer.citations}
    assert dates and all(str(d).startswith("2024-03") for d in dates.values()), "examples are from March"


def test_a_comparison_in_a_period_counts_only_that_periods_documents_and_a_follow_up_moves_it(dated):
    from topicchat.app.answer import Conversation

    docs = dated.index.documents
    month = pd.to_datetime(docs["published"], errors="coerce").dt.strftime("%Y-%m")

    def holding(word: str, period: str) -> int:
        return int((docs["text"].str.contains(rf"\b{word}s?\b", regex=True) & (month == period)).sum())

    conv = Conversation()
    answer = dated.ask("violin vs glacier in February 2024", conv)
    assert answer.intent == "compare", answer.text
    n = int((month == "2024-02").sum())
    assert f"in the {n} documents dated 2024-02 (of {len(docs)})" in answer.text
    violin, glacier = holding("violin", "2024-02"), holding("glacier", "2024-02")
    assert violin > 0 == glacier, "violins are dated January to March, glaciers October to December"
    assert (
        re.search(rf"\b{violin} documents? dated 2024-02 \(", answer.text)
        and "No documents dated 2024-02 hold every word of “glacier”" in answer.text
    )
    assert answer.citations and all(c.date.startswith("2024-02") for c in answer.citations if c.date)
    later = dated.ask("and in November 2024?", conv)
    assert later.text.startswith("(Read as: compare “violin” and “glacier” in 2024-11.)"), later.text
    assert re.search(rf"\b{holding('glacier', '2024-11')} documents? dated 2024-11 \(", later.text)
    assert "No documents dated 2024-11 hold every word of “violin”" in later.text


def test_follow_ups_keep_a_comparison_or_a_ranking_and_a_bare_month_takes_the_year_before(dated):
    from topicchat.app.answer import Conversation

    conv = Conversation()
    dated.ask("violin vs glacier in October 2024", conv)
    november = dated.ask("and in November?", conv)
    assert november.text.startswith("(Read as: compare “violin” and “glacier” in 2024-11.)"), november.text
    search = dated.ask("what about tractor?", conv)  # a search on the new subject, in the same month
    assert search.text.startswith("(Read as: papers on “tractor” in 2024-11.)"), search.text
    assert "Only the " in search.text and all(c.date.startswith("2024-11") for c in search.citations)
    conv = Conversation()
    dated.ask("what are the biggest topics about glacier?", conv)
    ranked = dated.ask("and in 2024-11?", conv)
    assert (
        ranked.intent == "largest_topics" and "(Read as: the largest topics about “glacier” in 2024-11.)" in ranked.text
    )
    other = dated.ask("what about violin?", conv)
    assert other.text.startswith("(Read as: the largest topics about “violin” in 2024-11.)"), other.text


def test_month_names_without_a_year_take_the_index_s_year(dated):
    published = _published(dated)
    in_may = sum(p.startswith("2024-05") for p in published.values())
    assert dated.ask("how many papers were published in May?").text.startswith(
        f"{in_may} of the index's {len(published)} papers are dated 2024-05 "
    )
    march = dated.ask("papers about glacier from March")
    in_march = sum(p.startswith("2024-03") for p in published.values())
    assert march.text.startswith(f"Only the {in_march} documents dated 2024-03 were searched"), march.text
    assert march.citations and all(c.date.startswith("2024-03") for c in march.citations)
    ranged = dated.ask("papers about glacier from March to May")
    assert "dated 2024-03 to 2024-05 were searched" in ranged.text.splitlines()[0]
    assert "read as" not in march.text, "one year holds March: nothing to say"
    verb = dated.ask("which papers may discuss glacier?")  # 'may' the verb: no period
    assert not verb.text.startswith("Only the") and verb.citations


def test_a_month_held_in_two_years_is_the_newest_and_the_answer_says_so(dated, monkeypatch):
    docs = dated.index.documents.copy()  # every other document a year later: each month in 2024 and 2025
    moved = pd.to_datetime(docs["published"], errors="coerce", format="mixed")
    moved = moved.where(np.arange(len(docs)) % 2 == 0, moved + pd.DateOffset(years=1))
    docs["published"] = moved.dt.strftime("%Y-%m-%d").where(moved.notna(), docs["published"])
    monkeypatch.setattr(dated.index, "documents", docs)
    monkeypatch.setitem(dated.index.__dict__, "timeline", type(dated.index).timeline.func(dated.index))
    published = _published(dated)
    answer = dated.ask("how many papers are from May?")
    in_may = sum(p.startswith("2025-05") for p in published.values())
    assert answer.text.startswith("(May read as May 2025; the index also holds May 2024.)\n"), answer.text
    assert f"{in_may} of the index's {len(published)} papers are dated 2025-05 " in answer.text
    conv = Conversation()
    dated.ask("how many papers are from 2024?", conv)
    assert "dated 2024-07 were searched" in dated.ask("papers on volcano in July", conv).text, "the year asked before"
    over = dated.ask("papers about volcano from November to February")  # over the new year: from November 2024
    assert "dated 2024-11 to 2025-02 were searched" in over.text, over.text


def test_name_years_reads_only_months_without_a_year():
    year = {4: 2026, 11: 2025, 2: 2026}.get
    assert name_years("papers from April", year) == ("papers from April 2026", [("April", 2026)])
    assert name_years("papers from April 2025", year)[0] == "papers from April 2025"
    assert name_years("papers after April 15", year)[0] == "papers after April 15", "a day: left as written"
    assert name_years("papers that may help", year)[0] == "papers that may help"
    assert name_years("from November to February", year)[0] == "from November 2025 to February 2026"
    assert name_years("from April to February", year)[0] == "from April 2025 to February 2026", "backwards: a year back"
    assert name_years("papers in June", year) == ("papers in June", []), "no year for it: left as written"


def test_narrowing_follow_ups_keep_the_subject_and_its_period(dated):
    published = _published(dated)
    conv = Conversation()
    dated.ask("papers about volcano", conv)
    march = dated.ask("which of those are from March?", conv)  # volcano papers of March, not the topic's newest
    assert march.citations and all(published[c.doc_id].startswith("2024-03") for c in march.citations)
    assert march.citations[0].doc_id.startswith("volcano-"), march.text
    count = dated.ask("how many of them?", conv)
    in_march = sum(published[d].startswith("2024-03") for d in _mentioning(dated, "volcano"))
    assert count.intent == "count" and count.text.startswith("How many documents are about “volcano”"), count.text
    assert f"- In 2024-03: {in_march} of the " in count.text, "the period asked before"
    only = dated.ask("only the ones from May", conv)
    assert only.citations and all(published[c.doc_id].startswith("2024-05") for c in only.citations)
    assert only.citations[0].doc_id.startswith("volcano-"), only.text
    bare = dated.ask("how many?", Conversation())  # nothing before: the index's size
    assert bare.text.startswith(f"The index holds {len(published)} documents")


def test_papers_by_co_authors_name_them_all(dated):
    docs = dated.index.documents
    both = docs["authors"].str.contains("Dana Dated", regex=False) & docs["authors"].str.contains(
        "Glacier Writer", regex=False
    )
    answer = dated.ask("papers co-authored by Dana Dated and Glacier Writer")
    assert int(both.sum()) > 0 and answer.text.startswith(
        f"{int(both.sum())} documents name “Dana Dated” and “Glacier Writer” as authors together"
    ), answer.text
    assert {c.doc_id for c in answer.citations} == set(docs.loc[both, "doc_id"])
    none = dated.ask("papers by Glacier Writer and Violin Writer")
    assert not none.matched and "No document in this index names all of “Glacier Writer”, “Violin Writer”" in none.text


def test_a_trend_between_two_named_periods_compares_them(dated):
    leaf = theme_topic(dated, "glacier")
    timeline = dated.index.timeline
    counts = {p: int(c) for p, c in zip(timeline.periods, timeline.counts[leaf], strict=True)}
    answer = dated.ask("how did glacier change from October to December?")
    line = next(x for x in answer.text.splitlines() if x.startswith(f"- Topic {leaf}:"))
    assert f": {counts['2024-10']} in 2024-10 (" in line and f"), {counts['2024-12']} in 2024-12 (" in line, line
    since = dated.ask("how has glacier changed since 2024-11?")
    line = next(x for x in since.text.splitlines() if x.startswith(f"- Topic {leaf}:"))
    assert f"{counts['2024-11'] + counts['2024-12']} in 2024-11 to 2024-12" in line, line


def test_counting_follow_ups_keep_verbs_out_of_the_subject(dated):
    published = _published(dated)
    conv = Conversation()
    dated.ask("papers about volcano", conv)
    count = dated.ask("how many of them were published in May?", conv)
    in_may = sum(published[d].startswith("2024-05") for d in _mentioning(dated, "volcano"))
    assert count.text.startswith("How many documents are about “volcano”"), count.text
    assert f"- In 2024-05: {in_may} of the " in count.text
    joined = dated.ask("how many of those mention volcanostone?", conv)  # narrowed: both subjects' words
    assert joined.text.startswith("How many documents are about “volcano volcanostone”"), joined.text
    other = dated.ask("and how many papers on glacier are there?", conv)  # a new subject, not "volcano glacier"
    assert other.text.startswith("How many papers are about “glacier”"), other.text
    periods = dated.ask("compare May vs June")  # the whole index in each month
    in_june = sum(p.startswith("2024-06") for p in published.values())
    assert periods.intent == "count" and f"2024-06: {in_june}" in periods.text, periods.text


def test_a_month_on_an_index_without_dates_and_a_subject_counted_in_a_topic(dated, assistant):
    plain = assistant.ask("papers about telescope from March")  # the undated index
    assert plain.text.startswith("(This index has no dates, so “March” is read as a word, not as a month.)\n")
    leaf = theme_topic(dated, "volcano")
    conv = Conversation()
    dated.ask("how many documents mention volcano?", conv)
    counted = dated.ask(f"how many of those are in topic {leaf}?", conv)
    in_leaf = set(dated.index.documents["doc_id"].iloc[dated._rows_of(leaf)])
    holding = sum(d in in_leaf for d in _mentioning(dated, "volcano"))
    size = dated.topics[leaf].size
    assert (
        f"- In topic {leaf} (" in counted.text
        and f"): {holding} of its {size} documents hold every word of “volcano”." in counted.text
    )
