"""Stage 3, reduce: one shared kNN graph, then UMAP 5-D (for clustering) and UMAP 2-D (the map)."""

from __future__ import annotations

import numpy as np


def knn_graph(embeddings: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine kNN (FAISS inner product on unit vectors), as UMAP's precomputed_knn expects."""
    import faiss

    n = len(embeddings)
    k = min(k, n)
    index = faiss.IndexFlatIP(embeddings.shape[1])
    index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    sims, idx = index.search(np.ascontiguousarray(embeddings, dtype=np.float32), k)
    # The point itself must come first; ties between duplicates can put another row there.
    for row in np.flatnonzero(idx[:, 0] != np.arange(n)):
        others = [(j, s) for j, s in zip(idx[row], sims[row], strict=True) if j != row][: k - 1]
        idx[row] = [row] + [j for j, _ in others]
        sims[row] = [1.0] + [s for _, s in others]
    dists = np.clip(1.0 - sims, 0.0, 2.0).astype(np.float32)
    return idx.astype(np.int64), dists


def umap_project(
    embeddings: np.ndarray,
    knn: tuple[np.ndarray, np.ndarray],
    n_components: int,
    n_neighbors: int,
    seed: int,
) -> np.ndarray:
    """UMAP (cosine, min_dist=0) from a precomputed kNN graph; fitted once, never refitted."""
    from umap import UMAP

    n = len(embeddings)
    if n <= n_components + 1:
        return np.zeros((n, n_components), dtype=np.float32)
    k = min(n_neighbors, n - 1, knn[0].shape[1])
    model = UMAP(
        n_components=n_components,
        n_neighbors=k,
        min_dist=0.0,
        metric="cosine",
        random_state=seed,
        precomputed_knn=(knn[0][:, :k], knn[1][:, :k], None),
        init="spectral" if n > 2 * (n_components + 1) else "random",
    )
    return model.fit_transform(embeddings).astype(np.float32)
