"""Per-row quantities of the effect estimators summed inside an engine, written once for SQL and for numpy.

A row quantity (a fitted propensity, a doubly robust score, an influence function) is an :class:`Expr`: a small
tree of arithmetic over the shifted model columns ``z0, z1, ...`` of a :class:`~causalinfer.stats._scale_design.ScaleDesign`
and over names defined before it. The same tree is rendered as SQL for DuckDB and PostgreSQL (nested selects, one
per definition, so every quantity is computed once per row) and evaluated with numpy on each partition of a dask
DataFrame, so the two backends compute the same numbers. :func:`row_sums` returns sums, minima and maxima over all
rows and, with a cluster column, the number of clusters, their smallest and largest sizes and the sum over
clusters of the squared per-cluster sum of one quantity. Nothing row-sized leaves the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..stats._scale_design import ScaleDesign
from ..stats._scale_passes import DaskPasses, SQLPasses, _z

__all__ = ["Expr", "col", "const", "expit", "row_sums"]

_CLIP = 700.0  # |linear predictor| beyond which exp() would overflow in PostgreSQL


@dataclass(frozen=True)
class Expr:
    """An arithmetic expression over named per-row columns (picklable: plain data)."""

    op: str
    args: tuple[Any, ...] = ()

    def __add__(self, other: Any) -> Expr:
        return Expr("+", (self, _as_expr(other)))

    def __radd__(self, other: Any) -> Expr:
        return Expr("+", (_as_expr(other), self))

    def __sub__(self, other: Any) -> Expr:
        return Expr("-", (self, _as_expr(other)))

    def __rsub__(self, other: Any) -> Expr:
        return Expr("-", (_as_expr(other), self))

    def __mul__(self, other: Any) -> Expr:
        return Expr("*", (self, _as_expr(other)))

    def __rmul__(self, other: Any) -> Expr:
        return Expr("*", (_as_expr(other), self))

    def __truediv__(self, other: Any) -> Expr:
        return Expr("/", (self, _as_expr(other)))

    def __rtruediv__(self, other: Any) -> Expr:
        return Expr("/", (_as_expr(other), self))

    def sql(self) -> str:
        op, args = self.op, self.args
        if op == "col":
            return str(args[0])
        if op == "const":
            return repr(float(args[0])) if args[0] >= 0 else f"({float(args[0])!r})"
        if op in "+-*/":
            return f"({args[0].sql()} {op} {args[1].sql()})"
        if op in ("LEAST", "GREATEST"):
            return f"{op}({args[0].sql()}, {args[1].sql()})"
        if op in ("EXP", "ABS"):
            return f"{op}({args[0].sql()})"
        if op in ("<", "="):
            return f"(CASE WHEN {args[0].sql()} {op} {args[1].sql()} THEN 1.0 ELSE 0.0 END)"
        raise ValueError(op)  # pragma: no cover - every constructor is listed above

    def evaluate(self, env: dict[str, np.ndarray]) -> np.ndarray:
        op, args = self.op, self.args
        if op == "col":
            return env[args[0]]
        if op == "const":
            return np.float64(args[0])  # type: ignore[return-value]
        vals = [a.evaluate(env) for a in args]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _NUMPY[op](*vals)  # type: ignore[no-any-return]


_NUMPY: dict[str, Callable[..., Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "LEAST": np.minimum,
    "GREATEST": np.maximum,
    "EXP": np.exp,
    "ABS": np.abs,
    "<": lambda x, y: np.less(x, y).astype(float),
    "=": lambda x, y: np.equal(x, y).astype(float),
}


_REDUCE: dict[str, Callable[..., Any]] = {"SUM": np.sum, "MIN": np.min, "MAX": np.max}
_COMBINE: dict[str, Callable[..., Any]] = {"SUM": sum, "MIN": min, "MAX": max}


def _as_expr(value: Any) -> Expr:
    return value if isinstance(value, Expr) else const(value)


def col(name: str) -> Expr:
    return Expr("col", (name,))


def const(value: float) -> Expr:
    return Expr("const", (float(value),))


def fn(name: str, *args: Any) -> Expr:
    return Expr(name, tuple(_as_expr(a) for a in args))


def linear(coef: np.ndarray, columns: list[int]) -> Expr:
    """``sum_j coef[j] * z{columns[j]}``."""
    out: Expr | None = None
    for c, j in zip(coef, columns, strict=True):
        term = const(float(c)) * col(f"z{j}")
        out = term if out is None else out + term
    return out if out is not None else const(0.0)


def expit(eta: Expr) -> Expr:
    """``1 / (1 + exp(-eta))`` with ``eta`` kept within +-700 (the logistic function, overflow-free in every engine)."""
    bounded = fn("GREATEST", fn("LEAST", eta, _CLIP), -_CLIP)
    return 1.0 / (1.0 + fn("EXP", 0.0 - bounded))


# ---------------------------------------------------------------------------------------------- passes
def row_sums(
    passes: Any,
    design: ScaleDesign,
    shift: np.ndarray,
    defs: list[tuple[str, Expr]],
    aggs: dict[str, tuple[str, Expr]],
    cluster: str | None = None,
    score: Expr | None = None,
) -> dict[str, Any]:
    """Aggregates (``("SUM" | "MIN" | "MAX", expr)``) over all rows after the definitions ``defs``, in order.

    With ``cluster`` and ``score``: also ``n_clusters``, ``min_size``/``max_size`` and ``score_ss``, the sum over
    clusters of the squared per-cluster sum of ``score``.
    """
    if isinstance(passes, DaskPasses):
        parts = passes._run(_dask_part, design, shift, defs, aggs, cluster, score)
        return _combine(parts, aggs, cluster is not None and score is not None)
    return _sql(passes, design, shift, defs, aggs, cluster, score)


def _sql(
    passes: SQLPasses,
    design: ScaleDesign,
    shift: np.ndarray,
    defs: list[tuple[str, Expr]],
    aggs: dict[str, tuple[str, Expr]],
    cluster: str | None,
    score: Expr | None,
) -> dict[str, Any]:
    fence = passes.fence
    sql = f"({passes._inner(design, shift, None, cluster)}{fence}) AS t0__"
    for i, (name, expr) in enumerate(defs):
        sql = f"(SELECT t{i}__.*, {expr.sql()} AS {name} FROM {sql}{fence}) AS t{i + 1}__"
    names = list(aggs)
    if cluster is None or score is None:
        got = passes.runner.run(f"SELECT {', '.join(f'{aggs[n][0]}({aggs[n][1].sql()})' for n in names)} FROM {sql}")[0]
        return {n: _number(v) for n, v in zip(names, got, strict=True)}
    inner = [f"{aggs[n][0]}({aggs[n][1].sql()}) AS a{i}" for i, n in enumerate(names)]
    per = f"(SELECT {', '.join(inner)}, SUM({score.sql()}) AS s__, COUNT(*) AS n__ FROM {sql} GROUP BY cl__) AS g__"
    outer = [f"{aggs[n][0]}(a{i})" for i, n in enumerate(names)] + ["COUNT(*)", "MIN(n__)", "MAX(n__)", "SUM(s__ * s__)"]
    got = passes.runner.run(f"SELECT {', '.join(outer)} FROM {per}")[0]
    out = {n: _number(v) for n, v in zip(names, got[: len(names)], strict=True)}
    out.update(n_clusters=int(got[-4]), min_size=int(got[-3]), max_size=int(got[-2]), score_ss=_number(got[-1]))
    return out


def _number(v: Any) -> float:
    return float(v) if v is not None else math.nan


def _dask_part(
    part: pd.DataFrame,
    design: ScaleDesign,
    shift: np.ndarray,
    defs: list[tuple[str, Expr]],
    aggs: dict[str, tuple[str, Expr]],
    cluster: str | None,
    score: Expr | None,
) -> dict[str, Any]:
    Z = _z(part, design, shift)
    env = {f"z{j}": Z[:, j] for j in range(Z.shape[1])}
    for name, expr in defs:
        env[name] = np.broadcast_to(expr.evaluate(env), (len(part),))
    out: dict[str, Any] = {}
    for name, (agg, expr) in aggs.items():
        values = np.broadcast_to(expr.evaluate(env), (len(part),))
        reduce = _REDUCE[agg]
        out[name] = float(reduce(values)) if len(part) else (0.0 if agg == "SUM" else math.nan)
    if cluster is not None and score is not None:
        values = np.broadcast_to(score.evaluate(env), (len(part),))
        frame = pd.DataFrame({"s": values, "n": 1}, index=part[cluster].to_numpy())
        out["clusters"] = frame.groupby(level=0, sort=False).sum()
    return out


def _combine(parts: list[dict[str, Any]], aggs: dict[str, tuple[str, Expr]], clustered: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (agg, _) in aggs.items():
        values = [p[name] for p in parts if not (agg != "SUM" and math.isnan(p[name]))]
        combine = _COMBINE[agg]
        out[name] = combine(values) if values else math.nan
    if clustered:
        table = pd.concat([p["clusters"] for p in parts]).groupby(level=0, sort=False).sum()
        s = table["s"].to_numpy(dtype=float)
        out.update(
            n_clusters=len(table),
            min_size=int(table["n"].min()),
            max_size=int(table["n"].max()),
            score_ss=float(s @ s),
        )
    return out
