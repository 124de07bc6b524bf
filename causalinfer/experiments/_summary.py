"""Sufficient statistics of an experiment: counts, sums and cross-products per variant.

Every estimator in :mod:`causalinfer.experiments` reads these summaries and nothing else, so the same analysis
runs wherever the summaries can be computed: from a pandas frame here (one pass over the rows), or inside a
database engine with one ``GROUP BY`` query whose aggregates are named as in :meth:`Summaries.to_table`::

    SELECT variant, COUNT(*) AS "n", SUM(y) AS "sum(y)", SUM(y * y) AS "sum(y*y)", SUM(y * x) AS "sum(y*x)", ...
    FROM units GROUP BY variant

(:func:`sql_aggregates` writes that list). Sums may be taken around a shift (``SUM(y - c)``) to keep the
centred moments accurate when a metric's mean is large compared with its spread; the shift is part of the
summary and every moment below accounts for it.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_column, check_frame, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError

__all__ = ["Summaries", "sql_aggregates"]

_SUM = re.compile(r"^sum\((?P<body>[^()]+)\)$")
_FORBIDDEN = ("*", "(", ")")


def _shift_value(value: Any, v: str) -> float:
    """One entry of a ``shift`` mapping: a finite real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`shift` for {v!r} must be a number; got {show(value)}")
    c = float(value)
    if not np.isfinite(c):
        raise ArgumentError(f"`shift` for {v!r} must be a finite number; got {show(value)}")
    return c


def _numeric_column(table: pd.DataFrame, col: Any) -> np.ndarray:
    """A column of a summary table as floats, or a DataError naming it."""
    try:
        return table[col].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"`table` column {str(col)!r} must hold numbers; it has dtype {table[col].dtype}") from None


def _float_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A field of :class:`Summaries` as a float array of the given shape, or an error naming the field."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"`{name}` must hold numbers; got {show(value)}") from None
    try:
        return arr.reshape(shape)
    except ValueError:
        expected = "one value per variant" if shape == (-1,) else f"shape {shape} (variants x variables)"
        raise ArgumentError(f"`{name}` must have {expected}; got shape {arr.shape}") from None


def _check_name(name: Any, arg: str) -> str:
    if not isinstance(name, str) or not name:
        raise ArgumentTypeError(f"`{arg}` must hold column names (non-empty strings); got {show(name)}")
    if any(ch in name for ch in _FORBIDDEN):
        raise ArgumentError(
            f"`{arg}` name {name!r} contains one of {' '.join(_FORBIDDEN)}, which the summary table uses as separators; rename the column"
        )
    return name


def _pairs(variables: Sequence[str], products: Iterable[tuple[str, str]] | None) -> list[tuple[int, int]]:
    """Index pairs (i <= j) of the cross-products to compute; all pairs when ``products`` is None."""
    p = len(variables)
    if products is None:
        return [(i, j) for i in range(p) for j in range(i, p)]
    index = {v: i for i, v in enumerate(variables)}
    out: set[tuple[int, int]] = {(i, i) for i in range(p)}
    for pair in products:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ArgumentTypeError(f"`products` must hold pairs of variable names; got {show(pair)}")
        for v in pair:
            if v not in index:
                raise ArgumentError(f"`products` names {v!r}, which is not among `variables` {list(variables)}")
        i, j = sorted((index[pair[0]], index[pair[1]]))
        out.add((i, j))
    return sorted(out)


@vp.validate_params(
    {
        "variables": vp.SequenceOf("string", min_length=1),
        "products": [None, vp.HasMethods("__iter__", what="an iterable of (variable, variable) pairs")],
        "shift": [None, "mapping"],
    }
)
def sql_aggregates(
    variables: Sequence[str], products: Iterable[tuple[str, str]] | None = None, *, shift: Mapping[str, float] | None = None
) -> dict[str, str]:
    """The aggregate expressions of one ``GROUP BY variant`` query that computes a :class:`Summaries` table.

    Parameters
    ----------
    variables : sequence of str
        Unit-level columns (metric values, numerators, denominators, covariates).
    products : iterable of (str, str), optional
        Cross-products needed besides the squares; all pairs when omitted.
    shift : mapping, optional
        Constant to subtract from a variable before summing (a rough mean, e.g. from a pilot query); it keeps the
        variances accurate when a metric's mean is large compared with its spread. Pass the same mapping to
        :meth:`Summaries.from_table`.

    Returns
    -------
    dict
        Column alias (as :meth:`Summaries.from_table` reads it) -> SQL expression, e.g.
        ``{"n": "COUNT(*)", "sum(y)": 'SUM("y")', "sum(y*x)": 'SUM("y" * "x")'}``.
    """
    names = [_check_name(v, "variables") for v in variables]
    shift = dict(shift or {})
    unknown = [v for v in shift if v not in names]
    if unknown:
        raise ArgumentError(f"`shift` names {unknown}, which are not among `variables` {names}")

    def term(v: str) -> str:
        if v not in shift:
            return f'"{v}"'
        return f'("{v}" - {_shift_value(shift[v], v)!r})'

    out = {"n": "COUNT(*)"}
    for v in names:
        out[f"sum({v})"] = f"SUM({term(v)})"
    for i, j in _pairs(names, products):
        out[f"sum({names[i]}*{names[j]})"] = f"SUM({term(names[i])} * {term(names[j])})"
    return out


