"""Context-aware retrieval variants on MTRAG Cloud (issue 11, item 2), measured on later turns.

    python evals/bench_mtrag_context.py [--part fit|report] [--pool 1000]

For each answerable later turn (it has history) of the chosen part, R@5 of the passage ids each query
variant retrieves: the last turn alone, our standalone rewrite (what `ask(history=...)` retrieves
with), the benchmark's rewrite, the turn joined with the previous question (and answer), and
reciprocal-rank fusions of those with the conversation's first question and the documents earlier
turns retrieved. Variants are chosen on the fit part; the report part only confirms. Same seeded
sub-pool and fit/report split as the `mtrag` suite (assistant/evaluation/mtrag.py).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

from assistant import Assistant, load_settings
from assistant.evaluation import mtrag
from assistant.evaluation.metrics import document_ranking
from assistant.types import Turn

RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al., 2009)
ANSWER_WORDS = 40  # words of the previous reference answer added to the query


def fuse(rankings: Sequence[Sequence[str]], weights: Sequence[float] | None = None) -> list[str]:
    scores: dict[str, float] = {}
    for weight, ranking in zip(weights or [1.0] * len(rankings), rankings):
        for rank, doc in enumerate(ranking):
            scores[doc] = scores.get(doc, 0.0) + weight / (RRF_K + rank + 1)
    return sorted(scores, key=lambda doc: -scores[doc])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["fit", "report"], default="fit")
    parser.add_argument("--pool", type=int, default=1000)
    args = parser.parse_args()
    conversations, turns = mtrag.load_turns()
    corpus, n_passages, _ = mtrag.write_subpool(args.pool, conversations)
    engine = Assistant(mtrag.subpool_settings(load_settings(), corpus, args.pool))
    engine.index()
    chosen = [t for t in turns if t.dataset == "mtrag" and t.answerable and t.gold and t.index > 0
              and mtrag.part_of(t.conversation_id) == args.part]

    def ranked(query: str, k: int = 30) -> list[str]:
        return document_ranking(p.source for p in engine.retrieve(query, top_k=k))

    recalls: dict[str, list[float]] = {}
    for turn in chosen:
        history = tuple(Turn(question=q, answer=a) for q, a in turn.history)
        previous_q, previous_a = turn.history[-1]
        ours = ranked(engine.standalone_question(turn.question, history))
        last = ranked(turn.question)
        with_previous = ranked(f"{turn.question} {previous_q}")
        with_answer = ranked(f"{turn.question} {previous_q} {' '.join(previous_a.split()[:ANSWER_WORDS])}")
        topic = ranked(f"{turn.history[0][0]} {turn.question}")
        earlier_docs = [doc for q, _ in turn.history for doc in ranked(q, 5)[:3]]
        variants: dict[str, list[str]] = {
            "last turn": last,
            "our rewrite (with history)": ours,
            "benchmark rewrite": ranked(turn.rewrite or turn.question),
            "turn + previous question": with_previous,
            "turn + previous question + answer": with_answer,
            "fuse(ours, turn + previous q)": fuse([ours, with_previous]),
            "fuse(ours, turn + previous q + a)": fuse([ours, with_answer]),
            "fuse(ours, turn + previous q, topic)": fuse([ours, with_previous, topic]),
            "fuse(ours, last, turn + previous q + a)": fuse([ours, last, with_answer]),
            "fuse(ours, turn + previous q + a, earlier docs x0.5)": fuse([ours, with_answer, earlier_docs], [1, 1, 0.5]),
        }
        for name, ranking in variants.items():
            recall = mtrag.recall_at_k(ranking, turn.gold)
            if recall is not None:
                recalls.setdefault(name, []).append(recall)
    print(f"MTRAG Cloud sub-pool of {n_passages} passages, {args.part} part: {len(chosen)} answerable later turns")
    for name, values in recalls.items():
        print(f"  {name:55s} R@5 {statistics.mean(values):.3f}")


if __name__ == "__main__":
    main()
