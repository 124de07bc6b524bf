"""Linear mixed models with several random-effect terms written as lme4 does: nested ``(1 | school/class)``,
crossed ``(1 | subject) + (1 | item)`` and random slopes on one of several factors ``(x | subject) + (1 | item)``.

The random-effects design :math:`Z` is sparse and the relative covariance factor :math:`\\Lambda_\\theta` is block
diagonal (one lower-triangular block per term, repeated over its levels), as in Bates, Maechler, Bolker and Walker
(2015). The profiled REML/ML deviance is evaluated from :math:`\\Lambda'Z'Z\\Lambda + I` (a dense Cholesky factor
for up to a few thousand random effects, a sparse LU factorisation beyond). Validated against ``lme4::lmer`` and
``lmerTest`` (``tests/reference/mixed_terms.R``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ArgumentError, DataError, RoleError
from ..results import Diagnostic

_BAR = re.compile(r"\(([^()|]*?)(\|\|?)([^()|]*)\)")
_DENSE_LIMIT = 3000


@dataclass(frozen=True)
class ReTerm:
    """One random-effects term ``(expr | group)``: its design columns and the level of each row."""

    expr: str
    group: str  # lme4's name: "school", "class:school"
    columns: tuple[str, ...]  # data columns that make up the grouping factor
    names: list[str]  # random-effect names, "(Intercept)", "x"
    Z: np.ndarray  # (n, q) raw columns
    codes: np.ndarray  # level index of each row
    levels: list[str]

    @property
    def q(self) -> int:
        return self.Z.shape[1]


def has_bars(formula: str) -> bool:
    """Whether the formula carries lme4 random-effect terms such as ``(1 | g)``."""
    return bool(_BAR.search(formula))


def split_formula(formula: str) -> tuple[str, list[tuple[str, str]]]:
    """The fixed-effects formula and the ``(expr, group)`` pairs of its bar terms (``a/b`` expanded to ``a``, ``a:b``)."""
    if "~" not in formula:
        raise ArgumentError(f"`formula` {formula!r} has no '~'; write e.g. 'y ~ x + (1 | g)'")
    lhs, rhs = formula.split("~", 1)
    bars: list[tuple[str, str]] = []
    for expr, bar, group in _BAR.findall(rhs):
        if bar == "||":
            raise ArgumentError(
                f"`formula` {formula!r} uses '||' (uncorrelated random effects), which lmm does not fit; "
                f"write the terms separately, e.g. (1 | g) + (0 + x | g)"
            )
        expr, group = expr.strip() or "1", group.strip()
        parts = [p.strip() for p in group.split("/")]
        if not all(parts) or not group:
            raise ArgumentError(f"`formula` {formula!r} has an empty grouping factor in ({expr} | {group})")
        for i in range(len(parts)):
            bars.append((expr, ":".join(parts[: i + 1])))
    fixed = " + ".join(p for p in (s.strip() for s in _top_level_plus(_BAR.sub("", rhs))) if p).replace("+ -", "-")
    if "|" in fixed:
        raise ArgumentError(f"`formula` {formula!r}: write random-effect terms in parentheses, e.g. (1 | g)")
    return f"{lhs.strip()} ~ {fixed or '1'}", bars


def _top_level_plus(text: str) -> list[str]:
    """Split on the '+' signs outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if ch == "+" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _term_name(group: str) -> str:
    """lme4 writes the nested factor ``school:class`` as ``class:school`` (innermost first)."""
    return ":".join(reversed(group.split(":")))


