"""What several benchmarks share: running the `topicchat` command as a user does, and naming the CPU."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def topicchat(*args: str) -> tuple[float, str]:
    """Run `topicchat ARGS` in its own process (offline); seconds taken and its stdout. Stops on failure."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "topicchat.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    if done.returncode != 0:
        raise SystemExit(f"topicchat {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stdout


class Padded:
    """An embedder seen only through its own padded batches (`embed`): its packed path for short texts,
    `embed_short`, hidden, as the evidence step ran before the packed encoder."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder

    def embed(self, texts: list[str], show_progress: bool = False) -> Any:
        return self.embedder.embed(texts)


def cpu() -> str:
    """The CPU's model name and the vector flags that decide the embedder's speed."""
    from topicchat.models.st_backend import cpu_flags, kernel_features

    name = platform.processor() or platform.machine()
    try:
        name = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            name,
        )
    except OSError:
        pass
    have = cpu_flags()
    flags = ", ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in have)
    # what CPUID tells the kernels (numpy, torch, ONNX Runtime), e.g. under `python -m benchmarks.avx2only`
    if "avx512f" in have and not kernel_features().get("AVX512F", True):
        flags += "; AVX-512, AVX-VNNI and AMX hidden from CPUID: AVX2 code paths"
    return f"{name} ({flags})" if flags else name


def judged(folder: Path) -> list[tuple[str, list[str]]]:
    """A BEIR collection's judged queries as questions ("... ?") with their relevant document ids, in file order."""
    queries = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        queries[str(row["_id"])] = row["text"].strip().rstrip(" .?") + "?"
    relevant: dict[str, list[str]] = {}
    for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        q, doc, score = line.split("\t")
        if float(score) > 0:
            relevant.setdefault(q, []).append(doc)
    return [(queries[q], docs) for q, docs in relevant.items() if q in queries]
