"""The ``causalinfer`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .exceptions import CausalInferError


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .data import data_card, list_datasets

    for name in list_datasets():
        card = data_card(name)
        roles = ", ".join(f"{k}={v}" for k, v in card.roles.items() if isinstance(v, str))
        print(f"{name:<14} {card.rows:>7} rows  {card.title}  [{roles}]")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import stats
    from .data import data_card, load_dataset

    ds = load_dataset("lalonde")
    card = data_card("lalonde")
    print(card.title)
    print(f"source: {card.source}\n")
    print(ds.describe())
    result = stats.ttest(ds.outcome, data=ds, group=ds.treatment, levels=(1, 0))
    print(result)
    lo, hi = result.ci or (float("nan"), float("nan"))
    print(
        f"Headline: the NSW programme raised mean 1978 earnings by ${result.estimate:,.2f} "
        f"(95% CI ${lo:,.0f} to ${hi:,.0f}; Welch t-test p = {result.pvalue:.3g}), the experimental benchmark of LaLonde (1986)."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="causalinfer",
        description="Predictive, statistical and causal inference from the command line.",
        epilog="Examples:\n  causalinfer demo\n  causalinfer datasets",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"causalinfer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run an end-to-end analysis of a bundled data set", description="Analyse the NSW experiment (bundled data) and print the result.")
    demo.set_defaults(func=_cmd_demo)
    ds = sub.add_parser("datasets", help="list the bundled data sets", description="List the bundled data sets, one line each.")
    ds.set_defaults(func=_cmd_datasets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except CausalInferError as exc:
        print(f"causalinfer: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
