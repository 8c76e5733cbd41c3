"""Who may call the API: anyone on loopback without a key; beyond loopback only with a key.

The key (ASSISTANT_API_KEY) is checked before anything heavy loads, so a refused start is
immediate, and compared in constant time on every /v1 request."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable

from fastapi import Request
from pydantic import SecretStr

from assistant.config import reveal
from assistant.errors import ConfigError
from assistant.serving.http_api.errors import ApiError


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name, empty (all interfaces) or junk: treat as reachable from outside


def configured_key(api_key: SecretStr | str | None) -> str | None:
    """The key as requests must bear it; blank counts as unset."""
    return (reveal(api_key) or "").strip() or None


def check_api_bind(host: str, port: int, api_key: SecretStr | str | None) -> str | None:
    """The key every request must bear (None: no key, allowed on loopback only). Raises ConfigError
    when the API would be open to the network without one."""
    key = configured_key(api_key)
    if key or is_loopback(host):
        return key
    raise ConfigError(
        f"refusing to serve the API on {host or 'all interfaces'}:{port} without a key: ASSISTANT_API_KEY is not set. "
        "Set it (clients then send 'Authorization: Bearer <key>'), or bind to 127.0.0.1 (the default)")


def bearer_check(key: str | None) -> Callable[[Request], None]:
    """A FastAPI dependency that refuses requests without `Authorization: Bearer <key>` (no-op without a key)."""
    expected = key.encode() if key else None

    def require_bearer(request: Request) -> None:
        if expected is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(401, "missing API key: send the header 'Authorization: Bearer <ASSISTANT_API_KEY>'",
                           code="missing_api_key")
        if not hmac.compare_digest(given.strip().encode(), expected):
            raise ApiError(401, "invalid API key: the bearer token does not match ASSISTANT_API_KEY", code="invalid_api_key")

    return require_bearer
