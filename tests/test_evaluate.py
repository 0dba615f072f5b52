"""Quality evaluation: clustering agreement, NPMI/diversity, retrieval metrics on synthetic BEIR folders."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from topicchat.evaluate import (
    cluster_agreement,
    evaluate_clustering,
    evaluate_retrieval,
    evaluate_self_retrieval,
    load_beir,
    ndcg_at_k,
    npmi_coherence,
    npmi_pair,
    recall_at_k,
    reciprocal_rank,
    store_quality,
    topic_diversity,
    topic_quality,
)
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.store import index_folder, load_index

# ------------------------------------------------------------------------------------------- clustering


def test_clustering_recovers_the_themes(fake_index):
    index = load_index(fake_index)
    report = evaluate_clustering(index, "theme")
    assert report.nmi > 0.8, "the tree level nearest the four themes recovers them"
    assert report.labels == 4
    assert report.documents == len(index.documents)
    assert report.level == index.levels - 1 and report.topics == len(index.top_level()) < len(index.topics)
    leaves = evaluate_clustering(index, "theme", level=0)
    assert leaves.topics == len(index.topics) and leaves.level == 0
    assert 0.0 <= report.outlier_share < 0.5
    assert report.nmi_clustered is not None and report.nmi_clustered >= report.nmi - 0.05
    data = json.loads(json.dumps(report.to_json()))
    assert data["label_col"] == "theme"
    assert "nmi" in report.table() and "ari_clustered" in report.table()


def test_clustering_accepts_a_path_and_names_the_columns_when_one_is_missing(fake_index):
    with pytest.raises(TopicchatError, match="no column 'genre'.*theme"):
        evaluate_clustering(fake_index, "genre")


def test_cluster_agreement_by_hand():
    perfect = cluster_agreement([1, 1, 0, 0, 2, 2], ["a", "a", "b", "b", "c", "c"])
    assert perfect.nmi == pytest.approx(1.0) and perfect.ari == pytest.approx(1.0)
    assert perfect.topics == 3 and perfect.outlier_share == 0.0
    with_outliers = cluster_agreement([0, 0, -1, 1, 1, -1], ["a", "a", "a", "b", "b", "b"])
    assert with_outliers.outlier_share == pytest.approx(1 / 3)
    assert with_outliers.topics == 2 and with_outliers.clustered == 4
    assert with_outliers.nmi < 1.0  # the outlier "cluster" mixes both labels
    assert with_outliers.nmi_clustered == pytest.approx(1.0)
    assert with_outliers.ari_clustered == pytest.approx(1.0)
    nothing = cluster_agreement([-1, -1], ["a", "b"])
    assert nothing.nmi_clustered is None and nothing.to_json()["ari_clustered"] is None


# ---------------------------------------------------------------------------------------- topic quality


def test_npmi_pair_limits():
    assert npmi_pair(2, 2, 2, 4) == pytest.approx(1.0)
    assert npmi_pair(2, 2, 0, 4) == -1.0
    assert npmi_pair(2, 2, 1, 4) == pytest.approx(0.0, abs=1e-9)  # independent: p(ij) = p(i) p(j)
    assert npmi_pair(4, 4, 4, 4) == 1.0


def test_npmi_on_a_tiny_corpus():
    texts = ["Alpha beta.", "The alpha BETA gamma", "delta", "gamma delta", "epsilon"]
    scores = npmi_coherence([["alpha", "beta"], ["alpha", "delta"], ["alpha beta", "alpha"], ["solo"]], texts)
    assert scores[0] == pytest.approx(1.0)  # always together
    assert scores[1] == -1.0  # never together
    assert scores[2] == pytest.approx(1.0)  # the bigram appears exactly where alpha does
    assert scores[3] is None  # one word: no pairs
    # bigrams are formed after stop-word removal, as c-TF-IDF forms them: "alpha the beta" holds "alpha beta"
    assert npmi_coherence([["alpha beta", "gamma"]], ["alpha the beta gamma", "zeta", "gamma"])[0] == pytest.approx(
        math.log((1 / 3) / ((1 / 3) * (2 / 3))) / -math.log(1 / 3)
    )


def test_topic_diversity():
    assert topic_diversity([["a", "b"], ["c", "d"]], top_n=2) == 1.0
    assert topic_diversity([["a", "b"], ["a", "b"]], top_n=2) == 0.5
    assert topic_diversity([["a", "b", "c"], ["a", "d", "e"]], top_n=2) == 0.75
    assert topic_diversity([], top_n=10) == 0.0


def test_topic_quality_of_the_themed_index(fake_index):
    index = load_index(fake_index)
    report = topic_quality(index)
    assert len(report.topics) == len(index.topics)
    assert all(len(t.words) <= 10 for t in report.topics)
    assert all(t.npmi is None or -1.0 <= t.npmi <= 1.0 for t in report.topics)
    assert report.npmi is not None and report.npmi > 0  # theme words co-occur within their theme
    assert 0.5 < report.diversity <= 1.0
    data = json.loads(json.dumps(report.to_json()))
    assert data["n_topics"] == len(index.topics) and len(data["topics"]) == len(index.topics)
    assert "diversity" in report.table()


def test_store_quality_keeps_the_index_loadable(fake_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(fake_index, copy)
    report = topic_quality(copy)
    store_quality(copy, report)
    reloaded = load_index(copy, verify=True)
    expected = {t.id: round(t.npmi, 4) for t in report.topics if t.npmi is not None}
    assert expected and {t.id: t.quality.get("npmi") for t in reloaded.topics if t.id in expected} == expected
    store_quality(copy, report)  # idempotent, and the re-signed file is accepted again
    load_index(copy, verify=True)
    (index_folder(copy) / "topics.json").write_text((index_folder(copy) / "topics.json").read_text() + " ")
    with pytest.raises(TopicchatError, match="checksum"):
        store_quality(copy, report)


# -------------------------------------------------------------------------------------------- retrieval


def test_ranking_metrics_by_hand():
    grades = {"b": 2, "c": 1, "x": 3, "z": 0}
    ranked = ["a", "b", "c"]
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    idcg = 3 + 2 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, grades, 3) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, grades, 1) == 0.0
    assert ndcg_at_k(["x", "b", "c"], grades, 10) == pytest.approx(1.0)
    relevant = {"b", "c", "x"}
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, relevant, 10) == pytest.approx(2 / 3)
    assert reciprocal_rank(ranked, relevant, 10) == 0.5
    assert reciprocal_rank(ranked, relevant, 1) == 0.0


DOCS = {
    "d1": ("Volcanoes", "lava magma eruption crater volcano ash"),
    "d2": ("Bread baking", "flour yeast dough oven crust loaf"),
    "d3": ("Chess openings", "gambit pawn bishop castling sicilian opening"),
    "d4": ("Coral reefs", "coral polyp reef bleaching lagoon atoll"),
    "d5": ("Jazz", "saxophone trumpet swing improvisation bebop"),
}
QUERIES = {
    "q1": "magma eruption",
    "q2": "yeast dough loaf",
    "q3": "sicilian gambit",
    "q4": "coral bleaching",
    "q9": "unjudged",
}


def write_beir(folder: Path, queries: dict[str, str], qrels: list[tuple[str, str, int]]) -> Path:
    folder.mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as fh:
        for doc_id, (title, text) in DOCS.items():
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as fh:
        for qid, text in queries.items():
            fh.write(json.dumps({"_id": qid, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{s}" for q, d, s in qrels]
    (folder / "qrels.tsv").write_text("\n".join(lines) + "\n")
    return folder


PERFECT_QRELS = [("q1", "d1", 2), ("q2", "d2", 1), ("q3", "d3", 1), ("q4", "d4", 3), ("q4", "d5", 0)]


def test_load_beir_skips_the_header(tmp_path):
    data = load_beir(write_beir(tmp_path / "beir", QUERIES, PERFECT_QRELS))
    assert data.ids == list(DOCS) and data.titles[0] == "Volcanoes"
    assert data.qrels["q4"] == {"d4": 3.0, "d5": 0.0} and "query-id" not in data.qrels
    with pytest.raises(TopicchatError, match="qrels.tsv"):
        (tmp_path / "beir" / "qrels.tsv").unlink()
        load_beir(tmp_path / "beir")


def test_a_perfect_ranking_scores_one(tmp_path):
    folder = write_beir(tmp_path / "beir", QUERIES, PERFECT_QRELS)
    report = evaluate_retrieval(folder, "fake", k_values=(1, 10, 100))
    assert report.queries == 4  # q9 has no judgements
    assert report.documents == 5 and set(report.systems) == {"bm25", "dense", "topicchat"}
    for system, metrics in report.systems.items():
        assert metrics["ndcg@10"] == pytest.approx(1.0), system
        assert metrics["ndcg@1"] == pytest.approx(1.0), system
        assert metrics["recall@100"] == pytest.approx(1.0), system
        assert metrics["mrr@100"] == pytest.approx(1.0), system
    assert json.loads(json.dumps(report.to_json()))["systems"]["bm25"]["ndcg@10"] == 1.0
    assert "topicchat" in report.table()


def test_an_unanswerable_query_counts_as_zero(tmp_path):
    queries = dict(QUERIES, q5="quantum entanglement")  # no word of d5
    folder = write_beir(tmp_path / "beir", queries, PERFECT_QRELS + [("q5", "d5", 1), ("q5", "nowhere", 1)])
    report = evaluate_retrieval(folder, "fake", k_values=(10, 100))
    bm25 = report.systems["bm25"]
    assert bm25["ndcg@10"] == pytest.approx(4 / 5)  # BM25 retrieves nothing for q5
    assert bm25["recall@100"] == pytest.approx(4 / 5)
    # dense search returns every document of this tiny corpus: d5 is found, "nowhere" never can be
    assert report.systems["dense"]["recall@100"] == pytest.approx((4 + 0.5) / 5)
    assert report.notes["judged_not_in_corpus"] == 1


def test_max_queries_and_max_docs_make_a_subset(tmp_path):
    folder = write_beir(tmp_path / "beir", QUERIES, PERFECT_QRELS)
    report = evaluate_retrieval(folder, "fake", max_queries=2, max_docs=1)
    assert report.queries == 2 and report.documents == 2  # d1 (first) + d2 (judged for q2)


def test_self_retrieval_on_the_themed_index(fake_index):
    report = evaluate_self_retrieval(fake_index, "fake", sample=20)
    assert report.queries == 20 and report.notes["untitled_skipped"] == 0
    for metrics in report.systems.values():
        assert 0.0 <= metrics["recall@1"] <= metrics["recall@10"] <= 1.0
        assert metrics["recall@1"] <= metrics["mrr@100"] <= 1.0
    assert report.notes["lexical_fields"] == "text"
    assert evaluate_self_retrieval(fake_index, sample=20).systems == report.systems  # default: the index's embedder
    as_built = evaluate_self_retrieval(fake_index, "fake", sample=20, fields="as-built")
    # the index's own BM25 covers title + text, so a title finds its own document almost always
    assert as_built.systems["bm25"]["recall@10"] >= 0.8
    assert as_built.systems["bm25"]["mrr@100"] > report.systems["bm25"]["mrr@100"], "titles are not indexed by default"
    assert as_built.systems["dense"] == report.systems["dense"], "dense search does not depend on the BM25 fields"
    with pytest.raises(TopicchatError, match="fields"):
        evaluate_self_retrieval(fake_index, "fake", sample=5, fields="titles")


def test_self_retrieval_refuses_another_embedder(fake_index):
    with pytest.raises(TopicchatError, match="embedded with"):
        evaluate_self_retrieval(fake_index, "fake:64", sample=5)


# ------------------------------------------------------------------------------------------- real data


@pytest.mark.slow
def test_bm25_on_cranfield_subset(shared_data):
    report = evaluate_retrieval(shared_data / "retrieval" / "cranfield", "fake", max_queries=25)
    assert report.queries == 25 and report.documents == 1400
    assert report.systems["bm25"]["ndcg@10"] > 0.2
    assert all(0.0 <= v <= 1.0 for m in report.systems.values() for v in m.values())


@pytest.mark.slow
def test_minilm_on_cisi_subset(shared_data):
    report = evaluate_retrieval(shared_data / "retrieval" / "cisi", max_queries=10, max_docs=150)
    assert report.embedder.split("#")[0].endswith("all-MiniLM-L6-v2")
    assert report.systems["dense"]["recall@100"] > 0.3
    assert report.systems["topicchat"]["ndcg@10"] > 0.1


def test_judged_evidence_sentences_are_well_formed():
    """`benchmarks/evidence_sentences.jsonl` (the evidence benchmark's judgements) names only sentences its
    documents have, its best one among them, and documents with sentences to choose between."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "evidence_sentences.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert {r["collection"] for r in rows} == {"cranfield", "cisi"} and len(rows) >= 100
    for r in rows:
        assert len(r["sentences"]) >= 3 and r["question"].strip() and r["doc_id"]
        assert r["answers"] == sorted(set(r["answers"])) and all(0 <= i < len(r["sentences"]) for i in r["answers"])
        assert r["best"] in r["answers"] if r["answers"] else r["best"] == -1
    assert len({(r["collection"], r["query_id"]) for r in rows}) == len(rows), "one pair per question"
