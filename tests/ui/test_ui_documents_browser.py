"""Managing uploaded documents in a real browser: upload through the page, see the document listed with
its chunks, ask about it, download it, delete it (with a confirm step) and see it gone from the list,
the answers, the sources filter and the uploads folder; and uploads into another chosen collection.

The server runs in this process (as in test_ui_browser.py). To see "Deleting…" on the page without a
timed race, the test holds the collection's writer lock while it confirms the delete: the page's index
run waits on the lock (as it would behind another indexer), so the row stays in its deleting state
until the lock is released."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port, make_settings
from test_ui_browser import (
    WAIT_MS,
    ask,
    assert_not_pwned,
    documents_count,
    open_page,
    upload,
)

from assistant import Assistant
from assistant.config import PROJECT_ROOT, Settings
from assistant.index.locking import writer_lock
from assistant.ingest.uploads import quarantine_upload, upload_dir

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
SCREENSHOT = ARTIFACTS / "documents-delete.png"
REPORT_COPY = Path("/tmp/documents-delete.png")
EVIL_NAME = 'kite<img src=y onerror="window.__pwned=1">.md'

WRENFIELD = ("The Wrenfield Observatory stands on Harrow Hill above the town of Lessing. "
             "The Wrenfield Observatory was founded by Tobiah Marchetti in 1911 to study variable stars.\n")
QUESTION = "Who founded the Wrenfield Observatory?"


@dataclass
class Served:
    url: str
    settings: Settings  # the served collection's
    other: Settings  # a second collection built in the same store


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Served]:
    from ui.server import start

    store = tmp_path_factory.mktemp("documents-store")
    settings = make_settings(store)
    other_corpus = tmp_path_factory.mktemp("other-corpus")
    (other_corpus / "lighthouse.md").write_text("The Gannet Point lighthouse was automated in 1974.\n", encoding="utf-8")
    other = settings.with_(store={"collection": f"{settings.store.collection}-other"}, corpus={"path": other_corpus})
    Assistant(other, embedder=embedder).index()
    running = start(settings, host="127.0.0.1", port=free_port(), engine=Assistant(settings, embedder=embedder),
                    log=lambda *_: None)
    try:
        yield Served(running.url.rstrip("/"), settings, other)
    finally:
        running.close()


@pytest.fixture
def page(browser, served: Served) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    open_page(opened, served.url)
    expect(opened.locator("#documents .docs")).to_be_visible(timeout=WAIT_MS)
    yield opened
    context.close()


def row(page, name: str):
    named = page.locator(".doc-name", has_text=re.compile(f"^{re.escape(name)}$"))
    return page.locator("#documents li.doc-row").filter(has=named)


def choose(page, dropdown: str, option: str) -> None:
    page.locator(f"#{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def cited_files(answer) -> list[str]:
    return answer.locator(".src-file").all_inner_texts()


def filter_options(page, text: str) -> int:
    """How many of the sources filter's options mention `text` (the list is opened, then closed)."""
    page.locator("#source-filter input").click()
    expect(page.get_by_role("option").first).to_be_visible()  # the corpus's own documents are always there
    count = page.get_by_role("option", name=re.compile(re.escape(text))).count()
    page.locator("#question textarea").click()  # closes the list
    expect(page.get_by_role("option")).to_have_count(0)
    return count


def test_upload_list_ask_download_delete_and_ask_again(page, served: Served, tmp_path: Path) -> None:
    before = int(documents_count(page))
    doc = tmp_path / "wrenfield.md"
    doc.write_text(WRENFIELD, encoding="utf-8")
    upload(page, doc)
    expect(page.locator("#upload-status")).to_contain_text("Indexed 1 file(s): wrenfield.md", timeout=WAIT_MS)
    listed = row(page, "wrenfield.md")
    expect(listed).to_have_count(1)
    expect(listed.locator(".doc-chunks")).to_have_text(re.compile(r"^[1-9]\d* chunks?$"))
    expect(listed.locator(".doc-size")).to_have_text(f"{len(WRENFIELD.encode())} B")
    expect(page.locator("#corpus td.corpus-documents")).to_have_text(str(before + 1))

    answer = ask(page, QUESTION)
    expect(answer).to_have_class("ans answered")
    assert "Tobiah Marchetti" in answer.locator(".ans-text").inner_text()
    assert "upload:wrenfield.md" in cited_files(answer)
    assert filter_options(page, "upload:wrenfield.md") == 1

    choose(page, "document-choice", "wrenfield.md")
    expect(page.locator("#download-document")).to_be_enabled(timeout=WAIT_MS)
    with page.expect_download(timeout=WAIT_MS) as downloading:
        page.locator("#download-document").click()
    saved = tmp_path / "downloaded.md"
    downloading.value.save_as(saved)
    assert downloading.value.suggested_filename == "wrenfield.md"
    assert saved.read_bytes() == doc.read_bytes()

    page.locator("#delete-document").click()  # the first click only asks
    expect(page.locator("#confirm-delete")).to_be_visible()
    expect(listed).to_have_class(re.compile(r"\bconfirming\b"))
    expect(page.locator("#documents-notice")).to_contain_text("Delete wrenfield.md and its")
    assert (upload_dir(served.settings) / "wrenfield.md").is_file()

    with writer_lock(served.settings, timeout_s=0):  # the page's index run waits for it (see the module doc)
        page.locator("#confirm-delete").click()
        expect(listed.locator(".doc-state.deleting")).to_have_text("Deleting…", timeout=WAIT_MS)
        expect(page.locator("#confirm-delete")).to_be_disabled()
        expect(page.locator("#documents .docs-progress")).to_contain_text("waiting", timeout=WAIT_MS)
        listed.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        shutil.copyfile(SCREENSHOT, REPORT_COPY)
    expect(listed).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#documents-notice")).to_contain_text("Deleted wrenfield.md and its")
    expect(page.locator("#confirm-delete")).to_be_hidden()
    expect(page.locator("#corpus td.corpus-documents")).to_have_text(str(before))
    assert not (upload_dir(served.settings) / "wrenfield.md").exists()
    assert filter_options(page, "upload:wrenfield.md") == 0

    again = ask(page, QUESTION)
    assert "upload:wrenfield.md" not in cited_files(again)
    assert "Tobiah Marchetti" not in again.inner_text()


