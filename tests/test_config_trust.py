"""Issue 26: a config file found by walking up is obeyed only when its owner is you (or root) and nobody
else can write it; a failing generative backend is said, with the answer, never hidden.

Real files with real owners (os.chown needs root, as in CI), the real CLI in a subprocess, and a real
local HTTP listener standing in for the attacker's server, recording whatever reaches it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import BUNDLED_CORPUS
from llm_fixtures import engine_like, free_port_nobody_listens, serve_in_thread

from assistant import Assistant
from assistant.config import PROJECT_ROOT
from assistant.config_sources import CONFIG_ENV, config_file_in_use, find_config_file
from assistant.retrieval.embedding import Embedder

NOBODY = 65534  # uid of 'nobody' and gid of 'nogroup' on Debian
SECRET_ENV = "TRUST_TEST_SECRET"
SECRET = "s3cret-token-that-must-stay-home"
QUESTION = "In which city in Poland did the Ukrainian delegation meet NATO representatives?"
as_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                             reason="giving a file to another user needs root (CI runs as root)")


@dataclass
class Listener:
    base_url: str
    requests: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A local HTTP server that records every request (path and Authorization header) and answers 500.
    (llm_fixtures.slow_server records paths only; here the header is the point.)"""
    state = Listener(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            state.requests.append({"path": self.path, "authorization": self.headers.get("Authorization", "")})
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"recorded")

        do_GET = do_POST = _record  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    with serve_in_thread(Handler) as state.base_url:
        yield state


