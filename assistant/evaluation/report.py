"""The Markdown report of a run and its matplotlib charts (Agg backend, PNG, linked relatively)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.evaluation.reliability import plot_reliability
from assistant.evaluation.tradeoff import TradeoffPoint, tradeoff_curve, tradeoff_scores

# Metrics in [0, 1] shown in the bar chart and the table, in this order.
RATIO_METRICS = (
    "accuracy",
    "hit@1",
    "hit@5",
    "mrr@10",
    "answer_alias_accuracy",
    "answer_f1",
    "answer_em",
    "citation_validity",
    "citation_precision",
    "abstention_precision",
    "abstention_recall",
    "abstention_f1",
    "followup_accuracy",
    "wrong_abstention_rate",
    "short_answer_em",
    "short_answer_f1",
    "tradeoff_abstention_at_fa10",
    "abstention_auc",
    "calibration_error",
)
TRADEOFF_CHART = "abstention_tradeoff.png"
RELIABILITY_CHART = "reliability.png"


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _md_cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plot_metrics(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in RATIO_METRICS if summary["metrics"].get(k) is not None]
    values = [summary["metrics"][k] for k in names]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.2))
    bars = ax.barh(names[::-1], values[::-1], color="#4C72B0")
    for bar, value in zip(bars, values[::-1]):
        inside = value > 0.9  # a label past the bar's end would leave the axes
        ax.text(value - 0.01 if inside else value + 0.01, bar.get_y() + bar.get_height() / 2, f"{value:.2f}",
                va="center", ha="right" if inside else "left", fontsize=8, color="white" if inside else "black")
    ax.set_xlim(0, 1)
    ax.set_title(f"{summary.get('suite', '')}: metrics (config {summary.get('config_hash', '')[:12]})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(rows: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = sorted({s for r in rows for s in r["timings"]} - {"wall"})
    per_stage = {s: [r["timings"][s] * 1000 for r in rows if s in r["timings"]] for s in stages}
    totals = [r["timings"].get("total", r["timings"].get("wall", 0.0)) * 1000 for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.hist(totals, bins=min(30, max(5, len(totals) // 3)), color="#55A868")
    ax1.set_xlabel("total latency per question (ms)")
    ax1.set_ylabel("questions")
    ax1.set_title("Latency distribution")
    if per_stage:
        ax2.boxplot([per_stage[s] for s in stages], orientation="horizontal", showfliers=True)
        ax2.set_yticks(range(1, len(stages) + 1), stages)
        ax2.set_xlabel("ms")
        ax2.set_xscale("symlog", linthresh=1.0)
        ax2.set_xlim(left=0)
    ax2.set_title("Latency per stage")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def has_tradeoff(summary: dict[str, Any]) -> bool:
    """True when the run has both answerable and unanswerable questions scored by one signal."""
    tradeoff = summary.get("abstention_tradeoff") or {}
    return bool(tradeoff.get("n_answerable") and tradeoff.get("n_unanswerable"))


def plot_tradeoff(rows: Sequence[dict[str, Any]], summary: dict[str, Any], path: Path) -> None:
    """Share of unanswerable questions abstained on vs share of answerable ones falsely abstained on,
    for every threshold over the run's confidence signal; the run's own operating point marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    signal, answerable, unanswerable = tradeoff_scores(rows)
    curve: list[TradeoffPoint] = tradeoff_curve(answerable, unanswerable)
    tradeoff, metr = summary["abstention_tradeoff"], summary["metrics"]
    bound = tradeoff["max_false_abstention"]
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot([p.false_abstention for p in curve], [p.abstained_unanswerable for p in curve], color="#4C72B0",
            label=f"threshold over {signal} (AUC {fmt(tradeoff['auc'])})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    ax.axvline(bound, linestyle="--", color="#C44E52", linewidth=1, label=f"false abstention = {bound:.2f}")
    best = tradeoff.get("at_max_false_abstention")
    if best:
        ax.scatter([best["false_abstention"]], [best["abstained_unanswerable"]], color="#C44E52", zorder=3,
                   label=f"best within bound: {best['abstained_unanswerable']:.2f}")
    if metr.get("wrong_abstention_rate") is not None and metr.get("abstention_recall") is not None:
        ax.scatter([metr["wrong_abstention_rate"]], [metr["abstention_recall"]], marker="s", color="#55A868", zorder=3,
                   label="the answerer's own abstentions")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"answerable questions falsely abstained on (of {tradeoff['n_answerable']})")
    ax.set_ylabel(f"unanswerable questions abstained on (of {tradeoff['n_unanswerable']})")
    ax.set_title(f"{summary.get('suite', '')}: abstention trade-off")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _split_lines(summary: dict[str, Any]) -> list[str]:
    split = summary.get("split")
    if not split:
        return []
    articles = ", ".join(split["articles"])
    return [f"- every figure below: {split['description']} ({articles}); articles of the fit split are never asked here"]


