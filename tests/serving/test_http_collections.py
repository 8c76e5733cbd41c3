"""The store's collections through a real `assistant serve --api` process: GET /v1/collections lists
them with their counts (the served one first), GET /v1/collections/{name}/documents lists every indexed
document of one, an upload into the named collection shows there until it is deleted, and a typo'd
name is the one-line 404 that names the collections that exist."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import unique_collection
from served_api import Served, serve_collections, v1_client

pytestmark = [pytest.mark.server, pytest.mark.slow]

SMITHY = "---\ntitle: Smithy ledger\ndate: 2022-09-03\n---\nThe Harlow Cross smithy forged 340 horseshoes in 1902.\n"
MILL = "The Tarnby watermill ground oats for four villages until the weir collapsed.\n"
GLASSWORKS = "The Tarnby glassworks blew green bottles for the cider press in Ollerbrook.\n"
QUESTION = "What did the Tarnby glassworks make for the cider press?"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Served]:
    collections = {unique_collection("smithy"): {"smithy.md": SMITHY}, unique_collection("mill"): {"mill.md": MILL}}
    with serve_collections(tmp_path_factory.mktemp("http-collections"), embedder, collections) as served:
        yield served


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with v1_client(served) as client:
        yield client


def documents_of(http: httpx.Client, collection: str) -> dict[str, dict]:
    response = http.get(f"/collections/{collection}/documents")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "list" and body["collection"] == collection
    return {item["source"]: item for item in body["data"]}


def test_collections_are_listed_the_served_one_first_with_their_counts(http: httpx.Client, served: Served) -> None:
    response = http.get("/collections")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["default"] == served.default
    listed = {item["name"]: item for item in body["data"]}
    assert body["data"][0]["name"] == served.default and body["data"][0]["default"] is True
    assert listed[served.other]["default"] is False
    for name in (served.default, served.other):
        assert listed[name]["documents"] == 1 and listed[name]["chunks"] >= 1 and listed[name]["problem"] is None


def test_a_collections_documents_an_upload_into_it_and_its_delete(http: httpx.Client, served: Served) -> None:
    smithy = documents_of(http, served.default)["smithy.md"]
    assert (smithy["title"], smithy["date"], smithy["upload"]) == ("Smithy ledger", "2022-09-03", None)
    assert smithy["chunks"] >= 1
    assert set(documents_of(http, served.other)) == {"mill.md"}

    sent = http.post("/documents", files=[("files", ("glass.md", GLASSWORKS.encode(), "text/markdown"))],
                     data={"collection": served.other})
    assert sent.status_code == 200, sent.text
    listed = documents_of(http, served.other)
    assert set(listed) == {"mill.md", "upload:glass.md"} and listed["upload:glass.md"]["upload"] == "glass.md"
    assert {c["name"]: c["uploads"] for c in http.get("/collections").json()["data"]}[served.other] == 1
    assert "upload:glass.md" not in documents_of(http, served.default)
    asked = http.post("/ask", json={"question": QUESTION, "collection": served.other}).json()
    assert asked["citations"][0]["source"] == "upload:glass.md"

    deleted = http.delete("/documents/glass.md", params={"collection": served.other})
    assert deleted.status_code == 200 and deleted.json()["removed"] == ["upload:glass.md"]
    assert set(documents_of(http, served.other)) == {"mill.md"}
    again = http.post("/ask", json={"question": QUESTION, "collection": served.other}).json()
    assert all(c["source"] != "upload:glass.md" for c in again["citations"])


def test_a_typod_collection_is_a_one_line_404_naming_those_that_exist(http: httpx.Client, served: Served) -> None:
    response = http.get(f"/collections/{served.other}x/documents")
    assert response.status_code == 404, response.text
    message = response.json()["error"]["message"]
    assert message.startswith(f"no collection named '{served.other}x'; existing: ") and "\n" not in message
    assert served.default in message and served.other in message
