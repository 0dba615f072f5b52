"""Concurrent chat sessions against a running `topicchat serve`, over loopback, through Gradio's client.

Each session is a real client with its own server-side state. Half of the sessions first say
"use topic N" (a focus that must restrict only their own later answers); every session then asks its
questions. Used by the load test (tests/test_concurrency.py) and benchmarks/load.py.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SessionResult:
    """What one chat session saw: seconds to the facts and to the end of each answer, errors, state leaks."""

    session: int
    focus: int | None
    facts_s: list[float] = field(default_factory=list)  # seconds until the answer's facts and evidence arrived
    done_s: list[float] = field(default_factory=list)  # seconds until the answer was complete (prose included)
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)  # a restriction this session did not ask for, or one it lost


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(index: Path, *extra: str) -> Iterator[str]:
    """`topicchat serve INDEX` in its own process, until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "topicchat.cli", "serve", str(index), "--port", str(port), *extra],
        env=dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: {proc.stderr.read() if proc.stderr else ''}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else getattr(message, "content", "")
    if isinstance(content, list):  # gradio 6: a list of parts
        return " ".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
    return str(content or "")


def _title(message: Any) -> str:
    meta = message.get("metadata") if isinstance(message, dict) else getattr(message, "metadata", None)
    return str((meta or {}).get("title") or "")


def run_session(url: str, session: int, focus: int | None, questions: Sequence[str], timeout_s: float) -> SessionResult:
    """One user: optionally 'use topic N', then each question, timing the facts and the full answer."""
    from gradio_client import Client

    result = SessionResult(session, focus)
    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # the server refused the session: an error of the run, not a crash of the test
        result.errors.append(f"connect: {type(exc).__name__}: {exc}")
        return result
    history: list = []
    turns = ([f"use topic {focus}"] if focus is not None else []) + list(questions)
    for turn in turns:
        start = time.perf_counter()
        facts_at = None
        try:
            job = client.submit(turn, history, api_name="/chat")
            final = None
            for update in job:  # every streamed state of the chat; the last one is the finished answer
                final = update
                if facts_at is None and len(update) > len(history) + 2 and _text(update[len(history) + 2]).strip():
                    facts_at = time.perf_counter() - start  # the first text of the answer: its facts block
            job.result(timeout=timeout_s)  # raises what the server raised
            if final is None:
                raise RuntimeError("the server sent no answer")
        except Exception as exc:
            result.errors.append(f"{turn!r}: {type(exc).__name__}: {exc}")
            return result
        done = time.perf_counter() - start
        new = final[len(history) :]
        history = list(final)
        if turn.startswith("use topic"):
            continue
        result.facts_s.append(facts_at if facts_at is not None else done)
        result.done_s.append(done)
        routing = " ".join(_text(m) for m in new if _title(m) == "Routing")
        restricted = re.search(r"Restricted to topic\(s\) ([\d, ]+)", routing)
        if focus is None and restricted:
            result.leaks.append(f"{turn!r} was restricted to {restricted.group(1)} without asking")
        if focus is not None and not (restricted and str(focus) in [x.strip() for x in restricted.group(1).split(",")]):
            result.leaks.append(f"{turn!r} lost this session's focus on topic {focus}")
    return result


def run_load(
    url: str, sessions: int, questions: Sequence[str], focus_topics: Sequence[int], timeout_s: float = 120.0
) -> list[SessionResult]:
    """`sessions` users at once (every other one focused on a topic), each in its own thread and client."""
    results: list[SessionResult | None] = [None] * sessions
    barrier = threading.Barrier(sessions)

    def user(i: int) -> None:
        focus = focus_topics[(i // 2) % len(focus_topics)] if i % 2 and focus_topics else None
        barrier.wait(timeout=timeout_s)  # everyone starts together
        results[i] = run_session(url, i, focus, [questions[(i + j) % len(questions)] for j in range(2)], timeout_s)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s * 4)
    return [r if r is not None else SessionResult(i, None, errors=["did not finish"]) for i, r in enumerate(results)]


def summary(results: Sequence[SessionResult]) -> dict[str, float | int]:
    """Errors, leaks, and p50 / p95 seconds to the facts and to the complete answer over all answers."""

    def pct(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    facts = [x for r in results for x in r.facts_s]
    done = [x for r in results for x in r.done_s]
    return {
        "sessions": len(results),
        "answers": len(done),
        "errors": sum(len(r.errors) for r in results),
        "leaks": sum(len(r.leaks) for r in results),
        "facts_p50_s": round(statistics.median(facts), 2) if facts else float("nan"),
        "facts_p95_s": round(pct(facts, 0.95), 2),
        "done_p50_s": round(statistics.median(done), 2) if done else float("nan"),
        "done_p95_s": round(pct(done, 0.95), 2),
    }
