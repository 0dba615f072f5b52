"""Pause points for crash tests: `TOPICCHAT_PAUSE_AT=<name>` makes a build wait there (30 s), so a test can
kill it at a known moment (during embedding, labelling, or with a generation written but not swapped in).
Unset, a pause point costs one dictionary lookup."""

from __future__ import annotations

import os
import sys
import time

PAUSE_SECONDS = 30.0


def pause_point(name: str) -> None:
    """Wait here when TOPICCHAT_PAUSE_AT names this point, saying so on stderr first."""
    if os.environ.get("TOPICCHAT_PAUSE_AT") == name:
        print(f"[pause] {name}", file=sys.stderr, flush=True)
        time.sleep(PAUSE_SECONDS)
