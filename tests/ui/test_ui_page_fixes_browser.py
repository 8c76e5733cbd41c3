"""Issue 31's page fixes in a real browser (Debian chromium driven by Playwright): a corrupt saved chat is skipped
with a one-line notice and the others still list and search; the feedback comment box is hidden and emptied when
another chat opens or a new one starts; the rename box holds the open chat's title; the chosen collection comes
back after a reload (and falls back, saying so, when it is gone); the upload result shows right under the upload
control; the Settings panel's answer backend is checked before it is kept.

The server runs in this process over two tiny collections built here (fast to index), extractive by default."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port, make_settings
from llm_fixtures import FakeOpenAI, fake_openai_server, free_port_nobody_listens
from test_ui_browser import FINAL, WAIT_MS, ask, open_page, shot, upload
from test_ui_chat_feedback_browser import search, text_box
from test_ui_chats_browser import chat_options
from test_ui_documents_browser import choose

from assistant import Assistant
from assistant.conversation.saved import CHATS_FILE
from assistant.index.manifest import MANIFEST_FILE, collections_root

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

HARBOUR = ("The Quillmouth harbour wall was rebuilt in 1968 after the great spring storm. "
           "The Quillmouth ferry leaves the harbour at 07:40 every weekday.\n")
ORCHARD = ("---\ntitle: Orchard survey\ndate: 2020-10-02\n---\n"
           "The Brackenfold orchard grows seven kinds of russet apple on its south slope.\n")
SPARE = "The Tollgate mill grinds rye flour on Thursdays.\n"
WALL = "When was the Quillmouth harbour wall rebuilt?"
FERRY = "When does the Quillmouth ferry leave the harbour?"
APPLES = "How many kinds of russet apple does the Brackenfold orchard grow?"


@dataclass
class Served:
    url: str
    settings: object  # the served collection's Settings

    @property
    def chats_file(self) -> Path:
        return self.settings.store.path / CHATS_FILE


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Served]:
    from ui.server import start

    root = tmp_path_factory.mktemp("page-fixes")
    built = {}
    for name, text in (("harbour", HARBOUR), ("orchard", ORCHARD), ("spare", SPARE)):
        (root / name).mkdir()
        (root / name / f"{name}.md").write_text(text, encoding="utf-8")
        settings = make_settings(root / "store", corpus=root / name, store={"collection": name},
                                 ui={"max_upload_mb": 0.05})
        built[name] = Assistant(settings, embedder=embedder)
        built[name].index()
    running = start(built["harbour"].settings, host="127.0.0.1", port=free_port(), engine=built["harbour"],
                    log=lambda *_: None)
    try:
        yield Served(running.url.rstrip("/"), built["harbour"].settings)
    finally:
        running.close()


@pytest.fixture
def page(browser, served: Served) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    open_page(opened, served.url)
    yield opened
    context.close()


def new_chat(page) -> None:
    page.locator("#new-conversation").click()
    expect(page.locator(FINAL)).to_have_count(0, timeout=WAIT_MS)


# -- 1. a corrupt saved chat ------------------------------------------------------------------------
def test_a_corrupt_saved_chat_is_skipped_with_a_notice_and_the_others_still_list_and_search(page, served) -> None:
    ask(page, WALL)
    new_chat(page)
    ask(page, FERRY)
    expect(chat_options(page)).to_have_count(2, timeout=WAIT_MS)
    with sqlite3.connect(served.chats_file) as db:
        (broken,) = db.execute("SELECT chat_id FROM chats WHERE title = ? ORDER BY updated DESC LIMIT 1", (WALL,)).fetchone()
        db.execute("UPDATE chats SET session = ? WHERE chat_id = ?", ('{"turns": [{"question": "When', broken))

    page.reload()
    open_page(page, served.url)
    expect(page.locator("#chat .q")).to_have_text([FERRY], timeout=WAIT_MS)  # the newest readable chat is restored
    expect(chat_options(page)).to_have_count(1, timeout=WAIT_MS)
    notice = page.locator("#chats-notice")
    expect(notice).to_contain_text("1 saved chat could not be read", timeout=WAIT_MS)
    expect(notice).to_contain_text(broken)
    assert "\n" not in notice.inner_text().strip()
    search(page, "ferry")
    expect(chat_options(page)).to_have_count(1, timeout=WAIT_MS)
    expect(chat_options(page).first).to_contain_text(FERRY)
    expect(page.locator("#export-chat")).to_be_enabled()
    with sqlite3.connect(served.chats_file) as db:  # nothing lost: the corrupt row is still there as it was
        assert db.execute("SELECT session FROM chats WHERE chat_id = ?", (broken,)).fetchone()[0].startswith('{"turns"')


# -- 2. the feedback comment box --------------------------------------------------------------------
def test_the_comment_box_is_hidden_and_emptied_when_another_chat_opens_or_a_new_one_starts(page) -> None:
    box = text_box(page, "feedback-comment")
    ask(page, WALL)
    new_chat(page)
    ask(page, FERRY)
    expect(chat_options(page)).to_have_count(2, timeout=WAIT_MS)
    page.locator("#chat button[aria-label='Like']").first.click()
    expect(box).to_be_visible(timeout=WAIT_MS)
    box.fill("The ferry answer left this comment unsaved")

    chat_options(page).filter(has_text=WALL).click()  # another saved chat
    expect(page.locator("#chat .q")).to_have_text([WALL], timeout=WAIT_MS)
    expect(box).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#save-comment")).to_be_hidden()
    page.locator("#chat button[aria-label='Like']").first.click()  # rating this chat's answer opens it empty
    expect(box).to_be_visible(timeout=WAIT_MS)
    expect(box).to_have_value("")

    box.fill("Typed, then a new conversation")
    new_chat(page)
    expect(box).to_be_hidden(timeout=WAIT_MS)
    chat_options(page).filter(has_text=FERRY).click()
    expect(page.locator("#chat .q")).to_have_text([FERRY], timeout=WAIT_MS)
    expect(box).to_be_hidden()
    expect(page.locator("#chat button[aria-label='Liked']")).to_have_count(1)  # its rating was kept all along


# -- 3. the rename box ------------------------------------------------------------------------------
def test_the_rename_box_holds_the_open_chats_current_title(page, served) -> None:
    title = text_box(page, "chat-title")
    ask(page, WALL)
    expect(title).to_have_value(WALL, timeout=WAIT_MS)  # saved with its first answer: its title is there to edit
    new_chat(page)
    expect(title).to_have_value("", timeout=WAIT_MS)
    ask(page, FERRY)
    expect(chat_options(page)).to_have_count(2, timeout=WAIT_MS)

    chat_options(page).filter(has_text=WALL).click()
    expect(page.locator("#chat .q")).to_have_text([WALL], timeout=WAIT_MS)
    expect(title).to_have_value(WALL, timeout=WAIT_MS)
    title.fill("Harbour wall notes")
    page.locator("#rename-chat").click()
    expect(page.locator("#chats-notice")).to_contain_text("Renamed this chat to “Harbour wall notes”", timeout=WAIT_MS)
    expect(title).to_have_value("Harbour wall notes")
    chat_options(page).filter(has_text=FERRY).click()
    expect(title).to_have_value(FERRY, timeout=WAIT_MS)
    chat_options(page).filter(has_text="Harbour wall notes").click()
    expect(title).to_have_value("Harbour wall notes", timeout=WAIT_MS)

    page.reload()
    open_page(page, served.url)
    expect(page.locator("#chat .q")).to_have_text([FERRY], timeout=WAIT_MS)  # the latest chat is restored
    expect(title).to_have_value(FERRY, timeout=WAIT_MS)


# -- 4. the chosen collection after a reload --------------------------------------------------------
def test_the_chosen_collection_comes_back_after_a_reload_and_falls_back_when_gone(page, served) -> None:
    switcher = page.locator("#collection input")
    corpus_name = page.locator("#corpus td.corpus-collection")
    expect(switcher).to_have_value("harbour")
    choose(page, "collection", "orchard")
    expect(corpus_name).to_have_text("orchard", timeout=WAIT_MS)

    page.reload()
    open_page(page, served.url)
    expect(switcher).to_have_value("orchard", timeout=WAIT_MS)
    expect(corpus_name).to_have_text("orchard", timeout=WAIT_MS)
    expect(page.locator("#documents .docs-collection")).to_have_text("orchard")
    answer = ask(page, APPLES)  # and the chat answers from it
    assert "seven kinds of russet apple" in answer.locator(".ans-text").inner_text()
    expect(page.locator("#notice")).not_to_contain_text("no longer exists")

    # Another browser still starts on the served collection.
    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(other, served.url)
    expect(other.locator("#collection input")).to_have_value("harbour")
    other.context.close()

    # A remembered collection that was removed since: the served one, with a one-line notice.
    choose(page, "collection", "spare")
    expect(corpus_name).to_have_text("spare", timeout=WAIT_MS)
    manifest = collections_root(served.settings) / "spare" / MANIFEST_FILE
    manifest.rename(manifest.with_name("moved-aside.json"))
    page.reload()
    open_page(page, served.url)
    expect(page.locator("#notice")).to_contain_text("Collection “spare”, chosen here before, no longer exists",
                                                    timeout=WAIT_MS)
    expect(switcher).to_have_value("harbour")
    expect(corpus_name).to_have_text("harbour")
    assert "\n" not in page.locator("#notice").inner_text().strip()
    page.reload()  # it was forgotten: no notice the next time
    open_page(page, served.url)
    expect(switcher).to_have_value("harbour")
    expect(page.locator("#notice")).to_have_text("")


# -- 5. the upload result ---------------------------------------------------------------------------
def test_the_upload_result_shows_right_under_the_upload_control_in_view(page, tmp_path: Path) -> None:
    doc = tmp_path / "barn.md"
    doc.write_text("The Fenwick barn by the Quillmouth harbour was painted red in 2001.\n", encoding="utf-8")
    control, status = page.locator("#upload"), page.locator("#upload-status")
    # Scrolled just far enough to show the control at the bottom of the window, as one does to reach it.
    control.evaluate("element => element.scrollIntoView({block: 'end'})")
    upload(page, doc)
    expect(status).to_contain_text("Indexed 1 file(s): barn.md", timeout=WAIT_MS)
    expect(status).to_be_in_viewport(ratio=0.95, timeout=WAIT_MS)
    below, above = status.bounding_box(), control.bounding_box()
    assert 0 <= below["y"] - (above["y"] + above["height"]) <= 24  # directly under it, nothing in between
    shot(page, "upload-result-in-view")


# -- 6. the Model server panel ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeOpenAI]:
    with fake_openai_server("The Quillmouth harbour wall was rebuilt in 1968 [1].") as server:
        yield server


def use_server(page, url: str, model: str = "harbour-model", mode: str = "Generative, through this server") -> None:
    page.locator("#answer-mode").get_by_text(mode).click()
    text_box(page, "server-url").fill(url)
    text_box(page, "server-model").fill(model)
    page.locator("#apply-server").click()


def test_the_model_server_panel_checks_the_url_keeps_the_previous_choice_and_says_when_it_is_down(
        page, fake_server: FakeOpenAI) -> None:
    panel = page.locator("#model-server")
    expect(text_box(page, "server-url")).to_be_hidden()  # collapsed by default
    panel.get_by_text("Model server").first.click()
    expect(text_box(page, "server-url")).to_be_visible(timeout=WAIT_MS)
    notice = page.locator("#server-notice")

    use_server(page, fake_server.base_url)
    expect(notice).to_contain_text("now generated by model 'harbour-model'", timeout=WAIT_MS)
    first = ask(page, WALL)
    expect(first.locator(".meta")).to_contain_text("openai")
    assert "1968" in first.locator(".ans-text").inner_text() and len(fake_server.requests) == 1
    assert fake_server.requests[0][1]["model"] == "harbour-model"

    # A bad URL is refused in one line, and the session keeps answering through the server it had.
    use_server(page, "ftp://models.example.org/v1")
    expect(notice).to_contain_text("must start with http:// or https://", timeout=WAIT_MS)
    expect(notice).to_contain_text("still generated by model 'harbour-model'")
    assert "\n" not in notice.inner_text().strip()
    shot(page, "model-server-bad-url")
    second = ask(page, WALL)
    expect(second.locator(".meta")).to_contain_text("openai")
    assert len(fake_server.requests) == 2

    # Another browser is not moved: it answers extractively.
    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(other, page.url)
    expect(ask(other, WALL).locator(".meta")).to_contain_text("extractive")
    assert len(fake_server.requests) == 2
    other.context.close()

    # A server that cannot be reached: a one-line error in place of the answer, not a quoted fallback.
    use_server(page, f"http://127.0.0.1:{free_port_nobody_listens()}/v1")
    expect(notice).to_contain_text("now generated by model", timeout=WAIT_MS)
    page.locator("#question textarea").fill(WALL)
    page.locator("#ask").click()
    failed = page.locator("#chat .ans.failed")
    expect(failed).to_have_count(1, timeout=WAIT_MS)
    expect(failed).to_contain_text("Cannot reach the model server")
    expect(page.locator("#notice")).to_contain_text("Cannot reach the model server")
    expect(failed).to_contain_text("in Settings")  # what a person at the page can do, not the server's variables
    expect(failed).not_to_contain_text("ASSISTANT_")

    use_server(page, "", mode="Extractive (quotes, no model)")  # back to quotes: no server needed
    expect(notice).to_contain_text("now extractive", timeout=WAIT_MS)
    expect(ask(page, WALL).locator(".meta")).to_contain_text("extractive")