def test_uploads_go_to_the_chosen_collection_and_leave_the_served_one_alone(page, served: Served, tmp_path: Path) -> None:
    before = documents_count(page)
    other = served.other.store.collection
    choose(page, "collection", other)
    expect(page.locator("#documents .docs-collection")).to_have_text(other)
    expect(page.locator("#documents .docs-empty")).to_be_visible()
    doc = tmp_path / "ledger.md"
    doc.write_text("The Gannet Point ledger records 212 ships passing in 1975.\n", encoding="utf-8")
    upload(page, doc)
    expect(page.locator("#upload-status")).to_contain_text("Indexed 1 file(s): ledger.md", timeout=WAIT_MS)
    expect(row(page, "ledger.md").locator(".doc-chunks")).to_have_text(re.compile(r"^[1-9]\d* chunks?$"))
    assert (upload_dir(served.other) / "ledger.md").is_file()
    assert not (upload_dir(served.settings) / "ledger.md").exists()

    choose(page, "collection", served.settings.store.collection)
    expect(row(page, "ledger.md")).to_have_count(0)
    expect(page.locator("#corpus td.corpus-collection")).to_have_text(served.settings.store.collection)
    assert documents_count(page) == before  # the served collection is unchanged
    choose(page, "collection", other)
    choose(page, "document-choice", "ledger.md")
    page.locator("#delete-document").click()
    page.locator("#confirm-delete").click()
    expect(row(page, "ledger.md")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#documents-notice")).to_contain_text(f"from collection {other}")
    assert not (upload_dir(served.other) / "ledger.md").exists()


def test_names_show_as_text_quarantine_has_its_reason_and_cancel_keeps_the_file(page, served: Served) -> None:
    # The browser's upload strips "<" and quotes from a name, the API and the CLI don't: put such a file
    # (and a quarantined one) where they keep uploads, and load the page again.
    folder = upload_dir(served.settings)
    (folder / EVIL_NAME).write_text("The kite festival ticket costs 12 euros.\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"not a PDF")
    quarantine_upload(served.settings, "broken.pdf", "is not a readable PDF")
    page.reload()
    expect(row(page, EVIL_NAME)).to_have_count(1, timeout=WAIT_MS)
    assert page.locator("#documents img, #documents script").count() == 0
    quarantined = row(page, "broken.pdf")
    expect(quarantined.locator(".doc-badge.quarantined")).to_have_text("quarantined: is not a readable PDF",
                                                                        timeout=WAIT_MS)

    choose(page, "document-choice", EVIL_NAME)
    page.locator("#delete-document").click()
    expect(row(page, EVIL_NAME)).to_have_class(re.compile(r"\bconfirming\b"))
    page.locator("#cancel-delete").click()
    expect(page.locator("#confirm-delete")).to_be_hidden()
    expect(row(page, EVIL_NAME)).not_to_have_class(re.compile(r"\bconfirming\b"))
    assert (folder / EVIL_NAME).is_file()

    choose(page, "document-choice", "broken.pdf")  # a quarantined file has no chunks; deleting it is just the file
    page.locator("#delete-document").click()
    page.locator("#confirm-delete").click()
    expect(quarantined).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#documents-notice")).to_contain_text("Deleted broken.pdf")
    assert_not_pwned(page)
    assert page.locator("#document-choice img").count() == 0


def test_uploading_a_name_again_says_it_replaced_or_matched_the_earlier_file(page, tmp_path: Path) -> None:
    status = page.locator("#upload-status")
    first = tmp_path / "first" / "quarry.md"
    first.parent.mkdir()
    first.write_text("The Hollin quarry closed in 1962 after the flood.\n", encoding="utf-8")
    upload(page, first)
    expect(status).to_contain_text("Indexed 1 file(s): quarry.md", timeout=WAIT_MS)
    expect(status).to_contain_text("now holds")

    edited = tmp_path / "edited" / "quarry.md"  # the same name, new text: it replaces the earlier upload
    edited.parent.mkdir()
    edited.write_text("The Hollin quarry closed in 1964, two years after the flood.\n", encoding="utf-8")
    upload(page, edited)
    expect(status).to_contain_text("Replaced 1 earlier upload(s) of the same name with the new file: quarry.md",
                                   timeout=WAIT_MS)
    expect(status).not_to_contain_text("Indexed 1 file(s)")
    expect(ask(page, "When did the Hollin quarry close?").locator(".ans-text")).to_contain_text("1964")

    upload(page, edited)  # the very same file again: nothing changes, and it says so
    expect(status).to_contain_text("Already indexed, unchanged: quarry.md", timeout=WAIT_MS)
    expect(status).not_to_contain_text("now holds")

    refused = tmp_path / "scan.pdf"  # passes the upload check, fails to parse: no "now holds … in 0.0 s" line
    refused.write_text("not a PDF at all", encoding="utf-8")
    upload(page, refused)
    expect(status).to_contain_text("scan.pdf:", timeout=WAIT_MS)
    expect(status).to_contain_text("Nothing was added")
    expect(status).not_to_contain_text("now holds")
