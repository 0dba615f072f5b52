"""The build pipeline and the index folder contract, with the fake backends."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import fake_settings, themed_corpus
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.pipeline import build_index
from topicchat.indexer.store import FORMAT_VERSION, index_folder, load_index

STAGES = ("load", "embed", "reduce", "cluster", "topics", "label", "ann")


def test_index_folder_holds_the_contract(fake_index):
    manifest = json.loads((index_folder(fake_index) / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert all(manifest["timings_s"][s] >= 0 for s in STAGES)
    assert manifest["models"]["embedder"].startswith("fake")
    assert manifest["parameters"]["seed"] == 42
    for name in (
        "documents.parquet",
        "embeddings.npy",
        "faiss.index",
        "topics.json",
        "topic_embeddings.npy",
        "prompts/label.txt",
    ):
        assert (index_folder(fake_index) / name).exists()
        assert name in manifest["artefacts"]
    assert not list(fake_index.parent.glob(".index.building-*")), "no temporary folder is left behind"


def test_topics_recover_the_four_themes(fake_index):
    """Leaves are fine and pure; the top of the tree holds about the four themes."""
    index = load_index(fake_index)
    docs = index.documents
    assert index.levels >= 2 and 3 <= len(index.top_level()) <= 6 < len(index.topics)
    clustered = docs[docs.topic >= 0]
    theme = clustered["theme"]
    purity = clustered.groupby("topic")["theme"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert purity.min() >= 0.9, "each topic is (almost) one theme"
    assert theme.nunique() == 4
    for topic in index.topics:
        members = docs[docs.topic == topic.id]
        assert topic.size == len(members)
        assert set(topic.representative_doc_ids) <= set(members.doc_id)
        words = [w for w, _ in topic.keywords["ctfidf"]]
        majority = members["theme"].value_counts().index[0]
        corpus = themed_corpus()
        theme_text = " ".join(corpus[corpus.theme == majority].text)
        assert words and all(w in theme_text for w in words[:3]), "top keywords come from the topic's theme"
        assert topic.label and topic.summary


def test_round_trip_keeps_vectors_and_search(fake_index):
    index = load_index(fake_index)
    assert index.embeddings.shape == (len(index.documents), 256)
    sims, ids = index.faiss.search(index.embeddings[:1], 1)
    assert ids[0, 0] == 0 and sims[0, 0] == pytest.approx(1.0, abs=1e-5)


def test_damaged_index_is_refused_with_advice(fake_index, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(fake_index, copy)
    emb = np.load(index_folder(copy) / "embeddings.npy")
    emb[0, 0] += 1.0
    np.save(index_folder(copy) / "embeddings.npy", emb)
    with pytest.raises(TopicchatError, match="checksum.*Rebuild"):
        load_index(copy)
    manifest = json.loads((index_folder(copy) / "manifest.json").read_text())
    manifest["format_version"] = 999
    (index_folder(copy) / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TopicchatError, match="index format 999.*Rebuild it"):
        load_index(copy)
    (index_folder(copy) / "manifest.json").write_text("{not json")
    with pytest.raises(TopicchatError, match="damaged"):
        load_index(copy)
    with pytest.raises(TopicchatError, match="no index"):
        load_index(tmp_path / "missing")


def test_failed_rebuild_keeps_the_old_index(fake_index, tmp_path, corpus_csv, monkeypatch):
    import shutil

    out = tmp_path / "idx"
    shutil.copytree(fake_index, out)
    before = (index_folder(out) / "manifest.json").read_text()
    from topicchat.indexer import label

    def boom(*a, **k):
        raise RuntimeError("generator crashed")

    monkeypatch.setattr(label, "label_topics", boom)
    with pytest.raises(RuntimeError):
        build_index(str(corpus_csv), out, fake_settings(tmp_path / "cache", full_rebuild=True), report=lambda _m: None)
    assert (index_folder(out) / "manifest.json").read_text() == before
    assert load_index(out) is not None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".idx.")], "temporary folders are cleaned up"


def test_rebuild_reuses_the_embedding_cache(tmp_path, corpus_csv):
    cache = tmp_path / "cache"
    build_index(str(corpus_csv), tmp_path / "a", fake_settings(cache), report=lambda _m: None)
    path = build_index(str(corpus_csv), tmp_path / "b", fake_settings(cache), report=lambda _m: None)
    manifest = json.loads((index_folder(path) / "manifest.json").read_text())
    assert manifest["embedding_cache_hits"] == manifest["corpus"]["documents"] == 120


def test_the_build_drops_the_generator_it_loaded_once_topics_are_labelled(tmp_path, corpus_csv):
    """Its weights (0.5 GB in float32 for the default model) would otherwise sit beside the vector index
    being built, the stage after labelling, and set the build's peak memory."""
    import gc

    from topicchat.models import fake

    before = {id(o) for o in gc.get_objects() if isinstance(o, fake.ScriptedGenerator)}
    path = build_index(str(corpus_csv), tmp_path / "a", fake_settings(tmp_path / "cache"), report=lambda _m: None)
    manifest = json.loads((index_folder(path) / "manifest.json").read_text())
    assert manifest["models"]["generator"] and manifest["topics"]["llm_labels"] > 0, "labelled by the generator"
    gc.collect()
    left = [o for o in gc.get_objects() if isinstance(o, fake.ScriptedGenerator) and id(o) not in before]
    assert not left, "the generator the build loaded is still alive"


