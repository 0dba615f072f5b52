"""The OpenAI-compatible generator: config parsing and errors (fast), and a real llama.cpp server started by
the test, serving the SmolLM2 GGUF on 127.0.0.1 (slow; needs the `llama` extra with its `server` part)."""

from __future__ import annotations

import importlib.util
import logging
import socket
import subprocess
import sys
import time

import httpx
import pytest

from topicchat.models.base import ModelError
from topicchat.models.openai_backend import OpenAIGenerator, parse_spec
from topicchat.models.registry import load_generator

MESSAGES = [{"role": "user", "content": "Name one colour. Reply with one word."}]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_spec_splits_at_the_last_at_sign_and_defaults_the_url(monkeypatch):
    assert parse_spec("llama3@home@http://127.0.0.1:11434/v1/") == ("llama3@home", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("TOPICCHAT_OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    assert parse_spec("qwen") == ("qwen", "http://127.0.0.1:9999/v1")
    for bad, why in [
        ("@http://127.0.0.1:8080/v1", "needs a model name"),
        ("m@ftp://host/v1", "not an http"),
        ("m@http://user:secret@host/v1", "TOPICCHAT_OPENAI_API_KEY"),
    ]:
        with pytest.raises(ModelError, match=why):
            parse_spec(bad)


def test_the_key_stays_out_of_the_model_id_and_a_remote_server_is_named(monkeypatch, caplog):
    monkeypatch.setenv("TOPICCHAT_OPENAI_API_KEY", "sk-secret-123")
    with caplog.at_level(logging.WARNING):
        remote = OpenAIGenerator("m", "https://llm.example.invalid/v1")
    assert "sk-secret" not in remote.model_id and "sk-secret" not in caplog.text
    assert "not on this machine" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        OpenAIGenerator("m", "http://127.0.0.1:8080/v1")
    assert "not on this machine" not in caplog.text


def test_a_server_that_is_down_gives_a_clear_error():
    gen = load_generator(f"openai:m@http://127.0.0.1:{_free_port()}/v1")
    with pytest.raises(ModelError, match="nothing answers there"):
        gen.generate(MESSAGES)
    with pytest.raises(ModelError, match="nothing answers there"):
        list(gen.stream(MESSAGES))


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'topicchat[llama]')")
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"llama-cpp-python's server extra is missing ({exc})")
    from topicchat.models.catalog import SMOLLM2

    gguf = SMOLLM2.path()
    if gguf is None:
        pytest.skip("the SmolLM2 GGUF is not installed")
    port = _free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--model_alias", "smollm2"]
    log_file = tmp_path_factory.mktemp("llama-server") / "server.log"  # a file: a full pipe would stall the server
    sink = log_file.open("w")
    proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"llama_cpp.server did not start: {log_file.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        sink.close()


@pytest.mark.slow
def test_generate_and_stream_from_a_real_llama_cpp_server(llama_server):
    gen = load_generator(f"openai:smollm2@{llama_server}")
    text = gen.generate(MESSAGES, max_tokens=8, stop=["\n"])
    assert text and "\n" not in text
    pieces = list(gen.stream(MESSAGES, max_tokens=8))
    assert len(pieces) >= 2 and "".join(pieces).strip()


@pytest.mark.slow
def test_the_assistant_answers_through_the_server(llama_server, fake_index):
    from topicchat.app.answer import Assistant
    from topicchat.app.settings import AnswerSettings

    assistant = Assistant.open(fake_index, AnswerSettings(generator=f"openai:smollm2@{llama_server}"))
    assert assistant.generator.model_id == f"openai:smollm2@{llama_server}"
    answer = assistant.ask("which papers discuss telescope galaxy nebula?")
    assert answer.matched and answer.citations
    assert "Most relevant documents" in answer.text  # the facts are there whatever the model wrote