def build_terms(frame: pd.DataFrame, bars: list[tuple[str, str]]) -> list[ReTerm]:
    """Random-effects terms ordered as lme4 orders them (by decreasing number of levels, stable)."""
    import patsy

    from .._validation import suggest_column

    terms = []
    for expr, group in bars:
        cols = tuple(group.split(":"))
        for c in cols:
            if c not in frame.columns:
                raise RoleError(f"grouping factor {c!r} in ({expr} | {group}) is not a column of `data`{suggest_column(c, frame.columns)}")
            if frame[c].isna().any():
                raise DataError(f"grouping column {c!r} has {int(frame[c].isna().sum())} missing value(s); drop those rows first")
        key = frame[cols[0]].astype(str)
        for c in cols[1:]:
            key = key + ":" + frame[c].astype(str)
        levels, codes = np.unique(key.to_numpy(dtype=str), return_inverse=True)
        try:
            Zd = patsy.dmatrix(expr, frame, return_type="dataframe", NA_action="raise")
        except patsy.PatsyError as exc:
            raise ArgumentError(f"could not build the random effects ({expr} | {group}): {str(exc).splitlines()[0]}") from None
        if Zd.shape[1] == 0:
            raise ArgumentError(f"({expr} | {group}) has no random effects; use (1 | {group}) for random intercepts")
        names = ["(Intercept)" if c == "Intercept" else str(c) for c in Zd.columns]
        terms.append(ReTerm(expr, _term_name(group), cols, names, Zd.to_numpy(dtype=float), codes, [str(v) for v in levels]))
    order = sorted(range(len(terms)), key=lambda i: -len(terms[i].levels))
    return [terms[i] for i in order]


def term_keys(terms: list[ReTerm]) -> list[str]:
    """Names of the terms, made unique as lme4 does when a factor has several terms: ``g``, ``g.1``, ..."""
    seen: dict[str, int] = {}
    keys = []
    for t in terms:
        k = seen.get(t.group, 0)
        keys.append(t.group if k == 0 else f"{t.group}.{k}")
        seen[t.group] = k + 1
    return keys


def check_identifiable(terms: list[ReTerm], n: int) -> None:
    """Refuse, as lme4 does, grouping factors with one level and terms with as many random effects as observations."""
    for t in terms:
        nl = len(t.levels)
        if nl < 2:
            raise DataError(f"grouping factor {t.group!r} has a single level; a random effect needs several groups")
        if nl * t.q >= n:
            raise DataError(
                f"({t.expr} | {t.group}): {nl} levels x {t.q} random effect(s) = {nl * t.q} is not fewer than the {n} "
                f"observations, so the random effects and the residual variance are not identifiable; "
                f"drop random slopes or use a coarser grouping"
            )


@dataclass(frozen=True)
class Structure:
    """Sparse Z, the map from theta to the non-zeros of Lambda, and the cross-products the deviance needs."""

    ZtZ: Any  # scipy.sparse csc (Q, Q)
    ZtX: np.ndarray
    Zty: np.ndarray
    XtX: np.ndarray
    Xty: np.ndarray
    yty: float
    n: int
    p: int
    Q: int
    lam_rows: np.ndarray
    lam_cols: np.ndarray
    lam_theta: np.ndarray  # which theta each non-zero of Lambda takes
    diag: np.ndarray  # theta entries on a diagonal (bounded below by 0)
    Z: Any
    ZtZ_dense: np.ndarray | None  # for up to _DENSE_LIMIT random effects the dense algebra is faster


def build_structure(terms: list[ReTerm], X: np.ndarray, y: np.ndarray) -> Structure:
    from scipy import sparse

    n = X.shape[0]
    rows, cols, vals, lr, lc, lt, diag = [], [], [], [], [], [], []
    offset = 0
    t0 = 0
    for t in terms:
        q, nl = t.q, len(t.levels)
        for a in range(q):
            rows.append(np.arange(n))
            cols.append(offset + t.codes * q + a)
            vals.append(t.Z[:, a])
        tr, tc = np.tril_indices(q)
        o = np.lexsort((tr, tc))  # column-major lower triangle, as lme4's theta
        tr, tc = tr[o], tc[o]
        base = offset + np.arange(nl)[:, None] * q
        lr.append((base + tr).ravel())
        lc.append((base + tc).ravel())
        lt.append(np.tile(t0 + np.arange(len(tr)), nl))
        diag.append(tr == tc)
        offset += nl * q
        t0 += len(tr)
    Z = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, offset))
    return Structure(
        ZtZ=(Z.T @ Z).tocsc(),
        ZtX=np.asarray(Z.T @ X),
        Zty=np.asarray(Z.T @ y).ravel(),
        XtX=X.T @ X,
        Xty=X.T @ y,
        yty=float(y @ y),
        n=n,
        p=X.shape[1],
        Q=offset,
        lam_rows=np.concatenate(lr),
        lam_cols=np.concatenate(lc),
        lam_theta=np.concatenate(lt),
        diag=np.concatenate(diag),
        Z=Z,
        ZtZ_dense=(Z.T @ Z).toarray() if offset <= _DENSE_LIMIT else None,
    )


