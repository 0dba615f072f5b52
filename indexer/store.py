"""Stage 8, store: the index folder (a versioned contract), written atomically, read with checks."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from topicchat.indexer.ann import LexicalIndex
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.failpoints import pause_point
from topicchat.indexer.load import RESERVED
from topicchat.indexer.timeline import Timeline, build_timeline, timeline_spec
from topicchat.indexer.tokens import TokenTable
from topicchat.indexer.topics import TopicRecord

FORMAT_VERSION = 2  # 2: the topic tree (parent nodes in topics.json and topic_embeddings.npy); optional `time`
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
    topic_embeddings: np.ndarray  # one row per leaf topic, in the order of `topics`
    lexical: LexicalIndex
    parents: list[TopicRecord] = field(default_factory=list)  # the tree's upper levels (level >= 1)
    parent_embeddings: np.ndarray | None = None
    token_table: TokenTable | None = None  # word-piece vectors for evidence sentences (optional; `indexer.tokens`)

    @property
    def nodes(self) -> dict[int, TopicRecord]:
        """Every node of the topic tree by id: leaves and parents share one id space."""
        return {t.id: t for t in [*self.topics, *self.parents]}

    @property
    def levels(self) -> int:
        """How many levels the topic tree has (1: leaves only)."""
        return 1 + max((t.level for t in self.parents), default=0)

    def nodes_at(self, level: int) -> list[int]:
        """The nodes that split the corpus at one level of the tree: each leaf's ancestor at that level, or
        the top of its branch where the branch is shallower (a topic that joined no area)."""
        from topicchat.indexer.tree import ancestor_at

        return sorted(set(ancestor_at(self.topics, self.nodes, level).values()))

    def top_level(self) -> list[TopicRecord]:
        """The nodes without a parent, largest first: the broad areas of the corpus."""
        return sorted((t for t in self.nodes.values() if t.parent is None), key=lambda t: (-t.size, t.id))

    def _embedder_parts(self) -> tuple[str, str]:
        models = self.manifest.get("models", {})
        if "embedder_name" in models:
            return str(models["embedder_name"]), str(models.get("embedder_variant") or "")
        # Written before name and variant were recorded apart: the id is `name#variant`.
        name, _, variant = str(models.get("embedder") or "").partition("#")
        return name, variant

    @property
    def embedder_name(self) -> str:
        """The embedding model the index was built with, without its variant."""
        return self._embedder_parts()[0]

    @property
    def embedding_dtype(self) -> str:
        """'bfloat16', 'float32' or 'int8' (the int8 ONNX encoder): what the vectors were made with; queries
        must use the same encoder."""
        from topicchat.models.st_backend import parse_variant

        return parse_variant(self._embedder_parts()[1])[0]

    @property
    def embedding_max_tokens(self) -> int | None:
        """The token cut the documents were embedded with (None: the model's own limit); queries use it too."""
        from topicchat.models.st_backend import parse_variant

        return parse_variant(self._embedder_parts()[1])[1]

    @property
    def topic_by_id(self) -> dict[int, TopicRecord]:
        return {t.id: t for t in self.topics}

    @functools.cached_property
    def timeline(self) -> Timeline | None:
        """Documents per period for every node, recounted from the documents (None: the corpus has no dates).
        An index whose manifest has no `time` section (built before it existed) gets a guessed column."""
        spec = self.manifest.get("time")
        if spec is None:
            skip = RESERVED
            spec = timeline_spec(self.documents, None, skip)
        if not spec.get("column"):
            return None
        return build_timeline(self.documents, self.nodes, spec["column"], spec.get("granularity"))

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
    prompts: dict[str, str],
    parents: list[TopicRecord] | None = None,
    parent_embeddings: np.ndarray | None = None,
    token_table: TokenTable | None = None,
) -> Path:
    """Write every artefact into a new generation folder, then make it `out`'s current one in one step."""
    import faiss

    out = Path(os.path.abspath(out))  # not resolve(): `out` itself stays the path users pass
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in [*out.parent.glob(f".{out.name}.building-*"), *out.parent.glob(f".{out.name}.updating-*")]:
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed build (one writer at a time: see `writing`)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        documents.to_parquet(tmp / "documents.parquet", index=False)
        np.save(tmp / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32), allow_pickle=False)
        faiss.write_index(faiss_index, str(tmp / "faiss.index"))
        if parents and (parent_embeddings is None or len(parent_embeddings) != len(parents)):
            raise ValueError("write_index: every parent topic needs its embedding row")
        nodes = [*topics, *(parents or [])]
        node_matrix = topic_embeddings
        if parents and parent_embeddings is not None:
            node_matrix = np.concatenate([topic_embeddings, parent_embeddings], axis=0)
        np.save(tmp / "topic_embeddings.npy", np.ascontiguousarray(node_matrix, dtype=np.float32), allow_pickle=False)
        (tmp / "topics.json").write_text(json.dumps([t.to_json() for t in nodes], indent=1), encoding="utf-8")
        files = ["documents.parquet", "embeddings.npy", "faiss.index", "topic_embeddings.npy", "topics.json"]
        files += lexical.save(tmp)
        if token_table is not None:
            files += token_table.save(tmp)
            manifest = dict(manifest, token_vectors=token_table.manifest())
        (tmp / "prompts").mkdir()
        for name, text in prompts.items():
            (tmp / "prompts" / name).write_text(text, encoding="utf-8")
            files.append(f"prompts/{name}")
        manifest = dict(manifest, format=FORMAT_NAME, format_version=FORMAT_VERSION)
        manifest["artefacts"] = {name: sha256_file(tmp / name) for name in files}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        pause_point("written")  # every artefact on disk, the generation not yet swapped in
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


