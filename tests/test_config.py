"""One settings model: topicchat.toml, TOPICCHAT_* variables and options, shown by `topicchat config`."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fake_settings
from tests.test_cli import run_cli
from topicchat.config import load_settings
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.store import index_folder


def test_file_then_environment_then_options(tmp_path, monkeypatch):
    config = tmp_path / "topicchat.toml"
    config.write_text(
        'cache_dir = "/tmp/from-file"\n[retrieval]\nlexical_weight = 0.2\nk_topics = 2\n[build]\nseed = 7\n'
    )
    monkeypatch.setenv("TOPICCHAT_RETRIEVAL__LEXICAL_WEIGHT", "0.45")
    settings = load_settings(config)
    assert settings.retrieval.lexical_weight == 0.45, "a variable beats the file"
    assert settings.retrieval.k_topics == 2 and settings.build.seed == 7
    build = settings.build_settings(seed=3, limit=10)
    assert build.seed == 3 and build.limit == 10, "options beat both"
    assert str(build.cache_dir) == "/tmp/from-file", "the machine-wide cache folder reaches the build"


def test_toml_in_the_working_folder_is_found(tmp_path, monkeypatch):
    (tmp_path / "topicchat.toml").write_text("[answer]\nk_docs = 3\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().answer.k_docs == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[retrieval]\nlexical_wait = 0.2\n", "retrieval.lexical_wait"),
        ("[retrieval]\nlexical_weight = 3\n", "retrieval.lexical_weight"),
        ("[build\nseed = 1\n", "Could not read the settings file"),
    ],
)
def test_bad_settings_name_the_setting(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(TopicchatError, match=message.replace(".", r"\.")):
        load_settings(config)


def test_serve_and_retrieval_settings_never_reach_the_index(tmp_path, corpus_csv, monkeypatch):
    """Only build parameters go into the manifest: changing a serve or retrieval setting forces no rebuild."""
    from topicchat import api

    monkeypatch.setenv("TOPICCHAT_SERVE__PASSWORD", "hunter2")
    monkeypatch.setenv("TOPICCHAT_RETRIEVAL__LEXICAL_WEIGHT", "0.5")
    settings = load_settings()
    build = settings.build_settings(**fake_settings(tmp_path / "cache").model_dump())
    path = api.build(str(corpus_csv), tmp_path / "idx", build, report=lambda _m: None)
    manifest_text = (index_folder(path) / "manifest.json").read_text()
    assert "hunter2" not in manifest_text and "lexical_weight" not in manifest_text
    params = json.loads(manifest_text)["parameters"]
    assert {"cache_dir", "embed_dtype", "show_progress"}.isdisjoint(params) and params["seed"] == 42
    messages: list[str] = []
    api.build(str(corpus_csv), tmp_path / "idx", build, report=messages.append)
    assert any("up to date" in m for m in messages)


def test_config_command_shows_settings_with_secrets_masked(tmp_path):
    config = tmp_path / "my.toml"
    config.write_text("[serve]\nport = 8123\n")
    out = run_cli("--config", str(config), "config", "--json", env={"TOPICCHAT_SERVE__PASSWORD": "hunter2"})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["serve"]["port"] == 8123 and data["serve"]["password"] == "**********"
    assert set(data) >= {"build", "retrieval", "answer", "serve", "cache_dir"}
    text = run_cli("--config", str(config), "config")
    assert "[retrieval]" in text.stdout and "lexical_weight = 0.3" in text.stdout and "hunter2" not in text.stdout
    bad = run_cli("--config", str(tmp_path / "nope.toml"), "config")
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_older_password_variables_still_protect_the_server(monkeypatch):
    monkeypatch.setenv("TOPICCHAT_PASSWORD", "old-secret")
    monkeypatch.setenv("TOPICCHAT_USER", "alice")
    serve = load_settings().serve
    assert serve.password is not None and serve.password.get_secret_value() == "old-secret" and serve.user == "alice"
    monkeypatch.setenv("TOPICCHAT_SERVE__PASSWORD", "new-secret")
    assert load_settings().serve.password.get_secret_value() == "new-secret", "the new name wins"


def test_build_section_and_home_folder(tmp_path):
    config = tmp_path / "t.toml"
    config.write_text('cache_dir = "~/tc-cache"\nembed_dtype = "bfloat16"\n[build]\nembed_dtype = "float32"\n')
    settings = load_settings(config)
    build = settings.build_settings()
    assert build.embed_dtype == "float32", "the build section's own value wins over the machine-wide one"
    assert "~" not in str(settings.cache_dir) and str(build.cache_dir).endswith("tc-cache")
