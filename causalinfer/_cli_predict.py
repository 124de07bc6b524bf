"""The ``causalinfer score`` and ``causalinfer drift`` subcommands (predictive inference from the command line).

``register(subparsers)`` adds both to an ``argparse`` sub-parser collection. Heavy modules (pandas, scikit-learn,
skops) are imported only when a command runs, so building the parser stays fast.

Exit codes: 0 success; 1 failure (one line on stderr, no traceback); 2 bad usage (argparse); 3 drift alert
(the work itself succeeded, but a column was flagged); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["EXIT_DRIFT", "EXIT_ERROR", "main", "register"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 3
EXIT_INTERRUPTED = 130

_EXIT_HELP = (
    "exit codes:\n"
    "  0    success (and no drift alert)\n"
    "  1    failure; one line on stderr says why\n"
    "  2    bad command-line usage\n"
    "  3    drift alert: the work succeeded, but at least one column was flagged as drifted\n"
    "  130  interrupted (a scoring job keeps its committed chunks; run it again to resume)\n"
)

_SCORE_EPILOG = (
    "destinations:\n"
    "  out.csv                 one CSV file (a manifest out.csv.manifest.json sits beside it)\n"
    "  out/  or out.parquet    a Parquet directory, one part per chunk\n"
    "  sqlite:///scores.db     a SQL table (name from --table; any SQLAlchemy URL works)\n"
    "\n"
    "outputs:\n"
    "  prediction   column 'prediction'\n"
    "  proba        'proba_<class>' per class (classifiers)\n"
    "  interval     'lower' and 'upper' (a saved conformal regressor, at its level 1 - alpha)\n"
    "  set          'set_size' and a boolean 'in_set_<class>' per class (a saved SplitConformalClassifier)\n"
    "\n"
    "examples:\n"
    "  causalinfer score model.skops rows.csv scores.csv --key id\n"
    "  causalinfer score model.skops data/ scores/ --chunk-size 50000 --outputs prediction interval\n"
    "  causalinfer score model.skops rows.parquet sqlite:///scores.db --table scores --profile train_profile.json\n"
    "  causalinfer score model.skops rows.csv scores.csv --trust mypackage.MyTransformer\n"
    "\n"
    "An interrupted job resumes after its last committed chunk when run again with the same arguments\n"
    "(--no-resume starts it afresh). With --profile, drift is checked on the rows scored in this run.\n\n" + _EXIT_HELP
)

_DRIFT_EPILOG = (
    "examples:\n"
    "  causalinfer drift train.csv today.csv\n"
    "  causalinfer drift train.parquet today.parquet --columns age income --profile-out train_profile.json\n"
    "  causalinfer drift train_profile.json incoming/ --metric js --threshold 0.15\n"
    "  causalinfer drift train_profile.json today.csv || echo 'drift or failure: exit code' $?\n"
    "\n"
    "REFERENCE is either data (CSV or Parquet; a profile is built from it) or a profile saved as JSON\n"
    "(by --profile-out or Profile.to_json). CURRENT is a CSV or Parquet file, or a directory of Parquet or CSV\n"
    "files; it is read in chunks, so its size is not limited by memory.\n\n" + _EXIT_HELP
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's layout."""


