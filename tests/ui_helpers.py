"""Shared fixtures for the UI tests: a small synthetic corpus in four themes, built with the fake backends."""

from __future__ import annotations

import csv
import random
from pathlib import Path

XSS_TITLE = '<script>window.__xss=1</script> Zebrafinch birdsong <img src=x onerror="window.__xss2=1"> recognition'
XSS_TEXT = (
    "Zebrafinch birdsong recognition <script>window.__xss=1</script> with acoustic speech models "
    '<img src=x onerror="window.__xss2=1"> and spectrogram features of the zebrafinch waveform. '
    "Log in at [zebrafinch portal](https://evil.invalid/login) or https://evil.invalid/x, www.evil.invalid "
    "and mail spy@evil.invalid."
)
XSS_DOC_ID = "xss-1"
XSS_QUESTION = "which papers discuss zebrafinch birdsong recognition?"

THEMES: dict[str, list[str]] = {
    "retrieval": "retrieval dense passage ranking search query index reranker recall bm25 corpus lookup".split(),
    "translation": "translation bilingual multilingual bleu alignment parallel decoder target source lexicon".split(),
    "speech": "speech acoustic phoneme audio recognition waveform spectrogram prosody speaker microphone".split(),
    "sentiment": "sentiment polarity review opinion emotion aspect positive negative sarcasm rating".split(),
}
GENERIC = "neural model method results dataset evaluation approach experiments".split()


def make_rows(per_theme: int = 30, seed: int = 7, xss: bool = True) -> list[dict[str, str]]:
    """Short documents in clearly different themes (plus, optionally, one carrying HTML/JS payloads)."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for theme, words in THEMES.items():
        for i in range(per_theme):
            picks = rng.sample(words, 6)
            title = f"{picks[0].capitalize()} {picks[1]} for {picks[2]} {theme}"
            sentences = [
                f"We study {picks[0]} and {picks[1]} {theme} with a {rng.choice(GENERIC)} {picks[2]}.",
                f"The {picks[3]} {picks[4]} {theme} {rng.choice(GENERIC)} improves {picks[5]} {picks[0]}.",
                f"Our {rng.choice(GENERIC)} on {picks[2]} {picks[4]} shows strong {theme} {picks[1]} results.",
            ]
            rows.append({"id": f"{theme}-{i}", "title": title, "text": " ".join(sentences)})
    if xss:
        rows.append({"id": XSS_DOC_ID, "title": XSS_TITLE, "text": XSS_TEXT})
    return rows


def write_corpus(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write rows (id, title, text) as a CSV file."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "title", "text"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def build_test_index(folder: Path, rows: list[dict[str, str]] | None = None) -> Path:
    """Build an index of the synthetic corpus with the fake embedder and generator; returns its path."""
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings

    folder.mkdir(parents=True, exist_ok=True)
    source = write_corpus(folder / "corpus.csv", rows if rows is not None else make_rows())
    settings = BuildSettings(
        embedding_model="fake", generator="fake", cache_dir=folder / "cache", show_progress=False, min_cluster_size=5
    )
    return build_index(str(source), folder / "index", settings, report=lambda _msg: None)


def msg_text(message) -> str:
    """The text of a chat message: a gr.ChatMessage, or a dict whose content is a string or a list of parts."""
    content = message.content if hasattr(message, "content") else message["content"]
    if isinstance(content, str):
        return content
    if not isinstance(content, list | tuple):  # a component (a plot): no text
        return ""
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def msg_title(message) -> str | None:
    """The metadata title of a chat message (None for plain messages)."""
    meta = message.metadata if hasattr(message, "metadata") else message.get("metadata")
    return (meta or {}).get("title")


_BUILT: dict[str, Path] = {}


def shared_index(tmp_path_factory) -> Path:
    """The synthetic index (with the XSS document), built once per test session."""
    if "main" not in _BUILT:
        _BUILT["main"] = build_test_index(tmp_path_factory.mktemp("ui-index"))
    return _BUILT["main"]


# A corpus with a date column and enough themes for a topic tree (>= 16 leaves): theme 0 appears only in
# the last months (it grows), theme 1 only in the first months (it declines), the rest spread over 2024.
DATED_THEMES = [
    "glacier", "violin", "tractor", "orchid", "volcano", "saxophone", "harbour", "falcon", "cactus", "lantern",
    "meteor", "tulip", "canyon", "trumpet", "lobster", "walnut", "compass", "marble", "pelican", "kettle",
]  # fmt: skip
DATED_SUFFIXES = ["", "s", "wood", "field", "stone", "light", "craft", "work", "land", "line", "side", "fall"]
PROBLEM_SENTENCE = "However, measuring {w} drift over long periods remains an open problem."
UNDATED = 3


def dated_rows(per_theme: int = 12, seed: int = 3) -> list[dict[str, str]]:
    """Documents in 20 themes with a `published` date (2024-01 .. 2024-12) and a few undated ones, and
    `authors`: a regular writer per theme on every other document, one author on every third of all themes."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for t, theme in enumerate(DATED_THEMES):
        words = [theme + s for s in DATED_SUFFIXES]
        for i in range(per_theme):
            text = " ".join(rng.choice(words) for _ in range(16)) + "."
            if i % 4 == 0:
                text += " " + PROBLEM_SENTENCE.format(w=theme)
            month = 10 + i % 3 if t == 0 else 1 + i % 3 if t == 1 else 1 + (i * 7 + t) % 12
            published = "" if (t == 5 and i < UNDATED) else f"2024-{month:02d}-{1 + i % 27:02d}"
            authors = (
                [f"{theme.capitalize()} Writer"] * (i % 2 == 0) + ["Dana Dated"] * (i % 3 == 0) + [f"Guest {t}-{i}"]
            )
            rows.append(
                {
                    "id": f"{theme}-{i}",
                    "title": f"{theme.capitalize()} study {i}",
                    "text": text,
                    "published": published,
                    "authors": "; ".join(authors),
                }
            )
    return rows


def build_dated_index(folder: Path) -> Path:
    """The dated corpus built with the fake embedder and generator (a tree of about 20 leaves)."""
    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.settings import BuildSettings

    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "dated.csv"
    with source.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "title", "text", "published", "authors"])
        writer.writeheader()
        writer.writerows(dated_rows())
    settings = BuildSettings(
        embedding_model="fake", generator="fake", cache_dir=folder / "cache", show_progress=False, min_cluster_size=5
    )
    return build_index(str(source), folder / "index", settings, report=lambda _msg: None)


def shared_dated_index(tmp_path_factory) -> Path:
    """The dated index, built once per test session."""
    if "dated" not in _BUILT:
        _BUILT["dated"] = build_dated_index(tmp_path_factory.mktemp("dated-index"))
    return _BUILT["dated"]
