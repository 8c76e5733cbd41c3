"""Answer-scorer training pairs from MTRAG's fit conversations (technical documentation, forum answers).

MTRAG turns are written without looking at a passage and come with their history, so they teach the
scorer the paraphrase and follow-ups SQuAD lacks. MTRAG marks gold *passages*, not answer spans, so
a sentence's label is distant:

- positive: a sentence of a gold passage that shares the most content terms with the turn's reference
  answer (up to `POSITIVES_PER_TURN`, each sharing at least `MIN_SHARED` terms): the sentences the
  answer was written from;
- negative: the sentences of *non-gold* passages of the sub-pool that share the most weighted terms
  with the question (what retrieval puts next to the answer), and for an unanswerable turn the
  sentences of any passage that do: the question looks answerable from them and is not.

The question is what the product's scorer reads at question time: the turn rewritten over its
history by `assistant.conversation.rewrite.rewrite_followup`.

Only the fit conversations' `train` half (`scorer_half`, seeded) gives pairs; the other half stays
unseen by the scorer so the confidence model can be fitted on it (`evals/rescore_rows.py
--drop-trained-conversations`), as SQuAD's calibration articles are.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.conversation.rewrite import rewrite_followup
from assistant.evaluation.mtrag_data import (
    ANSWERABLE,
    GATED_POOL,
    Domain,
    load_turns,
    part_of,
    subpool_lines,
)
from assistant.sentences import content_terms, sentence_spans
from assistant.types import Turn

SCORER_SEED = 20261206
POSITIVES_PER_TURN = 2
MIN_SHARED = 3          # content terms a positive shares with the reference answer
NEGATIVES_PER_TURN = 4  # non-gold neighbours per answerable turn
UNANSWERABLE_NEGATIVES = 6


def scorer_half(conversation_id: str, seed: int = SCORER_SEED) -> str:
    """'train' or 'calibrate': a stable, seeded half of the fit conversations."""
    digest = hashlib.sha256(f"{seed}:scorer:{conversation_id}".encode()).digest()
    return "train" if digest[0] % 2 else "calibrate"


@dataclass(frozen=True)
class PoolSentence:
    passage_id: str
    text: str
    terms: frozenset[str]


class PoolSentences:
    """Every sentence of the sub-pool with its content terms, searchable by weighted term overlap."""

    def __init__(self, passages: Iterable[dict]) -> None:
        self.sentences: list[PoolSentence] = []
        self.by_passage: dict[str, list[PoolSentence]] = {}
        for passage in passages:
            text = passage["text"]
            found = [PoolSentence(passage["id"], text[s:e], frozenset(content_terms(text[s:e]))) for s, e in sentence_spans(text)]
            self.by_passage[passage["id"]] = found
            self.sentences.extend(found)
        frequency = Counter(t for s in self.sentences for t in s.terms)
        self._idf = {t: math.log(len(self.sentences) / n) for t, n in frequency.items()}

    def nearest(self, question: str, k: int, excluded: frozenset[str] = frozenset()) -> list[PoolSentence]:
        """The k sentences outside `excluded` passages sharing the most idf-weighted terms with the question."""
        terms = set(content_terms(question))
        scored = [(sum(self._idf.get(t, 0.0) for t in terms & s.terms), i) for i, s in enumerate(self.sentences)
                  if s.passage_id not in excluded and terms & s.terms]
        return [self.sentences[i] for _, i in sorted(scored, key=lambda x: (-x[0], x[1]))[:k]]


def answer_sentences(pool: PoolSentences, gold: Sequence[str], reference: str) -> list[str]:
    """The gold passages' sentences the reference answer draws most on (distant positives)."""
    wanted = set(content_terms(reference))
    scored = [(len(wanted & s.terms), s.text) for pid in gold for s in pool.by_passage.get(pid, ())]
    scored = [x for x in scored if x[0] >= MIN_SHARED]
    return [text for _, text in sorted(scored, key=lambda x: -x[0])[:POSITIVES_PER_TURN]]


def turn_pairs(domain: Domain) -> tuple[list[tuple[str, str, float]], dict[str, int]]:
    """(question, sentence, label) pairs of the domain's fit conversations' train half, and counts."""
    conversations, turns = load_turns(domain.data)
    references = {(c["id"], i): t.get("reference_answer") or "" for c in conversations for i, t in enumerate(c["turns"])}
    pool = PoolSentences(json.loads(line) for line in subpool_lines(GATED_POOL, conversations, domain.data).splitlines())
    pairs: list[tuple[str, str, float]] = []
    counts = Counter()
    for turn in turns:
        if part_of(turn.conversation_id) != "fit" or scorer_half(turn.conversation_id) != "train" or turn.label == "UNDERSPECIFIED":
            continue
        history = tuple(Turn(question=q, answer=a) for q, a in turn.history)
        asked = rewrite_followup(turn.question, history) if history else turn.question
        if turn.label in ANSWERABLE:
            positives = answer_sentences(pool, turn.gold, references[(turn.conversation_id, turn.index)])
            if not positives:
                counts["answerable_without_positive"] += 1
                continue
            counts["answerable"] += 1
            pairs.extend((asked, text, 1.0) for text in positives)
            pairs.extend((asked, s.text, 0.0) for s in pool.nearest(asked, NEGATIVES_PER_TURN, frozenset(turn.gold)))
        else:
            counts["unanswerable"] += 1
            pairs.extend((asked, s.text, 0.0) for s in pool.nearest(asked, UNANSWERABLE_NEGATIVES))
    counts["pairs"] = len(pairs)
    counts["positive_pairs"] = sum(1 for p in pairs if p[2] == 1.0)
    return pairs, dict(counts)
