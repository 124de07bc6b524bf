"""What each refuter does to the data of an estimator under unconfoundedness, and the refits that follow.

The refutation loop and its tests live in :mod:`causalinfer.effects`; the object a result carries to reach
these functions is :class:`~causalinfer.causal._refitter.CausalRefitter`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..effects import REFUTERS, judge, refute
from . import _core as core
from ._models import Standardizer, fit_ols

__all__ = ["NULLS", "REFUTERS", "TITLES", "covariate_refitter", "refute", "simulator"]

_judge = judge  # the refuters' decision rules, under the name the tests know

TITLES = {
    "placebo": "placebo treatment",
    "random_common_cause": "random common cause",
    "subset": "data subset",
    "bootstrap": "bootstrap",
    "dummy_outcome": "dummy outcome",
}
NULLS = {
    "placebo": (
        "replacing the treatment by a random permutation of it (a placebo with no effect), the estimator finds effects centred "
        "at 0. p-value: t-test of the mean placebo effect against 0 across simulations; passed when p >= alpha"
    ),
    "dummy_outcome": (
        "replacing the outcome by one that depends on the covariates but not on the treatment (fitted covariate model plus "
        "permuted residuals), the estimator finds effects centred at 0. p-value: t-test of the mean effect against 0 across "
        "simulations; passed when p >= alpha"
    ),
    "random_common_cause": (
        "adding an independent random covariate to the adjustment set leaves the estimate unchanged. p-value: two-sided normal "
        "test of the mean shift of the estimate in units of its standard error; passed when p >= alpha"
    ),
    "subset": (
        "the original estimate is a plausible draw from the estimates on random subsets of the rows. p-value: two-sided normal "
        "probability, under the subset estimates' mean and standard deviation, of a value as far from their mean as the original; "
        "passed when p >= alpha"
    ),
    "bootstrap": (
        "the original estimate is a plausible draw from the estimates on bootstrap resamples of the rows. p-value: two-sided "
        "normal probability, under the bootstrap estimates' mean and standard deviation, of a value as far from their mean as the "
        "original; passed when p >= alpha"
    ),
}


def simulator(kind: str, ctx: Any, subset_fraction: float) -> Callable[[np.random.Generator], float]:
    """A function of a random generator returning one refitted estimate on altered data."""
    cd, spec, warm = ctx.cd, ctx.spec, ctx.warm
    y, a, Z, names = cd.y, cd.a, cd.Z, cd.names
    n = y.size
    X = warm.X
    # Hessians for chord refits of the logistic propensity: at the null (placebo) and at the original fit
    p1 = float(a.mean())
    H_null = None if X is None else p1 * (1.0 - p1) * (X.T @ X)
    beta_null = None
    if X is not None:
        beta_null = np.zeros(X.shape[1])
        beta_null[0] = np.log(p1 / (1.0 - p1))
    cold = core.Warm(std=warm.std, beta=beta_null, X=X, H=H_null, e=np.full(n, p1))
    e_fit = None
    if X is not None and warm.beta is not None:
        from ._models import expit

        e_fit = expit(X @ warm.beta)
    hot = core.Warm(std=warm.std, beta=warm.beta, X=X, H=warm.H, e=e_fit)

    if kind == "placebo":

        def one(rng: np.random.Generator) -> float:
            return core.run(y, a[rng.permutation(n)], Z, spec, warm=cold, need_phi=False, names=names).estimate

    elif kind == "random_common_cause":
        with_covariate = covariate_refitter(ctx)

        def one(rng: np.random.Generator) -> float:
            return with_covariate(rng.standard_normal(n), "random")

    elif kind in ("subset", "bootstrap"):
        m = max(round(subset_fraction * n), 4)
        H_sub = None if warm.H is None else warm.H * ((m if kind == "subset" else n) / n)

        def one(rng: np.random.Generator) -> float:
            if kind == "subset":
                rows = np.zeros(n, dtype=bool)  # a mask keeps the rows in order: faster to gather
                rows[rng.choice(n, m, replace=False)] = True
            else:
                rows = rng.integers(0, n, n)
            w2 = core.Warm(
                std=warm.std, beta=warm.beta, X=None if X is None else X[rows], H=H_sub, e=None if e_fit is None else e_fit[rows]
            )
            Zr = Z[rows] if (spec.method != "ipw" or X is None or spec.propensity_model is not None) else Z[:0]
            return core.run(y[rows], a[rows], Zr, spec, warm=w2, need_phi=False, names=names).estimate

    else:  # dummy outcome
        X = Standardizer.of(Z).design(Z)
        ols = fit_ols(X, y)
        fitted = y - ols.resid

        def one(rng: np.random.Generator) -> float:
            y2 = fitted + ols.resid[rng.permutation(n)]
            return core.run(y2, a, Z, spec, warm=hot, need_phi=False, names=names).estimate

    return one


def covariate_refitter(ctx: Any) -> Callable[[np.ndarray, str], float]:
    """A function ``(z, name) -> estimate`` refitting the estimator with ``z`` added to the adjustment set.

    The logistic refit starts from the original coefficients (0 for ``z``) and a Hessian bordered by the new
    column, so it needs only a few gradient evaluations.
    """
    cd, spec, warm = ctx.cd, ctx.spec, ctx.warm
    y, a, Z, names = cd.y, cd.a, cd.Z, cd.names
    n = y.size
    X = warm.X
    e_fit = None
    if X is not None and warm.beta is not None:
        from ._models import expit

        e_fit = expit(X @ warm.beta)
    needs_z = spec.method != "ipw" or spec.propensity_model is not None or X is None
    spec2 = spec
    if spec.method == "regression" and spec.interactions is not None and len(spec.interactions) == Z.shape[1] and Z.shape[1] > 0:
        spec2 = core.Spec(**{**spec.__dict__, "interactions": (*spec.interactions, Z.shape[1])})

    import threading

    local = threading.local()  # one extended design per worker thread: only its last column changes

    def refit(z: np.ndarray, name: str) -> float:
        if needs_z:
            Z2 = np.empty((n, Z.shape[1] + 1))
            Z2[:, :-1] = Z
            Z2[:, -1] = z
        else:
            Z2 = z[:, None]  # IPW with the built-in model reads only the standardised design X2
        beta = None if warm.beta is None else np.append(warm.beta, 0.0)
        std2 = warm.std.extend(z)
        X2 = None
        if X is not None:
            X2 = getattr(local, "X2", None)
            if X2 is None:
                X2 = local.X2 = np.empty((n, X.shape[1] + 1))
                X2[:, :-1] = X
            np.subtract(z, std2.center[-1], out=X2[:, -1])
            X2[:, -1] /= std2.scale[-1]
        H2 = None
        if warm.H is not None and e_fit is not None and X2 is not None:
            zs = X2[:, -1]
            wz = e_fit * (1.0 - e_fit) * zs
            H2 = np.empty((X2.shape[1], X2.shape[1]))
            H2[:-1, :-1] = warm.H
            H2[:-1, -1] = H2[-1, :-1] = wz @ X
            H2[-1, -1] = zs @ wz
        w2 = core.Warm(std=std2, beta=beta, X=X2, H=H2, e=e_fit)
        return core.run(y, a, Z2, spec2, warm=w2, need_phi=False, names=(*names, name)).estimate

    return refit