def register(subparsers: Any) -> None:
    """Add the ``score`` and ``drift`` subcommands to ``subparsers`` (from ``parser.add_subparsers()``)."""
    sc = subparsers.add_parser(
        "score",
        help="score a CSV/Parquet file with a saved model, in resumable chunks",
        description="Score SOURCE with the model saved in MODEL (by causalinfer.predict.save_model) and write the scores to "
        "DESTINATION, chunk by chunk, every row exactly once; an interrupted job resumes where it stopped.",
        epilog=_SCORE_EPILOG,
        formatter_class=_Formatter,
    )
    sc.add_argument("model", metavar="MODEL", help="a model file saved with save_model (.skops, with its .json sidecar)")
    sc.add_argument("source", metavar="SOURCE", help="a CSV file, a Parquet file or a directory of Parquet files")
    sc.add_argument("destination", metavar="DESTINATION", help="a .csv file, a Parquet directory, or a database URL (see below)")
    sc.add_argument("--chunk-size", type=int, default=100_000, metavar="N", help="rows per chunk (default 100000)")
    sc.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue an interrupted job after its last committed chunk (default: --resume)",
    )
    sc.add_argument("--overwrite", action="store_true", help="replace a destination holding another job's output")
    sc.add_argument("--key", nargs="+", metavar="COL", help="column(s) identifying a row, copied to the output (default: a row number)")
    sc.add_argument(
        "--outputs",
        nargs="+",
        default=["prediction"],
        choices=("prediction", "proba", "interval", "set"),
        metavar="OUTPUT",
        help="what to write: prediction, proba, interval, set (default: prediction)",
    )
    sc.add_argument("--trust", nargs="+", default=[], metavar="NAME", help="type names to trust when loading the model file")
    sc.add_argument(
        "--feature-order",
        nargs="+",
        metavar="COL",
        help="for a model fitted on an array (no column names, so it reads columns by position): its input columns in "
        "the order it was fitted on; not needed when the sidecar records the order (save_model(..., feature_order=...))",
    )
    sc.add_argument("--table", default="scores", help="table name when DESTINATION is a database URL (default: scores)")
    sc.add_argument("--profile", metavar="PROFILE.json", help="check drift of the scored rows (and predictions) against this profile")
    sc.add_argument("--quiet", action="store_true", help="no progress bar and no summary; only errors and alerts")
    sc.set_defaults(func=_cmd_score)

    dr = subparsers.add_parser(
        "drift",
        help="check whether current data still look like the reference data",
        description="Compare the columns of CURRENT with REFERENCE (KS / chi-square tests, PSI, Jensen-Shannon, Wasserstein) "
        "and flag the columns that drifted.",
        epilog=_DRIFT_EPILOG,
        formatter_class=_Formatter,
    )
    dr.add_argument("reference", metavar="REFERENCE", help="reference data (CSV/Parquet) or a saved profile (.json)")
    dr.add_argument("current", metavar="CURRENT", help="current data: a CSV/Parquet file or a directory of them")
    dr.add_argument("--columns", nargs="+", metavar="COL", help="columns to check (default: all columns of the reference)")
    dr.add_argument("--categorical", nargs="+", default=[], metavar="COL", help="numeric columns to treat as categories")
    dr.add_argument("--profile-out", metavar="FILE", help="save the reference profile as JSON (to reuse as REFERENCE later)")
    dr.add_argument("--metric", default="psi", choices=("psi", "js", "wasserstein"), help="effect size that raises alerts (default: psi)")
    dr.add_argument("--threshold", type=float, default=None, help="alert threshold (default: psi 0.2, js 0.1, wasserstein 0.1)")
    dr.add_argument(
        "--alert-on",
        default="effect_size",
        choices=("effect_size", "pvalue", "both"),
        help="alert on effect size, Holm-adjusted p-value or both (default: effect_size)",
    )
    dr.add_argument("--chunk-size", type=int, default=250_000, metavar="N", help="rows of CURRENT read at a time (default 250000)")
    dr.add_argument("--quiet", action="store_true", help="no progress bar and no table; only errors and alerts")
    dr.set_defaults(func=_cmd_drift)


# ---------------------------------------------------------------------------------------------- helpers
def _fail(command: str, exc: BaseException) -> int:
    from .exceptions import CausalInferError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, CausalInferError):
        text = f"{type(exc).__name__}: {text}"
    print(f"causalinfer {command}: error: {text}", file=sys.stderr)
    return EXIT_ERROR


