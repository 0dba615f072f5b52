"""Incremental rebuilds: place new documents into an existing index's topics instead of reclustering.

When the corpus changed a little (by default at most 10% of the documents added, changed or
removed) and every build parameter is unchanged, new documents take the topic their nearest
indexed neighbours vote for and a map position among them; topic labels and keywords are kept,
sizes and topic embeddings are recomputed. Past the threshold a full build runs instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from topicchat.indexer.cluster import centroids
from topicchat.indexer.store import TopicIndex
from topicchat.indexer.topics import TopicRecord

IGNORED_PARAMETERS = {"limit", "min_cluster_size_used", "full_rebuild", "time_col"}  # time is recounted on load


@dataclass
class UpdatePlan:
    """Which rows of the new corpus are kept from the old index, which are new, what was removed."""

    keep_rows: np.ndarray  # rows of the new corpus that the old index already holds unchanged
    old_rows: np.ndarray  # the same documents' rows in the old index
    new_rows: np.ndarray  # rows of the new corpus to embed and place
    removed: int

    @property
    def changes(self) -> int:
        return len(self.new_rows) + self.removed


def same_parameters(manifest: dict, parameters: dict) -> bool:
    """True when an index's manifest records these build parameters (ignoring the run-only ones; a parameter
    added after the index was built counts as unchanged while it has its default value)."""
    from topicchat.indexer.settings import BuildSettings

    old_params = {k: v for k, v in manifest.get("parameters", {}).items() if k not in IGNORED_PARAMETERS}
    defaults = {name: f.default for name, f in BuildSettings.model_fields.items()}
    new_params = {
        k: v
        for k, v in parameters.items()
        if k not in IGNORED_PARAMETERS and (k in old_params or k not in defaults or v != defaults[k])
    }
    return old_params == new_params


def plan_update(old: TopicIndex, docs: pd.DataFrame, parameters: dict, max_share: float = 0.1) -> UpdatePlan | None:
    """An update plan when the old index can absorb the change, else None (a full build is needed)."""
    if not same_parameters(old.manifest, parameters) or not old.topics:
        return None
    old_docs = old.documents
    old_key = {(d, t): i for i, (d, t) in enumerate(zip(old_docs["doc_id"], old_docs["text"], strict=True))}
    keep, old_rows, new = [], [], []
    for row, key in enumerate(zip(docs["doc_id"], docs["text"], strict=True)):
        if key in old_key:
            keep.append(row)
            old_rows.append(old_key[key])
        else:
            new.append(row)
    plan = UpdatePlan(
        np.array(keep, dtype=np.int64),
        np.array(old_rows, dtype=np.int64),
        np.array(new, dtype=np.int64),
        removed=len(old_docs) - len(keep),
    )
    return plan if plan.changes <= max_share * len(old_docs) else None


def place_documents(
    known: np.ndarray, known_topics: np.ndarray, known_xy: np.ndarray, new: np.ndarray, k: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Topic (similarity-weighted vote of the k nearest known documents), vote share and map position."""
    import faiss

    if len(new) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros((0, 2), np.float32)
    index = faiss.IndexFlatIP(known.shape[1])
    index.add(np.ascontiguousarray(known, dtype=np.float32))
    sims, rows = index.search(np.ascontiguousarray(new, dtype=np.float32), min(k, len(known)))
    weights = np.clip(sims, 1e-6, None)
    topics, shares, xy = [], [], []
    for w, r in zip(weights, rows, strict=True):
        votes: dict[int, float] = {}
        for weight, row in zip(w, r, strict=True):
            votes[int(known_topics[row])] = votes.get(int(known_topics[row]), 0.0) + float(weight)
        best = max(votes, key=lambda t: votes[t])
        topics.append(best)
        shares.append(votes[best] / sum(votes.values()))
        xy.append((w[:, None] * known_xy[r]).sum(axis=0) / w.sum())
    return np.array(topics, dtype=np.int64), np.array(shares, dtype=np.float32), np.array(xy, dtype=np.float32)


