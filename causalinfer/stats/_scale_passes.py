"""One pass over a table in its engine: the sums a regression needs, computed where the rows are.

Two backends answer the same questions, so the fit code in :mod:`._scale` never sees rows:

* :class:`SQLPasses` writes aggregate queries for DuckDB (Parquet files, relations, tables) and SQL databases
  reached through SQLAlchemy (PostgreSQL); one query per pass, the rows never leave the engine;
* :class:`DaskPasses` runs numpy on every partition of a dask DataFrame and adds the partial sums (per-cluster
  score sums are added up by cluster across partitions with dask's own group-by first).

Every pass works on the model matrix minus a shift per column (``z = x - s``, means of the first rows): the sums of
squares and cross-products are then of numbers near zero, which keeps them accurate when a column's mean is large
compared with its spread. Passes return k x k arrays at most (plus one row per distinct value where stated).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError, SourceError
from ._scale_design import ScaleDesign

__all__ = ["DaskPasses", "SQLPasses", "glm_rows"]

_SAMPLE = 100_000
_CLIP = 700.0  # |linear predictor| beyond which exp() is clipped (PostgreSQL raises on overflow and underflow)


def glm_rows(kind: str, eta: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variance function and unit deviance of each row (numpy twin of :meth:`SQLPasses._glm_sql`)."""
    if kind == "logit":
        a = np.exp(-np.minimum(np.abs(eta), _CLIP))
        mu = np.where(eta >= 0, 1.0 / (1.0 + a), a / (1.0 + a))
        softplus = np.maximum(eta, 0.0) + np.log1p(a)
        return mu, mu * (1.0 - mu), 2.0 * (softplus - y * eta)
    mu = np.exp(np.minimum(eta, _CLIP))
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    return mu, mu, 2.0 * (ylogy - y * eta - y + mu)


