"""Where settings come from besides the defaults: a config file and short environment names.

Precedence (highest first): explicit arguments, `ASSISTANT_<SECTION>__<FIELD>` variables, the short
variables in `ENV_SHORTCUTS`, the config file, the defaults. Both extra sources are pydantic-settings
sources, so pydantic merges them section by section with the rest."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from assistant.errors import ConfigError

CONFIG_ENV = "ASSISTANT_CONFIG"
CONFIG_FILE_NAME = "assistant.toml"
PYPROJECT_TABLE = ("tool", "assistant")

# Short, documented names for the settings people change most often: env name -> (section, field).
ENV_SHORTCUTS: dict[str, tuple[str, str]] = {
    "ASSISTANT_CORPUS_DIR": ("corpus", "path"),
    "ASSISTANT_INDEX_DIR": ("store", "path"),
    "ASSISTANT_CHROMA_URL": ("store", "chroma_url"),
    "ASSISTANT_COLLECTION": ("store", "collection"),
    "ASSISTANT_ANSWERER": ("answer", "answerer"),
    "ASSISTANT_LLM_BASE_URL": ("llm", "base_url"),
    "ASSISTANT_LLM_MODEL": ("llm", "model"),
    "ASSISTANT_LLM_MODEL_PATH": ("llm", "model_path"),
    "ASSISTANT_UI_USER": ("ui", "user"),
    "ASSISTANT_UI_PASSWORD": ("ui", "password"),
    "ASSISTANT_API_KEY": ("ui", "api_key"),
}

# Path settings that a config file may give relative to its own folder.
FILE_RELATIVE_PATHS: tuple[tuple[str, str], ...] = (
    ("corpus", "path"), ("store", "path"), ("llm", "model_path"), ("retrieval", "cross_encoder_path"),
)


def user_data_dir() -> Path:
    """The per-user folder for data the assistant derives (its index), per platform convention."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "assistant"


def find_config_file(start: Path | None = None) -> tuple[Path, tuple[str, ...]] | None:
    """The config file in use and the table inside it that holds the settings, or None.

    `ASSISTANT_CONFIG` names one explicitly; otherwise the nearest folder, from the working directory
    up, holding `assistant.toml` or a `pyproject.toml` with a `[tool.assistant]` table."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV}={explicit} is not a file; point it at an assistant.toml or unset it")
        table = PYPROJECT_TABLE if path.name == "pyproject.toml" else ()
        return path.resolve(), table
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_FILE_NAME
        if own.is_file():
            return own, ()
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject, PYPROJECT_TABLE):
            return pyproject, PYPROJECT_TABLE
    return None


def _has_table(path: Path, table: tuple[str, ...]) -> bool:
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # not ours to judge: a broken pyproject.toml without our table is someone else's file
    for key in table:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return isinstance(data, dict)


def read_config_file(path: Path, table: tuple[str, ...]) -> dict[str, Any]:
    """The settings table of a config file, with relative paths made relative to the file's folder."""
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path} ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the config file {path} is not UTF-8 text; re-save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the config file {path} is not valid TOML ({exc}); fix that line") from exc
    for key in table:
        data = data.get(key, {})
    if not isinstance(data, dict):
        raise ConfigError(f"[{'.'.join(table)}] in {path} must be a table of settings sections")
    for section, value in data.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{section} = ... in {path} must be a [{section}] table; see the README's configuration section")
    return _resolve_paths(data, path.parent)


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    resolved = {section: dict(values) for section, values in data.items()}
    for section, field in FILE_RELATIVE_PATHS:
        value = resolved.get(section, {}).get(field)
        if isinstance(value, str) and value:
            path = Path(value).expanduser()
            resolved[section][field] = str(path if path.is_absolute() else base / path)
    return resolved


class _DictSource(PydanticBaseSettingsSource):
    """A source whose whole contribution is one nested dict; pydantic merges it section by section."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = dict(values)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._values


class ConfigFileSource(_DictSource):
    """Settings from `assistant.toml` (or `[tool.assistant]` in pyproject.toml), if one is found."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        found = find_config_file()
        self.path = found[0] if found else None
        super().__init__(settings_cls, read_config_file(*found) if found else {})


class ShortcutEnvSource(_DictSource):
    """The short environment names of `ENV_SHORTCUTS`, below the full `ASSISTANT_SECTION__FIELD` ones."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        values: dict[str, dict[str, str]] = {}
        for env_name, (section, field) in ENV_SHORTCUTS.items():
            value = os.environ.get(env_name)
            if value is not None:
                values.setdefault(section, {})[field] = value
        super().__init__(settings_cls, values)


def config_file_in_use() -> Path | None:
    """The config file settings are read from now (for messages), or None."""
    try:
        found = find_config_file()
    except ConfigError:
        return None
    return found[0] if found else None
