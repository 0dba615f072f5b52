"""Stage 4, cluster: HDBSCAN (eom) on the reduced vectors, then optional outlier reduction."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def hdbscan_labels(
    reduced: np.ndarray, min_cluster_size: int, min_samples: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """HDBSCAN labels (-1 = outlier) and membership probabilities; fitted once."""
    from hdbscan import HDBSCAN

    n = len(reduced)
    if n < 2 * min_cluster_size:
        log.warning(
            "%d documents cannot form two clusters of at least %d (min_cluster_size): every document is an outlier.",
            n,
            min_cluster_size,
        )
        return np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.float32)
    model = HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        metric="euclidean",
        cluster_selection_method="eom",
        core_dist_n_jobs=1,
    ).fit(reduced)
    return model.labels_.astype(np.int64), model.probabilities_.astype(np.float32)


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit-length mean embedding of each cluster; returns (cluster ids, centroids)."""
    ids = np.array(sorted(set(labels.tolist()) - {-1}), dtype=np.int64)
    if len(ids) == 0:
        return ids, np.zeros((0, embeddings.shape[1]), dtype=np.float32)
    cents = np.stack([embeddings[labels == c].mean(axis=0) for c in ids]).astype(np.float32)
    cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
    return ids, cents


def reduce_outliers(embeddings: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Give each outlier the topic whose centroid it is most similar to, if the cosine reaches threshold.

    Centroids come from the clustered documents only, so the topics' cores do not drift; outliers
    too far from every topic stay outliers (the 'outlier pool' the assistant searches separately).
    """
    out = labels.copy()
    outliers = np.flatnonzero(labels == -1)
    ids, cents = centroids(embeddings, labels)
    if len(outliers) == 0 or len(ids) == 0:
        return out
    sims = embeddings[outliers] @ cents.T
    best = sims.argmax(axis=1)
    close = sims[np.arange(len(outliers)), best] >= threshold
    out[outliers[close]] = ids[best[close]]
    return out


def renumber_by_size(labels: np.ndarray) -> np.ndarray:
    """Topic ids 0..k-1 ordered by size (largest first), -1 kept; as BERTopic numbers them."""
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = ids[np.lexsort((ids, -counts))]
    mapping = {int(old): new for new, old in enumerate(order)}
    return np.array([mapping.get(int(x), -1) for x in labels], dtype=np.int64)
