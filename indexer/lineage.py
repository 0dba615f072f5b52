"""Topic lineage: which topics of two indexes are the same one, by the documents they hold.

Used twice: a full rebuild gives a topic that is substantially the same as one of the previous index
the previous topic's id and label (stable ids), and `topicchat diff OLD NEW` tells kept / grown / shrunk /
split / merged / new / retired topics apart. Two topics are "the same" when their members overlap with a
Jaccard index of at least SAME_JACCARD (documents compared by id); at 0.5 and above a topic can be the
same as at most one other, so the matching is one-to-one without any search.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from topicchat.indexer.cluster import centroids as cluster_centroids
from topicchat.indexer.cluster import renumber_by_size
from topicchat.indexer.topics import TopicRecord

SAME_JACCARD = 0.5  # benchmarks/stability.py: seed rebuilds, measured per topic
SIZE_CHANGE = 0.1  # a kept topic that grew or shrank by more than this share is "grown" / "shrunk"
PART = 0.2  # a split or merge: each part holds at least this share of the topic it came from / went into


def leaf_members(doc_ids: Sequence[str], labels: Sequence[int]) -> dict[int, set[str]]:
    """Leaf topic id -> the ids of its documents (outliers, -1, left out)."""
    out: dict[int, set[str]] = {}
    for doc_id, topic in zip(doc_ids, labels, strict=True):
        if int(topic) >= 0:
            out.setdefault(int(topic), set()).add(str(doc_id))
    return out


def node_members(leaves: Mapping[int, set[str]], nodes: Mapping[int, TopicRecord]) -> dict[int, set[str]]:
    """Every tree node's documents: a leaf's own, a parent's the union of the leaves under it."""
    out: dict[int, set[str]] = {}

    def of(node_id: int) -> set[str]:
        if node_id not in out:
            node = nodes[node_id]
            if node.level == 0:
                out[node_id] = set(leaves.get(node_id, set()))
            else:
                out[node_id] = set().union(*(of(c) for c in node.children if c in nodes))
        return out[node_id]

    for node_id in nodes:
        of(node_id)
    return out


def overlaps(old: Mapping[int, set[str]], new: Mapping[int, set[str]]) -> dict[tuple[int, int], int]:
    """(old topic, new topic) -> documents they share, for every pair that shares any."""
    where: dict[str, list[int]] = {}
    for topic, docs in old.items():
        for doc in docs:
            where.setdefault(doc, []).append(topic)
    counts: Counter[tuple[int, int]] = Counter()
    for topic, docs in new.items():
        for doc in docs:
            for o in where.get(doc, ()):
                counts[(o, topic)] += 1
    return dict(counts)


def jaccard(shared: int, a: int, b: int) -> float:
    return shared / max(a + b - shared, 1)


def match(
    old: Mapping[int, set[str]], new: Mapping[int, set[str]], threshold: float = SAME_JACCARD
) -> dict[int, tuple[int, float]]:
    """new topic id -> (the old topic it is the same as, their Jaccard), one-to-one, best pairs first.

    Members are compared over the documents both sides hold: a topic that only gained new documents or
    lost removed ones is the same topic (grown or shrunk), not a new one."""
    common = set().union(*old.values()) & set().union(*new.values()) if old and new else set()
    old = {t: d & common for t, d in old.items() if d & common}
    new = {t: d & common for t, d in new.items() if d & common}
    pairs = sorted(
        (
            (jaccard(c, len(old[o]), len(new[n])), o, n)
            for (o, n), c in overlaps(old, new).items()
            if jaccard(c, len(old[o]), len(new[n])) >= threshold
        ),
        reverse=True,
    )
    out: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()
    for j, o, n in pairs:
        if n not in out and o not in taken:
            out[n] = (o, round(j, 4))
            taken.add(o)
    return out


STICK_MARGIN = 0.1  # benchmarks/stick.py: cosine a document may lose to stay in its previous topic


REGROUP = 0.7  # a cluster is split back / pieces merged back when this share of it comes from the previous leaves


