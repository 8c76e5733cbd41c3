"""The web page in a real browser: Debian chromium driven by Playwright (sync API).

One UI server per module, on a free loopback port, over a private tmp store holding the bundled
corpus. Screenshots land in tests/artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port, make_settings

from assistant import Assistant
from assistant.config import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

from playwright.sync_api import expect

SCREENSHOTS = PROJECT_ROOT / "tests" / "artifacts" / "screenshots"
MAX_UPLOAD_MB = 0.05
WAIT_MS = 120_000  # generous ceiling for slow CI machines; never a performance assertion
FINAL = "#chat .ans:not(.streaming)"
EVIL_SCRIPT = "<script>window.__pwned=1</script>"
EVIL_IMG = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def ui_url(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:
    from ui.server import start

    closed_port = free_port()  # the 'openai' backend points at a port nobody serves: its failure path is tested
    settings = make_settings(tmp_path_factory.mktemp("ui-store"), ui={"max_upload_mb": MAX_UPLOAD_MB},
                             llm={"base_url": f"http://127.0.0.1:{closed_port}/v1", "timeout_s": 5})
    running = start(settings, host="127.0.0.1", port=free_port(), engine=Assistant(settings, embedder=embedder),
                    log=lambda *_: None)
    try:
        yield running.url.rstrip("/")
    finally:
        running.close()


@pytest.fixture
def page(browser, ui_url: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    open_page(opened, ui_url)
    yield opened
    context.close()


def open_page(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#corpus table")).to_be_visible(timeout=WAIT_MS)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str):
    """Ask and wait for the finished answer; returns its locator."""
    final = page.locator(FINAL)
    before = final.count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    expect(final).to_have_count(before + 1, timeout=WAIT_MS)
    return final.nth(before)


def upload(page, *files: Path | dict) -> None:
    page.locator("#upload input[type=file]").set_input_files(list(files) if len(files) > 1 else files[0])


def documents_count(page) -> str:
    return page.locator("#corpus td.corpus-documents").inner_text().strip()


def assert_not_pwned(page) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"


# -- the main journey -------------------------------------------------------------------------------
def test_ask_cite_follow_up_and_upload(page, tmp_path: Path) -> None:
    page.evaluate("""() => { window.__sawStreaming = false;
        new MutationObserver(() => { if (document.querySelector('#chat .ans.streaming')) window.__sawStreaming = true; })
          .observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
    expect(page.locator("#corpus")).to_contain_text("all-MiniLM-L6-v2")
    expect(page.locator("#corpus")).to_contain_text("local folder")
    before = int(documents_count(page))
    assert before >= 5
    shot(page, "01-start")

    first = ask(page, "What is the JATEC center?")
    assert page.evaluate("window.__sawStreaming"), "the answer never showed a streaming state"
    expect(first).to_have_class("ans answered")
    assert first.locator(".ans-text .cite").count() >= 1
    assert "[1]" in first.locator(".ans-text").inner_text()
    assert "JATEC" in first.locator(".ans-text").inner_text()

    source = first.locator("details.src").first
    expect(source.locator(".passage")).not_to_be_visible()
    source.locator("summary").click()
    expect(source.locator("mark.span").first).to_be_visible()
    marked = source.locator("mark.span").first.inner_text().strip()
    assert len(marked) > 20 and marked in first.locator(".ans-text").inner_text()
    # Either JATEC article may hold the best definition; the date shown must be that file's own.
    dates = {"000_41cde8d9d66dd8ed.txt": "2024-11-17", "004_5fd673f8dd665ae0.txt": "undated"}
    cited_file = source.locator(".src-file").inner_text().strip()
    assert cited_file in dates and source.locator(".src-date").inner_text() == dates[cited_file]
    shot(page, "02-answer-with-source")

    follow_up = ask(page, "Where was its first meeting held?")
    expect(follow_up).to_have_class("ans answered")
    expect(follow_up.locator(".rewritten")).to_contain_text("JATEC")
    assert "Poland" in follow_up.locator(".ans-text").inner_text()
    follow_up.locator(".cite").first.click()  # a [n] badge opens its source
    expect(follow_up.locator("details.src[open] mark.span").first).to_be_visible()
    shot(page, "03-follow-up")

    doc = tmp_path / "orchard.md"
    doc.write_text("The Kestrel Orchard cooperative grows 41 varieties of heirloom apples in Vermont. "
                   "The cooperative was founded by Mara Quillfeather in 1987.\n", encoding="utf-8")
    upload(page, doc)
    expect(page.locator("#upload-status")).to_contain_text("Indexed 1 file(s): orchard.md", timeout=WAIT_MS)
    expect(page.locator("#corpus td.corpus-documents")).to_have_text(str(before + 1))
    about_upload = ask(page, "Who founded the Kestrel Orchard cooperative?")
    expect(about_upload).to_have_class("ans answered")
    assert "Mara Quillfeather" in about_upload.locator(".ans-text").inner_text()
    assert about_upload.locator(".src-file").first.inner_text() == "upload:orchard.md"
    shot(page, "04-upload-and-ask")


def test_new_conversation_forgets_the_previous_turns(page) -> None:
    ask(page, "What is the JATEC center?")
    page.locator("#new-conversation").click()
    expect(page.locator(FINAL)).to_have_count(0)
    expect(page.locator("#notice")).to_contain_text("new conversation")
    alone = ask(page, "Where was its first meeting held?")
    expect(alone.locator(".rewritten")).to_have_count(0)  # nothing carried over from the old conversation
    off_topic = ask(page, "What is the capital of France?")
    expect(off_topic).to_have_class("ans abstain")
    expect(off_topic).to_contain_text("Not found in the documents")
    expect(off_topic.locator("details.src")).to_have_count(0)
    shot(page, "05-abstention")


def test_sessions_are_isolated_across_browser_contexts(browser, ui_url: str) -> None:
    one, two = browser.new_context(), browser.new_context()
    try:
        page_one, page_two = one.new_page(), two.new_page()
        open_page(page_one, ui_url)
        open_page(page_two, ui_url)
        ask(page_one, "What is the JATEC center?")
        expect(page_two.locator("#chat .q")).to_have_count(0)
        other = ask(page_two, "Where was its first meeting held?")
        expect(other.locator(".rewritten")).to_have_count(0)  # no JATEC context leaked into this session
        mine = ask(page_one, "Where was its first meeting held?")
        expect(mine).to_have_class("ans answered")
        expect(mine.locator(".rewritten")).to_contain_text("JATEC")
        assert "Poland" in mine.locator(".ans-text").inner_text()
        expect(page_one.locator("#chat .q")).to_have_count(2)
        expect(page_two.locator("#chat .q")).to_have_count(1)
    finally:
        one.close()
        two.close()


def test_settings_panel_filters_and_switches_the_answerer(page) -> None:
    page.locator("#date-from textarea, #date-from input").first.fill("2024-11-01")
    filtered = ask(page, "In which city in Poland did the Ukrainian delegation meet NATO representatives?")
    dates = filtered.locator(".src-date").all_inner_texts()
    assert all(d >= "2024-11-01" for d in dates), dates
    page.locator("#date-from textarea, #date-from input").first.fill("")
    unfiltered = ask(page, "In which city in Poland did the Ukrainian delegation meet NATO representatives?")
    assert "Bydgoszcz" in unfiltered.locator(".ans-text").inner_text()

    page.locator("#answerer input").click()
    page.get_by_role("option", name="OpenAI-compatible server").click()
    generative = ask(page, "What is the JATEC center?")
    expect(generative.locator(".meta")).to_contain_text("openai")
    expect(generative.locator(".notes")).to_contain_text("cannot reach the model server")  # said, not hidden
    page.locator("#answerer input").click()
    page.get_by_role("option", name="Extractive (quotes, no model)").click()

    page.locator("#source-filter input").click()
    page.get_by_role("option", name="003_e49305c45f08ffdc.txt").click()
    page.locator("#question textarea").click()  # close the options list
    excluded = ask(page, "In which city in Poland did the Ukrainian delegation meet NATO representatives?")  # unfiltered, this cites 000_...
    assert set(excluded.locator(".src-file").all_inner_texts()) <= {"003_e49305c45f08ffdc.txt"}
    only_one = ask(page, "What did NATO foreign ministers agree?")
    expect(only_one).to_have_class("ans answered")
    assert set(only_one.locator(".src-file").all_inner_texts()) == {"003_e49305c45f08ffdc.txt"}

    shot(page, "08-settings-and-backend-fallback")


# -- escaping ------------------------------------------------------------------------------------------
def test_malicious_documents_questions_and_names_never_run(page, tmp_path: Path) -> None:
    md = tmp_path / "heron.md"
    md.write_text(f"The heron password is BLUEFINCH-7. Visitors typed {EVIL_SCRIPT} into the guestbook, "
                  f"and someone added {EVIL_IMG} as well.\n", encoding="utf-8")
    html_doc = tmp_path / "osprey.html"
    html_doc.write_text("<html><head><title>Osprey &lt;b&gt;notes</title><script>window.__pwned=1</script></head>"
                        "<body><p>The osprey nest code is REDKITE-9. A comment said &lt;script&gt;window.__pwned=1"
                        "&lt;/script&gt; there.</p><img src=x onerror=\"window.__pwned=1\"></body></html>", encoding="utf-8")
    evil_name = {"name": 'kite<img src=y onerror="window.__pwned=1">.md', "mimeType": "text/markdown",
                 "buffer": b"The kite festival ticket costs 12 euros.\n"}
    as_payload = [{"name": f.name, "mimeType": "text/plain", "buffer": f.read_bytes()} for f in (md, html_doc)]
    upload(page, *as_payload, evil_name)
    expect(page.locator("#upload-status")).to_contain_text("Indexed 3 file(s)", timeout=WAIT_MS)
    expect(page.locator("#upload-status")).to_contain_text("onerror=")  # the file name, shown as text
    page.locator("#corpus details.doc-list summary").click()
    expect(page.locator("#corpus")).to_contain_text("Osprey <b>notes")

    heron = ask(page, "What is the heron password?")
    assert "BLUEFINCH-7" in heron.inner_text()
    heron.locator("details.src").first.locator("summary").click()
    passage = heron.locator("details.src").first.locator(".passage")
    expect(passage).to_contain_text(EVIL_SCRIPT)
    expect(passage).to_contain_text(EVIL_IMG)

    osprey = ask(page, "What is the osprey nest code?")
    osprey.locator("details.src").first.locator("summary").click()
    expect(osprey.locator(".passage").first).to_contain_text(EVIL_SCRIPT)
    expect(osprey.locator(".src-title").first).to_have_text("Osprey <b>notes")

    question = f"Is {EVIL_IMG} {EVIL_SCRIPT} in the guestbook?"
    ask(page, question)
    expect(page.locator("#chat .q").last).to_have_text(question)
    assert page.locator("#chat img[src=x], #chat img[src=y], #chat script, #corpus img, #upload-status img").count() == 0
    assert_not_pwned(page)
    shot(page, "06-escaped-malicious-document")


# -- messages for everything that can go wrong -------------------------------------------------------
def test_each_error_gives_a_clear_message_and_loses_nothing(page, tmp_path: Path) -> None:
    before = documents_count(page)

    page.locator("#question textarea").fill("   ")
    page.locator("#ask").click()
    expect(page.locator("#notice")).to_contain_text("Type a question first: the message is empty.")
    expect(page.locator("#chat .q")).to_have_count(0)

    wrong = tmp_path / "report.xlsx"
    wrong.write_bytes(b"PK\x03\x04 not for us")
    upload(page, wrong)
    expect(page.locator("#upload-status")).to_contain_text(
        "report.xlsx: .xlsx files are not supported; upload .txt, .md, .html, .pdf", timeout=WAIT_MS)
    expect(page.locator("#upload-status")).to_contain_text("already indexed are unchanged")

    big = tmp_path / "big.txt"
    big.write_text("word " * 20_000, encoding="utf-8")  # 100 KB > 0.05 MB
    upload(page, big)
    expect(page.locator("#upload-status")).to_contain_text(f"big.txt: the file is 98 KB, over the {MAX_UPLOAD_MB:g} MB upload limit",
                                                           timeout=WAIT_MS)

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"this is not a PDF at all")
    upload(page, broken)
    expect(page.locator("#upload-status")).to_contain_text("broken.pdf: is not a readable PDF", timeout=WAIT_MS)

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Café crème, déjà vu".encode("latin-1"))
    upload(page, latin1)
    expect(page.locator("#upload-status")).to_contain_text("latin1.txt: is not UTF-8 text", timeout=WAIT_MS)
    shot(page, "07-upload-errors")

    page.locator("#date-from input, #date-from textarea").first.fill("last tuesday")
    page.locator("#question textarea").fill("What is the JATEC center?")
    page.locator("#ask").click()
    expect(page.locator("#notice")).to_contain_text("The 'From' date 'last tuesday' is not a date; pass YYYY-MM-DD")
    page.locator("#date-from input, #date-from textarea").first.fill("")

    assert documents_count(page) == before
    still = ask(page, "What is the JATEC center?")
    expect(still).to_have_class("ans answered")
    expect(page.locator("#notice")).to_have_text("")
