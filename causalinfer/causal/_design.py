"""From a Dataset (or DataFrame + roles) to the checked arrays every causal estimator works on."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_choice, show
from ..data import Dataset, as_dataset
from ..data._dataset import check_not_datetime
from ..exceptions import ArgumentTypeError, DataError, RoleError
from ._core import power_of_two_scale
from ._models import Standardizer, one_blas_thread, row_blocks

ESTIMANDS = ("ATE", "ATT", "ATC")
ESTIMAND_WORDS = {
    "ATE": "average treatment effect (ATE) of {t} on {y}: mean of {y}(1) - {y}(0) over everyone",
    "ATT": "average treatment effect on the treated (ATT) of {t} on {y}: mean of {y}(1) - {y}(0) over the treated",
    "ATC": "average treatment effect on the controls (ATC) of {t} on {y}: mean of {y}(1) - {y}(0) over the untreated",
}


@dataclass(frozen=True)
class CausalData:
    """Checked arrays for one binary-treatment question.

    ``Z`` is the covariate design without an intercept (dummies for categorical covariates, squares where
    asked); ``names`` are its column names. ``raw`` is the Dataset the arrays came from.
    """

    y: np.ndarray
    a: np.ndarray
    Z: np.ndarray
    names: tuple[str, ...]
    outcome: str
    treatment: str
    covariates: tuple[str, ...]
    categorical: tuple[str, ...]
    squared: tuple[str, ...]
    cluster: np.ndarray | None
    cluster_name: str | None
    fingerprint: str
    raw: Dataset = field(repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return int(self.y.size)

    def standardized(self, sd: np.ndarray | None = None) -> tuple[Standardizer, np.ndarray]:
        """The standardiser of ``Z`` and the design ``[1, (Z - mean) / sd]``, built once per CausalData.

        The rank check, the logistic propensity fit and the refitter's warm start all use this one design
        (``sd``: ``Z.std(axis=0)`` when the caller has it already).
        """
        if "design" not in self._memo:
            std = Standardizer.of(self.Z, sd)
            self._memo["design"] = (std, std.design(self.Z))
        return self._memo["design"]  # type: ignore[no-any-return]

    def subset(self, rows: np.ndarray) -> CausalData:
        """The same question on some rows (a boolean mask or integer indices)."""
        return CausalData(
            y=self.y[rows],
            a=self.a[rows],
            Z=self.Z[rows],
            names=self.names,
            outcome=self.outcome,
            treatment=self.treatment,
            covariates=self.covariates,
            categorical=self.categorical,
            squared=self.squared,
            cluster=None if self.cluster is None else self.cluster[rows],
            cluster_name=self.cluster_name,
            fingerprint=self.fingerprint,
            raw=self.raw,
        )

    def estimand_text(self, estimand: str) -> str:
        return ESTIMAND_WORDS[estimand].format(t=self.treatment, y=self.outcome)


def check_estimand(estimand: Any) -> str:
    if isinstance(estimand, str):
        estimand = estimand.upper()
    return check_choice(estimand, "estimand", ESTIMANDS)


def _names(value: Any, arg: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        out = tuple(value)
        for v in out:
            if not isinstance(v, str):
                raise ArgumentTypeError(f"`{arg}` must be a column name or a list of column names; got {show(value)}")
        return out
    raise ArgumentTypeError(f"`{arg}` must be a column name or a list of column names; got {show(value)}")


def binary_treatment(ds: Dataset) -> np.ndarray:
    """The treatment column as a float 0/1 array, or a RoleError saying how to recode it or name the treated level."""
    t = ds.treatment
    if t is None:
        raise RoleError("no treatment given: pass treatment='column' (or a Dataset with a treatment role)")
    s = ds.frame[t]
    if ds.treated_level is not None or (pd.api.types.is_numeric_dtype(s.dtype) and isinstance(s.dtype, np.dtype)):
        values = ds.treatment_values()
        if _zero_and_one(values):
            return values  # the usual case, seen by min/max and one comparison pass; otherwise the levels are listed
    levels = pd.unique(s.dropna())
    if len(levels) != 2:
        shown = ", ".join(show(v) for v in sorted(levels, key=str)[:6])
        raise RoleError(
            f"treatment {t!r} has {len(levels)} levels ({shown}{', ...' if len(levels) > 6 else ''}); these estimators need a "
            "binary treatment coded 0/1 (or False/True). Recode it, or compare two levels on a subset of rows"
        )
    values = ds.treatment_values()
    if set(np.unique(values).tolist()) <= {0.0, 1.0}:
        return values
    low, high = sorted(float(v) for v in levels)
    raise RoleError(
        f"treatment {t!r} has the two levels {low:g} and {high:g}; say which one is treated with treated_level=<level> on the "
        f"Dataset (e.g. Dataset(frame, treatment={t!r}, treated_level=<{low:g} or {high:g}>, ...)), or recode it as 0 "
        "(untreated) and 1 (treated)"
    )


def _zero_and_one(values: np.ndarray) -> bool:
    """True when ``values`` hold both 0 and 1 and nothing else."""
    if values.size == 0 or values.min() != 0.0 or values.max() != 1.0:
        return False
    return not bool(((values != 0.0) & (values != 1.0)).any())


def prepare(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | str | None = (),
    squared: Sequence[str] | str | None = (),
    cluster: str | None = None,
    need_outcome: bool = True,
) -> CausalData:
    """Check the roles of a binary-treatment question and build the covariate design.

    Categorical covariates (those listed in ``categorical``, and any non-numeric one) become indicator
    columns for every level but the first (sorted order, as R's ``factor``); covariates in ``squared`` get a
    column ``I(x^2)`` beside them.
    """
    ds = as_dataset(data, outcome=outcome, treatment=treatment, covariates=covariates, cluster=cluster)
    if need_outcome and ds.outcome is None:
        raise RoleError("no outcome given: pass outcome='column' (or a Dataset with an outcome role)")
    if ds.weights is not None:
        raise RoleError(
            f"the Dataset has observation weights ({ds.weights!r}), which these effect estimators do not use yet; "
            "drop the role (data.with_roles(weights=None)) to estimate an unweighted effect"
        )
    a = binary_treatment(ds)
    assert ds.treatment is not None
    cats = _names(categorical, "categorical")
    sq = _names(squared, "squared")
    covs = ds.covariates
    for arg, cols in (("categorical", cats), ("squared", sq)):
        for c in cols:
            if c not in covs:
                raise RoleError(f"`{arg}` names {c!r}, which is not one of the covariates {list(covs)}; add it to `covariates` first")
    overlap = set(cats) & set(sq)
    if overlap:
        raise RoleError(f"covariate(s) {sorted(overlap)} are both categorical and squared; a squared term needs a numeric covariate")
    columns, names, auto_cats = _covariate_columns(ds.frame, covs, cats, sq)
    n = ds.n
    Z = stack_columns(columns, n)
    _refuse_treatment_copies(Z, names, a, str(ds.treatment))
    y = ds.frame[ds.outcome].to_numpy(dtype=float) if ds.outcome is not None else np.zeros(n)
    if need_outcome and np.ptp(y) == 0:
        raise DataError(f"outcome {ds.outcome!r} is constant ({y[0]:g}); there is no effect to estimate")
    cl = None
    if ds.cluster is not None:
        cl = pd.factorize(ds.frame[ds.cluster])[0].astype(np.int64)
    n1 = int(a.sum())
    if n1 < 2 or n - n1 < 2:
        raise RoleError(f"treatment {ds.treatment!r} has {n1} treated and {n - n1} untreated rows; each group needs at least 2")
    cd = CausalData(
        y=y,
        a=a,
        Z=Z,
        names=tuple(names),
        outcome=str(ds.outcome),
        treatment=ds.treatment,
        covariates=covs,
        categorical=tuple(auto_cats),
        squared=sq,
        cluster=cl,
        cluster_name=ds.cluster,
        fingerprint=ds.fingerprint(),
        raw=ds,
    )
    cd._memo["columns"] = columns  # the columns of Z, each contiguous, for the rank check (which drops them)
    return cd


def stack_columns(columns: Sequence[np.ndarray], n: int) -> np.ndarray:
    """The n x k array whose columns are ``columns``, filled block by block over the rows.

    Writing one column at a time into a row-major array touches every cache line of it once per column; a
    block of rows stays in cache while all its columns are written, so the array is written once.
    """
    Z = np.empty((n, len(columns)))
    if columns:
        for sl in row_blocks(n):
            Zb = Z[sl]
            for j, col in enumerate(columns):
                Zb[:, j] = col[sl]
    return Z


def _covariate_columns(
    frame: pd.DataFrame, covs: Sequence[str], cats: Sequence[str], sq: Sequence[str]
) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Design columns for the covariates (1-D arrays): dummies for categorical ones (all levels but the first), squares where asked."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    auto_cats = list(cats)
    for c in covs:
        s = frame[c]
        check_not_datetime(s, "covariate", c)
        numeric = pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
        if c in cats or not numeric:
            if c not in auto_cats:
                auto_cats.append(c)
            levels = sorted(pd.unique(s), key=lambda v: (str(type(v)), v))
            for lev in levels[1:]:
                blocks.append((s == lev).to_numpy(dtype=float))
                names.append(f"{c}[{lev}]")
        else:
            v = s.to_numpy(dtype=float)
            # a covariate near 1e300 (or 1e-300) is divided by a power of two: exact, and every estimator here is
            # invariant to the scale of a covariate, while its variance and squares would overflow (or underflow)
            scale = power_of_two_scale(v)
            if scale != 1.0:
                v = v / scale
            blocks.append(v)
            names.append(c)
            if c in sq:
                blocks.append(v * v)
                names.append(f"I({c}^2)")
    return blocks, names, auto_cats


def _refuse_treatment_copies(Z: np.ndarray, names: Sequence[str], a: np.ndarray, treatment: str) -> None:
    head = min(a.size, 64)  # a column that differs from both within its first rows is no copy: skip the full comparison
    b = 1.0 - a
    for j, name in enumerate(names):
        col = Z[:, j]
        if not (np.array_equal(col[:head], a[:head]) or np.array_equal(col[:head], b[:head])):
            continue
        if np.array_equal(col, a) or np.array_equal(col, b):
            raise RoleError(
                f"covariate column {name!r} is a copy of the treatment {treatment!r} (or its complement); "
                "it cannot be adjusted for, so remove it from `covariates`"
            )


def check_covariate_rank(cd: CausalData, what: str = "covariates") -> None:
    """``check_rank`` of ``[1, Z]``, on the standardised design that the propensity fit uses as well.

    When no column needs rescaling by a power of two (the usual case), the design ``check_rank`` would build is
    the propensity design ``[1, (Z - mean) / sd]``: it is built once here, in column-major order from the
    contiguous covariate columns, block by block over the rows, and the cross-product of the same blocks gives
    both the standard deviations and the matrix whose eigenvalues decide the rank. Otherwise ``check_rank``
    runs on its own copy.
    """
    names = ("(intercept)", *cd.names)
    Z = cd.Z
    n, k = Z.shape
    columns = cd._memo.pop("columns", None)
    if columns is None or len(columns) != k:
        columns = [Z[:, j] for j in range(k)]
    if k == 0 or not all(_moderate(col) for col in columns):
        check_rank(np.column_stack([np.ones(cd.n), Z]), names, what)
        return
    center = np.array([col.mean() for col in columns])
    X = np.empty((n, k + 1), order="F")  # column-major: every column of the design is contiguous
    X[:, 0] = 1.0
    C = np.zeros((k + 1, k + 1))
    with one_blas_thread():
        for sl in row_blocks(n):
            Xb = X[sl]
            for j, col in enumerate(columns):
                np.subtract(col[sl], center[j], out=Xb[:, j + 1])
            C += Xb.T @ Xb  # n, the column sums of the centred values, and their cross-products
    sd = np.sqrt(np.diag(C)[1:] / n)
    const = [cd.names[j] for j in range(k) if sd[j] == 0]
    if const:
        raise DataError(f"{what}: column(s) {const} are constant in the rows used; drop them from the covariates")
    for j in range(k):
        X[:, j + 1] /= sd[j]
    cd._memo["design"] = (Standardizer(center, sd), X)
    s = np.concatenate([[1.0], sd])
    _check_eigen(X, names, what, C / np.outer(s, s))


def _moderate(col: np.ndarray) -> bool:
    """True when ``power_of_two_scale`` of ``col`` is 1 (finite, largest magnitude 0 or within 1e+-100)."""
    if col.size == 0:
        return True
    with np.errstate(invalid="ignore"):
        top = max(abs(float(col.max())), abs(float(col.min())))
    return math.isfinite(top) and (top == 0 or 1e-100 < top < 1e100)


def _column_scales(X: np.ndarray) -> np.ndarray:
    """``power_of_two_scale`` of every column, from two reductions over the rows when all values are finite."""
    with np.errstate(invalid="ignore"):
        top = np.maximum(np.abs(X.max(axis=0)), np.abs(X.min(axis=0)))
    if not np.isfinite(top).all():
        return np.array([power_of_two_scale(X[:, j]) for j in range(X.shape[1])])
    moderate = (top == 0) | ((top > 1e-100) & (top < 1e100))
    with np.errstate(divide="ignore"):
        return np.where(moderate, 1.0, 2.0 ** np.floor(np.log2(np.where(moderate, 1.0, top))))


def check_rank(X: np.ndarray, names: Sequence[str], what: str) -> None:
    """Refuse a design whose columns are linearly dependent, naming a redundant column."""
    if X.shape[1] == 0:
        return
    scales = _column_scales(X)
    if np.any(scales != 1.0):
        X = X / scales
    sd = X.std(axis=0)
    const = [names[j] for j in range(X.shape[1]) if sd[j] == 0 and names[j] != "(intercept)"]
    if const:
        raise DataError(f"{what}: column(s) {const} are constant in the rows used; drop them from the covariates")
    scale = np.where(sd > 0, sd, 1.0)
    Xs = (X - np.where(sd > 0, X.mean(axis=0), 0.0)) / scale
    _check_eigen(Xs, names, what)


def check_rank_by_blocks(build: Callable[[slice], np.ndarray], n: int, names: Sequence[str], what: str) -> None:
    """``check_rank`` of the n-row design whose rows ``sl`` are ``build(sl)``, without building the whole of it.

    Two passes over blocks of rows: column sums and largest magnitudes, then the cross-product of the centred
    block (and its column sums), from which the standard deviations and the standardised cross-product that
    ``check_rank`` takes its eigenvalues from follow (a column with no spread, the intercept, enters uncentred,
    as there). When a column would need rescaling by a power of two, or the design looks rank deficient or has
    a constant column, the whole design is built and ``check_rank`` decides and words the refusal.
    """
    blocks = row_blocks(n)
    k = len(names)
    sums, top = np.zeros(k), np.zeros(k)
    for sl in blocks:
        Xb = build(sl)
        sums += Xb.sum(axis=0)
        with np.errstate(invalid="ignore"):
            top = np.maximum(top, np.maximum(np.abs(Xb.max(axis=0)), np.abs(Xb.min(axis=0))))
    moderate = np.isfinite(top) & ((top == 0) | ((top > 1e-100) & (top < 1e100)))
    if k == 0 or n == 0 or not moderate.all():
        check_rank(build(slice(0, n)), names, what)
        return
    mean = sums / n
    C, dev = np.zeros((k, k)), np.zeros(k)
    with one_blas_thread():
        for sl in blocks:
            D = build(sl) - mean
            C += D.T @ D
            dev += D.sum(axis=0)
    sd = np.sqrt(np.diag(C) / n)
    flat = sd == 0
    if np.any(flat & (np.asarray(names) != "(intercept)")):
        check_rank(build(slice(0, n)), names, what)  # a constant column: refused there, with its name
        return
    scale = np.where(flat, 1.0, sd)
    cross = C / np.outer(scale, scale)
    for j in np.flatnonzero(flat):  # an uncentred constant column v: v * (column sums) and n * v * v'
        cross[j, :] = cross[:, j] = mean[j] * dev / scale
    fl = np.flatnonzero(flat)
    cross[np.ix_(fl, fl)] = n * np.outer(mean[fl], mean[fl])
    ev = np.linalg.eigvalsh(cross)
    if ev[0] <= 1e-12 * max(ev[-1], 1e-300):
        check_rank(build(slice(0, n)), names, what)


def _check_eigen(Xs: np.ndarray, names: Sequence[str], what: str, cross: np.ndarray | None = None) -> None:
    """Refuse a standardised design ``Xs`` whose cross-product (``cross`` when given) is numerically singular."""
    # eigenvalues of the cross-product: O(n p^2) like an SVD, but a fraction of its cost
    ev = np.linalg.eigvalsh(Xs.T @ Xs if cross is None else cross)
    if ev[0] <= 1e-12 * max(ev[-1], 1e-300):
        rank = int(np.sum(ev > 1e-12 * ev[-1]))
        from scipy.linalg import qr

        _, _, piv = qr(Xs, mode="economic", pivoting=True)
        dropped = [names[j] for j in piv[rank:]]
        raise DataError(
            f"{what}: the design is rank deficient ({rank} independent columns out of {Xs.shape[1]}); "
            f"{dropped} can be written as a combination of the other columns. Remove redundant covariates"
        )
