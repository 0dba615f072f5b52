"""Typed settings of the assistant: retrieval and routing, answering, and the chat server.

Plain pydantic models with a description per field; `topicchat.config.Settings` gathers them with
the build settings into one model read from `topicchat.toml` and `TOPICCHAT_*` variables. None of
them is recorded in an index: changing one never forces a rebuild.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class RetrievalSettings(BaseModel):
    """How a question finds documents (hybrid search) and topics (routing)."""

    model_config = ConfigDict(extra="forbid")

    candidates: int = Field(100, description="Dense and BM25 candidates each, fused into one ranking.", ge=1)
    lexical_weight: float = Field(
        0.3, description="Weight of BM25 in the fused score (the rest is the cosine).", ge=0, le=1
    )
    fusion: Literal["zscore", "max"] = Field(
        "zscore", description="Score fusion: both standardised, or BM25 / its max."
    )
    min_similarity: float = Field(
        0.3, description="Cosine the best document must reach for a question to match.", ge=-1, le=1
    )
    k_topics: int = Field(3, description="Most topics a question is routed to.", ge=1)
    vote_pool: int = Field(50, description="Top hybrid hits whose topics vote in routing.", ge=1)
    topic_similarity_weight: float = Field(
        0.5,
        description="Routing score = w x cosine(question, topic) + (1 - w) x the topic's share of the votes.",
        ge=0,
        le=1,
    )
    keep_ratio: float = Field(
        0.6, description="A routed topic's score must be at least this share of the best one's.", ge=0, le=1
    )


class AnswerSettings(BaseModel):
    """What an answer holds and how long the model may write."""

    model_config = ConfigDict(extra="forbid")

    k_docs: int = Field(5, description="Documents cited per answer.", ge=1, le=50)
    max_tokens: int = Field(120, description="Most tokens of model prose per answer.", ge=1)
    prose_deadline_s: float = Field(
        20.0, description="Seconds the model may write for after the facts are shown; later prose is cut.", gt=0
    )
    generator: str | None = Field(
        None, description="Generator for the prose ('none': facts only); default: the index's."
    )


class ServeSettings(BaseModel):
    """The chat server."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Interface to bind; anything but localhost needs a password.")
    port: int = Field(7860, description="Port.", ge=1, le=65535)
    concurrency: int = Field(
        20, description="Chats answered at once (the writer model still writes one answer's prose at a time).", ge=1
    )
    user: str = Field("topicchat", description="Login name when a password is set.")
    password: SecretStr | None = Field(None, description="Require a login with this password (never stored or shown).")
