"""The free-space floor (store.min_free_mb) on a real, small tmpfs: an index run that would fill the
disk stops with one line, keeps its committed work, and the previous index keeps answering.

Without the floor, Chroma that hits ENOSPC mid-write leaves log entries it cannot apply, and the
*previous* index stops answering ('Failed to apply logs to the metadata segment') until space is
freed; that is the failure these tests guard against."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.config import PROJECT_ROOT, Settings
from assistant.errors import DiskSpaceError
from assistant.index.check import check_index
from assistant.index.disk_space import free_mb
from assistant.index.manifest import manifest_path, read_manifest
from tests.conftest import BUNDLED_CORPUS, make_settings

pytestmark = pytest.mark.slow

FS_MB = 32     # the bundled corpus's index takes about 1.2 MB of it, each batch of 4 chunks 0.1-0.5 MB
FLOOR_MB = 12  # store.min_free_mb while the disk is "full"; runs start 4 MB above or below it
_IN_NAMESPACE = "ASSISTANT_TEST_IN_USERNS"
ORIGINAL_QUESTION = "In which city in Poland did the Ukrainian delegation meet NATO representatives?"
ORIGINAL_SOURCE = "000_41cde8d9d66dd8ed.txt"


def _mount(folder: Path, size_mb: int) -> bool:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    return done.returncode == 0


def _unmount(folder: Path) -> None:
    # Chroma's cached client may still hold the database open: a lazy unmount detaches it anyway.
    subprocess.run(["umount", "--lazy", str(folder)], check=True)


@pytest.fixture
def small_fs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | None]:
    """A real FS_MB tmpfs at tmp_path/fs, always unmounted. A process that may not mount (not root)
    re-runs this test inside `unshare -rm` (its own user and mount namespace, where it may) and
    gets None: the test body then returns, its outcome being the re-run's."""
    folder = tmp_path / "fs"
    if _mount(folder, FS_MB):
        try:
            yield folder
        finally:
            _unmount(folder)
        return
    if os.environ.get(_IN_NAMESPACE):
        pytest.fail(f"cannot mount a tmpfs at {folder}, not even inside `unshare -rm`")
    rerun = subprocess.run(["unshare", "-rm", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            f"--basetemp={tmp_path / 'in-namespace'}", request.node.nodeid],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, env={**os.environ, _IN_NAMESPACE: "1"})
    if rerun.returncode != 0:
        pytest.fail(f"inside `unshare -rm` the test failed:\n{rerun.stdout[-4000:]}{rerun.stderr[-2000:]}")
    yield None


def _new_document(i: int) -> str:
    """A made-up report whose facts are in no bundled document; several chunks long."""
    lines = [f"Harbour bulletin {i}: the port of Kestrelmouth {i}."]
    for week in range(30):
        lines.append(f"In week {week + 1} the cranes of Kestrelmouth {i} moved {300 + 11 * i + week} containers of "
                     f"copper wire for shipping line {i}-{week}, and the pilots logged {week % 4} late arrivals.")
    lines.append(f"The harbour master of Kestrelmouth {i} is Oona Penhallow-{i}, appointed in the spring.")
    return "\n".join(lines) + "\n"


@dataclass
class Scene:
    """An index built on the small file system from a copy of the bundled corpus, then a few new
    documents added to the corpus so that the next run has to write."""
    fs: Path
    corpus: Path
    settings: Settings
    filler: Path

    def fill_to(self, free_target_mb: float) -> None:
        """Grow the filler until about `free_target_mb` are left (real blocks: fallocate)."""
        grow = free_mb(self.fs) - free_target_mb
        assert grow > 0, f"only {free_mb(self.fs):.1f} MB free, wanted {free_target_mb}"
        size = self.filler.stat().st_size if self.filler.exists() else 0
        with open(self.filler, "ab") as out:
            os.posix_fallocate(out.fileno(), size, int(grow * 1024 * 1024))

    def with_floor(self, floor_mb: float) -> Settings:
        return self.settings.with_(store={"min_free_mb": floor_mb})


@pytest.fixture
def scene(small_fs: Path | None, tmp_path: Path, embedder) -> Scene | None:
    if small_fs is None:
        return None
    corpus = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    settings = make_settings(small_fs / "index", corpus=corpus, store={"batch_chunks": 4, "min_free_mb": 1})
    first = Assistant(settings, embedder=embedder).index()
    assert first.documents == 5
    for i in range(3):
        (corpus / f"harbour_{i}.txt").write_text(_new_document(i))
    return Scene(fs=small_fs, corpus=corpus, settings=settings, filler=small_fs / "filler.bin")


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(settings.store.path),
           "ASSISTANT_STORE__BATCH_CHUNKS": str(settings.store.batch_chunks),
           "ASSISTANT_STORE__MIN_FREE_MB": f"{settings.store.min_free_mb:g}"}
    return subprocess.run([sys.executable, "-m", "assistant", *args, "--collection", settings.store.collection],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, env=env)


def assert_previous_index_answers(settings: Settings, embedder) -> None:
    answer = Assistant(settings, embedder=embedder, auto_index=False).ask(ORIGINAL_QUESTION)
    assert not answer.abstained and "Bydgoszcz" in answer.text
    assert answer.citations and answer.citations[0].source == ORIGINAL_SOURCE