@dataclass(frozen=True, eq=False)
class Summaries:
    """Per-variant sufficient statistics of unit-level variables.

    Parameters
    ----------
    variants : sequence
        Variant labels, one per row of the arrays.
    variables : sequence of str
        Names of the unit-level variables summarised.
    n : array of shape (k,)
        Number of units per variant.
    sums : array of shape (k, p)
        ``sum(x - shift)`` of each variable per variant.
    products : array of shape (k, p, p)
        ``sum((x_i - shift_i) * (x_j - shift_j))`` per variant, symmetric; ``NaN`` where a cross-product was not
        computed (asking for a moment that needs it raises).
    shift : array of shape (p,), optional
        The constants subtracted before summing (zeros by default).

    Notes
    -----
    Moments are computed as ``mean = shift + sum / n`` and
    ``cov(x_i, x_j) = (products_ij - sums_i * sums_j / n) / (n - 1)``; the shift cancels in the covariance.
    Summaries of disjoint chunks of the same variants add up with :meth:`merge` (``a + b``), which is how a
    chunked or distributed scan combines its partial results.
    """

    variants: tuple[Any, ...]
    variables: tuple[str, ...]
    n: np.ndarray
    sums: np.ndarray
    products: np.ndarray
    shift: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        variants = tuple(self.variants)
        variables = tuple(_check_name(v, "variables") for v in self.variables)
        if len(set(variables)) != len(variables):
            raise ArgumentError(f"`variables` must be distinct; got {list(variables)}")
        k, p = len(variants), len(variables)
        n = _float_array(self.n, "n", (-1,))
        sums = _float_array(self.sums, "sums", (k, p)) if p else np.zeros((k, 0))
        products = _float_array(self.products, "products", (k, p, p)) if p else np.zeros((k, 0, 0))
        shift = np.zeros(p) if self.shift is None or np.size(self.shift) == 0 else _float_array(self.shift, "shift", (p,))
        if n.shape != (k,):
            raise ArgumentError(f"`n` must have one count per variant ({k}); got shape {n.shape}")
        if np.any(n < 0) or not np.all(np.isfinite(n)):
            raise DataError(f"`n` must hold finite non-negative counts; got {show(n.tolist())}")
        for name, arr in (("sums", sums), ("shift", shift)):
            if not np.all(np.isfinite(arr)):
                raise DataError(f"`{name}` must be finite; got {show(arr.tolist())}")
        products = np.where(np.isnan(products), np.swapaxes(products, 1, 2), products)
        object.__setattr__(self, "variants", variants)
        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "sums", sums)
        object.__setattr__(self, "products", products)
        object.__setattr__(self, "shift", shift)
        arrays: tuple[np.ndarray, ...] = (n, sums, products, shift)
        for arr in arrays:
            arr.setflags(write=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        variant: str,
        variables: Sequence[str],
        products: Iterable[tuple[str, str]] | None = None,
        levels: Sequence[Any] | None = None,
        centre: bool = True,
    ) -> Summaries:
        """Summaries of the unit-level columns ``variables`` of ``frame``, grouped by ``variant``, in one pass.

        ``levels`` fixes the order of the variants (default: sorted). With ``centre`` the sums are taken around
        each column's overall mean, which keeps the variances accurate for metrics far from zero. Missing values
        are refused.
        """
        frame = check_frame(frame)
        check_column(frame, variant, "variant")
        names = [_check_name(v, "variables") for v in variables]
        for v in names:
            check_column(frame, v, "variables")
        codes, uniques = pd.factorize(frame[variant], sort=levels is None)
        if (codes < 0).any():
            raise DataError(f"`variant` column {variant!r} has {int((codes < 0).sum())} missing value(s); drop those rows first")
        labels = list(uniques)
        if levels is not None:
            if isinstance(levels, str) or not isinstance(levels, Iterable):
                raise ArgumentTypeError(f"`levels` must be a list of the variant labels in order; got {show(levels)}")
            order = list(levels)
            missing = [lv for lv in labels if lv not in order]
            if missing:
                raise ArgumentError(f"`levels` leaves out variant(s) {show(missing)} present in column {variant!r}")
            remap = np.array([order.index(lv) for lv in labels], dtype=np.intp)
            codes = remap[codes]
            labels = order
        k = len(labels)
        p = len(names)
        X = np.empty((len(frame), p))  # row-major, so that each group's rows copy out contiguously
        for i, v in enumerate(names):
            s = frame[v]
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
                raise DataError(f"column {v!r} must be numeric; it has dtype {s.dtype}")
            X[:, i] = s.to_numpy(dtype=float, na_value=np.nan) if s.hasnans or not isinstance(s.dtype, np.dtype) else s.to_numpy()
        ones = np.ones(len(frame))
        total = ones @ X  # column sums by BLAS: far quicker than a reduction along the rows of a row-major array
        if p and not np.isfinite(total).all():  # cheap test first; count only when something is wrong
            for i, v in enumerate(names):
                bad = int(np.count_nonzero(~np.isfinite(X[:, i])))
                if bad:
                    raise DataError(f"column {v!r} has {bad} missing or infinite value(s); drop or impute them before the analysis")
        shift = total / len(frame) if centre and len(frame) else np.zeros(p)
        X -= shift
        n = np.bincount(codes, minlength=k).astype(float)
        sums = np.zeros((k, p))
        prods = np.zeros((k, p, p))
        for g in range(k):
            part = np.compress(codes == g, X, axis=0) if k > 1 else X
            sums[g] = ones[: len(part)] @ part
            prods[g] = part.T @ part  # every cross-product of the group in one BLAS call
        wanted = np.zeros((p, p), bool)
        for i, j in _pairs(names, products):
            wanted[i, j] = wanted[j, i] = True
        prods[:, ~wanted] = np.nan  # keep exactly the requested moments, as an engine query would
        return cls(tuple(labels), tuple(names), n, sums, prods, shift)

    @classmethod
    def from_table(cls, table: Any, *, variant: str = "variant", shift: Mapping[str, float] | None = None) -> Summaries:
        """Summaries from a table of aggregates, one row per variant, as a SQL ``GROUP BY`` returns them.

        The columns are ``variant``, ``n``, ``sum(x)`` for each variable and ``sum(x*z)`` for each cross-product
        (squares as ``sum(x*x)``); :func:`sql_aggregates` lists them. ``shift`` gives the constant subtracted from
        each variable before summing, if any. A mapping of column -> sequence is accepted in place of a frame.
        """
        if isinstance(table, Mapping):
            table = pd.DataFrame(dict(table))
        if not isinstance(table, pd.DataFrame):
            raise ArgumentTypeError(f"`table` must be a DataFrame or a mapping of columns; got {type(table).__name__}")
        for col in (variant, "n"):
            if col not in table.columns:
                raise DataError(f"`table` needs a {col!r} column; it has {list(map(str, table.columns))}")
        variables: list[str] = []
        pairs: list[tuple[str, str, str]] = []
        for col in table.columns:
            if col in (variant, "n"):
                continue
            m = _SUM.match(str(col))
            if not m:
                raise DataError(f"`table` column {str(col)!r} is neither 'n', 'sum(x)' nor 'sum(x*z)'")
            body = m["body"]
            if "*" in body:
                a, _, b = body.partition("*")
                pairs.append((a, b, col))
            else:
                variables.append(body)
        index = {v: i for i, v in enumerate(variables)}
        for a, b, col in pairs:
            for v in (a, b):
                if v not in index:
                    raise DataError(f"`table` column {str(col)!r} needs the column 'sum({v})' as well")
        if table[variant].duplicated().any():
            raise DataError(f"`table` has repeated variants in column {variant!r}; one row per variant is expected")
        k, p = len(table), len(variables)
        sums = np.column_stack([_numeric_column(table, f"sum({v})") for v in variables]) if p else np.zeros((k, 0))
        prods = np.full((k, p, p), np.nan)
        for a, b, col in pairs:
            vals = _numeric_column(table, col)
            prods[:, index[a], index[b]] = vals
            prods[:, index[b], index[a]] = vals
        sh = np.zeros(p)
        if shift is not None:
            for v, c in shift.items():
                if v not in index:
                    raise ArgumentError(f"`shift` names {v!r}, which is not a variable of the table ({variables})")
                sh[index[v]] = _shift_value(c, v)
        return cls(tuple(table[variant].tolist()), tuple(variables), _numeric_column(table, "n"), sums, prods, sh)

    def to_table(self) -> pd.DataFrame:
        """The summaries as a table, one row per variant, in the layout :meth:`from_table` reads (around the shift)."""
        data: dict[str, Any] = {"variant": list(self.variants), "n": self.n}
        for i, v in enumerate(self.variables):
            data[f"sum({v})"] = self.sums[:, i]
        for i, a in enumerate(self.variables):
            for j in range(i, len(self.variables)):
                col = self.products[:, i, j]
                if not np.all(np.isnan(col)):
                    data[f"sum({a}*{self.variables[j]})"] = col
        return pd.DataFrame(data)

    # ------------------------------------------------------------------ combination
    def reshift(self, shift: Any) -> Summaries:
        """The same summaries taken around another shift."""
        new = np.asarray(shift, dtype=float).reshape(len(self.variables))
        d = self.shift - new  # x - new = (x - old) + d
        n = self.n[:, None]
        sums = self.sums + n * d
        prods = (
            self.products
            + self.sums[:, :, None] * d[None, None, :]
            + d[None, :, None] * self.sums[:, None, :]
            + self.n[:, None, None] * np.outer(d, d)[None]
        )
        return Summaries(self.variants, self.variables, self.n, sums, prods, new)

    def merge(self, other: Summaries) -> Summaries:
        """Summaries of the union of two disjoint sets of units (chunks or partitions of one table)."""
        if not isinstance(other, Summaries):
            raise ArgumentTypeError(f"can only merge Summaries with Summaries; got {type(other).__name__}")
        if other.variables != self.variables:
            raise DataError(f"cannot merge summaries of different variables: {list(self.variables)} and {list(other.variables)}")
        other = other.reshift(self.shift)
        labels = list(self.variants) + [v for v in other.variants if v not in self.variants]
        k, p = len(labels), len(self.variables)
        n, sums, prods = np.zeros(k), np.zeros((k, p)), np.zeros((k, p, p))
        for part in (self, other):
            idx = [labels.index(v) for v in part.variants]
            n[idx] += part.n
            sums[idx] += part.sums
            prods[idx] += part.products
        return Summaries(tuple(labels), self.variables, n, sums, prods, self.shift)

    def __add__(self, other: Summaries) -> Summaries:
        return self.merge(other)

    # ------------------------------------------------------------------ moments
    def index(self, variant: Any) -> int:
        """Row of ``variant``."""
        try:
            return self.variants.index(variant)
        except ValueError:
            raise ArgumentError(f"variant {show(variant)} is not in the summaries (variants: {show(list(self.variants))})") from None

    def _col(self, name: str) -> int:
        try:
            return self.variables.index(name)
        except ValueError:
            raise ArgumentError(f"variable {name!r} is not in the summaries (variables: {list(self.variables)})") from None

    def moments(self, rows: Sequence[int], names: Sequence[str]) -> tuple[float, np.ndarray, np.ndarray]:
        """Count, means and sample covariance matrix (divisor ``n - 1``) of ``names`` over the pooled ``rows``."""
        cols = [self._col(v) for v in names]
        n = float(self.n[list(rows)].sum())
        s = self.sums[np.ix_(list(rows), cols)].sum(axis=0)
        sub = self.products[np.ix_(list(rows), cols, cols)]
        if np.isnan(sub).any():
            i, j = np.argwhere(np.isnan(sub[0]))[0] if np.isnan(sub[0]).any() else np.argwhere(np.isnan(sub.sum(axis=0)))[0]
            raise DataError(f"the summaries lack the cross-product sum({names[i]}*{names[j]}); compute it with the other aggregates")
        P = sub.sum(axis=0)
        means = self.shift[cols] + (s / n if n > 0 else np.full(len(cols), np.nan))
        cov = (P - np.outer(s, s) / n) / (n - 1) if n > 1 else np.full((len(cols), len(cols)), np.nan)
        return n, means, cov

    def __repr__(self) -> str:
        return f"Summaries(variants={list(self.variants)!r}, variables={list(self.variables)!r}, n={self.n.astype(int).tolist()})"