def test_tiny_corpus_builds_a_retrieval_only_index(tmp_path):
    pd.DataFrame({"text": ["galaxy star", "flour oven", "goal striker"]}).to_csv(tmp_path / "t.csv", index=False)
    messages: list[str] = []
    path = build_index(str(tmp_path / "t.csv"), tmp_path / "idx", fake_settings(tmp_path / "c"), report=messages.append)
    index = load_index(path)
    assert index.topics == [] and (index.documents.topic == -1).all()
    assert any("too few to cluster" in m for m in messages)
    assert json.loads((index_folder(path) / "manifest.json").read_text())["topics"]["retrieval_only"] is True


def test_refuses_to_overwrite_a_folder_that_is_not_an_index(tmp_path, corpus_csv):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(TopicchatError, match="not a topicchat index"):
        build_index(str(corpus_csv), out, fake_settings(tmp_path / "c"), report=lambda _m: None)
    assert (out / "notes.txt").read_text() == "keep me"


def test_small_additions_update_the_index_in_place(tmp_path, corpus_csv):
    import shutil

    out = tmp_path / "idx"
    shutil.copytree(
        build_index(str(corpus_csv), tmp_path / "base", fake_settings(tmp_path / "c"), report=lambda _m: None), out
    )
    old = load_index(out)
    corpus = themed_corpus()
    extra = pd.DataFrame(
        [
            {
                "id": "new-astro",
                "title": "New sky survey",
                "text": "telescope galaxy nebula orbit comet star redshift",
                "theme": "astronomy",
            },
            {
                "id": "new-food",
                "title": "New recipe",
                "text": "flour butter oven dough garlic sauce roast",
                "theme": "cooking",
            },
        ]
    )
    pd.concat([corpus, extra]).to_csv(tmp_path / "more.csv", index=False)
    messages: list[str] = []
    build_index(str(tmp_path / "more.csv"), out, fake_settings(tmp_path / "c"), report=messages.append)
    assert any("updating in place: 2 new" in m for m in messages)
    new = load_index(out)
    manifest = new.manifest
    assert (
        manifest["update"]["added"] == 2 and "place" in manifest["timings_s"] and "reduce" not in manifest["timings_s"]
    )
    docs = new.documents.set_index("doc_id")
    for doc_id, theme in (("new-astro", "astronomy"), ("new-food", "cooking")):
        topic = docs.loc[doc_id, "topic"]
        members = docs[docs.topic == topic]
        assert members["theme"].value_counts().index[0] == theme, "a new document joins the topic of its theme"
    assert sum(t.size for t in new.topics) + int((new.documents.topic == -1).sum()) == len(new.documents) == 122
    assert [t.label for t in new.topics] == [t.label for t in old.topics], "labels are kept"
    again: list[str] = []
    build_index(str(tmp_path / "more.csv"), out, fake_settings(tmp_path / "c"), report=again.append)
    assert any("up to date" in m for m in again)


