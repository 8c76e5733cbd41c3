"""Chats that last, in a real browser: a conversation survives a reload and a server restart on the
same store, exports as Markdown with its quotes, and stays invisible to another browser.

The server is started in this process (as in test_ui_browser.py) and restarted by closing it and
starting a new one (a new page app and HTTP server) on the same port and store folder: the browser
keeps its localStorage per origin, so the port must stay the same."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port, make_settings
from test_ui_browser import (
    FINAL,
    WAIT_MS,
    ask,
    open_page,
    shot,
)

from assistant import Assistant
from assistant.conversation.saved import CHATS_FILE

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

FIRST = "What is the JATEC center?"
FOLLOW_UP = "Where was its first meeting held?"
OTHER = "What did NATO foreign ministers agree?"


class RestartableUI:
    """The page and API served from one store folder; `restart()` stops them and serves again on the same port."""

    def __init__(self, settings, embedder) -> None:
        self.settings, self.embedder, self.port = settings, embedder, free_port()
        self.running = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from ui.server import start

        self.running = start(self.settings, host="127.0.0.1", port=self.port,
                             engine=Assistant(self.settings, embedder=self.embedder), log=lambda *_: None)

    def restart(self) -> None:
        self.close()
        self.start()

    def close(self) -> None:
        if self.running is not None:
            self.running.close()
            self.running = None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[RestartableUI]:
    ui = RestartableUI(make_settings(tmp_path_factory.mktemp("chats-store")), embedder)
    try:
        yield ui
    finally:
        ui.close()


def chat_options(page):
    return page.locator("#chats label")


def wait_restored(page, questions: int) -> None:
    """After a load: the chat list came back and the latest chat's turns are shown."""
    expect(page.locator("#chat .q")).to_have_count(questions, timeout=WAIT_MS)
    expect(page.locator("#chat .ans.restored")).to_have_count(questions, timeout=WAIT_MS)


def test_a_chat_survives_reload_and_restart_exports_and_stays_private(server: RestartableUI, browser,
                                                                      tmp_path: Path) -> None:
    mine = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = mine.new_page()
    open_page(page, server.url)
    expect(chat_options(page)).to_have_count(0)
    expect(page.locator("#export-chat")).to_be_disabled()

    first = ask(page, FIRST)
    expect(first).to_have_class("ans answered")
    answer_text = first.locator(".ans-text").inner_text()
    expect(chat_options(page)).to_have_count(1)
    expect(chat_options(page).first).to_contain_text(FIRST)
    follow_up = ask(page, FOLLOW_UP)
    assert "Poland" in follow_up.locator(".ans-text").inner_text()
    assert (server.settings.store.path / CHATS_FILE).exists()

    # Reload: the chat is listed, selected and shown with its answers and sources.
    page.reload()
    open_page(page, server.url)
    wait_restored(page, 2)
    expect(chat_options(page)).to_have_count(1)
    expect(page.locator("#chats input:checked")).to_have_count(1)
    restored = page.locator("#chat .ans.restored").first
    assert restored.locator(".ans-text").inner_text().strip() == answer_text.strip()
    restored.locator("details.src summary").first.click()
    expect(restored.locator("mark.span").first).to_be_visible()
    shot(page, "chat-restored")
    # Its ChatSession came back too: a follow-up is read in the light of the restored turns.
    after = ask(page, "When will it be fully operational?")
    expect(after.locator(".rewritten")).to_contain_text("JATEC")

    # Restart the server on the same store: the same browser still finds its chat.
    server.restart()
    page.reload()
    open_page(page, server.url)
    wait_restored(page, 3)
    expect(chat_options(page)).to_have_count(1)

    # Export: the Markdown holds the questions, the answer and a quote.
    with page.expect_download(timeout=WAIT_MS) as downloading:
        page.locator("#export-chat").click()
    download = downloading.value
    assert download.suggested_filename == "what-is-the-jatec-center.md"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    markdown = saved.read_text(encoding="utf-8")
    literal = markdown.replace("\\", "")  # Markdown escapes (\* \_ \<) dropped, to compare with page text
    assert f"## 1. {FIRST}" in markdown and "## 2. Where was its first meeting held?" in markdown
    assert answer_text.strip().split("[")[0].strip()[:40] in literal
    assert "**Sources**" in markdown and "\n   > " in markdown
    quote = restored.locator("mark.span").first.inner_text().strip()
    assert " ".join(quote.split())[:40] in literal
    viewer = mine.new_page()
    viewer.set_content(f'<pre style="white-space:pre-wrap;font:14px monospace;margin:24px">{html.escape(markdown)}</pre>')
    shot(viewer, "chat-exported")
    viewer.close()

    # A new chat is listed next to the old one; picking the old one brings it back.
    page.locator("#new-conversation").click()
    expect(page.locator(FINAL)).to_have_count(0)
    ask(page, OTHER)
    expect(chat_options(page)).to_have_count(2)
    expect(chat_options(page).first).to_contain_text(OTHER)  # newest first
    chat_options(page).filter(has_text=FIRST).click()
    expect(page.locator("#chat .q")).to_have_count(3, timeout=WAIT_MS)
    expect(page.locator("#chat .q").first).to_have_text(FIRST)

    # Another browser (its own localStorage, so its own id) sees none of it.
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        stranger = other.new_page()
        open_page(stranger, server.url)
        expect(stranger.locator("#chats")).to_be_visible()
        expect(chat_options(stranger)).to_have_count(0)
        expect(stranger.locator("#chat .q")).to_have_count(0)
        ask(stranger, OTHER)
        expect(chat_options(stranger)).to_have_count(1)
        stranger.reload()
        open_page(stranger, server.url)
        wait_restored(stranger, 1)
        expect(chat_options(stranger)).to_have_count(1)
        expect(stranger.locator("#chats")).not_to_contain_text(FIRST)
    finally:
        other.close()
    expect(chat_options(page)).to_have_count(2)
    mine.close()


def test_a_corrupt_chats_file_is_reported_and_left_alone(tmp_path_factory: pytest.TempPathFactory, embedder,
                                                         browser) -> None:
    settings = make_settings(tmp_path_factory.mktemp("corrupt-chats-store"))
    junk = b"not a database, and it must not be thrown away\n" * 100
    settings.store.path.mkdir(parents=True, exist_ok=True)
    (settings.store.path / CHATS_FILE).write_bytes(junk)
    ui = RestartableUI(settings, embedder)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        open_page(page, ui.url)
        expect(page.locator("#chats-notice")).to_contain_text("Chats are not being saved", timeout=WAIT_MS)
        expect(page.locator("#chats-notice")).to_contain_text("left untouched")
        answer = ask(page, FIRST)  # answering goes on without saving
        expect(answer).to_have_class("ans answered")
        expect(page.locator("#notice")).to_contain_text("Chats are not being saved")
        expect(chat_options(page)).to_have_count(0)
    finally:
        context.close()
        ui.close()
    assert (settings.store.path / CHATS_FILE).read_bytes() == junk


def test_a_signed_in_user_owns_chats_on_any_browser() -> None:
    import gradio as gr

    from ui.chat_persistence import owner_of

    browser_id = "0123456789abcdef0123456789abcdef"
    assert owner_of(gr.Request(username="alice"), browser_id) == ("user:alice", browser_id)
    assert owner_of(gr.Request(), browser_id) == (f"browser:{browser_id}", browser_id)
    owner, fresh = owner_of(gr.Request(), "<script>not an id</script>")  # whatever else localStorage held is replaced
    assert fresh != "<script>not an id</script>" and owner == f"browser:{fresh}" and len(fresh) == 32
