"""A typo'd collection name is refused with one line that names the collections that do exist, from
the library (so the CLI, the HTTP API and the page all say the same)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.engine import AnswerEngine
from assistant.engine_pool import EnginePool
from assistant.errors import IndexMissingError
from assistant.index.manifest import MANIFEST_FILE, collections_root
from assistant.serving.cli import main
from tests.conftest import make_settings


def plant_collections(store: Path, *names: str) -> None:
    """Collections as the listing sees them: a folder holding a manifest (the content is not read)."""
    settings = make_settings(store)
    for name in names:
        folder = collections_root(settings) / name
        folder.mkdir(parents=True)
        (folder / MANIFEST_FILE).write_text("{}", encoding="utf-8")


def test_the_cli_names_the_existing_collections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path))
    plant_collections(tmp_path, "news", "docs")
    assert main(["ask", "Who won?", "--collection", "nwes"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: no collection named 'nwes' in ")
    assert "; existing: docs, news; build it with: assistant index --corpus PATH --collection nwes" in line


def test_with_none_built_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path))
    assert main(["ask", "Who won?", "--collection", "nwes"]) == 2
    assert "no collection is built there yet" in capsys.readouterr().err


def test_the_pool_behind_the_api_and_the_page_names_them_too(tmp_path: Path) -> None:
    plant_collections(tmp_path, "news", "docs")
    settings = make_settings(tmp_path)
    pool = EnginePool(AnswerEngine(settings))  # nothing loads until a question is asked
    with pytest.raises(IndexMissingError) as caught:
        pool.collection("nwes")
    message = str(caught.value)
    assert message.startswith("no collection named 'nwes'; existing: ")
    assert set(message.split("; ")[1].removeprefix("existing: ").split(", ")) == {"news", "docs", settings.store.collection}
    assert str(tmp_path) not in message  # an HTTP client is not told the server's paths


def test_a_name_no_collection_can_have_says_why_instead_of_offering_to_build_it(tmp_path: Path) -> None:
    plant_collections(tmp_path, "news")
    pool = EnginePool(AnswerEngine(make_settings(tmp_path)))
    with pytest.raises(IndexMissingError) as caught:
        pool.collection("a/b")
    message = str(caught.value)
    assert "contains a path separator" in message and "assistant index" not in message and "\n" not in message
