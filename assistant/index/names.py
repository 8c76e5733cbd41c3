"""Physical collection names: a logical collection (what users name, checked by
`assistant.names.check_collection_name`) lives in Chroma collections `<name>-<8 hex>`, one per
build generation, so a rebuild writes beside the collection readers are using."""

from __future__ import annotations

import secrets

_SUFFIX_HEX = 8


def new_physical_name(logical: str) -> str:
    return f"{logical}-{secrets.token_hex(_SUFFIX_HEX // 2)}"


def is_physical_name(logical: str, name: str) -> bool:
    """Whether `name` has the shape of a physical collection of `logical` (the caller also checks
    the collection's metadata: another logical name may share the prefix)."""
    return name.startswith(logical + "-") and len(name) == len(logical) + 1 + _SUFFIX_HEX
