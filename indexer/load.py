"""Stage 1, load: read a corpus (CSV, JSONL/JSON, Parquet, a folder of .txt, a HF data set) into documents."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from topicchat.indexer.ann import sentences
from topicchat.indexer.errors import TopicchatError

TEXT_GUESSES = ("text", "abstract", "abstracts", "content", "body", "document", "summary", "arxiv_summary")
TITLE_GUESSES = ("title", "titles", "arxiv_title", "headline", "name", "subject")
ID_GUESSES = ("id", "_id", "doc_id", "docid", "arxiv_id", "arxiv_num")
DERIVED = ("topic", "probability", "is_outlier", "x", "y")  # the columns a build adds to the documents
RESERVED = ("doc_id", "title", "text", "has_title", *DERIVED)
UNTITLED_CHARS = 100  # an untitled document shows its first sentence as its title, cut at a word near this


def untitled_title(text: str) -> str:
    """The title shown for a document its data gives none: its first sentence, on one line, cut at a word
    boundary (with '…') when it runs past about UNTITLED_CHARS."""
    flat = " ".join(text.split())
    first = next(iter(sentences(flat)), flat)
    if len(first) <= UNTITLED_CHARS * 1.2:
        return first
    cut = first[: UNTITLED_CHARS + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut[UNTITLED_CHARS // 2 :] else cut[:UNTITLED_CHARS]
    return cut.rstrip(",;:-–— ") + "…"


@dataclass
class Corpus:
    """Clean documents (doc_id, title, text, has_title, metadata...) plus what loading skipped or changed."""

    frame: pd.DataFrame
    source: str
    rows_read: int
    columns: dict[str, str | None]
    skipped: dict[str, int] = field(default_factory=dict)


def read_table(source: str, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a file, a folder of .txt files, or a Hugging Face data set name into a DataFrame."""
    path = Path(source).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise TopicchatError(
                f"The folder {path} holds no .txt files; point at a folder of .txt files or a data file."
            )
        return pd.DataFrame(
            {
                "id": [str(p.relative_to(path)) for p in files],
                "title": [p.stem.replace("_", " ") for p in files],
                "text": [p.read_text(encoding=encoding, errors="replace") for p in files],
            }
        )
    if path.exists():
        suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
        if suffix in (".csv", ".tsv", ".jsonl", ".ndjson", ".json"):
            with path.open("rb") as fh:
                if b"\x00" in fh.read(1 << 16) and not encoding.lower().startswith("utf-16"):
                    raise TopicchatError(
                        f"{path} looks like a binary file (it holds NUL bytes), not {suffix[1:]} text; "
                        "point topicchat at the corpus file itself."
                    )
        try:
            if suffix in (".parquet", ".pq"):
                return pd.read_parquet(path)
            # Text formats are read as text: an id like 2503.14620 or 007 must not become a number
            # (2503.1462, 7) and collide with another document's id.
            if suffix in (".csv", ".csv.gz"):
                return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            if suffix in (".tsv",):
                return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding=encoding)
            if suffix in (".jsonl", ".jsonl.gz", ".ndjson"):
                return _read_jsonl(path, encoding)
            if suffix == ".json":
                with path.open(encoding=encoding) as fh:
                    data = json.load(fh, parse_int=str, parse_float=str)
                if isinstance(data, dict):
                    data = next((v for v in data.values() if isinstance(v, list)), [data])
                return pd.DataFrame(data)
        except UnicodeDecodeError as exc:
            raise TopicchatError(
                f"{path} is not {encoding} text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start} cannot be "
                f"decoded). If it was saved as Latin-1 or Windows-1252, pass --encoding latin-1 (or cp1252); a "
                "binary file is not a corpus."
            ) from None
        except LookupError:
            raise TopicchatError(f"Unknown text encoding '{encoding}' (try utf-8, latin-1 or cp1252).") from None
        except (ValueError, OSError) as exc:
            raise TopicchatError(f"Could not read {path} as {suffix[1:]}: {exc}") from exc
        raise TopicchatError(
            f"Unknown file type '{path.suffix}' for {path}. Use .csv, .tsv, .jsonl, .json, .parquet or a folder of .txt files."
        )
    if re.fullmatch(r"[\w.\-]+/[\w.\-]+(:\w+)?", source):
        return _read_hf(source)
    raise TopicchatError(
        f"The corpus '{source}' does not exist: give a file, a folder of .txt files, or a Hugging Face data set name (owner/name)."
    )