def test_large_changes_trigger_a_full_rebuild(tmp_path, corpus_csv):
    out = build_index(str(corpus_csv), tmp_path / "idx", fake_settings(tmp_path / "c"), report=lambda _m: None)
    half = themed_corpus().iloc[::2]
    half.to_csv(tmp_path / "half.csv", index=False)
    messages: list[str] = []
    build_index(str(tmp_path / "half.csv"), out, fake_settings(tmp_path / "c"), report=messages.append)
    assert not any("updating in place" in m for m in messages)
    assert "reduce" in load_index(out).manifest["timings_s"] and len(load_index(out).documents) == 60


def test_changed_parameters_rebuild_without_loading_the_old_index(tmp_path, corpus_csv, monkeypatch):
    from topicchat.indexer import store

    out = build_index(str(corpus_csv), tmp_path / "idx", fake_settings(tmp_path / "c"), report=lambda _m: None)
    loads: list[str] = []
    real_load = store.load_index
    monkeypatch.setattr(store, "load_index", lambda path, *a, **k: loads.append(str(path)) or real_load(path, *a, **k))
    messages: list[str] = []
    build_index(str(corpus_csv), out, fake_settings(tmp_path / "c", min_cluster_size=10), report=messages.append)
    assert not any("up to date" in m or "updating in place" in m for m in messages)
    assert loads == [], "the old index is not read when its parameters differ"
    rebuilt = real_load(out)
    assert rebuilt.manifest["parameters"]["min_cluster_size"] == 10 and "reduce" in rebuilt.manifest["timings_s"]


def test_topic_tree_nests_and_adds_up(fake_index):
    index = load_index(fake_index)
    nodes = index.nodes
    assert len(nodes) == len(index.topics) + len(index.parents) and len(set(nodes)) == len(nodes), "one id space"
    assert [t.id for t in index.topics] == list(range(len(index.topics))), "leaves keep 0..L-1"
    for parent in index.parents:
        assert len(parent.children) >= 2, f"parent {parent.id} has {parent.children}"
        assert parent.size == sum(nodes[c].size for c in parent.children), "sizes add up"
        assert all(nodes[c].parent == parent.id and nodes[c].level == parent.level - 1 for c in parent.children)
        assert parent.label and parent.top_keywords(3)
    top = index.top_level()
    assert sum(t.size for t in top) == int((index.documents.topic >= 0).sum())
    how = index.manifest["topics"]["tree"]
    assert how["nodes_per_level"][0] == len(index.topics) and len(how["nodes_per_level"]) == index.levels
    alone = [t for t in index.topics if t.parent is None]
    assert len(alone) == how["alone_per_level"][0] < len(index.topics) / 2, "most leaves sit under a parent"
    assert index.manifest["topics"]["granularity"]["method"].startswith("hdbscan-leaf")
    labels = [t.label.lower() for t in nodes.values()]
    assert len(set(labels)) == len(labels), "no two nodes share a label"


