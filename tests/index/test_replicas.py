"""App replicas on one Chroma server: two real `assistant serve --api` processes with their own
folders (sharing none) and one real `chroma run` answer alike, and a document uploaded through one
is answered by the other without a restart. The writer lease on the server keeps writers that
share no folder apart, and a writer killed with SIGKILL stops blocking others once its lease ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port, make_settings, stop_process, unique_collection
from servers import clean_env, launch

from assistant import Assistant
from assistant.config import PROJECT_ROOT
from assistant.errors import IndexBusyError
from assistant.index.check import check_index
from assistant.index.locking import is_locked, writer_lock

pytestmark = [pytest.mark.slow, pytest.mark.server]

DOCUMENTS = {
    "harbour.txt": """ date 2021-06-04 Tessby harbour reopens

The harbour of Tessby reopened on 3 June 2021 after its breakwater was rebuilt. The new breakwater is 640 metres long and was built by the contractor Nordmur.

Fishing boats returned the same week; the harbour master, Ylva Brink, expects cruise ships from next spring.
""",
    "orchard.txt": """ date 2020-10-12 The Ekelund orchard harvest

The Ekelund orchard grows forty-two varieties of apple on a south-facing slope above Lake Vessen. This autumn's harvest reached 38 tonnes, a record.

The orchard presses its own cider in a barn converted in 1994.
""",
}
QUESTIONS = ["How long is the new breakwater at Tessby?", "How many apple varieties does the Ekelund orchard grow?",
             "Who is the harbour master of Tessby?", "What is the capital of Mongolia?"]
FERRY = """The Tessby night ferry to Ormö leaves the north pier at 23:40 every day from May to September. The crossing takes two hours and ten minutes.
"""
FERRY_QUESTION = "When does the night ferry to Ormö leave?"


def _ask(url: str, question: str) -> dict:
    reply = httpx.post(f"{url}/v1/ask", json={"question": question}, timeout=300)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _essentials(answer: dict) -> tuple:
    return (answer["text"], answer["abstained"], [(c["source"], c["quote"]) for c in answer["citations"]])


def test_two_replicas_answer_alike_and_see_each_others_uploads(chroma_server: str, tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCUMENTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    collection = unique_collection("shared")
    indexer = make_settings(tmp_path / "indexer", corpus=corpus, store={"collection": collection, "chroma_url": chroma_server})
    Assistant(indexer, embedder=embedder).index()

    replicas = {}
    for name in ("a", "b"):
        port = free_port()
        env = clean_env(tmp_path / name, ASSISTANT_CHROMA_URL=chroma_server)
        replicas[name] = (launch(["serve", "--api", "--port", str(port), "--collection", collection], env,
                                 tmp_path / f"{name}.log"), f"http://127.0.0.1:{port}")
    try:
        for process, _ in replicas.values():
            process.wait_for("Assistant API ready on")
        url_a, url_b = replicas["a"][1], replicas["b"][1]
        for question in QUESTIONS:
            assert _essentials(_ask(url_a, question)) == _essentials(_ask(url_b, question)), question
        assert "640 metres" in _ask(url_b, QUESTIONS[0])["text"]
        assert _ask(url_a, QUESTIONS[-1])["abstained"]
        # The replicas derived their snapshots from the server: no manifest in either folder.
        for name in ("a", "b"):
            assert not list((tmp_path / name).rglob("manifest.json"))

        assert _ask(url_b, FERRY_QUESTION)["abstained"]
        uploaded = httpx.post(f"{url_a}/v1/documents", files=[("files", ("ferry.txt", FERRY.encode(), "text/plain"))],
                              timeout=600)
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["added"] == ["upload:ferry.txt"]
        answer = _ask(url_b, FERRY_QUESTION)  # the other replica, no restart
        assert not answer["abstained"] and "23:40" in answer["text"]
        assert answer["citations"][0]["source"] == "upload:ferry.txt"
        assert _essentials(answer) == _essentials(_ask(url_a, FERRY_QUESTION))
        snapshots = tmp_path / "b" / "collections" / collection / "snapshots"
        assert len(list(snapshots.iterdir())) <= 2  # the reading replica prunes what it derived before
    finally:
        for process, _ in replicas.values():
            process.stop()

    # An index run from a third folder keeps the upload it never saw as a file (the server holds it).
    report = Assistant(indexer, embedder=embedder).index()
    assert report.removed == [] and report.chunks_embedded == 0
    assert "upload:ferry.txt" in Assistant(indexer, embedder=embedder).view().manifest.documents
    # `index --check` from yet another folder derives the snapshot from the server and finds it in step.
    checker = indexer.with_(store={"path": tmp_path / "checker"})
    result = check_index(checker, Assistant(checker, embedder=embedder).store)
    assert result.ok, result.problems


def test_api_upload_refuses_bad_files_in_one_line(chroma_server: str, tmp_path: Path, embedder) -> None:
    """Checked like the page's uploads: type and emptiness, nothing indexed."""
    collection = unique_collection("shared")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "orchard.txt").write_text(DOCUMENTS["orchard.txt"], encoding="utf-8")
    Assistant(make_settings(tmp_path / "indexer", corpus=corpus, store={"collection": collection, "chroma_url": chroma_server}),
              embedder=embedder).index()
    port = free_port()
    server = launch(["serve", "--api", "--port", str(port), "--collection", collection],
                    clean_env(tmp_path / "a", ASSISTANT_CHROMA_URL=chroma_server), tmp_path / "a.log")
    try:
        server.wait_for("Assistant API ready on")
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/documents",
                           files=[("files", ("tool.exe", b"MZ", "application/octet-stream")), ("files", ("empty.txt", b"", "text/plain"))],
                           timeout=300)
        assert reply.status_code == 400
        message = reply.json()["error"]["message"]
        assert "\n" not in message and "tool.exe: .exe files are not supported" in message and "empty.txt: the file is empty" in message
    finally:
        server.stop()


_HOLD_LEASE = textwrap.dedent("""
    import sys, time
    from assistant.config import load_settings
    from assistant.index.locking import writer_lock
    settings = load_settings().with_(store={{"path": {path!r}, "collection": {collection!r}, "chroma_url": {url!r}, "lease_s": {lease}}})
    with writer_lock(settings):
        print("held", flush=True)
        time.sleep(600)
""")


def test_server_lease_excludes_other_writers_until_its_holder_is_killed(chroma_server: str, tmp_path: Path) -> None:
    lease_s = 3.0
    settings = make_settings(tmp_path / "mine", store={"chroma_url": chroma_server, "lease_s": lease_s})
    script = _HOLD_LEASE.format(path=str(tmp_path / "theirs"), collection=settings.store.collection, url=chroma_server,
                                lease=lease_s)
    holder = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexBusyError, match=rf"still being indexed by pid {holder.pid} on .* after 1 s"):
            with writer_lock(settings, timeout_s=1):
                pass
        time.sleep(lease_s * 1.5)  # past one lease: the holder's renewals keep it
        assert is_locked(settings)
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
        with writer_lock(settings, timeout_s=lease_s * 10):
            assert is_locked(settings)
        assert not is_locked(settings)  # released on exit
    finally:
        if holder.poll() is None:
            stop_process(holder)