def _read_jsonl(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """One JSON object per line; numbers keep the exact text they were written with."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding=encoding) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_int=str, parse_float=str)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {number} is not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"line {number} is not a JSON object")
            rows.append(row)
    return pd.DataFrame(rows)


def _read_hf(name: str) -> pd.DataFrame:
    name, _, split = name.partition(":")
    try:
        from datasets import load_dataset

        data = load_dataset(name, split=split or "train")
    except Exception as exc:
        raise TopicchatError(
            f"Could not load the Hugging Face data set '{name}' ({type(exc).__name__}: {exc}). "
            "Without hub access, export it to Parquet/CSV elsewhere and point topicchat at the file."
        ) from exc
    return data.to_pandas()


def _pick(frame: pd.DataFrame, wanted: str | None, guesses: tuple[str, ...], what: str, required: bool) -> str | None:
    columns = list(frame.columns)
    if wanted is not None:
        if wanted not in columns:
            raise TopicchatError(
                f"The corpus has no {what} column '{wanted}'. Its columns are: {', '.join(map(str, columns))}. "
                f"Pass the right one with --{what}-col."
            )
        return wanted
    lowered = {str(c).lower(): c for c in columns}
    for guess in guesses:
        if guess in lowered:
            return lowered[guess]
    if required:
        raise TopicchatError(
            f"Could not tell which column holds the document {what}. Its columns are: "
            f"{', '.join(map(str, columns))}. Pass it with --{what}-col."
        )
    return None


def _scalarise(series: pd.Series) -> pd.Series:
    """Lists and dicts become JSON text so every metadata column stores cleanly in Parquet."""
    if series.dtype == object and series.map(lambda v: isinstance(v, (list, dict, tuple))).any():
        return series.map(lambda v: json.dumps(v, default=str) if isinstance(v, (list, dict, tuple)) else v)
    return series


def load_corpus(
    source: str,
    text_col: str | None = None,
    title_col: str | None = None,
    id_col: str | None = None,
    limit: int | None = None,
    max_doc_chars: int = 20000,
    on_duplicate_id: str = "error",
    encoding: str = "utf-8",
) -> Corpus:
    """Load and clean a corpus: pick columns, drop blank and duplicate texts, cut huge ones."""
    raw = read_table(source, encoding)
    rows_read = len(raw)
    if rows_read == 0:
        raise TopicchatError(f"The corpus '{source}' is empty: it has no rows.")
    text_c = _pick(raw, text_col, TEXT_GUESSES, "text", True)
    title_c = _pick(raw, title_col, TITLE_GUESSES, "title", False)
    id_c = _pick(raw, id_col, ID_GUESSES, "id", False)
    if limit is not None:
        raw = raw.iloc[:limit]

    text = raw[text_c].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)).str.strip()
    title = raw[title_c].fillna("").astype(str).str.strip() if title_c else pd.Series([""] * len(raw), index=raw.index)
    ids = (
        raw[id_c].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)).str.strip()
        if id_c
        else pd.Series([str(i) for i in range(len(raw))], index=raw.index)
    )

    filled = text[text != ""]
    if len(filled) and filled.str.fullmatch(r"[\s\d.,:;/%+\-eE]*").mean() > 0.9:
        raise TopicchatError(
            f"The text column '{text_c}' holds numbers, not text ({filled.iloc[0]!r}, ...). Its columns are: "
            f"{', '.join(map(str, raw.columns))}. Pass the column with the documents' text as --text-col."
        )
    skipped: dict[str, int] = {}
    keep = text != ""
    skipped["blank"] = int((~keep).sum())
    dup_text = text.duplicated() & keep
    skipped["duplicate_text"] = int(dup_text.sum())
    keep &= ~dup_text
    dup_id = ids.duplicated() & keep
    if dup_id.any() and on_duplicate_id == "error":
        clash = ids[keep & ids.isin(set(ids[dup_id]))]
        rows = clash.groupby(clash, sort=False).groups
        named = "; ".join(
            f"{doc_id!r} (data rows {', '.join(str(int(r) + 1) for r in list(where)[:4])})"
            for doc_id, where in list(rows.items())[:5]
        )
        raise TopicchatError(
            f"{len(rows)} id(s) in the column '{id_c}' belong to more than one document: {named}"
            f"{' and more' if len(rows) > 5 else ''}. Ids are kept as written (text, never numbers), so these are "
            "real clashes: fix the data, or pass --on-duplicate-id keep-first to keep the first document of each id."
        )
    skipped["duplicate_id"] = int(dup_id.sum())
    keep &= ~dup_id
    too_long = text.str.len() > max_doc_chars
    skipped["truncated"] = int((too_long & keep).sum())
    text = text.where(~too_long, text.str.slice(0, max_doc_chars))

    frame = pd.DataFrame({"doc_id": ids[keep].values, "title": title[keep].values, "text": text[keep].values})
    frame["has_title"] = frame["title"] != ""
    frame["title"] = [t if t else untitled_title(x) for t, x in zip(frame["title"], frame["text"], strict=True)]
    used = {c for c in (text_c, title_c, id_c) if c}
    for column in raw.columns:
        if column in used:
            continue
        name = f"meta_{column}" if str(column) in RESERVED else str(column)
        frame[name] = _scalarise(raw.loc[keep, column]).values
    if frame.empty:
        raise TopicchatError(
            f"The corpus '{source}' has no usable documents: all {len(raw)} rows have a blank '{text_c}' column "
            "or repeat an earlier document."
        )
    return Corpus(
        frame.reset_index(drop=True), source, rows_read, {"text": text_c, "title": title_c, "id": id_c}, skipped
    )