def lambda_of(theta: np.ndarray, st: Structure) -> Any:
    from scipy import sparse

    return sparse.csc_matrix((theta[st.lam_theta], (st.lam_rows, st.lam_cols)), shape=(st.Q, st.Q))


@dataclass(frozen=True)
class PLS:
    logdet_L: float
    logdet_RX: float
    beta: np.ndarray
    u: np.ndarray
    r2: float
    S: np.ndarray


def _factor(A: Any, Q: int) -> tuple[float, Any]:
    """log|A| and a solver for the sparse symmetric positive definite A (LU without pivoting off the diagonal)."""
    from scipy.sparse import linalg as splinalg

    lu = splinalg.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0)
    d = lu.U.diagonal()
    if np.any(d <= 0):
        raise np.linalg.LinAlgError("not positive definite")
    return float(np.sum(np.log(d))), lu.solve


def _system(theta: np.ndarray, st: Structure) -> tuple[float, Any, Any]:
    """log|L|^2, a solver for Lambda'Z'Z Lambda + I, and Lambda' (dense or sparse)."""
    from scipy import linalg, sparse

    if st.ZtZ_dense is not None:
        Lam = np.zeros((st.Q, st.Q))
        Lam[st.lam_rows, st.lam_cols] = theta[st.lam_theta]
        A = Lam.T @ st.ZtZ_dense @ Lam
        A[np.diag_indices_from(A)] += 1.0
        c = linalg.cho_factor(A, lower=True, check_finite=False)
        return 2.0 * float(np.sum(np.log(np.diag(c[0])))), lambda b: linalg.cho_solve(c, b, check_finite=False), Lam.T
    Lam = lambda_of(theta, st)
    A = (Lam.T @ st.ZtZ @ Lam + sparse.identity(st.Q, format="csc")).tocsc()
    logdet_L, solve = _factor(A, st.Q)
    return logdet_L, solve, Lam.T


def pls(theta: np.ndarray, st: Structure) -> PLS:
    logdet_L, solve, LamT = _system(theta, st)
    B = np.asarray(LamT @ st.ZtX)
    c = np.asarray(LamT @ st.Zty).ravel()
    MB = solve(B)
    Mc = solve(c)
    S = st.XtX - B.T @ MB
    s = st.Xty - B.T @ Mc
    cS = np.linalg.cholesky(S)
    beta = np.linalg.solve(S, s)
    u = Mc - MB @ beta
    r2 = st.yty - float(c @ u) - float(beta @ st.Xty)
    return PLS(logdet_L, 2.0 * float(np.sum(np.log(np.diag(cS)))), beta, u, max(r2, 1e-300), S)


def profiled_deviance(theta: np.ndarray, st: Structure, reml: bool) -> float:
    try:
        f = pls(theta, st)
    except (np.linalg.LinAlgError, ValueError):
        return math.inf
    if reml:
        nr = st.n - st.p
        return f.logdet_L + f.logdet_RX + nr * (1 + math.log(2 * math.pi * f.r2 / nr))
    return f.logdet_L + st.n * (1 + math.log(2 * math.pi * f.r2 / st.n))


def full_deviance(varpar: np.ndarray, st: Structure, reml: bool) -> float:
    f = pls(varpar[:-1], st)
    s2 = varpar[-1] ** 2
    if reml:
        return f.logdet_L + f.logdet_RX + (st.n - st.p) * math.log(2 * math.pi * s2) + f.r2 / s2
    return f.logdet_L + st.n * math.log(2 * math.pi * s2) + f.r2 / s2


def covbeta(varpar: np.ndarray, st: Structure) -> np.ndarray:
    return varpar[-1] ** 2 * np.linalg.inv(pls(varpar[:-1], st).S)


