"""The layers import downwards only: models <- indexer <- app <- the topicchat root (cli, api, config, evaluate).

Checked twice: statically over every import statement in the source (lazy imports inside functions
included), and at run time by importing each layer in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = {"models": 0, "indexer": 1, "app": 2}  # the root package (topicchat/) sits above them all: 3
FOLDERS = {"models": REPO / "models", "indexer": REPO / "indexer", "app": REPO / "app", "root": REPO / "topicchat"}


def _level(module: str) -> int | None:
    """The layer a topicchat module belongs to (None for third-party modules)."""
    parts = module.split(".")
    if parts[0] != "topicchat":
        return None
    if len(parts) == 1:
        return 3
    return LAYERS.get(parts[1], 3)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


@pytest.mark.parametrize("layer", ["models", "indexer", "app"])
def test_no_module_imports_a_layer_above_its_own(layer):
    own = LAYERS[layer]
    offences = []
    for path in sorted(FOLDERS[layer].glob("*.py")):
        for module in _imports(path):
            level = _level(module)
            if level is not None and level > own:
                offences.append(f"{path.relative_to(REPO)} imports {module}")
            if module.split(".")[0] in ("app", "indexer", "models", "prompts"):
                offences.append(f"{path.relative_to(REPO)} imports the folder name {module}")
    assert not offences, offences


def test_the_root_package_is_the_only_user_of_the_cli():
    users = [
        str(path.relative_to(REPO))
        for folder in ("models", "indexer", "app")
        for path in FOLDERS[folder].glob("*.py")
        if any(m.startswith(("topicchat.cli", "topicchat.api", "topicchat.config")) for m in _imports(path))
    ]
    assert users == []


@pytest.mark.parametrize("layer", ["models", "indexer", "app"])
def test_importing_a_layer_loads_nothing_above_it(layer):
    modules = sorted(p.stem for p in FOLDERS[layer].glob("*.py") if p.stem != "__init__")
    # Every module of the layer, then report which topicchat modules ended up loaded.
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        f"    importlib.import_module('topicchat.{layer}.' + name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('topicchat'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    above = [m for m in loaded if (_level(m) or 0) > LAYERS[layer] and m != "topicchat"]
    assert loaded and not above, above


def test_old_top_level_names_are_not_importable_from_an_install():
    """A user's own `models/` or `app/` folder must not shadow ours, and ours must not shadow theirs."""
    code = "import importlib.util, json; print(json.dumps([importlib.util.find_spec(n) is None for n in ('app', 'indexer', 'models', 'prompts')]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=60)
    assert out.returncode == 0, out.stderr
    assert all(__import__("json").loads(out.stdout)), "a top-level app/indexer/models/prompts is installed"
