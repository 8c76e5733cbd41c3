"""Where settings come from: env > config file > defaults, relative paths, secrets, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.config import PROJECT_ROOT, Settings, load_settings
from assistant.config_sources import CONFIG_ENV, find_config_file
from assistant.errors import ConfigError


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory outside the checkout, with no ASSISTANT_* variables and a private data home."""
    for name in [n for n in os.environ if n.startswith("ASSISTANT_")]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_defaults_outside_a_checkout_use_the_working_directory_and_the_user_data_folder(elsewhere: Path) -> None:
    settings = load_settings()
    assert settings.corpus.path == elsewhere / "corpus"
    assert settings.store.path == elsewhere.parent / "data-home" / "assistant" / "index"
    assert not str(settings.store.path).startswith(str(PROJECT_ROOT))


def test_the_checkout_config_file_points_at_its_own_corpus_and_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT / "tests")  # found from a subfolder too
    for name in ("ASSISTANT_CORPUS_DIR", "ASSISTANT_INDEX_DIR", "ASSISTANT_STORE__PATH", "ASSISTANT_CORPUS__PATH", CONFIG_ENV):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.corpus.path == PROJECT_ROOT / "corpus"
    assert settings.store.path == PROJECT_ROOT / "index"


def test_file_values_sit_between_defaults_and_the_environment(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / "assistant.toml").write_text(
        '[corpus]\npath = "docs"\n[retrieval]\ntop_k = 7\ncandidates = 40\n[store]\ncollection = "notes"\n')
    settings = load_settings()
    assert settings.corpus.path == elsewhere / "docs"           # relative to the file's folder
    assert (settings.retrieval.top_k, settings.retrieval.candidates) == (7, 40)
    assert settings.retrieval.mode == "hybrid"                    # untouched fields keep their defaults
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "9")
    monkeypatch.setenv("ASSISTANT_COLLECTION", "mail")
    settings = load_settings()
    assert (settings.retrieval.top_k, settings.retrieval.candidates) == (9, 40)  # env wins field by field
    assert settings.store.collection == "mail"
    monkeypatch.setenv("ASSISTANT_STORE__COLLECTION", "papers")  # the full name beats the short one
    assert load_settings().store.collection == "papers"


def test_a_pyproject_tool_table_is_read_when_there_is_no_assistant_toml(elsewhere: Path) -> None:
    (elsewhere / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.assistant.answer]\nscorer = "lexical"\n')
    nested = elsewhere / "sub" / "dir"
    nested.mkdir(parents=True)
    found = find_config_file(nested)
    assert found == (elsewhere / "pyproject.toml", ("tool", "assistant"))
    assert load_settings().answer.scorer == "lexical"


def test_an_explicit_config_file_and_a_missing_one(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = elsewhere.parent / "team.toml"
    config.write_text('[answer]\nmax_sentences = 3\n')
    monkeypatch.setenv(CONFIG_ENV, str(config))
    assert load_settings().answer.max_sentences == 3
    monkeypatch.setenv(CONFIG_ENV, str(elsewhere / "nope.toml"))
    with pytest.raises(ConfigError, match="ASSISTANT_CONFIG=.*nope.toml is not a file"):
        load_settings()


@pytest.mark.parametrize(("text", "expected"), [
    ('[retrieval\ntop_k = 5\n', r"assistant.toml is not valid TOML \(.*line 1"),
    ('[retrieval]\ntop_k = 0\n', r"invalid setting retrieval.top_k: .*greater than or equal to 1.*assistant.toml"),
    ('[retrieval]\ntopk = 5\n', r"invalid setting retrieval.topk: Extra inputs are not permitted"),
    ('top_k = 5\n', r"top_k = \.\.\. in .*assistant.toml must be a \[top_k\] table"),
])
def test_a_bad_config_file_is_one_line_naming_the_problem(elsewhere: Path, text: str, expected: str) -> None:
    (elsewhere / "assistant.toml").write_text(text)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_the_cli_reports_a_bad_config_file_in_one_line(elsewhere: Path) -> None:
    (elsewhere / "assistant.toml").write_text('[chunking]\nchunk_size = "big"\n')
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-m", "assistant", "info"], cwd=elsewhere, env=env, check=False, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "chunking.chunk_size" in lines[0] and "assistant.toml" in lines[0], done.stderr


def test_the_ui_password_is_a_secret_everywhere_it_is_dumped(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_UI_USER", "alice")
    monkeypatch.setenv("ASSISTANT_UI_PASSWORD", "hunter2-correct-horse")
    settings = load_settings()
    assert isinstance(settings.ui.password, SecretStr)
    assert settings.ui.password.get_secret_value() == "hunter2-correct-horse"
    dumped = json.dumps(settings.model_dump(mode="json"))
    assert "hunter2" not in dumped and "hunter2" not in repr(settings)
    again = settings.with_(retrieval={"top_k": 3})  # a derived copy keeps the real secret
    assert again.ui.password is not None and again.ui.password.get_secret_value() == "hunter2-correct-horse"


def test_arguments_beat_every_source(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / "assistant.toml").write_text('[retrieval]\ntop_k = 7\n')
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "9")
    assert Settings(retrieval={"top_k": 2}).retrieval.top_k == 2
    assert load_settings(retrieval={"top_k": 4}).retrieval.top_k == 4
