"""Stage 8, store: the index folder (a versioned contract), written atomically, read with checks."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from indexer.ann import LexicalIndex
from indexer.errors import TopicchatError
from indexer.topics import TopicRecord

FORMAT_VERSION = 1
FORMAT_NAME = "topicchat-index"


def sha256_file(path: Path) -> str:
    """sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class TopicIndex:
    """A loaded index folder: documents, vectors, topics and the search structures."""

    path: Path
    manifest: dict[str, Any]
    documents: pd.DataFrame
    embeddings: np.ndarray
    faiss: Any
    topics: list[TopicRecord]
    topic_embeddings: np.ndarray
    lexical: LexicalIndex

    @property
    def topic_by_id(self) -> dict[int, TopicRecord]:
        return {t.id: t for t in self.topics}

    def row_of(self, doc_id: str) -> int:
        """Row number of a document id (KeyError when absent)."""
        if not hasattr(self, "_rows"):
            self._rows = {d: i for i, d in enumerate(self.documents["doc_id"].tolist())}
        return self._rows[doc_id]


def write_index(
    out: Path,
    manifest: dict[str, Any],
    documents: pd.DataFrame,
    embeddings: np.ndarray,
    faiss_index: Any,
    topics: list[TopicRecord],
    topic_embeddings: np.ndarray,
    lexical: LexicalIndex,
    prompt_files: list[Path],
) -> Path:
    """Write every artefact into a temporary folder beside `out`, then swap it in place."""
    import faiss

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        documents.to_parquet(tmp / "documents.parquet", index=False)
        np.save(tmp / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32), allow_pickle=False)
        faiss.write_index(faiss_index, str(tmp / "faiss.index"))
        np.save(tmp / "topic_embeddings.npy", np.ascontiguousarray(topic_embeddings, dtype=np.float32), allow_pickle=False)
        (tmp / "topics.json").write_text(json.dumps([t.to_json() for t in topics], indent=1), encoding="utf-8")
        files = ["documents.parquet", "embeddings.npy", "faiss.index", "topic_embeddings.npy", "topics.json"]
        files += lexical.save(tmp)
        (tmp / "prompts").mkdir()
        for prompt in prompt_files:
            shutil.copy2(prompt, tmp / "prompts" / prompt.name)
            files.append(f"prompts/{prompt.name}")
        manifest = dict(manifest, format=FORMAT_NAME, format_version=FORMAT_VERSION)
        manifest["artefacts"] = {name: sha256_file(tmp / name) for name in files}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace `out` with `tmp`; the old index survives until the new one is in place."""
    if out.exists():
        if out.is_file() or not (out / "manifest.json").exists() and any(out.iterdir()):
            raise TopicchatError(
                f"{out} exists and is not a topicchat index; refusing to overwrite it. Choose another --out."
            )
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def _broken(path: Path, why: str) -> TopicchatError:
    return TopicchatError(
        f"{path} is not a usable topicchat index: {why}. Rebuild it with `topicchat build SOURCE --out {path}`."
    )


def read_manifest(path: Path) -> dict[str, Any]:
    """Read and check manifest.json (format name and version)."""
    path = Path(path)
    if not path.exists():
        raise TopicchatError(f"There is no index at {path}. Build one first: `topicchat build SOURCE --out {path}`.")
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _broken(path, "manifest.json is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _broken(path, "manifest.json is damaged") from None
    if manifest.get("format") != FORMAT_NAME:
        raise _broken(path, "manifest.json does not describe a topicchat index")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _broken(
            path,
            f"it has format version {manifest.get('format_version')}, this topicchat reads version {FORMAT_VERSION}",
        )
    return manifest


def load_index(path: Path | str, verify: bool = True) -> TopicIndex:
    """Load an index folder, refusing one that is unknown, incomplete or altered."""
    import faiss

    path = Path(path)
    manifest = read_manifest(path)
    for name, expected in manifest.get("artefacts", {}).items():
        file = path / name
        if not file.exists():
            raise _broken(path, f"{name} is missing")
        if verify and sha256_file(file) != expected:
            raise _broken(path, f"{name} does not match its checksum (the file was changed or damaged)")
    try:
        documents = pd.read_parquet(path / "documents.parquet")
        embeddings = np.load(path / "embeddings.npy", allow_pickle=False)
        topic_embeddings = np.load(path / "topic_embeddings.npy", allow_pickle=False)
        topics = [TopicRecord.from_json(t) for t in json.loads((path / "topics.json").read_text(encoding="utf-8"))]
        index = faiss.read_index(str(path / "faiss.index"))
        lexical = LexicalIndex.load(path)
    except Exception as exc:  # any unreadable artefact means the same thing to the user
        raise _broken(path, f"an artefact could not be read ({type(exc).__name__}: {exc})") from exc
    if not (len(documents) == len(embeddings) == index.ntotal == lexical.weights.shape[1]):
        raise _broken(path, "its artefacts disagree on the number of documents")
    if len(topics) != len(topic_embeddings):
        raise _broken(path, "topics.json and topic_embeddings.npy disagree on the number of topics")
    return TopicIndex(path, manifest, documents, embeddings, index, topics, topic_embeddings, lexical)
