"""Shared fixtures: a synthetic themed corpus, fake-model indexes, and the shared real data."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TOPICCHAT_SHARED_DATA", REPO.parent / "shared" / "data"))

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach for the hub

THEMES = {
    "astronomy": "telescope galaxy star orbit planet comet nebula supernova cosmic redshift".split(),
    "cooking": "recipe oven flour butter sauce garlic simmer roast spice dough".split(),
    "football": "goal striker referee penalty league midfielder stadium match keeper tackle".split(),
    "genetics": "gene dna mutation genome protein chromosome allele sequencing rna enzyme".split(),
}


def themed_corpus(n_per_theme: int = 30, seed: int = 0) -> pd.DataFrame:
    """Short documents in four clearly separated themes (ids say the theme)."""
    rng = random.Random(seed)
    rows = []
    for theme, words in THEMES.items():
        for i in range(n_per_theme):
            body = " ".join(rng.choice(words) for _ in range(14))
            rows.append(
                {
                    "id": f"{theme}-{i}",
                    "title": f"On {theme} {i}: {' '.join(rng.sample(words, 3))}",
                    "text": body,
                    "theme": theme,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def corpus_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "themes.csv"
    themed_corpus().to_csv(path, index=False)
    return path


def fake_settings(cache: Path, **overrides):
    from topicchat.indexer.settings import BuildSettings

    values = dict(embedding_model="fake", generator="fake", cache_dir=cache, show_progress=False, min_cluster_size=8)
    values.update(overrides)
    return BuildSettings(**values)


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory, corpus_csv) -> Path:
    """An index of the themed corpus built with the fake embedder and generator."""
    from topicchat.indexer.pipeline import build_index

    root = tmp_path_factory.mktemp("fake-index")
    return build_index(str(corpus_csv), root / "index", fake_settings(root / "cache"), report=lambda _m: None)


@pytest.fixture
def assistant(fake_index):
    from topicchat.app.answer import Assistant

    return Assistant.open(fake_index)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"the shared data folder {SHARED_DATA} is absent (set TOPICCHAT_SHARED_DATA)")
    return SHARED_DATA
