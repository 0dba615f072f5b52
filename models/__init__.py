"""Model layer: embedder and generator seams, their backends and the registry that builds them."""

from topicchat.models.base import Embedder, Generator, ModelError
from topicchat.models.registry import load_embedder, load_generator

__all__ = ["Embedder", "Generator", "ModelError", "load_embedder", "load_generator"]
