"""Prompt files with named placeholders and strict rendering (a missing variable is an error)."""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path

from topicchat.indexer.errors import TopicchatError

PROMPTS_PACKAGE = "topicchat.prompts"  # the prompts/ folder, installed as package data
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_SECTION = re.compile(r"^### (system|user|assistant)\s*$", re.MULTILINE)


class MissingVariables(TopicchatError):
    """A prompt template names a placeholder that was not given."""


def read_prompt(name: str, folder: Path | None = None) -> str:
    """The raw text of prompt `name`: from `folder` (an index's copy) or the installed package."""
    source = Path(folder) / f"{name}.txt" if folder is not None else resources.files(PROMPTS_PACKAGE) / f"{name}.txt"
    try:
        return source.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        where = folder if folder is not None else "the installed topicchat package"
        raise TopicchatError(
            f"The prompt '{name}' is missing from {where}; reinstall topicchat or rebuild the index."
        ) from None


def prompt_texts(names: tuple[str, ...]) -> dict[str, str]:
    """The packaged text of each named prompt, to copy into an index folder."""
    return {f"{name}.txt": read_prompt(name) for name in names}


def prompt_hash(name: str, folder: Path | None = None) -> str:
    """sha256 of a prompt file, recorded in the manifest."""
    return hashlib.sha256(read_prompt(name, folder).encode()).hexdigest()


def render(template: str, **values: object) -> str:
    """Fill `{name}` placeholders in one pass; values are never re-scanned, unknown names raise."""
    missing = sorted({m for m in _PLACEHOLDER.findall(template) if m not in values})
    if missing:
        raise MissingVariables(f"Prompt variables not given: {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


def render_messages(name: str, folder: Path | None = None, **values: object) -> list[dict[str, str]]:
    """Render a prompt file split into chat turns by `### system|user|assistant` lines."""
    text = read_prompt(name, folder)
    parts = _SECTION.split(text)
    if len(parts) < 3:
        return [{"role": "user", "content": render(text.strip(), **values)}]
    messages = []
    for role, body in zip(parts[1::2], parts[2::2], strict=True):
        messages.append({"role": role, "content": render(body.strip(), **values)})
    return messages
