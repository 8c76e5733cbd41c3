"""Hostile requests and document management through a real `assistant serve --api` process: poisoned
uploads are refused before they are stored, names and bodies are bounded, and uploaded documents can
be listed, downloaded and deleted (also into a collection other than the served one)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import unique_collection
from served_api import Served, serve_collections, v1_client
from servers import clean_env
from test_ingest_hostile import MB, bomb_docx
from test_upload_hardening import FERRY, KILN, POISONED_TO_HEADERS, poisoned_eml

from assistant.config import PROJECT_ROOT

pytestmark = [pytest.mark.server, pytest.mark.slow]

REQUEST_LIMIT_MB = 2


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Served]:
    collections = {unique_collection("pottery"): {"kiln.md": KILN}, unique_collection("boats"): {"kiln.md": KILN}}
    with serve_collections(tmp_path_factory.mktemp("http-documents"), embedder, collections,
                           ASSISTANT_UI__MAX_REQUEST_MB=str(REQUEST_LIMIT_MB)) as served:
        yield served


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with v1_client(served) as client:
        yield client


def one_line_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"} and "\n" not in error["message"]
    return error["message"]


def listed(http: httpx.Client, collection: str | None = None) -> dict[str, dict]:
    response = http.get("/documents", params={"collection": collection} if collection else None)
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()["data"]}


def test_a_poisoned_upload_is_refused_and_the_file_sent_with_it_is_indexed(http: httpx.Client, served: Served) -> None:
    files = [("files", ("report.eml", poisoned_eml(POISONED_TO_HEADERS[1]), "message/rfc822")),
             ("files", ("ferry.md", FERRY.encode(), "text/markdown"))]
    response = http.post("/documents", files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == ["upload:ferry.md"]
    assert [item["name"] for item in body["skipped"]] == ["report.eml"] and "AttributeError" in body["skipped"][0]["reason"]
    assert set(listed(http)) == {"ferry.md"} and listed(http)["ferry.md"]["chunks"] >= 1

    alone = http.post("/documents", files=[("files", ("report.eml", poisoned_eml(POISONED_TO_HEADERS[0]), "message/rfc822"))])
    assert one_line_error(alone, 400).startswith("nothing to index (report.eml: has a To header that cannot be read")
    # What was stored reads cleanly: the CLI's next index run exits 0 and skips nothing.
    run = subprocess.run([sys.executable, "-m", "assistant", "index", "--collection", served.default, "--quiet"],
                         cwd=PROJECT_ROOT, env=clean_env(served.store), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "skipped" not in run.stdout + run.stderr, run.stderr


def test_a_zip_bomb_and_a_lone_surrogate_record_are_handled_per_file(http: httpx.Client, tmp_path: Path) -> None:
    bomb = bomb_docx(tmp_path, "minutes.docx", 256 * MB)
    records = b'[{"id": "r1", "title": "Dock log", "text": "The Skarvik dock crane was repaired \\ud800 in May."}]'
    response = http.post("/documents", files=[("files", ("minutes.docx", bomb.read_bytes(), "application/octet-stream")),
                                              ("files", ("dock.json", records, "application/json"))])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == ["upload:dock.json#r1"]  # repaired (U+FFFD), not refused
    [skipped] = body["skipped"]
    assert skipped["name"] == "minutes.docx" and "over the 100 MB limit (ASSISTANT_CORPUS__ARCHIVE_MAX_ENTRY_MB)" in skipped["reason"]
    assert "minutes.docx" not in listed(http)
    assert listed(http)["dock.json"]["chunks"] >= 1  # a records file's chunks are its records'
    answer = http.post("/ask", json={"question": "When was the Skarvik dock crane repaired?"}).json()
    assert answer["citations"][0]["source"] == "upload:dock.json#r1"


@pytest.mark.parametrize("name", ["é" * 199 + ".md", "\U0001F600" * 120 + ".md"])
def test_a_name_too_long_is_a_400_not_a_500(http: httpx.Client, name: str) -> None:
    response = http.post("/documents", files=[("files", (name, FERRY.encode(), "text/markdown"))])
    assert "over the 200-byte limit; rename the file" in one_line_error(response, 400)


def test_a_right_to_left_override_is_removed_from_the_name(http: httpx.Client, served: Served) -> None:
    notes = b"Harbour notes: the breakwater at Skarvik was lengthened by forty metres in 2019."
    response = http.post("/documents", files=[("files", ("notes\u202edm.md", notes, "text/markdown"))],
                         data={"collection": served.other})
    assert response.status_code == 200, response.text
    assert response.json()["added"] == ["upload:notesdm.md"]


def test_an_oversized_body_is_a_413_in_the_openai_shape(http: httpx.Client) -> None:
    big = json.dumps({"model": "x", "messages": [{"role": "user", "content": "a" * (REQUEST_LIMIT_MB * 1024 * 1024 + 10)}]})
    response = http.post("/chat/completions", content=big, headers={"content-type": "application/json"})
    assert "over the 2 MB limit" in one_line_error(response, 413)
    assert response.json()["error"]["code"] == "request_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts the bytes as they arrive
        yield b'{"question": "'
        for _ in range(REQUEST_LIMIT_MB * 4):
            yield b"a" * (512 * 1024)
        yield b'"}'

    streamed = http.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert "over the 2 MB limit" in one_line_error(streamed, 413)


def test_a_body_nested_too_deeply_is_a_one_line_400(http: httpx.Client, served: Served) -> None:
    deep = '{"model": "%s", "messages": %s"x"%s}' % (served.default, "[" * 100_000, "]" * 100_000)
    response = http.post("/chat/completions", content=deep.encode(), headers={"content-type": "application/json"})
    assert one_line_error(response, 400).startswith("the request body could not be read as JSON")
    assert response.json()["error"]["code"] == "invalid_json"


def test_a_question_with_a_lone_surrogate_is_a_400(http: httpx.Client, served: Served) -> None:
    raw = '{"model": "%s", "messages": [{"role": "user", "content": "Who built the kiln? \\ud800"}]}' % served.default
    response = http.post("/chat/completions", content=raw.encode(), headers={"content-type": "application/json"})
    message = one_line_error(response, 400)
    assert "surrogate" in message or "Unicode" in message
    assert http.post("/ask", json={"question": "Who built the Brattvik kiln?"}).json()["abstained"] is False


def test_documents_go_to_the_chosen_collection_and_can_be_downloaded_and_deleted(http: httpx.Client, served: Served) -> None:
    upload = http.post("/documents", files=[("files", ("tides.md", FERRY.encode(), "text/markdown"))],
                       data={"collection": served.other})
    assert upload.status_code == 200 and upload.json()["collection"] == served.other
    assert "tides.md" in listed(http, served.other) and "tides.md" not in listed(http)

    download = http.get("/documents/tides.md", params={"collection": served.other})
    assert download.status_code == 200 and download.content == FERRY.encode()
    assert download.headers["content-type"] == "application/octet-stream"
    assert "attachment" in download.headers["content-disposition"]

    missing = http.delete("/documents/tide.md", params={"collection": served.other})
    assert "no uploaded document named tide.md; its uploaded documents are:" in one_line_error(missing, 404)
    assert one_line_error(http.get("/documents/../../kiln.md"), 404)

    before = http.post("/ask", json={"question": "Who captains the Oddholm ferry?", "collection": served.other}).json()
    assert before["citations"][0]["source"] == "upload:tides.md"
    deleted = http.delete("/documents/tides.md", params={"collection": served.other})
    assert deleted.status_code == 200 and deleted.json()["removed"] == ["upload:tides.md"]
    assert "tides.md" not in listed(http, served.other)
    after = http.post("/ask", json={"question": "Who captains the Oddholm ferry?", "collection": served.other}).json()
    assert all(c["source"] != "upload:tides.md" for c in after["citations"])


def test_two_files_of_one_name_in_one_request_keep_the_first_and_say_why(http: httpx.Client, served: Served) -> None:
    files = [("files", ("twin.md", b"The Oddholm lighthouse is painted red.\n", "text/markdown")),
             ("files", ("twin.md", b"The Oddholm bakery opens at six.\n", "text/markdown"))]
    response = http.post("/documents", files=files, data={"collection": served.other})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == ["upload:twin.md"]
    assert [(s["name"], s["reason"].split(";")[0]) for s in body["skipped"]] == [
        ("twin.md", "another file named twin.md comes earlier in this batch")]
    kept = http.get("/documents/twin.md", params={"collection": served.other})
    assert kept.status_code == 200 and kept.text == "The Oddholm lighthouse is painted red.\n"
    assert http.delete("/documents/twin.md", params={"collection": served.other}).status_code == 200
