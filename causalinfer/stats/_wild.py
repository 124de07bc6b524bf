"""Wild cluster bootstrap for a linear coefficient (or linear restriction) of a least-squares fit.

Restricted (WCR, the null imposed on the bootstrap data) or unrestricted (WCU) wild cluster bootstrap-t of
Cameron, Gelbach and Miller (2008) with the fast algebra of Roodman, MacKinnon, Nielsen and Webb (2019): per
cluster, the bootstrap numerator and CR1 denominator are linear in the weights, so every draw costs O(G^2).
Rademacher weights are fully enumerated when 2^G <= n_resamples; Webb's six-point weights are for very few
clusters. The confidence interval inverts the bootstrap test (the set of null values whose bootstrap p-value
exceeds 1 - conf_level), found by bisection on the boundary with the weights held fixed, as ``boottest`` does.
Fixed effects are partialled out first (Frisch-Waugh-Lovell): exact when every absorbed factor is nested in the
bootstrap clusters (then the same as refitting with dummies, as pyfixest does), an approximation otherwise (said in
a diagnostic).

Validated against ``wildboottest`` (the Python port of ``boottest``/``fwildclusterboot``): identical p-values under
full enumeration (``tests/reference/fixed_effects_pyfixest.py``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level, show, suggest_column
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError
from ..results import Diagnostic, Provenance, Result

__all__ = ["wild_cluster_bootstrap"]

_WEBB = np.sqrt(np.array([3.0, 2.0, 1.0, 1.0, 2.0, 3.0]) / 2.0) * np.array([-1, -1, -1, 1, 1, 1])


@dataclass(frozen=True)
class _Problem:
    """The pieces of the bootstrap t statistic as functions of delta = R'b_hat - r (linear in delta)."""

    estimate: float
    se: float
    c0: np.ndarray  # (G,) R'A s_g at delta = 0
    c1: np.ndarray  # (G,) its change per unit delta (restricted bootstrap only)
    h0: np.ndarray  # (G, G)
    h1: np.ndarray
    ssc: float
    n: int
    n_clusters: int


def _restriction(param: Any, names: list[str]) -> tuple[np.ndarray, str]:
    if isinstance(param, str):
        param = {param: 1.0}
    if not isinstance(param, dict) or not param:
        raise ArgumentTypeError(f"`param` must be a coefficient name or a dict {{name: weight}}; got {show(param)}")
    R = np.zeros(len(names))
    for key, val in param.items():
        if key not in names:
            raise ArgumentError(f"`param` names {key!r}, which is not a coefficient of the fit {names}{suggest_column(str(key), names)}")
        R[names.index(key)] = float(val)
    label = " + ".join(f"{v:g}*{k}" if v != 1 else str(k) for k, v in param.items())
    return R, label


def _sample(result: Any, data: Any, cluster: Any, weights: Any) -> Any:
    """The (demeaned) estimation sample with one-way cluster codes."""
    from ._fixed_effects import FEData, prepare
    from ._regression import _fe_tools

    d = result.design
    if isinstance(d, FEData) and cluster is None:
        if len(d.clusters) != 1:
            raise ArgumentError(
                "`cluster` is needed: the fit was not clustered on one variable; pass cluster='column' (and data=) for the bootstrap clusters"
            )
        return d
    if isinstance(d, FEData):
        if isinstance(cluster, str):
            if data is None:
                raise ArgumentError(f"`cluster` is the column name {cluster!r}; pass the fitted data as data=")
            if cluster not in data.columns:
                raise RoleError(f"`cluster` names column {cluster!r}, which is not in the data{suggest_column(cluster, data.columns)}")
            labels = data[cluster].to_numpy()
        else:
            labels = np.asarray(cluster)
        if labels.shape != d.keep.shape:
            raise DataError(f"`cluster` must have one label per row of the fitted data ({d.keep.size}); got shape {labels.shape}")
        codes = pd.factorize(labels[d.keep], sort=True)[0]
        return FEData(**{**d.__dict__, "clusters": [codes], "cluster_names": [str(cluster) if isinstance(cluster, str) else "cluster"]})
    formula = result.fit.get("formula") if hasattr(result, "fit") else None
    if formula is None or data is None or cluster is None:
        raise ArgumentError(
            "for a fit without absorbed fixed effects, pass the formula fit's data= and cluster= (and the same weights=); "
            "a fit with absorb= or '|' carries its own sample"
        )
    return prepare(formula, data, absorb=None, weights=weights, cluster=cluster, cov_type="cluster", namespaces=None, tools=_fe_tools())


