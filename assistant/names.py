"""Collection names: checked before anything is touched, since a name becomes a folder name.

Chroma's own rule (3-63 characters of [A-Za-z0-9._-], alphanumeric at both ends, no '..', not an
IPv4 address), kept 13 characters shorter so the physical collection's generation suffix fits
(`assistant.index.names.new_physical_name`). A shared bottom module: configuration checks names
too, and it must not import a stage."""

from __future__ import annotations

import ipaddress
import re

MAX_NAME = 50
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def check_collection_name(name: str) -> str:
    """Return `name` unchanged, or raise ValueError with a one-line message saying what to use."""
    rule = (f"use 3-{MAX_NAME} letters, digits, '.', '_' or '-', starting and ending with a letter or digit "
            "(no path separators), e.g. --collection my-docs")
    if not isinstance(name, str):
        raise ValueError(f"collection name must be text, got {type(name).__name__}; {rule}")
    problem = None
    if not 3 <= len(name) <= MAX_NAME:
        problem = f"is {len(name)} characters long"
    elif "/" in name or "\\" in name:
        problem = "contains a path separator"
    elif not _NAME.fullmatch(name) or ".." in name:
        problem = "has characters or dots that collection names can't have"
    else:
        try:
            ipaddress.IPv4Address(name)
            problem = "looks like an IP address"
        except ValueError:
            pass
    if problem:
        raise ValueError(f"collection name {name!r} {problem}; {rule}")
    return name
