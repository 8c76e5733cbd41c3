"""A saved turn keeps all its answer showed (kind, short answer, confidence, notes, flags, citations),
old saved turns without those fields still load, and the export carries the same under a file name
made of whole words. Pure logic over real Answer/Turn objects and a real SQLite chats file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from assistant.conversation.export import chat_markdown, markdown_filename
from assistant.conversation.saved import CHATS_FILE, ChatStore, chat_title, new_chat_id
from assistant.conversation.session import SESSION_FORMAT_VERSION
from assistant.conversation.shown import answer_of, parse_turn, turn_of
from assistant.errors import SessionFormatError
from assistant.types import Answer, Citation, Turn

PASSAGE = "The ferry to Skarholm leaves at 07:40 from pier 3. Tickets cost 12 euros. Dogs travel free."


def citation(n: int, quote: str) -> Citation:
    start = PASSAGE.find(quote)
    return Citation(n=n, source="ferry.txt", title="Skarholm ferry", date=dt.date(2023, 4, 1), quote=quote,
                    passage=PASSAGE, chunk_id=f"ferry-{n}", start=start, end=start + len(quote), support=0.9)


ANSWERED = Answer(question="When does the morning boat to Skarholm depart?", standalone_question="When does the morning boat to Skarholm depart?",
                  text="The ferry to Skarholm leaves at 07:40 from pier 3. [1]", citations=(citation(1, "leaves at 07:40"),),
                  short_answer="07:40", confidence=0.41, notes=("Unsure: the quoted passages may not answer this (confidence 41%).",),
                  unsupported=("It is always on time.",), answerer="extractive", timings={"total": 0.3})
FOLLOW_UP = Answer(question="And what do tickets cost?", standalone_question="And what do tickets cost? (ferry Skarholm)",
                   text="Tickets cost 12 euros. [1]", citations=(citation(1, "Tickets cost 12 euros."),), short_answer="12 euros",
                   confidence=0.83)
ABSTAINED = Answer(question="Can bicycles go on board the island boat?", standalone_question="Can bicycles go on board the island boat?",
                   text="The documents don't answer this question.", abstained=True, confidence=0.04)
CLARIFYING = Answer(question="How does the boarding one work?", standalone_question="How does the boarding one work?", kind="clarification",
                    text="Do you mean “Skarholm ferry” [1]?", citations=(citation(1, "Dogs travel free."),))


def saved(*turns: Turn) -> dict:
    return {"version": SESSION_FORMAT_VERSION, "collection": "docs", "top_k": None, "max_turns": 20, "filters": None,
            "turns": [t.model_dump(mode="json") for t in turns]}


@pytest.mark.parametrize("live", [ANSWERED, FOLLOW_UP, ABSTAINED, CLARIFYING], ids=["answer", "follow-up", "abstention", "clarification"])
def test_a_turn_round_trips_through_the_chats_file_with_all_it_showed(live: Answer, tmp_path: Path) -> None:
    store, chat_id = ChatStore(tmp_path / CHATS_FILE), new_chat_id()
    store.save("browser:a", chat_id, saved(turn_of(live)))
    (entry,) = store.load("browser:a", chat_id)["turns"]
    shown = answer_of(parse_turn(entry, "turns[0]"))
    # everything the page renders comes back; passages, timings and the config hash are not kept
    assert shown == live.model_copy(update={"passages": (), "timings": {}, "config_hash": ""})


def test_an_old_saved_turn_loads_with_defaults() -> None:
    old = {"question": "Where does the ferry leave from?", "answer": "From pier 3. [1]", "standalone_question": None,
           "citations": [citation(1, "from pier 3").model_dump(mode="json")]}
    turn = parse_turn(old, "turns[0]")
    assert (turn.kind, turn.short_answer, turn.confidence, turn.notes, turn.unsupported, turn.answerer) == ("answer", None, None, (), (), "")
    shown = answer_of(turn)
    assert not shown.abstained and shown.standalone_question == old["question"] and shown.citations == turn.citations
    assert answer_of(parse_turn({"question": "Hi there, anyone home?"}, "turns[1]")).text == ""


@pytest.mark.parametrize(("change", "named"), [
    ({"kind": "maybe"}, "field 'kind'"),
    ({"confidence": "very"}, "field 'confidence'"),
    ({"notes": "one note"}, "field 'notes'"),
    ({"colour": "blue"}, "unknown key(s) 'colour'"),
])
def test_a_bad_saved_field_is_named(change: dict, named: str) -> None:
    entry = {**turn_of(ANSWERED).model_dump(mode="json"), **change}
    with pytest.raises(SessionFormatError) as err:
        parse_turn(entry, "saved chat session turns[0]")
    assert named in str(err.value) and "turns[0]" in str(err.value) and "\n" not in str(err.value)


def test_the_export_carries_what_the_page_showed() -> None:
    turns = [turn_of(a) for a in (ANSWERED, FOLLOW_UP, ABSTAINED, CLARIFYING)]
    text = chat_markdown(turns, title="Skarholm ferry")
    first = text.split("## 2.")[0]
    assert "**Short answer: 07:40**" in first and first.index("Short answer") < first.index("The ferry to Skarholm leaves")
    assert "- Unsure: the quoted passages may not answer this (confidence 41%)." in first
    assert "*Confidence: 41%*" in first
    assert "**Not supported by the cited sources (flagged)**\n\n- It is always on time." in first
    assert "1. **Skarholm ferry** — `ferry.txt`, 2023-04-01\n   > leaves at 07:40" in first
    second = text.split("## 2.")[1].split("## 3.")[0]
    assert "*Searched for: And what do tickets cost? (ferry Skarholm)*" in second
    assert "**Short answer: 12 euros**" in second and "*Confidence: 83%*" in second
    third = text.split("## 3.")[1].split("## 4.")[0]
    assert "**Not found in the documents**" in third and "Confidence" not in third and "**Sources**" not in third
    assert "**Which one do you mean?**" in text.split("## 4.")[1]


def test_an_old_turn_exports_as_before() -> None:
    text = chat_markdown([Turn(question="Where does the ferry leave from?", answer="From pier 3. [1]",
                               citations=(citation(1, "from pier 3"),))])
    assert "Short answer" not in text and "Confidence" not in text and "Notes" not in text
    assert "From pier 3. [1]" in text and "   > from pier 3" in text


LONG = "When was the decision taken about the new joint command that coordinates the training for Ukrainian crews?"


@pytest.mark.parametrize("title", [LONG, chat_title({"turns": [{"question": LONG}]}), "Où part le bâteau pour Skarholm ?",
                                   "../../etc/passwd", "a/b\\c:d*e?f\"g<h>i|j", "Supercalifragilisticexpialidocious" * 3,
                                   "???", "", "Пором до острова", "con", "  NUL  "])
def test_export_file_names_are_whole_safe_words(title: str) -> None:
    name = markdown_filename(title)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.md", name), name
    assert len(name) <= 60 + len(".md") and name.removesuffix(".md") not in {"con", "nul"}
    words = name.removesuffix(".md").removeprefix("chat-").split("-")
    title_words = set(re.findall(r"[a-z0-9]+", title.lower().replace("ù", "u").replace("â", "a")))
    if len(words) > 1 and title_words:  # several words: each one whole, as in the title
        assert set(words) <= title_words, (words, title_words)


def test_export_file_name_is_cut_between_words() -> None:
    name = markdown_filename(LONG)
    assert name == "when-was-the-decision-taken-about-the-new-joint-command-that.md"
    assert markdown_filename("Où part le bâteau pour Skarholm ?") == "ou-part-le-bateau-pour-skarholm.md"
    assert markdown_filename("???") == markdown_filename("") == markdown_filename("Пором до острова") == "chat.md"
    assert markdown_filename("con") == "chat-con.md"


def test_a_long_title_is_cut_between_words() -> None:
    title = chat_title({"turns": [{"question": LONG}]})
    assert title.endswith("…") and len(title) <= 80
    assert LONG.startswith(title[:-1]) and LONG[len(title) - 1] == " "  # the last word kept is whole