def minimise(st: Structure, *, reml: bool) -> Any:
    """L-BFGS-B on the profiled deviance (diagonal of each block >= 0), polished by a small simplex."""
    from scipy import optimize

    k = st.diag.size
    theta0 = np.where(st.diag, 1.0, 0.0)
    bounds = [(0.0, None) if dg else (None, None) for dg in st.diag]
    opts = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000}
    best = optimize.minimize(profiled_deviance, theta0, args=(st, reml), method="L-BFGS-B", bounds=bounds, options=opts)
    simplex = np.vstack([best.x, best.x + 1e-3 * np.eye(k) * np.maximum(np.abs(best.x), 0.1)])
    polish = optimize.minimize(
        profiled_deviance,
        best.x,
        args=(st, reml),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxfev": 200 * k, "initial_simplex": simplex},
    )
    ok = bool(best.success or polish.success)
    if polish.fun < best.fun and np.all(polish.x[st.diag] >= 0):
        best = polish
    best.success = ok
    return best


def satterthwaite(varpar: np.ndarray, st: Structure, reml: bool) -> np.ndarray:
    """Satterthwaite df per fixed coefficient, as lmerTest (Hessian of the deviance in (theta, sigma))."""
    H = _hessian(lambda v: full_deviance(v, st, reml), varpar)
    A = 2 * np.linalg.pinv(H)
    J = _jacobian(lambda v: covbeta(v, st), varpar)
    C = covbeta(varpar, st)
    p = st.p
    out = np.empty(p)
    for j in range(p):
        g = J[j * p + j]
        denom = float(g @ A @ g)
        out[j] = 2 * C[j, j] ** 2 / denom if denom > 0 else math.inf
    return out


def components(
    theta: np.ndarray, sigma: float, terms: list[ReTerm], u: np.ndarray, st: Structure
) -> tuple[list[dict[str, Any]], dict[str, pd.DataFrame]]:
    """Variance components in VarCorr's order and the conditional modes of each term (one frame per term)."""
    rows: list[dict[str, Any]] = []
    ranef: dict[str, pd.DataFrame] = {}
    b = lambda_of(theta, st) @ u
    t0 = off = 0
    for t, key in zip(terms, term_keys(terms), strict=True):
        q, nl = t.q, len(t.levels)
        k = q * (q + 1) // 2
        tr, tc = np.tril_indices(q)
        o = np.lexsort((tr, tc))
        T = np.zeros((q, q))
        T[tr[o], tc[o]] = theta[t0 : t0 + k]
        Sigma = sigma**2 * T @ T.T
        sds = np.sqrt(np.diag(Sigma))
        for a, nm in enumerate(t.names):
            rows.append({"group": key, "term": nm, "variance": float(Sigma[a, a]), "sd": float(sds[a]), "corr_with": None, "corr": np.nan})
        for a in range(q):
            for c in range(a):
                corr = float(Sigma[a, c] / (sds[a] * sds[c])) if sds[a] > 0 and sds[c] > 0 else math.nan
                rows.append(
                    {
                        "group": key,
                        "term": t.names[a],
                        "variance": float(Sigma[a, c]),
                        "sd": np.nan,
                        "corr_with": t.names[c],
                        "corr": corr,
                    }
                )
        frame = pd.DataFrame(b[off : off + nl * q].reshape(nl, q), columns=t.names)
        frame.insert(0, key, t.levels)
        ranef[key] = frame
        t0 += k
        off += nl * q
    rows.append({"group": "Residual", "term": "", "variance": sigma**2, "sd": sigma, "corr_with": None, "corr": np.nan})
    return rows, ranef


