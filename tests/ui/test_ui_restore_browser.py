"""A saved chat looks the same after a reload and after a server restart as it did live, in a real
browser: short answer, notes and confidence, citations with their quotes, the abstention card, and the
follow-up's search folded behind a toggle. The Markdown export carries the same under a whole-word name.

Screenshots (live, restored; at desktop width and on a 390 x 844 phone) go to tests/artifacts/screenshots/ and,
when ASSISTANT_TEST_SCREENS names a folder, there too."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings
from test_ui_browser import SCREENSHOTS, WAIT_MS, ask, open_page, shot
from test_ui_chats_browser import RestartableUI, wait_restored

from assistant.conversation.export import markdown_filename

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}
SHORT = "In what German town is the headquarters of the new NATO Ukraine command to be located?"
FOLLOW_UP = "And how many staff will it have?"
UNANSWERABLE = "What does the Eiffel Tower weigh in tonnes?"

# What the page shows of one answer, read from the DOM (the "restored" marker and the meta line's timing aside).
SHOWN_JS = """(el) => {
  const text = (sel) => { const found = el.querySelector(sel); return found ? found.textContent.trim() : null; };
  const all = (sel) => [...el.querySelectorAll(sel)].map((x) => x.textContent.trim());
  return {kind: [...el.classList].filter((c) => c !== 'ans' && c !== 'restored'), short: text('.short-answer'),
          text: text('.ans-text'), head: text('.abstain-head, .clarify-head'), notes: all('.notes li'),
          flags: all('.unsupported-note'), confidence: text('.meta .confidence'), sources: all('details.src > summary'),
          quotes: all('details.src mark.span'), searched: text('details.rewritten .searched')};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[RestartableUI]:
    ui = RestartableUI(make_settings(tmp_path_factory.mktemp("restore-store")), embedder)
    try:
        yield ui
    finally:
        ui.close()


def shown(page) -> list[dict]:
    return [answer.evaluate(SHOWN_JS) for answer in page.locator("#chat .ans:not(.streaming)").all()]


def keep_shot(page, name: str, *, phone: bool = False) -> None:
    page.locator("#chat .short-answer").first.scroll_into_view_if_needed()  # the first answer in view
    if phone:  # what the phone's screen shows: a full-page shot resizes the page, and the chat scrolls to its end
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        expect(page.locator("#chat .short-answer").first).to_be_in_viewport()  # still there: the shot shows it
    else:
        shot(page, name)
    if os.environ.get("ASSISTANT_TEST_SCREENS"):
        target = Path(os.environ["ASSISTANT_TEST_SCREENS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCREENSHOTS / f"{name}.png", target / f"{name}.png")


# Resolves once the chat's scrolling box has kept still for 0.5 s: the chat scrolls itself to its end (smoothly) when
# its messages change, so a position set before that ends does not last.
SETTLE_JS = """async () => {
  const box = [...document.querySelectorAll('#chat *')].find(
    (e) => e.scrollHeight > e.clientHeight + 10 && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY));
  if (!box) return;
  for (let last = -1, still = 0; still < 5; ) {
    await new Promise((done) => setTimeout(done, 100));
    still = box.scrollTop === last ? still + 1 : 0;
    last = box.scrollTop;
  }
}"""


def assert_fits_a_phone(page, answer) -> None:
    """The answer's short answer and its notes (the "Unsure" one included) are on screen, and the page is no wider
    than the phone: nothing to scroll sideways."""
    page.evaluate(SETTLE_JS)
    short = answer.locator(".short-answer")
    short.scroll_into_view_if_needed()
    expect(short).to_be_in_viewport()
    notes = answer.locator(".notes li")
    expect(notes.filter(has_text="Unsure")).to_have_count(1)
    for note in notes.all():
        expect(note).to_be_visible()
        box = note.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    box = short.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# The question row as drawn: whether the question box shows its whole placeholder (nothing to scroll), and the
# heights of the box and of the Ask button beside it.
INPUT_ROW_JS = """() => {
  const box = document.querySelector('#question textarea');
  return {whole: box.scrollHeight <= box.clientHeight + 1, box: box.clientHeight,
          ask: Math.round(document.querySelector('#ask').getBoundingClientRect().height)};
}"""


def input_row(page) -> dict:
    expect(page.locator("#question textarea")).to_have_value("")
    row = page.evaluate(INPUT_ROW_JS)
    assert row["whole"], row  # the placeholder is whole, not cut after its first line
    return row


def assert_arrow_beside_the_answers(page) -> None:
    """Gradio's "scroll to the latest message" arrow (shown while the chat is not at its end) covers no answer."""
    arrow = page.locator("#chat .scroll-down-button-container button")
    expect(arrow).to_be_visible(timeout=WAIT_MS)
    box = arrow.bounding_box()
    for answer in page.locator("#chat .bot-row").all():
        shown = answer.bounding_box()
        overlap_y = box["y"] < shown["y"] + shown["height"] and shown["y"] < box["y"] + box["height"]
        assert not overlap_y or box["x"] >= shown["x"] + shown["width"], (box, shown)


def reopen(page, url: str, answers: int) -> list[dict]:
    page.reload()
    open_page(page, url)
    wait_restored(page, answers)
    return shown(page)


def test_a_saved_chat_shows_what_was_shown_live(server: RestartableUI, browser, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    open_page(page, server.url)

    answered = ask(page, SHORT)
    expect(answered.locator(".short-answer")).to_have_count(1)  # the case under test: a short answer, cited
    expect(answered.locator("details.src")).not_to_have_count(0)
    follow_up = ask(page, FOLLOW_UP)
    searched = follow_up.locator("details.rewritten")
    expect(searched.locator("summary")).to_have_text("How it was searched")
    expect(searched.locator(".searched")).not_to_be_visible()  # folded: the keyword pile is not in the answer
    assert "searched for" not in follow_up.locator(".ans-text").inner_text().lower()
    assert FOLLOW_UP in searched.locator(".searched").text_content()
    abstained = ask(page, UNANSWERABLE)
    expect(abstained).to_have_class("ans abstain")
    expect(abstained.locator(".abstain-head")).to_have_text("Not found in the documents")

    live = shown(page)
    assert live[0]["short"] and live[0]["quotes"] and live[0]["sources"] and live[2]["head"]
    page.locator("#chat details.src summary").first.click()
    keep_shot(page, "restore-live")

    restored = reopen(page, server.url, 3)
    assert restored == live
    expect(page.locator("#chat .ans.restored .meta").first).to_contain_text("restored from saved chat")
    expect(page.locator("#chat .ans.restored.abstain")).to_have_count(1)
    page.locator("#chat details.src summary").first.click()
    page.locator("#chat details.rewritten summary").first.click()
    expect(page.locator("#chat details.rewritten .searched").first).to_be_visible()
    keep_shot(page, "restore-restored")

    server.restart()  # a new page app on the same store folder and port: the same chat, shown the same
    assert reopen(page, server.url, 3) == live

    with page.expect_download(timeout=WAIT_MS) as downloading:
        page.locator("#export-chat").click()
    download = downloading.value
    assert download.suggested_filename == markdown_filename(SHORT)
    assert set(download.suggested_filename.removesuffix(".md").split("-")) <= set(SHORT.lower().rstrip("?").split())
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    literal = path.read_text(encoding="utf-8").replace("\\", "")  # Markdown escapes dropped, to compare with the page
    assert f"**Short answer: {live[0]['short']}**" in literal
    for note in live[0]["notes"]:
        assert f"- {note}" in literal
    if live[0]["confidence"]:
        assert f"*Confidence: {live[0]['confidence'].removeprefix('confidence ')}*" in literal
    assert f"   > {' '.join(live[0]['quotes'][0].split())}" in literal
    assert "**Not found in the documents**" in literal
    context.close()


def test_a_saved_chat_on_a_phone_shows_what_was_shown_live(server: RestartableUI, browser) -> None:
    context = browser.new_context(viewport=PHONE)  # a browser of its own: its own (empty) chat list
    try:
        page = context.new_page()
        open_page(page, server.url)
        fresh = input_row(page)
        answered = ask(page, SHORT)
        ask(page, UNANSWERABLE)
        live = shown(page)
        assert live[0]["short"] and live[0]["notes"] and live[1]["head"]
        assert_fits_a_phone(page, answered)
        keep_shot(page, "restore-live-mobile", phone=True)
        assert_arrow_beside_the_answers(page)
        answering = input_row(page)  # emptied by the answer: Gradio has resized the box to its placeholder

        assert reopen(page, server.url, 2) == live
        restored = page.locator("#chat .ans.restored").first
        expect(restored.locator(".meta")).to_contain_text("restored from saved chat")
        assert_fits_a_phone(page, restored)
        keep_shot(page, "restore-restored-mobile", phone=True)
        assert_arrow_beside_the_answers(page)
        # The question row looks the same on a fresh page, once answers came, and restored after a reload.
        assert fresh == answering == input_row(page), (fresh, answering)
    finally:
        context.close()
