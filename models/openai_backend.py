"""Generator over any OpenAI-compatible chat endpoint: Ollama, llama.cpp's server, vLLM, LM Studio.

Config string: `openai:<model>@<base url>` (split at the last '@' before the URL, so a model name may
hold one), e.g.
`openai:smollm2@http://127.0.0.1:8080/v1`; without '@<url>' the base URL comes from
TOPICCHAT_OPENAI_BASE_URL (default http://127.0.0.1:8080/v1). The API key, when the server wants one,
comes only from TOPICCHAT_OPENAI_API_KEY (or OPENAI_API_KEY): it never appears in the model id, the
manifest or a log line. A server that is not on this machine gets a warning, because document text is
sent to it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from urllib.parse import urlparse

import httpx

from topicchat.models.base import Message, ModelError, cut_at_stop

log = logging.getLogger(__name__)
DEFAULT_BASE_URL = "http://127.0.0.1:8080/v1"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


def parse_spec(rest: str) -> tuple[str, str]:
    """'<model>@<url>' (split at the last '@http(s)://', else the last '@') -> (model, base url); the URL
    defaults from the environment."""
    cut = max(rest.rfind("@http://"), rest.rfind("@https://"))
    if cut < 0:
        cut = rest.rfind("@")
    model, sep, url = (rest[:cut], "@", rest[cut + 1 :]) if cut >= 0 else (rest, "", "")
    if not sep:
        model, url = rest, os.environ.get("TOPICCHAT_OPENAI_BASE_URL", DEFAULT_BASE_URL)
    if not model:
        raise ModelError(
            "An OpenAI-compatible generator needs a model name: --generator openai:<model>@http://127.0.0.1:8080/v1"
        )
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ModelError(f"'{url}' is not an http(s) URL for the generator (e.g. http://127.0.0.1:8080/v1).")
    if parsed.username or parsed.password:
        raise ModelError("Put the API key in TOPICCHAT_OPENAI_API_KEY, not in the generator URL.")
    return model, url.rstrip("/")


class OpenAIGenerator:
    """Chat completions (streamed or not) from an OpenAI-compatible server, with timeouts and clear errors."""

    def __init__(self, model: str, base_url: str, timeout: float = 120.0) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.model_id = f"openai:{model}@{self.base_url}"
        self._key = os.environ.get("TOPICCHAT_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self._timeout = httpx.Timeout(timeout, connect=5.0)
        host = urlparse(self.base_url).hostname or ""
        if host not in LOCAL_HOSTS:
            log.warning(
                "The generator server %s is not on this machine: document text is sent to it with every request.",
                host,
            )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _body(self, messages: Sequence[Message], max_tokens: int, stop: Sequence[str], stream: bool) -> dict:
        body: dict = {"model": self.model, "messages": list(messages), "max_tokens": max_tokens, "stream": stream}
        body["temperature"] = 0.0
        if stop:
            body["stop"] = list(stop)[:4]  # the OpenAI API takes at most 4 stop strings
        return body

    def _failed(self, exc: Exception) -> ModelError:
        if isinstance(exc, httpx.ConnectError):
            why = "nothing answers there (is the server running?)"
        elif isinstance(exc, httpx.TimeoutException):
            why = "it did not answer in time"
        elif isinstance(exc, httpx.HTTPStatusError):
            why = f"it answered HTTP {exc.response.status_code}: {exc.response.text[:200]}"
        else:
            why = f"{type(exc).__name__}: {exc}"
        return ModelError(f"The generator server at {self.base_url} failed: {why}.")

    def generate(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> str:
        try:
            response = httpx.post(
                f"{self.base_url}/chat/completions",
                json=self._body(messages, max_tokens, stop, False),
                headers=self._headers(),
                timeout=self._timeout,
            )
            response.raise_for_status()
            text = response.json()["choices"][0]["message"]["content"] or ""
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise self._failed(exc) from exc
        return cut_at_stop(text, stop).strip()

    def stream(self, messages: Sequence[Message], max_tokens: int = 64, stop: Sequence[str] = ()) -> Iterator[str]:
        body = self._body(messages, max_tokens, stop, True)
        try:
            with httpx.stream(
                "POST",
                f"{self.base_url}/chat/completions",
                json=body,
                headers=self._headers(),
                timeout=self._timeout,
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    response.raise_for_status()
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise self._failed(exc) from exc
