"""Stage 5b, tree: coarser levels above the leaf topics, so users can browse a few areas and drill down.

Leaves are merged by size-weighted Ward linkage on their mean embeddings (the cost of merging two
groups of documents), about `branching` children per parent, level by level, until a level would hold
fewer than `min_top` nodes. Every parent has at least two children: a node that the merge leaves alone
at a level (a topic unlike the others) joins no area and stays a top-level node of its own, so branches
can be shallower than the tree. All nodes share one integer id space: leaves keep 0..L-1 (largest
first), parents follow, level by level, largest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from topicchat.indexer.topics import TopicRecord, _CorpusAwareBackend, build_topics
from topicchat.models.base import Embedder

BRANCHING = 3.5
MIN_TOP = 4


def merge_levels(
    leaf_labels: np.ndarray, embeddings: np.ndarray, branching: float = BRANCHING, min_top: int = MIN_TOP
) -> tuple[list[np.ndarray], list[dict[int, int]]]:
    """Document labels per level (levels[0] = the leaves) and, per level above, child -> parent."""
    levels = [np.asarray(leaf_labels)]
    parents: list[dict[int, int]] = []
    while True:
        cur = levels[-1]
        ids = np.unique(cur[cur >= 0])
        k = int(round(len(ids) / branching))
        if k < min_top or len(ids) < 2 * min_top:
            break
        sums = np.stack([embeddings[cur == i].sum(0) for i in ids]).astype(np.float64)
        counts = np.array([(cur == i).sum() for i in ids], dtype=np.float64)
        group = np.arange(len(ids))
        active = list(range(len(ids)))
        while len(active) > k:
            a_ = np.array(active)
            mu = sums[a_] / counts[a_][:, None]
            n_a, n_b = counts[a_][:, None], counts[a_][None, :]
            cost = n_a * n_b / (n_a + n_b) * ((mu[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
            np.fill_diagonal(cost, np.inf)
            i, j = np.unravel_index(np.argmin(cost), cost.shape)
            a, b = int(a_[i]), int(a_[j])
            sums[a] += sums[b]
            counts[a] += counts[b]
            group[group == b] = a
            active.remove(b)
        # A group of one would be a parent with one child, which is no parent: the node stays a top-level
        # node of its own (a topic unlike the others joins no area). Folding it into the closest group
        # instead lowered agreement with gold classes (Congress bills) and put unrelated topics under one label.
        gids, sizes = np.unique(group, return_counts=True)
        kept = gids[sizes >= 2]
        if len(kept) == 0:
            break
        renumber = {int(g): n for n, g in enumerate(kept)}
        mapping = {int(i): renumber[int(g)] for i, g in zip(ids, group, strict=True) if int(g) in renumber}
        parents.append(mapping)
        levels.append(np.array([mapping.get(int(v), -1) for v in cur], dtype=np.int64))
    return levels, parents


def build_tree(
    texts: Sequence[str],
    doc_ids: Sequence[str],
    embeddings: np.ndarray,
    leaf_labels: np.ndarray,
    leaves: list[TopicRecord],
    leaf_vectors: np.ndarray,
    embedder: Embedder,
    top_n_words: int,
    *,
    seed: int,
    branching: float = BRANCHING,
    min_top: int = MIN_TOP,
) -> tuple[list[TopicRecord], np.ndarray, dict[str, Any]]:
    """Parent nodes (keywords, representative documents, embeddings) above the leaves; returns
    (parents, their vectors, how the levels were made). Leaves get their `parent` filled in."""
    levels, maps = merge_levels(leaf_labels, embeddings, branching, min_top)
    how: dict[str, Any] = {
        "method": "size-weighted Ward merging of leaf topics (mean embeddings)",
        "branching": branching,
        "min_top_level": min_top,
        "nodes_per_level": [len(leaves)],
        # Per level above the leaves: how many nodes of the level below joined no area (top-level nodes).
        "alone_per_level": [],
    }
    parents: list[TopicRecord] = []
    vectors: list[np.ndarray] = []
    if len(levels) == 1:
        how["why_one_level"] = f"{len(leaves)} leaf topics are too few to group (a level needs at least {min_top})"
        return parents, np.zeros((0, embeddings.shape[1]), dtype=np.float32), how
    backend = _CorpusAwareBackend(embedder, texts, embeddings)
    by_id = {t.id: t for t in leaves}
    below = {t.id: t.id for t in leaves}  # level-local id -> global id, for the level below
    next_id = max(by_id) + 1
    for depth, (labels, mapping) in enumerate(zip(levels[1:], maps, strict=True), start=1):
        records, vecs = build_topics(
            texts, doc_ids, embeddings, labels, embedder, top_n_words, seed=seed, backend=backend
        )
        order = sorted(range(len(records)), key=lambda r: (-records[r].size, records[r].id))
        local_to_global: dict[int, int] = {}
        for rank, row in enumerate(order):
            record = records[row]
            local_to_global[record.id] = next_id + rank
        for row in order:
            record = records[row]
            record.id, record.level = local_to_global[record.id], depth
            parents.append(record)
            vectors.append(vecs[row])
            by_id[record.id] = record
        for child_local, parent_local in mapping.items():
            child, parent = by_id[below[child_local]], by_id[local_to_global[parent_local]]
            child.parent = parent.id
            parent.children.append(child.id)
        how["alone_per_level"].append(len(below) - len(mapping))
        below = local_to_global
        next_id += len(records)
        how["nodes_per_level"].append(len(records))
    for record in parents:
        record.children.sort(key=lambda c: (-by_id[c].size, c))
    return parents, np.stack(vectors).astype(np.float32), how


def refresh_parents(
    parents: list[TopicRecord], leaves: list[TopicRecord], embeddings: np.ndarray, labels: np.ndarray
) -> tuple[list[TopicRecord], np.ndarray]:
    """After documents were added or removed in place: parent sizes and vectors from their leaves' documents;
    children that no longer exist are dropped, and so is a parent left with no children."""
    alive = {t.id for t in leaves}
    leaf_of_parent: dict[int, set[int]] = {}
    nodes = {t.id: t for t in [*leaves, *parents]}

    def leaves_under(node_id: int) -> set[int]:
        node = nodes[node_id]
        if node.level == 0:
            return {node_id} & alive
        if node_id not in leaf_of_parent:
            leaf_of_parent[node_id] = set().union(*(leaves_under(c) for c in node.children if c in nodes))
        return leaf_of_parent[node_id]

    kept: list[TopicRecord] = []
    vectors: list[np.ndarray] = []
    for record in parents:
        under = leaves_under(record.id)
        if not under:
            continue
        record.children = [c for c in record.children if c in alive or (c in nodes and leaves_under(c))]
        members = np.isin(labels, list(under))
        record.size = int(members.sum())
        centre = embeddings[members].mean(axis=0)
        kept.append(record)
        vectors.append(centre / max(float(np.linalg.norm(centre)), 1e-12))
    dim = embeddings.shape[1]
    return kept, (np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), dtype=np.float32))


def ancestor_at(leaves: Sequence[TopicRecord], nodes: dict[int, TopicRecord], level: int) -> dict[int, int]:
    """Each leaf's node at a level of the tree (the top of its branch when the branch is shallower)."""
    out = {}
    for leaf in leaves:
        node = leaf
        while node.level < level and node.parent is not None:
            node = nodes[node.parent]
        out[leaf.id] = node.id
    return out


def path_of(node_id: int, nodes: dict[int, TopicRecord]) -> list[TopicRecord]:
    """The node and its ancestors, top level first."""
    chain = [nodes[node_id]]
    while chain[0].parent is not None and chain[0].parent in nodes:
        chain.insert(0, nodes[chain[0].parent])
    return chain
