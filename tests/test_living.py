"""A growing corpus: `add`, `remove`, `diff`, stable topic ids across rebuilds, and the write lock."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fake_settings, themed_corpus
from tests.test_cli import run_cli
from topicchat import api
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.pipeline import add_documents, build_index, remove_documents
from topicchat.indexer.store import index_folder, load_index, writing

QUIET = {"report": lambda _m: None}


@pytest.fixture
def grown(tmp_path):
    """An index of the first 100 themed documents, and files with what comes later."""
    corpus = themed_corpus(30)  # 120: 4 themes x 30
    first = corpus.groupby("theme").head(25)
    later = corpus.drop(first.index)
    first.to_csv(tmp_path / "first.csv", index=False)
    later.to_csv(tmp_path / "later.csv", index=False)
    out = build_index(str(tmp_path / "first.csv"), tmp_path / "idx", fake_settings(tmp_path / "c"), **QUIET)
    return out, tmp_path, later


def test_add_embeds_only_the_new_documents_and_places_each_in_its_theme(grown):
    out, tmp, later = grown
    before = load_index(out)
    messages: list[str] = []
    add_documents(out, str(tmp / "later.csv"), settings=fake_settings(tmp / "c2"), report=messages.append)
    after = load_index(out)
    assert len(after.documents) == len(before.documents) + len(later) == 120
    assert any(f"0 of {len(later)} embeddings came from the cache" in m for m in messages), "only the new ones embed"
    docs = after.documents.set_index("doc_id")
    for doc_id, theme in zip(later["id"], later["theme"], strict=True):
        members = docs[docs.topic == docs.loc[doc_id, "topic"]]
        assert members["theme"].value_counts().index[0] == theme, f"{doc_id} joins a topic of its theme"
    assert [t.id for t in after.topics] == [t.id for t in before.topics] and [t.label for t in after.topics] == [
        t.label for t in before.topics
    ], "topics keep their ids and labels"
    assert sum(t.size for t in after.topics) + int((docs.topic == -1).sum()) == 120
    history = after.manifest["history"]
    assert [h["action"] for h in history] == ["build", "add"] and history[-1]["added"] == len(later)
    drift = after.manifest["update"]["drift"]
    assert drift["placed_since_clustering"] == 20 and any("placed since" in a for a in drift["advice"]), (
        "20% growth since clustering calls for a rebuild"
    )
    assert any("a full rebuild is advised" in m for m in messages)
    assert (tmp / "later.csv").exists() and after.manifest["corpus"]["source"] == str(tmp / "first.csv")


def test_add_refuses_changed_texts_unless_replace_and_then_updates_them(grown):
    out, tmp, _ = grown
    changed = themed_corpus(30).iloc[[0]].assign(text="telescope galaxy orbit nebula comet redshift supernova planet")
    changed.to_csv(tmp / "changed.csv", index=False)
    live = index_folder(out)
    with pytest.raises(TopicchatError, match="--replace"):
        add_documents(out, str(tmp / "changed.csv"), settings=fake_settings(tmp / "c"), **QUIET)
    assert index_folder(out) == live, "a refused add leaves the index as it was"
    add_documents(out, str(tmp / "changed.csv"), replace=True, settings=fake_settings(tmp / "c"), **QUIET)
    after = load_index(out)
    assert (
        len(after.documents) == 100
        and after.documents.set_index("doc_id").loc[changed["id"].iat[0], "text"] == (changed["text"].iat[0])
    )
    again: list[str] = []
    add_documents(out, str(tmp / "changed.csv"), replace=True, settings=fake_settings(tmp / "c"), report=again.append)
    assert any("Nothing to add" in m for m in again)


def test_remove_takes_documents_out_and_unknown_ids_change_nothing(grown):
    out, tmp, _ = grown
    live = index_folder(out)
    with pytest.raises(TopicchatError, match="not in the index"):
        remove_documents(out, ["astronomy-0", "no-such-paper"], fake_settings(tmp / "c"), **QUIET)
    assert index_folder(out) == live
    remove_documents(out, ["astronomy-0", "cooking-3"], fake_settings(tmp / "c"), **QUIET)
    after = load_index(out)
    assert len(after.documents) == 98 and not after.documents["doc_id"].isin(["astronomy-0", "cooking-3"]).any()
    assert sum(t.size for t in after.topics) + int((after.documents.topic == -1).sum()) == 98
    hits = after.faiss.ntotal
    assert hits == 98 and after.lexical.weights.shape[1] == 98, "search structures shrink with the documents"


def test_diff_reports_growth_after_add_and_needs_a_previous_generation(grown, tmp_path):
    out, tmp, later = grown
    with pytest.raises(TopicchatError, match="no previous generation"):
        api.diff(out)
    add_documents(out, str(tmp / "later.csv"), settings=fake_settings(tmp / "c"), **QUIET)
    report = api.diff(out)
    assert report["documents"] == {"removed": 0, "added": len(later), "in_both": 100}
    kinds = report["summary"]
    assert kinds["grown"] >= 1 and kinds["new"] == kinds["retired"] == kinds["split"] == kinds["merged"] == 0
    grown_topic = next(c for c in report["changes"] if c["kind"] == "grown")
    assert grown_topic["old"] == grown_topic["new"] and grown_topic["new_size"] > grown_topic["old_size"]
    assert grown_topic["examples"] and all(e.startswith("On ") for e in grown_topic["examples"]), "titles shown"


def test_rebuild_with_another_seed_keeps_ids_and_labels_of_the_same_topics(tmp_path, corpus_csv):
    out = build_index(str(corpus_csv), tmp_path / "idx", fake_settings(tmp_path / "c"), **QUIET)
    before = load_index(out)
    messages: list[str] = []
    build_index(str(corpus_csv), out, fake_settings(tmp_path / "c", seed=7, full_rebuild=True), report=messages.append)
    after = load_index(out)
    lineage = after.manifest["topics"]["lineage"]
    assert any("stable ids:" in m for m in messages)
    old_members = before.documents.groupby("topic")["doc_id"].apply(set)
    new_members = after.documents.groupby("topic")["doc_id"].apply(set)
    kept = {int(k): v for k, v in lineage["jaccard"].items()}
    assert kept, "some topics are the same after a reseeded rebuild"
    for tid, j in kept.items():
        a, b = old_members[tid], new_members[tid]
        assert len(a & b) / len(a | b) == pytest.approx(j, abs=1e-3) and j >= lineage["threshold_jaccard"]
        assert after.nodes[tid].label == before.nodes[tid].label, "a kept topic keeps its label"
    fresh = set(after.nodes) - set(kept) - {t.id for t in after.parents if t.id in before.nodes}
    assert all(t > max(before.nodes) for t in fresh), "a new topic never takes an id the old index used"
    assert after.manifest["topics"]["next_id"] > max(after.nodes)
    assert len(set(after.nodes)) == len(after.topics) + len(after.parents), "one id space"
    for parent in after.parents:  # the tree is renamed consistently
        assert all(after.nodes[c].parent == parent.id for c in parent.children)
    same = (before.documents.set_index("doc_id")["topic"] == after.documents.set_index("doc_id")["topic"]).mean()
    assert same == pytest.approx(lineage["documents_same_topic"], abs=1e-3)


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path, corpus_csv):
    out = tmp_path / "idx"
    with writing(out):
        with pytest.raises(TopicchatError, match="Another topicchat command"):
            build_index(str(corpus_csv), out, fake_settings(tmp_path / "c"), **QUIET)
    assert not out.exists(), "the refused build wrote nothing"
    build_index(str(corpus_csv), out, fake_settings(tmp_path / "c"), **QUIET)  # free again afterwards
    assert load_index(out).documents.shape[0] == 120


def test_cli_add_remove_diff(grown):
    out, tmp, later = grown
    env = {"HF_HUB_OFFLINE": "1"}
    done = run_cli("add", str(out), str(tmp / "later.csv"), "-q", "--cache-dir", str(tmp / "c"), env=env)
    assert done.returncode == 0, done.stderr
    assert "20 documents to add" in done.stderr
    shown = run_cli("diff", str(out), "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["documents"]["added"] == 20
    text = run_cli("diff", str(out))
    assert "grown" in text.stdout and "Documents: 100 in both, 20 added, 0 removed" in text.stdout
    gone = run_cli("remove", str(out), "genetics-0", "football-1")
    assert gone.returncode == 0, gone.stderr
    assert len(load_index(out).documents) == 118
    bad = run_cli("remove", str(out), "nope")
    assert bad.returncode == 2 and "not in the index" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_cli("add", str(out), str(tmp / "nothing-here.csv"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert len(load_index(out).documents) == 118


def test_add_to_an_index_built_without_ids_continues_the_numbering(tmp_path):
    corpus = themed_corpus(30).drop(columns=["id"])
    corpus.iloc[:100].to_csv(tmp_path / "a.csv", index=False)
    corpus.iloc[100:].to_csv(tmp_path / "b.csv", index=False)
    out = build_index(str(tmp_path / "a.csv"), tmp_path / "idx", fake_settings(tmp_path / "c"), **QUIET)
    add_documents(out, str(tmp_path / "b.csv"), settings=fake_settings(tmp_path / "c"), **QUIET)
    ids = load_index(out).documents["doc_id"].tolist()
    assert len(ids) == len(set(ids)) == 120 and ids[-1] == "119", "new row-number ids do not collide"
    with pytest.raises(TopicchatError, match="--replace needs document ids"):
        add_documents(out, str(tmp_path / "b.csv"), replace=True, settings=fake_settings(tmp_path / "c"), **QUIET)


def test_chat_says_what_changed_with_the_new_documents_cited(grown):
    from topicchat.app.answer import Assistant

    out, tmp, later = grown
    first = Assistant.open(out).ask("what changed since the last update?")
    assert first.intent == "what_changed" and "no earlier version" in first.text
    add_documents(out, str(tmp / "later.csv"), settings=fake_settings(tmp / "c"), **QUIET)
    answer = Assistant.open(out).ask("what changed since the last update?")
    assert "an addition" in answer.text and f"{len(later)} documents added, 0 removed" in answer.text
    assert "Grown: topic" in answer.text and answer.citations
    assert all(c.doc_id in set(later["id"]) for c in answer.citations), "the examples cited are the new documents"
    assert "full rebuild is advised" in answer.text


def test_unknown_and_negative_topic_ids_are_named_not_searched(assistant):
    answer = assistant.ask("compare topic 0 and topic -5")
    assert not answer.matched and "no topic -5" in answer.text and not answer.citations


def test_a_rebuild_keeps_borderline_documents_in_their_previous_topic():
    """Stickiness: a document between two topics stays in the one it had; one that now clearly belongs to
    another topic moves there."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from topicchat.indexer import lineage

    rng = np.random.default_rng(0)

    def around(direction, n):
        v = np.asarray(direction, dtype=np.float32) + rng.normal(0, 0.05, (n, 3)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    a, b = around([1, 0, 0.2], 10), around([0, 1, 0.2], 10)
    between = np.array([[0.68, 0.72, 0.2]], dtype=np.float32)  # a shade closer to b's side
    clear = np.array([[0.05, 1.0, 0.2]], dtype=np.float32)
    vectors = np.vstack([a, b, between, clear])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)] + ["between", "clear"]
    old_docs = pd.DataFrame({"doc_id": ids, "topic": [7] * 10 + [9] * 10 + [7, 7]})
    old_nodes = {7: SimpleNamespace(level=0), 9: SimpleNamespace(level=0)}
    now = np.array([0] * 10 + [1] * 10 + [1, 1])  # this build put both on b's side

    labels, moved = lineage.stick(old_docs, old_nodes, ids, now, vectors)
    assert labels[ids.index("between")] == 0 and moved == 1, "the borderline document stays with a's topic"
    assert labels[ids.index("clear")] == 1, "a document that clearly moved is not pulled back"
    unchanged, none = lineage.stick(old_docs, old_nodes, ids, now, vectors, margin=0.0)
    assert unchanged[ids.index("between")] == 1 and none == 0, "without a margin nothing closer elsewhere stays"


