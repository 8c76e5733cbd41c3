"""How the command line prints an Answer: what the page shows, as terminal text.

The short answer and the headings are bold through rich on a terminal; when stdout is not a terminal
(a pipe, a file, a test's buffer) the same lines come out as plain text, with no ANSI codes and no
markdown markers, so scripts read words, not styling. Every text that comes from documents, file names
or questions goes through `terminal_safe` first: a document cannot drive the terminal."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from rich.console import Console
from rich.text import Text

from assistant.types import Answer

ABSTAIN_HEAD = "Not found in the documents"
ABSTAIN_HINT = "Try rephrasing, widening the filters, or adding a document that covers it (assistant add FILE...)."
CLARIFY_HEAD = "Which one do you mean?"

# C0 controls but tab and newline, DEL and the C1 controls (0x9b is a one-byte CSI on some terminals).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """`text` with its control characters shown as `\\xNN`: an escape sequence in a document, a file name
    or a question cannot clear the screen, retitle the window or rewrite what was printed."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def answer_console(out: TextIO) -> Console:
    """A console that styles only a real terminal. Decided by `out.isatty()` alone (not FORCE_COLOR or
    Jupyter detection), so piped output is always plain; markup, emoji codes and highlighting are off
    because answer text is the documents' text, not rich markup ("[1]" is a citation), and soft wrap
    leaves line breaking to the terminal (and keeps piped lines whole)."""
    return Console(file=out, force_terminal=out.isatty(), force_jupyter=False, markup=False, emoji=False,
                   highlight=False, soft_wrap=True)


def print_answer(answer: Answer, out: TextIO | None = None) -> None:
    """Print one answer: its head (short answer, abstention or clarification), text, notes, confidence
    and sources. `out` defaults to sys.stdout as it is at call time (tests capture it)."""
    console = answer_console(out if out is not None else sys.stdout)
    if answer.kind == "clarification":  # a question back: say so plainly, the candidates follow as sources
        console.print(Text(CLARIFY_HEAD, style="bold"))
    elif answer.abstained:  # as the page: a heading, the answerer's words, what to try next
        console.print(Text(ABSTAIN_HEAD, style="bold"))
    elif answer.short_answer:
        console.print(Text(terminal_safe(answer.short_answer), style="bold"))  # the phrase first, the quoted evidence under it
    console.print(Text(terminal_safe(answer.text)))
    if answer.abstained:
        console.print(Text(ABSTAIN_HINT, style="dim"))
    for note in answer.notes:  # caveats: "Unsure: ...", sources that differ, a failed model and its fallback
        console.print(Text(terminal_safe(f"Note: {note}"), style="yellow" if note.startswith("Unsure") else ""))
    if answer.confidence is not None:  # the calibrated probability the JSON output and the API carry
        console.print(Text(f"Confidence: {answer.confidence:.0%}", style="dim"))
    if answer.citations:
        console.print()
        console.print(Text("Sources:", style="bold"))
        for c in answer.citations:
            date = f", {c.date}" if c.date else ""
            console.print(Text(terminal_safe(f"  [{c.n}] {c.title} ({c.source}{date})\n      \u201c{c.quote}\u201d")))
    for sentence in answer.unsupported:
        console.print(Text(terminal_safe(f"  (unsupported by the sources: {sentence})"), style="yellow"))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], out: TextIO | None = None) -> None:
    """Plain columns, left-aligned, two spaces apart (scripts should use --json; this is for people)."""
    cells = [[str(h) for h in headers]] + [["" if v is None else terminal_safe(str(v)) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip(), file=out or sys.stdout)


def shorten(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"
