"""The row quantities of inverse probability weighting, summed where the rows are (SQL engines and dask partitions).

Every pass evaluates the same row quantities at propensity coefficients ``b`` (in the shifted design
``z = x - s`` of :mod:`causalinfer.stats._scale_design`): the linear predictor, the propensity ``e``, its clipped
value, the balancing weight ``w`` and the derivative of the weight with respect to the linear predictor. The sums a
pass returns are written once, as arithmetic on named quantities (:class:`Sql` builds the SQL text, numpy arrays
compute the same on a partition), so the two backends cannot drift apart. Only sums, minima, maxima and per-cluster
sums leave the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..stats._scale_design import ScaleDesign

__all__ = ["HIST_EDGES", "IPWRows", "Sql", "dask_pass", "dask_quantiles", "sql_pass", "sql_quantiles"]

#: Edges of the propensity histogram of the in-memory path (20 equal bins on [0, 1]).
HIST_EDGES = np.linspace(0.0, 1.0, 21)
_CLIP = 700.0


class Sql:
    """An SQL expression that composes with ``+ - * /`` like a numpy array (so one formula serves both backends)."""

    def __init__(self, text: str) -> None:
        self.text = text

    @staticmethod
    def _t(other: Any) -> str:
        return other.text if isinstance(other, Sql) else repr(float(other))

    def __add__(self, o: Any) -> Sql:
        return Sql(f"({self.text} + {self._t(o)})")

    def __radd__(self, o: Any) -> Sql:
        return Sql(f"({self._t(o)} + {self.text})")

    def __sub__(self, o: Any) -> Sql:
        return Sql(f"({self.text} - {self._t(o)})")

    def __rsub__(self, o: Any) -> Sql:
        return Sql(f"({self._t(o)} - {self.text})")

    def __mul__(self, o: Any) -> Sql:
        return Sql(f"({self.text} * {self._t(o)})")

    def __rmul__(self, o: Any) -> Sql:
        return Sql(f"({self._t(o)} * {self.text})")

    def __truediv__(self, o: Any) -> Sql:
        return Sql(f"({self.text} / {self._t(o)})")

    def __rtruediv__(self, o: Any) -> Sql:
        return Sql(f"({self._t(o)} / {self.text})")


@dataclass(frozen=True)
class IPWRows:
    """What a pass needs to compute the row quantities: the design, the columns and the options of the estimator."""

    design: ScaleDesign  # the propensity design (intercept first); ``response`` is the treatment
    shift: np.ndarray  # one shift per design column (0 for the intercept)
    outcome: str
    cluster: str | None
    estimand: str
    clip: float | None
    keep: tuple[np.ndarray, float] | None = None  # (coefficients, trim): only rows with propensity in [trim, 1 - trim]
    extra: dict[str, Any] = field(default_factory=dict)
    #: a refutation's alteration: ("placebo", seed, share treated) or ("subset", seed, fraction), drawn per row from
    #: a hash of the row's values and the seed (rows have no order inside an engine, so nothing is permuted)
    draw: tuple[str, int, float] | None = None


# ---------------------------------------------------------------------------------------------- the formulas
def arm_values(a: Any, when1: Any, when0: Any) -> Any:
    return a * when1 + (1.0 - a) * when0


def weights_and_slope(a: Any, ec: Any, clipped: Any, estimand: str) -> tuple[Any, Any]:
    """The balancing weight and ``d w / d eta`` at the clipped propensity ``ec`` (numpy twin of the in-memory core)."""
    if estimand == "ATE":
        w = arm_values(a, 1.0 / ec, 1.0 / (1.0 - ec))
        dw = arm_values(a, -1.0 / (ec * ec), 1.0 / ((1.0 - ec) * (1.0 - ec)))
    elif estimand == "ATT":
        w = arm_values(a, 1.0, ec / (1.0 - ec))
        dw = (1.0 - a) * (1.0 / ((1.0 - ec) * (1.0 - ec)))
    else:
        w = arm_values(a, (1.0 - ec) / ec, 1.0)
        dw = a * (-1.0 / (ec * ec))
    return w, dw * ec * (1.0 - ec) * (1.0 - clipped)


def target(a: Any, estimand: str) -> Any:
    return 1.0 + 0.0 * a if estimand == "ATE" else (a if estimand == "ATT" else 1.0 - a)


def linear(z: list[Any], coef: np.ndarray) -> Any:
    out: Any = 0.0
    for zj, c in zip(z, coef, strict=True):
        out = zj * float(c) + out if isinstance(zj, Sql) else out + float(c) * zj
    return out


# ---------------------------------------------------------------------------------------------- what each pass sums
def _upper(k: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(k) for j in range(i, k)]


def newton_sums(r: dict[str, Any], rows: IPWRows) -> dict[str, tuple[str, Any]]:
    """Score and Hessian of the logistic propensity, and the counts of the rows used."""
    z, a, e = r["z"], r["a"], r["e"]
    out: dict[str, tuple[str, Any]] = {"n": ("sum", 1.0 + 0.0 * a), "n1": ("sum", a)}
    out.update({f"g{j}": ("sum", (a - e) * z[j]) for j in range(len(z))})
    v = e * (1.0 - e)
    out.update({f"h{i}_{j}": ("sum", v * z[i] * z[j]) for i, j in _upper(len(z))})
    return out


def main_sums(r: dict[str, Any], rows: IPWRows) -> dict[str, tuple[str, Any]]:
    """Everything of the estimate, its influence function and the diagnostics that sums give at the final ``b``."""
    out = newton_sums(r, rows)
    z, a, y, w, sl, ec = r["z"], r["a"], r["y"], r["w"], r["sl"], r["ec"]
    b = 1.0 - a
    out.update(
        {
            "sw1": ("sum", w * a),
            "sw0": ("sum", w * b),
            "swy1": ("sum", w * a * y),
            "swy0": ("sum", w * b * y),
            "sww1": ("sum", w * w * a),
            "sww0": ("sum", w * w * b),
            "sc": ("sum", target(a, rows.estimand)),
            "n_clipped": ("sum", r["clipped"]),
            "low": ("sum", r["low"]),
            "high": ("sum", r["high"]),
            "max_eta": ("max", r["abs_eta"]),
            "wmin1": ("min1", w),
            "wmax1": ("max1", w),
            "wmin0": ("min0", w),
            "wmax0": ("max0", w),
            "emin1": ("min1", ec),
            "emax1": ("max1", ec),
            "emin0": ("min0", ec),
            "emax0": ("max0", ec),
        }
    )
    for j, zj in enumerate(z):
        out[f"ga1_{j}"] = ("sum", zj * a * sl)
        out[f"gay1_{j}"] = ("sum", zj * a * y * sl)
        out[f"ga0_{j}"] = ("sum", zj * b * sl)
        out[f"gay0_{j}"] = ("sum", zj * b * y * sl)
        if j:
            out[f"s1_{j}"] = ("sum", zj * a)
            out[f"s0_{j}"] = ("sum", zj * b)
            out[f"sw1_{j}"] = ("sum", w * a * zj)
            out[f"sw0_{j}"] = ("sum", w * b * zj)
    for i in range(len(HIST_EDGES) - 1):
        out[f"hist1_{i}"] = ("sum", a * r["bin"][i])
        out[f"hist0_{i}"] = ("sum", b * r["bin"][i])
    return out


def phi_sums(r: dict[str, Any], rows: IPWRows) -> dict[str, tuple[str, Any]]:
    """The influence function's squares (``phi`` itself when summed by cluster) and the balance table's squares."""
    x = rows.extra
    z, a, y, w, e = r["z"], r["a"], r["y"], r["w"], r["e"]
    b = 1.0 - a
    if x["normalize"]:
        g1, g0 = w * a * (y - x["mu1"]), w * b * (y - x["mu0"])
    else:
        c = target(a, rows.estimand)
        g1, g0 = w * a * y - c * x["mu1"], w * b * y - c * x["mu0"]
    phi = g1 / x["d1"] - g0 / x["d0"]
    if x["u"] is not None:
        phi = phi + (a - e) * linear(z, x["u"])
    out: dict[str, tuple[str, Any]] = {"phi": ("sum", phi), "phi2": ("sum", phi * phi)}
    for j in range(1, len(z)):
        d1, d0 = z[j] - float(x["mz1"][j - 1]), z[j] - float(x["mz0"][j - 1])
        out[f"q1_{j}"] = ("sum", a * d1 * d1)
        out[f"q0_{j}"] = ("sum", b * d0 * d0)
        out[f"qw1_{j}"] = ("sum", w * a * d1 * d1)
        out[f"qw0_{j}"] = ("sum", w * b * d0 * d0)
    return out


def point_sums(r: dict[str, Any], rows: IPWRows) -> dict[str, tuple[str, Any]]:
    """The sums of the point estimate alone (refits)."""
    a, y, w = r["a"], r["y"], r["w"]
    b = 1.0 - a
    return {
        "n": ("sum", 1.0 + 0.0 * a),
        "n1": ("sum", a),
        "sw1": ("sum", w * a),
        "sw0": ("sum", w * b),
        "swy1": ("sum", w * a * y),
        "swy0": ("sum", w * b * y),
        "sc": ("sum", target(a, rows.estimand)),
    }


SUMS: dict[str, Callable[[dict[str, Any], IPWRows], dict[str, tuple[str, Any]]]] = {
    "newton": newton_sums,
    "main": main_sums,
    "phi": phi_sums,
    "point": point_sums,
}


# ---------------------------------------------------------------------------------------------- SQL
def _expit_sql(eta: str) -> str:
    a = f"EXP(-LEAST(ABS({eta}), {_CLIP!r}))"
    return f"CASE WHEN {eta} >= 0 THEN 1.0 / (1.0 + {a}) ELSE {a} / (1.0 + {a}) END"


def _sql_source(passes: Any, rows: IPWRows) -> str:
    """The inner select (``z0..``, ``a__``, ``y__``, ``cl__``), restricted to the kept rows when trimming."""
    d = rows.design
    exprs = d.sql(passes.num, passes.q)
    # DuckDB types the level codes (CASE ... THEN 1.0) as DECIMAL, whose products can overflow: computed in DOUBLE
    cols = [f"CAST(({e}) AS DOUBLE PRECISION) - {float(s)!r} AS z{j}" for j, (e, s) in enumerate(zip(exprs, rows.shift, strict=True))]
    treat = passes.num(d.response)
    if rows.draw is not None:
        u = _sql_uniform(passes, d.used, rows.draw[1])
        cols.append(f"{u} AS u__")
        if rows.draw[0] == "placebo":
            treat = f"CASE WHEN {u} < {float(rows.draw[2])!r} THEN 1.0 ELSE 0.0 END"
    cols += [f"{treat} AS a__", f"{passes.num(rows.outcome)} AS y__"]
    if rows.cluster:
        cols.append(f"{passes.q(rows.cluster)} AS cl__")
    sql = f"(SELECT {', '.join(cols)} FROM {{src}}{passes.fence})"
    if rows.draw is not None and rows.draw[0] == "subset":
        sql = f"(SELECT * FROM {sql} AS d0__ WHERE u__ < {float(rows.draw[2])!r}{passes.fence})"
    if rows.keep is not None:
        beta, trim = rows.keep
        eta = " + ".join(f"{float(v)!r} * z{j}" for j, v in enumerate(beta))
        e = _expit_sql(f"({eta})")
        sql = f"(SELECT * FROM {sql} AS s0__ WHERE ({e}) >= {trim!r} AND ({e}) <= {1.0 - trim!r}{passes.fence})"
    return sql


def _sql_uniform(passes: Any, columns: tuple[str, ...], seed: int) -> str:
    """A number in [0, 1) from a hash of a row's values and ``seed`` (DuckDB's ``hash``, PostgreSQL's ``hashtextextended``)."""
    from ..data._engine import DuckRunner

    cols = ", ".join(passes.q(c) for c in columns)
    if isinstance(passes.runner, DuckRunner):
        return f"(CAST(hash({int(seed)}, {cols}) >> 11 AS DOUBLE) / 9007199254740992.0)"
    dialect = getattr(getattr(passes.runner, "engine", None), "dialect", None)
    if getattr(dialect, "name", "") == "postgresql":
        text = f"hashtextextended(CONCAT_WS('|', '{int(seed)}', {cols}), 0)"
        return f"(CAST(({text} & 9007199254740991) AS DOUBLE PRECISION) / 9007199254740992.0)"
    from ..exceptions import ArgumentError

    raise ArgumentError(f"refutations of a result computed in {passes.label} need DuckDB, PostgreSQL or dask (a hash of each row)")


