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
        # metadata columns are kept (text formats as the text written, Parquet with its types)
        assert [str(v) for v in corpus.frame["year"]] == ["2020", "2021"]
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


IDS = ["007", "7", "7.0", "1e3", "1000", "2503.14620", "2503.1462"]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json"])
def test_ids_are_read_as_written_never_as_numbers(tmp_path, suffix):
    import json

    rows = [{"id": i, "text": f"document number {n} about topic {n}"} for n, i in enumerate(IDS)]
    path = tmp_path / f"ids{suffix}"
    if suffix in (".csv", ".tsv"):
        sep = "," if suffix == ".csv" else "\t"
        path.write_text("id" + sep + "text\n" + "".join(f"{r['id']}{sep}{r['text']}\n" for r in rows), encoding="utf-8")
    elif suffix == ".jsonl":  # numbers written as JSON numbers keep their text too
        lines = [
            f'{{"id": {r["id"] if not r["id"].startswith("0") else json.dumps(r["id"])}, "text": "{r["text"]}"}}'
            for r in rows
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(rows), encoding="utf-8")
    corpus = load_corpus(str(path))
    assert corpus.frame["doc_id"].tolist() == IDS
    assert corpus.skipped["duplicate_id"] == 0


def test_duplicate_ids_with_different_texts_are_an_error_unless_keep_first(tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("id,text\na1,first text\nb2,second text\na1,another text\nb2,second text\n", encoding="utf-8")
    with pytest.raises(TopicchatError, match=r"'a1' \(data rows 1, 3\).*--on-duplicate-id keep-first"):
        load_corpus(str(path))
    corpus = load_corpus(str(path), on_duplicate_id="keep-first")
    assert corpus.frame["text"].tolist() == ["first text", "second text"]
    assert corpus.skipped == {"blank": 0, "duplicate_text": 1, "duplicate_id": 1, "truncated": 0}
