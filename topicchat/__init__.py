"""topicchat: a chat assistant over a clustered text corpus.

Layers, imports pointing down only: `topicchat.models` (model seams and backends) <-
`topicchat.indexer` (the build pipeline and the index folder) <- `topicchat.app` (routing,
answering, the chat UI) <- this root package (`cli`, `api`, `config`, `evaluate`).
"""

__version__ = "0.2.0"
