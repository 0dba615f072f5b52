"""Typed build settings: one pydantic model, every field described (the `build` section of
`topicchat.config.Settings`, which reads topicchat.toml and TOPICCHAT_* variables)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from topicchat.models.catalog import cache_root
from topicchat.models.registry import DEFAULT_EMBEDDER, DEFAULT_GENERATOR

# Settings that change how a build runs but not what the index holds: never recorded in the
# manifest's `parameters`, so changing one never forces a rebuild.
RUNTIME_FIELDS = frozenset(
    {
        "cache_dir",
        "show_progress",
        "full_rebuild",
        "embed_dtype",
        "embed_max_tokens",
        "engine",
        "ray_address",
        "ray_actors",
        "ray_cpus_per_actor",
        "embed_chunk",
    }
)


def default_cache_dir() -> Path:
    """Where embeddings are cached between builds by default (~/.cache/topicchat)."""
    return cache_root()


class BuildSettings(BaseModel):
    """Everything that decides what an index holds; recorded whole in manifest.json."""

    model_config = ConfigDict(extra="forbid")

    text_col: str | None = Field(None, description="Column with the document text (guessed when unset).")
    title_col: str | None = Field(None, description="Column with the document title (guessed when unset).")
    id_col: str | None = Field(None, description="Column with a unique document id (row number when unset).")
    time_col: str | None = Field(
        None,
        description="Column of dates or years for topics over time (guessed when unset; 'none' turns it off).",
    )
    on_duplicate_id: Literal["error", "keep-first"] = Field(
        "error", description="Two documents with one id (and different texts): stop with an error, or keep the first."
    )
    limit: int | None = Field(None, description="Use only the first N documents.", ge=1)
    encoding: str = Field("utf-8", description="Text encoding of CSV/TSV/JSON(L) files (e.g. latin-1, cp1252).")
    embedding_model: str = Field(DEFAULT_EMBEDDER, description="Embedder config string (see models.registry).")
    generator: str = Field(DEFAULT_GENERATOR, description="Generator config string for topic labels.")
    seed: int = Field(42, description="Random seed for UMAP and everything else stochastic.")
    umap_neighbors: int = Field(15, description="UMAP n_neighbors (shared kNN graph for both maps).", ge=2)
    umap_components: int = Field(5, description="UMAP dimensions used for clustering.", ge=2)
    min_cluster_size: int | None = Field(
        None, description="HDBSCAN min_cluster_size; sqrt(documents) / 4 (at least 5) when unset.", ge=2
    )
    min_samples: int | None = Field(
        None, description="HDBSCAN min_samples (min(min_cluster_size, 5) when unset).", ge=1
    )
    max_topic_share: float = Field(
        0.08, description="A leaf topic larger than this share of the corpus (outliers joined) is split.", gt=0, le=1
    )
    reduce_outliers: bool = Field(True, description="Assign outliers to a topic when they are close enough to one.")
    outlier_threshold: float = Field(0.4, description="Minimum cosine to a topic centroid for an outlier to join it.")
    max_outlier_share: float = Field(
        0.1,
        description="At most this share of the documents stays an outlier: the closest of the rest join their nearest topic.",
        ge=0,
        le=1,
    )
    fit_sample_above: int = Field(
        50_000,
        description="Past this many documents, reduction and clustering are fitted on a random sample and the rest "
        "placed by their nearest sampled neighbours (0: always fit on everything).",
        ge=0,
    )
    fit_sample_size: int = Field(20_000, description="Documents in that sample.", ge=20)
    top_n_words: int = Field(10, description="Keywords kept per topic and representation.")
    label_topics: bool = Field(True, description="Ask the generator for topic labels and summaries.")
    summaries: bool = Field(True, description="Write a one-sentence summary per topic (needs label_topics).")
    max_doc_chars: int = Field(20000, description="Longer documents are cut to this many characters.", ge=100)
    full_rebuild: bool = Field(
        False, description="Recluster from scratch even when the old index could be updated in place."
    )
    cache_dir: Path = Field(default_factory=default_cache_dir, description="Embedding cache folder.")
    embed_dtype: Literal["auto", "float32", "bfloat16", "int8"] = Field(
        "auto",
        description="Encoder of sentence-transformers models: float32, bfloat16 (torch) or int8 (ONNX); auto: "
        "bfloat16 where the CPU computes it natively, else int8. The model id records it.",
    )
    embed_max_tokens: int | None = Field(
        None,
        description="Cut documents to this many tokens when embedding (unset: the model's own limit); the model "
        "id records it and queries use the same cut.",
        ge=16,
    )
    show_progress: bool = Field(True, description="Show progress bars.")
    engine: Literal["local", "ray"] = Field(
        "local",
        description="Where embedding and placement run: this process, or a Ray cluster (the `ray` extra).",
    )
    ray_address: str | None = Field(
        None,
        description="Ray cluster to use with engine 'ray' ('auto', 'host:6379', 'ray://host:10001'); "
        "unset: start one on this machine for the build.",
    )
    ray_actors: int = Field(2, description="Embedding actors on the Ray cluster (each loads the model once).", ge=1)
    ray_cpus_per_actor: float = Field(1.0, description="CPUs Ray reserves per actor (fractions allowed).", gt=0)
    embed_chunk: int = Field(
        2048,
        description="Texts embedded and cached at a time (a build stopped midway keeps finished chunks); "
        "with engine 'ray', the batch one actor embeds.",
        ge=1,
    )

    @field_validator("cache_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    def parameters(self) -> dict:
        """What the index records: every setting that decides its content."""
        return self.model_dump(mode="json", exclude=set(RUNTIME_FIELDS))

    def cluster_size_for(self, n_docs: int) -> int:
        """min_cluster_size: given, or sqrt(documents) / 4, at least 5: the leaf count then grows with the
        corpus (about 20 at 300 documents, 75 at 5,000, 120 at 20,000 arXiv abstracts)."""
        if self.min_cluster_size:
            return self.min_cluster_size
        return int(max(5, round(math.sqrt(n_docs) / 4)))
