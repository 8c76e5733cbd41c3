"""The chat's layout and answer controls in a real browser (Debian chromium driven by Playwright): a steady chat
column, a one-line header and a streaming answer on a phone, Copy, Regenerate and Stop.

The server runs in this process (as in test_ui_browser.py) over the bundled corpus with the extractive answerer.
An extractive answer takes a fraction of a second, too fast to click Stop on reliably, so its engine here can hold
one answer: just before the final Answer (after the streamed text), the worker waits until the test releases it.
That is the hard case of Stop: Gradio cancels the event, but the step running in a worker thread goes on and its
answer arrives after Stop; it must not be kept or saved."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from conftest import free_port, make_settings
from test_ui_browser import FINAL, WAIT_MS, ask, open_page

from assistant import Assistant
from assistant.engine import Retrieval, Stopwatch
from assistant.types import Answer, Turn

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

SCREENS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"  # git-ignored, beside the other tests' screenshots
HOLD_S = 120  # the longest a held answer waits for the test (it is always released before that)
JATEC = "Which country hosts the JATEC training center?"
SECOND = "What did Ukraine and NATO agree about interoperability?"


class HeldAssistant(Assistant):
    """The real engine; after `hold_next()`, its next answer waits before its final Answer until `release()`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._hold = threading.Event()
        self.holding = threading.Event()  # set while an answer waits
        self._released = threading.Event()

    def hold_next(self) -> None:
        self._released.clear()
        self.holding.clear()
        self._hold.set()

    def release(self) -> None:
        self._released.set()

    def answer_found(self, found: Retrieval, *, question: str, history: Sequence[Turn],
                     clock: Stopwatch, asked: str = "") -> Iterator[str | Answer]:
        held = self._hold.is_set()
        self._hold.clear()
        for piece in super().answer_found(found, question=question, history=history, clock=clock, asked=asked):
            if held and isinstance(piece, Answer):
                self.holding.set()
                self._released.wait(HOLD_S)
            yield piece


def serve_held(store: Path, embedder) -> Iterator[tuple[str, HeldAssistant]]:
    """The page on the bundled corpus, served by a HeldAssistant: (its URL, the engine that holds answers)."""
    from ui.server import start

    settings = make_settings(store)
    engine = HeldAssistant(settings, embedder=embedder)
    running = start(settings, host="127.0.0.1", port=free_port(), engine=engine, log=lambda *_: None)
    try:
        yield running.url.rstrip("/"), engine
    finally:
        engine.release()
        running.close()


def start_held(page, engine: HeldAssistant, question: str) -> None:
    """Ask `question` and wait until its answer has streamed its text and is held before it finishes."""
    engine.hold_next()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    assert engine.holding.wait(WAIT_MS / 1000), "the held answer never started"
    expect(page.locator("#chat .ans.streaming")).to_have_count(1, timeout=WAIT_MS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[str, HeldAssistant]]:
    yield from serve_held(tmp_path_factory.mktemp("controls-store"), embedder)


@pytest.fixture
def page(browser, server: tuple[str, HeldAssistant]) -> Iterator[object]:
    url, engine = server
    # A fresh context: its own browser id, so its own (empty) chat list. Clipboard access is granted, so Copy is
    # checked through the real async clipboard, not only through the hidden #copied-answer it also fills.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    opened = context.new_page()
    open_page(opened, url)
    yield opened
    engine.release()
    context.close()


def screen(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"controls-{name}.png"), full_page=True)


def watch_streaming(page) -> None:
    """From now on, window.__sawStreaming says whether an answer was seen streaming."""
    page.evaluate("""() => { window.__sawStreaming = false;
        new MutationObserver(() => { if (document.querySelector('#chat .ans.streaming')) window.__sawStreaming = true; })
          .observe(document.body, {subtree: true, childList: true, characterData: true}); }""")


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_chat_column_keeps_its_width_after_the_first_answer(page) -> None:
    before = page.locator("#chat-column").bounding_box()
    chat_before = page.locator("#chat").bounding_box()
    screen(page, "desktop-empty")
    ask(page, JATEC)
    after = page.locator("#chat-column").bounding_box()
    chat_after = page.locator("#chat").bounding_box()
    assert (before["x"], before["width"]) == (after["x"], after["width"])
    assert (chat_before["x"], chat_before["width"]) == (chat_after["x"], chat_after["width"])
    assert after["width"] > 700  # 7/11 of the 1400 px page, not a content-sized column
    screen(page, "desktop-answer")


