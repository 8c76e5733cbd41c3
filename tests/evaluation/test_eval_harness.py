"""The harness's own logic on a deterministic fake engine (ranks by word overlap), and end to end
on a tiny fixture suite through the real Assistant (slow)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.evaluation.cli_eval import register
from assistant.evaluation.compare import compare_runs, format_comparison
from assistant.evaluation.gold import GoldItem, GoldTurn, parse_gold_lines
from assistant.evaluation.harness import load_run, run_suite
from assistant.evaluation.metrics import normalize_answer
from assistant.evaluation.suites import Suite
from assistant.types import Answer, Citation, Passage

DOCS = {
    "nsatu.txt": "The NSATU mission will be based in Wiesbaden, Germany. It will be headed by a three-star general.",
    "jatec.txt": "JATEC should be operational by early 2025. The JATEC agreement was reached in Bydgoszcz, Poland.",
    "summit.txt": "The Washington summit will be held from July 9 to 11. It marks the 75th anniversary of NATO.",
}
STOP = {"the", "a", "an", "will", "be", "is", "it", "of", "in", "by", "to", "was", "what", "where", "who", "when", "which", "how", "from", "and", "should", "do", "you"}


def _terms(text: str) -> set[str]:
    return {t for t in normalize_answer(text).split() if t not in STOP}


class FakeEngine:
    """Deterministic stand-in for Assistant: one passage per document, ranked by shared content words."""

    def __init__(self, *, use_history: bool = True) -> None:
        self.use_history = use_history
        self.indexed = False

    def index(self, rebuild: bool = False, show_progress: bool = False) -> dict[str, int]:
        self.indexed = True
        return {"documents": len(DOCS)}

    def retrieve(self, query: str, *, top_k: int = 10) -> list[Passage]:
        q = _terms(query)
        scored = sorted(((len(q & _terms(text)), src) for src, text in DOCS.items()), key=lambda x: (-x[0], x[1]))
        return [Passage(chunk_id=f"{src}#0", source=src, title=src, text=DOCS[src], score=float(s)) for s, src in scored[:top_k]]

    def ask(self, question: str, *, top_k: int | None = None, history: list[str] | None = None) -> Answer:
        standalone = " ".join([*(history or []), question]) if self.use_history else question
        passages = self.retrieve(standalone, top_k=top_k or 2)
        best = passages[0]
        timings = {"retrieve": 0.001 * len(question), "answer": 0.0005, "total": 0.001 * len(question) + 0.0005}
        if best.score < 1:
            return Answer(question=question, standalone_question=standalone, text="The documents do not say.", passages=tuple(passages), abstained=True, timings=timings, config_hash="fake")
        cite = Citation(n=1, source=best.source, title=best.title, quote=best.text, passage=best.text, chunk_id=best.chunk_id)
        return Answer(question=question, standalone_question=standalone, text=f"{best.text} [1]", citations=(cite,), passages=tuple(passages), timings=timings, config_hash="fake")


class FakeSession:
    def __init__(self, engine: FakeEngine) -> None:
        self.engine, self.history = engine, []

    def ask(self, message: str) -> Answer:
        answer = self.engine.ask(message, history=list(self.history))
        self.history.append(message)
        return answer


def _item(id_: str, q: str, answers: tuple[str, ...], sources: tuple[str, ...], category: str = "single") -> GoldItem:
    return GoldItem(id=id_, question=q, answers=answers, sources=sources, answerable=bool(answers), category=category)


def _suite() -> Suite:
    t1 = GoldTurn(question="Where will NSATU be based?", answers=("Wiesbaden",), sources=("nsatu.txt",))
    t2 = GoldTurn(question="What rank will its head hold?", answers=("three-star",), sources=("nsatu.txt",))
    items = (
        _item("jatec", "When should JATEC be operational?", ("early 2025",), ("jatec.txt",)),
        _item("summit", "Which anniversary does the Washington summit mark?", ("75th",), ("summit.txt",)),
        _item("wrong-gold", "Where is the Washington summit held?", ("Brussels",), ("summit.txt",)),
        _item("borscht", "How do you pickle red cabbage?", (), (), "unanswerable"),
        GoldItem(id="conv", question=t1.question, answers=t1.answers, sources=t1.sources, turns=(t1, t2), category="followup"),
    )
    return Suite(name="fixture", items=items, settings=load_settings(), description="tiny fixture")


def _run(tmp_path: Path, name: str, *, use_history: bool = True):
    engine = FakeEngine(use_history=use_history)
    result = run_suite(_suite(), engine=engine, out_dir=tmp_path / name, progress=False, session_factory=FakeSession)
    assert engine.indexed
    return result


def test_harness_writes_results_summary_report_and_charts(tmp_path: Path) -> None:
    result = _run(tmp_path, "run")
    rows = [json.loads(line) for line in (result.out_dir / "results.jsonl").read_text().splitlines()]
    assert [r["key"] for r in rows] == ["jatec", "summit", "wrong-gold", "borscht", "conv/t0", "conv/t1"]
    first = rows[0]
    assert first["answer"].startswith("JATEC should be operational") and first["citations"][0]["source"] == "jatec.txt"
    assert first["retrieved"][0]["source"] == "jatec.txt" and first["ranking"][0] == "jatec.txt"
    assert first["metrics"]["pass"] is True and first["metrics"]["hit@1"] == 1.0 and 0 < first["metrics"]["f1"] < 1
    assert "total" in first["timings"] and "wall" in first["timings"]
    assert rows[3]["abstained"] is True and rows[3]["metrics"]["pass"] is True
    assert rows[5]["standalone_question"].startswith("Where will NSATU be based?")
    assert rows[5]["metrics"]["pass"] is True

    summary = json.loads((result.out_dir / "summary.json").read_text())
    assert summary["config_hash"] == "fake" and summary["settings_hash"]
    metrics = summary["metrics"]
    assert metrics["accuracy"] == pytest.approx(5 / 6)
    assert metrics["answer_alias_accuracy"] == pytest.approx(4 / 5)
    assert metrics["followup_accuracy"] == 1.0
    assert metrics["abstention_precision"] == 1.0 and metrics["abstention_recall"] == 1.0
    assert metrics["citation_validity"] == 1.0 and metrics["hit@1"] == 1.0
    assert summary["latency"]["total"]["n"] == 6 and metrics["latency_total_p95_s"] >= metrics["latency_total_p50_s"]

    report = (result.out_dir / "report.md").read_text()
    assert "![metrics](charts/metrics.png)" in report and "![latency](charts/latency.png)" in report
    assert "wrong-gold" in report and "Brussels" in report  # the failure is listed
    for chart in ("metrics.png", "latency.png"):
        assert (result.out_dir / "charts" / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_lists_pass_to_fail_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _run(tmp_path, "good")
    bad = _run(tmp_path, "bad", use_history=False)  # forgets the conversation: the follow-up turn breaks
    cmp = compare_runs(good.out_dir, bad.out_dir)
    assert [r["key"] for r in cmp.regressions] == ["conv/t1"]
    assert cmp.fixes == ()
    followup = next(d for d in cmp.deltas if d.name == "followup_accuracy")
    assert followup.a == 1.0 and followup.b == 0.0 and followup.delta == -1.0
    text = format_comparison(cmp)
    assert "followup_accuracy" in text and "WORSE" in text and "FAIL conv/t1" in text

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "--compare", str(good.out_dir), str(bad.out_dir)])
    assert args.func(args) == 0
    assert "pass -> fail: 1" in capsys.readouterr().out


def test_load_run_errors_on_missing_dir(tmp_path: Path) -> None:
    from assistant.evaluation.errors import EvalError

    with pytest.raises(EvalError, match="no eval run"):
        load_run(tmp_path / "nothing")


FIXTURE_GOLD = [
    {"id": "nsatu-base", "question": "Where will the NSATU mission be based?", "answers": ["Wiesbaden"], "sources": ["nsatu.txt"], "answerable": True, "turns": [], "category": "single"},
    {"id": "jatec-date", "question": "When should JATEC become operational?", "answers": ["early 2025"], "sources": ["jatec.txt"], "answerable": True, "turns": [], "category": "single"},
    {"id": "borscht", "question": "How do you cook borscht with beetroot?", "answers": [], "sources": [], "answerable": False, "turns": [], "category": "unanswerable"},
    {"id": "conv", "question": "What is the Washington summit?", "answers": ["75th anniversary"], "sources": ["summit.txt"], "answerable": True, "category": "followup",
     "turns": [{"question": "What is the Washington summit?", "answers": ["75th anniversary"], "sources": ["summit.txt"], "answerable": True},
               {"question": "When will it be held?", "answers": ["July 9 to 11"], "sources": ["summit.txt"], "answerable": True}]},
]


@pytest.mark.slow
def test_cli_end_to_end_on_a_tiny_fixture_suite_with_the_real_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text + "\n", encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in FIXTURE_GOLD), encoding="utf-8")
    parse_gold_lines(gold.read_text().splitlines())  # the fixture itself is valid
    monkeypatch.setenv("ASSISTANT_CORPUS__PATH", str(corpus))
    monkeypatch.setenv("ASSISTANT_STORE__PATH", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_STORE__COLLECTION", f"evalfix-{tmp_path.name[-20:]}".replace("_", "-"))
    thresholds = tmp_path / "thresholds.json"
    thresholds.write_text(json.dumps({"gold": {"hit@5": 1.0}, "strict": {}}))

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "run"
    args = parser.parse_args(["eval", "--suite", str(gold), "--out", str(out), "--quiet", "--gate", "--thresholds", str(thresholds)])
    code = args.func(args)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    summary, rows = load_run(out)
    assert summary["n_questions"] == 5 and len(rows) == 5
    assert summary["metrics"]["hit@5"] == 1.0  # three documents: every gold doc is in the top 5
    assert summary["config_hash"] and (out / "charts" / "latency.png").is_file()
    by_key = {r["key"]: r for r in rows}
    assert by_key["nsatu-base"]["ranking"][0] == "nsatu.txt"
    assert by_key["nsatu-base"]["metrics"]["pass"] is True
    assert all(r["metrics"]["citation_validity"] in (None, 1.0) for r in rows)
    assert set(by_key["conv/t1"]["timings"]) >= {"total", "wall"}


def test_comparison_knows_which_metrics_improve_downwards() -> None:
    from assistant.evaluation.compare import MetricDelta

    assert MetricDelta("calibration_error", 0.30, 0.20).lower_is_better
    assert MetricDelta("wrong_abstention_rate", 0.1, 0.2).lower_is_better
    assert not MetricDelta("accuracy", 0.7, 0.8).lower_is_better
