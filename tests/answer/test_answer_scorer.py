"""The shipped answer scorer (assistant/models/answer_scorer/): ranking, offline loading, determinism.

The questions and sentences are written for this test (fictional places and people), so the model
can't have seen them: each case pairs the sentence that answers with distractors on the same topic
that miss the question's key constraint (another entity, another year, the opposite of a negation)
or say nothing about what is asked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.scorer import DEFAULT_MODEL_DIR, AnswerScorer, make_answer_scorer
from assistant.config import PROJECT_ROOT, InferenceSettings
from assistant.errors import ConfigError, InvalidArgumentError

# (question, the answering sentence, distractors)
CASES = [
    ("Who designed the Harwick Tower?",
     "The Harwick Tower was designed by the architect Miriam Osei and completed in 1962.",
     ["The Belmont Tower, across the river, was designed by Karl Feder.",
      "The Harwick Tower is the tallest building in the old harbour district."]),
    ("How many moons does the planet Quorra have?",
     "Quorra has three moons, the largest of which is called Tibb.",
     ["The neighbouring planet Vessa has seven moons.",
      "Quorra was first observed through a telescope in 1811."]),
    ("What did the Ellsworth town council decide in 1998?",
     "In 1998 the Ellsworth town council voted to close the old rail bridge to cars.",
     ["In 2004 the Ellsworth town council voted to rebuild the public library.",
      "The Ellsworth town council has eleven members, elected every four years."]),
    ("Which country did not sign the 1920 river charter?",
     "Portugal refused to sign the 1920 river charter, citing its colonial treaties.",
     ["France, Belgium and Spain signed the 1920 river charter in Geneva.",
      "The 1920 river charter set common rules for shipping tolls."]),
    ("When did the Kestrel Dam open?",
     "The Kestrel Dam was inaugurated on 4 May 1931 by the regional governor.",
     ["Building the Kestrel Dam employed more than two thousand workers.",
      "The Kestrel Dam holds back a reservoir of forty million cubic metres."]),
    ("Where was the composer Anna Lindgren born?",
     "Anna Lindgren was born in the fishing village of Grebbestad.",
     ["Anna Lindgren wrote four symphonies and an opera.",
      "Her teacher, Carl Moberg, was born in Uppsala."]),
]


@pytest.fixture(scope="module", params=["onnx", "torch"])
def scorer(request: pytest.FixtureRequest) -> AnswerScorer:
    """The AnswerScorer contract, run by both implementations: ONNX Runtime (the default) and torch."""
    return make_answer_scorer(inference=InferenceSettings(runtime=request.param))


def test_shipped_folder_is_complete_small_and_documented() -> None:
    files = {p.name: p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir() if p.is_file()}
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md"):
        assert name in files, f"{name} missing from {DEFAULT_MODEL_DIR}"
    assert sum(files.values()) < 50_000_000, f"the shipped scorer must stay under 50 MB: {files}"
    config = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    assert len(config["id2label"]) == 1, "the scorer has one logit"


def test_missing_folder_names_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="train_answer_scorer.py"):
        make_answer_scorer(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("question", "answer", "distractors"), CASES, ids=[c[0] for c in CASES])
def test_answering_sentence_outranks_same_topic_distractors(scorer: AnswerScorer, question: str, answer: str,
                                                            distractors: list[str]) -> None:
    scores = scorer.score(question, [*distractors, answer])
    assert scores.dtype == np.float32 and scores.shape == (len(distractors) + 1,)
    assert scores[-1] > scores[:-1].max(), f"{question!r}: {dict(zip([*distractors, answer], scores.tolist()))}"


@pytest.mark.slow
def test_scores_are_deterministic_and_independent_of_order(scorer: AnswerScorer) -> None:
    question, answer, distractors = CASES[0]
    sentences = [answer, *distractors, *CASES[1][2]]
    first = scorer.score(question, sentences)
    assert np.array_equal(first, scorer.score(question, sentences))
    reordered = scorer.score(question, sentences[::-1])[::-1]
    np.testing.assert_allclose(reordered, first, atol=1e-5)
    alone = np.array([scorer.score(question, [s])[0] for s in sentences])
    np.testing.assert_allclose(alone, first, atol=1e-4)  # batch neighbours and padding don't leak in


@pytest.mark.slow
def test_bad_arguments_are_refused_and_no_sentences_is_no_scores(scorer: AnswerScorer) -> None:
    assert scorer.score("Who designed the tower?", []).shape == (0,)
    with pytest.raises(InvalidArgumentError, match="question"):
        scorer.score("   ", ["A sentence."])
    with pytest.raises(InvalidArgumentError, match="sequence of strings"):
        scorer.score("Who designed the tower?", "A sentence, not a list.")


# Runs in a fresh interpreter so the guard is in place before any library is imported.
OFFLINE_SCRIPT = textwrap.dedent('''
    import json, os, socket
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError(101, "network unreachable (test guard)")

    socket.socket.connect = refuse
    socket.getaddrinfo = refuse
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the package must set them itself
        os.environ.pop(key, None)
    from assistant.answer.scorer import make_answer_scorer
    scores = make_answer_scorer().score("Who designed the tower?", ["The tower was designed by Osei."])
    print(json.dumps({"attempts": attempts, "scores": scores.tolist()}))
''')


@pytest.mark.slow
def test_loads_and_scores_with_the_network_blocked() -> None:
    result = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT], check=False, cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["attempts"] == [], f"tried to reach the network: {outcome['attempts']}"
    assert len(outcome["scores"]) == 1 and np.isfinite(outcome["scores"][0])