def singular_diagnostic(theta: np.ndarray, terms: list[ReTerm], re_rows: list[dict[str, Any]]) -> Diagnostic:
    """lme4's isSingular (a diagonal entry of a covariance factor below 1e-4), naming the term and the simpler model."""
    problems = []
    t0 = 0
    for t, key in zip(terms, term_keys(terms), strict=True):
        q = t.q
        tr, tc = np.tril_indices(q)
        o = np.lexsort((tr, tc))
        dg = theta[t0 : t0 + q * (q + 1) // 2][tr[o] == tc[o]]
        corr = [r["corr"] for r in re_rows if r["group"] == key and r["corr_with"] is not None]
        at_one = any(math.isfinite(c) and abs(c) > 1 - 1e-4 for c in corr)
        if np.any(dg < 1e-4) or at_one:
            if q == 1:
                problems.append(f"the variance of ({t.expr} | {t.group}) is ~0: drop that term")
            else:
                problems.append(
                    f"({t.expr} | {t.group}) has a variance ~0 or a correlation ~+/-1: use (1 | {t.group}), or uncorrelated terms such as (1 | {t.group}) + (0 + {t.names[-1]} | {t.group})"
                )
        t0 += q * (q + 1) // 2
    if problems:
        return Diagnostic(
            "singular fit", "warn", float(np.min(theta[_diag_mask(terms)])), "boundary (singular) fit: " + "; ".join(problems)
        )
    return Diagnostic("singular fit", "ok", float(np.min(theta[_diag_mask(terms)])), "variance components are away from the boundary")


def _diag_mask(terms: list[ReTerm]) -> np.ndarray:
    out = []
    for t in terms:
        tr, tc = np.tril_indices(t.q)
        o = np.lexsort((tr, tc))
        out.append(tr[o] == tc[o])
    return np.concatenate(out)


def random_part(details: Mapping[str, Any], frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Z b for new rows: each term adds its conditional mode where the level was seen in the fit, 0 (the population
    level) where it was not; ``known`` is True where every term's level was seen."""
    import patsy

    random = np.zeros(len(frame))
    known = np.ones(len(frame), dtype=bool)
    for spec in details["re_terms"]:
        missing = [c for c in spec["columns"] if c not in frame.columns]
        if missing:
            raise DataError(f"`newdata` lacks the grouping column(s) {missing}; pass include_random=False for population predictions")
        key = frame[spec["columns"][0]].astype(str)
        for c in spec["columns"][1:]:
            key = key + ":" + frame[c].astype(str)
        modes = details["ranef"][spec["group"]]
        lookup = {k: i for i, k in enumerate(modes[spec["group"]])}
        idx = np.array([lookup.get(k, -1) for k in key], dtype=int)
        seen = idx >= 0
        try:
            Z = patsy.dmatrix(spec["expr"], frame, return_type="dataframe", NA_action="raise").to_numpy(dtype=float)
        except patsy.PatsyError as exc:
            raise DataError(f"could not build the random effects for `newdata`: {str(exc).splitlines()[0]}") from None
        B = modes.iloc[:, 1:].to_numpy()
        random[seen] += np.einsum("ij,ij->i", Z[seen], B[idx[seen]])
        known &= seen
    return random, known


def _hessian(fun: Any, x: np.ndarray) -> np.ndarray:
    """Central differences with one Richardson step (as numDeriv's default, fewer iterations)."""
    k = x.size

    def at(h: np.ndarray) -> np.ndarray:
        H = np.empty((k, k))
        f0 = fun(x)
        for i in range(k):
            ei = np.zeros(k)
            ei[i] = h[i]
            H[i, i] = (fun(x + ei) - 2 * f0 + fun(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.zeros(k)
                ej[j] = h[j]
                H[i, j] = H[j, i] = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej) + fun(x - ei - ej)) / (4 * h[i] * h[j])
        return H

    h = 1e-3 * np.maximum(np.abs(x), 0.1)
    return (4 * at(h / 2) - at(h)) / 3


def _jacobian(fun: Any, x: np.ndarray) -> np.ndarray:
    k = x.size
    h = 1e-3 * np.maximum(np.abs(x), 0.1)
    cols = []
    for i in range(k):

        def d(step: float, i: int = i) -> np.ndarray:
            e = np.zeros(k)
            e[i] = step
            return (fun(x + e) - fun(x - e)) / (2 * step)

        cols.append(((4 * d(h[i] / 2) - d(h[i])) / 3).ravel())
    return np.column_stack(cols)