def regroup(
    old_leaf: Mapping[int, set[str]],
    doc_ids: Sequence[str],
    labels: np.ndarray,
    vectors: np.ndarray,
    min_size: int,
    max_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Undo merges and splits that only the seed made, before borderline documents are kept in place.

    Merges: a cluster made (>= REGROUP of it) of big pieces (>= min_size and half of their leaf each) of
    two or more previous leaves, at least one of them matched by no cluster now, is split back along them
    (each member joins the piece whose centroid is nearest; the piece of the leaf the cluster matches keeps
    the cluster). Splits: clusters that match no previous leaf and are made (>= REGROUP) of one previous
    leaf join the cluster that matches that leaf, or, when none does, each other (together holding at least
    half of it), unless the result would hold more than `max_size` documents (the build's cap on a leaf). A
    cluster made mostly of new documents is never touched.
    Returns (labels, rows of the documents whose cluster changed); labels renumbered by size when any did."""
    new_leaf = leaf_members(doc_ids, labels.tolist())
    matched = match(old_leaf, new_leaf)
    home = {o: c for c, (o, _) in matched.items()}
    free_new = set(new_leaf) - set(matched)
    free_old = set(old_leaf) - set(home)
    old_of = {d: o for o, members in old_leaf.items() for d in members}
    row_of = {d: i for i, d in enumerate(doc_ids)}
    out = labels.copy()
    fresh = int(labels.max()) + 1
    touched: set[int] = set()
    for c in sorted(new_leaf):
        parts: dict[int, list[str]] = {}
        for d in new_leaf[c]:
            if d in old_of:
                parts.setdefault(old_of[d], []).append(d)
        own = matched[c][0] if c in matched else None
        big = sorted(
            (o != own, o, ds)
            for o, ds in parts.items()
            if (o in free_old or o == own) and len(ds) >= min_size and 2 * len(ds) >= len(old_leaf[o])
        )
        if len(big) < 2 or all(o not in free_old for _, o, _ in big):
            continue
        if sum(len(ds) for *_, ds in big) < REGROUP * len(new_leaf[c]):
            continue
        rows = np.array([row_of[d] for d in sorted(new_leaf[c])])
        centroids = np.stack([vectors[[row_of[d] for d in ds]].mean(axis=0) for *_, ds in big])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        targets = np.array([c, *range(fresh, fresh + len(big) - 1)])
        fresh += len(big) - 1
        out[rows] = targets[np.argmax(vectors[rows] @ centroids.T, axis=1)]
        touched.add(c)
    for o in sorted(old_leaf):
        pieces = sorted(c for c in free_new - touched if len(new_leaf[c] & old_leaf[o]) >= REGROUP * len(new_leaf[c]))
        target = home.get(o)
        if target is None:
            if len(pieces) < 2 or 2 * sum(len(new_leaf[c] & old_leaf[o]) for c in pieces) < len(old_leaf[o]):
                continue
            target, pieces = pieces[0], pieces[1:]
        if max_size is not None and int(np.isin(out, [target, *pieces]).sum()) > max_size:
            continue
        for c in pieces:
            out[out == c] = target
        touched.update(pieces)
    changed = np.flatnonzero(out != labels)
    if not len(changed):
        return labels, changed
    return renumber_by_size(out), changed


def stick(
    old_docs: pd.DataFrame,
    old_nodes: Mapping[int, TopicRecord],
    doc_ids: Sequence[str],
    labels: np.ndarray,
    vectors: np.ndarray,
    margin: float = STICK_MARGIN,
    rounds: int = 3,
    min_size: int | None = None,
    max_size: int | None = None,
) -> tuple[np.ndarray, int]:
    """Keep borderline documents where the previous index had them (evolutionary clustering's history cost).

    A rebuild's clusters are matched to the previous index's leaves (member Jaccard, as for stable ids). A
    document both hold, whose previous leaf matches a cluster other than the one it fell in now, goes back to
    that cluster when its cosine to that cluster's centroid is at most `margin` below its cosine to the
    centroid of the one it fell in: a seed or a few new documents should not move a document that sits
    between two topics, while one that now clearly belongs elsewhere moves. Matching and moving repeat (up
    to `rounds` times) while documents move, since a cluster that regained its documents may now match.
    With `min_size` (the build's minimum cluster size), each round first undoes splits and merges only the
    seed made (`regroup`); no step makes a cluster larger than `max_size`. Returns (labels, documents moved)."""
    leaves = {k for k, t in old_nodes.items() if t.level == 0}
    old_topic = {
        d: int(t) for d, t in zip(old_docs["doc_id"].tolist(), old_docs["topic"].tolist(), strict=True) if t in leaves
    }
    old_leaf = leaf_members(list(old_topic), list(old_topic.values()))
    out = labels.copy()
    moved: set[int] = set()
    for _ in range(rounds):
        regrouped = 0
        if min_size is not None:
            out, changed = regroup(old_leaf, doc_ids, out, vectors, min_size, max_size)
            moved.update(changed.tolist())
            regrouped = len(changed)
        new_leaf = leaf_members(list(doc_ids), out.tolist())
        now_for_old = {o: n for n, (o, _) in match(old_leaf, new_leaf).items()}
        if not now_for_old:
            break
        clusters, centroids = cluster_centroids(vectors, out)
        position = {int(c): i for i, c in enumerate(clusters)}
        candidates = []
        for row, (doc, now) in enumerate(zip(doc_ids, out.tolist(), strict=True)):
            before = now_for_old.get(old_topic.get(doc, -2))
            if before is None or now < 0 or before == now:
                continue
            here, there = centroids[position[now]] @ vectors[row], centroids[position[before]] @ vectors[row]
            if there >= here - margin:
                candidates.append((float(here - there), row, before))
        rows, targets = [], []
        sizes = {c: len(members) for c, members in new_leaf.items()}
        for _, row, before in sorted(candidates):  # the most borderline first, while the cap allows
            if max_size is not None and sizes[before] >= max_size:
                continue
            sizes[before] += 1
            rows.append(row)
            targets.append(before)
        if not rows and not regrouped:
            break
        out[rows] = targets
        moved.update(rows)
    return out, len(moved)


@dataclass
class Lineage:
    """The ids a rebuild's nodes take from the previous index, and what the manifest reports about it."""

    ids: dict[int, int]  # this build's node id -> the id it keeps (an old one) or gets (a fresh one)
    kept: dict[int, tuple[int, float]]  # final id -> (the old node's id, Jaccard) for nodes that kept an id
    report: dict = field(default_factory=dict)


def carry_ids(
    old_docs: pd.DataFrame,
    old_nodes: Mapping[int, TopicRecord],
    docs: pd.DataFrame,
    labels: np.ndarray,
    nodes: Mapping[int, TopicRecord],
    next_id: int,
    threshold: float = SAME_JACCARD,
) -> Lineage:
    """Match this build's tree to the previous index's: leaves to leaves, parents to parents (any level), by
    member Jaccard; matched nodes take the old id, the rest fresh ids from `next_id` on (an id that was
    retired is never given to a different topic)."""
    old_leaf = leaf_members(old_docs["doc_id"].tolist(), old_docs["topic"].tolist())
    new_leaf = leaf_members(docs["doc_id"].tolist(), labels.tolist())
    old_all, new_all = node_members(old_leaf, old_nodes), node_members(new_leaf, nodes)
    found: dict[int, tuple[int, float]] = {}
    for level_is_leaf in (True, False):
        old_level = {k: v for k, v in old_all.items() if (old_nodes[k].level == 0) == level_is_leaf and v}
        new_level = {k: v for k, v in new_all.items() if (nodes[k].level == 0) == level_is_leaf and v}
        found |= match(old_level, new_level, threshold)
    fresh = max([next_id - 1, *old_nodes]) + 1
    ids: dict[int, int] = {}
    for node_id in sorted(nodes):
        if node_id in found:
            ids[node_id] = found[node_id][0]
        else:
            ids[node_id], fresh = fresh, fresh + 1
    kept = {ids[n]: v for n, v in found.items()}
    old_rows = dict(zip(old_docs["doc_id"].tolist(), old_docs["topic"].tolist(), strict=True))
    both = [(old_rows[d], ids.get(int(t), -1)) for d, t in zip(docs["doc_id"], labels, strict=True) if d in old_rows]
    same = sum(1 for before, after in both if before == after and before >= 0)
    leaves = [n for n in nodes if nodes[n].level == 0]
    best: dict[int, float] = {}
    o_leaf = {k: v for k, v in old_all.items() if old_nodes[k].level == 0}
    for (old_id, new_id), c in overlaps(o_leaf, {k: new_all[k] for k in leaves}).items():
        best[new_id] = max(best.get(new_id, 0.0), jaccard(c, len(o_leaf[old_id]), len(new_all[new_id])))
    histogram = np.histogram([best.get(n, 0.0) for n in leaves], bins=10, range=(0.0, 1.0))[0]
    report = {
        "threshold_jaccard": threshold,
        "leaves_kept": sum(1 for n in leaves if n in found),
        "leaves": len(leaves),
        "parents_kept": sum(1 for n in nodes if nodes[n].level > 0 and n in found),
        "documents_same_topic": round(same / max(len(both), 1), 4),
        "jaccard": {str(ids[n]): j for n, (_, j) in sorted(found.items()) if nodes[n].level == 0},
        "parent_jaccard": {str(ids[n]): j for n, (_, j) in sorted(found.items()) if nodes[n].level > 0},
        "best_jaccard_per_leaf_in_tenths": histogram.tolist(),  # leaves by their best overlap: [0, .1), ... [.9, 1]
    }
    return Lineage(ids, kept, report)


def apply_ids(lineage: Lineage, labels: np.ndarray, records: Sequence[TopicRecord]) -> np.ndarray:
    """Rename every node (id, parent, children) and each document's topic by the lineage's id map."""
    ids = lineage.ids
    for record in records:
        record.id = ids[record.id]
        record.parent = ids[record.parent] if record.parent is not None else None
        record.children = [ids[c] for c in record.children]
    lookup = np.vectorize(lambda t: ids.get(int(t), -1), otypes=[np.int64])
    return lookup(labels) if len(labels) else labels


def keep_labels(lineage: Lineage, records: Sequence[TopicRecord], old_nodes: Mapping[int, TopicRecord]) -> int:
    """Nodes that kept an id keep the label and summary they had too; returns how many did."""
    count = 0
    for record in records:
        if record.id in lineage.kept and record.id in old_nodes:
            old = old_nodes[record.id]
            record.label, record.label_source, record.label_rejected = old.label, old.label_source, old.label_rejected
            record.summary = old.summary
            record.quality["label_kept_from_previous"] = lineage.kept[record.id][1]
            count += 1
    return count


# --- diff -------------------------------------------------------------------------------------------------

KINDS = ("kept", "grown", "shrunk", "split", "merged", "new", "retired")


@dataclass
class Change:
    """One line of a diff: what happened to a topic (or a group of topics) between two indexes."""

    kind: str
    old: list[int]
    new: list[int]
    old_size: int
    new_size: int
    label: str
    jaccard: float | None = None
    examples: list[str] = field(default_factory=list)  # titles of documents that show the change (or parts' labels)
    example_ids: list[str] = field(default_factory=list)  # those documents' ids

    def to_json(self) -> dict:
        return asdict(self)


def diff(
    old_docs: pd.DataFrame,
    old_nodes: Mapping[int, TopicRecord],
    new_docs: pd.DataFrame,
    new_nodes: Mapping[int, TopicRecord],
    threshold: float = SAME_JACCARD,
    examples: int = 2,
) -> list[Change]:
    """What happened to every leaf topic between two indexes, matched by members (ids need not agree).

    Matched pairs are kept, grown or shrunk (size change beyond SIZE_CHANGE). Of the rest, an old topic
    whose documents went to two or more new topics (each taking >= PART of it) was split; a new topic made
    of two or more old topics' documents (each >= PART of it) is a merge; other new topics are new (with
    the documents that were not in the old index, or gathered from many), other old topics retired.
    """
    old_leaf = leaf_members(old_docs["doc_id"].tolist(), old_docs["topic"].tolist())
    new_leaf = leaf_members(new_docs["doc_id"].tolist(), new_docs["topic"].tolist())
    titles = dict(zip(new_docs["doc_id"], new_docs["title"], strict=True))
    titles_old = dict(zip(old_docs["doc_id"], old_docs["title"], strict=True))
    pairs = match(old_leaf, new_leaf, threshold)
    shared = overlaps(old_leaf, new_leaf)
    matched_old = {o for o, _ in pairs.values()}
    changes: list[Change] = []

    def label(nodes: Mapping[int, TopicRecord], t: int) -> str:
        return nodes[t].label if t in nodes else f"topic {t}"

    def show(docs: set[str], names: Mapping[str, str]) -> dict:
        ids = [d for d in sorted(docs) if d in names][:examples]
        return {"examples": [names[d] for d in ids], "example_ids": ids}

    for n, (o, j) in sorted(pairs.items(), key=lambda p: -len(new_leaf[p[0]])):
        a, b = len(old_leaf[o]), len(new_leaf[n])
        kind = "grown" if b > a * (1 + SIZE_CHANGE) else "shrunk" if b < a * (1 - SIZE_CHANGE) else "kept"
        moved = (new_leaf[n] - old_leaf[o]) if kind == "grown" else (old_leaf[o] - new_leaf[n])
        names = titles if kind == "grown" else titles_old
        shown = show(moved, names) if kind != "kept" else {}
        changes.append(Change(kind, [o], [n], a, b, label(new_nodes, n), j, **shown))

    split_of: set[int] = set()
    for o in sorted(set(old_leaf) - matched_old, key=lambda t: -len(old_leaf[t])):
        parts = [n for (oo, n), c in shared.items() if oo == o and c >= PART * len(old_leaf[o])]
        if len(parts) >= 2:
            split_of.add(o)
            changes.append(
                Change(
                    "split",
                    [o],
                    sorted(parts),
                    len(old_leaf[o]),
                    sum(shared[(o, n)] for n in parts),
                    label(old_nodes, o),
                    None,
                    [label(new_nodes, n) for n in sorted(parts)][: examples + 1],
                )
            )
    merged_from: set[int] = set()
    for n in sorted(set(new_leaf) - set(pairs), key=lambda t: -len(new_leaf[t])):
        parts = [o for (o, nn), c in shared.items() if nn == n and c >= PART * len(new_leaf[n])]
        if len(parts) >= 2:
            merged_from.update(parts)
            changes.append(
                Change(
                    "merged",
                    sorted(parts),
                    [n],
                    sum(len(old_leaf[o]) for o in parts),
                    len(new_leaf[n]),
                    label(new_nodes, n),
                    None,
                    [label(old_nodes, o) for o in sorted(parts)][: examples + 1],
                )
            )
        elif not any(n in c.new for c in changes):
            fresh = new_leaf[n] - set(titles_old)
            shown = show(fresh or new_leaf[n], titles)
            changes.append(Change("new", [], [n], 0, len(new_leaf[n]), label(new_nodes, n), None, **shown))
    for o in sorted(set(old_leaf) - matched_old - split_of - merged_from, key=lambda t: -len(old_leaf[t])):
        shown = show(old_leaf[o], titles_old)
        changes.append(Change("retired", [o], [], len(old_leaf[o]), 0, label(old_nodes, o), None, **shown))
    return changes


def summarise(changes: Sequence[Change]) -> dict[str, int]:
    """How many topics each kind of change covers (a split counts its old topic, a merge its new one)."""
    counts = dict.fromkeys(KINDS, 0)
    for c in changes:
        counts[c.kind] += 1
    return counts


def documents_kept(old_docs: pd.DataFrame, new_docs: pd.DataFrame) -> dict[str, int]:
    """Documents only in the old index, only in the new one, and in both."""
    a, b = set(old_docs["doc_id"]), set(new_docs["doc_id"])
    return {"removed": len(a - b), "added": len(b - a), "in_both": len(a & b)}
