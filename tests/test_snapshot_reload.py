"""Readers never queue behind a reload: while one thread loads a newer snapshot (the collection's
threshold probe makes that take seconds), other questions answer from the snapshot already loaded."""

from __future__ import annotations

import threading
from pathlib import Path

from assistant.snapshots import LoadedSnapshot, SnapshotSource


def test_questions_answer_from_the_loaded_snapshot_while_a_newer_one_loads(engine_factory, corpus_copy: Path,
                                                                          tmp_path: Path) -> None:
    engine = engine_factory(corpus=corpus_copy)
    engine.index()
    release, loading = threading.Event(), threading.Event()
    assembled: list[LoadedSnapshot] = []

    def assemble(view, stamp) -> LoadedSnapshot:
        if assembled:  # every load after the first is slow until released
            loading.set()
            assert release.wait(30)
        snapshot = LoadedSnapshot(view, retriever=None, answerer=None, stamp=stamp)  # type: ignore[arg-type]
        assembled.append(snapshot)
        return snapshot

    source = SnapshotSource(engine.settings, lambda: engine.store, assemble, lambda: None)
    first = source.current()
    note = tmp_path / "harbour-note.md"
    note.write_text("# Harbour note\n\nThe ferry to the lighthouse leaves every morning at seven.\n", encoding="utf-8")
    engine.add_files([note])  # publishes a newer snapshot: the next question reloads

    reloaded: list[LoadedSnapshot] = []
    loader = threading.Thread(target=lambda: reloaded.append(source.current()))
    loader.start()
    assert loading.wait(30)
    during = source.current()  # would block on the reload lock before
    assert during.view is first.view and len(assembled) == 1
    release.set()
    loader.join(30)
    assert not loader.is_alive()
    assert reloaded and reloaded[0] is assembled[-1] and len(assembled) == 2
    assert source.current() is reloaded[0]
