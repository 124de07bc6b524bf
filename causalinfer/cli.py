"""The ``causalinfer`` command: demo, report, datasets (and the predictive jobs score and drift).

Exit codes: 0 success; 1 a problem with the input (one line on stderr says what); 2 bad command-line usage;
3 a check raised an alarm (drift); 70 an unexpected internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .exceptions import CausalInferError

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_ALARM, EXIT_INTERNAL = 0, 1, 2, 3, 70

# The What If model for NHEFS: categorical education/exercise/activity, quadratic continuous covariates.
DEMO_OPTIONS: dict[str, Any] = {
    "categorical": ["education", "exercise", "active"],
    "squared": ["age", "smokeintensity", "smokeyrs", "wt71"],
}


def _progress(args: argparse.Namespace) -> bool | None:
    return False if getattr(args, "no_progress", False) else None


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .data import data_card, list_datasets

    for name in list_datasets():
        card = data_card(name)
        roles = ", ".join(f"{k}={v}" for k, v in card.roles.items() if isinstance(v, str))
        print(f"{name:<20} {card.rows:>7} rows  {card.title}  [{roles}]")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from .data import load_dataset
    from .report import analysis_report

    ds = load_dataset("nhefs")
    print("Analysing NHEFS (bundled): does quitting smoking cause weight gain?", flush=True)
    analysis = analysis_report(
        ds,
        question=(
            "Does quitting smoking cause weight gain? NHEFS followed 1,566 smokers from 1971 to 1982; the question is the "
            "average effect of quitting (qsmk) on the weight change in kg (wt82_71), adjusting for the confounders used "
            "in Hernan and Robins, Causal Inference: What If, chapters 12-13."
        ),
        random_state=args.seed,
        n_simulations=args.n_simulations,
        progress=_progress(args),
        **DEMO_OPTIONS,
    )
    path = analysis.save(args.output)
    print(f"Report written to {path.resolve()}")
    print(f"Headline: {analysis.headline_text()}")
    refs = list(analysis.refutations)
    passed = sum(bool(r.passed) for r in refs)
    print(f"Refutations passed: {passed} of {len(refs)}. Published benchmark (What If ch. 12-13): about 3.4-3.5 kg.")
    return EXIT_OK


def _read_source(args: argparse.Namespace) -> Any:
    from .data import Dataset

    roles = {"outcome": args.outcome, "treatment": args.treatment, "covariates": args.covariates or ()}
    src = args.data
    if args.table or args.query or "://" in src or src.endswith((".db", ".sqlite", ".sqlite3")):
        return Dataset.from_sql(src, table=args.table, query=args.query, **roles)
    suffix = Path(src).suffix.lower()
    if suffix in (".parquet", ".pq") or Path(src).is_dir():
        return Dataset.from_parquet(src, **roles)
    return Dataset.from_csv(src, **roles)


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import analysis_report

    ds = _read_source(args)
    graph = None
    if args.graph:
        gpath = Path(args.graph)
        if not gpath.exists():
            raise _InputError(f"graph file {args.graph!r} does not exist")
        graph = gpath.read_text(encoding="utf-8")
    analysis = analysis_report(
        ds,
        graph=graph,
        methods=args.methods,
        headline=args.headline,
        estimand=args.estimand,
        categorical=args.categorical or (),
        squared=args.squared or (),
        n_simulations=args.n_simulations,
        random_state=args.seed,
        progress=_progress(args),
    )
    path = analysis.save(args.output)
    print(f"Report written to {path.resolve()}")
    print(f"Headline: {analysis.headline_text()}")
    return EXIT_OK


class _InputError(CausalInferError):
    """A command-line input problem found by the command itself."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit code 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="causalinfer",
        description="Predictive, statistical and causal inference from the command line.",
        epilog=(
            "examples:\n"
            "  causalinfer demo                              analyse bundled NHEFS data, write an HTML report\n"
            "  causalinfer report data.csv --treatment d --outcome y --covariates x1 x2 -o report.html\n"
            "  causalinfer score model.skops data.parquet scores/ --chunk-size 50000\n"
            "  causalinfer drift profile.json current.csv\n"
            "  causalinfer datasets                          list bundled data sets\n\n"
            "exit codes: 0 success, 1 bad input, 2 bad usage, 3 a check raised an alarm, 70 internal error"
        ),
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"causalinfer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo",
        help="analyse a bundled data set end to end and write the HTML report",
        description="Analyse the NHEFS data (does quitting smoking cause weight gain?) and write an HTML report.",
        epilog="example:\n  causalinfer demo -o nhefs-report.html",
        formatter_class=fmt,
    )
    demo.add_argument("-o", "--output", default="causalinfer-demo-report.html", help="report file (default: %(default)s)")
    demo.add_argument("--n-simulations", type=int, default=100, help="simulations per refutation test (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default: %(default)s)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    demo.set_defaults(func=_cmd_demo)

    rep = sub.add_parser(
        "report",
        help="causal analysis report for your own data (CSV, Parquet or SQL)",
        description="Estimate the effect of a binary treatment on an outcome with several methods, check balance and "
        "overlap, try to refute the estimate, test its sensitivity, and write one self-contained HTML report.",
        epilog=(
            "examples:\n"
            "  causalinfer report nsw.csv --treatment treat --outcome re78 --covariates age educ re74 re75 -o nsw.html\n"
            "  causalinfer report study.db --table patients --treatment drug --outcome bp --covariates age sex\n"
            "  causalinfer report data.parquet --treatment d --outcome y --covariates x1 x2 --graph graph.dot"
        ),
        formatter_class=fmt,
    )
    rep.add_argument("data", help="CSV or Parquet file, SQLite file, or a SQLAlchemy URL")
    rep.add_argument("--treatment", required=True, help="binary (0/1) treatment column")
    rep.add_argument("--outcome", required=True, help="numeric outcome column")
    rep.add_argument("--covariates", nargs="*", help="adjustment set (confounders)")
    rep.add_argument("--categorical", nargs="*", help="covariates to expand into indicators")
    rep.add_argument("--squared", nargs="*", help="covariates that also enter squared")
    rep.add_argument("--graph", help="file with a causal graph in DOT or GML")
    rep.add_argument("--table", help="table name (SQL sources)")
    rep.add_argument("--query", help="SELECT statement (SQL sources)")
    rep.add_argument("--methods", nargs="+", default=["regression", "ipw", "aipw"], help="estimators (default: %(default)s)")
    rep.add_argument("--headline", default="aipw", help="method reported as the headline (default: %(default)s)")
    rep.add_argument("--estimand", default="ATE", choices=["ATE", "ATT", "ATC"], help="average effect to estimate")
    rep.add_argument("--n-simulations", type=int, default=100, help="simulations per refutation test (default: %(default)s)")
    rep.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    rep.add_argument("-o", "--output", default="causalinfer-report.html", help="report file (default: %(default)s)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bars")
    rep.set_defaults(func=_cmd_report)

    ds = sub.add_parser(
        "datasets",
        help="list the bundled data sets",
        description="List the bundled data sets, one line each.",
        epilog="example:\n  causalinfer datasets",
        formatter_class=fmt,
    )
    ds.set_defaults(func=_cmd_datasets)

    from ._cli_predict import register as register_predict

    register_predict(sub)

    from ._cli_experiments import register as register_experiments

    register_experiments(sub)

    from ._cli_check import register as register_check

    register_check(sub)

    from ._cli_serve import register as register_serve

    register_serve(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except CausalInferError as exc:
        if args.debug:
            raise
        print(f"causalinfer: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("causalinfer: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, not a traceback; --debug shows it
        if args.debug:
            raise
        print(f"causalinfer: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} (rerun with --debug)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
