"""Building citations: resolve a cited span to its passage, with exact offsets for highlighting."""

from __future__ import annotations

from assistant.types import Citation, Passage


def make_citation(n: int, passage: Passage, quote: str, *, support: float | None = None) -> Citation:
    """A citation whose `quote` is located verbatim in the passage when possible."""
    start = passage.text.find(quote) if quote else -1
    end = start + len(quote) if start >= 0 else -1
    return Citation(n=n, source=passage.source, title=passage.title, date=passage.date, quote=quote,
                    passage=passage.text, chunk_id=passage.chunk_id, start=start, end=end, support=support)


class CitationNumbering:
    """Numbers passages [1], [2], ... in order of first citation."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def number(self, passage: Passage) -> int:
        return self._numbers.setdefault(passage.chunk_id, len(self._numbers) + 1)