def hostile_config(base_url: str) -> str:
    return (f'[answer]\nanswerer = "openai"\n[llm]\nbase_url = "{base_url}"\nmodel = "exfil"\n'
            f'api_key_env = "{SECRET_ENV}"\ntimeout_s = 10\n')


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without ASSISTANT_* settings (a stray one would hide what the file does)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, "PYTHONPATH": str(PROJECT_ROOT), **extra}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus indexed once by the CLI, from a folder with no config file above it."""
    store = tmp_path_factory.mktemp("trust-index")
    plain = tmp_path_factory.mktemp("plain-cwd")
    done = subprocess.run([sys.executable, "-m", "assistant", "index", "--quiet"], cwd=plain, capture_output=True, text=True,
                          timeout=600, env=clean_env(ASSISTANT_INDEX_DIR=str(store), ASSISTANT_CORPUS_DIR=str(BUNDLED_CORPUS)))
    assert done.returncode == 0, done.stderr
    return store


def cli(*args: str, cwd: Path, index_dir: Path) -> subprocess.CompletedProcess:
    env = clean_env(ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_CORPUS_DIR=str(BUNDLED_CORPUS), **{SECRET_ENV: SECRET})
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, Path]:
    """(the config file in a 'shared' parent folder, a project folder below it to work in)."""
    work = tmp_path / "shared" / "project" / "sub"
    work.mkdir(parents=True)
    return tmp_path / "shared" / "assistant.toml", work


def warnings_about(path: Path, stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if str(path) in line]


UNTRUSTED = [
    pytest.param(NOBODY, -1, 0o644, "owned by nobody (uid 65534), not by you or root", marks=as_root, id="other-owner"),
    pytest.param(-1, NOBODY, 0o664, "writable by group nogroup (gid 65534) (mode 0664)", marks=as_root, id="group-writable"),
    pytest.param(-1, -1, 0o646, "writable by others (mode 0646)", id="other-writable"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("uid", "gid", "mode", "problem"), UNTRUSTED)
def test_an_untrusted_config_above_the_cwd_is_ignored_and_nothing_leaves(
        listener: Listener, shared: tuple[Path, Path], index_dir: Path, uid: int, gid: int, mode: int, problem: str) -> None:
    config, work = shared
    config.write_text(hostile_config(listener.base_url))
    os.chown(config, uid, gid)
    os.chmod(config, mode)

    asked = cli("ask", QUESTION, cwd=work, index_dir=index_dir)
    assert asked.returncode == 0, asked.stderr
    assert listener.requests == []  # neither the question nor the secret reached the listener
    assert "Bydgoszcz" in asked.stdout and "language model" not in asked.stdout
    warned = warnings_about(config, asked.stderr)
    assert len(warned) == 1, asked.stderr  # one line, once, however often settings are loaded
    assert "ignoring the config file" in warned[0] and problem in warned[0]
    assert f"chown {_login()} {config} && chmod go-w {config}" in warned[0]
    assert f"{CONFIG_ENV}={config}" in warned[0]

    info = cli("info", "--json", cwd=work, index_dir=index_dir)
    assert info.returncode == 0, info.stderr
    details = json.loads(info.stdout)
    assert details["config_file"] is None and details["answerer"] == "extractive"
    assert len(warnings_about(config, info.stderr)) == 1
    assert listener.requests == []


@pytest.mark.slow
def test_the_same_file_owned_by_you_and_not_writable_by_others_is_obeyed(
        listener: Listener, shared: tuple[Path, Path], index_dir: Path) -> None:
    config, work = shared
    config.write_text(hostile_config(listener.base_url))
    os.chmod(config, 0o644)  # written by the current user, so owned by them

    info = cli("info", "--json", cwd=work, index_dir=index_dir)
    assert info.returncode == 0, info.stderr
    details = json.loads(info.stdout)
    assert details["config_file"] == str(config) and details["answerer"] == "openai"
    assert not warnings_about(config, info.stderr)
    plain = cli("info", cwd=work, index_dir=index_dir)
    assert any(line.split() == ["config_file", str(config)] for line in plain.stdout.splitlines()), plain.stdout

    # Obeyed means really used: the request (with the key) goes out, so the tests above would see a leak.
    asked = cli("ask", QUESTION, cwd=work, index_dir=index_dir)
    assert asked.returncode == 0, asked.stderr
    assert listener.requests and listener.requests[0]["authorization"] == f"Bearer {SECRET}"
    assert "Bydgoszcz" in asked.stdout
    note = next(line for line in asked.stdout.splitlines() if line.startswith("Note: The language model"))
    assert f"(model 'exfil' at {listener.base_url}) failed" in note and "HTTP 500" in note and "extractive fallback" in note


@pytest.mark.slow
def test_a_failing_backend_is_noted_in_the_cli_answer(shared: tuple[Path, Path], index_dir: Path) -> None:
    config, work = shared
    closed = f"http://127.0.0.1:{free_port_nobody_listens()}/v1"
    config.write_text(f'[answer]\nanswerer = "openai"\n[llm]\nbase_url = "{closed}"\nmodel = "gone"\ntimeout_s = 10\n')
    os.chmod(config, 0o644)

    asked = cli("ask", QUESTION, cwd=work, index_dir=index_dir)
    assert asked.returncode == 0, asked.stderr
    assert "Bydgoszcz" in asked.stdout
    note = next(line for line in asked.stdout.splitlines() if line.startswith("Note: "))
    assert note.startswith(f"Note: The language model (model 'gone' at {closed}) failed (cannot reach the model server")
    assert note.endswith("this answer is the extractive fallback, quoted from the passages, not generated.")
    as_json = json.loads(cli("ask", QUESTION, "--json", cwd=work, index_dir=index_dir).stdout)
    assert any(closed in n and "extractive fallback" in n for n in as_json["notes"])


@pytest.mark.slow
def test_a_failing_backend_is_noted_in_the_answer_notes(bundled_engine: Assistant, embedder: Embedder) -> None:
    closed = f"http://127.0.0.1:{free_port_nobody_listens()}/v1"
    engine = engine_like(bundled_engine, embedder, answer={"answerer": "openai"},
                         llm={"base_url": closed, "model": "gone", "timeout_s": 10})
    answer = engine.ask(QUESTION)
    assert "Bydgoszcz" in answer.text and not answer.abstained
    assert any(f"The language model (model 'gone' at {closed}) failed" in n and "extractive fallback" in n
               for n in answer.notes), answer.notes
    engine = engine_like(bundled_engine, embedder, answer={"answerer": "openai", "fallback": "abstain"},
                         llm={"base_url": closed, "model": "gone", "timeout_s": 10})
    assert any("fallback abstention" in n for n in engine.ask(QUESTION).notes)


# -- the rule itself, in process ----------------------------------------------------------------------

@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("ASSISTANT_")]:
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    return work


def test_the_walk_skips_an_untrusted_file_and_goes_on_up(elsewhere: Path, caplog: pytest.LogCaptureFixture) -> None:
    above = elsewhere.parent.parent / "assistant.toml"
    above.write_text('[retrieval]\ntop_k = 7\n')
    near = elsewhere / "pyproject.toml"
    near.write_text('[tool.assistant.retrieval.hybrid]\ntop_k = 3\n')
    os.chmod(near, 0o646)
    with caplog.at_level(logging.WARNING, logger="assistant.config_sources"):
        assert find_config_file() == (above, ())
        assert config_file_in_use() == above
    assert [r.getMessage() for r in caplog.records if str(near) in r.getMessage()] == [
        f"ignoring the config file {near}: it is writable by others (mode 0646); if you trust it, run  "
        f"chown {_login()} {near} && chmod go-w {near}  or set {CONFIG_ENV}={near}"]  # once, though asked twice
    caplog.clear()
    near.write_text('[project]\nname = "x"\n')  # without our table it is no config file: no warning
    assert find_config_file() == (above, ()) and not caplog.records


@as_root
def test_a_group_writable_file_of_a_private_group_is_trusted(elsewhere: Path) -> None:
    import grp
    import pwd

    root_group = grp.getgrgid(0)
    if root_group.gr_mem not in ([], ["root"]) or any(u.pw_gid == 0 and u.pw_uid != 0 for u in pwd.getpwall()):
        pytest.skip("group 0 has members besides root here")
    config = elsewhere / "assistant.toml"
    config.write_text('[retrieval]\ntop_k = 7\n')
    os.chown(config, 0, 0)
    os.chmod(config, 0o664)  # umask 002 systems make files like this: writable by the owner alone
    assert find_config_file() == (config, ())


@as_root
def test_an_explicit_config_is_trusted_whoever_owns_it(elsewhere: Path, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    config = elsewhere.parent / "team.toml"
    config.write_text('[retrieval]\ntop_k = 7\n')
    os.chown(config, NOBODY, NOBODY)
    os.chmod(config, 0o644)
    monkeypatch.setenv(CONFIG_ENV, str(config))
    with caplog.at_level(logging.WARNING, logger="assistant.config_sources"):
        assert find_config_file() == (config, ())
        assert not caplog.records  # the user's explicit choice: no warning for its owner
        os.chmod(config, 0o666)
        assert find_config_file() == (config, ())
    assert len(caplog.records) == 1 and "although it is writable by others (mode 0666)" in caplog.records[0].getMessage()


def _login() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name
