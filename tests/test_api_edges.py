"""Edges of the Python API: every argument of ask() / ask_stream() / retrieve() that has the wrong
type or value gets a typed, one-line error naming it and the fix, before any model or index is
touched; the forms that should work (one source as a str, dates as date/datetime, history as
pairs or dicts, '~' paths) do. Pure checks first, then a few through a real small index."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from assistant import api, arguments, documents, engine_pool
from assistant.config import Settings
from assistant.errors import ConfigError, InvalidArgumentError, InvalidQuestionError
from assistant.types import Answer, Turn
from assistant.validation import (
    expand_path,
    parse_date,
    validate_date_range,
    validate_history,
    validate_question,
    validate_sources,
    validate_top_k,
)
from tests.conftest import make_settings


def raised(error_type: type[Exception], call, *args, **kwargs) -> str:
    """The message of the error `call` raises, checked to be exactly `error_type` and one line."""
    with pytest.raises(error_type) as info:
        call(*args, **kwargs)
    assert type(info.value) is error_type
    message = str(info.value)
    assert "\n" not in message
    return message


# -- top_k ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1, 5, 100, np.int64(7)])
def test_top_k_in_range_is_a_plain_int(value) -> None:
    checked = validate_top_k(value)
    assert checked == int(value) and type(checked) is int


@pytest.mark.parametrize("value", [0, -1, -100, 101, 10_000])
def test_top_k_out_of_range_names_the_value(value: int) -> None:
    assert raised(InvalidArgumentError, validate_top_k, value) == f"top_k {value} is out of range; pass top_k between 1 and 100"


@pytest.mark.parametrize("value, shown", [(2.5, "2.5 (float)"), ("5", "'5' (str)"), (True, "True (bool)"), (None, "None (NoneType)")])
def test_top_k_that_is_not_a_whole_number_names_its_type(value, shown: str) -> None:
    message = raised(InvalidArgumentError, validate_top_k, value)
    assert message == f"top_k {shown} is not a whole number; pass top_k between 1 and 100"


# -- the question -----------------------------------------------------------------------------

@pytest.mark.parametrize("question, kind", [(123, "int"), (["q"], "list"), (b"What?", "bytes"), (4.5, "float")])
def test_question_that_is_not_text_names_its_type(question, kind: str) -> None:
    assert raised(InvalidQuestionError, validate_question, question, 2000) == f"the question must be text (a str), got {kind}"


@pytest.mark.parametrize("question", ["", "  \n\t", None])
def test_missing_question_is_empty(question) -> None:
    assert raised(InvalidQuestionError, validate_question, question, 2000).startswith("the question is empty")


def test_question_is_stripped_and_length_checked() -> None:
    assert validate_question("  Where is the ferry?  ", 2000) == "Where is the ferry?"
    assert "2001 characters long, over the 2000-character limit" in raised(InvalidQuestionError, validate_question, "x" * 2001, 2000)


# -- sources ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("notes/a.txt", ("notes/a.txt",)),                       # one name, not its characters
    (["a.txt", "b.txt", "a.txt"], ("a.txt", "b.txt")),
    (("a.txt",), ("a.txt",)),
    ({"a.txt"}, ("a.txt",)),
    (frozenset({"b.txt"}), ("b.txt",)),
    ((name for name in ["c.txt"]), ("c.txt",)),
    ([], ()),
    (None, ()),
])
def test_sources_forms_that_work(value, expected: tuple[str, ...]) -> None:
    assert validate_sources(value) == expected


@pytest.mark.parametrize("value, fragment", [
    (["a.txt", 3], "sources[1] 3 (int) is not a file name"),
    ([None], "sources[0] None (NoneType) is not a file name"),
    ([" "], "sources[0] is empty"),
    (5, "sources 5 (int) is not a file name or a list of them"),
    (b"a.txt", "sources b'a.txt' (bytes)"),
    ({"a.txt": True}, "sources {'a.txt': True} (dict)"),
])
def test_bad_sources_say_what_to_pass(value, fragment: str) -> None:
    message = raised(InvalidArgumentError, validate_sources, value)
    assert fragment in message and "'notes/a.txt'" in message  # an example of what to pass


def test_api_filter_treats_a_single_string_as_one_source() -> None:
    found = arguments.make_filter("ferries.txt")
    assert found is not None and found.sources == ("ferries.txt",)
    assert arguments.make_filter(None, None, None) is None


# -- dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["2024-13-45", "yesterday", "2024/06/30", "30-06-2024"])
def test_bad_date_string_message(value: str) -> None:
    assert raised(InvalidArgumentError, parse_date, value, "date_from") == (
        f"date_from {value!r} is not a date; pass YYYY-MM-DD (e.g. 2024-06-30)")


@pytest.mark.parametrize("value, expected", [
    ("2024-06-30", dt.date(2024, 6, 30)),
    (" 2024-06-30 ", dt.date(2024, 6, 30)),
    ("2024-06-30T17:45:00", dt.date(2024, 6, 30)),
    (dt.date(2024, 6, 30), dt.date(2024, 6, 30)),
    (dt.datetime(2024, 6, 30, 23, 59), dt.date(2024, 6, 30)),
    ("", None),
    (None, None),
])
def test_dates_that_work(value, expected) -> None:
    checked = parse_date(value, "date_to")
    assert checked == expected and (checked is None or type(checked) is dt.date)


def test_date_of_another_type_and_reversed_range_are_refused() -> None:
    assert "date_to 20240630 (int) is not a date" in raised(InvalidArgumentError, parse_date, 20240630, "date_to")
    message = raised(InvalidArgumentError, validate_date_range, "2024-07-01", dt.date(2024, 6, 30))
    assert message == "date_from 2024-07-01 is after date_to 2024-06-30; make date_from the same day as date_to or earlier"
    assert validate_date_range("2024-06-30", "2024-06-30") == (dt.date(2024, 6, 30), dt.date(2024, 6, 30))


# -- history ----------------------------------------------------------------------------------

def test_history_forms_that_work() -> None:
    turns = validate_history([
        Turn(question="What is the ferry?", answer="A boat."),
        ("When does it leave?", "At seven."),
        ["Where from?", "The harbour."],
        {"question": "How long is the trip?"},
        {"question": "Is it daily?", "answer": "Yes.", "standalone_question": "Is the ferry daily?"},
        {"question": "Any pets?", "answer": None},
    ])
    assert [(t.question, t.answer) for t in turns] == [
        ("What is the ferry?", "A boat."), ("When does it leave?", "At seven."), ("Where from?", "The harbour."),
        ("How long is the trip?", ""), ("Is it daily?", "Yes."), ("Any pets?", "")]
    assert turns[4].standalone_question == "Is the ferry daily?"
    assert validate_history(None) == () and validate_history([]) == ()
    assert arguments.as_turns([("q?", "a.")]) == (Turn(question="q?", answer="a."),)  # the chat session's entry point


@pytest.mark.parametrize("history, fragment", [
    ([{"answer": "At seven."}], "history[0] has no 'question'"),
    ([("q?", "a."), {"question": "q?", "answr": "typo"}], "history[1] has unknown key(s) 'answr'"),
    ([("only a question",)], "history[0] has 1 item(s), not 2"),
    ([("q?", "a.", "extra")], "history[0] has 3 item(s), not 2"),
    ([(1, "a.")], "history[0][0] (the question) 1 (int) is not text"),
    ([("q?", 2)], "history[0][1] (the answer) 2 (int) is not text"),
    ([{"question": ""}], "history[0]['question'] is empty"),
    (["a bare string"], "history[0] 'a bare string' (str) is not a turn"),
    ([42], "history[0] 42 (int) is not a turn"),
    ("What is the ferry?", "history 'What is the ferry?' (str) is not a list of turns"),
    ({"question": "q?", "answer": "a."}, "(dict) is not a list of turns"),
    (Turn(question="q?", answer="a."), "(Turn) is not a list of turns"),
    (7, "history 7 (int) is not a list of turns"),
])
def test_malformed_history_names_the_entry_and_what_to_pass(history, fragment: str) -> None:
    message = raised(InvalidArgumentError, validate_history, history)
    assert fragment in message and "pass a Turn, a (question, answer) pair" in message
    with pytest.raises(InvalidArgumentError):
        arguments.as_turns(history)


# -- paths and settings -----------------------------------------------------------------------

def test_paths_expand_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert expand_path("~/docs") == tmp_path / "docs"
    assert expand_path(Path("~") / "docs") == tmp_path / "docs"
    assert expand_path("relative/docs") == Path("relative/docs")
    settings = arguments.resolve_settings(make_settings(tmp_path / "store"), corpus="~/docs")
    assert settings.corpus.path == tmp_path / "docs"


@pytest.mark.parametrize("value, fragment", [
    (5, "corpus 5 (int) is not a path"),
    ("  ", "corpus is empty"),
    ("~no-such-user-3f9a/docs", "names no home folder"),
])
def test_bad_paths_are_refused(value, fragment: str) -> None:
    assert fragment in raised(InvalidArgumentError, expand_path, value, name="corpus")


@pytest.mark.parametrize("collection", ["ab", "", "x" * 70, "bad name!"])
def test_invalid_setting_becomes_a_config_error_naming_it(tmp_path: Path, collection: str) -> None:
    message = raised(ConfigError, arguments.resolve_settings, make_settings(tmp_path / "store"), collection=collection)
    assert message.startswith("invalid setting store.collection: ")
    assert "Value error" not in message and "pydantic" not in message


def test_invalid_environment_setting_becomes_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "0")
    message = raised(ConfigError, arguments.resolve_settings, None)
    assert message.startswith("invalid setting retrieval.top_k: ") and "(got '0')" in message


# -- through the entry points: refused before anything is loaded ------------------------------

@pytest.fixture
def unbuilt(tmp_path: Path) -> Settings:
    """Settings for a store and corpus that don't exist: reaching the engine would fail differently."""
    return make_settings(tmp_path / "store", corpus=tmp_path / "no-corpus")


