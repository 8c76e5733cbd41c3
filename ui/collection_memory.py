"""The Collection switcher's choice, remembered per browser: kept in the browser's localStorage (gr.BrowserState,
encrypted with the same store-kept secret as the browser id, so it survives a server restart) whenever the switcher
moves, and restored when the page loads. Kept as {"collection": name or None}: Gradio never writes a falsy value
(None, ''), so forgetting must store a value too. A remembered collection that no longer exists falls back to the served one
with a one-line notice, and is forgotten. Pure choices here; ui.collection_switcher wires them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import gradio as gr

STORAGE_KEY = "assistant-collection"
_NAME_SHOWN = 80  # a name read back from a browser is shown cut to this length


@dataclass(frozen=True)
class Restored:
    """What the page shows on load: `collection` in the switcher, `notice` (one line, '' when all is well), and
    `remember`, the value to keep in the browser from now on."""

    collection: str
    notice: str = ""
    remember: dict[str, str | None] = field(default_factory=lambda: {"collection": None})


def memory(secret: str | None) -> gr.BrowserState:
    """The browser-side store of the choice (created inside the page's Blocks)."""
    return gr.BrowserState(None, storage_key=STORAGE_KEY, secret=secret)


def restore(stored: object, offered: Sequence[str], served: str) -> Restored:
    """The collection to show for what this browser remembered (`stored`), given the collections `offered` now."""
    name = stored.get("collection") if isinstance(stored, dict) else None
    if not isinstance(name, str) or not name.strip() or name == served:
        return Restored(served)
    if name in offered:
        return Restored(name, remember=remember(name))
    shown = name if len(name) <= _NAME_SHOWN else name[: _NAME_SHOWN - 1] + "…"
    return Restored(served, f"Collection “{' '.join(shown.split())}”, chosen here before, no longer exists; "
                            f"questions are answered from {served}.")


def remember(collection: str | None) -> dict[str, str | None]:
    """The value kept in the browser after the switcher moved."""
    return {"collection": collection or None}
