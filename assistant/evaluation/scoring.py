"""Scoring an eval run: one results row per asked question, and the run's aggregate metrics
(flat names the gate and `--compare` read, per-category figures, the abstention trade-off,
reliability and latency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.evaluation import metrics as m
from assistant.evaluation.gold import GoldItem, GoldTurn
from assistant.evaluation.reliability import run_reliability
from assistant.evaluation.signals import (
    answer_span,
    confidence_of,
    has_short_answer_field,
    short_answer_of,
)
from assistant.evaluation.tradeoff import summarize_tradeoff
from assistant.types import Answer, Passage

RANK_DEPTH = 10  # documents scored for hit@k / MRR@10


def score_turn(
    item: GoldItem,
    turn_index: int,
    turn: GoldTurn,
    answer: Answer | None,
    ranking: Sequence[Passage],
    *,
    error: str | None = None,
    wall_s: float = 0.0,
) -> dict[str, Any]:
    """One results.jsonl row: what was asked, what came back, and its metrics."""
    gold_sources = set(turn.sources)
    ranked_docs = m.document_ranking(p.source for p in ranking)
    if answer is None:  # the question raised a typed error: a failed item, not a crashed run
        abstained, text, citations, passages, timings = False, "", (), (), {}
        span, short, (confidence, confidence_source) = "", None, (None, "none")
    else:
        abstained, text = answer.abstained, answer.text
        citations, passages, timings = answer.citations, answer.passages, dict(answer.timings)
        span, short, (confidence, confidence_source) = answer_span(answer), short_answer_of(answer), confidence_of(answer)
    timings["wall"] = wall_s
    retrieved_ids = {p.chunk_id for p in passages}
    answered = answer is not None and not abstained
    alias = answered and m.alias_match(text, turn.answers)
    metrics: dict[str, Any] = {
        "hit@1": m.hit_at_k(ranked_docs, gold_sources, 1),
        "hit@5": m.hit_at_k(ranked_docs, gold_sources, 5),
        "mrr@10": m.mrr_at_k(ranked_docs, gold_sources, RANK_DEPTH),
        "citation_validity": m.citation_validity([c.chunk_id for c in citations], retrieved_ids),
        "citation_precision": m.citation_precision([c.source for c in citations], gold_sources),
    }
    if turn.answerable:
        metrics["alias_match"] = bool(alias)
        metrics["f1"] = m.max_token_f1(text, turn.answers) if answered else 0.0
        metrics["em"] = bool(answered and m.exact_match(text, turn.answers))
        metrics["short_f1"] = m.max_token_f1(span, turn.answers) if answered else 0.0
        metrics["short_em"] = bool(answered and m.exact_match(span, turn.answers))
        metrics["short_malformed"] = bool(answered and short and m.malformed_short_answer(
            turn.question, short, [c.quote for c in citations]))
        passed = bool(alias)
    else:
        passed = bool(answer is not None and abstained)
    metrics["pass"] = passed
    key = item.id if not item.turns else f"{item.id}/t{turn_index}"
    return {
        "key": key,
        "item_id": item.id,
        "turn": turn_index,
        "category": item.category,
        "question": turn.question,
        "standalone_question": answer.standalone_question if answer is not None else turn.question,
        "answerable": turn.answerable,
        "gold_answers": list(turn.answers),
        "gold_sources": list(turn.sources),
        "answer": text,
        "short_answer": short,
        "abstained": abstained,
        "confidence": confidence,
        "confidence_source": confidence_source,
        "answerer": answer.answerer if answer is not None else None,
        "config_hash": answer.config_hash if answer is not None else None,
        "notes": list(answer.notes) if answer is not None else [],
        "citations": [{"n": c.n, "source": c.source, "chunk_id": c.chunk_id, "date": str(c.date) if c.date else None, "quote": c.quote} for c in citations],
        "retrieved": [{"source": p.source, "chunk_id": p.chunk_id, "score": round(p.score, 6)} for p in passages],
        "ranking": ranked_docs,
        "metrics": metrics,
        "timings": timings,
        "error": error,
    }


def _micro(rows: Sequence[dict[str, Any]], metric: str, weight_key: str) -> float | None:
    """Citation metrics pooled over every citation, not averaged per answer."""
    num = den = 0.0
    for row in rows:
        value = row["metrics"].get(metric)
        if value is None:
            continue
        n = len(row[weight_key])
        num += value * n
        den += n
    return num / den if den else None


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate metrics (flat names, used by the gate and by compare) and per-category figures."""
    answerable = [r for r in rows if r["answerable"]]
    followups = [r for r in rows if r["turn"] >= 1]
    abst = m.abstention_scores([r["abstained"] for r in rows], [r["answerable"] for r in rows])
    metrics: dict[str, Any] = {
        "accuracy": m.mean(float(r["metrics"]["pass"]) for r in rows),
        "hit@1": m.mean(r["metrics"]["hit@1"] for r in rows),
        "hit@5": m.mean(r["metrics"]["hit@5"] for r in rows),
        "mrr@10": m.mean(r["metrics"]["mrr@10"] for r in rows),
        "answer_alias_accuracy": m.mean(float(r["metrics"]["alias_match"]) for r in answerable),
        "answer_f1": m.mean(r["metrics"]["f1"] for r in answerable),
        "answer_em": m.mean(float(r["metrics"]["em"]) for r in answerable),
        "citation_validity": _micro(rows, "citation_validity", "citations"),
        "citation_precision": _micro(rows, "citation_precision", "citations"),
        "abstention_precision": abst["precision"],
        "abstention_recall": abst["recall"],
        "abstention_f1": abst["f1"],
        "wrong_abstention_rate": m.mean(float(r["abstained"]) for r in answerable),
        "short_answer_em": m.mean(float(r["metrics"]["short_em"]) for r in answerable),
        "short_answer_f1": m.mean(r["metrics"]["short_f1"] for r in answerable),
        # of the answered questions, those whose short answer is a fragment or of the wrong kind
        "short_answer_malformed": m.mean(float(r["metrics"].get("short_malformed", False)) for r in answerable
                                         if not r["abstained"] and r["error"] is None),
        "followup_accuracy": m.mean(float(r["metrics"]["pass"]) for r in followups),
        "error_rate": m.mean(float(r["error"] is not None) for r in rows),
    }
    categories: dict[str, dict[str, Any]] = {}
    for cat in sorted({r["category"] for r in rows}):
        sub = [r for r in rows if r["category"] == cat]
        categories[cat] = {
            "n": len(sub),
            "accuracy": m.mean(float(r["metrics"]["pass"]) for r in sub),
            "hit@5": m.mean(r["metrics"]["hit@5"] for r in sub),
        }
        metrics[f"accuracy_{cat}"] = categories[cat]["accuracy"]
    tradeoff = summarize_tradeoff(rows)
    metrics["tradeoff_abstention_at_fa10"] = tradeoff["at_max_false_abstention"]["abstained_unanswerable"] if tradeoff["at_max_false_abstention"] else None
    metrics["abstention_auc"] = tradeoff["auc"]
    reliability = run_reliability(rows)
    metrics["calibration_error"] = reliability["ece"] if reliability else None
    latency = m.latency_summary(r["timings"] for r in rows)
    for stage in ("total", "wall"):
        if stage in latency:
            metrics[f"latency_{stage}_p50_s"] = latency[stage]["p50"]
            metrics[f"latency_{stage}_p95_s"] = latency[stage]["p95"]
    return {"metrics": metrics, "by_category": categories, "latency": latency, "abstention_counts": {k: abst[k] for k in ("tp", "fp", "fn")},
            "short_answer_source": "Answer.short_answer, else Answer.text" if has_short_answer_field() else "Answer.text (Answer has no short_answer)",
            "abstention_tradeoff": tradeoff, "reliability": reliability}