def _problem(d: Any, R: np.ndarray, impose_null: bool) -> _Problem:
    n, k = d.X.shape
    sw = np.ones(n) if d.weights is None else np.sqrt(d.weights)
    X, y = d.X * sw[:, None], d.y * sw
    codes = d.clusters[0]
    g = int(codes.max()) + 1
    if g < 2:
        raise DataError(f"the wild cluster bootstrap needs at least 2 clusters; got {g}. Cluster on a variable with several values")
    A = np.linalg.inv(X.T @ X)
    beta = A @ (X.T @ y)
    u = y - X @ beta
    big_k = d.n_params or k
    ssc = (n - 1) / (n - big_k) * g / (g - 1)
    S0 = np.zeros((g, k))
    np.add.at(S0, codes, X * u[:, None])
    a = A @ R
    q = X @ a / float(R @ a)
    S1 = np.zeros((g, k))
    np.add.at(S1, codes, X * q[:, None])
    XtX_g = np.zeros((g, k, k))
    np.add.at(XtX_g, codes, X[:, :, None] * X[:, None, :])
    D = np.einsum("j,gjl,lm->gm", a, XtX_g, A)  # R'A X_g'X_g A, one row per cluster
    c0 = S0 @ a
    se = math.sqrt(ssc * float(c0 @ c0))
    c1 = S1 @ a if impose_null else np.zeros(g)
    h1 = D @ S1.T if impose_null else np.zeros((g, g))
    return _Problem(float(R @ beta), se, c0, c1, D @ S0.T, h1, ssc, n, g)


def _weights(g: int, kind: str, n_resamples: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    if kind == "rademacher" and 2**g <= n_resamples:
        return np.array(list(itertools.product([-1.0, 1.0], repeat=g))).T, True
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(g, n_resamples)), False
    return rng.choice(_WEBB, size=(g, n_resamples)), False


class _Tester:
    """Bootstrap p-value of H0: R'b = r for any r, with the weights fixed."""

    def __init__(self, p: _Problem, V: np.ndarray) -> None:
        self.p = p
        self.n0, self.n1 = p.c0 @ V, p.c1 @ V
        self.z0 = p.c0[:, None] * V - p.h0 @ V
        self.z1 = p.c1[:, None] * V - p.h1 @ V

    def t_boot(self, delta: float) -> np.ndarray:
        z = self.z0 + delta * self.z1
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.n0 + delta * self.n1) / np.sqrt(self.p.ssc * np.einsum("gb,gb->b", z, z))

    def pvalue(self, delta: float) -> float:
        # Under WCR the all-ones draw reproduces t exactly: ties (to rounding) count as at least as extreme.
        t = abs(delta) / self.p.se
        return float(np.mean(np.abs(self.t_boot(delta)) >= t * (1.0 - 1e-10)))

    def bound(self, alpha: float, sign: float) -> float:
        """Largest |delta| (on one side) whose p-value still exceeds alpha, by expansion then bisection."""
        inside, step = 0.0, max(self.p.se, 1e-300)
        outside = sign * step
        for _ in range(200):
            if self.pvalue(outside) <= alpha:
                break
            inside, outside = outside, outside * 2.0
        else:
            return sign * math.inf
        for _ in range(200):
            mid = 0.5 * (inside + outside)
            if abs(outside - inside) <= 1e-12 * max(abs(mid), self.p.se) or mid in (inside, outside):
                break
            if self.pvalue(mid) > alpha:
                inside = mid
            else:
                outside = mid
        return 0.5 * (inside + outside)


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.stats._regression:RegressionResult"),
        "param": [vp.String("a coefficient name"), vp.InstanceOf(dict)],
        "null_value": vp.Interval("real", None, None),
        "data": [None, "data"],
        "cluster": [None, "sample"],
        "weights": [None, "sample"],
        "impose_null": "boolean",
        "weights_type": vp.Options(("rademacher", "webb")),
        "n_resamples": vp.Interval("int", 1),
        "conf_level": [None, "conf_level"],
        "random_state": "random_state",
    }
)
def wild_cluster_bootstrap(
    result: Any,
    param: Any,
    *,
    null_value: float = 0.0,
    data: Any = None,
    cluster: Any = None,
    weights: Any = None,
    impose_null: bool = True,
    weights_type: str = "rademacher",
    n_resamples: int = 9999,
    conf_level: float | None = None,
    random_state: Any = None,
) -> Result:
    """Wild cluster bootstrap-t test and confidence interval for a linear coefficient of an OLS fit.

    Parameters
    ----------
    result : RegressionResult
        A fit of :func:`ols`. With absorbed fixed effects (``absorb=`` or ``"y ~ x | fe"``) the fit carries its
        demeaned sample and, when it was clustered on one variable, its clusters. Otherwise pass the same
        ``data``, ``cluster`` and ``weights`` as to :func:`ols`.
    param : str or dict
        The coefficient tested (``"x1"``), or a linear combination ``{"x1": 1, "x2": -1}`` (H0: sum = null_value).
    null_value : float
        Value of the combination under the null hypothesis (default 0).
    data, cluster, weights : optional
        The fitted data, the bootstrap clusters (a column name or labels; default: the fit's clusters) and weights.
    impose_null : bool
        True (default): restricted wild bootstrap (WCR), the null imposed on the bootstrap data (better size with
        few clusters); False: unrestricted (WCU).
    weights_type : {"rademacher", "webb"}
        Rademacher signs (fully enumerated when 2^G <= ``n_resamples``) or Webb's six-point weights (for fewer
        than about 10 clusters, where Rademacher has too few distinct draws).
    n_resamples : int
        Bootstrap draws when not enumerating.
    conf_level : float, optional
        Level of the interval (default: the fit's).
    random_state : None, int or Generator

    Returns
    -------
    Result
        ``estimate`` (R'b), ``statistic`` (the CR1 t statistic), ``pvalue`` (symmetric: the share of bootstrap
        ``|t*|`` at least ``|t|``, ties to rounding included, as wildboottest), ``ci_low``/``ci_high`` (test inversion: the null values not
        rejected at 1 - conf_level), ``details``: ``n_clusters``, ``enumerated``, ``n_resamples`` (draws used),
        ``weights_type``, ``impose_null``, ``bootstrap_t`` (the t* at the tested null).

    Notes
    -----
    The CR1 small-sample factor (N-1)/(N-K) G/(G-1) scales the t statistic and every t* alike, so the p-value does
    not depend on it. Absorbed fixed effects are demeaned out once, before the bootstrap: exact when they are nested
    in the bootstrap clusters, an approximation otherwise (a diagnostic says so). Validated against ``wildboottest``
    under full enumeration and against pyfixest's bootstrap for fixed effects nested in the clusters.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"g": np.repeat(np.arange(8), 25), "x": rng.normal(size=200)})
    >>> df["y"] = 0.3 * df.x + rng.normal(size=8)[df.g] + rng.normal(size=200)
    >>> fit = ci.stats.ols("y ~ x", data=df, cov_type="cluster", cluster="g")
    >>> r = ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="g")
    >>> r.details["enumerated"], r.details["n_resamples"]
    (True, 256)
    """
    from ._resample_core import resolve_seed

    level = float(result.conf_level or 0.95) if conf_level is None else check_conf_level(conf_level)
    seed, recorded = resolve_seed(random_state)
    d = _sample(result, data, cluster, weights)
    R, label = _restriction(param, list(d.names))
    prob = _problem(d, R, impose_null)
    V, enumerated = _weights(prob.n_clusters, weights_type, n_resamples, np.random.default_rng(seed))
    tester = _Tester(prob, V)
    delta = prob.estimate - float(null_value)
    p = tester.pvalue(delta)
    lo_d, hi_d = tester.bound(1 - level, 1.0), tester.bound(1 - level, -1.0)
    kind = "restricted (WCR)" if impose_null else "unrestricted (WCU)"
    draws = f"all {V.shape[1]} Rademacher sign vectors enumerated" if enumerated else f"{V.shape[1]} {weights_type} draws"
    return Result(
        method=f"Wild cluster bootstrap-t, {kind}, {draws}, {prob.n_clusters} clusters; interval by test inversion",
        estimand=f"H0: {label} = {null_value:g}",
        estimate=prob.estimate,
        std_error=prob.se,
        ci_low=prob.estimate - lo_d,
        ci_high=prob.estimate - hi_d,
        conf_level=level,
        statistic=delta / prob.se,
        statistic_name="t",
        pvalue=p,
        alternative="two-sided",
        null_value=float(null_value),
        n=prob.n,
        diagnostics=(*_diagnostics(prob.n_clusters, enumerated, weights_type, V.shape[1]), *_fe_nesting(d)),
        details={
            "n_clusters": prob.n_clusters,
            "enumerated": enumerated,
            "n_resamples": int(V.shape[1]),
            "weights_type": weights_type,
            "impose_null": bool(impose_null),
            "bootstrap_t": tester.t_boot(delta),
        },
        provenance=Provenance.current(random_state=recorded, data_fingerprint=d.fingerprint),
    )