CURRENT = "current"  # <index>/current -> gen-...: the live generation; replacing the link is the one-step swap
KEEP_GENERATIONS = 2  # the current generation and the one before it (what a server may still be reading)


def index_folder(path: Path | str) -> Path:
    """The folder holding an index's live artefacts: the target of <path>/current, or <path> itself for an
    index written before generations existed."""
    path = Path(path)
    link = path / CURRENT
    return link.resolve() if link.is_symlink() or link.is_dir() else path


def _is_index(path: Path) -> bool:
    return (index_folder(path) / "manifest.json").exists()


def check_out(out: Path | str) -> None:
    """Refuse an --out that a build could never write, before any stage runs: a file, a folder holding
    other things than an index (a user's files are never replaced), a place that cannot be written."""
    out = Path(os.path.abspath(out))
    if out.is_file():
        raise TopicchatError(f"--out {out} is a file, not an index folder; choose another --out.")
    _refuse_foreign(out)
    parent = next((p for p in [out, *out.parents] if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise TopicchatError(f"Cannot write the index at {out}: {parent or out} is not a writable folder.")


def _refuse_foreign(out: Path) -> None:
    """A file, or a folder holding anything but a topicchat index, is never written into."""
    if out.is_file() or (out.is_dir() and not _is_index(out) and any(out.iterdir())):
        raise TopicchatError(
            f"{out} exists and is not a topicchat index; refusing to overwrite it. Choose another --out."
        )


def _swap_in(tmp: Path, out: Path) -> None:
    """Move the finished folder `tmp` into `out` as a new generation and point `out/current` at it with one
    rename, so a reader sees the old index or the new one, never a mix and never none; keep the previous
    generation, remove older ones."""
    _refuse_foreign(out)  # checked again here: the folder may have changed since the build began
    out.mkdir(parents=True, exist_ok=True)
    if (out / CURRENT).is_dir() and not (out / CURRENT).is_symlink():  # a copy that followed the link
        os.rename(out / CURRENT, out / f"gen-00000000T000000-copied-{uuid.uuid4().hex[:8]}")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    generation = out / f"gen-{stamp}-{uuid.uuid4().hex[:8]}"
    os.rename(tmp, generation)
    link = out / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(generation.name, link)
    os.replace(link, out / CURRENT)
    _tidy(out, generation)


def _tidy(out: Path, current: Path) -> None:
    """After a swap: files of an index written in the older single-folder layout move into a generation of
    their own (the previous one), and generations beyond the newest KEEP_GENERATIONS are removed."""
    loose = [p for p in out.iterdir() if p.name != CURRENT and not p.name.startswith(("gen-", "."))]
    if loose:
        previous = out / "gen-00000000T000000-previous"
        previous.mkdir(exist_ok=True)
        for item in loose:
            os.replace(item, previous / item.name)
    generations = sorted((p for p in out.glob("gen-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    keep = {current.name} | {p.name for p in [g for g in generations if g.name != current.name][: KEEP_GENERATIONS - 1]}
    for old in generations:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _next_generation_from(path: Path) -> Path:
    """A working copy of the live generation beside `path` (hard links where the file system allows, so a
    large index is not copied); files to change are then replaced, never written through the links."""
    source = index_folder(path)
    out = Path(os.path.abspath(path))
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.updating-", dir=out.parent))

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, tmp, dirs_exist_ok=True, copy_function=link_or_copy)
    return tmp


def previous_generation(path: Path | str) -> Path | None:
    """The generation before the live one (kept by every swap), or None when the index has only one."""
    path = Path(path)
    live = index_folder(path)
    older = [p for p in path.glob("gen-*") if p.is_dir() and p.resolve() != live and (p / "manifest.json").exists()]
    return max(older, key=lambda p: p.stat().st_mtime) if older else None


@contextmanager
def writing(out: Path | str) -> Iterator[None]:
    """Hold the index's write lock (a file beside the folder) while a build, add or remove writes it; a
    second writer is refused at once instead of racing the first for the `current` link."""
    import fcntl

    out = Path(os.path.abspath(out))
    lock_path = out.parent / f".{out.name}.lock"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("a+")
    except OSError as exc:
        raise TopicchatError(f"Cannot write to {out.parent} ({exc.strerror}); choose another --out.") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            who = handle.read().strip() or "another process"
            raise TopicchatError(
                f"Another topicchat command ({who}) is writing the index at {out}; wait for it to finish and run "
                "this again. Nothing was changed."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            lock_path.unlink(missing_ok=True)  # while still held: a later writer makes a fresh one
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_topic_quality(path: Path, scores: dict[int, float], name: str) -> Path:
    """Store one quality figure per topic in topics.json and re-sign it in manifest.json, so the index still loads.

    Refuses a topics.json that no longer matches its checksum: an altered file is never re-signed.
    """
    with writing(path):
        return _write_topic_quality(path, scores, name)


def _write_topic_quality(path: Path, scores: dict[int, float], name: str) -> Path:
    manifest = read_manifest(path)
    live = index_folder(path)
    topics_file = live / "topics.json"
    expected = manifest.get("artefacts", {}).get("topics.json")
    if expected is not None and sha256_file(topics_file) != expected:
        raise TopicchatError(f"{topics_file} does not match its checksum; refusing to re-sign an altered file.")
    data = json.loads(topics_file.read_text(encoding="utf-8"))
    for topic in data:
        score = scores.get(int(topic["id"]))
        if score is not None:
            topic["quality"] = dict(topic.get("quality") or {}, **{name: round(float(score), 4)})
    out = Path(os.path.abspath(path))
    if live == out:  # an index in the older single-folder layout: rewrite the two files in place
        _write_atomic(topics_file, json.dumps(data, indent=1))
        manifest.setdefault("artefacts", {})["topics.json"] = sha256_file(topics_file)
        _write_atomic(out / "manifest.json", json.dumps(manifest, indent=2, default=str))
        return topics_file
    tmp = _next_generation_from(out)  # a new generation, swapped in like a build
    try:
        _write_atomic(tmp / "topics.json", json.dumps(data, indent=1))
        manifest.setdefault("artefacts", {})["topics.json"] = sha256_file(tmp / "topics.json")
        _write_atomic(tmp / "manifest.json", json.dumps(manifest, indent=2, default=str))
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return index_folder(out) / "topics.json"


def _broken(path: Path, why: str) -> TopicchatError:
    return TopicchatError(
        f"{path} is not a usable topicchat index: {why}. Rebuild it with `topicchat build SOURCE --out {path}`."
    )


def read_manifest(path: Path) -> dict[str, Any]:
    """Read and check manifest.json (format name and version) of an index's live generation."""
    path = index_folder(path)
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
        source = manifest.get("corpus", {}).get("source") or "SOURCE"
        raise TopicchatError(
            f"{path} was written by {'an older' if (manifest.get('format_version') or 0) < FORMAT_VERSION else 'a newer'} "
            f"topicchat (index format {manifest.get('format_version')}; this one reads format {FORMAT_VERSION}, which "
            f"adds the topic tree). Rebuild it: `topicchat build {source} --out {path}` (plus the options it was "
            "built with); embeddings come from the cache, so only clustering and labels run again."
        )
    return manifest


def read_tree(path: Path | str) -> tuple[dict[str, Any], pd.DataFrame, list[TopicRecord]]:
    """Just the manifest, each document's id, title and topic, and the tree's nodes of an index (what a
    rebuild matches its topics against): no vectors or search structures are read."""
    path = index_folder(path)
    manifest = read_manifest(path)
    try:
        documents = pd.read_parquet(path / "documents.parquet", columns=["doc_id", "title", "topic"])
        nodes = [TopicRecord.from_json(t) for t in json.loads((path / "topics.json").read_text(encoding="utf-8"))]
    except Exception as exc:
        raise _broken(path, f"an artefact could not be read ({type(exc).__name__}: {exc})") from exc
    return manifest, documents, nodes


def load_index(path: Path | str, verify: bool = True) -> TopicIndex:
    """Load an index folder (its live generation), refusing one that is unknown, incomplete or altered."""
    import faiss

    path = index_folder(path)
    manifest = read_manifest(path)
    for name, expected in manifest.get("artefacts", {}).items():
        file = path / name
        if not file.exists():
            raise _broken(path, f"{name} is missing")
        if verify and sha256_file(file) != expected:
            raise _broken(path, f"{name} does not match its checksum (the file was changed or damaged)")
    try:
        documents = pd.read_parquet(path / "documents.parquet")
        # Memory-mapped: a large corpus's vectors stay on disk (the page cache holds what queries touch).
        embeddings = np.load(path / "embeddings.npy", allow_pickle=False, mmap_mode="r")
        topic_embeddings = np.load(path / "topic_embeddings.npy", allow_pickle=False)
        nodes = [TopicRecord.from_json(t) for t in json.loads((path / "topics.json").read_text(encoding="utf-8"))]
        index = faiss.read_index(str(path / "faiss.index"))
        lexical = LexicalIndex.load(path)
        recorded = manifest.get("token_vectors")  # optional: indexes before it pick evidence with the embedder
        token_table = TokenTable.load(path, str(recorded.get("model"))) if isinstance(recorded, dict) else None
    except Exception as exc:  # any unreadable artefact means the same thing to the user
        raise _broken(path, f"an artefact could not be read ({type(exc).__name__}: {exc})") from exc
    if not (len(documents) == len(embeddings) == index.ntotal == lexical.weights.shape[1]):
        raise _broken(path, "its artefacts disagree on the number of documents")
    if len(nodes) != len(topic_embeddings):
        raise _broken(path, "topics.json and topic_embeddings.npy disagree on the number of topics")
    is_leaf = np.array([t.level == 0 for t in nodes], dtype=bool)
    topics = [t for t in nodes if t.level == 0]
    parents = [t for t in nodes if t.level > 0]
    return TopicIndex(
        path,
        manifest,
        documents,
        embeddings,
        index,
        topics,
        topic_embeddings[is_leaf],
        lexical,
        parents,
        topic_embeddings[~is_leaf],
        token_table,
    )
