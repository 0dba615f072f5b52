"""The BM25 index: stemming, ranking, and reading indexes written by older versions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from topicchat.indexer.ann import LexicalIndex, stemmer, tokenize

DOCS = [
    "Training neural networks for machine translation of low-resource languages.",
    "A study of parsers: dependency parsing with graph-based models.",
    "Translating speech: end-to-end speech translation systems.",
]


def test_snowball_stemming_meets_inflections_and_drops_stop_words():
    assert tokenize("The translations were translated") == tokenize("translation translate")
    assert tokenize("parsing parsers") == ["pars", "parser"]
    assert "the" not in tokenize("the of and")


def test_bm25_ranks_documents_that_share_the_query_stems():
    index = LexicalIndex.build(DOCS)
    scores = index.scores("translating speech")
    assert int(np.argmax(scores)) == 2
    assert scores[1] == 0.0, "a document without the query words scores nothing"
    assert not index.scores("zebra quokka").any(), "unknown words match nothing"


def test_save_and_load_keep_the_stemmer(tmp_path):
    for stem in ("snowball", "light"):
        index = LexicalIndex.build(DOCS, stem=stem)
        index.save(tmp_path)
        loaded = LexicalIndex.load(tmp_path)
        assert loaded.stem == stem
        np.testing.assert_allclose(loaded.scores("parsing models"), index.scores("parsing models"))


def test_an_index_from_before_the_stemmer_was_recorded_is_read_with_the_light_stemmer(tmp_path):
    old = LexicalIndex.build(DOCS, stem="light")
    old.save(tmp_path)
    meta = json.loads((tmp_path / "lexical_vocab.json").read_text())
    (tmp_path / "lexical_vocab.json").write_text(json.dumps(meta["terms"]))  # the old format: a bare term list
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.stem == "light"
    assert loaded.scores("translations")[2] > 0


def test_unknown_stemmer_is_refused():
    with pytest.raises(ValueError, match="unknown stemmer"):
        stemmer("klingon")
