"""Where a build's parallel stages run: in this process (`local`) or on a Ray cluster (`ray`).

Two stages scale with the corpus and split into independent pieces: embedding (chunks of texts) and
placing the documents outside a fitted sample into topics (blocks of vectors). The local engine runs
them here; the Ray engine sends them to a cluster (Ray Data `map_batches` over an actor pool, each actor
loading the embedder once; placement as Ray tasks) while the driver keeps everything else: the embedding
cache, the clustering fit on the sample, the topic tree, labels and the index folder. Given the same
chunks, both engines embed the same batches and give identical vectors and topics.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from topicchat.indexer import embed, update
from topicchat.indexer.errors import TopicchatError
from topicchat.models.base import Embedder

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")
# Variables an actor needs to load models the way the driver does (offline switches, caches).
FORWARDED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "TOPICCHAT_CACHE_DIR", "XDG_CACHE_HOME")


class EngineError(TopicchatError):
    """The engine could not start or lost its workers."""


ChunkRunner = Callable[[list[list[str]]], Iterator[tuple[int, np.ndarray]]]


@dataclass
class LocalEngine:
    """Runs every stage in this process."""

    name: str = "local"

    def embed(
        self, embedder: Embedder, texts: Sequence[str], cache_dir: Path | None, show_progress: bool, chunk: int
    ) -> tuple[np.ndarray, int]:
        return embed.embed_documents(embedder, texts, cache_dir, show_progress, chunk)

    def place(
        self, known: np.ndarray, known_topics: np.ndarray, known_xy: np.ndarray, new: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return update.place_documents(known, known_topics, known_xy, new)

    def describe(self) -> dict:
        return {"name": self.name}

    def close(self) -> None:
        return None


class _EmbedActor:
    """A Ray actor: loads the embedder once, then embeds each batch (one cache chunk) it is given."""

    def __init__(self, spec: str, dtype: str, max_tokens: int | None, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        from topicchat.models.registry import load_embedder

        self.embedder = load_embedder(spec, dtype, None, max_tokens)
        self.pid = os.getpid()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"].tolist()]
        vectors = self.embedder.embed(texts)
        n = len(texts)
        return {
            "chunk": batch["chunk"],
            "row": batch["row"],
            "vector": vectors.astype(np.float32),
            "pid": np.full(n, self.pid, dtype=np.int64),
            "model_id": np.array([self.embedder.model_id] * n),
        }


def _place_block(
    known: np.ndarray, known_topics: np.ndarray, known_xy: np.ndarray, new: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    topics, shares, xy = update.place_documents(known, known_topics, known_xy, new)
    return topics, shares, xy, os.getpid()


@dataclass
class RayEngine:
    """Embeds and places on a Ray cluster: an existing one (`address`: 'auto', 'host:6379', 'ray://host:10001')
    or, without an address, one started here for this build."""

    address: str | None = None
    actors: int = 2
    cpus_per_actor: float = 1.0
    threads_per_actor: int = 1
    object_store_mb: int = 512
    name: str = "ray"
    embed_pids: set[int] = field(default_factory=set)
    place_pids: set[int] = field(default_factory=set)
    _started: bool = False

    def _connect(self) -> None:
        try:
            import ray
        except ImportError:
            raise EngineError(
                "--engine ray needs Ray: pip install 'topicchat[ray]' (on the driver and every cluster node)."
            ) from None
        if ray.is_initialized():
            return
        if self.address and "RAY_AUTH_MODE" not in os.environ:
            # `ray start` turns token authentication on and writes the token here; a driver only sends it
            # when asked to.
            if "RAY_AUTH_TOKEN" in os.environ or (Path.home() / ".ray" / "auth_token").exists():
                os.environ["RAY_AUTH_MODE"] = "token"
        env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
        env |= {"OMP_NUM_THREADS": str(self.threads_per_actor), "TOKENIZERS_PARALLELISM": "false"}
        kwargs: dict = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
            "runtime_env": {"env_vars": env},
        }
        _check_reachable(self.address)
        try:
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:  # on loopback only: nothing outside this machine can join or submit work
                ray.init(
                    num_cpus=os.cpu_count() or 1,
                    object_store_memory=self.object_store_mb << 20,
                    _node_ip_address="127.0.0.1",
                    **kwargs,
                )
        except Exception as exc:  # ConnectionError, RuntimeError, grpc errors: all mean "no cluster"
            where = f"at {self.address}" if self.address else "on this machine"
            raise unreachable(where, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from None
        self._started = True
        cpus = float(ray.cluster_resources().get("CPU", 0))
        if cpus < self.cpus_per_actor:
            raise EngineError(
                f"The Ray cluster has {cpus:g} CPUs; one actor asks for {self.cpus_per_actor:g} "
                "(--ray-cpus-per-actor): it would wait forever."
            )
        from ray.data import DataContext

        context = DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False

    def embed(
        self, embedder: Embedder, texts: Sequence[str], cache_dir: Path | None, show_progress: bool, chunk: int
    ) -> tuple[np.ndarray, int]:
        spec = getattr(embedder, "spec", None)
        if not spec:
            raise EngineError(
                f"The embedder {embedder.model_id} was not loaded from a model string, so Ray actors cannot load "
                "it; pass --embedding-model."
            )
        dtype = getattr(embedder, "dtype", "float32")
        # Enough chunks for every actor to get work (two each, in multiples of a 32-text batch): a chunk is
        # the unit an actor embeds and the driver caches.
        per_actor = -(-len(texts) // (2 * self.actors))
        chunk = min(chunk, max(32, -(-per_actor // 32) * 32))
        runner = self._chunk_runner(spec, dtype, getattr(embedder, "max_tokens", None), embedder)
        return embed.embed_documents(embedder, texts, cache_dir, show_progress, chunk, run_chunks=runner)

    def _chunk_runner(self, spec: str, dtype: str, max_tokens: int | None, embedder: Embedder) -> ChunkRunner:
        def run(chunks: list[list[str]]) -> Iterator[tuple[int, np.ndarray]]:
            if not chunks:
                return
            import pandas as pd
            import ray.data

            self._connect()
            frames = [
                pd.DataFrame({"chunk": np.full(len(c), i, dtype=np.int64), "row": np.arange(len(c)), "text": c})
                for i, c in enumerate(chunks)
            ]
            dataset = ray.data.from_pandas(frames).map_batches(
                _EmbedActor,
                fn_constructor_kwargs={
                    "spec": spec,
                    "dtype": dtype,
                    "max_tokens": max_tokens,
                    "threads": self.threads_per_actor,
                },
                batch_size=max(len(c) for c in chunks),
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=self.actors),
                num_cpus=self.cpus_per_actor,
            )
            parts: dict[int, dict[int, np.ndarray]] = {}
            try:
                for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                    ids = set(batch["model_id"].tolist())
                    if ids != {embedder.model_id}:
                        raise EngineError(
                            f"Ray actors embedded with {sorted(ids)}, this build with {embedder.model_id}: install "
                            "the same topicchat and models on every node."
                        )
                    self.embed_pids.update(int(p) for p in batch["pid"])
                    for c, r, v in zip(batch["chunk"], batch["row"], batch["vector"], strict=True):
                        parts.setdefault(int(c), {})[int(r)] = v
                        if len(parts[int(c)]) == len(chunks[int(c)]):
                            done = parts.pop(int(c))
                            yield int(c), np.stack([done[i] for i in range(len(done))])
            except EngineError:
                raise
            except Exception as exc:  # a lost worker or actor start failure surfaces here
                raise EngineError(f"The Ray cluster failed while embedding ({type(exc).__name__}: {exc})") from None
            if parts:
                raise EngineError(f"The Ray cluster returned {len(parts)} chunks incomplete.")

        return run

    def place(
        self, known: np.ndarray, known_topics: np.ndarray, known_xy: np.ndarray, new: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(new) == 0:
            return update.place_documents(known, known_topics, known_xy, new)
        import ray

        self._connect()
        task: Any = ray.remote(num_cpus=self.cpus_per_actor)(_place_block)
        refs = [ray.put(known), ray.put(known_topics), ray.put(known_xy)]
        blocks = np.array_split(np.arange(len(new)), min(len(new), max(2, 2 * self.actors)))
        try:
            results = ray.get([task.remote(*refs, new[b]) for b in blocks])
        except Exception as exc:
            raise EngineError(f"The Ray cluster failed while placing documents ({type(exc).__name__}: {exc})") from None
        self.place_pids.update(r[3] for r in results)
        return (
            np.concatenate([r[0] for r in results]),
            np.concatenate([r[1] for r in results]),
            np.concatenate([r[2] for r in results]),
        )

    def describe(self) -> dict:
        return {
            "name": self.name,
            "address": self.address or "started for this build",
            "actors": self.actors,
            "cpus_per_actor": self.cpus_per_actor,
            "driver_pid": os.getpid(),
            "embed_processes": sorted(self.embed_pids),
            "place_processes": sorted(self.place_pids),
        }

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def _check_reachable(address: str | None, timeout: float = 10.0) -> None:
    """Fail fast when nothing listens at a host:port address (Ray itself retries for minutes)."""
    if not address or address == "auto":
        return
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"--ray-address '{address}' is not 'auto', 'host:port' or 'ray://host:port'.")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise unreachable(f"at {address}", str(exc.strerror or exc)) from None


def unreachable(where: str, why: str) -> EngineError:
    """The one message for a Ray cluster that cannot be reached, and what to do about it."""
    return EngineError(
        f"Could not reach a Ray cluster {where} ({why}). Start one with `ray start --head` and pass its address "
        "(or --ray-address auto), or leave --ray-address out to start one for this build."
    )


def make_engine(
    name: str, address: str | None = None, actors: int | None = None, cpus_per_actor: float | None = None
) -> LocalEngine | RayEngine:
    """The engine a build names."""
    if name == "local":
        if address:
            raise EngineError("--ray-address needs --engine ray.")
        return LocalEngine()
    if name == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise EngineError("--engine ray needs Ray: pip install 'topicchat[ray]' (on every cluster node too).")
        return RayEngine(address=address or None, actors=actors or 2, cpus_per_actor=cpus_per_actor or 1.0)
    raise EngineError(f"Unknown engine '{name}': use one of {', '.join(ENGINES)}.")
