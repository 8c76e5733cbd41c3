"""The collection switcher in a real browser: it lists the store's built collections; switching one makes
this browser's chat answer from it (not another browser's), shows its documents (title, date, source,
chunks), sends uploads into it, and a document removed from the page (confirm, then the crash-safe index
run) is gone from the list and from the next answer. Screenshots, desktop and mobile, go to /tmp/w/screens/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port, make_settings
from test_ui_browser import WAIT_MS, ask, open_page, upload
from test_ui_documents_browser import choose, cited_files, row

from assistant import Assistant
from assistant.ingest.uploads import upload_dir

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

SCREENS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"  # git-ignored, beside the other tests' screenshots
HARBOUR = "The Quillmouth harbour wall was rebuilt in 1968 after the great spring storm.\n"
ORCHARD = ("---\ntitle: Orchard survey\ndate: 2020-10-02\n---\n"
           "The Brackenfold orchard grows seven kinds of russet apple on its south slope.\n")
APIARY = "The Brackenfold beekeeper, Odalys Fenwick, moved the hives under the walnut trees in May.\n"
ORCHARD_QUESTION = "How many kinds of russet apple does the Brackenfold orchard grow?"
APIARY_QUESTION = "Where did Odalys Fenwick move the hives?"


@dataclass
class Served:
    url: str
    served: str
    other: Path  # the other collection's uploads folder
    name: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Served]:
    from ui.server import start

    root = tmp_path_factory.mktemp("collections-ui")
    built = {}
    for name, text in (("harbour", HARBOUR), ("orchard", ORCHARD)):
        (root / name).mkdir()
        (root / name / f"{name}.md").write_text(text, encoding="utf-8")
        settings = make_settings(root / "store", corpus=root / name, store={"collection": name})
        built[name] = Assistant(settings, embedder=embedder)
        built[name].index()
    running = start(built["harbour"].settings, host="127.0.0.1", port=free_port(), engine=built["harbour"],
                    log=lambda *_: None)
    try:
        yield Served(running.url.rstrip("/"), "harbour", upload_dir(built["orchard"].settings), "orchard")
    finally:
        running.close()


def new_page(browser, url: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    opened = context.new_page()
    open_page(opened, url)
    expect(opened.locator("#documents .docs")).to_be_visible(timeout=WAIT_MS)
    return context, opened


def corpus_row(page, source: str):
    page.locator("#corpus details.doc-list").evaluate("d => d.open = true")
    return page.locator("#corpus li.corpus-doc").filter(has=page.locator(".doc-source", has_text=re.compile(f"^{re.escape(source)}$")))


def shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def switch(page, name: str) -> None:
    choose(page, "collection", name)
    expect(page.locator("#corpus td.corpus-collection")).to_have_text(name, timeout=WAIT_MS)
    expect(page.locator("#documents .docs-collection")).to_have_text(name)


def remove(page, name: str, screenshot: str) -> None:
    choose(page, "document-choice", name)
    page.locator("#delete-document").click()
    expect(page.locator("#confirm-delete")).to_be_visible()
    expect(row(page, name)).to_have_class(re.compile(r"\bconfirming\b"))
    row(page, name).scroll_into_view_if_needed()
    shot(page, screenshot)
    page.locator("#confirm-delete").click()
    expect(row(page, name)).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#documents-notice")).to_contain_text(f"Deleted {name} and its")


def test_switch_see_documents_upload_ask_and_remove(browser, served: Served, tmp_path: Path) -> None:
    context, page = new_page(browser, served.url, 1400, 1000)
    other_context, other_page = new_page(browser, served.url, 1400, 1000)
    try:
        page.locator("#collection input").click()
        expect(page.get_by_role("option", name=served.name, exact=True)).to_be_visible()
        options = [text.split("\n")[-1] for text in page.get_by_role("option").all_inner_texts()]  # "✓" marks the chosen
        assert options == [served.served, served.name]
        shot(page, "collections-switcher-desktop")
        page.get_by_role("option", name=served.name, exact=True).click()
        expect(page.locator("#corpus td.corpus-collection")).to_have_text(served.name, timeout=WAIT_MS)
        expect(page.locator("#notice")).to_contain_text(f"now answered from collection {served.name}")
        listed = corpus_row(page, "orchard.md")
        expect(listed.locator(".doc-title")).to_have_text("Orchard survey")
        expect(listed.locator(".doc-date")).to_have_text("2020-10-02")
        expect(listed.locator(".doc-chunks")).to_have_text("1 chunk")

        answer = ask(page, ORCHARD_QUESTION)
        assert "seven" in answer.locator(".ans-text").inner_text() and "orchard.md" in cited_files(answer)

        notes = tmp_path / "apiary.md"
        notes.write_text(APIARY, encoding="utf-8")
        upload(page, notes)
        expect(page.locator("#upload-status")).to_contain_text("Indexed 1 file(s): apiary.md", timeout=WAIT_MS)
        expect(page.locator("#upload-status")).to_contain_text("You can ask about them now.")
        expect(row(page, "apiary.md").locator(".doc-chunks")).to_have_text(re.compile(r"^[1-9]\d* chunks?$"))
        expect(corpus_row(page, "upload:apiary.md")).to_have_count(1)
        expect(page.locator("#corpus td.corpus-documents")).to_have_text("2")
        assert (served.other / "apiary.md").is_file()

        answered = ask(page, APIARY_QUESTION)
        assert "walnut" in answered.locator(".ans-text").inner_text()
        assert "upload:apiary.md" in cited_files(answered)
        elsewhere = ask(other_page, APIARY_QUESTION)  # another browser still answers from the served collection
        assert "upload:apiary.md" not in cited_files(elsewhere) and "walnut" not in elsewhere.inner_text()
        expect(other_page.locator("#corpus td.corpus-collection")).to_have_text(served.served)

        remove(page, "apiary.md", "collections-remove-desktop")
        expect(corpus_row(page, "upload:apiary.md")).to_have_count(0, timeout=WAIT_MS)
        expect(page.locator("#corpus td.corpus-documents")).to_have_text("1")
        assert not (served.other / "apiary.md").exists()
        again = ask(page, APIARY_QUESTION)
        assert "upload:apiary.md" not in cited_files(again) and "walnut" not in again.inner_text()
    finally:
        context.close()
        other_context.close()


def test_the_switcher_and_a_removal_on_a_phone(browser, served: Served, tmp_path: Path) -> None:
    context, page = new_page(browser, served.url, 390, 844)
    try:
        switch(page, served.name)
        page.locator("#collection").scroll_into_view_if_needed()
        shot(page, "collections-switcher-mobile")
        notes = tmp_path / "cider.md"
        notes.write_text("The Brackenfold cider press runs only in the first week of October.\n", encoding="utf-8")
        upload(page, notes)
        expect(row(page, "cider.md")).to_have_count(1, timeout=WAIT_MS)
        remove(page, "cider.md", "collections-remove-mobile")
        assert not (served.other / "cider.md").exists()
    finally:
        context.close()