def _fe_nesting(d: Any) -> tuple[Diagnostic, ...]:
    """Demeaning before the bootstrap is exact when every absorbed factor is nested in the bootstrap clusters."""
    from ._fixed_effects import _is_nested

    if not d.fe_names:
        return ()
    loose = [nm for f, nm in enumerate(d.fe_names) if not _is_nested(d.codes[:, f], d.clusters[0], int(d.levels[f]))]
    if not loose:
        return (Diagnostic("fixed effects and clusters", "ok", 0.0, "every absorbed factor is nested in the bootstrap clusters"),)
    return (
        Diagnostic(
            "fixed effects and clusters",
            "warn",
            float(len(loose)),
            f"the fixed effects {loose} are not nested in the bootstrap clusters: the bootstrap runs on the demeaned data "
            "without projecting each draw's residuals on them again, an approximation (pyfixest and boottest refit with "
            "dummies and can differ slightly)",
        ),
    )


def _diagnostics(g: int, enumerated: bool, kind: str, draws: int) -> tuple[Diagnostic, ...]:
    out = [Diagnostic("number of clusters", "ok" if g >= 6 else "warn", float(g), f"{g} clusters")]
    if g < 6:
        out[0] = Diagnostic(
            "number of clusters",
            "warn",
            float(g),
            f"only {g} clusters: the bootstrap distribution has at most {2**g if kind == 'rademacher' else 6**g} distinct values "
            "and p-values are coarse; use weights_type='webb' with fewer than about 10 clusters",
        )
    if enumerated:
        out.append(
            Diagnostic("enumeration", "ok", float(draws), f"all {draws} Rademacher draws enumerated: the p-value is exact, not simulated")
        )
    return tuple(out)
