"""Rating happens only on a finished answer, in a real browser (Debian chromium driven by Playwright): while an
answer streams, its thumbs (and its Copy button) are not shown, a click that reaches the hidden thumb anyway is
refused, and an older answer rated meanwhile keeps its rating; once the answer has finished its thumbs work, and
each rating is still on its own answer after a reload. Without a browser: a click sent with a chat that lags the
conversation (an answer recorded, or a turn dropped by Regenerate, a moment before the page showed it) never rates
another answer than the one clicked.

The server is test_ui_controls_browser.py's: the bundled corpus, extractive, with an answer that can be held just
before it finishes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_ui_browser import FINAL, WAIT_MS, ask, open_page
from test_ui_chats_browser import wait_restored
from test_ui_controls_browser import (
    JATEC,
    SECOND,
    HeldAssistant,
    screen,
    serve_held,
    start_held,
)

from assistant.types import Answer, Turn

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

STREAMING_THUMBS = "#chat .message-row:has(.ans.streaming) + .message-buttons"


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[str, HeldAssistant]]:
    yield from serve_held(tmp_path_factory.mktemp("stream-feedback-store"), embedder)


def test_thumbs_only_on_a_finished_answer(browser, held: tuple[str, HeldAssistant]) -> None:
    url, engine = held
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        open_page(page, url)
        ask(page, SECOND)
        start_held(page, engine, JATEC)
        streaming = page.locator("#chat .ans.streaming")
        expect(streaming.locator(".caret")).to_have_count(1)

        # Mid-stream: the streaming answer has no thumbs and no Copy; the finished one above it keeps its own.
        thumbs = page.locator(STREAMING_THUMBS)
        expect(thumbs).to_have_count(1)  # Gradio drew them...
        expect(thumbs).to_be_hidden()  # ...but they are not shown, so there is nothing to click
        expect(thumbs.locator("button[aria-label='Like']")).not_to_be_visible()
        expect(page.locator("#chat button[aria-label='Like']:visible")).to_have_count(1)
        expect(streaming.locator(".copy-answer")).to_have_count(0)
        streaming.scroll_into_view_if_needed()
        screen(page, "streaming-no-thumbs-mobile")
        # A click that reaches the hidden thumb anyway (a script, an old page) is refused, and rates nothing.
        thumbs.locator("button[aria-label='Like']").dispatch_event("click")
        expect(page.locator("#notice")).to_contain_text("still arriving", timeout=WAIT_MS)
        # The finished answer can be rated meanwhile: the rating goes to it (answer 1), not to the one streaming.
        page.locator("#chat button[aria-label='Like']:visible").click()
        expect(page.locator("#notice")).to_contain_text("Rated answer 1 thumbs up", timeout=WAIT_MS)

        engine.release()
        expect(page.locator(FINAL)).to_have_count(2, timeout=WAIT_MS)
        expect(page.locator("#chat .ans.streaming")).to_have_count(0)
        expect(page.locator(STREAMING_THUMBS)).to_have_count(0)
        last = page.locator("#chat .message-row:has(.ans) + .message-buttons").last
        expect(last.locator("button[aria-label='Dislike']")).to_be_visible(timeout=WAIT_MS)  # finished: thumbs shown
        expect(page.locator(FINAL).last.locator(".copy-answer")).to_be_visible()
        last.locator("button[aria-label='Dislike']").click()
        expect(page.locator("#notice")).to_contain_text("Rated answer 2 thumbs down", timeout=WAIT_MS)
        expect(page.locator("#chat button[aria-label='Liked']")).to_have_count(1)
        expect(page.locator("#chat button[aria-label='Disliked']")).to_have_count(1)
        screen(page, "rated-after-stream-mobile")

        # Each rating is on its own answer: after a reload, 👍 on the first and 👎 on the second.
        page.reload()
        open_page(page, url)
        wait_restored(page, 2)
        rows = page.locator("#chat .message-row:has(.ans) + .message-buttons")
        expect(rows.first.locator("button[aria-label='Liked']")).to_have_count(1, timeout=WAIT_MS)
        expect(rows.last.locator("button[aria-label='Disliked']")).to_have_count(1)
        expect(page.locator("#chat button[aria-label='Liked']")).to_have_count(1)
        expect(page.locator("#chat button[aria-label='Disliked']")).to_have_count(1)
    finally:
        engine.release()
        context.close()


def _answer(question: str, text: str) -> Answer:
    return Answer(question=question, standalone_question=question, text=text)


def _turn(answer: Answer) -> Turn:
    return Turn(question=answer.question, answer=answer.text)


def _shown(*answers: Answer | str) -> list[dict[str, str]]:
    """The chat's messages: each answer after its question; a str stands for an answer still streaming."""
    from ui import render

    messages = []
    for item in answers:
        question = item.question if isinstance(item, Answer) else "q?"
        messages.append({"role": "user", "content": render.render_question(question)})
        content = render.render_answer(item) if isinstance(item, Answer) else render.render_streaming(item)
        messages.append({"role": "assistant", "content": content})
    return messages


def test_a_click_sent_with_a_lagging_chat_rates_the_answer_clicked() -> None:
    from ui.feedback import turn_index

    one, two = _answer("Who runs the orchard?", "Mara. [1]"), _answer("Since when?", "Since 1968. [1]")
    # The second answer was recorded a moment before the page showed it finished: answer 1 is still turn 0 (counting
    # the kept answers shown took it for the newest turn).
    assert turn_index(_shown(one, "Since"), 1, [_turn(one), _turn(two)]) == 0
    assert turn_index(_shown(one, "Since"), 3, [_turn(one), _turn(two)]) is None  # the streaming one: not rateable
    # A long chat keeps its last two turns: the oldest shown is too old, the others are found where they now are.
    three = _answer("Where?", "In Quillmouth. [1]")
    assert [turn_index(_shown(one, two, "In"), p, [_turn(two), _turn(three)]) for p in (1, 3)] == [None, 0]
    # Regenerate dropped the last turn before the page showed its new answer streaming: that answer is not rated
    # (counting took it for turn 0, the first answer).
    assert turn_index(_shown(one, two), 3, [_turn(one)]) is None
    assert turn_index(_shown(one, two), 1, [_turn(one)]) == 0
    # The same question answered the same way twice: told apart by their order.
    assert [turn_index(_shown(one, one), p, [_turn(one), _turn(one)]) for p in (1, 3)] == [0, 1]
    assert [turn_index(_shown(one, two, one), p, [_turn(one), _turn(two), _turn(one)]) for p in (1, 3, 5)] == [0, 1, 2]