def assert_one_line_error(err: DiskSpaceError | str, settings: Settings) -> None:
    message = str(err)
    assert "\n" not in message.strip()
    assert str(settings.store.path) in message and f"floor of {settings.store.min_free_mb:g} MB" in message
    assert "MB free" in message and "ASSISTANT_STORE__MIN_FREE_MB" in message


def assert_next_run_indexes_the_new_documents(scene: Scene, embedder, *, kept: int) -> None:
    scene.filler.unlink()
    done = cli(scene.with_floor(FLOOR_MB), "index", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "+3 new" in done.stdout and (f"kept {kept} chunks" in done.stdout if kept else "kept" not in done.stdout)
    answer = Assistant(scene.settings, embedder=embedder, auto_index=False).ask(
        "Who is the harbour master of Kestrelmouth 1?")
    assert "Penhallow-1" in answer.text and answer.citations[0].source == "harbour_1.txt"
    assert cli(scene.settings, "index", "--check").returncode == 0


def test_a_run_below_the_floor_changes_nothing(scene: Scene | None, embedder) -> None:
    if scene is None:
        return  # ran inside `unshare -rm` (see small_fs)
    published = manifest_path(scene.settings).read_bytes()
    snapshots = sorted(p.name for p in (manifest_path(scene.settings).parent / "snapshots").iterdir())
    scene.fill_to(FLOOR_MB - 4)
    low = scene.with_floor(FLOOR_MB)

    with pytest.raises(DiskSpaceError, match="stopped before writing anything") as raised:
        Assistant(low, embedder=embedder).index()
    assert_one_line_error(raised.value, low)
    run = cli(low, "index", "--quiet")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: the index run stopped before writing")

    assert manifest_path(scene.settings).read_bytes() == published  # no run recorded, nothing written
    assert sorted(p.name for p in (manifest_path(scene.settings).parent / "snapshots").iterdir()) == snapshots
    assert_previous_index_answers(low, embedder)
    assert check_index(low, Assistant(low, embedder=embedder).store).ok
    assert cli(low, "index", "--check").returncode == 0
    assert_next_run_indexes_the_new_documents(scene, embedder, kept=0)


@pytest.mark.parametrize(("crossed_at", "stopped"), [
    ("committed batch 2/", "stopped after committing 8 of"),
    ("publishing a snapshot", "stopped before writing a new snapshot"),
])
def test_a_run_crossing_the_floor_keeps_its_committed_batches(scene: Scene | None, embedder, crossed_at: str,
                                                              stopped: str) -> None:
    if scene is None:
        return  # ran inside `unshare -rm` (see small_fs)
    before = read_manifest(scene.settings)
    scene.fill_to(FLOOR_MB + 4)
    low = scene.with_floor(FLOOR_MB)
    engine = Assistant(low, embedder=embedder)

    def grow_filler(message: str) -> None:  # another writer fills the disk while the run goes on
        if message.startswith(crossed_at):
            scene.fill_to(FLOOR_MB - 4)

    with pytest.raises(DiskSpaceError, match=stopped) as raised:
        engine.index(progress=grow_filler)
    assert_one_line_error(raised.value, low)
    after = read_manifest(scene.settings)
    assert after.snapshot == before.snapshot and after.documents == before.documents  # still the previous index
    committed = engine.store.open(after.physical, create=False).count() - before.chunks
    # Two batches of 4 were committed, or (stopped before the snapshot) every new chunk.
    assert committed == 8 if crossed_at.startswith("committed") else committed > 8
    assert_previous_index_answers(low, embedder)

    # The stopped run is recorded (so the next one keeps its batches); --check says so and nothing else.
    result = check_index(low, engine.store)
    assert [p for p in result.problems if "interrupted" not in p] == []
    assert result.counts["manifest_chunks"] == result.counts["snapshot_chunks"] == before.chunks
    assert result.counts["chroma"] == before.chunks + committed
    assert_next_run_indexes_the_new_documents(scene, embedder, kept=committed)


@pytest.mark.server
def test_with_a_chroma_server_the_local_folder_is_checked_too(small_fs: Path | None, chroma_server: str,
                                                              tmp_path: Path, embedder) -> None:
    """The server holds the vectors; the local folder still holds manifests and snapshots."""
    if small_fs is None:
        return  # ran inside `unshare -rm` (see small_fs)
    corpus = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    settings = make_settings(small_fs / "index", corpus=corpus, store={"chroma_url": chroma_server, "min_free_mb": 1})
    Assistant(settings, embedder=embedder).index()
    (corpus / "harbour_0.txt").write_text(_new_document(0))
    scene = Scene(fs=small_fs, corpus=corpus, settings=settings, filler=small_fs / "filler.bin")
    scene.fill_to(FLOOR_MB - 4)
    low = scene.with_floor(FLOOR_MB)
    published = read_manifest(settings)  # kept on the server
    snapshots = sorted(p.name for p in (manifest_path(settings).parent / "snapshots").iterdir())
    with pytest.raises(DiskSpaceError, match="stopped before writing anything") as raised:
        Assistant(low, embedder=embedder).index()
    assert_one_line_error(raised.value, low)
    assert read_manifest(settings) == published  # no run recorded
    assert sorted(p.name for p in (manifest_path(settings).parent / "snapshots").iterdir()) == snapshots
    assert_previous_index_answers(low, embedder)
