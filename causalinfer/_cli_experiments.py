"""The ``causalinfer experiment`` subcommand: analyse an A/B test from a file or a database table.

``register(subparsers)`` adds it to the ``argparse`` sub-parser collection of ``causalinfer.cli``. pandas and the
experiments module are imported only when the command runs.

Exit codes: 0 success; 1 the analysis failed on the data (one line on stderr); 2 bad usage, including an input
that does not exist, a column that the input does not hold and a malformed --metric, --guardrail or --allocation
(one line naming the argument); 3 the sample-ratio check failed (the report is still written); 70 internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]

EXIT_OK, EXIT_USAGE, EXIT_SRM = 0, 2, 3
KINDS = ("mean", "proportion", "ratio")
PROG = "causalinfer experiment"

_EPILOG = (
    "metric syntax (--metric, repeatable):\n"
    "  revenue                    mean of a column per unit (revenue per user)\n"
    "  converted:proportion       share of units with the column equal to 1\n"
    "  clicks/sessions:ratio      sum(clicks) / sum(sessions) by the delta method (the ':ratio' may be left out)\n"
    "  revenue:mean:secondary     a role after the kind: primary (default) or secondary\n"
    "\n"
    "guardrail syntax (--guardrail, repeatable): METRIC:MARGIN[:lower]\n"
    "  latency_ms:0.05:lower      non-inferiority: latency (lower is better) may not rise by more than 5%\n"
    "  orders/sessions:ratio:0.02 a ratio metric as guardrail, tolerating a 2% loss\n"
    "\n"
    "examples:\n"
    "  causalinfer experiment users.csv --control control --metric revenue --metric converted:proportion -o ab.html\n"
    "  causalinfer experiment events/ --control A --metric clicks/sessions --unit user_id --covariate pre_revenue\n"
    "  causalinfer experiment --sql-url sqlite:///ab.db --table users --control control --metric revenue \\\n"
    "      --guardrail latency_ms:0.05:lower --allocation control=0.5 b=0.5\n"
    "  causalinfer experiment ab.parquet --variant arm --control 0 --metric revenue --sequential\n"
    "\n"
    "--control and the variants of --allocation are read with the type of the variant column: numbers for an\n"
    "integer, decimal or true/false column of a Parquet file or table (--control 0), text otherwise. --sequential\n"
    "reports always-valid intervals and p-values (mixture SPRT confidence sequences), which stay valid however often\n"
    "the experiment is looked at; the report says so and records the look (units analysed).\n"
    "\n"
    "INPUT is a CSV file, a Parquet file or a folder of Parquet files (analysed inside DuckDB, so it need not fit\n"
    "in memory); --sql-url with --table analyses a database table inside the database.\n"
    "\n"
    "exit codes:\n"
    "  0    success\n"
    "  1    the analysis failed on the data; one line on stderr says why\n"
    "  2    bad usage: a missing input or column, a malformed argument (one line names it)\n"
    "  3    the sample-ratio check failed: the report is written, but its lifts are not trustworthy\n"
    "  70   internal error (rerun with --debug)\n"
)


class _Usage(Exception):
    """A command-line argument that cannot work; reported as usage (exit code 2)."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's layout."""