def test_header_is_one_line_on_a_phone(browser, server: tuple[str, HeldAssistant]) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = context.new_page()
        open_page(phone, server[0])
        header = phone.locator(".app-header").bounding_box()
        title = phone.locator(".brand-title")
        button = phone.locator("#new-conversation").bounding_box()
        line = float(title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 1.2 * parseFloat(getComputedStyle(e).fontSize)"))
        assert title.bounding_box()["height"] < 1.5 * line  # the title is one line (ellipsis, never wrapped)
        assert title.evaluate("e => e.scrollWidth <= e.clientWidth")  # ... and whole at 390 px: no ellipsis
        # One row: the button sits beside the title (its middle within the title's line), not under it, and the
        # header is no taller than the brand mark or the button (~30 px) plus a margin: a second line of title
        # (~21 px) or a wrapped button (~26 px) would take it over 56 px (it was three lines before).
        middle = button["y"] + button["height"] / 2
        title_box = title.bounding_box()
        assert title_box["y"] - 6 <= middle <= title_box["y"] + title_box["height"] + 6
        assert header["height"] <= 56, header
        assert button["width"] <= 150 and button["height"] <= 32, button  # a small button, not a 170 px one
        assert button["x"] + button["width"] <= 390 and phone.evaluate("document.documentElement.scrollWidth") <= 390
        expect(phone.locator("#new-conversation")).to_have_text("New conversation")
        screen(phone, "mobile")
    finally:
        context.close()


def test_a_streaming_answer_on_a_phone_shows_its_text_so_far(browser, server: tuple[str, HeldAssistant]) -> None:
    url, engine = server
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = context.new_page()
        open_page(phone, url)
        start_held(phone, engine, JATEC)  # held just before it finishes: its text has streamed, its sources not yet
        streaming = phone.locator("#chat .ans.streaming")
        text = streaming.locator(".ans-text")
        expect(text.locator(".thinking")).to_have_count(0, timeout=WAIT_MS)  # "Searching the documents…" gave way
        so_far = squash(text.inner_text())
        assert len(so_far) > 20, so_far  # ... to the text streamed so far
        expect(text.locator(".caret")).to_have_count(1)  # still arriving
        expect(streaming.locator("details.src")).to_have_count(0)  # what a finished answer adds is not there yet
        expect(streaming.locator(".copy-answer")).to_have_count(0)
        expect(phone.locator("#stop")).to_be_in_viewport()
        box = text.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screen(phone, "streaming-mobile")
        engine.release()
        finished = phone.locator(FINAL)
        expect(finished).to_have_count(1, timeout=WAIT_MS)  # then it finishes, with what had streamed
        expect(finished).to_have_class("ans answered")
        assert squash(finished.locator(".ans-text").inner_text()).startswith(so_far[:20])
    finally:
        engine.release()
        context.close()


def test_a_draft_typed_while_an_answer_streams_is_kept(page, server: tuple[str, HeldAssistant]) -> None:
    _, engine = server
    engine.hold_next()
    box = page.locator("#question textarea")
    box.fill(JATEC)
    page.locator("#ask").click()
    try:
        assert engine.holding.wait(WAIT_MS / 1000), "the held answer never started"
        expect(box).to_have_value("", timeout=WAIT_MS)  # the question was taken
        box.fill(SECOND)  # the next question, typed before this answer has finished
    finally:
        engine.release()
    expect(page.locator(FINAL)).to_have_count(1, timeout=WAIT_MS)
    page.wait_for_timeout(500)  # any late update of the box would have landed by now
    expect(box).to_have_value(SECOND)


def test_a_question_refused_as_too_long_stays_in_the_box_to_be_shortened(page) -> None:
    box = page.locator("#question textarea")
    long_question = "Which country hosts the training center? " * 60  # over the 2,000-character limit
    box.fill(long_question)
    page.locator("#ask").click()
    expect(page.locator("#chat .ans.failed")).to_have_count(1, timeout=WAIT_MS)
    expect(box).to_have_value(long_question)


def test_copy_puts_the_answer_text_with_its_markers_in_the_clipboard(page) -> None:
    answer = ask(page, JATEC)
    shown = squash(answer.locator(".ans-text").inner_text())
    assert "[1]" in shown
    answer.locator(".copy-answer").click()
    expect(answer.locator(".copy-answer")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert squash(copied) == shown
    assert page.locator("#copied-answer").input_value() == copied
    expect(answer.locator(".copy-answer")).to_have_text("Copy", timeout=5_000)  # the label comes back


def test_regenerate_replaces_the_last_answer_for_the_same_question(page, server: tuple[str, HeldAssistant]) -> None:
    ask(page, SECOND)
    first = ask(page, JATEC)
    old_text = squash(first.locator(".ans-text").inner_text())
    expect(page.locator("#stop")).to_be_hidden()
    watch_streaming(page)
    page.locator("#regenerate").click()
    page.wait_for_function("window.__sawStreaming", timeout=WAIT_MS)  # a new answer was streamed in its place
    expect(page.locator("#chat .ans.streaming")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator(FINAL)).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_count(2)
    expect(page.locator("#chat .q").last).to_have_text(JATEC)
    again = page.locator(FINAL).last
    expect(again).to_have_class("ans answered")
    assert squash(again.locator(".ans-text").inner_text()) == old_text  # extractive: the same question, same answer
    # The chat kept one turn per question, not the replaced one too: reloading restores exactly what is shown.
    page.reload()
    expect(page.locator("#chat .ans.restored")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_text([SECOND, JATEC])


def test_stop_ends_a_running_answer_which_is_not_saved(page, server: tuple[str, HeldAssistant]) -> None:
    _, engine = server
    ask(page, SECOND)
    engine.hold_next()
    page.locator("#question textarea").fill(JATEC)
    page.locator("#ask").click()
    expect(page.locator("#stop")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#regenerate")).to_be_hidden()
    assert engine.holding.wait(WAIT_MS / 1000), "the held answer never started"
    expect(page.locator("#chat .ans.streaming")).to_have_count(1)
    screen(page, "streaming")
    page.locator("#stop").click()
    stopped = page.locator("#chat .ans.stopped")
    expect(stopped).to_have_count(1, timeout=WAIT_MS)
    expect(stopped).to_contain_text("Stopped")
    expect(page.locator("#chat .ans.streaming")).to_have_count(0)
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#regenerate")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("Stopped the answer")
    screen(page, "stopped")

    engine.release()  # the cancelled worker's answer now arrives: it must be discarded, not shown or saved
    page.wait_for_timeout(1_500)
    expect(page.locator("#chat .ans.stopped")).to_have_count(1)
    expect(page.locator("#chat .ans.answered")).to_have_count(1)
    page.reload()
    expect(page.locator("#chat .ans.restored")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_text([SECOND])

    # Regenerate after a stop asks the stopped question again (it is the last question, though never answered).
    page.locator("#question textarea").fill(JATEC)
    page.locator("#ask").click()
    engine_answer = page.locator("#chat .ans.answered:not(.restored)")
    expect(engine_answer).to_have_count(1, timeout=WAIT_MS)
    engine.hold_next()
    page.locator("#regenerate").click()
    assert engine.holding.wait(WAIT_MS / 1000)
    page.locator("#stop").click()
    expect(page.locator("#chat .ans.stopped")).to_have_count(1, timeout=WAIT_MS)
    engine.release()
    page.locator("#regenerate").click()
    expect(page.locator("#chat .ans.stopped")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#chat .ans.answered:not(.restored)")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_text([SECOND, JATEC])
    page.reload()
    expect(page.locator("#chat .ans.restored")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#chat .q")).to_have_text([SECOND, JATEC])


def test_stop_after_the_answer_finished_keeps_it_and_a_late_answer_after_stop_is_dropped() -> None:
    """The two orders of the Stop race, without a browser (the browser test above covers Stop first, live)."""
    from ui import controls

    answer = Answer(question="Who runs the orchard?", standalone_question="Who runs the orchard?", text="Mara. [1]")
    streaming = [{"role": "user", "content": "q"}, {"role": "assistant", "content": '<div class="ans streaming">x</div>'}]
    recorded: list[Answer] = []

    run = controls.AnswerRun()
    first = run.start(answer.question)
    assert run.keep(first, answer, lambda: recorded.append(answer))  # finished first...
    messages, stopped = controls.stopped_messages(streaming, run)  # ...then Stop: it stays, shown finished
    assert not stopped and recorded == [answer] and run.pending is None
    assert 'class="ans answered"' in messages[-1]["content"] and "copy-answer" in messages[-1]["content"]

    second = run.start(answer.question)
    run.partial = "Mara"
    messages, stopped = controls.stopped_messages(streaming, run)  # Stop first...
    assert stopped and 'class="ans stopped"' in messages[-1]["content"] and "Mara" in messages[-1]["content"]
    assert not run.keep(second, answer, lambda: recorded.append(answer))  # ...the late answer is not recorded
    assert recorded == [answer] and run.pending == answer.question  # Regenerate asks the stopped question
