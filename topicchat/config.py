"""One settings model for the whole product, read once by the CLI.

Sources, strongest first: options given on the command line, `TOPICCHAT_*` environment variables
(a section's field as `TOPICCHAT_<SECTION>__<FIELD>`, e.g. `TOPICCHAT_RETRIEVAL__LEXICAL_WEIGHT=0.4`),
a `topicchat.toml` file (`--config`, else `./topicchat.toml` when present), then the defaults.
`topicchat config` prints the result. Only the build section decides what an index holds; it alone
is recorded in the manifest, and secrets (the serve password) never are.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from topicchat.app.settings import AnswerSettings, RetrievalSettings, ServeSettings
from topicchat.indexer.errors import TopicchatError
from topicchat.indexer.settings import BuildSettings, default_cache_dir

CONFIG_FILE = "topicchat.toml"
_toml_file: ContextVar[Path | None] = ContextVar("topicchat_toml_file", default=None)


class Settings(BaseSettings):
    """Everything a user can set: machine-wide fields plus build, retrieval, answer and serve sections."""

    model_config = SettingsConfigDict(
        env_prefix="TOPICCHAT_", env_nested_delimiter="__", env_ignore_empty=True, extra="forbid"
    )

    cache_dir: Path = Field(default_factory=default_cache_dir, description="Cache for embeddings and converted models.")
    embed_dtype: Literal["auto", "float32", "bfloat16", "int8"] = Field(
        "auto",
        description="Encoder for builds: float32, bfloat16 (torch) or int8 (ONNX); auto: bfloat16 where the CPU "
        "has it natively, else int8.",
    )
    debug: bool = Field(False, description="Show tracebacks instead of one-paragraph errors.")
    build: BuildSettings = Field(default_factory=BuildSettings, description="What an index holds (recorded in it).")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Search and routing.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answers.")
    serve: ServeSettings = Field(default_factory=ServeSettings, description="The chat server.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _toml_file.get()
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        if toml is not None:
            sources += (TomlConfigSettingsSource(settings_cls, toml_file=toml),)
        return sources

    @field_validator("cache_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    def build_settings(self, **given: Any) -> BuildSettings:
        """The build section with the machine-wide fields filled in and the command line's options on top."""
        values = self.build.model_dump()
        if "cache_dir" not in self.build.model_fields_set:
            values["cache_dir"] = self.cache_dir
        if "embed_dtype" not in self.build.model_fields_set:
            values["embed_dtype"] = self.embed_dtype
        values.update({k: v for k, v in given.items() if v is not None})
        return BuildSettings(**values)

    def answer_with(self, generator: str | None) -> AnswerSettings:
        """The answer section, with the command line's generator when one was given."""
        return self.answer.model_copy(update={"generator": generator or self.answer.generator})

    def shown(self) -> dict[str, Any]:
        """The settings as JSON-ready data, secrets masked."""
        data = json.loads(self.model_dump_json())
        if self.serve.password is not None:
            data["serve"]["password"] = "**********"
        return data


def load_settings(config: Path | None = None, **given: Any) -> Settings:
    """Read the settings once: `given` values, then TOPICCHAT_* variables, then the TOML file, then defaults.

    A bad file or value raises a TopicchatError that names the setting.
    """
    if config is not None and not Path(config).is_file():
        raise TopicchatError(f"The settings file {config} does not exist.")
    path = Path(config) if config is not None else Path.cwd() / CONFIG_FILE
    token = _toml_file.set(path if path.is_file() else None)
    try:
        settings = Settings(**given)
        legacy = _legacy_serve_variables()
        if legacy:
            settings.serve = ServeSettings.model_validate(settings.serve.model_dump() | legacy)
        return settings
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        where = f" (from {path})" if path.is_file() else ""
        raise TopicchatError(f"Invalid settings{where}: {problems}.") from None
    except (OSError, ValueError) as exc:  # an unreadable or malformed TOML file
        raise TopicchatError(f"Could not read the settings file {path}: {exc}") from None
    finally:
        _toml_file.reset(token)


def _legacy_serve_variables() -> dict[str, Any]:
    """TOPICCHAT_PASSWORD / TOPICCHAT_USER, the names before the settings model, still protect a server
    (unless the new TOPICCHAT_SERVE__* names are set)."""
    import os

    found: dict[str, Any] = {}
    for name in ("password", "user"):
        value = os.environ.get(f"TOPICCHAT_{name.upper()}")
        if value and not os.environ.get(f"TOPICCHAT_SERVE__{name.upper()}"):
            found[name] = value
    return found


def secret(value: str | None) -> SecretStr | None:
    """A password as a secret (never printed)."""
    return SecretStr(value) if value else None