def apply_update(
    old: TopicIndex, docs: pd.DataFrame, plan: UpdatePlan, new_vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[TopicRecord], np.ndarray]:
    """Vectors, topics, probabilities, outlier flags, coordinates, topic records and topic vectors after an update."""
    n = len(docs)
    dim = old.embeddings.shape[1]
    vectors = np.zeros((n, dim), dtype=np.float32)
    labels = np.full(n, -1, dtype=np.int64)
    probs = np.zeros(n, dtype=np.float32)
    outlier = np.zeros(n, dtype=bool)
    coords = np.zeros((n, 2), dtype=np.float32)
    od = old.documents
    old_xy = od[["x", "y"]].to_numpy(np.float32)
    vectors[plan.keep_rows] = old.embeddings[plan.old_rows]
    labels[plan.keep_rows] = od["topic"].to_numpy()[plan.old_rows]
    probs[plan.keep_rows] = od["probability"].to_numpy()[plan.old_rows]
    outlier[plan.keep_rows] = od["is_outlier"].to_numpy()[plan.old_rows]
    coords[plan.keep_rows] = old_xy[plan.old_rows]
    if len(plan.new_rows):
        vectors[plan.new_rows] = new_vectors
        topic, share, xy = place_documents(
            old.embeddings[plan.old_rows], labels[plan.keep_rows], old_xy[plan.old_rows], new_vectors
        )
        labels[plan.new_rows], probs[plan.new_rows], coords[plan.new_rows] = topic, share, xy
        outlier[plan.new_rows] = topic == -1
    ids, topic_vectors = centroids(vectors, labels)
    by_id = {t.id: t for t in old.topics}
    doc_ids = set(docs["doc_id"])
    records = []
    for tid in ids.tolist():
        record = by_id[tid]
        record.size = int((labels == tid).sum())
        record.representative_doc_ids = [d for d in record.representative_doc_ids if d in doc_ids] or [
            str(docs["doc_id"].iat[int(np.flatnonzero(labels == tid)[0])])
        ]
        records.append(record)
    return vectors, labels, probs, outlier, coords, records, topic_vectors


UNFIT_QUANTILE = 0.05  # a document "fits no topic" when it is less like its topic than 95% of indexed members
REBUILD_GROWTH = 0.1  # more documents placed than this share of the clustered ones: recluster


def drift(
    vectors: np.ndarray,
    labels: np.ndarray,
    new_rows: np.ndarray,
    clustered: int,
    placed: int,
    min_cluster_size: int,
    k: int = 5,
) -> dict:
    """Whether placing documents into the existing topics still describes the corpus: the share of new
    documents that fit no topic (less similar to every topic than 95% of the indexed members are to their
    own), whether those form a dense region of their own (a topic the tree lacks), and how far the corpus
    grew since it was last clustered. `advice` lists the reasons to run a full rebuild (empty: none)."""
    import faiss

    ids, matrix = centroids(vectors, labels)
    out = {"new": len(new_rows), "placed_since_clustering": placed, "clustered": clustered, "advice": []}
    if len(ids) == 0 or len(new_rows) == 0:
        return out | {"unfit": 0, "unfit_share": 0.0, "dense_region": 0}
    column = {int(t): i for i, t in enumerate(ids.tolist())}
    new = np.zeros(len(labels), dtype=bool)
    new[new_rows] = True
    members = (~new) & (labels >= 0)
    own = np.einsum("ij,ij->i", vectors[members], matrix[[column[int(t)] for t in labels[members]]])
    floor = float(np.quantile(own, UNFIT_QUANTILE)) if len(own) else 0.0
    best = (vectors[new_rows] @ matrix.T).max(axis=1)
    unfit_rows = new_rows[best < floor]
    dense = 0
    if len(unfit_rows) > k:
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        _, near = index.search(np.ascontiguousarray(vectors[unfit_rows], dtype=np.float32), k + 1)
        unfit = np.zeros(len(labels), dtype=bool)
        unfit[unfit_rows] = True
        dense = int(sum(unfit[row[1:]].sum() > k // 2 for row in near))  # most neighbours are unfit new ones too
    share = len(unfit_rows) / len(new_rows)
    advice = []
    if placed > REBUILD_GROWTH * clustered:
        advice.append(
            f"{placed} documents were placed since the corpus was last clustered ({placed / max(clustered, 1):.0%} "
            f"of its {clustered}): past {REBUILD_GROWTH:.0%} new themes go unnoticed"
        )
    if len(unfit_rows) >= min_cluster_size and share > 2 * UNFIT_QUANTILE:
        advice.append(f"{len(unfit_rows)} of the {len(new_rows)} new documents ({share:.0%}) fit no topic well")
    if dense >= min_cluster_size:
        advice.append(f"{dense} new documents form a dense region that no topic covers")
    return out | {
        "unfit": int(len(unfit_rows)),
        "unfit_share": round(share, 4),
        "unfit_floor": round(floor, 4),
        "dense_region": dense,
        "advice": advice,
    }
