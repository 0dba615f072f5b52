"""Smoke tests: the real `topicchat` CLI as a subprocess, its help texts, and its error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from topicchat.indexer.store import index_folder

REPO = Path(__file__).resolve().parent.parent
COMMANDS = ("build", "add", "remove", "diff", "topics", "ask", "demo", "serve", "config", "eval")


def run_cli(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, TOPICCHAT_DEBUG="", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "topicchat.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def test_help_is_fast_and_every_command_is_documented():
    start = time.perf_counter()
    out = run_cli("--help")
    assert out.returncode == 0 and time.perf_counter() - start < 10
    readme = (REPO / "README.md").read_text()
    for command in COMMANDS:
        assert command in out.stdout
        sub = run_cli(command, "--help")
        assert sub.returncode == 0 and len(sub.stdout) > 100, f"{command} has help text"
        assert f"topicchat {command}" in readme, f"README shows `topicchat {command}`"
    code = "import sys, topicchat.cli; sys.exit(int('torch' in sys.modules or 'umap' in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0, (
        "--help must not import heavy libraries"
    )


def test_build_topics_ask_end_to_end(tmp_path, corpus_csv):
    out = tmp_path / "idx"
    env = {"TOPICCHAT_CACHE_DIR": str(tmp_path / "cache")}
    built = run_cli(
        "build",
        str(corpus_csv),
        "--out",
        str(out),
        "--embedding-model",
        "fake",
        "--generator",
        "fake",
        "--min-cluster-size",
        "8",
        "--quiet",
        env=env,
    )
    assert built.returncode == 0, built.stderr
    assert "[embed] done" in built.stderr and (index_folder(out) / "manifest.json").exists()
    table = run_cli("topics", str(out))
    assert table.returncode == 0 and "120 documents" in table.stdout
    topics = json.loads(run_cli("topics", str(out), "--json").stdout)
    assert len(topics) >= 3 and all({"id", "size", "label", "keywords"} <= set(t) for t in topics)
    asked = run_cli("ask", str(out), "which topics cover recipe oven flour?", "--json", env=env)
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    docs = pd.read_parquet(index_folder(out) / "documents.parquet")
    assert data["topics"] and data["citations"]
    assert {c["doc_id"] for c in data["citations"]} <= set(docs.doc_id)
    assert data["citations"][0]["doc_id"].startswith("cooking")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("build", "missing.csv", "--out", "x"), "does not exist"),
        (("ask", "no-such-index", "hello"), "no index"),
        (("topics", "no-such-index"), "no index"),
    ],
)
def test_bad_input_gets_a_clear_message_not_a_traceback(args, message, tmp_path):
    out = run_cli(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_missing_column_is_reported_and_nothing_is_written(tmp_path):
    pd.DataFrame({"body": ["a", "b"]}).to_csv(tmp_path / "c.csv", index=False)
    out = run_cli(
        "build",
        str(tmp_path / "c.csv"),
        "--out",
        str(tmp_path / "idx"),
        "--text-col",
        "abstract",
        "--embedding-model",
        "fake",
        "--generator",
        "fake",
    )
    assert out.returncode == 2 and "body" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "idx").exists()


def test_eval_answers_scores_citations_prose_and_latency(fake_index, tmp_path):
    questions = tmp_path / "questions.jsonl"
    rows = [
        {
            "question": "which papers discuss telescope galaxy nebula?",
            "relevant": [f"astronomy-{i}" for i in range(30)],
        },
        {"question": "which papers discuss recipe oven flour?", "relevant": [f"cooking-{i}" for i in range(30)]},
        {"question": "which papers discuss gene mutation genome?", "relevant": ["football-0"]},  # a wrong key
        # half the astronomy documents: the cited ones mix relevant and not, so evidence pairs are scored
        {
            "question": "which papers study galaxy nebula telescope?",
            "relevant": [f"astronomy-{i}" for i in range(0, 30, 2)],
        },
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = run_cli("eval", "answers", str(fake_index), str(questions), "--generator", "fake", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] == 4 and report["k"] == 5
    per = {r["question"]: r for r in report["per_question"]}
    assert per[rows[0]["question"]]["precision"] == 1.0 and per[rows[1]["question"]]["recall"] > 0
    assert per[rows[2]["question"]]["precision"] == 0.0
    assert report["prose_written"] >= 0 and report["first_token_p50_s"] <= report["total_p50_s"]
    assert set(report["baselines"]) == {"bm25", "dense"}  # the same questions through plain BM25 and dense top-5
    assert report["baselines"]["bm25"]["precision"] > 0.5  # two of three questions name their documents' words
    assert report["evidence_pairs"] > 0
    assert 0.0 <= report["evidence_pair_accuracy"] <= 1.0 and 0.0 <= report["first_sentence_pair_accuracy"] <= 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x"}\n', encoding="utf-8")
    result = run_cli("eval", "answers", str(fake_index), str(bad))
    assert result.returncode != 0 and "line 1" in result.stderr and "Traceback" not in result.stderr
