"""The README is a test: its Python examples run against the bundled corpus and show their real output.

So are the examples of the pages it links in docs/ (docs/llama-index.md), and its links must lead to files
that exist.

The `pycon` examples run as doctests in a fresh interpreter (so `ask()` builds its own engine, as a
user's first call does) with the index in a temporary folder; the output the README shows must
match (`...` stands for what varies: file names, dates, the rest of a quote)."""

from __future__ import annotations

import argparse
import doctest
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import free_port
from servers import clean_env, launch

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS_EXAMPLES = [ROOT / "docs" / "llama-index.md"]  # docs pages whose examples run with the README's

API_URL = "http://127.0.0.1:7860/v1"
RUNNER = """
import doctest, sys
test = doctest.DocTestParser().get_doctest(sys.stdin.read(), {}, "README.md", "README.md", 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
runner.run(test)
print(f"README examples: {runner.tries} run, {runner.failures} failed")
sys.exit(1 if runner.failures or not runner.tries else 0)
"""


def pycon_blocks(text: str) -> list[str]:
    return re.findall(r"^```pycon\n(.*?)^```$", text, re.M | re.S)


def run_doctests(source: str, env: dict[str, str]) -> None:
    """Run the examples in a fresh interpreter; fail with the doctest report when one does not hold."""
    result = subprocess.run([sys.executable, "-c", RUNNER], input=source, cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " 0 failed" in result.stdout


def test_the_readme_shows_runnable_examples() -> None:
    text = README.read_text(encoding="utf-8")
    found = doctest.DocTestParser().get_examples("\n".join(pycon_blocks(text)))
    assert len(found) >= 15
    assert any(e.source.startswith("answer = ask(") for e in found) and any("ChatSession()" in e.source for e in found)
    # every Python example is a doctest: a ```python block would be code nobody runs
    assert not re.search(r"^```python$", text, re.M), "write README examples as ```pycon doctests"
    for page in (ROOT / "docs").glob("*.md"):
        page_text = page.read_text(encoding="utf-8")
        assert not re.search(r"^```python$", page_text, re.M), f"write {page.name} examples as ```pycon doctests"
    for page in DOCS_EXAMPLES:
        assert doctest.DocTestParser().get_examples("\n".join(pycon_blocks(page.read_text(encoding="utf-8"))))


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"^```.*?^```$", "", markdown, flags=re.M | re.S)  # a '# comment' in a code block is no heading
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", text, re.M)}


def test_the_readme_links_lead_to_files_and_headings_that_exist() -> None:
    for page in [README, *(ROOT / "docs").glob("*.md")]:
        targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
        local = [t for t in targets if not re.match(r"[a-z]+:", t)]
        assert local or page != README
        for target in local:
            path, _, anchor = target.partition("#")
            linked = page.parent / path if path else page
            assert linked.exists(), f"{page.relative_to(ROOT)} links to a missing file: {target}"
            if anchor:
                assert anchor in heading_anchors(linked.read_text(encoding="utf-8")), \
                    f"{page.relative_to(ROOT)} links to a missing heading: {target}"


def test_the_config_example_is_the_shipped_file() -> None:
    [example] = re.findall(r"^```toml\n(.*?)^```$", README.read_text(encoding="utf-8"), re.M | re.S)
    assert tomllib.loads(example) == tomllib.loads((ROOT / "assistant.toml").read_text(encoding="utf-8"))


def test_the_command_list_names_every_subcommand() -> None:
    from assistant.serving.cli_args import build_parser

    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    listed = set(re.findall(r"^    assistant (\w+)", README.read_text(encoding="utf-8"), re.M))
    assert set(commands.choices) - listed == set()


@pytest.mark.slow
def test_readme_library_examples_hold_on_the_bundled_corpus(tmp_path: Path) -> None:
    blocks = [b for b in pycon_blocks(README.read_text(encoding="utf-8")) if API_URL not in b]
    blocks += [b for page in DOCS_EXAMPLES for b in pycon_blocks(page.read_text(encoding="utf-8"))]
    run_doctests("\n".join(blocks), clean_env(tmp_path / "index"))


@pytest.mark.slow
def test_readme_api_example_holds_against_a_real_server(tmp_path: Path) -> None:
    [block] = [b for b in pycon_blocks(README.read_text(encoding="utf-8")) if API_URL in b]
    port = free_port()
    env = clean_env(tmp_path / "index")
    server = launch(["serve", "--api", "--port", str(port)], env, tmp_path / "server.log")
    try:
        server.wait_for("Assistant API ready on")
        run_doctests(block.replace(API_URL, f"http://127.0.0.1:{port}/v1"), env)
    finally:
        server.stop()
