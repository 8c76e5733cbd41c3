"""One answer at a time, and one chat in two tabs, in a real browser (Debian chromium driven by Playwright).

While an answer streams, it belongs to the open chat: opening another saved chat, starting a new one or sending a
second question is refused with a one-line notice (the draft stays in its box), and the answer lands, finished and
saved, in the chat it was asked in. Two tabs of one browser share its saved chats: when both add to the same chat,
the second save does not overwrite the first's turns; it is saved as a new chat and says so.

The answers are held (test_ui_controls_browser.HeldAssistant) so that the test acts while one is still streaming."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_ui_browser import FINAL, WAIT_MS, ask, open_page
from test_ui_chats_browser import chat_options
from test_ui_controls_browser import (
    JATEC,
    SECOND,
    HeldAssistant,
    serve_held,
    start_held,
)

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

BUSY = "An answer is still arriving"
THIRD = "Where does NATO train Ukrainian officers?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[str, HeldAssistant]]:
    yield from serve_held(tmp_path_factory.mktemp("busy-store"), embedder)


@pytest.fixture
def context(browser, server: tuple[str, HeldAssistant]) -> Iterator[object]:
    """A fresh browser context: its own browser id, so its own (empty) chat list."""
    _, engine = server
    opened = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield opened
    engine.release()
    opened.close()


@pytest.fixture
def page(context, server: tuple[str, HeldAssistant]) -> object:
    tab = context.new_page()
    open_page(tab, server[0])
    return tab


def test_another_chat_is_not_opened_while_an_answer_streams_and_the_answer_lands_in_its_own_chat(
        page, server: tuple[str, HeldAssistant]) -> None:
    _, engine = server
    ask(page, SECOND)  # the first saved chat
    page.locator("#new-conversation").click()
    expect(page.locator(FINAL)).to_have_count(0, timeout=WAIT_MS)
    start_held(page, engine, JATEC)
    try:
        chat_options(page).filter(has_text=SECOND).click()  # open the other chat while this answer streams
        expect(page.locator("#chats-notice")).to_contain_text(BUSY, timeout=WAIT_MS)
        page.locator("#new-conversation").click()  # or start a new one
        expect(page.locator("#notice")).to_contain_text(BUSY, timeout=WAIT_MS)
        expect(page.locator("#chat .q")).to_have_text([JATEC])
        expect(page.locator("#chat .ans.streaming")).to_have_count(1)
        expect(page.locator("#stop")).to_be_visible()
    finally:
        engine.release()
    expect(page.locator("#chat .ans.answered")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_text([JATEC])
    expect(chat_options(page)).to_have_count(2, timeout=WAIT_MS)

    # Both chats were saved whole, each with its own question: the answer did not land in the other one.
    page.reload()
    expect(page.locator("#chat .ans.restored")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_text([JATEC])
    chat_options(page).filter(has_text=SECOND).click()  # nothing streams now: it opens
    expect(page.locator("#chat .q")).to_have_text([SECOND], timeout=WAIT_MS)


def test_a_second_question_sent_while_an_answer_streams_stays_in_the_box_and_is_asked_after(
        page, server: tuple[str, HeldAssistant]) -> None:
    _, engine = server
    start_held(page, engine, JATEC)
    box = page.locator("#question textarea")
    try:
        expect(box).to_have_value("", timeout=WAIT_MS)
        box.fill(SECOND)
        box.press("Enter")  # sent before the first answer finished
        expect(page.locator("#notice")).to_contain_text(BUSY, timeout=WAIT_MS)
        expect(box).to_have_value(SECOND)
        expect(page.locator("#stop")).to_be_visible()  # the first answer still runs, and can still be stopped
        expect(page.locator("#chat .q")).to_have_text([JATEC])
    finally:
        engine.release()
    expect(page.locator("#chat .ans.answered")).to_have_count(1, timeout=WAIT_MS)
    expect(box).to_have_value(SECOND)
    page.locator("#ask").click()  # now it is asked
    expect(page.locator("#chat .ans.answered")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_text([JATEC, SECOND])
    page.reload()
    expect(page.locator("#chat .ans.restored")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_text([JATEC, SECOND])


def test_two_tabs_adding_to_one_chat_never_overwrite_each_others_turns(
        context, server: tuple[str, HeldAssistant]) -> None:
    url, _ = server
    first = context.new_page()
    open_page(first, url)
    ask(first, SECOND)
    second = context.new_page()  # the same browser: it opens the same (latest) chat
    open_page(second, url)
    expect(second.locator("#chat .q")).to_have_text([SECOND], timeout=WAIT_MS)

    ask(first, JATEC)  # the first tab adds a turn...
    ask(second, THIRD)  # ...then the second, to its older copy of the chat
    expect(second.locator("#notice")).to_contain_text("saved as a new chat", timeout=WAIT_MS)
    expect(chat_options(second)).to_have_count(2, timeout=WAIT_MS)

    first.reload()  # the first tab's turns are all still saved, in the chat they were asked in
    expect(chat_options(first)).to_have_count(2, timeout=WAIT_MS)
    chat_options(first).filter(has_text=SECOND).nth(0).click()
    shown = [first.locator("#chat .q").all_inner_texts()]
    chat_options(first).filter(has_text=SECOND).nth(1).click()
    first.wait_for_timeout(500)
    shown.append(first.locator("#chat .q").all_inner_texts())
    assert sorted(shown) == sorted([[SECOND, JATEC], [SECOND, THIRD]]), shown

