"""Loading corpora: formats, column picking, and bad input with clear messages."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.load import load_corpus


def test_reads_csv_jsonl_parquet_and_txt_folder(tmp_path):
    frame = pd.DataFrame({"Titles": ["A", "B"], "Abstracts": ["first text", "second text"], "year": [2020, 2021]})
    frame.to_csv(tmp_path / "c.csv", index=False)
    frame.to_parquet(tmp_path / "c.parquet")
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")))
    for name in ("c.csv", "c.parquet", "c.jsonl"):
        corpus = load_corpus(str(tmp_path / name))
        assert corpus.frame["text"].tolist() == ["first text", "second text"]
        assert corpus.frame["title"].tolist() == ["A", "B"]
        assert corpus.frame["year"].tolist() == [2020, 2021], "metadata columns are kept"
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "one.txt").write_text("hello world")
    (folder / "two.txt").write_text("another doc")
    corpus = load_corpus(str(folder))
    assert sorted(corpus.frame["text"]) == ["another doc", "hello world"]


def test_missing_column_lists_the_columns(tmp_path):
    pd.DataFrame({"body_text": ["x"], "name": ["y"]}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(TopicchatError) as err:
        load_corpus(str(tmp_path / "c.csv"), text_col="abstract")
    assert "body_text" in str(err.value) and "--text-col" in str(err.value)


def test_empty_blank_duplicate_and_huge_documents(tmp_path):
    pd.DataFrame({"text": []}).to_csv(tmp_path / "empty.csv", index=False)
    with pytest.raises(TopicchatError, match="empty"):
        load_corpus(str(tmp_path / "empty.csv"))
    pd.DataFrame({"text": ["", "  ", None]}).to_csv(tmp_path / "blank.csv", index=False)
    with pytest.raises(TopicchatError, match="no usable documents"):
        load_corpus(str(tmp_path / "blank.csv"))
    texts = ["alpha", "", "alpha", "beta", "x" * 500]
    pd.DataFrame({"text": texts}).to_csv(tmp_path / "mixed.csv", index=False)
    corpus = load_corpus(str(tmp_path / "mixed.csv"), max_doc_chars=100)
    assert corpus.frame["text"].str.len().max() == 100
    assert corpus.skipped["blank"] == 1 and corpus.skipped["duplicate_text"] == 1 and corpus.skipped["truncated"] == 1
    assert len(corpus.frame) == 3


def test_missing_source_and_unknown_type(tmp_path):
    with pytest.raises(TopicchatError, match="does not exist"):
        load_corpus(str(tmp_path / "nope.csv"))
    (tmp_path / "c.xyz").write_text("x")
    with pytest.raises(TopicchatError, match="Unknown file type"):
        load_corpus(str(tmp_path / "c.xyz"))
