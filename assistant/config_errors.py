"""Settings validation errors as one line that names the setting, the bad value and where it came from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from assistant.config_sources import config_file_in_use
from assistant.errors import ConfigError

_SCALARS = (str, int, float, bool, os.PathLike)
_SHOWN_INPUT = 60


def describe_setting_error(error: Mapping[str, Any]) -> str:
    """One bad setting, e.g. `invalid setting store.collection: String should have at least 3 characters (got 'ab')`."""
    where = ".".join(str(part) for part in error["loc"]) or "settings"
    if error["type"] == "value_error":  # our own validators' messages already name the value and the fix
        return f"invalid setting {where}: {error['ctx']['error']}"
    shown = repr(error.get("input"))
    shown = shown if len(shown) <= _SHOWN_INPUT else shown[:_SHOWN_INPUT - 3] + "..."
    got = f" (got {shown})" if isinstance(error.get("input"), _SCALARS) else ""
    return f"invalid setting {where}: {error['msg']}{got}"


def settings_error(exc: ValidationError, *, origin: bool = False) -> ConfigError:
    """A ValidationError of Settings as one line; `origin` adds where settings are read from."""
    message = "; ".join(describe_setting_error(error) for error in exc.errors())
    if origin:
        file = config_file_in_use()
        message += f" (from an ASSISTANT_* environment variable{f' or {file}' if file else ''})"
    return ConfigError(message)
