"""Feedback and saved-chat controls in a real browser (Debian chromium driven by Playwright): an answer rated 👎
with a comment keeps its thumb after a reload and comes out in both exports; the chat is renamed, found by the
search (by its title and by a word of its answer) and deleted after a confirm step.

The server runs in this process over the bundled corpus with the extractive answerer (RestartableUI from
test_ui_chats_browser.py: a private store folder)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings
from test_ui_browser import FINAL, WAIT_MS, ask, open_page, shot
from test_ui_chats_browser import RestartableUI, chat_options, wait_restored

from assistant.conversation.export import markdown_filename

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

TRAINING = "What is the new Ukraine training centre in Poland meant to do?"
MINISTERS = "What plan did the NATO defence ministers approve in Brussels?"
COMMENT = "It quotes the older article; I wanted the opening date"
TITLE = "Training centre notes"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[RestartableUI]:
    ui = RestartableUI(make_settings(tmp_path_factory.mktemp("feedback-store")), embedder)
    try:
        yield ui
    finally:
        ui.close()


def words(text: str) -> set[str]:
    return {w.casefold() for w in re.findall(r"[A-Za-z]{6,}", text)}


def download(page, button: str, folder: Path) -> Path:
    with page.expect_download(timeout=WAIT_MS) as downloading:
        page.locator(button).click()
    saved = folder / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    return saved


def text_box(page, elem_id: str):
    """A Gradio Textbox's field: an <input> when it is one line, a <textarea> otherwise."""
    return page.locator(f"#{elem_id} input, #{elem_id} textarea").first


def search(page, text: str) -> None:
    text_box(page, "chat-search").fill(text)


def test_rate_with_a_comment_reload_rename_search_and_delete(server: RestartableUI, browser, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    open_page(page, server.url)
    expect(page.locator("#export-feedback")).to_be_disabled()

    # Rate the answer 👎 with Gradio's own thumb, then comment on it.
    training = ask(page, TRAINING)
    training_words = words(training.locator(".ans-text").inner_text())
    page.locator("#chat button[aria-label='Dislike']").first.click()
    expect(page.locator("#chat button[aria-label='Disliked']")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#notice")).to_contain_text("Rated answer 1 thumbs down", timeout=WAIT_MS)
    text_box(page, "feedback-comment").fill(COMMENT)
    page.locator("#save-comment").click()
    expect(page.locator("#notice")).to_contain_text("Saved your comment on answer 1", timeout=WAIT_MS)
    shot(page, "feedback-rated")

    # After a reload the thumb is still down, and both exports carry the verdict and its comment.
    page.reload()
    open_page(page, server.url)
    wait_restored(page, 1)
    expect(page.locator("#chat button[aria-label='Disliked']")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#chat button[aria-label='Liked']")).to_have_count(0)
    markdown = download(page, "#export-chat", tmp_path).read_text(encoding="utf-8")
    assert f"Feedback: 👎 — {COMMENT}" in markdown.replace("\\", "")
    expect(page.locator("#export-feedback")).to_be_enabled(timeout=WAIT_MS)
    (row,) = [json.loads(line) for line in download(page, "#export-feedback", tmp_path).read_text(encoding="utf-8").splitlines()]
    assert (row["question"], row["rating"], row["comment"]) == (TRAINING, "down", COMMENT)
    assert row["sources"] and all(source.endswith(".txt") for source in row["sources"])
    shown = " ".join(page.locator(FINAL).first.locator(".ans-text").inner_text().split())
    assert " ".join(row["answer"].split())[:30] in shown

    # Rename: an empty title is refused in one line and nothing is lost; a real one is listed.
    text_box(page, "chat-title").fill("   ")
    page.locator("#rename-chat").click()
    expect(page.locator("#chats-notice")).to_contain_text("cannot be empty", timeout=WAIT_MS)
    text_box(page, "chat-title").fill(TITLE)
    page.locator("#rename-chat").click()
    expect(page.locator("#chats-notice")).to_contain_text(f"Renamed this chat to “{TITLE}”", timeout=WAIT_MS)
    expect(chat_options(page)).to_have_count(1)
    expect(chat_options(page).first).to_contain_text(TITLE)
    # The export carries the new title, in its heading and its file name.
    expect(page.locator("#export-chat")).to_be_enabled(timeout=WAIT_MS)
    page.wait_for_timeout(500)  # the rename's export is written just after its notice
    renamed = download(page, "#export-chat", tmp_path)
    assert renamed.name == markdown_filename(TITLE)
    assert renamed.read_text(encoding="utf-8").startswith(f"# {TITLE}")

    # A second chat; the search finds each by its title or by a word only one of the answers holds.
    page.locator("#new-conversation").click()
    expect(page.locator(FINAL)).to_have_count(0)
    ministers = ask(page, MINISTERS)
    expect(chat_options(page)).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#chat button[aria-label='Disliked']")).to_have_count(0)  # the new chat's answer is unrated
    only_training = sorted(training_words - words(ministers.locator(".ans-text").inner_text()) - words(MINISTERS))
    assert only_training, "the two answers share every long word"
    search(page, "TRAINING CENTRE NOTES")
    expect(chat_options(page)).to_have_count(1, timeout=WAIT_MS)
    expect(chat_options(page).first).to_contain_text(TITLE)
    search(page, only_training[0].upper())
    expect(chat_options(page)).to_have_count(1, timeout=WAIT_MS)
    expect(chat_options(page).first).to_contain_text(TITLE)
    search(page, "no chat has this zyxw word")
    expect(chat_options(page)).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#chats-notice")).to_contain_text("No saved chat matches")

    # Delete the renamed chat: it is opened, asked about, and only goes once confirmed.
    search(page, "")
    expect(chat_options(page)).to_have_count(2, timeout=WAIT_MS)
    chat_options(page).filter(has_text=TITLE).click()
    expect(page.locator("#chat .q").first).to_have_text(TRAINING, timeout=WAIT_MS)
    page.locator("#delete-chat").click()
    expect(page.locator("#chats-notice")).to_contain_text(f"Delete the chat “{TITLE}” and its 1 answer?", timeout=WAIT_MS)
    page.locator("#cancel-delete-chat").click()
    expect(page.locator("#confirm-delete-chat")).to_be_hidden(timeout=WAIT_MS)
    expect(chat_options(page)).to_have_count(2)
    page.locator("#delete-chat").click()
    shot(page, "chat-delete-confirm")
    page.locator("#confirm-delete-chat").click()
    expect(page.locator("#chats-notice")).to_contain_text(f"Deleted the chat “{TITLE}”", timeout=WAIT_MS)
    expect(chat_options(page)).to_have_count(1)
    expect(chat_options(page).first).not_to_contain_text(TITLE)
    expect(page.locator("#chat .q")).to_have_count(0)  # the open chat was the deleted one: a new one starts
    expect(page.locator("#export-feedback")).to_be_disabled(timeout=WAIT_MS)  # its rating went with it

    page.reload()
    open_page(page, server.url)
    wait_restored(page, 1)
    expect(page.locator("#chat .q")).to_have_text([MINISTERS])
    expect(chat_options(page)).to_have_count(1)
    context.close()