def test_a_topic_unlike_the_others_stays_on_top_instead_of_under_a_one_child_parent():
    """Four pairs of close leaves and one far from all: the pairs become areas, the far leaf joins no area
    (a parent with one child is no parent) and is not forced into the closest pair either."""
    import numpy as np

    from topicchat.indexer.tree import merge_levels

    rng = np.random.default_rng(0)
    centres = []
    for axis in range(4):
        base = np.zeros(16)
        base[axis] = 1.0
        for twin in range(2):
            near = base.copy()
            near[8 + axis * 2 + twin] = 0.15
            centres.append(near)
    far = np.zeros(16)
    far[15] = 1.0
    centres.append(far)
    leaf = np.repeat(np.arange(len(centres)), 20)
    embeddings = np.stack([centres[i] for i in leaf]) + rng.normal(0, 0.01, (len(leaf), 16))
    levels, parents = merge_levels(leaf, embeddings, branching=1.8, min_top=4)  # five groups
    assert len(levels) == 2, "one level of areas above nine leaves"
    mapping = parents[0]
    assert 8 not in mapping, "the far leaf joins no area"
    assert (levels[1][leaf == 8] == -1).all()
    areas: dict[int, set[int]] = {}
    for child, parent in mapping.items():
        areas.setdefault(parent, set()).add(child)
    assert sorted(map(sorted, areas.values())) == [[0, 1], [2, 3], [4, 5], [6, 7]], "twins share an area"


def test_same_seed_same_tree(tmp_path, corpus_csv, fake_index):
    again = build_index(str(corpus_csv), tmp_path / "again", fake_settings(tmp_path / "cache"), report=lambda _m: None)
    first, second = load_index(fake_index), load_index(again)

    def shape(index):
        return sorted((t.id, t.level, t.parent, tuple(t.children), t.size) for t in index.nodes.values())

    assert shape(first) == shape(second)
    assert first.documents.topic.tolist() == second.documents.topic.tolist()


def test_outlier_reduction_keeps_at_most_the_allowed_share_and_keeps_the_farthest():
    import numpy as np

    from topicchat.indexer.cluster import reduce_outliers

    rng = np.random.default_rng(0)
    centres = np.eye(8)[:2]
    members = np.repeat(centres, 35, axis=0) + rng.normal(0, 0.05, (70, 8))
    strays = rng.normal(0, 1, (30, 8))  # far from both topics: below the cosine threshold
    vectors = np.vstack([members, strays])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.array([0] * 35 + [1] * 35 + [-1] * 30)
    plain = reduce_outliers(vectors, labels, threshold=0.99)
    assert (plain == -1).sum() == 30  # the threshold alone keeps them all out
    capped = reduce_outliers(vectors, labels, threshold=0.99, max_share=0.1)
    assert (capped == -1).sum() == 10
    best = (vectors[70:] @ centres.T).max(axis=1)
    kept = np.flatnonzero(capped[70:] == -1)
    joined = np.flatnonzero(capped[70:] != -1)
    assert best[kept].max() <= best[joined].min()  # the ones left out are the farthest


def test_rebuilds_swap_generations_in_one_step_and_keep_the_previous(corpus_csv, tmp_path):
    import os

    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.store import CURRENT

    out = tmp_path / "idx"
    seen = []
    for seed in (1, 2, 3):
        build_index(str(corpus_csv), out, fake_settings(tmp_path / "cache", seed=seed), report=lambda _m: None)
        assert (out / CURRENT).is_symlink()
        seen.append(os.readlink(out / CURRENT))
        assert load_index(out).manifest["parameters"]["seed"] == seed
    assert len(set(seen)) == 3
    generations = sorted(p.name for p in out.glob("gen-*"))
    assert generations == sorted(seen[1:]), "the current generation and the one before it are kept"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no temporary link or folder is left"


def test_an_index_of_the_single_folder_layout_loads_and_is_converted_by_the_next_build(
    fake_index, corpus_csv, tmp_path
):
    import shutil

    from topicchat.indexer.pipeline import build_index
    from topicchat.indexer.store import CURRENT

    old = tmp_path / "old"
    shutil.copytree(index_folder(fake_index), old)  # the files directly in the folder, as before generations
    assert not (old / CURRENT).exists() and len(load_index(old).documents) > 0
    build_index(
        str(corpus_csv), old, fake_settings(tmp_path / "cache", seed=7, full_rebuild=True), report=lambda _m: None
    )
    assert (old / CURRENT).is_symlink() and load_index(old).manifest["parameters"]["seed"] == 7
    previous = [p for p in old.glob("gen-*previous")]
    assert previous and len(load_index(previous[0]).documents) > 0, "the old index is kept as the previous generation"


