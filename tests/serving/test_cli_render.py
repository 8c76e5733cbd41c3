"""`assistant ask` prints what the page shows: the short answer in bold, the "Unsure" note, the
confidence, an abstention's heading and hint; styled on a terminal, plain text when piped."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

import pytest

from assistant.config import PROJECT_ROOT
from assistant.serving.cli import print_answer
from assistant.types import Answer, Citation

ANSI = "\x1b["
BOLD = "\x1b[1m"
UNSURE = "Unsure: the quoted passages may not answer this (confidence 31%)."


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A colour terminal, whatever the test runner's environment says."""
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def unsure_answer() -> Answer:
    citation = Citation(n=1, source="harbour.txt", title="Harbour [draft]", quote="The pier opened in 1987.",
                        passage="The pier opened in 1987.", chunk_id="harbour.txt:0", start=0, end=24)
    return Answer(question="When did the pier open?", standalone_question="When did the pier open?",
                  text="The pier opened in 1987. [1]", short_answer="1987", citations=(citation,),
                  notes=(UNSURE,), confidence=0.31)


def abstention() -> Answer:
    return Answer(question="Who painted it?", standalone_question="Who painted it?", abstained=True,
                  text="The documents don't say who painted it.", confidence=0.04)


def printed(answer: Answer, out: io.StringIO) -> str:
    print_answer(answer, out)
    return out.getvalue()


def test_piped_output_is_plain_text_with_the_note_and_the_confidence() -> None:
    lines = printed(unsure_answer(), io.StringIO()).splitlines()
    assert lines[:4] == ["1987", "The pier opened in 1987. [1]", f"Note: {UNSURE}", "Confidence: 31%"]
    assert "  [1] Harbour [draft] (harbour.txt)" in lines  # brackets are text, not markup
    assert not any(ANSI in line or "**" in line for line in lines)


def test_a_terminal_gets_the_short_answer_in_bold() -> None:
    out = printed(unsure_answer(), Terminal())
    assert out.startswith(f"{BOLD}1987\x1b[0m\n")
    assert UNSURE in out and "Confidence: 31%" in out and "[1] Harbour [draft] (harbour.txt)" in out


def test_an_abstention_is_headed_and_hints_what_to_try() -> None:
    lines = printed(abstention(), io.StringIO()).splitlines()
    assert lines == ["Not found in the documents", "The documents don't say who painted it.",
                     "Try rephrasing, widening the filters, or adding a document that covers it (assistant add FILE...).",
                     "Confidence: 4%"]
    assert printed(abstention(), Terminal()).startswith(f"{BOLD}Not found in the documents")


def test_no_confidence_line_when_the_answerer_has_no_calibrated_scorer() -> None:
    answer = Answer(question="q", standalone_question="q", text="It opened in 1987.", answerer="openai")
    assert printed(answer, io.StringIO()) == "It opened in 1987.\n"


SCRIPT = """
from assistant.serving.cli import print_answer
from assistant.types import Answer
print_answer(Answer(question="q", standalone_question="q", text="The pier opened in 1987.", short_answer="1987",
                    notes=("Unsure: maybe not.",), confidence=0.31))
"""


def run_script(on_terminal: bool) -> str:
    """The printer in a real process, its stdout a pseudo-terminal or a pipe."""
    env = {**os.environ, "TERM": "xterm-256color"}
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    if not on_terminal:
        return subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT_ROOT, env=env, capture_output=True,
                              text=True, timeout=120, check=True).stdout
    leader, follower = pty.openpty()
    try:
        process = subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT_ROOT, env=env, stdout=follower,
                                 stderr=subprocess.PIPE, timeout=120, check=True)
        assert process.returncode == 0
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    finally:
        os.close(leader)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_real_terminal_and_a_real_pipe() -> None:
    on_terminal = run_script(on_terminal=True)
    assert on_terminal.startswith(f"{BOLD}1987\x1b[0m\n") and "Confidence: 31%" in on_terminal
    piped = run_script(on_terminal=False)
    assert piped == "1987\nThe pier opened in 1987.\nNote: Unsure: maybe not.\nConfidence: 31%\n"
