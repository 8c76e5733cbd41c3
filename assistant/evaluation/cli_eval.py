"""`assistant eval`: run a suite, gate it, or compare two runs. Exit codes: 0 ok, 1 gate failed, 2 error."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from assistant.errors import AssistantError

EXIT_OK, EXIT_GATE_FAILED, EXIT_ERROR = 0, 1, 2


def register(subparsers: Any) -> None:
    """Add the `eval` subcommand to an argparse subparsers object; its handler is `args.handler(args) -> int` (also `args.func`)."""
    p = subparsers.add_parser(
        "eval",
        help="run an eval suite, gate it against thresholds, or compare two runs",
        description="Run gold Q&A through the real ask()/ChatSession and write results.jsonl, summary.json, "
        "report.md and charts. Exit codes: 0 ok, 1 quality gate failed, 2 error.",
    )
    p.add_argument("--suite", help="'corpus', 'squad', 'squad2', 'mtrag' (MTRAG conversations, three-way table), or a path to a gold .jsonl file (over the configured corpus)")
    p.add_argument("--domain", choices=("cloud", "fiqa"), default="cloud", help="mtrag: MTRAG Cloud (technical documentation, default) or MTRAG FiQA (personal-finance forum answers)")
    p.add_argument("--answerer", choices=("extractive", "llamacpp", "openai"), help="answerer to evaluate (default: the configured one)")
    p.add_argument("--limit", type=int, help="ask only the first N items (smoke run)")
    p.add_argument("--sample", type=int, help="squad: size of the seeded question sample (default 200); "
                   "squad2: size of a seeded sample stratified by answerable/unanswerable (default: all report-split questions)")
    p.add_argument("--pool", type=int, help="mtrag: passages in the indexed sub-pool (default 3000; at least the 690 the conversations name)")
    p.add_argument("--part", choices=("fit", "report"), default="report", help="mtrag: which seeded half of the conversations to ask (default report)")
    p.add_argument("--seed", type=int, help="squad, squad2: sampling seed (default 1234; the article split has its own fixed seed)")
    p.add_argument("--out", type=Path, help="run directory to write (default evals/reports/<suite>-<UTC time>)")
    p.add_argument("--gate", action="store_true", help="exit 1 when a metric is below its threshold in --thresholds")
    p.add_argument("--thresholds", type=Path, help="thresholds file (default evals/thresholds.json)")
    p.add_argument("--from-run", type=Path, metavar="RUN_DIR", help="gate/print an existing run instead of running the suite")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("RUN_A", "RUN_B"), help="print metric deltas and pass->fail items from A to B")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_eval_command, handler=run_eval_command)  # the main CLI calls args.handler


def _print_summary(summary: dict[str, Any], out_dir: Path | None, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    # lazy: this module is imported by every CLI command to register `eval`; keep its start fast
    from assistant.evaluation.report import fmt

    print(f"suite {summary.get('suite')}  config {summary.get('config_hash')}  questions {summary.get('n_questions')}")
    if summary.get("split"):
        print(f"  {summary['split']['description']} (every figure below)")
    signal = (summary.get("abstention_tradeoff") or {}).get("signal")
    if signal:
        print(f"  abstention trade-off over: {signal}; short answers from: {summary.get('short_answer_source')}")
    for name, value in summary.get("metrics", {}).items():
        print(f"  {name:<28} {fmt(value)}")
    if out_dir is not None:
        print(f"report: {out_dir / 'report.md'}")


def run_eval_command(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except SettingsError as exc:  # an ASSISTANT_* environment variable that cannot be parsed
        print(f"error: invalid configuration in the environment: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ValidationError as exc:
        print(f"error: invalid setting: {exc.errors()[0].get('msg')} ({exc.errors()[0].get('loc')})", file=sys.stderr)
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    # lazy: this module is imported by every CLI command to register `eval`; keep its start fast
    from assistant.evaluation.errors import EvalError

    if args.compare:
        # lazy: this module is imported by every CLI command to register `eval`; keep its start fast
        from assistant.evaluation.compare import compare_runs, format_comparison

        print(format_comparison(compare_runs(*args.compare)))
        return EXIT_OK
    out_dir: Path | None
    if args.from_run:
        # lazy: this module is imported by every CLI command to register `eval`; keep its start fast
        from assistant.evaluation.harness import load_run

        summary, _ = load_run(args.from_run)
        out_dir = None
    else:
        if not args.suite:
            raise EvalError("give --suite NAME (corpus, squad, squad2 or a gold .jsonl file), --compare RUN_A RUN_B, or --from-run RUN_DIR")
        # lazy: this module is imported by every CLI command to register `eval`; keep its start fast
        from assistant.config import load_settings
        from assistant.evaluation.harness import run_suite
        from assistant.evaluation.suites import SQUAD_SEED, build_suite

        settings = load_settings()
        if args.answerer:
            settings = settings.with_(answer={"answerer": args.answerer})
        if args.suite == "mtrag":
            # lazy: this module is imported by every CLI command to register `eval`; keep its start fast
            from assistant.evaluation.mtrag import run_mtrag, table_markdown
            from assistant.evaluation.mtrag_data import (
                DEFAULT_POOL,
                DOMAINS,
                GATED_POOL,
            )

            if args.gate and ((args.pool or DEFAULT_POOL) != GATED_POOL or args.part != "report" or args.sample):
                raise EvalError(f"the mtrag gate's thresholds are for the whole report part of a {GATED_POOL}-passage "
                                f"sub-pool: run --suite mtrag --domain {args.domain} --pool {GATED_POOL} --part report --gate "
                                "(no --sample)")
            out_dir, summary = run_mtrag(settings, pool=args.pool or DEFAULT_POOL, part=args.part, sample=args.sample,
                                         out_dir=args.out, progress=not args.quiet, domain=DOMAINS[args.domain])
            print(json.dumps(summary, indent=2) if args.json else f"{summary['label']}\n{table_markdown(summary['table'])}\nreport: {out_dir / 'report.md'}")
        else:
            suite = build_suite(args.suite, settings, sample=args.sample, seed=args.seed if args.seed is not None else SQUAD_SEED, limit=args.limit)
            result = run_suite(suite, out_dir=args.out, progress=not args.quiet, charts=not args.no_charts)
            summary, out_dir = result.summary, result.out_dir
    if not str(summary.get("suite")).startswith("mtrag"):  # mtrag printed its three-way table above
        _print_summary(summary, out_dir, args.json)
    if args.gate:
        # lazy: this module is imported by every CLI command to register `eval`; keep its start fast
        from assistant.evaluation.gate import (
            DEFAULT_THRESHOLDS,
            check_gate,
            load_thresholds,
        )

        gate = check_gate(summary, load_thresholds(args.thresholds or DEFAULT_THRESHOLDS))
        print(gate.message(), file=sys.stdout if gate.passed else sys.stderr)
        return EXIT_OK if gate.passed else EXIT_GATE_FAILED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (`python -m assistant.evaluation.cli_eval eval ...`) until the main CLI wires `register`."""
    parser = argparse.ArgumentParser(prog="assistant")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
