"""Small talk and meta turns: the whole-turn classifier (pure logic, both sides) and the real
engine answering them without retrieval, never as an abstention."""

from __future__ import annotations

import pytest

from assistant import Answer, Assistant
from assistant.conversation.small_talk import classify
from assistant.types import Turn

SMALL_TALK = [
    ("hi", "greeting"), ("Hello there!", "greeting"), ("Hey, how are you?", "greeting"), ("good evening", "greeting"),
    ("thanks!", "thanks"), ("Thank you so much.", "thanks"), ("ok, thanks for the help", "thanks"), ("cheers", "thanks"),
    ("bye", "goodbye"), ("Thanks, see you later!", "goodbye"), ("That's all for now", "goodbye"),
    ("what can you do?", "capabilities"), ("Help", "capabilities"), ("Hi! What can you do for me?", "capabilities"),
    ("How does this work?", "capabilities"), ("who are you?", "capabilities"),
    ("what documents do you have?", "inventory"), ("Which files are indexed?", "inventory"),
    ("what is in the collection?", "inventory"), ("What\u2019s in your index?", "inventory"),
    ("Could you please list your documents?", "inventory"), ("how many files do you have?", "inventory"),
    ("hello, what sources are you using?", "inventory"),
]

REAL_QUESTIONS = [
    "thanks, and when was the summit?",
    "what documents did NATO sign in 2024?",
    "hi, who runs the new training centre?",
    "help me understand the declaration",
    "which files mention Wiesbaden?",
    "what can you tell me about the alliance?",
    "how many documents were signed at the meeting?",
    "what is in the summit declaration?",
    "great, and who heads it?",
    "Thank you. Where is the command based?",
    "what are the sources of the funding?",
    "and then?",
    "why?",
]


@pytest.mark.parametrize(("message", "kind"), SMALL_TALK)
def test_small_talk_is_recognised(message: str, kind: str) -> None:
    assert classify(message) == kind


@pytest.mark.parametrize("message", REAL_QUESTIONS)
def test_a_real_question_is_not_small_talk(message: str) -> None:
    assert classify(message) is None


def _check_small_talk(answer: Answer) -> None:
    assert answer.kind == "small_talk"
    assert not answer.abstained
    assert answer.citations == () and answer.passages == ()
    assert answer.confidence is None
    assert answer.text.strip()


@pytest.mark.slow
@pytest.mark.parametrize(("message", "expected"), [
    ("hi", "Hello"), ("thanks!", "You're welcome"), ("what can you do?", "cite"),
])
def test_engine_replies_to_small_talk(bundled_engine: Assistant, message: str, expected: str) -> None:
    answer = bundled_engine.ask(message)
    _check_small_talk(answer)
    assert expected in answer.text
    assert "retrieve" not in answer.timings  # no retrieval ran


@pytest.mark.slow
def test_inventory_lists_the_indexed_documents(bundled_engine: Assistant) -> None:
    pieces = list(bundled_engine.ask_stream("What documents do you have?"))
    answer = pieces[-1]
    assert isinstance(answer, Answer)
    assert "".join(p for p in pieces if isinstance(p, str)) == answer.text  # streamed text, then the Answer
    _check_small_talk(answer)
    documents = bundled_engine.view().manifest.documents
    assert f"holds {bundled_engine.info()['documents']} documents" in answer.text
    for source, entry in documents.items():
        assert (entry.title or source) in answer.text


@pytest.mark.slow
def test_a_real_question_is_answered_as_before(bundled_engine: Assistant) -> None:
    answer = bundled_engine.ask("thanks, and where will the NATO training command be located?")
    assert answer.kind == "answer" and not answer.abstained
    assert answer.citations and "Wiesbaden" in answer.text


@pytest.mark.slow
def test_an_unanswerable_question_is_still_an_abstention(bundled_engine: Assistant) -> None:
    answer = bundled_engine.ask("What is the boiling point of liquid nitrogen in kelvin?")
    assert answer.abstained and answer.kind == "abstention"


@pytest.mark.slow
def test_small_talk_in_the_history_does_not_steer_a_followup(bundled_engine: Assistant) -> None:
    first = bundled_engine.ask("Where in Poland did the Ukrainian delegation meet NATO officials?")
    turn = Turn(question=first.question, answer=first.text, standalone_question=first.standalone_question)
    direct = bundled_engine.ask("Who led the delegation there?", history=[turn])
    thanked = bundled_engine.ask("Who led the delegation there?",
                                 history=[turn, Turn(question="thanks!", answer="You're welcome!")])
    assert thanked.standalone_question == direct.standalone_question
    assert thanked.text == direct.text


def test_small_talk_is_shown_as_a_plain_reply_not_an_abstention() -> None:
    import io

    from assistant.serving.cli import print_answer
    from ui.render import render_answer

    text = "Collection 'docs' holds 2 documents:\n- First <report>\n- Second"
    answer = Answer(question="what documents do you have?", standalone_question="what documents do you have?",
                    text=text, kind="small_talk", answerer="small_talk")
    html = render_answer(answer)
    assert "small-talk" in html and "abstain" not in html and "Not found" not in html
    assert "- First &lt;report&gt;<br>- Second" in html  # escaped, one line per document
    out = io.StringIO()
    print_answer(answer, out)
    assert out.getvalue() == text + "\n"


def test_kind_follows_abstained_unless_named() -> None:
    base = {"question": "q", "standalone_question": "q", "text": "t"}
    assert Answer(**base).kind == "answer"
    assert Answer(**base, abstained=True).kind == "abstention"
    with pytest.raises(ValueError, match="contradicts"):
        Answer(**base, abstained=True, kind="small_talk")