def register(subparsers: Any) -> None:
    """Add the ``experiment`` subcommand to ``subparsers`` (from ``parser.add_subparsers()``)."""
    ex = subparsers.add_parser(
        "experiment",
        help="analyse an A/B test (CSV, Parquet or SQL) and write an HTML report",
        description="Compare every treatment variant with the control on each metric: sample-ratio check first, "
        "absolute or relative lifts with intervals, CUPED with a pre-period covariate, ratio metrics, guardrail "
        "non-inferiority tests. Writes one self-contained HTML report and prints a short summary.",
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    ex.add_argument("input", nargs="?", metavar="INPUT", help="CSV file, Parquet file or folder of Parquet files")
    ex.add_argument("--sql-url", metavar="URL", help="SQLAlchemy URL of a database (with --table), instead of INPUT")
    ex.add_argument("--table", metavar="NAME", help="table (or view) to analyse, with --sql-url")
    ex.add_argument("--variant", default="variant", metavar="COL", help="column holding each row's variant (default: variant)")
    ex.add_argument("--control", required=True, metavar="LABEL", help="the control variant's label (never guessed)")
    ex.add_argument("--metric", action="append", default=[], metavar="SPEC", help="a metric (see the syntax below); repeatable")
    ex.add_argument("--guardrail", action="append", default=[], metavar="SPEC", help="a guardrail METRIC:MARGIN[:lower]; repeatable")
    ex.add_argument("--covariate", action="append", default=[], metavar="COL", help="pre-period covariate for CUPED; repeatable")
    ex.add_argument("--unit", metavar="COL", help="randomisation unit when rows are finer than units (sessions of users)")
    ex.add_argument("--allocation", nargs="+", metavar="VARIANT=SHARE", help="planned split for the sample-ratio check (default: equal)")
    ex.add_argument("--lift", default="relative", choices=("relative", "absolute"), help="scale of the lifts (default: relative)")
    ex.add_argument(
        "--sequential", action="store_true", help="always-valid inference for continuous monitoring (mixture SPRT confidence sequences)"
    )
    ex.add_argument(
        "--sequential-tuning",
        type=float,
        default=5000.0,
        metavar="N",
        help="units around which the confidence sequence is tightest, with --sequential (default: 5000)",
    )
    ex.add_argument("--conf-level", type=float, default=0.95, metavar="LEVEL", help="confidence level (default: 0.95)")
    ex.add_argument("--title", default="Experiment report", help="title of the report (default: %(default)s)")
    ex.add_argument("-o", "--output", default="experiment-report.html", help="report file (default: %(default)s)")
    ex.set_defaults(func=_cmd_experiment)


# ---------------------------------------------------------------------------------------------- parsing
def _parse_metric(spec: str, arg: str, guardrail: bool = False) -> tuple[Any, list[str]]:
    """A Metric from ``spec`` and the columns it reads."""
    from .experiments import mean, proportion, ratio

    parts = [p.strip() for p in spec.split(":")]
    margin = None
    higher = True
    if guardrail:
        if parts and parts[-1].lower() in ("lower", "higher"):
            higher = parts.pop().lower() == "higher"
        if len(parts) < 2:
            raise _Usage(f"{arg} {spec!r} needs a margin: METRIC:MARGIN[:lower], e.g. latency_ms:0.05:lower")
        try:
            margin = float(parts.pop())
        except ValueError:
            raise _Usage(f"{arg} {spec!r}: the margin must be a number >= 0, e.g. latency_ms:0.05:lower") from None
        if not margin >= 0:
            raise _Usage(f"{arg} {spec!r}: the margin must be a number >= 0; got {margin}")
    column = parts[0] if parts else ""
    kind = parts[1].lower() if len(parts) > 1 and parts[1] else ("ratio" if "/" in column else "mean")
    role = "guardrail" if guardrail else (parts[2].lower() if len(parts) > 2 else "primary")
    if not column or len(parts) > (2 if guardrail else 3):
        raise _Usage(f"{arg} {spec!r} is not COLUMN[:KIND[:ROLE]] (e.g. revenue, converted:proportion, clicks/sessions:ratio)")
    if kind not in KINDS:
        raise _Usage(f"{arg} {spec!r}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if role not in ("primary", "secondary", "guardrail"):
        raise _Usage(f"{arg} {spec!r}: unknown role {role!r}; use primary or secondary (guardrails go in --guardrail)")
    opts: dict[str, Any] = {"role": role, "margin": margin, "higher_is_better": higher}
    if kind == "ratio":
        num, sep, den = column.partition("/")
        if not sep or not num or not den or "/" in den:
            raise _Usage(f"{arg} {spec!r}: a ratio metric is NUMERATOR/DENOMINATOR, e.g. clicks/sessions:ratio")
        return ratio(num, den, **opts), [num, den]
    if "/" in column:
        raise _Usage(f"{arg} {spec!r}: '/' makes a ratio metric; write {column}:ratio or drop the '/'")
    build = proportion if kind == "proportion" else mean
    return build(column, **opts), [column]


def _parse_allocation(items: list[str] | None) -> dict[str, float] | None:
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        label, sep, share = item.partition("=")
        try:
            value = float(share)
        except ValueError:
            value = float("nan")
        if not sep or not label or not value > 0:
            raise _Usage(f"--allocation {item!r} is not VARIANT=SHARE with a positive share, e.g. --allocation control=0.5 b=0.5")
        out[label] = value
    return out


def _arrow_kind(t: Any) -> str:
    """``int``, ``float``, ``bool`` or ``text``: how a command-line label is read for an Arrow column type."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    return "text"


def _sql_kind(t: Any) -> str:
    """The same for a SQLAlchemy column type."""
    import sqlalchemy as sa

    if isinstance(t, sa.types.Boolean):
        return "bool"
    if isinstance(t, sa.types.Integer):
        return "int"
    if isinstance(t, (sa.types.Float, sa.types.Numeric)):
        return "float"
    return "text"


def _typed_label(text: str, kind: str, arg: str, column: str) -> Any:
    """``text`` as a label of a variant column of kind ``kind`` (so that --control 0 matches the integer 0)."""
    import math
    import re

    if kind == "text":
        return text
    t = text.strip()
    if kind == "int" and re.fullmatch(r"[+-]?\d+", t):
        return int(t)
    if kind == "bool" and t.lower() in ("true", "false", "1", "0"):
        return t.lower() in ("true", "1")
    if kind == "float":
        try:
            value = float(t)
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
    what = {"int": "an integer", "float": "a number", "bool": "true or false"}[kind]
    raise _Usage(f"{arg} {text!r} is not a label of the variant column {column!r}, which holds {what} per row; give {what}")


# ---------------------------------------------------------------------------------------------- input
_SUFFIXES = (".csv", ".txt", ".gz", ".parquet", ".pq")


def _has_duckdb() -> bool:
    """Parquet is analysed inside DuckDB when it is installed; without it the needed columns are read by pandas."""
    import importlib.util

    return importlib.util.find_spec("duckdb") is not None


def _read_parquet(path: Path, columns: list[str]) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(path, columns=columns)
    except (OSError, ValueError) as exc:
        raise _Usage(f"INPUT {str(path)!r} is not readable as Parquet ({type(exc).__name__}: {exc})") from exc


def _columns_of_file(path: Path) -> dict[str, str]:
    """Column name -> kind of its labels (every CSV column is read as text)."""
    if path.suffix.lower() in (".parquet", ".pq") or path.is_dir():
        import pyarrow.dataset as pads

        try:
            schema = pads.dataset(str(path), format="parquet").schema
        except (OSError, ValueError) as exc:
            raise _Usage(f"INPUT {str(path)!r} is not readable as Parquet ({type(exc).__name__}: {exc})") from exc
        return {str(f.name): _arrow_kind(f.type) for f in schema}
    import pandas as pd

    try:
        return {str(c): "text" for c in pd.read_csv(path, nrows=0).columns}
    except (OSError, ValueError) as exc:
        raise _Usage(f"INPUT {str(path)!r} is not readable as CSV ({type(exc).__name__}: {exc})") from exc


def _columns_of_table(url: str, table: str) -> tuple[Any, dict[str, str]]:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
        columns = {str(c["name"]): _sql_kind(c["type"]) for c in sa.inspect(engine).get_columns(table)}
    except sa.exc.NoSuchTableError:
        raise _Usage(f"--table {table!r} does not exist in the database of --sql-url") from None
    except (sa.exc.SQLAlchemyError, ValueError, ImportError) as exc:
        raise _Usage(f"--sql-url {url!r} cannot be opened ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from exc
    return engine, columns


def _data(args: argparse.Namespace, needed: list[tuple[str, str]]) -> tuple[Any, str]:
    """The data to analyse (a frame, a ParquetSource or a SQLTable) after checking that the columns exist, and the
    kind of the variant column's labels (see :func:`_arrow_kind`)."""
    from .experiments import ParquetSource, SQLTable

    if args.sql_url or args.table:
        if args.input:
            raise _Usage(f"give either INPUT ({args.input!r}) or --sql-url with --table, not both")
        if not (args.sql_url and args.table):
            raise _Usage("--sql-url and --table go together: --sql-url URL --table NAME")
        data, columns = _columns_of_table(args.sql_url, args.table)
        source: Any = SQLTable(data, args.table)
        where = f"table {args.table!r}"
    else:
        if not args.input:
            raise _Usage("INPUT is missing: give a CSV/Parquet file or folder, or --sql-url URL --table NAME")
        path = Path(args.input)
        if not path.exists():
            raise _Usage(f"INPUT {args.input!r} does not exist; give a CSV or Parquet file, or a folder of Parquet files")
        if not (path.is_dir() or path.suffix.lower() in _SUFFIXES):
            raise _Usage(f"INPUT {args.input!r} is neither CSV nor Parquet; give a file ending in {', '.join(_SUFFIXES)} or a folder")
        columns = _columns_of_file(path)
        where = f"INPUT {args.input!r}"
        source = None
        if path.suffix.lower() in (".parquet", ".pq") or path.is_dir():
            source = ParquetSource(path) if _has_duckdb() else _read_parquet(path, sorted({c for _, c in needed}))
    for arg, col in needed:
        if col not in columns:
            raise _Usage(f"{arg} names the column {col!r}, which {where} does not hold (its columns: {', '.join(columns)})")
    kind = columns[args.variant]
    if source is None:
        import pandas as pd

        use = sorted({c for _, c in needed})
        try:
            # the variant column is read as text, so that --control (text) matches its labels exactly
            source = pd.read_csv(args.input, usecols=use, dtype={args.variant: str})
        except (OSError, ValueError) as exc:
            raise _Usage(f"INPUT {args.input!r} is not readable as CSV ({type(exc).__name__}: {exc})") from exc
    return source, kind


# ---------------------------------------------------------------------------------------------- command
def _usage_error(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())} (see {PROG} --help)", file=sys.stderr)
    return EXIT_USAGE


def _fmt(x: float) -> str:
    return "NaN" if x != x else f"{x:.4g}"


def _summary_lines(res: Any, lift: str) -> list[str]:
    from .report._experiment import SRM_LABEL, srm_verdict

    status, message = srm_verdict(res)
    lines = [("SRM ok: " if status == "ok" else "SAMPLE RATIO MISMATCH: ") + message]
    frame = res.to_frame()
    for label, row in zip(res.labels, frame.itertuples(index=False), strict=True):
        if label == SRM_LABEL:
            continue
        adjusted = getattr(row, "pvalue_adjusted", float("nan"))
        p_text = f"p = {_fmt(row.pvalue)}" + ("" if adjusted != adjusted else f" (adjusted {_fmt(adjusted)})")
        role = (res[label].details or {}).get("role", "")
        tag = "  guardrail (one-sided non-inferiority)" if role == "guardrail" else ""
        lines.append(f"  {label:<28} {lift} lift {_fmt(row.estimate):>10}  CI [{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]  {p_text}{tag}")
    return lines


def _cmd_experiment(args: argparse.Namespace) -> int:
    try:
        metrics, needed = [], [("--variant", args.variant)]
        for spec in args.metric:
            m, cols = _parse_metric(spec, "--metric")
            metrics.append(m)
            needed += [("--metric", c) for c in cols]
        for spec in args.guardrail:
            m, cols = _parse_metric(spec, "--guardrail", guardrail=True)
            metrics = [x for x in metrics if x.name != m.name] + [m]
            needed += [("--guardrail", c) for c in cols]
        if not metrics:
            raise _Usage("no metric: give at least one --metric (or --guardrail), e.g. --metric revenue")
        needed += [("--covariate", c) for c in args.covariate]
        if args.unit:
            needed.append(("--unit", args.unit))
        allocation = _parse_allocation(args.allocation)
        if not args.sequential_tuning > 0:
            raise _Usage(f"--sequential-tuning must be a positive number of units; got {args.sequential_tuning:g}")
        data, kind = _data(args, needed)
        control = _typed_label(args.control, kind, "--control", args.variant)
        if allocation is not None:
            allocation = {_typed_label(k, kind, "--allocation", args.variant): v for k, v in allocation.items()}
    except _Usage as exc:
        return _usage_error(str(exc))

    import warnings

    from .experiments import analyze
    from .report import experiment_report

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the sample-ratio verdict is printed and shown in the report instead
            res = analyze(
                data,
                variant=args.variant,
                control=control,
                metrics=metrics,
                unit=args.unit,
                covariates=args.covariate or None,
                allocation=allocation,
                lift=args.lift,
                conf_level=args.conf_level,
                sequential="mixture" if args.sequential else None,
                sequential_tuning=args.sequential_tuning,
            )
    finally:
        dispose = getattr(getattr(data, "connection", None), "dispose", None)
        if callable(dispose):
            with contextlib.suppress(Exception):  # cleanup never hides the analysis' own outcome
                dispose()
    path = experiment_report(res, args.output, title=args.title)
    lines = _summary_lines(res, args.lift)
    print("\n".join(lines))
    print(f"Report written to {path.resolve()}")
    return EXIT_OK if lines[0].startswith("SRM ok") else EXIT_SRM
