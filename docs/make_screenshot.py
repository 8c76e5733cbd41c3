"""Make the README's screenshot, docs/images/chat.png: the chat page answering a question on the bundled corpus.

    .venv/bin/python docs/make_screenshot.py [--out docs/images/chat.png] [--question "..."]

What it does, as the browser tests do (tests/ui/test_ui_browser.py): starts the page and the API in this
process on a free loopback port, over a private temporary index of the bundled `corpus/` (the checkout's
`index/` and saved chats are never touched; the first start builds the index, about a minute on 2 cores),
opens it in Debian's chromium (`/usr/bin/chromium`, or `ASSISTANT_TEST_CHROMIUM`) driven by Playwright,
asks a question (and an optional follow-up), opens the first answer's first source (its cited span
highlighted) and saves a 1200x800 screenshot of the viewport. Needs the `ui` and `test` extras
(`make install-test`); nothing is downloaded. The answers are deterministic, so a rerun gives the same
page up to the chat's date and the page's own changes. Takes about 2 minutes on 2 busy cores.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ui` is a top-level folder of the checkout, not an installed package

CHROMIUM = os.environ.get("ASSISTANT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 180_000
FINAL = "#chat .ans:not(.streaming)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ask(page, question: str):
    """Type a question, press Ask and wait for its finished answer; returns the answer's locator."""
    from playwright.sync_api import expect

    final = page.locator(FINAL)
    before = final.count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    expect(final).to_have_count(before + 1, timeout=WAIT_MS)
    return final.nth(before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "chat.png")
    parser.add_argument("--question", default="What does JATEC stand for?")
    parser.add_argument("--follow-up", default="", help="a second question, asked after the first (none by default)")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        parser.error(f"no chromium at {CHROMIUM}: apt-get install -y chromium, or set ASSISTANT_TEST_CHROMIUM")

    from playwright.sync_api import expect, sync_playwright

    from assistant import Assistant, load_settings
    from ui.server import start

    with tempfile.TemporaryDirectory(prefix="assistant-screenshot-") as store:
        settings = load_settings().with_(store={"path": Path(store), "collection": "corpus", "chroma_url": None},
                                         corpus={"path": ROOT / "corpus"})
        running = start(settings, host="127.0.0.1", port=free_port(), engine=Assistant(settings), log=print)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_context(viewport={"width": args.width, "height": args.height}).new_page()
                page.goto(running.url)
                expect(page.locator("#corpus table")).to_be_visible(timeout=WAIT_MS)
                first = ask(page, args.question)
                if args.follow_up:
                    ask(page, args.follow_up)
                source = first.locator("details.src").first
                source.locator("summary").click()
                expect(source.locator("mark.span").first).to_be_visible()
                # the question at the top of the chat, and the page's own title in view; the chat scrolls itself
                # to its end when its content grows (the source just opened), so let that settle first
                question = page.locator("#chat .q").first
                for _ in range(3):
                    page.wait_for_timeout(700)
                    question.evaluate("q => q.scrollIntoView({block: 'start'})")
                    page.evaluate("window.scrollTo(0, 0)")
                expect(question).to_be_in_viewport()
                page.mouse.move(0, 0)  # no hover highlight in the picture
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))  # the viewport: the page as a user first sees it
                browser.close()
        finally:
            running.close()
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