@pytest.mark.parametrize("entry", [api.ask, api.ask_stream, api.retrieve])
@pytest.mark.parametrize("kwargs, error_type, fragment", [
    ({"top_k": 0}, InvalidArgumentError, "pass top_k between 1 and 100"),
    ({"top_k": "5"}, InvalidArgumentError, "pass top_k between 1 and 100"),
    ({"sources": [1]}, InvalidArgumentError, "sources[0] 1 (int)"),
    ({"date_from": "2024-13-45"}, InvalidArgumentError, "date_from '2024-13-45' is not a date"),
    ({"date_from": "2024-02-01", "date_to": "2024-01-01"}, InvalidArgumentError, "is after date_to"),
    ({"collection": "ab"}, ConfigError, "invalid setting store.collection"),
    ({"corpus": 3}, InvalidArgumentError, "corpus 3 (int) is not a path"),
])
def test_entry_points_refuse_bad_arguments_at_the_call(entry, kwargs: dict, error_type: type[Exception], fragment: str,
                                                       unbuilt: Settings) -> None:
    # ask_stream is checked without iterating: the error comes at the call, not at the first next().
    assert fragment in raised(error_type, entry, "When does the ferry leave?", settings=unbuilt, **kwargs)


@pytest.mark.parametrize("entry", [api.ask, api.ask_stream, api.retrieve])
@pytest.mark.parametrize("question", [123, None, ["q"]])
def test_entry_points_refuse_non_text_questions(entry, question, unbuilt: Settings) -> None:
    raised(InvalidQuestionError, entry, question, settings=unbuilt)


