"""Index durability with real indexing subprocesses killed by SIGKILL, real Chroma and real MiniLM:
nothing committed is lost or re-embedded, readers never break, one writer at a time, names checked
before anything is touched."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.config import PROJECT_ROOT, Settings
from assistant.errors import IndexMissingError
from assistant.index.manifest import read_manifest
from tests.conftest import make_settings, unique_collection

pytestmark = pytest.mark.slow

_PLACES = ["Lindholm", "Varkaus", "Ostrava", "Tarvisio", "Keswick", "Bregenz", "Ushuaia", "Tromso", "Galway", "Nakuru",
           "Pecs", "Salto"]
_REGIONS = ["upper", "lower"]
_GOODS = ["copper wire", "oat flour", "wind turbine blades", "ceramic tiles", "bicycle frames", "linen", "salt", "cork"]
_FIRST = ["Ilse", "Tomasz", "Amara", "Joaquin", "Freya", "Kenji", "Oona", "Bartosz", "Leila", "Anders", "Priya", "Matteo"]
_SURNAMES = {"first": ["Marwick", "Quell", "Oduya", "Brannock", "Tesseract", "Vilhelm", "Carrow", "Dunmore", "Okafor",
                       "Pellam", "Strand", "Yarrow"],
             "second": ["Halloran", "Ingersoll", "Kestrel", "Lowther", "Mossley", "Nettleford", "Ormsby", "Penhallow",
                        "Rimmington", "Sowerby", "Thackeray", "Urquhart"],
             "third": ["Abernethy"] * 12}


def place(i: int) -> str:
    return f"{_REGIONS[i // len(_PLACES) % 2]} {_PLACES[i % len(_PLACES)]}"


def manager(i: int, edition: str = "first") -> str:
    return f"{_FIRST[i % 12]} {_SURNAMES[edition][(5 * i + i // 12) % 12]}"


def ask_manager(i: int) -> str:
    return f"Who manages the depot in {place(i)}?"


def _document(i: int, edition: str = "first") -> str:
    """A deterministic made-up trade report: several sentences, distinctive facts per document."""
    goods = _GOODS[i % len(_GOODS)]
    lines = [f"Trade bulletin {i} ({edition} edition): the depot in {place(i)}."]
    for k in range(14):
        lines.append(f"In week {k + 1} the depot in {place(i)} shipped {100 + 7 * i + k} crates of {goods} "
                     f"to customers along route {i}-{k}, and the inspectors logged {k + i % 5} minor delays.")
    lines.append(f"The depot in {place(i)} is managed by {manager(i, edition)}, who was appointed this spring.")
    return "\n".join(lines) + "\n"


def write_corpus(folder: Path, count: int, edition: str = "first") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"bulletin_{i:03d}.txt").write_text(_document(i, edition))
    return folder


@dataclass
class CliRun:
    code: int | None
    stdout: str
    stderr: str
    killed: bool

    def summary(self) -> dict[str, int]:
        """Figures from the `index` summary line."""
        line = self.stdout.strip().splitlines()[-1]
        found = re.search(r"(\d+) chunks \(.*embedded (\d+) chunks, (\d+) sentences\)", line)
        assert found, line
        kept = re.search(r"kept (\d+) chunks from the interrupted run", line)
        return {"chunks": int(found.group(1)), "embedded": int(found.group(2)), "sentences": int(found.group(3)),
                "kept": int(kept.group(1)) if kept else 0}


def cli(store: Path, *args: str, kill_on: str | None = None, timeout: float = 600, extra_env: dict | None = None,
        on_line: Callable[[str, int], None] | None = None) -> CliRun:
    """Run `python -m assistant ARGS`; with `kill_on`, SIGKILL it as soon as stderr shows that text;
    `on_line` sees each stderr line with the process group id (to pause or resume the run)."""
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(store), "ASSISTANT_STORE__BATCH_CHUNKS": "4", **(extra_env or {})}
    process = subprocess.Popen([sys.executable, "-m", "assistant", *args], cwd=PROJECT_ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    err_lines: list[str] = []
    killed = False
    assert process.stderr is not None and process.stdout is not None
    deadline = time.monotonic() + timeout
    for line in process.stderr:
        err_lines.append(line)
        if on_line is not None:
            on_line(line, process.pid)
        if kill_on and kill_on in line:
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
            break
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"assistant {' '.join(args)} ran past {timeout} s")
    out = process.stdout.read()
    err_lines.append(process.stderr.read())
    process.wait(timeout=60)
    if kill_on and not killed:
        pytest.fail(f"the run ended before printing {kill_on!r}:\n{''.join(err_lines)[-2000:]}")
    return CliRun(process.returncode, out, "".join(err_lines), killed)


def check(store: Path, collection: str) -> dict:
    run = cli(store, "index", "--check", "--json", "--collection", collection)
    return json.loads(run.stdout)


def indexed(tmp_path: Path, store: Path, embedder, prefix: str, count: int = 12) -> tuple[Path, str, Settings, Assistant]:
    """A made-up corpus indexed in-process into its own collection: (corpus, name, settings, engine)."""
    corpus = write_corpus(tmp_path / "bulletins", count)
    name = unique_collection(prefix)
    settings = make_settings(store, corpus=corpus, store={"collection": name})
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    return corpus, name, settings, engine


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "index"


def test_kill_during_first_build_resumes_without_re_embedding(tmp_path: Path, store: Path) -> None:
    corpus = write_corpus(tmp_path / "bulletins", 24)
    name = unique_collection("first")
    killed = cli(store, "index", "--corpus", str(corpus), "--collection", name, kill_on="committed batch 4/")
    assert killed.killed
    info = json.loads(cli(store, "info", "--json", "--collection", name).stdout)
    assert info["status"].startswith("interrupted") and f"assistant index --collection {name}" in info["status"]
    assert not check(store, name)["ok"]

    resumed = cli(store, "index", "--collection", name)  # no --corpus: the recorded one
    figures = resumed.summary()
    assert resumed.code == 0 and figures["kept"] >= 16  # four committed batches of four chunks survive the kill
    assert figures["embedded"] + figures["kept"] == figures["chunks"]  # nothing committed was embedded again
    assert check(store, name)["ok"]
    answer = cli(store, "ask", "--json", "--collection", name, ask_manager(7))
    assert manager(7, "first").split()[1] in json.loads(answer.stdout)["text"]


def test_ask_finishes_an_interrupted_first_build_from_the_recorded_corpus(tmp_path: Path, store: Path) -> None:
    corpus = write_corpus(tmp_path / "bulletins", 16)
    name = unique_collection("askfin")
    assert cli(store, "index", "--corpus", str(corpus), "--collection", name, kill_on="committed batch 2/").killed
    answer = cli(store, "ask", "--json", "--collection", name, ask_manager(3))
    assert answer.code == 0, answer.stderr
    parsed = json.loads(answer.stdout)
    assert manager(3, "first").split()[1] in parsed["text"] and all(c["source"].startswith("bulletin_") for c in parsed["citations"])
    manifest = json.loads((store / "collections" / name / "manifest.json").read_text())
    assert Path(manifest["corpus"]) == corpus.resolve() and len(manifest["documents"]) == 16  # never the bundled corpus


@pytest.mark.parametrize("kill_on", ["committed batch 2/", "publishing a snapshot", "removing"])
def test_kill_during_an_update_leaves_old_or_new_editions(tmp_path: Path, store: Path, embedder, kill_on: str) -> None:
    corpus, name, settings, _ = indexed(tmp_path, store, embedder, "update")
    write_corpus(corpus, 6, edition="second")           # six documents change
    (corpus / "bulletin_011.txt").unlink()              # one is deleted
    cli(store, "index", "--collection", name, kill_on=kill_on)

    reader = Assistant(settings, embedder=embedder, auto_index=False)
    said = reader.ask(ask_manager(2)).text
    assert (manager(2, "first").split()[1] in said) != (manager(2, "second").split()[1] in said)  # one edition, never both
    stored = reader.stored_collection()
    view = reader.view()
    assert set(view.chunks) <= stored.ids()                              # everything answered from is in Chroma
    assert len({c.source for c in view.chunks.values()}) in (11, 12)

    resumed = cli(store, "index", "--collection", name).summary()
    assert resumed["embedded"] <= 6 * 4  # at most the changed documents' chunks, never the whole corpus
    assert check(store, name)["ok"]
    fresh = Assistant(settings, embedder=embedder, auto_index=False)
    assert manager(2, "second").split()[1] in fresh.ask(ask_manager(2)).text
    assert fresh.stored_collection().count() == read_manifest(settings).chunks
    assert not any(c.source == "bulletin_011.txt" for c in fresh.view().chunks.values())


def test_kill_during_rebuild_keeps_the_old_index_answering(tmp_path: Path, store: Path, embedder) -> None:
    corpus, name, settings, engine = indexed(tmp_path, store, embedder, "rebuild")
    before = read_manifest(settings)
    assert cli(store, "index", "--rebuild", "--collection", name, kill_on="committed batch 3/").killed

    assert manager(5, "first").split()[1] in Assistant(settings, embedder=embedder).ask(ask_manager(5)).text
    assert read_manifest(settings).physical == before.physical and read_manifest(settings).run.kind == "rebuild"
    finished = cli(store, "index", "--collection", name)  # a plain index finishes the interrupted rebuild
    figures = finished.summary()
    assert figures["kept"] >= 12 and figures["embedded"] + figures["kept"] == figures["chunks"]
    after = read_manifest(settings)
    assert after.physical != before.physical and after.run is None
    assert [n for n, _ in engine.store.physical_collections()] == [after.physical]  # the replaced one was dropped
    assert check(store, name)["ok"]


def test_two_writers_take_turns_and_the_index_stays_consistent(tmp_path: Path, store: Path) -> None:
    first = write_corpus(tmp_path / "first", 16)
    second = write_corpus(tmp_path / "second", 5, edition="second")
    name = unique_collection("writers")
    env = {"ASSISTANT_STORE__BATCH_CHUNKS": "8"}
    results: dict[str, CliRun] = {}
    paused_group: list[int] = []
    first_paused, second_waits = threading.Event(), threading.Event()

    def pause_after_first_commit(line: str, group: int) -> None:
        # SIGSTOP keeps the flock held, so the second writer meets a writer mid-run however fast this machine is
        if "committed batch 1/" in line and not first_paused.is_set():
            os.killpg(group, signal.SIGSTOP)
            paused_group.append(group)
            first_paused.set()

    def note_waiting(line: str, group: int) -> None:
        if "waiting" in line:
            second_waits.set()

    def run(label: str, corpus: Path, on_line: Callable[[str, int], None]) -> None:
        results[label] = cli(store, "index", "--corpus", str(corpus), "--collection", name, extra_env=env,
                             on_line=on_line)

    one = threading.Thread(target=run, args=("first", first, pause_after_first_commit))
    one.start()
    assert first_paused.wait(timeout=300), "the first writer never committed a batch"
    two = threading.Thread(target=run, args=("second", second, note_waiting))
    two.start()
    try:
        assert second_waits.wait(timeout=300), "the second writer never said it was waiting"
    finally:
        os.killpg(paused_group[0], signal.SIGCONT)
    one.join()
    two.join()
    assert results["first"].code == 0
    assert "being indexed by pid" in results["second"].stderr and "waiting" in results["second"].stderr
    assert results["second"].code == 2  # another corpus than the recorded one: refused, not merged
    assert "--rebuild" in results["second"].stderr and len(results["second"].stderr.strip().splitlines()) == 2
    report = check(store, name)
    assert report["ok"] and report["counts"]["chroma"] == report["counts"]["manifest_chunks"]

    (first / "bulletin_000.txt").write_text(_document(0, "third"))
    cli(store, "index", "--collection", name)
    settings = make_settings(store, corpus=first, store={"collection": name})
    view = Assistant(settings, auto_index=False).view()
    texts = [c.text for c in view.chunks.values() if c.source == "bulletin_000.txt"]
    assert texts and all("first edition" not in t and manager(0) not in t for t in texts)  # only the new edition is kept


def test_readers_keep_answering_while_another_process_indexes(tmp_path: Path, store: Path, embedder) -> None:
    corpus, name, settings, reader = indexed(tmp_path, store, embedder, "readers", count=40)
    failures: list[str] = []
    answers = 0
    stop = threading.Event()

    def ask_in_a_loop() -> None:
        nonlocal answers
        while not stop.is_set():
            try:
                reader.ask(ask_manager(4))
                answers += 1
            except Exception as exc:  # noqa: BLE001  (any failure is what this test looks for)
                failures.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=ask_in_a_loop)
    thread.start()
    try:
        write_corpus(corpus, 40, edition="second")
        assert cli(store, "index", "--collection", name).code == 0
        rebuild = subprocess.Popen([sys.executable, "-m", "assistant", "index", "--rebuild", "--quiet", "--collection", name],
                                   cwd=PROJECT_ROOT, env={**os.environ, "ASSISTANT_INDEX_DIR": str(store),
                                                          "ASSISTANT_STORE__BATCH_CHUNKS": "1"},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        second_process = cli(store, "ask", "--json", "--collection", name, ask_manager(9))  # while the rebuild runs
        rebuild_still_running = rebuild.poll() is None
        assert rebuild.wait(timeout=600) == 0
    finally:
        stop.set()
        thread.join()
    assert second_process.code == 0 and manager(9, "second").split()[1] in json.loads(second_process.stdout)["text"]
    assert rebuild_still_running  # the second process really asked while the rebuild was writing
    assert not failures and answers > 5
    assert manager(4, "second").split()[1] in reader.ask(ask_manager(4)).text  # switched to the new snapshot


def test_bad_collection_names_touch_nothing(tmp_path: Path, store: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    store.mkdir()
    for name in ["../victim", str(victim), "../../" + victim.name, "a/b", "x"]:
        run = cli(store, "index", "--collection", name, "--rebuild")
        assert run.code == 2 and run.stderr.startswith("error: invalid setting store.collection")
        assert len(run.stderr.strip().splitlines()) == 1
    run = cli(store, "index", "--rebuild", extra_env={"ASSISTANT_COLLECTION": str(victim)})
    assert run.code == 2 and "path separator" in run.stderr
    assert (victim / "keep.txt").read_text() == "precious"
    assert list(store.iterdir()) == []


def test_ask_for_a_collection_never_built_names_the_index_command(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "index", store={"collection": "does-not-exist"})
    with pytest.raises(IndexMissingError, match="assistant index --corpus PATH --collection does-not-exist"):
        Assistant(settings, embedder=embedder, auto_index=False).ask("Anything at all?")
    assert read_manifest(settings) is None  # nothing was built from the default corpus


def test_uploads_survive_rebuild_and_are_private(tmp_path: Path, embedder) -> None:
    corpus = write_corpus(tmp_path / "bulletins", 3)
    settings = make_settings(tmp_path / "index", corpus=corpus)
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    note = tmp_path / "lighthouse.md"
    note.write_text("# Lighthouse log\n\nThe lighthouse keeper on Skerry Nine is Odalys Brennick.\n")
    assert engine.add_files([note]).added == ["upload:lighthouse.md"]
    stored = settings.store.path / "uploads" / settings.store.collection / "lighthouse.md"
    assert stored.stat().st_mode & 0o777 == 0o600
    rebuilt = engine.index(rebuild=True)
    assert rebuilt.documents == 4
    assert "Odalys Brennick" in engine.ask("Who keeps the lighthouse on Skerry Nine?").text
    assert engine.index().removed == []  # a corpus re-index keeps the upload too


def test_corpus_folder_named_uploads_is_an_ordinary_folder(tmp_path: Path, embedder) -> None:
    corpus = write_corpus(tmp_path / "bulletins", 2)
    (corpus / "uploads").mkdir()
    (corpus / "uploads" / "memo.txt").write_text("The orchard memo says the pear harvest starts on 12 September.\n")
    engine = Assistant(make_settings(tmp_path / "index", corpus=corpus), embedder=embedder)
    assert "uploads/memo.txt" in engine.index().added
    (corpus / "uploads" / "memo.txt").unlink()
    assert engine.index().removed == ["uploads/memo.txt"]
    assert all(c.source != "uploads/memo.txt" for c in engine.view().chunks.values())


def test_questions_are_answered_while_an_upload_is_indexed(tmp_path: Path, embedder) -> None:
    from assistant.engine_pool import EnginePool

    corpus = write_corpus(tmp_path / "bulletins", 3)
    engine = Assistant(make_settings(tmp_path / "index", corpus=corpus), embedder=embedder)
    engine.index()
    big = tmp_path / "almanac.txt"
    big.write_text("\n".join(f"Almanac entry {i}: the tide at harbour {i} peaked at {i % 9} metres." for i in range(3000)))
    job = EnginePool(engine).add_files_in_background([(big, "almanac.txt")])
    answer = engine.ask(ask_manager(1))
    still_indexing = not job.wait(0)
    assert manager(1, "first").split()[1] in answer.text and still_indexing  # the question did not wait for the upload
    assert job.result().added == ["upload:almanac.txt"]
    assert "metres" in engine.ask("What did the tide at harbour 17 peak at?").text


def test_repair_rederives_sidecars_from_chroma_without_embedding(tmp_path: Path, store: Path, embedder) -> None:
    _, name, settings, _ = indexed(tmp_path, store, embedder, "repair", count=6)
    shutil.rmtree(store / "collections" / name / "snapshots")
    assert not check(store, name)["ok"]
    repaired = cli(store, "index", "--repair", "--json", "--collection", name)
    assert repaired.code == 0 and json.loads(repaired.stdout)["ok"] and "nothing embedded" in repaired.stderr
    assert manager(3, "first").split()[1] in Assistant(settings, embedder=embedder).ask(ask_manager(3)).text
    (store / "collections" / name / "manifest.json").write_text("{ torn")
    assert cli(store, "index", "--repair", "--collection", name).code == 0
    assert check(store, name)["ok"]


def test_a_file_that_fails_to_split_is_skipped_and_keeps_its_indexed_edition(tmp_path: Path, embedder,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text("The ferry to Skerry Nine leaves at noon.\n")
    (corpus / "long.txt").write_text(" ".join(["The lock keeper opens the gates at dawn."] * 60) + "\n")
    engine = Assistant(make_settings(tmp_path / "index", corpus=corpus), embedder=embedder)
    engine.index()
    import nltk.redos
    from llama_index.core.utils import globals_helper

    assert globals_helper.punkt_tokenizer is not None  # loaded already: the limit hits splitting only
    monkeypatch.setattr(nltk.redos, "DEFAULT_TIMEOUT", 1e-9)  # punkt now gives up on anything longer than a chunk
    (corpus / "long.txt").write_text(" ".join(["The lock keeper opens the gates at sunrise."] * 60) + "\n")
    (corpus / "tram.txt").write_text("The harbour tram runs every twelve minutes.\n")
    report = engine.index()
    assert report.added == ["tram.txt"] and report.changed == []
    assert [source for source, _ in report.skipped] == ["long.txt"] and "TimeoutError" in report.skipped[0][1]
    sources = {c.source for c in engine.view().chunks.values()}
    assert sources == {"ferry.txt", "long.txt", "tram.txt"}  # the old edition of long.txt is still searchable
    assert any("dawn" in c.text for c in engine.view().chunks.values() if c.source == "long.txt")


def test_lost_manifest_never_lets_a_build_drop_the_chroma_data(tmp_path: Path, store: Path, embedder) -> None:
    from assistant.errors import IndexCorruptError

    corpus, name, settings, engine = indexed(tmp_path, store, embedder, "orphan", count=3)
    (store / "collections" / name / "manifest.json").unlink()
    other = write_corpus(tmp_path / "other", 1, edition="second")
    with pytest.raises(IndexCorruptError, match=f"manifest is missing.*assistant index --repair --collection {name}"):
        engine.index(other)
    assert "--repair" in engine.info()["status"]
    (store / "collections" / name / "manifest.json").write_text("[]")  # valid JSON, wrong shape: damaged, not "older"
    assert cli(store, "index", "--repair", "--collection", name).code == 0
    assert manager(2, "first").split()[1] in Assistant(settings, embedder=embedder).ask(ask_manager(2)).text