def test_storing_quality_writes_a_new_generation(fake_index, tmp_path):
    import os
    import shutil

    from topicchat.indexer.store import CURRENT, write_topic_quality

    copy = tmp_path / "copy"
    shutil.copytree(fake_index, copy, symlinks=True)
    before = os.readlink(copy / CURRENT)
    first = load_index(copy).topics[0].id
    write_topic_quality(copy, {first: 0.5}, "npmi")
    assert os.readlink(copy / CURRENT) != before and (copy / before).exists()
    assert load_index(copy).topics[0].quality["npmi"] == 0.5
    assert "npmi" not in load_index(copy / before).topics[0].quality  # the previous generation is unchanged


def test_large_corpora_fit_on_a_sample_and_place_the_rest(tmp_path, corpus_csv):
    """Past fit_sample_above, reduction and clustering see a seeded sample; every other document joins the
    topic its nearest sampled neighbours vote for, so all of them are indexed and themes stay apart."""
    settings = fake_settings(tmp_path / "c", fit_sample_above=60, fit_sample_size=80)
    messages: list[str] = []
    index = load_index(build_index(str(corpus_csv), tmp_path / "idx", settings, report=messages.append))
    sample = index.manifest["topics"]["granularity"]["fitted_on_sample"]
    assert sample == {"documents": 80, "of": 120, "seed": 42, "placed_by": "10-NN vote", "placed_on": "local"}
    assert any("random sample of 80 of the 120" in m for m in messages)
    docs = index.documents
    assert len(docs) == 120 and (docs.topic >= 0).mean() >= 0.9
    purity = docs[docs.topic >= 0].groupby("topic")["theme"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert purity.mean() >= 0.9, purity
    assert (docs[["x", "y"]].abs().sum(axis=1) > 0).all(), "every document has a map position"
    assert sum(t.size for t in index.topics) + int((docs.topic == -1).sum()) == 120


def test_past_the_exact_limit_search_runs_on_compressed_codes_and_still_finds_the_theme(
    tmp_path, corpus_csv, monkeypatch
):
    import faiss

    from topicchat.app.answer import Assistant
    from topicchat.indexer import ann

    monkeypatch.setattr(ann, "EXACT_LIMIT", 50)
    out = build_index(str(corpus_csv), tmp_path / "idx", fake_settings(tmp_path / "c"), report=lambda _m: None)
    index = load_index(out)
    assert isinstance(index.faiss, faiss.IndexIVFPQ) and not ann.is_exact(index.faiss)
    assert isinstance(index.embeddings, np.memmap), "vectors stay on disk at serve time"
    answer = Assistant.open(out).ask("which papers discuss telescope galaxy orbit?")
    assert answer.citations and all(c.doc_id.startswith("astronomy") for c in answer.citations)


def test_large_corpora_count_keywords_over_a_sampled_vocabulary(monkeypatch):
    """Past the threshold, keyword terms come from a seeded sample (terms in >= 2 sampled documents), so
    counting 4 million word pairs no longer dominates a large build's memory; below it, every term counts."""
    from topicchat.indexer import topics

    words = {"stop_words": "english", "ngram_range": (1, 2)}
    texts = [f"graph neural networks for molecules number{i}" for i in range(40)] + ["a lonely zebra"]
    assert topics.sampled_vocabulary(texts, words, seed=1) is None
    monkeypatch.setattr(topics, "VOCABULARY_SAMPLE_ABOVE", 20)
    monkeypatch.setattr(topics, "VOCABULARY_SAMPLE", 30)
    terms = topics.sampled_vocabulary(texts, words, seed=1)
    assert terms is not None and "graph neural" in terms and "molecules" in terms
    assert "zebra" not in terms and not any(t.startswith("number") for t in terms), "one-document terms are dropped"
    assert terms == topics.sampled_vocabulary(texts, words, seed=1), "the sample is seeded"