def _run(command: str, work: Any, args: argparse.Namespace) -> int:
    try:
        return int(work(args))
    except KeyboardInterrupt:
        print(
            f"causalinfer {command}: interrupted" + ("; committed chunks are kept, run again to resume" if command == "score" else ""),
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception as exc:  # one readable line, never a traceback
        return _fail(command, exc)


def _interactive() -> bool:
    return sys.stderr.isatty()


def _destination(text: str, table: str) -> Any:
    from .predict import SQLDestination

    if "://" in text:
        return SQLDestination(text, table)
    return Path(text)


def _read_profile(path: Path) -> Any:
    from .exceptions import SourceError
    from .predict import Profile

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read the profile {str(path)!r}: {exc.strerror or exc}") from exc
    try:
        return Profile.from_json(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{str(path)!r} is not a saved profile ({type(exc).__name__}: {exc}); write one with --profile-out") from exc


def _drift_line(drift: Any) -> str:
    t = drift.table
    flagged = t[t["alert"]]
    parts = [f"{r.feature} ({drift.details['metric']} {r.effect:.3g})" for r in flagged.itertuples()]
    return f"drift alert: {len(parts)} of {len(t)} column(s) flagged: " + ", ".join(parts)


# ---------------------------------------------------------------------------------------------- score
def _cmd_score(args: argparse.Namespace) -> int:
    return _run("score", _score, args)


def _score(args: argparse.Namespace) -> int:
    from .predict import score

    monitor = _read_profile(Path(args.profile)) if args.profile else None
    res = score(
        args.model,
        args.source,
        _destination(args.destination, args.table),
        chunk_size=args.chunk_size,
        key=args.key,
        outputs=tuple(args.outputs),
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.quiet and _interactive(),
        trusted=tuple(args.trust),
        monitor=monitor,
        feature_order=args.feature_order,
    )
    d = res.details
    if not args.quiet:
        if d["status"] == "already complete":
            print(f"already complete: {d['destination']} holds all {d['rows_skipped']:,} rows of this job; nothing to do")
        else:
            print(
                f"scored {d['rows_read']:,} rows in {d['chunks']} chunk(s) -> {d['destination']}: {d['rows_written']:,} written now, "
                f"{d['rows_skipped']:,} committed earlier; {d['seconds_total']:.2f} s ({d['rows_per_second']:,.0f} rows/s)"
            )
        for diag in res.diagnostics:
            if diag.status != "ok" and diag.name != "drift":
                print(f"{diag.status}: {diag.name}: {diag.message}")
        if res.drift is not None:
            print(f"drift check over {d['drift_scope']}")
    if res.drift is not None and res.drift.drifted:
        print(_drift_line(res.drift), file=sys.stderr)
        return EXIT_DRIFT
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- drift
def _cmd_drift(args: argparse.Namespace) -> int:
    return _run("drift", _drift, args)


def _read_table(path: Path, what: str) -> Any:
    import pandas as pd

    from .exceptions import ArgumentError, SourceError

    if not path.exists():
        raise SourceError(f"{what} {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq") or path.is_dir():
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt", ".gz"):
            return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise SourceError(f"could not read {what} {str(path)!r}: {exc}") from exc
    raise ArgumentError(f"{what} {str(path)!r} has an unknown format; use a .csv or .parquet file (or a profile .json)")


def _reference_profile(args: argparse.Namespace) -> Any:
    from .exceptions import ArgumentError
    from .predict import Profile

    ref = Path(args.reference)
    if ref.suffix.lower() == ".json":
        prof = _read_profile(ref)
        if args.columns:
            unknown = [c for c in args.columns if c not in prof.columns]
            if unknown:
                raise ArgumentError(f"--columns names {unknown}, which the profile does not hold (it has {list(prof.columns)})")
            prof = Profile([prof[c] for c in args.columns], n_bins=prof.n_bins, name=prof.name)
        if args.categorical:
            raise ArgumentError("--categorical applies when REFERENCE is data; a saved profile already fixes each column's kind")
        return prof
    frame = _read_table(ref, "REFERENCE")
    return Profile.build(frame, columns=args.columns, categorical=args.categorical, name=ref.name)


def _current_chunks(path: Path, chunk_size: int, columns: Sequence[str]) -> Any:
    """Chunks of the current data: a CSV/Parquet file, a Parquet directory, or a directory of CSV files."""
    from .exceptions import SourceError
    from .predict._sources import as_source

    if not path.exists():
        raise SourceError(f"CURRENT {str(path)!r} does not exist")
    if path.is_dir() and not any(path.glob("*.parquet")) and not any(path.glob("*.pq")):
        files = sorted(path.glob("*.csv"))
        if not files:
            raise SourceError(f"the directory {str(path)!r} holds no .parquet or .csv files")
        for f in files:
            yield from as_source(f).chunks(chunk_size, list(columns))
        return
    yield from as_source(path).chunks(chunk_size, list(columns))


def _drift(args: argparse.Namespace) -> int:
    from .exceptions import SourceError
    from .predict import DriftMonitor

    prof = _reference_profile(args)
    if args.profile_out:
        out = Path(args.profile_out)
        try:
            out.write_text(prof.to_json(indent=1), encoding="utf-8")
        except OSError as exc:
            raise SourceError(f"cannot write the profile to {str(out)!r}: {exc.strerror or exc}") from exc
    monitor = DriftMonitor(prof, metric=args.metric, threshold=args.threshold, alert_on=args.alert_on)
    bar = None
    if not args.quiet and _interactive():
        from tqdm.auto import tqdm

        bar = tqdm(desc="checking drift", unit="rows")
    try:
        for chunk in _current_chunks(Path(args.current), args.chunk_size, prof.columns):
            monitor.update(chunk, keep_history=False)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    result = monitor.result()
    if not args.quiet:
        print(result)
        if args.profile_out:
            print(f"reference profile saved to {args.profile_out}")
    if result.drifted:
        print(_drift_line(result), file=sys.stderr)
        return EXIT_DRIFT
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``score`` or ``drift`` as a standalone command (``python -m causalinfer._cli_predict ...``)."""
    parser = argparse.ArgumentParser(prog="causalinfer", description="Predictive inference from the command line.")
    register(parser.add_subparsers(dest="command", metavar="COMMAND"))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