def _sql_rows(rows: IPWRows, beta: np.ndarray, kind: str) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The row quantities as nested-select columns, and their names as :class:`Sql` for the sums."""
    k = len(beta)
    z = [Sql(f"z{j}") for j in range(k)]
    a, y = Sql("a__"), Sql("y__")
    defs = [("eta__", " + ".join(f"{float(v)!r} * z{j}" for j, v in enumerate(beta))), ("e__", _expit_sql("eta__"))]
    if kind == "newton":  # the logistic fit needs only the propensity
        return defs, {"z": z, "a": a, "y": y, "e": Sql("e__")}
    c = rows.clip
    if c is None:
        defs += [("ec__", "e__"), ("clp__", "0.0")]
    else:
        defs += [
            ("ec__", f"LEAST(GREATEST(e__, {c!r}), {1.0 - c!r})"),
            ("clp__", f"CASE WHEN e__ < {c!r} OR e__ > {1.0 - c!r} THEN 1.0 ELSE 0.0 END"),
        ]
    ec, clipped = Sql("ec__"), Sql("clp__")
    w, sl = weights_and_slope(a, ec, clipped, rows.estimand)
    defs += [("w__", w.text), ("sl__", sl.text)]
    edges = " + ".join(f"CASE WHEN ec__ >= {float(t)!r} THEN 1 ELSE 0 END" for t in HIST_EDGES[1:-1])
    defs.append(("bin__", edges))
    r = {
        "z": z,
        "a": a,
        "y": y,
        "e": Sql("e__"),
        "ec": ec,
        "clipped": clipped,
        "w": Sql("w__"),
        "sl": Sql("sl__"),
        "abs_eta": Sql("ABS(eta__)"),
        "low": Sql("CASE WHEN ec__ < 0.01 THEN 1.0 ELSE 0.0 END"),
        "high": Sql("CASE WHEN ec__ > 0.99 THEN 1.0 ELSE 0.0 END"),
        "bin": [Sql(f"CASE WHEN bin__ = {i} THEN 1.0 ELSE 0.0 END") for i in range(len(HIST_EDGES) - 1)],
    }
    return defs, r


def _sql_rowset(passes: Any, rows: IPWRows, beta: np.ndarray, kind: str) -> tuple[str, dict[str, Any]]:
    defs, r = _sql_rows(rows, beta, kind)
    sql = _sql_source(passes, rows)
    for i, (name, expr) in enumerate(defs):
        sql = f"(SELECT r{i}__.*, {expr} AS {name} FROM {sql} AS r{i}__{passes.fence})"
    return sql, r


def _sql_agg(kind: str, expr: Any) -> str:
    text = expr.text if isinstance(expr, Sql) else repr(float(expr))
    if kind == "sum":
        return f"SUM({text})"
    if kind == "max":
        return f"MAX({text})"
    fn, arm = kind[:3].upper(), kind[3]
    return f"{fn}(CASE WHEN a__ = {arm} THEN {text} END)"


def sql_pass(passes: Any, rows: IPWRows, beta: np.ndarray, kind: str) -> dict[str, Any]:
    """One aggregate query; with a cluster in the phi pass, ``phi`` is summed per cluster and squared outside."""
    src, r = _sql_rowset(passes, rows, beta, kind)
    sums = SUMS[kind](r, rows)
    names = list(sums)
    if kind == "phi" and rows.cluster:
        inner = [f"{_sql_agg(*sums[n])} AS v{i}" for i, n in enumerate(names)] + ["COUNT(*) AS m__"]
        per = f"(SELECT {', '.join(inner)} FROM {src} AS rows__ GROUP BY cl__) AS g__"
        i_phi = names.index("phi")
        outer = [f"SUM(v{i})" for i in range(len(names))] + [f"SUM(v{i_phi} * v{i_phi})", "COUNT(*)", "MIN(m__)", "MAX(m__)"]
        got = passes.runner.run(f"SELECT {', '.join(outer)} FROM {per}")[0]
        out = _floats(names, got)
        out["cluster_phi2"], out["n_clusters"] = _float(got[len(names)]), int(got[len(names) + 1])
        out["cluster_min"], out["cluster_max"] = int(got[len(names) + 2]), int(got[len(names) + 3])
        return out
    got = passes.runner.run(f"SELECT {', '.join(_sql_agg(*sums[n]) for n in names)} FROM {src} AS rows__")[0]
    return _floats(names, got)


def sql_quantiles(passes: Any, rows: IPWRows, beta: np.ndarray, probs: tuple[float, ...]) -> dict[int, list[float]]:
    """Exact quantiles of the clipped propensity in each arm (``percentile_cont``: numpy's linear interpolation)."""
    src, _ = _sql_rowset(passes, rows, beta, "quantiles")
    cols = ", ".join(f"percentile_cont({p!r}) WITHIN GROUP (ORDER BY ec__)" for p in probs)
    got = passes.runner.run(f"SELECT a__, {cols} FROM {src} AS rows__ GROUP BY a__")
    return {round(float(g[0])): [float(v) for v in g[1:]] for g in got}


def _float(v: Any) -> float:
    return float(v) if v is not None else math.nan


def _floats(names: list[str], got: Any) -> dict[str, Any]:
    return {n: _float(v) for n, v in zip(names, got[: len(names)], strict=True)}


# ---------------------------------------------------------------------------------------------- dask
def _np_rows(part: pd.DataFrame, rows: IPWRows, beta: np.ndarray) -> dict[str, Any]:
    d = rows.design
    Z = d.evaluate(part) - rows.shift
    a = part[d.response].to_numpy(dtype=float, na_value=np.nan)
    y = part[rows.outcome].to_numpy(dtype=float, na_value=np.nan)
    cl = part[rows.cluster].to_numpy() if rows.cluster else None
    if rows.draw is not None:
        key = f"{int(rows.draw[1]) % 10**16:016d}"
        h = pd.util.hash_pandas_object(part[list(d.used)], index=False, hash_key=key).to_numpy(dtype=np.uint64)
        u = (h >> np.uint64(11)).astype(float) / 9007199254740992.0
        if rows.draw[0] == "placebo":
            a = (u < rows.draw[2]).astype(float)
        else:
            sel = u < rows.draw[2]
            Z, a, y = Z[sel], a[sel], y[sel]
            cl = cl[sel] if cl is not None else None
    if rows.keep is not None:
        kb, trim = rows.keep
        e_keep = _expit(Z @ kb)
        mask = (e_keep >= trim) & (e_keep <= 1.0 - trim)
        Z, a, y = Z[mask], a[mask], y[mask]
        cl = cl[mask] if cl is not None else None
    eta = Z @ beta
    e = _expit(eta)
    if rows.clip is None:
        ec, clipped = e, np.zeros(e.size)
    else:
        ec = np.minimum(np.maximum(e, rows.clip), 1.0 - rows.clip)
        clipped = ((e < rows.clip) | (e > 1.0 - rows.clip)).astype(float)
    w, sl = weights_and_slope(a, ec, clipped, rows.estimand)
    bins = np.searchsorted(HIST_EDGES[1:-1], ec, side="right")
    return {
        "z": [Z[:, j] for j in range(Z.shape[1])],
        "a": a,
        "y": y,
        "e": e,
        "ec": ec,
        "clipped": clipped,
        "w": w,
        "sl": sl,
        "abs_eta": np.abs(eta),
        "low": (ec < 0.01).astype(float),
        "high": (ec > 0.99).astype(float),
        "bin": [(bins == i).astype(float) for i in range(len(HIST_EDGES) - 1)],
        "cl": cl,
    }


def _expit(eta: np.ndarray) -> np.ndarray:
    t = np.exp(-np.minimum(np.abs(eta), _CLIP))
    return np.where(eta >= 0, 1.0 / (1.0 + t), t / (1.0 + t))


def _np_agg(kind: str, value: Any, a: np.ndarray) -> float:
    v = np.broadcast_to(np.asarray(value, dtype=float), a.shape)
    if kind == "sum":
        return float(v.sum())
    if kind == "max":
        return float(v.max()) if v.size else math.nan
    sel = v[a == float(kind[3])]
    if not sel.size:
        return math.nan
    return float(sel.min() if kind.startswith("min") else sel.max())


def _part_pass(part: pd.DataFrame, rows: IPWRows, beta: np.ndarray, kind: str) -> dict[str, Any]:
    r = _np_rows(part, rows, beta)
    sums = SUMS[kind](r, rows)
    out: dict[str, Any] = {n: _np_agg(k, v, r["a"]) for n, (k, v) in sums.items()}
    if kind == "phi" and rows.cluster:
        phi = np.broadcast_to(np.asarray(sums["phi"][1], dtype=float), r["a"].shape)
        frame = pd.DataFrame({"phi": phi, "m": 1.0}, index=r["cl"])
        out["per_cluster"] = frame.groupby(level=0, sort=False).sum()
    return out


def _combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in parts[0]:
        if key == "per_cluster":
            continue
        vals = [p[key] for p in parts if not math.isnan(p[key])]
        if key.startswith(("wmin", "emin")):
            out[key] = min(vals, default=math.nan)
        elif key.startswith(("wmax", "emax", "max_")):
            out[key] = max(vals, default=math.nan)
        else:
            out[key] = float(sum(p[key] for p in parts))
    if "per_cluster" in parts[0]:
        per = pd.concat([p["per_cluster"] for p in parts]).groupby(level=0, sort=False).sum()
        phi = per["phi"].to_numpy(dtype=float)
        out["cluster_phi2"], out["n_clusters"] = float(phi @ phi), int(phi.size)
        out["cluster_min"], out["cluster_max"] = int(per["m"].min()), int(per["m"].max())
    return out


def dask_pass(passes: Any, rows: IPWRows, beta: np.ndarray, kind: str) -> dict[str, Any]:
    return _combine(passes._run(_part_pass, rows, beta, kind))


def _part_counts(
    part: pd.DataFrame, rows: IPWRows, beta: np.ndarray, grids: list[tuple[int, np.ndarray]], fetch: list[tuple[int, float, float]]
) -> Any:
    """Per task: how many clipped propensities of the arm lie below each grid value; the values inside each interval."""
    r = _np_rows(part, rows, beta)
    arms = {arm: np.sort(r["ec"][r["a"] == arm]) for arm in (0, 1)}
    counts = [np.searchsorted(arms[arm], grid, side="left") for arm, grid in grids]
    inside = [arms[arm][(arms[arm] >= lo) & (arms[arm] < hi)] for arm, lo, hi in fetch]
    return counts, inside


def dask_quantiles(
    passes: Any, rows: IPWRows, beta: np.ndarray, probs: tuple[float, ...], bounds: dict[int, tuple[float, float, int]]
) -> dict[int, list[float]]:
    """Exact quantiles (numpy's linear interpolation) from order statistics found by counting passes.

    ``bounds`` gives each arm's smallest and largest clipped propensity and its count. Every wanted rank starts in
    the interval between them; each pass counts the values below a grid of 1,025 points inside every unresolved
    interval (all ranks of both arms at once) and keeps the grid cell holding the rank, until a cell holds at most
    50,000 values; those few values then travel in one last pass and are sorted.
    """
    state: dict[tuple[int, int], tuple[float, float, int]] = {}
    for arm, (lo, hi, n) in bounds.items():
        for p in probs:
            f = math.floor((n - 1) * p)
            for rank in (f, min(f + 1, n - 1)):
                state[(arm, rank)] = (lo, float(np.nextafter(hi, np.inf)), 0)
    for _ in range(40):
        open_ = [key for key in state if not _small(key, state)]
        if not open_:
            break
        grids = [(key[0], np.unique(np.linspace(state[key][0], state[key][1], 1025))) for key in open_]
        parts = passes._run(_part_counts, rows, beta, grids, [])
        for t, key in enumerate(open_):
            counts = sum(p[0][t] for p in parts)
            grid = grids[t][1]
            i = int(np.searchsorted(counts, key[1], side="right")) - 1  # grid[i] <= the value < grid[i + 1]
            state[key] = (float(grid[i]), float(grid[i + 1]), int(counts[i]), int(counts[i + 1]))  # type: ignore[assignment]
    value = {key: got[0] for key, got in state.items() if got[1] <= np.nextafter(got[0], np.inf)}  # one value only
    keys = [key for key in state if key not in value]
    fetch = [(key[0], state[key][0], state[key][1]) for key in keys]
    parts = passes._run(_part_counts, rows, beta, [], fetch) if keys else []
    for t, key in enumerate(keys):
        inside = np.sort(np.concatenate([p[1][t] for p in parts]))
        value[key] = float(inside[key[1] - state[key][2]])
    out: dict[int, list[float]] = {}
    for arm, (_, _, n) in bounds.items():
        res = []
        for p in probs:
            h = (n - 1) * p
            f = math.floor(h)
            x0, x1 = value[(arm, f)], value[(arm, min(f + 1, n - 1))]
            res.append(float(np.quantile(np.array([x0, x1]), h - f)) if h > f else x0)  # numpy's own interpolation
        out[arm] = res
    return out


def _small(key: tuple[int, int], state: dict[Any, Any]) -> bool:
    """Whether the interval of ``key`` is known to hold at most 50,000 values (after at least one counting pass)."""
    got = state[key]
    return len(got) == 4 and (got[3] - got[2] <= 50_000 or got[1] <= np.nextafter(got[0], np.inf))
