"""Jupyter notebooks (.ipynb) through nbformat (the 'ipynb' extra).

The text is the cells' sources in order (Markdown prose and code both; outputs are left out: they
are mostly numbers, tables and images that read poorly as passages). The title is the notebook
metadata's `title` when set, else the first heading; the date its metadata `date`, which Jupyter
does not write but publishing tools (Jupyter Book, Quarto) do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.ingest.extract import (
    ExtractedPage,
    FileUnreadable,
    decode_text,
    one_line,
    read_bytes,
    require_extra,
)


def _metadata_text(metadata: Any, name: str) -> str | None:
    value = metadata.get(name) if isinstance(metadata, dict) else None
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text or None


def read_ipynb(path: Path) -> ExtractedPage:
    nbformat = require_extra("nbformat", "ipynb", "nbformat")
    text = decode_text(read_bytes(path))
    try:
        # Reading validates too; an invalid but convertible notebook is only logged by nbformat.
        notebook = nbformat.reads(text, as_version=4)
        cells = [cell.get("source", "") for cell in notebook.cells]
        metadata = notebook.metadata
    except nbformat.ValidationError as exc:
        raise FileUnreadable(f"is not a readable Jupyter notebook ({one_line(exc)})") from exc
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:  # NotJSONError is a ValueError
        raise FileUnreadable(f"is not a readable Jupyter notebook ({type(exc).__name__}: {one_line(exc)})") from exc
    body = "\n\n".join(cell for cell in cells if isinstance(cell, str) and cell.strip())
    return ExtractedPage(text=body, title=_metadata_text(metadata, "title"), date=_metadata_text(metadata, "date"))
