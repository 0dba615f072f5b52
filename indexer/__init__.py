"""The build pipeline: corpus -> embeddings -> topics -> labels -> one index folder."""
