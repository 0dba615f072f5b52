"""The Ray engine on a real local cluster: `ray start --head` in a subprocess, the CLI connecting through
--ray-address, embedding in actor processes other than the driver, placement as Ray tasks, and the same
vectors and topics as the local engine."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import run_cli
from topicchat.indexer.store import index_folder, load_index

# Small enough for 2 cores: fractional CPUs per actor, one torch thread each, a capped object store.
CLUSTER_CPUS = 2
OBJECT_STORE = 200_000_000
SAMPLED = {"TOPICCHAT_BUILD__FIT_SAMPLE_ABOVE": "200", "TOPICCHAT_BUILD__FIT_SAMPLE_SIZE": "150"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster():
    pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'topicchat[ray]'")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="tcray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    # The cluster's own token, for the head and every client the tests start: a new machine has no
    # ~/.ray/auth_token, and with token authentication `ray start --head` refuses to start without one.
    previous_token = os.environ.get("RAY_AUTH_TOKEN")
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_USAGE_STATS_ENABLED="0")
    log = open(Path(temp) / "head.log", "w")  # noqa: SIM115 - closed at teardown
    head = subprocess.Popen(
        [
            shutil.which("ray") or "ray",
            "start",
            "--head",
            "--block",
            f"--port={port}",
            f"--num-cpus={CLUSTER_CPUS}",
            f"--object-store-memory={OBJECT_STORE}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--node-ip-address=127.0.0.1",
            f"--temp-dir={temp}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while "will now block forever" not in (Path(temp) / "head.log").read_text():
        if head.poll() is not None or time.time() > deadline:
            head.kill()
            pytest.fail("ray start --head did not come up:\n" + (Path(temp) / "head.log").read_text()[-3000:])
        time.sleep(1)
    yield f"127.0.0.1:{port}"
    head.send_signal(signal.SIGTERM)  # drains, then stops every process it started
    try:
        head.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
    log.close()
    shutil.rmtree(temp, ignore_errors=True)
    if previous_token is None:
        os.environ.pop("RAY_AUTH_TOKEN", None)
    else:
        os.environ["RAY_AUTH_TOKEN"] = previous_token


def _build(corpus: str, out: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess:
    result = run_cli(
        "build",
        corpus,
        "--out",
        str(out),
        "--no-labels",
        "--quiet",
        "--cache-dir",
        str(cache),
        *extra,
        env=SAMPLED | {"TOPICCHAT_BUILD__EMBED_CHUNK": "64", "RAY_AUTH_MODE": "token"},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result


@pytest.mark.slow
def test_ray_engine_on_a_real_cluster_matches_the_local_engine(ray_cluster, tmp_path):
    from topicchat.models.catalog import demo_corpus_path

    corpus = str(demo_corpus_path())
    _build(corpus, tmp_path / "local", tmp_path / "cache-local")
    ran = _build(
        corpus,
        tmp_path / "ray",
        tmp_path / "cache-ray",  # its own cache: the cluster embeds every document
        "--engine",
        "ray",
        "--ray-address",
        ray_cluster,
        "--ray-cpus-per-actor",
        "0.5",
    )
    assert "embedded on the Ray cluster in 2 worker processes" in ran.stderr

    manifest = json.loads((index_folder(tmp_path / "ray") / "manifest.json").read_text())
    engine = manifest["engine"]
    assert engine["name"] == "ray" and engine["address"] == ray_cluster
    embedders = set(engine["embed_processes"])
    assert len(embedders) >= 2 and engine["driver_pid"] not in embedders
    assert engine["place_processes"] and engine["driver_pid"] not in engine["place_processes"]
    assert manifest["topics"]["granularity"]["fitted_on_sample"]["placed_on"] == "ray"

    local, ray = load_index(tmp_path / "local"), load_index(tmp_path / "ray")
    assert len(local.documents) == len(ray.documents) == 314
    assert local.manifest["models"]["embedder"] == ray.manifest["models"]["embedder"]
    assert np.abs(np.asarray(local.embeddings) - np.asarray(ray.embeddings)).max() <= 1e-6
    assert list(local.documents["topic"]) == list(ray.documents["topic"])
    assert [t.keywords for t in local.topics] == [t.keywords for t in ray.topics]
    assert len(local.topics) >= 5
    # The driver owns the cache: the Ray build's vectors are in it, and a rebuild embeds nothing.
    again = _build(
        corpus,
        tmp_path / "ray-again",
        tmp_path / "cache-ray",
        "--engine",
        "ray",
        "--ray-address",
        ray_cluster,
    )
    assert "314 of 314 embeddings came from the cache" in again.stderr


def _fake_ray_build(corpus: Path, out: Path, address: str, *extra: str) -> subprocess.CompletedProcess:
    """A quick `build --engine ray` of the themed corpus with the fake embedder, joining `address`."""
    return run_cli(
        "build",
        str(corpus),
        "--out",
        str(out),
        "--embedding-model",
        "fake",
        "--no-labels",
        "--quiet",
        "--engine",
        "ray",
        "--ray-address",
        address,
        *extra,
        env={"RAY_AUTH_MODE": "token"},
        timeout=300,
    )


@pytest.mark.slow
def test_actors_the_cluster_cannot_fit_are_refused_not_awaited(ray_cluster, tmp_path, corpus_csv):
    out = tmp_path / "index"
    result = _fake_ray_build(corpus_csv, out, ray_cluster, "--ray-cpus-per-actor", str(CLUSTER_CPUS * 4))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "it would wait forever" in result.stderr and not out.exists()


@pytest.mark.slow
def test_an_unreachable_cluster_is_a_clear_error_and_writes_nothing(tmp_path, corpus_csv):
    pytest.importorskip("ray")
    out = tmp_path / "index"
    result = _fake_ray_build(corpus_csv, out, f"127.0.0.1:{_free_port()}")
    assert result.returncode == 2
    assert "Could not reach a Ray cluster at 127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_ray_address_without_the_ray_engine_is_refused(tmp_path):
    out = tmp_path / "index"
    result = run_cli("build", "x.csv", "--out", str(out), "--ray-address", "auto", timeout=120)
    assert result.returncode == 2 and "--ray-address needs --engine ray" in result.stderr
    assert not out.exists()


def test_an_unknown_engine_is_refused(tmp_path):
    result = run_cli("build", "x.csv", "--out", str(tmp_path / "i"), "--engine", "spark", timeout=120)
    assert result.returncode == 2 and "engine" in result.stderr and "Traceback" not in result.stderr


def test_the_ray_engine_without_ray_installed_names_the_extra(monkeypatch):
    import importlib.util

    from topicchat.indexer import engine

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    with pytest.raises(engine.EngineError, match=r"pip install 'topicchat\[ray\]'"):
        engine.make_engine("ray")
    assert engine.make_engine("local").name == "local"