def _split(A: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    return A[:, :p], A[:, p]


def _upper(p: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(p) for j in range(i, p)]


def _symmetric(values: Any, p: int) -> np.ndarray:
    out = np.zeros((p, p))
    for (i, j), v in zip(_upper(p), values, strict=True):
        out[i, j] = out[j, i] = float(v) if v is not None else math.nan
    return out


# ---------------------------------------------------------------------------------------------- SQL
class SQLPasses:
    """Passes written as SQL over a :class:`causalinfer.data._engine.Runner`."""

    def __init__(self, runner: Any) -> None:
        from ..data._engine import DuckRunner, quote

        self.runner, self.q = runner, quote
        self.label = runner.label
        # PostgreSQL inlines subqueries, which would copy every row expression into every aggregate that uses it;
        # OFFSET 0 keeps each level computed once per row (DuckDB shares the expressions itself)
        dialect = getattr(getattr(runner, "engine", None), "dialect", None)
        self.fence = " OFFSET 0" if not isinstance(runner, DuckRunner) and getattr(dialect, "name", "") == "postgresql" else ""
        self.bools = runner.booleans()
        self.lgamma = isinstance(runner, DuckRunner)  # DuckDB has LGAMMA and reservoir sampling
        self.sample_cap = math.inf if self.lgamma else _SAMPLE  # the most rows :meth:`sample` returns

    def schema(self) -> dict[str, bool]:
        return dict(self.runner.columns())

    def booleans(self) -> set[str]:
        return set(self.bools)

    def num(self, c: str) -> str:
        inner = f"CAST({self.q(c)} AS INTEGER)" if c in self.bools else self.q(c)
        return f"CAST({inner} AS DOUBLE PRECISION)"

    def distinct(self, column: str) -> list[Any]:
        rows = self.runner.run(f"SELECT DISTINCT {self.q(column)} FROM {{src}}")
        return [r[0] for r in rows if r[0] is not None]

    def _inner(
        self, design: ScaleDesign, shift: np.ndarray, weights: str | None, cluster: str | None, limit: bool = False, raw: bool = False
    ) -> str:
        exprs = [*design.sql(self.num, self.q), self.num(design.response)]
        cols = [f"({e}) - {float(s)!r} AS z{j}" for j, (e, s) in enumerate(zip(exprs, shift, strict=True))]
        cols.append(f"{self.num(weights)} AS w__" if weights else "1.0 AS w__")
        if cluster:
            cols.append(f"{self.q(cluster)} AS cl__")
        if raw:  # the source columns themselves, for the missing-value counts and outcome checks of a combined pass
            cols += [self.q(c) for c in design.used]
        src = f"(SELECT * FROM {{src}} LIMIT {_SAMPLE}) AS head__" if limit else "{src}"
        return f"SELECT {', '.join(cols)} FROM {src}"

    def shifts(self, design: ScaleDesign) -> np.ndarray:
        p = len(design.columns) + 1
        inner = self._inner(design, np.zeros(p), None, None, limit=True)
        got = self.runner.run(f"SELECT {', '.join(f'AVG(z{j})' for j in range(p))} FROM ({inner}) AS t__")
        return np.array([float(v) if v is not None and math.isfinite(float(v)) else 0.0 for v in got[0]])

    def moments(self, design: ScaleDesign, shift: np.ndarray, weights: str | None, checks: dict[str, Any]) -> dict[str, Any]:
        """Counts, missing values, checks, and weighted and unweighted sums and cross-products of ``z``."""
        p = len(shift)
        aggs = self._moment_aggs(design, weights, checks, p)
        sql = self._moments_sql(design, shift, weights, aggs)
        row = self.runner.run(sql)[0]
        return _unpack_moments(row, design, list(checks), p)

    def _moment_aggs(self, design: ScaleDesign, weights: str | None, checks: dict[str, Any], p: int) -> list[str]:
        flags = [f"SUM(CASE WHEN {self.q(c)} IS NULL THEN 1 ELSE 0 END)" for c in design.used]
        y = self.num(design.response)
        flags += [f"SUM(CASE WHEN {cond.format(y=y)} THEN 1 ELSE 0 END)" for cond, _ in checks.values()]
        logw = "SUM(LN(CASE WHEN w__ > 0 THEN w__ ELSE 1.0 END))" if weights else "0.0"  # SQLite has no LN by default
        aggs = ["COUNT(*)", "SUM(w__)", logw, "MIN(w__)", *flags]
        aggs += [f"SUM(w__ * z{j})" for j in range(p)] + [f"SUM(w__ * z{i} * z{j})" for i, j in _upper(p)]
        if weights:  # without weights the unweighted sums are the same numbers: not computed twice
            aggs += [f"SUM(z{j})" for j in range(p)] + [f"SUM(z{i} * z{j})" for i, j in _upper(p)]
        return aggs

    def _moments_sql(self, design: ScaleDesign, shift: np.ndarray, weights: str | None, aggs: list[str]) -> str:
        exprs = [*design.sql(self.num, self.q), self.num(design.response)]
        cols = [f"({e}) - {float(s)!r} AS z{j}" for j, (e, s) in enumerate(zip(exprs, shift, strict=True))]
        cols.append(f"{self.num(weights)} AS w__" if weights else "1.0 AS w__")
        cols += [f"{self.q(c)}" for c in design.used]
        return f"SELECT {', '.join(aggs)} FROM (SELECT {', '.join(cols)} FROM {{src}}{self.fence}) AS t__"

    def residual_pass(
        self, design: ScaleDesign, shift: np.ndarray, b: np.ndarray, weights: str | None, cluster: str | None, meat: bool
    ) -> dict[str, Any]:
        """Residual sums (RSS, Breusch-Pagan sums) and the meat of the sandwich at the coefficients ``b``."""
        k = len(b)
        e = f"(z{k} - ({' + '.join(f'{float(v)!r} * z{j}' for j, v in enumerate(b))}))"
        row = {"e__": e}
        sums = {"rss": "w__ * e__ * e__", "u4": "w__ * w__ * e__ * e__ * e__ * e__"}
        sums.update({f"bp{j}": f"w__ * e__ * e__ * z{j}" for j in range(k)})
        if meat and not cluster:
            sums.update({f"m{i}_{j}": f"w__ * w__ * e__ * e__ * z{i} * z{j}" for i, j in _upper(k)})
        score = [f"w__ * e__ * z{j}" for j in range(k)] if cluster else None
        return self._pass(design, shift, weights, cluster, row, sums, score, k)

    def glm_pass(
        self, kind: str, design: ScaleDesign, shift: np.ndarray, b: np.ndarray, weights: str | None, cluster: str | None, meat: bool
    ) -> dict[str, Any]:
        """IRLS sums at ``b``: X'VX, the score, deviance, Pearson chi-square, fitted values at the edge; meat if asked."""
        k = len(b)
        row, sums, score = self._glm_sums(kind, b, meat, cluster)
        return self._pass(design, shift, weights, cluster if score else None, row, sums, score, k)

    def _glm_sums(
        self, kind: str, b: np.ndarray, meat: bool, cluster: str | None
    ) -> tuple[dict[str, str], dict[str, str], list[str] | None]:
        k = len(b)
        eta = f"({' + '.join(f'{float(v)!r} * z{j}' for j, v in enumerate(b))})"
        row = self._glm_sql(kind, eta, f"z{k}")
        sums = {"dev": "w__ * dev__", "pearson": "w__ * (z{k} - mu__) * (z{k} - mu__) / v__".replace("{k}", str(k))}
        edge = "mu__ < 1e-10 OR mu__ > 1 - 1e-10" if kind == "logit" else "mu__ < 1e-10"
        sums["edge"] = f"CASE WHEN {edge} THEN 1.0 ELSE 0.0 END"
        sums.update({f"g{j}": f"w__ * (z{k} - mu__) * z{j}" for j in range(k)})
        sums.update({f"h{i}_{j}": f"w__ * v__ * z{i} * z{j}" for i, j in _upper(k)})
        if meat and not cluster:
            sums.update({f"m{i}_{j}": f"w__ * w__ * (z{k} - mu__) * (z{k} - mu__) * z{i} * z{j}" for i, j in _upper(k)})
        score = [f"w__ * (z{k} - mu__) * z{j}" for j in range(k)] if (meat and cluster) else None
        return row, sums, score

    def glm_moments_pass(
        self,
        kind: str,
        design: ScaleDesign,
        shift: np.ndarray,
        b: np.ndarray,
        weights: str | None,
        checks: dict[str, Any],
        meat: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The first pass of a GLM: the sums of :meth:`moments` and the IRLS sums of :meth:`glm_pass` at ``b`` in one scan
        (with the meat of the sandwich if asked; not the per-cluster score sums)."""
        k = len(b)
        row, sums, _ = self._glm_sums(kind, b, meat, None)
        if kind == "poisson" and self.lgamma:  # the constant terms of the Poisson log-likelihood
            sums["ylogy"] = f"w__ * (CASE WHEN z{k} > 0 THEN z{k} * LN(CASE WHEN z{k} > 0 THEN z{k} ELSE 1.0 END) ELSE 0.0 END)"
            sums["lgam"] = f"w__ * LGAMMA(z{k} + 1.0)"
        aggs = self._moment_aggs(design, weights, checks, k + 1)
        got = self._pass(design, shift, weights, None, row, sums, None, k, extra=aggs)
        m = _unpack_moments(got.pop("extra__"), design, list(checks), k + 1)
        return m, got

    def sample(self, design: ScaleDesign, shift: np.ndarray, weights: str | None, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """At most ``rows`` rows of the shifted model columns (outcome last) and their weights: DuckDB's seeded
        reservoir sample fetched as arrays; elsewhere the first rows, at most 100,000 of them (they travel as tuples).
        Only the start of a Newton fit is computed from them."""
        inner, p = self._inner(design, shift, weights, None), len(shift)
        if self.lgamma:  # DuckDB
            return _split(
                self._numpy(f"SELECT * FROM ({inner}) AS s__ USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE ({int(seed)})"), p
            )
        got = self.runner.run(f"SELECT * FROM ({inner}{self.fence}) AS s__ LIMIT {min(int(rows), _SAMPLE)}")
        return _split(np.array([[math.nan if v is None else float(v) for v in r] for r in got], dtype=float).reshape(len(got), p + 1), p)

    def _numpy(self, sql: str) -> np.ndarray:
        """The result of a DuckDB query as one float array (NULL as NaN), without a Python object per value."""
        from ..data._engine import duckdb_module

        duckdb, r = duckdb_module(), self.runner
        try:
            res = (
                r.relation.query("source__", sql.format(src="source__")) if r.relation is not None else r.con.execute(sql.format(src=r.src))
            )
            cols = res.fetchnumpy()
        except duckdb.Error as exc:
            raise SourceError(f"{r.label}: the query failed in DuckDB: {exc}") from exc
        arrays = [np.ma.filled(np.ma.asarray(v).astype(float), np.nan) for v in cols.values()]
        return np.column_stack(arrays) if arrays and len(arrays[0]) else np.zeros((0, len(arrays)))

    @staticmethod
    def _glm_sql(kind: str, eta: str, y: str) -> dict[str, str]:
        if kind == "logit":
            a = f"EXP(-LEAST(ABS(eta__), {_CLIP!r}))"
            mu = f"CASE WHEN eta__ >= 0 THEN 1.0 / (1.0 + {a}) ELSE {a} / (1.0 + {a}) END"
            dev = f"2.0 * (GREATEST(eta__, 0.0) + LN(1.0 + {a}) - {y} * eta__)"
            return {"eta__": eta, "mu__": mu, "v__": "mu__ * (1.0 - mu__)", "dev__": dev}
        ylogy = f"CASE WHEN {y} > 0 THEN {y} * LN(CASE WHEN {y} > 0 THEN {y} ELSE 1.0 END) ELSE 0.0 END"
        mu = f"EXP(LEAST(eta__, {_CLIP!r}))"
        return {"eta__": eta, "mu__": mu, "v__": "mu__", "dev__": f"2.0 * ({ylogy} - {y} * eta__ - {y} + mu__)"}

    def _pass(
        self,
        design: ScaleDesign,
        shift: np.ndarray,
        weights: str | None,
        cluster: str | None,
        row: dict[str, str],
        sums: dict[str, str],
        score: list[str] | None,
        k: int,
        extra: list[str] | None = None,
    ) -> dict[str, Any]:
        """Nested selects define the row quantities one after another; sums (per cluster first) are taken outside.
        ``extra`` aggregates (over the same rows, with the source columns at hand) come back as ``"extra__"``."""
        sql = f"({self._inner(design, shift, weights, cluster, raw=extra is not None)}{self.fence}) AS t0__"
        for i, (name, expr) in enumerate(row.items()):
            sql = f"(SELECT t{i}__.*, {expr} AS {name} FROM {sql}{self.fence}) AS t{i + 1}__"
        names = list(sums)
        if score is None:
            aggs = [f"SUM({sums[n]})" for n in names] + list(extra or [])
            got = self.runner.run(f"SELECT {', '.join(aggs)} FROM {sql}")[0]
            flat: dict[str, Any] = {n: float(v) if v is not None else math.nan for n, v in zip(names, got[: len(names)], strict=True)}
            if extra is not None:
                flat["extra__"] = got[len(names) :]
            return flat
        parts = [f"SUM({sums[n]}) AS a{i}" for i, n in enumerate(names)] + [f"SUM({s}) AS s{j}" for j, s in enumerate(score)]
        per = f"(SELECT {', '.join(parts)} FROM {sql} GROUP BY cl__) AS g__"
        outer = [f"SUM(a{i})" for i in range(len(names))] + ["COUNT(*)"] + [f"SUM(s{i} * s{j})" for i, j in _upper(k)]
        got = self.runner.run(f"SELECT {', '.join(outer)} FROM {per}")[0]
        out: dict[str, Any] = {n: float(v) if v is not None else math.nan for n, v in zip(names, got[: len(names)], strict=True)}
        out["n_clusters"] = int(got[len(names)])
        out["cluster_meat"] = _symmetric(got[len(names) + 1 :], k)
        return out

    def count_values(self, column: str, weights: str | None) -> list[tuple[float, float]]:
        """(value, sum of weights) per distinct value of a numeric column (the Poisson log-likelihood's lgamma terms)."""
        w = self.num(weights) if weights else "1.0"
        rows = self.runner.run(f"SELECT {self.num(column)}, SUM({w}) FROM {{src}} GROUP BY {self.num(column)}")
        return [(float(a), float(c)) for a, c in rows if a is not None]


def _unpack_moments(row: Any, design: ScaleDesign, checks: list[str], p: int) -> dict[str, Any]:
    vals = [float(v) if v is not None else math.nan for v in row]
    n_used, n_checks, m = len(design.used), len(checks), p * (p + 1) // 2
    pos = 4 + n_used + n_checks
    out: dict[str, Any] = {"n": int(vals[0]) if vals[0] == vals[0] else 0, "sw": vals[1], "slogw": vals[2], "minw": vals[3]}
    out["nulls"] = {c: int(v) for c, v in zip(design.used, vals[4 : 4 + n_used], strict=True) if v}
    out["checks"] = {c: int(v) for c, v in zip(checks, vals[4 + n_used : pos], strict=True)}
    out["wsum"] = np.array(vals[pos : pos + p])
    out["wcross"] = _symmetric(vals[pos + p : pos + p + m], p)
    weighted = len(vals) > pos + p + m
    out["usum"] = np.array(vals[pos + p + m : pos + 2 * p + m]) if weighted else out["wsum"]
    out["ucross"] = _symmetric(vals[pos + 2 * p + m :], p) if weighted else out["wcross"]
    return out


# ---------------------------------------------------------------------------------------------- dask
class DaskPasses:
    """The same passes on a dask DataFrame: numpy on each partition, partial sums added."""

    label = "dask DataFrame"
    sample_cap = math.inf

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self._parts: list[Any] | None = None  # the partitions as delayed objects, optimised once for every pass

    def schema(self) -> dict[str, bool]:
        return {str(c): bool(pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)) for c, t in self.frame.dtypes.items()}

    def booleans(self) -> set[str]:
        return {str(c) for c, t in self.frame.dtypes.items() if pd.api.types.is_bool_dtype(t)}

    def distinct(self, column: str) -> list[Any]:
        found: dict[Any, None] = {}
        for part in self._run(_unique_part, column):
            found.update(dict.fromkeys(part))
        return list(found)

    def _run(self, fn: Any, *args: Any) -> list[Any]:
        import dask

        client = _client()
        # patsy's design information cannot be pickled; the partitions need only the columns
        args = tuple(dataclasses.replace(a, design_info=None) if isinstance(a, ScaleDesign) else a for a in args)
        if self._parts is None:
            self._parts = list(self.frame.to_delayed())
        tasks = [dask.delayed(fn, pure=False)(part, *args) for part in self._parts]
        try:
            return list(dask.compute(*tasks, scheduler=client if client is not None else "threads"))
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise SourceError(f"{self.label}: a partition could not be read: {exc}") from exc

    def shifts(self, design: ScaleDesign) -> np.ndarray:
        head = self.frame.partitions[0].compute().head(_SAMPLE)
        Z = _z(head, design, np.zeros(len(design.columns) + 1))
        with np.errstate(invalid="ignore"):
            means = np.nanmean(Z, axis=0) if len(Z) else np.zeros(Z.shape[1])
        return np.where(np.isfinite(means), means, 0.0)

    def moments(self, design: ScaleDesign, shift: np.ndarray, weights: str | None, checks: dict[str, Any]) -> dict[str, Any]:
        return self._sum_moments(self._run(_moments_part, design, shift, weights, checks), design, checks)

    @staticmethod
    def _sum_moments(parts: list[dict[str, Any]], design: ScaleDesign, checks: dict[str, Any]) -> dict[str, Any]:
        out = {key: sum(p[key] for p in parts) for key in ("n", "sw", "slogw", "wsum", "wcross", "usum", "ucross")}
        out["minw"] = min((p["minw"] for p in parts if p["n"]), default=math.nan)
        nulls = {c: sum(p["nulls"][c] for p in parts) for c in design.used}
        out["nulls"] = {c: v for c, v in nulls.items() if v}
        out["checks"] = {c: sum(p["checks"][c] for p in parts) for c in checks}
        return out

    def residual_pass(
        self, design: ScaleDesign, shift: np.ndarray, b: np.ndarray, weights: str | None, cluster: str | None, meat: bool
    ) -> dict[str, Any]:
        return self._combine(self._run(_residual_part, design, shift, b, weights, cluster, meat), cluster, len(b))

    def glm_pass(
        self, kind: str, design: ScaleDesign, shift: np.ndarray, b: np.ndarray, weights: str | None, cluster: str | None, meat: bool
    ) -> dict[str, Any]:
        cl = cluster if meat else None
        return self._combine(self._run(_glm_part, kind, design, shift, b, weights, cl, meat), cl, len(b))

    def glm_moments_pass(
        self,
        kind: str,
        design: ScaleDesign,
        shift: np.ndarray,
        b: np.ndarray,
        weights: str | None,
        checks: dict[str, Any],
        meat: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        parts = self._run(_glm_moments_part, kind, design, shift, b, weights, checks, meat)
        return self._sum_moments([p[0] for p in parts], design, checks), self._combine([p[1] for p in parts], None, len(b))

    def sample(self, design: ScaleDesign, shift: np.ndarray, weights: str | None, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """At most ``rows`` rows from partitions drawn in a seeded order (only the start of a Newton fit uses them)."""
        import dask

        order = np.random.default_rng(seed).permutation(self.frame.npartitions)
        Zs, ws, got = [], [], 0
        client = _client()
        for i in order:
            part = dask.compute(self.frame.partitions[int(i)], scheduler=client if client is not None else "threads")[0]
            Zs.append(_z(part, design, shift))
            ws.append(_weights(part, weights))
            got += len(part)
            if got >= rows:
                break
        Z, w = np.vstack(Zs), np.concatenate(ws)
        if len(w) > rows:
            keep = np.sort(np.random.default_rng(seed).choice(len(w), rows, replace=False))
            Z, w = Z[keep], w[keep]
        return Z, w

    def _combine(self, parts: list[dict[str, Any]], cluster: str | None, k: int) -> dict[str, Any]:
        out = {key: sum(p[key] for p in parts) for key in parts[0] if key != "scores"}
        if cluster is not None:
            scores = pd.concat([p["scores"] for p in parts]).groupby(level=0, sort=False).sum()
            S = scores.to_numpy(dtype=float)
            out["n_clusters"] = int(S.shape[0])
            out["cluster_meat"] = S.T @ S
        return out

    def count_values(self, column: str, weights: str | None) -> list[tuple[float, float]]:
        parts = self._run(_count_part, column, weights)
        table = pd.concat(parts).groupby(level=0).sum()
        return [(float(a), float(c)) for a, c in table.items()]


def _client() -> Any:
    """The distributed client in use, if any (else the local threaded scheduler runs the partitions)."""
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def _z(part: pd.DataFrame, design: ScaleDesign, shift: np.ndarray) -> np.ndarray:
    y = part[design.response].to_numpy(dtype=float, na_value=np.nan)
    return np.column_stack([design.evaluate(part), y]) - shift


def _weights(part: pd.DataFrame, weights: str | None) -> np.ndarray:
    return np.ones(len(part)) if weights is None else part[weights].to_numpy(dtype=float, na_value=np.nan)


def _moments_part(
    part: pd.DataFrame, design: ScaleDesign, shift: np.ndarray, weights: str | None, checks: dict[str, Any]
) -> dict[str, Any]:
    Z, w = _z(part, design, shift), _weights(part, weights)
    Zw = Z * w[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        logw = np.log(np.where(w > 0, w, 1.0))
    return {
        "n": len(part),
        "sw": float(w.sum()),
        "slogw": float(logw.sum()),
        "minw": float(w.min()) if len(w) else math.nan,
        "nulls": {c: int(part[c].isna().sum()) for c in design.used},
        "checks": {c: int(np.sum(fn(Z[:, -1] + shift[-1]))) for c, (_, fn) in checks.items()},
        "wsum": Zw.sum(axis=0),
        "wcross": Zw.T @ Z,
        "usum": Z.sum(axis=0),
        "ucross": Z.T @ Z,
    }


def _residual_part(
    part: pd.DataFrame, design: ScaleDesign, shift: np.ndarray, b: np.ndarray, weights: str | None, cluster: str | None, meat: bool
) -> dict[str, Any]:
    Z, w = _z(part, design, shift), _weights(part, weights)
    X, k = Z[:, :-1], len(b)
    e = Z[:, -1] - X @ b
    out: dict[str, Any] = {"rss": float(np.sum(w * e * e)), "u4": float(np.sum((w * e * e) ** 2))}
    out.update({f"bp{j}": v for j, v in enumerate((w * e * e) @ X)})
    S = X * (w * e)[:, None]
    if meat and cluster is None:
        M = S.T @ S
        out.update({f"m{i}_{j}": M[i, j] for i, j in _upper(k)})
    if cluster is not None:
        out["scores"] = pd.DataFrame(S, index=part[cluster].to_numpy()).groupby(level=0, sort=False).sum()
    return out


def _glm_part(
    part: pd.DataFrame,
    kind: str,
    design: ScaleDesign,
    shift: np.ndarray,
    b: np.ndarray,
    weights: str | None,
    cluster: str | None,
    meat: bool,
) -> dict[str, Any]:
    Z, w = _z(part, design, shift), _weights(part, weights)
    X, y, k = Z[:, :-1], Z[:, -1], len(b)
    mu, v, dev = glm_rows(kind, X @ b, y)
    r = y - mu
    edge = (mu < 1e-10) | (mu > 1 - 1e-10) if kind == "logit" else mu < 1e-10
    out: dict[str, Any] = {"dev": float(np.sum(w * dev)), "pearson": float(np.sum(w * r * r / v)), "edge": float(np.sum(edge))}
    return irls_sums(out, part, X, w, r, v, k, cluster, meat)


def irls_sums(
    out: dict[str, Any],
    part: pd.DataFrame,
    X: np.ndarray,
    w: np.ndarray,
    r: np.ndarray,
    hw: np.ndarray,
    k: int,
    cluster: str | None,
    meat: bool,
) -> dict[str, Any]:
    """Add one partition's IRLS sums to ``out``: the score ``g``, the Hessian ``h`` (row weights ``w * hw``), and the
    meat ``m`` of the sandwich or, with a cluster column, the per-cluster score sums."""
    out.update({f"g{j}": val for j, val in enumerate((w * r) @ X)})
    H = (X * (w * hw)[:, None]).T @ X
    out.update({f"h{i}_{j}": H[i, j] for i, j in _upper(k)})
    S = X * (w * r)[:, None]
    if meat and cluster is None:
        M = S.T @ S
        out.update({f"m{i}_{j}": M[i, j] for i, j in _upper(k)})
    if cluster is not None:
        out["scores"] = pd.DataFrame(S, index=part[cluster].to_numpy()).groupby(level=0, sort=False).sum()
    return out


def _glm_moments_part(
    part: pd.DataFrame,
    kind: str,
    design: ScaleDesign,
    shift: np.ndarray,
    b: np.ndarray,
    weights: str | None,
    checks: dict[str, Any],
    meat: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    r = _glm_part(part, kind, design, shift, b, weights, None, meat)
    if kind == "poisson":
        from scipy import special

        y, w = part[design.response].to_numpy(dtype=float, na_value=np.nan), _weights(part, weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            r["ylogy"] = float(np.sum(w * np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)))
        r["lgam"] = float(np.sum(w * special.gammaln(y + 1.0)))
    return _moments_part(part, design, shift, weights, checks), r


def _unique_part(part: pd.DataFrame, column: str) -> list[Any]:
    values = pd.unique(part[column].dropna())
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _count_part(part: pd.DataFrame, column: str, weights: str | None) -> pd.Series:
    return pd.Series(_weights(part, weights), index=part[column].to_numpy(dtype=float)).groupby(level=0).sum()


def refuse_missing(nulls: dict[str, int], label: str) -> None:
    """Missing values are refused, as the in-memory path refuses them (naming the columns and row counts)."""
    if nulls:
        parts = ", ".join(f"{c!r} ({k} rows)" for c, k in nulls.items())
        raise DataError(
            f"missing values in column(s) used by the model in {label}: {parts}; drop those rows first (e.g. a view or "
            "query with WHERE column IS NOT NULL)"
        )
