"""Term counts stored in a snapshot: counted once, updated by the changed chunks alone, and equal
to a fresh count after an incremental re-index."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.index.term_counts import TERM_COUNTS_FILE, TermCounts
from assistant.types import Chunk


def _chunk(cid: str, text: str) -> Chunk:
    return Chunk(chunk_id=cid, source=cid.split("#")[0], title="", date=None, index=0, text=text)


def test_counts_are_chunks_per_term_and_update_exactly(tmp_path: Path) -> None:
    kiln = _chunk("a#1", "The kiln fires pots. The kiln is hot.")
    glaze = _chunk("b#1", "Blue glaze on pots.")
    counts = TermCounts.of([kiln, glaze])
    assert counts.chunks == 2 and counts.frequency["kiln"] == 1 and counts.frequency["pot"] == 2  # once per chunk
    edited = _chunk("b#2", "Green glaze on bowls.")
    updated = counts.updated(removed=[glaze], added=[edited])
    assert updated == TermCounts.of([kiln, edited])
    assert "blue" not in updated.frequency  # a term no chunk holds any more is gone
    updated.save(tmp_path)
    assert TermCounts.load(tmp_path) == updated
    assert TermCounts.load(tmp_path / "elsewhere") is None


def test_a_damaged_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / TERM_COUNTS_FILE).write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a term count table"):
        TermCounts.load(tmp_path)


@pytest.mark.slow
def test_incremental_reindex_keeps_the_counts_equal_to_a_fresh_count(corpus_copy: Path, engine_factory) -> None:
    engine = engine_factory(corpus=corpus_copy)
    engine.index()
    target = sorted(corpus_copy.glob("*.txt"))[0]
    target.write_text(target.read_text() + "\n\nA ferry to the islands runs twice a week.\n")
    engine.index()
    view = engine.view()
    assert view.term_counts == TermCounts.of(view.chunks.values())
    assert view.term_counts.frequency["ferri"] >= 1
