"""Golden test: a fixed corpus, seed and fake models give the same topics and the same `ask --json`
answers to 20 questions as recorded in tests/golden/expected.json.

Refactors must leave it green. A change that means to alter topics or answers regenerates the file
(`python tests/test_golden.py`) in its own commit, so the diff of expected.json shows exactly what
changed for users.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"


def snapshot(workdir: Path) -> dict:
    """Build the demo corpus with fake models and seed 42, then answer every golden question."""
    from topicchat import api
    from topicchat.indexer.settings import BuildSettings
    from topicchat.models.catalog import demo_corpus_path

    corpus = demo_corpus_path()
    if corpus is None:
        pytest.skip("the demo corpus (cherche) is not installed")
    settings = BuildSettings(
        text_col="arxiv_summary",
        title_col="arxiv_title",
        id_col="arxiv_num",
        embedding_model="fake",
        generator="fake",
        cache_dir=workdir / "cache",
        show_progress=False,
        seed=42,
    )
    path = api.build(str(corpus), workdir / "index", settings, report=lambda _m: None)
    questions = [q for q in (GOLDEN / "questions.txt").read_text(encoding="utf-8").splitlines() if q.strip()]
    assistant = api.open_assistant(path)
    return {
        "topics": api.topic_rows(assistant.index),
        "answers": [assistant.ask(q).to_json() for q in questions],  # each asked alone, as `ask --json` does
    }


def test_topics_and_answers_match_the_golden_record(tmp_path):
    expected = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))
    got = snapshot(tmp_path)
    assert len(got["answers"]) == 20
    assert got["topics"] == expected["topics"]
    for mine, theirs in zip(got["answers"], expected["answers"], strict=True):
        assert mine == theirs, mine["question"]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        data = snapshot(Path(tmp))
    (GOLDEN / "expected.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"wrote {GOLDEN / 'expected.json'}: {len(data['topics'])} topics, {len(data['answers'])} answers",
        file=sys.stderr,
    )