def _tradeoff_lines(summary: dict[str, Any], *, charts: bool) -> list[str]:
    if not has_tradeoff(summary):
        return []
    t, metr = summary["abstention_tradeoff"], summary["metrics"]
    best = t["at_max_false_abstention"]
    intro = (f"Abstain when `{t['signal']}` is below a threshold: over {t['n_unanswerable']} unanswerable and "
             f"{t['n_answerable']} answerable questions ({t['n_left_out']} without that signal left out).")
    lines = ["", "## Abstention trade-off", "", intro, ""]
    if best:
        lines.append(f"- best within false abstention <= {t['max_false_abstention']:.2f}: {best['abstained_unanswerable']:.3f} of "
                     f"unanswerable questions abstained at {best['false_abstention']:.3f} false abstention (threshold {best['threshold']:.4f})")
    own = (f"- the answerer's own abstentions: {fmt(metr.get('abstention_recall'))} of unanswerable, "
           f"{fmt(metr.get('wrong_abstention_rate'))} of answerable")
    caveat = ("The best point is read off these same questions: it shows what the signal can separate, not what a "
              "threshold chosen on the fit split achieves here.")
    lines += [f"- AUC (unanswerable scored below answerable): {fmt(t['auc'])}", own, "", caveat]
    if charts:
        lines += ["", f"![abstention trade-off](charts/{TRADEOFF_CHART})"]
    return lines


def _reliability_lines(summary: dict[str, Any], *, charts: bool) -> list[str]:
    reliability = summary.get("reliability")
    if not reliability:
        return []
    lines = ["", "## Reliability of the confidence", "",
             f"Of the {reliability['n_answered']} answered questions, grouped by the confidence they were given: the share "
             f"answered right (an unanswerable question answered counts as wrong). Expected calibration error "
             f"{fmt(reliability['ece'])} (0 = confidence matches the share right).", "",
             "| confidence | answers | mean confidence | share right |", "|---|---|---|---|"]
    lines += [f"| {b['bin']} | {b['n']} | {fmt(b['mean_confidence'])} | {fmt(b['share_correct'])} |" for b in reliability["bins"]]
    if charts:
        lines += ["", f"![reliability](charts/{RELIABILITY_CHART})"]
    return lines


def render_markdown(rows: Sequence[dict[str, Any]], summary: dict[str, Any], *, charts: bool = True, max_failures: int = 40) -> str:
    metr = summary["metrics"]
    lines = [
        f"# Eval report: `{summary.get('suite')}`",
        "",
        f"{summary.get('description', '')}",
        "",
        f"- created: {summary.get('created_utc')}",
        f"- config hash: `{summary.get('config_hash')}`  answerer: `{summary.get('answerer')}`",
        f"- items: {summary.get('n_items')}  questions asked: {summary.get('n_questions')}  wall: {fmt(summary.get('wall_s'), 1)} s"
        f" (indexing {fmt(summary.get('index', {}).get('seconds'), 1)} s)",
        *_split_lines(summary),
        f"- short answers scored from: {summary.get('short_answer_source', 'Answer.text')}",
        "",
        "## Metrics",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {name} | {fmt(value)} |" for name, value in metr.items()]
    if charts:
        lines += ["", "![metrics](charts/metrics.png)"]
    lines += _tradeoff_lines(summary, charts=charts)
    lines += _reliability_lines(summary, charts=charts)
    lines += ["", "## By category", "", "| category | questions | accuracy | hit@5 |", "|---|---|---|---|"]
    for cat, values in summary.get("by_category", {}).items():
        lines.append(f"| {cat} | {values['n']} | {fmt(values['accuracy'])} | {fmt(values['hit@5'])} |")
    lines += ["", "## Latency (seconds)", "", "| stage | n | p50 | p95 | mean | max |", "|---|---|---|---|---|---|"]
    for stage, v in summary.get("latency", {}).items():
        lines.append(f"| {stage} | {v['n']} | {fmt(v['p50'], 4)} | {fmt(v['p95'], 4)} | {fmt(v['mean'], 4)} | {fmt(v['max'], 4)} |")
    if charts:
        lines += ["", "![latency](charts/latency.png)"]
    failures = [r for r in rows if not r["metrics"]["pass"]]
    lines += ["", f"## Failures ({len(failures)} of {len(rows)})", ""]
    if failures:
        lines += ["| key | category | question | expected | got |", "|---|---|---|---|---|"]
        for r in failures[:max_failures]:
            expected = " / ".join(r["gold_answers"]) if r["answerable"] else "(abstain)"
            got = "(abstained)" if r["abstained"] else (r["error"] or r["answer"])
            lines.append(f"| {r['key']} | {r['category']} | {_md_cell(r['question'])} | {_md_cell(expected, 80)} | {_md_cell(got)} |")
        if len(failures) > max_failures:
            lines.append(f"\n…and {len(failures) - max_failures} more in results.jsonl")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path, rows: Sequence[dict[str, Any]], summary: dict[str, Any], *, charts: bool = True) -> Path:
    """Write report.md (and charts/*.png when `charts`) into out_dir; return the report's path."""
    if charts:
        chart_dir = out_dir / "charts"
        chart_dir.mkdir(parents=True, exist_ok=True)
        plot_metrics(summary, chart_dir / "metrics.png")
        plot_latency(rows, chart_dir / "latency.png")
        if has_tradeoff(summary):
            plot_tradeoff(rows, summary, chart_dir / TRADEOFF_CHART)
        if summary.get("reliability"):
            plot_reliability(summary["reliability"]["bins"], chart_dir / RELIABILITY_CHART,
                             f"{summary.get('suite', '')}: reliability of the confidence")
    path = out_dir / "report.md"
    path.write_text(render_markdown(rows, summary, charts=charts), encoding="utf-8")
    return path
