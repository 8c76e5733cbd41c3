"""Where settings come from besides the defaults: a config file and short environment names.

Precedence (highest first): explicit arguments, `ASSISTANT_<SECTION>__<FIELD>` variables, the short
variables in `ENV_SHORTCUTS`, the config file, the defaults. Both extra sources are pydantic-settings
sources, so pydantic merges them section by section with the rest.

Trust (like git's safe.directory): a config file can send questions, passages and an API key to any URL
(`answerer`, `llm.base_url`, `llm.api_key_env`), so one found by walking up from the working directory is
read only when it is owned by the current user or root and nobody else can write it (no o+w; g+w only when
the group's sole member is the owner, as Debian's OpenSSH allows). Others are skipped with a one-line
warning, as if absent, and the walk goes on upwards. A file named by `ASSISTANT_CONFIG` is the user's
explicit choice: it is read whoever owns it, with a warning when others can write it. Windows has no POSIX
owner and mode, so there every file is trusted."""

from __future__ import annotations

import logging
import os
import stat
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from assistant.errors import ConfigError

if sys.platform != "win32":  # owners and groups have names only on POSIX; Windows never asks for them
    import grp
    import pwd

log = logging.getLogger(__name__)

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


def user_cache_dir() -> Path:
    """The per-user folder for files the assistant can always re-create (exported ONNX models)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "Cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "assistant"


def find_config_file(start: Path | None = None) -> tuple[Path, tuple[str, ...]] | None:
    """The config file in use and the table inside it that holds the settings, or None.

    `ASSISTANT_CONFIG` names one explicitly; otherwise the nearest folder, from the working directory
    up, holding a trusted `assistant.toml` or `pyproject.toml` with a `[tool.assistant]` table (untrusted
    ones are skipped with a warning; see the module docstring)."""
    explicit = explicit_config_path()
    if explicit is not None:
        problem = _writable_by_others(explicit.stat())
        if problem:
            _warn_once(explicit, f"using {explicit} ({CONFIG_ENV}) although it is {problem}; "
                                 f"run  chmod go-w {explicit}  so that only you can change what it does")
        table = PYPROJECT_TABLE if explicit.name == "pyproject.toml" else ()
        return explicit.resolve(), table
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_FILE_NAME
        if own.is_file() and _trusted_or_warn(own):
            return own, ()
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject, PYPROJECT_TABLE) and _trusted_or_warn(pyproject):
            return pyproject, PYPROJECT_TABLE
    return None


def explicit_config_path() -> Path | None:
    """The file `ASSISTANT_CONFIG` names, or None when it is unset; ConfigError when it is not a file."""
    explicit = os.environ.get(CONFIG_ENV)
    if not explicit:
        return None
    path = Path(explicit).expanduser()
    if not path.is_file():
        raise ConfigError(f"{CONFIG_ENV}={explicit} is not a file; point it at an assistant.toml or unset it")
    return path


def untrusted_reason(info: os.stat_result) -> str | None:
    """Why a found config file must not be obeyed (its owner, or who may write it), or None if it may."""
    return _foreign_owner(info) or _writable_by_others(info)


def _foreign_owner(info: os.stat_result) -> str | None:
    if not hasattr(os, "geteuid"):
        return None  # Windows: no POSIX owner to judge
    if info.st_uid not in (os.geteuid(), 0):
        return f"owned by {_user_name(info.st_uid)}, not by you or root"
    return None


def _writable_by_others(info: os.stat_result) -> str | None:
    """'writable by ...' when someone besides the file's owner may change it, else None."""
    if not hasattr(os, "geteuid"):
        return None  # Windows: no POSIX mode to judge
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IWOTH:
        return f"writable by others (mode {mode:04o})"
    if mode & stat.S_IWGRP and not _private_group(info.st_gid, info.st_uid):
        return f"writable by group {_group_name(info.st_gid)} (mode {mode:04o})"
    return None


def _private_group(gid: int, owner: int) -> bool:
    """Whether the owner is the group's only member (a user-private group, as umask 002 systems make),
    so group-writable still means writable by the owner alone: the rule of Debian's OpenSSH StrictModes."""
    try:
        group = grp.getgrgid(gid)
        owner_name = pwd.getpwuid(owner).pw_name
    except KeyError:
        return False  # a group or owner without a name: nobody can vouch for its members
    primary = {user.pw_uid for user in pwd.getpwall() if user.pw_gid == gid}
    supplementary = set(group.gr_mem)
    return primary <= {owner} and supplementary <= {owner_name} and bool(primary or supplementary)


def _user_name(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _group_name(gid: int) -> str:
    try:
        return f"{grp.getgrgid(gid).gr_name} (gid {gid})"
    except KeyError:
        return f"gid {gid}"


def _login() -> str:
    """The current user's name for a chown command (the uid when it has none)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _trusted_or_warn(path: Path) -> bool:
    """Whether a config file found by walking up may be read; a one-line warning when it may not.
    A symbolic link is judged by its target and by its own owner (who chose where it points)."""
    problem = untrusted_reason(path.stat()) or (_foreign_owner(path.lstat()) if path.is_symlink() else None)
    if problem is None:
        return True
    _warn_once(path, f"ignoring the config file {path}: it is {problem}; if you trust it, run  "
                     f"chown {_login()} {path} && chmod go-w {path}  or set {CONFIG_ENV}={path}")
    return False


_warned: set[tuple[Path, str]] = set()  # settings are loaded several times per process: warn once per file


def _warn_once(path: Path, message: str) -> None:
    if (path, message) not in _warned:
        _warned.add((path, message))
        log.warning(message)


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


def read_config_file(path: Path, table: tuple[str, ...], *, check_trust: bool = False) -> dict[str, Any]:
    """The settings table of a config file, with relative paths made relative to the file's folder.

    `check_trust`: judge the owner and mode of the file actually opened, so a file swapped in after
    find_config_file judged it is refused (ConfigError) rather than obeyed."""
    try:
        with path.open("rb") as handle:
            problem = untrusted_reason(os.fstat(handle.fileno())) if check_trust else None
            if problem:
                raise ConfigError(f"the config file {path} changed while being read and is now {problem}; "
                                  "check who else can write to its folder")
            data: Any = tomllib.loads(handle.read().decode("utf-8"))
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
        values = read_config_file(*found, check_trust=explicit_config_path() is None) if found else {}
        super().__init__(settings_cls, values)


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
    """The config file settings are read from now (for messages and `assistant info`), or None; never
    a file skipped as untrusted."""
    try:
        found = find_config_file()
    except ConfigError:
        return None
    return found[0] if found else None
