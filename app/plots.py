"""Plotly figures: the 2-d document map and the topic similarity heatmap (Map tab), trend plots (chat)."""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from topicchat.app.trends import TrendChart
from topicchat.indexer.store import TopicIndex
from topicchat.indexer.tree import ancestor_at, path_of

OUTLIER_COLOUR = "#BDBDBD"
HIGHLIGHT_NAME = "cited in the last answer"
OUTLIER_NAME = "outliers"
PALETTE = qualitative.Dark24 + qualitative.Light24
WEBGL_FROM = 5000  # SVG scatter below this many documents (works without WebGL), Scattergl above
MAX_LEGEND_TOPICS = 30


def _plain(text: str, limit: int = 90) -> str:
    """Escape text for plotly's hover labels (which parse a few HTML tags) and cut it to `limit` chars."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def topic_colour(position: int) -> str:
    """Colour of the topic at `position` in the topic list (the palette repeats for many topics)."""
    return PALETTE[position % len(PALETTE)]


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=html.escape(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, template="plotly_white", height=300)
    return fig


def document_map(index: TopicIndex, highlight_doc_ids: Iterable[str] = (), level: int = 0) -> go.Figure:
    """Documents at their 2-d UMAP position, coloured by their topic at one level of the tree (0: the leaves;
    outliers grey); the hover shows each document's path in the tree; cited documents drawn larger."""
    docs = index.documents
    if docs.empty:
        return _empty("This index holds no documents.")
    scatter = go.Scattergl if len(docs) >= WEBGL_FROM else go.Scatter
    nodes = index.nodes
    level = max(0, min(level, index.levels - 1))
    ancestor = ancestor_at(index.topics, nodes, level)
    paths = {t.id: " > ".join(n.label for n in path_of(t.id, nodes)) for t in index.topics}
    leaf_ids = docs["topic"].to_numpy()
    topic_ids = np.array([ancestor.get(int(t), -1) for t in leaf_ids], dtype=np.int64)
    hover = [
        f"<b>{_plain(title)}</b><br>{_plain(f'topic {t}: {paths[t]}' if t in paths else 'outlier', 120)}"
        for title, t in zip(docs["title"], leaf_ids, strict=True)
    ]
    hover_arr = np.asarray(hover, dtype=object)
    ids = docs["doc_id"].astype(str).to_numpy()
    x, y = docs["x"].to_numpy(), docs["y"].to_numpy()
    fig = go.Figure()
    shown = sorted({ancestor[t.id] for t in index.topics}, key=lambda t: (-nodes[t].size, t))
    show_legend = len(shown) <= MAX_LEGEND_TOPICS
    groups = [(OUTLIER_NAME, -1, OUTLIER_COLOUR)] + [
        (_plain(f"{t}: {nodes[t].label}", 40), t, topic_colour(i)) for i, t in enumerate(shown)
    ]
    for name, tid, colour in groups:
        mask = topic_ids == tid
        if not mask.any():
            continue
        fig.add_trace(
            scatter(
                x=x[mask],
                y=y[mask],
                mode="markers",
                name=name,
                customdata=ids[mask],
                meta="documents",
                text=hover_arr[mask],
                hovertemplate="%{text}<extra></extra>",
                showlegend=show_legend,
                marker={"size": 6, "color": colour, "opacity": 0.5 if tid == -1 else 0.8},
            )
        )
    wanted = {str(d) for d in highlight_doc_ids}
    mask = np.isin(ids, list(wanted)) if wanted else np.zeros(len(ids), dtype=bool)
    if mask.any():
        fig.add_trace(
            scatter(
                x=x[mask],
                y=y[mask],
                mode="markers",
                name=HIGHLIGHT_NAME,
                customdata=ids[mask],
                meta="highlight",
                text=hover_arr[mask],
                hovertemplate="%{text}<extra>cited</extra>",
                marker={"size": 15, "color": "rgba(0,0,0,0)", "line": {"width": 2.5, "color": "#D62728"}},
            )
        )
    fig.update_layout(
        template="plotly_white",
        height=600,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title={"text": f"{len(docs)} documents, {len(shown)} {'topics' if level == 0 else 'areas'}", "x": 0.01},
        xaxis={"visible": False},
        yaxis={"visible": False},
        legend={"itemsizing": "constant", "title": {"text": "topic" if level == 0 else f"level {level}"}},
        hoverlabel={"align": "left"},
    )
    return fig


def topic_similarity(index: TopicIndex) -> np.ndarray:
    """Cosine similarity between every pair of topic embeddings (n_topics x n_topics)."""
    vectors = np.asarray(index.topic_embeddings, dtype=np.float64)
    if vectors.size == 0:
        return np.zeros((0, 0))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1.0, norms)
    return np.clip(unit @ unit.T, -1.0, 1.0)


def topic_heatmap(index: TopicIndex) -> go.Figure:
    """Topic-by-topic cosine similarity heatmap with labelled axes, like BERTopic's visualize_heatmap."""
    if not index.topics:
        return _empty("This index has no topics, so there is no similarity heatmap.")
    sim = topic_similarity(index)
    names = [_plain(f"{t.id}: {t.label}", 40) for t in index.topics]
    fig = go.Figure(
        go.Heatmap(
            z=sim,
            x=names,
            y=names,
            zmin=0.0 if sim.min() >= 0 else -1.0,
            zmax=1.0,
            colorscale="GnBu",
            hovertemplate="%{y}<br>%{x}<br>similarity %{z:.2f}<extra></extra>",
            colorbar={"title": {"text": "cosine"}},
        )
    )
    side = max(420, min(900, 120 + 28 * len(names)))
    fig.update_layout(
        template="plotly_white",
        title={"text": "Similarity between topics", "x": 0.01},
        width=side + 160,
        height=side,
        xaxis={"tickangle": -45, "constrain": "domain"},
        yaxis={"autorange": "reversed", "scaleanchor": "x", "constrain": "domain"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def trend_figure(chart: TrendChart, share: bool = False) -> go.Figure:
    """Documents per period for each topic of a trend answer (or their share of the period's documents)."""
    if not chart.periods or not chart.series:
        return _empty("No dated documents to plot.")
    fig = go.Figure()
    totals = np.asarray(chart.totals, dtype=float)
    for i, (name, counts) in enumerate(chart.series.items()):
        values = np.asarray(counts, dtype=float)
        shares = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
        label = _plain(name, 50)
        fig.add_trace(
            go.Scatter(
                x=chart.periods,
                y=shares * 100 if share else values,
                mode="lines+markers",
                name=label,
                line={"color": topic_colour(i)},
                customdata=np.stack([values, shares * 100], axis=1),
                meta=label,  # the label goes in as data, never into the template
                hovertemplate="%{meta}<br>%{x}: %{customdata[0]:.0f} documents (%{customdata[1]:.1f}%)<extra></extra>",
            )
        )
    what = "share of the documents (%)" if share else "documents"
    fig.update_layout(
        template="plotly_white",
        height=360,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        title={"text": _plain(f"Documents per {chart.granularity} ({chart.column})", 80), "font": {"size": 14}},
        xaxis={"title": chart.granularity, "type": "category"},
        yaxis={"title": what, "rangemode": "tozero"},
        showlegend=True,  # even for one line: the legend names the topic
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
