"""Quarantine: stored uploads that stopped loading, set aside with why, so no index run re-reads them
until the user removes or replaces the file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from assistant import atomic
from assistant.config import Settings
from assistant.ingest.upload_paths import plain_files, quarantine_dir, upload_dir

_QUARANTINE_REASONS = ".reasons.json"  # hidden: no upload name (leading dots stripped) can be it


def quarantine_reasons(settings: Settings) -> dict[str, str]:
    """Quarantined upload name -> why it was set aside."""
    folder = quarantine_dir(settings)
    try:
        reasons = json.loads((folder / _QUARANTINE_REASONS).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, unreadable or not JSON: the files themselves say what is there
        reasons = {}
    present = {p.name for p in plain_files(folder)}
    return {name: str(reasons.get(name, "could not be loaded")) for name in sorted(present)}


def quarantine_upload(settings: Settings, name: str, reason: str) -> Path:
    """Move a stored upload that fails to load beside the uploads, with its reason."""
    folder = quarantine_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    os.replace(upload_dir(settings) / name, target)
    _write_reasons(settings, {**quarantine_reasons(settings), name: reason})
    return target


def clear_quarantine(settings: Settings, name: str) -> None:
    """Forget a quarantined copy (the upload was replaced or removed)."""
    target = quarantine_dir(settings) / name
    if target.is_file():
        target.unlink()
        reasons = quarantine_reasons(settings)
        reasons.pop(name, None)
        _write_reasons(settings, reasons)


def _write_reasons(settings: Settings, reasons: dict[str, str]) -> None:
    atomic.write_text(quarantine_dir(settings) / _QUARANTINE_REASONS, json.dumps(reasons, indent=1, sort_keys=True), mode=0o600)
