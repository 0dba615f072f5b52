"""Run a command as it would run on a CPU with AVX2 but no AVX-512, AVX-VNNI or AMX.

`python -m benchmarks.avx2only python benchmarks/encoder.py --docs 1000`

numpy, torch (ATen, oneDNN, MKL) and ONNX Runtime (MLAS) read CPUID when they start and pick their
kernels from what it reports. This compiles `hide_avx512.c` (a small preloaded library) and runs the
command with it: every CPUID the command's processes execute traps (Linux CPUID faulting,
`arch_prctl(ARCH_SET_CPUID)`), and the library answers with the real result minus those extensions. The
arithmetic then runs natively on this CPU's cores through the same AVX2 kernels an AVX2-only CPU gets; the
clock, caches and memory stay this machine's, so ratios between encoders carry over better than seconds.
Needs Linux, a C compiler and a CPU with the `cpuid_fault` flag.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "hide_avx512.c"


def library() -> Path:
    """The compiled library, built once per source version into the user's cache."""
    from topicchat.models.st_backend import cpu_flags

    if "cpuid_fault" not in cpu_flags():
        raise SystemExit(
            "This CPU (or its hypervisor) offers no CPUID faulting (flag cpuid_fault): cannot hide extensions."
        )
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("No C compiler (cc) to build the preloaded library.")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "topicchat"
    cache.mkdir(parents=True, exist_ok=True)
    built = cache / f"hide_avx512-{hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]}.so"
    if not built.exists():
        partial = built.with_suffix(".so.part")
        subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(partial), str(SOURCE), "-ldl"], check=True)
        partial.replace(built)
    return built


def main() -> int:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    env = os.environ | {"LD_PRELOAD": " ".join(filter(None, [str(library()), os.environ.get("LD_PRELOAD", "")]))}
    return subprocess.call(sys.argv[1:], env=env)


if __name__ == "__main__":
    raise SystemExit(main())
