"""The uploads' mirror seam (`assistant.ingest.uploads.UploadMirror`): one contract every mirror runs,
and what the ingest stage does with a mirror (store, remove and follow it) without any store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings

from assistant.config import Settings
from assistant.index.registry import ServerUploads, upload_mirror
from assistant.ingest.uploads import (
    UploadMirror,
    load_stored_uploads,
    publish_staged,
    quarantine_reasons,
    quarantine_upload,
    remove_upload,
    stage_upload,
    upload_dir,
)


class MemoryMirror:
    """An UploadMirror in a dict: the contract's reference, and the ingest tests' stand-in for a server."""

    def __init__(self) -> None:
        self.held: dict[str, bytes] = {}

    def put(self, name: str, data: bytes) -> None:
        self.held[name] = data

    def delete(self, name: str) -> None:
        self.held.pop(name, None)

    def files(self) -> list[tuple[str, bytes]]:
        return sorted(self.held.items())


@pytest.fixture(params=["memory", pytest.param("server", marks=[pytest.mark.slow, pytest.mark.server])])
def mirror(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UploadMirror]:
    if request.param == "memory":
        yield MemoryMirror()
        return
    url = request.getfixturevalue("chroma_server")
    server = upload_mirror(make_settings(tmp_path / "index", store={"chroma_url": url}).store)
    assert isinstance(server, ServerUploads)
    yield server


def test_a_mirror_keeps_bytes_by_name_replaces_and_deletes(mirror: UploadMirror) -> None:
    assert mirror.files() == []
    mirror.put("a.md", b"first")
    mirror.put("b.bin", bytes(range(256)))  # any bytes, not only text
    mirror.put("a.md", b"second")
    assert sorted(mirror.files()) == [("a.md", b"second"), ("b.bin", bytes(range(256)))]
    mirror.delete("a.md")
    mirror.delete("never-there.md")  # deleting what is not there is no error
    assert mirror.files() == [("b.bin", bytes(range(256)))]


def test_without_a_server_there_is_no_mirror(tmp_path: Path) -> None:
    assert upload_mirror(make_settings(tmp_path / "index").store) is None


def _stored(settings: Settings, name: str, text: str, mirror: UploadMirror | None, tmp_path: Path) -> Path:
    source = tmp_path / "incoming" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(text, encoding="utf-8")
    return publish_staged(settings, stage_upload(settings, source, name), mirror=mirror)


def test_publish_and_remove_keep_the_mirror_in_step(tmp_path: Path) -> None:
    settings, mirror = make_settings(tmp_path / "index"), MemoryMirror()
    stored = _stored(settings, "note.md", "# Note\n\nThe kiln fires at 1280 degrees.\n", mirror, tmp_path)
    assert mirror.held == {"note.md": stored.read_bytes()}
    remove_upload(settings, "note.md", mirror=mirror)
    assert mirror.held == {} and not stored.exists()


def test_loading_follows_the_mirror_and_skips_quarantined_uploads(tmp_path: Path) -> None:
    settings, mirror = make_settings(tmp_path / "index"), MemoryMirror()
    mirror.put("kiln.md", b"# Kiln\n\nThe Brattvik kiln was built in 1911.\n")
    mirror.put("broken.md", b"# Broken\n\nSet aside here.\n")
    upload_dir(settings).mkdir(parents=True)
    (upload_dir(settings) / "broken.md").write_bytes(b"# Broken\n\nSet aside here.\n")
    quarantine_upload(settings, "broken.md", "could not be loaded")
    report = load_stored_uploads(settings, mirror=mirror)
    assert [d.source for d in report.documents] == ["upload:kiln.md"]
    assert (upload_dir(settings) / "kiln.md").read_bytes() == mirror.held["kiln.md"]  # copied from the mirror
    assert not (upload_dir(settings) / "broken.md").exists() and set(quarantine_reasons(settings)) == {"broken.md"}
    assert any(source == "upload:broken.md" for source, _ in report.skipped)
