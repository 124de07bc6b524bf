"""The ``causalinfer check`` subcommand: run a suite of model and data checks in a pipeline.

Exit codes: 0 every check passed; 1 a check failed (or the input could not be read: one line on stderr says
which); 2 bad usage; 3 no check failed but some were inconclusive; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

_EPILOG = (
    "examples:\n"
    "  causalinfer check --suite checks.toml --model model.skops --train train.parquet --test test.csv\n"
    "  causalinfer check --suite checks.toml --model model.skops --test test.csv --junit checks.xml --html checks.html\n"
    "  causalinfer check --suite checks.toml --model new.skops --champion current.skops --test test.parquet --json\n"
    "\n"
    "The suite file (TOML, or YAML when PyYAML is installed) holds an optional [settings] table (alpha, label,\n"
    "title) and a [[checks]] array; each check has a `check` name and its options, e.g.\n"
    '  [[checks]]\n  check = "performance"\n  metric = "auc"\n  at_least = 0.80\n'
    "\n"
    "exit codes:\n"
    "  0    every check passed\n"
    "  1    a check failed, or an input could not be read (one line on stderr says which)\n"
    "  2    bad command-line usage\n"
    "  3    no check failed, but some were inconclusive (the data could not decide at the stated level)\n"
)


def register(subparsers: Any) -> None:
    """Add the ``check`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "check",
        help="run a suite of model and data checks (pass / fail / inconclusive) for CI pipelines",
        description="Check a model and its data against a suite of rules. Every gate decides on a one-sided confidence\n"
        "bound, alarms are adjusted for the number of checks, and an inconclusive check says how many rows would decide.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--suite", metavar="FILE", help="suite file (.toml, or .yaml); default: the data checks the inputs allow")
    p.add_argument("--model", metavar="MODEL", help="model file saved with save_model (.skops with its .json sidecar)")
    p.add_argument("--champion", metavar="MODEL", help="the current model, for the champion/challenger check")
    for table in ("train", "test", "production"):
        p.add_argument(f"--{table}", metavar="FILE", help=f"{table} data (CSV or Parquet)")
    p.add_argument("--label", help="label column (overrides the suite's settings.label)")
    p.add_argument("--alpha", type=float, help="level of every decision (default: the suite's, else 0.05)")
    p.add_argument("--correction", choices=("holm", "bh", "none"), default="holm", help="adjustment of alarms across checks (default holm)")
    p.add_argument("--trust", nargs="+", default=[], metavar="NAME", help="type names to trust when loading model files")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML (one testcase per check)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE", help="write the results as JSON (to stdout without FILE)")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=_cmd_check)


def _read(path: str, what: str) -> Any:
    from ._cli_predict import _read_table

    return _read_table(Path(path), what)


def _run(args: argparse.Namespace) -> int:
    from .predict import check

    tables = {t: None if getattr(args, t) is None else _read(getattr(args, t), f"--{t} file") for t in ("train", "test", "production")}
    report = check(
        args.model,
        **tables,
        label=args.label,
        suite=args.suite,
        alpha=args.alpha,
        correction=None if args.correction == "none" else args.correction,
        champion=args.champion,
        trusted=tuple(args.trust),
    )
    if args.junit:
        report.to_junit(args.junit)
    if args.html:
        report.to_html(args.html)
    if args.json == "-":
        print(report.to_json(indent=1))
    elif args.json:
        from .predict._check_output import write_text

        write_text(args.json, report.to_json(indent=1), "JSON results")
    if not args.quiet and args.json != "-":
        for r in report.checks:
            print(r.verdict())
        print(
            f"suite {report.status.upper()}: {len(report.passed)} passed, {len(report.failed)} failed, {len(report.inconclusive)} inconclusive"
        )
    return report.exit_code


def _cmd_check(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("causalinfer check: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # one readable line, never a traceback (--debug shows it)
        if getattr(args, "debug", False):
            raise
        from .exceptions import CausalInferError

        text = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, CausalInferError):
            text = f"{type(exc).__name__}: {text}"
        print(f"causalinfer check: error: {text}", file=sys.stderr)
        return EXIT_ERROR