@pytest.mark.parametrize("entry", [api.ask, api.ask_stream])
def test_entry_points_refuse_malformed_history(entry, unbuilt: Settings) -> None:
    message = raised(InvalidArgumentError, entry, "And then?", history=[{"answer": "x"}], settings=unbuilt)
    assert message.startswith("history[0] has no 'question'")


# -- through the entry points over a real index -----------------------------------------------

@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A three-document corpus indexed once through the engine api.ask() itself uses."""
    corpus = tmp_path_factory.mktemp("edges-corpus")
    (corpus / "ferries.txt").write_text(
        " date 2023-05-10 Island ferry timetable\n\nThe island ferry leaves the harbour at seven in the morning. "
        "The crossing to Marrow Island takes forty minutes. Bicycles travel free on the early ferry.")
    (corpus / "lighthouse.txt").write_text(
        " date 2024-08-20 Lighthouse restoration\n\nThe Marrow Island lighthouse reopened in August 2024 after a "
        "two-year restoration. Its lamp can be seen from thirty kilometres away.")
    (corpus / "market.md").write_text(
        "---\ntitle: Harbour market\ndate: 2024-03-02\n---\nThe harbour market opens every Saturday at eight. "
        "Fishermen sell the morning catch beside the ferry pier.")
    settings = make_settings(tmp_path_factory.mktemp("edges-store"), corpus=corpus)
    documents.index_corpus(engine_pool.engine_for(settings))
    return settings


@pytest.mark.slow
def test_single_source_string_filters_to_that_document(indexed: Settings) -> None:
    passages = api.retrieve("When does the ferry leave the harbour?", sources="lighthouse.txt", settings=indexed)
    assert passages and {p.source for p in passages} == {"lighthouse.txt"}
    answer = api.ask("How long is the crossing to Marrow Island?", sources={"ferries.txt"}, settings=indexed)
    assert "forty minutes" in answer.text and {c.source for c in answer.citations} == {"ferries.txt"}
    elsewhere = api.ask("How long is the crossing to Marrow Island?", sources=("market.md",), settings=indexed)
    assert {p.source for p in elsewhere.passages} == {"market.md"}


@pytest.mark.slow
def test_top_k_and_date_objects_reach_retrieval(indexed: Settings) -> None:
    assert len(api.retrieve("island", top_k=2, settings=indexed)) == 2
    assert len(api.ask("When does the ferry leave?", top_k=1, settings=indexed).passages) == 1
    recent = api.retrieve("island", date_from=dt.datetime(2024, 1, 1, 12, 0), date_to=dt.date(2024, 12, 31), settings=indexed)
    assert recent and all(p.date is not None and p.date.year == 2024 for p in recent)


@pytest.mark.slow
def test_history_as_dicts_and_streaming(indexed: Settings) -> None:
    answer = api.ask("How long does the crossing take?", history=[{"question": "Tell me about the island ferry"}],
                     settings=indexed)
    assert "forty minutes" in answer.text
    items = list(api.ask_stream("When does the harbour market open?", history=[("What is sold?", "Fish.")],
                                top_k=3, settings=indexed))
    assert isinstance(items[-1], Answer) and "Saturday" in items[-1].text
    assert all(isinstance(item, str) for item in items[:-1])
