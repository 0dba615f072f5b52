"""State kept as data, not strings: label sources, embedder variants, untitled documents, and the
warnings for what used to fail silently."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest

from topicchat.indexer.store import index_folder
from topicchat.indexer.topics import LabelSource, TopicRecord


def test_label_source_reads_old_and_new_topics_json():
    old = {
        "id": 3,
        "size": 9,
        "keywords": {},
        "representative_doc_ids": [],
        "label_source": "keywords (LLM reply rejected: a keyword list, not a label)",
    }
    topic = TopicRecord.from_json(old)
    assert (
        topic.label_source is LabelSource.KEYWORDS
        and topic.label_rejected == "LLM reply rejected: a keyword list, not a label"
    )
    again = TopicRecord.from_json(topic.to_json())
    assert again.label_source is LabelSource.KEYWORDS and again.label_rejected == topic.label_rejected
    assert TopicRecord.from_json(dict(old, label_source="llm")).label_source is LabelSource.LLM


def test_manifest_records_embedder_name_and_variant(fake_index):
    from topicchat.indexer.store import load_index

    index = load_index(fake_index)
    models = index.manifest["models"]
    assert models["embedder_name"] == "fake-hashing-256" and models["embedder_variant"] == ""
    assert index.embedder_name == "fake-hashing-256" and index.embedding_dtype == "float32"


def test_old_manifest_variant_is_read_from_the_model_id(fake_index, tmp_path):
    from topicchat.indexer.store import load_index

    copy = tmp_path / "old"
    shutil.copytree(fake_index, copy)
    manifest = json.loads((index_folder(copy) / "manifest.json").read_text())
    manifest["models"] = {"embedder": "sentence-transformers/all-MiniLM-L6-v2#bf16", "embedding_dim": 256}
    (index_folder(copy) / "manifest.json").write_text(json.dumps(manifest))
    index = load_index(copy)
    assert index.embedder_name == "sentence-transformers/all-MiniLM-L6-v2" and index.embedding_dtype == "bfloat16"


def test_load_records_which_documents_have_titles(tmp_path):
    from topicchat.indexer.load import load_corpus

    pd.DataFrame({"title": ["A real title", "", None], "text": ["one text", "two text", "three text"]}).to_csv(
        tmp_path / "c.csv", index=False
    )
    frame = load_corpus(str(tmp_path / "c.csv")).frame
    assert frame["has_title"].tolist() == [True, False, False]
    assert frame["title"].tolist()[1] == "two text", "an untitled document shows its text's start"


def test_an_untitled_document_shows_its_first_sentence_cut_at_a_word():
    from topicchat.indexer.load import UNTITLED_CHARS, untitled_title

    bill = "Veterans Access to Extended Care Act of 2015\n\nThis bill modifies the treatment of veterans.Requires a report."
    assert (
        untitled_title(bill)
        == "Veterans Access to Extended Care Act of 2015 This bill modifies the treatment of veterans."
    )
    long = "Amends the Harmonized Tariff Schedule of the United States to extend the temporary suspension of duty on certain parts used in the assembly of wind turbines."
    shown = untitled_title(long)
    assert shown.endswith("suspension of…") and len(shown) <= UNTITLED_CHARS + 1, shown
    assert long.startswith(shown[:-1]), "a cut, never a changed word"


def test_too_small_to_cluster_is_said(caplog):
    from topicchat.indexer.cluster import leaf_clusters

    points = np.random.default_rng(0).normal(size=(15, 5)).astype(np.float32)
    with caplog.at_level(logging.WARNING):
        labels, why = leaf_clusters(points, points, 10, None, 42, 0.4)
    assert (labels == -1).all() and "every document is an outlier" in caplog.text
    assert why["method"].startswith("too few documents")


def test_cache_shards_of_another_dimension_are_reported(tmp_path, caplog):
    from topicchat.indexer.embed import EmbeddingCache, text_key

    EmbeddingCache(tmp_path, "m", 8).add([text_key("a")], np.ones((1, 8), dtype=np.float32))
    wrong = EmbeddingCache(tmp_path, "m", 8)
    wrong.dim = 4  # a shard written by a model of another dimension under the same folder
    with caplog.at_level(logging.WARNING):
        assert wrong.lookup([text_key("a")]) == {}
    assert "this model makes 4-d ones" in caplog.text


def test_the_embedding_cache_keeps_digests_that_end_in_zero_bytes(tmp_path):
    from topicchat.indexer.embed import EmbeddingCache, text_key

    texts = [t for t in (f"document {i}" for i in range(5000)) if text_key(t).endswith(b"\0")][:3]
    assert texts, "1 digest in 256 ends in a zero byte"
    cache = EmbeddingCache(tmp_path, "m", 4)
    cache.add([text_key(t) for t in texts], np.eye(4, dtype=np.float32)[: len(texts)])
    found = cache.lookup([text_key(t) for t in texts])
    assert len(found) == len(texts)
    # a shard written the old way (numpy S16 drops trailing zero bytes) is still read right
    old = EmbeddingCache(tmp_path / "old", "m", 4)
    old.folder.mkdir(parents=True)
    keys = np.array([text_key(t) for t in texts], dtype="S16")
    np.savez(old.folder / "legacy.npz", keys=keys, vectors=np.eye(4, dtype=np.float32)[: len(texts)])
    assert len(old.lookup([text_key(t) for t in texts])) == len(texts)


def test_an_interrupted_embedding_keeps_the_chunks_it_finished(tmp_path):
    from topicchat.indexer.embed import embed_documents
    from topicchat.models.fake import HashingEmbedder

    class Breaks(HashingEmbedder):
        calls = 0

        def embed(self, texts, *, show_progress=False):
            Breaks.calls += 1
            if Breaks.calls == 3:
                raise KeyboardInterrupt
            return super().embed(texts)

    texts = [f"text number {i}" for i in range(25)]
    with pytest.raises(KeyboardInterrupt):
        embed_documents(Breaks(16), texts, tmp_path, show_progress=False, chunk=10)
    vectors, hits = embed_documents(HashingEmbedder(16), texts, tmp_path, show_progress=False, chunk=10)
    assert hits == 20  # the two finished chunks came back from the cache
    assert np.allclose(vectors, HashingEmbedder(16).embed(texts))