def test_a_rebuild_undoes_splits_and_merges_that_only_the_seed_made():
    """A rebuild that merged two previous topics into one cluster, and cut a third into two, gets the previous
    topics back (each member to the nearest restored part), so every topic keeps its id; a cluster that is
    really new (made of no previous topic) is left alone."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from topicchat.indexer import lineage

    rng = np.random.default_rng(1)
    directions = np.eye(5, dtype=np.float32)

    def around(k, n):
        v = directions[k] + rng.normal(0, 0.08, (n, 5)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    vectors = np.vstack([around(k, 20) for k in range(4)] + [around(4, 20)])
    ids = [f"d{i}" for i in range(100)]
    previous = [0] * 20 + [1] * 20 + [2] * 20 + [3] * 20  # the last 20 documents are new
    old_docs = pd.DataFrame({"doc_id": ids[:80], "topic": previous})
    old_nodes = {k: SimpleNamespace(level=0) for k in range(4)}
    now = np.array([0] * 40 + [1] * 10 + [2] * 10 + [3] * 20 + [4] * 20)  # 0+1 merged, 2 cut in two, 4 new

    labels, moved = lineage.stick(old_docs, old_nodes, ids, now, vectors, min_size=5)
    matched = lineage.match(lineage.leaf_members(ids[:80], previous), lineage.leaf_members(ids, labels.tolist()))
    assert sorted(old for old, _ in matched.values()) == [0, 1, 2, 3], "every previous topic is found again"
    assert all(j == 1.0 for _, j in matched.values())
    assert len(set(labels[80:].tolist())) == 1 and labels[80] not in matched, "the new topic stays itself"
    assert moved == 30, "20 documents split off the merged cluster, 10 joined back"

    merged, moved = lineage.stick(old_docs, old_nodes, ids, now, vectors, min_size=25)
    assert moved == 10 and len(set(merged[:40].tolist())) == 1, "pieces below the minimum topic size are not split off"
    assert len(set(merged[40:60].tolist())) == 1, "the topic cut in two is whole again"

    capped, _ = lineage.stick(old_docs, old_nodes, ids, now, vectors, min_size=5, max_size=15)
    assert len(set(capped[40:60].tolist())) == 2, "no merge makes a topic larger than the build's cap"
