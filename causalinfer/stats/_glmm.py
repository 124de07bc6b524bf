"""Generalised linear mixed models (binomial logit, Poisson log) by the Laplace approximation, as
``lme4::glmer(..., nAGQ = 1)``.

For given covariance parameters :math:`\\theta` and fixed effects :math:`\\beta`, penalised iteratively reweighted
least squares finds the conditional mode :math:`\\tilde u` of the spherical random effects; the Laplace deviance

.. math:: -2\\ell(\\theta, \\beta) \\approx -2\\sum_i \\log p(y_i \\mid \\mu_i(\\tilde u)) + \\|\\tilde u\\|^2 + \\log|L_\\theta|^2,

with :math:`L_\\theta L_\\theta' = \\Lambda'Z'WZ\\Lambda + I`, is minimised over :math:`(\\theta, \\beta)` jointly (glmer's
second stage). The fixed-effect covariance is twice the inverse Hessian of that deviance (glmer's default). Validated
against ``lme4::glmer`` (``tests/reference/mixed_terms.R``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level, show
from ..exceptions import ArgumentError, ConvergenceError, DataError
from ..results import Diagnostic, Provenance
from . import _mixed_terms as _mt
from ._mixed import MixedResult, _model_columns
from ._regression import _caller_namespaces, _design, _terms

__all__ = ["GlmmResult", "glmm"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class GlmmResult(MixedResult):
    """A fitted generalised linear mixed model: fixed effects (link scale, Wald z) in ``terms``; variance components
    in ``details["random_effects"]``, conditional modes per term in ``details["ranef"]``."""

    @vp.validate_params(
        {
            "newdata": "frame",
            "include_random": "boolean",
            "type": vp.Options(("response", "link")),
            "conf_level": [None, "conf_level"],
        }
    )
    def predict(  # type: ignore[override]
        self, newdata: Any, *, include_random: bool = True, type: str = "response", conf_level: float | None = None
    ) -> pd.DataFrame:
        """Predictions for ``newdata`` on the link or the response scale (``type``).

        Same columns as :meth:`MixedResult.predict`: ``fixed`` (X b) with ``std_error`` (link scale) and
        ``ci_low``/``ci_high`` of the fixed part, ``random`` (the conditional modes of the levels seen in the fit, 0
        for unseen levels: the population value), ``estimate`` and ``known_group``. With ``type="response"`` the
        estimate, fixed part and interval are mapped through the inverse link (the standard error stays on the link
        scale).
        """
        out = MixedResult.predict(self, newdata, include_random=include_random, conf_level=conf_level)
        if type == "link":
            return out
        inv = _FAMILIES[self.details["fit"]["family"]][0]
        for col in ("estimate", "fixed", "ci_low", "ci_high"):
            out[col] = inv(out[col].to_numpy())
        return out


def _binomial(eta: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mu, working weights and -2 log p(y | eta) per row, for the logit link."""
    mu = np.exp(-np.logaddexp(0.0, -eta))
    return mu, mu * (1.0 - mu), 2.0 * (np.logaddexp(0.0, eta) - y * eta)


def _poisson(eta: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy.special import gammaln

    mu = np.exp(eta)
    return mu, mu, 2.0 * (mu - y * eta + gammaln(y + 1.0))


def _expit(eta: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -eta))


_FAMILIES: dict[str, tuple[Any, Any]] = {"binomial": (_expit, _binomial), "poisson": (np.exp, _poisson)}


class _Laplace:
    """The Laplace deviance as a function of (theta, beta), warm-starting each PIRLS at the previous mode."""

    def __init__(self, st: _mt.Structure, terms: list[_mt.ReTerm], X: np.ndarray, y: np.ndarray, family: str) -> None:
        self.st, self.X, self.y, self.fam = st, X, y, _FAMILIES[family][1]
        self.k = st.diag.size
        self.u = np.zeros(st.Q)
        # each row of Z has one entry per random effect of each term: keep them as (n, m) columns and values, and
        # the (n, m, m) products that make up Z'WZ, so every PIRLS step is plain array arithmetic
        cols, vals, off = [], [], 0
        for t in terms:
            for a in range(t.q):
                cols.append(off + t.codes * t.q + a)
                vals.append(t.Z[:, a])
            off += len(t.levels) * t.q
        self.cols, self.vals = np.column_stack(cols), np.column_stack(vals)
        pos = (self.cols[:, :, None] * st.Q + self.cols[:, None, :]).ravel()
        self.pairs, self.slot = np.unique(pos, return_inverse=True)
        self.prod = (self.vals[:, :, None] * self.vals[:, None, :]).reshape(len(y), -1)

    def _zv(self, v: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", self.vals, v[self.cols])

    def _ztr(self, r: np.ndarray) -> np.ndarray:
        return np.bincount(self.cols.ravel(), (self.vals * r[:, None]).ravel(), minlength=self.st.Q)

    def _h(self, Lam: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Lambda'Z'WZ Lambda + I."""
        ZWZ = np.zeros(self.st.Q * self.st.Q)
        ZWZ[self.pairs] = np.bincount(self.slot, (self.prod * w[:, None]).ravel(), minlength=self.pairs.size)
        H = Lam.T @ ZWZ.reshape(self.st.Q, self.st.Q) @ Lam
        H[np.diag_indices_from(H)] += 1.0
        return H

    def pirls(self, theta: np.ndarray, beta: np.ndarray) -> tuple[float, np.ndarray, float]:
        """-2 log-likelihood at the conditional mode, the mode u, and log|L|^2."""
        from scipy import linalg

        Lam = np.zeros((self.st.Q, self.st.Q))
        Lam[self.st.lam_rows, self.st.lam_cols] = theta[self.st.lam_theta]
        eta0 = self.X @ beta
        u = self.u.copy()

        def pdev(v: np.ndarray) -> float:
            return float(np.sum(self.fam(eta0 + self._zv(Lam @ v), self.y)[2]) + v @ v)

        current = pdev(u)
        if not np.isfinite(current):
            u, current = np.zeros_like(u), pdev(np.zeros_like(u))
        for _ in range(100):
            mu, w, _ = self.fam(eta0 + self._zv(Lam @ u), self.y)
            cf = linalg.cho_factor(self._h(Lam, w), lower=True, check_finite=False)
            step = linalg.cho_solve(cf, Lam.T @ self._ztr(self.y - mu) - u, check_finite=False)
            t = 1.0
            while True:
                new = pdev(u + t * step)
                if new <= current or t < 1e-8:
                    break
                t /= 2
            u = u + t * step
            done = float(np.max(np.abs(t * step), initial=0.0)) < 1e-9  # Newton: the next step would be ~1e-18
            current = min(new, current)
            if done:
                break
        _, w, dev = self.fam(eta0 + self._zv(Lam @ u), self.y)
        logdet = 2.0 * float(np.sum(np.log(np.diag(np.linalg.cholesky(self._h(Lam, w))))))
        self.u = u
        return float(np.sum(dev)) + float(u @ u) + logdet, u, logdet

    def __call__(self, x: np.ndarray) -> float:
        try:
            return self.pirls(x[: self.k], x[self.k :])[0]
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return math.inf


def _start(X: np.ndarray, y: np.ndarray, family: str) -> np.ndarray:
    """Fixed effects of the GLM without random effects (Newton-Raphson), the starting point."""
    beta = np.zeros(X.shape[1])
    if family == "poisson":
        beta[0] = math.log(max(float(np.mean(y)), 1e-3))
    fam = _FAMILIES[family][1]
    for _ in range(50):
        mu, w, _ = fam(X @ beta, y)
        step = np.linalg.solve(X.T @ (w[:, None] * X) + 1e-10 * np.eye(X.shape[1]), X.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def _optimise(lap: _Laplace, x0: np.ndarray) -> Any:
    """L-BFGS-B over (theta, beta) with theta's diagonal >= 0 and central-difference gradients (the Laplace deviance
    is smooth once PIRLS is converged to rounding; glmer uses bobyqa, derivative-free)."""
    from scipy import optimize

    def fun_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        f0 = lap(x)
        h = 1e-5 * np.maximum(np.abs(x), 1.0)
        g = np.array([(lap(x + h[i] * e) - lap(x - h[i] * e)) / (2 * h[i]) for i, e in enumerate(np.eye(x.size))])
        return f0, g

    bounds = [(0.0, None) if dg else (None, None) for dg in lap.st.diag] + [(None, None)] * (x0.size - lap.k)
    return optimize.minimize(
        fun_and_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-15, "gtol": 1e-7, "maxiter": 500}
    )


def _check_outcome(y: np.ndarray, family: str, response: str) -> None:
    if family == "binomial" and not np.all((y == 0) | (y == 1)):
        bad = y[(y != 0) & (y != 1)][:3].tolist()
        raise DataError(f"family='binomial' needs a 0/1 outcome; {response!r} has values such as {show(bad)}; recode it to 0/1")
    if family == "poisson" and (np.any(y < 0) or np.any(y != np.round(y))):
        raise DataError(f"family='poisson' needs non-negative whole counts; {response!r} has negative or fractional values")


def _glmm_fit(formula: str, data: Any, family: str, namespaces: Any) -> tuple[Any, Any, list[_mt.ReTerm], _Laplace, Any]:
    fixed, bars = _mt.split_formula(formula)
    if not bars:
        raise ArgumentError(f"`formula` {formula!r} has no random-effect term; write e.g. 'y ~ x + (1 | g)' (or use glm)")
    d = _design(fixed, None, data, add_constant=True, weights=None, cluster=None, offset=None, cov_type="nonrobust", namespaces=namespaces)
    _check_outcome(d.y, family, d.response)
    frame = data.frame if hasattr(data, "frame") else data
    terms = _mt.build_terms(frame, bars)
    _mt.check_identifiable(terms, d.X.shape[0])
    st = _mt.build_structure(terms, d.X, d.y)
    if st.Q > _mt._DENSE_LIMIT:
        raise DataError(f"{st.Q} random effects in all: glmm handles up to {_mt._DENSE_LIMIT}; use fewer levels")
    lap = _Laplace(st, terms, d.X, d.y, family)
    x0 = np.concatenate([np.where(st.diag, 1.0, 0.0), _start(d.X, d.y, family)])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        best = _optimise(lap, x0)
    if not np.isfinite(best.fun):
        raise ConvergenceError("the Laplace deviance could not be evaluated; check the outcome and the random-effects design")
    return d, frame, terms, lap, best


def _central_hessian(fun: Any, x: np.ndarray, delta: float) -> np.ndarray:
    """Central second differences with a fixed step (lme4's deriv12 as glmer uses it)."""
    k = x.size
    E = np.eye(k) * delta
    f0 = fun(x)
    H = np.empty((k, k))
    for i in range(k):
        H[i, i] = (fun(x + E[i]) - 2 * f0 + fun(x - E[i])) / delta**2
        for j in range(i):
            H[i, j] = H[j, i] = (fun(x + E[i] + E[j]) - fun(x + E[i] - E[j]) - fun(x - E[i] + E[j]) + fun(x - E[i] - E[j])) / (4 * delta**2)
    return H


def _glmm_cov(lap: _Laplace, x: np.ndarray) -> tuple[np.ndarray, str]:
    """2 H^-1 for the fixed effects from the Hessian of the Laplace deviance in (theta, beta), as glmer's vcov."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        H = _central_hessian(lap, x, 1e-3)
    lap(x)  # back to the mode at the optimum
    try:
        V = 2.0 * np.linalg.inv(H)[lap.k :, lap.k :]
        if np.all(np.isfinite(V)) and np.all(np.linalg.eigvalsh(V) > 0):
            return V, "Hessian of the Laplace deviance"
    except np.linalg.LinAlgError:
        pass
    raise ConvergenceError("the Hessian of the Laplace deviance is not positive definite at the optimum; simplify the random effects")


@vp.validate_params(
    {
        "formula": "formula",
        "data": "data",
        "family": vp.Options(("binomial", "poisson")),
        "conf_level": "conf_level",
    }
)
def glmm(formula: str, *, data: Any, family: str = "binomial", conf_level: float = 0.95) -> GlmmResult:
    """Generalised linear mixed model by the Laplace approximation (``lme4::glmer(..., nAGQ = 1)``).

    Parameters
    ----------
    formula : str
        lme4-style formula with random-effect terms, e.g. ``"y ~ x + (1 | g)"`` (random intercepts) or
        ``"y ~ x + (x | g)"`` (correlated random intercepts and slopes); nested and crossed terms are accepted
        as in :func:`lmm`.
    data : DataFrame or Dataset
    family : {"binomial", "poisson"}
        ``"binomial"``: a 0/1 outcome with the logit link; ``"poisson"``: counts with the log link.
    conf_level : float

    Returns
    -------
    GlmmResult
        ``terms``: fixed effects on the link scale with ``std_error`` (from the Hessian of the Laplace deviance,
        as glmer's ``vcov``), Wald ``statistic`` (z), ``pvalue`` and normal intervals. ``details``: ``"fit"``
        (n, n_groups, loglik, deviance (-2 loglik), aic, bic, theta, family), ``"cov"``, ``"random_effects"``
        (variances, standard deviations, correlations), ``"ranef"`` (conditional modes per term).
        ``predict(newdata, type="response" | "link", include_random=True)``. Diagnostics: singular fit (as
        lme4's ``isSingular``, with the simpler model) and convergence.

    Notes
    -----
    Validated against ``lme4::glmer`` with ``nAGQ = 1`` (``tests/reference/mixed_terms.R``): fixed effects and
    variance components agree to about 1e-5 relative, the optimisers' tolerance on a flat deviance.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(4)
    >>> g = np.repeat(np.arange(30), 10)
    >>> x = rng.normal(size=300)
    >>> eta = -0.2 + 0.8 * x + rng.normal(size=30)[g]
    >>> df = pd.DataFrame({"g": g, "x": x, "y": rng.binomial(1, 1 / (1 + np.exp(-eta)))})
    >>> r = ci.stats.glmm("y ~ x + (1 | g)", data=df, family="binomial")
    >>> r.terms["term"].tolist(), r.details["fit"]["n_groups"]
    (['(Intercept)', 'x'], {'g': 30})
    """
    conf_level = check_conf_level(conf_level)
    d, frame, terms, lap, best = _glmm_fit(formula, data, family, _caller_namespaces(1))
    n, p = d.X.shape
    theta, beta = best.x[: lap.k], best.x[lap.k :]
    cov, cov_label = _glmm_cov(lap, best.x)
    re_rows, ranef = _mt.components(theta, 1.0, terms, lap.u, lap.st)
    re_rows = [r for r in re_rows if r["group"] != "Residual"]
    diags = [_mt.singular_diagnostic(theta, terms, re_rows)]
    if not best.success:
        diags.append(Diagnostic("convergence", "warn", None, f"optimiser message: {best.message}"))
    dev, n_par = float(best.fun), p + lap.k
    fit = {"n": n, "n_groups": {t.group: len(t.levels) for t in terms}, "k": p, "family": family, "deviance": dev,
           "loglik": -dev / 2, "aic": dev + 2 * n_par, "bic": dev + math.log(n) * n_par, "theta": theta.tolist(),
           "inference": "z", "cov_type": cov_label, "model": "glmm", "formula": _mt.split_formula(formula)[0],
           "lme4_formula": formula, "re_formula": None, "response": d.response}  # fmt: skip
    grouping = {c for t in terms for c in t.columns}
    used, cat_levels = _model_columns(frame, formula=fit["formula"], re_formula=" ".join(t.expr for t in terms), response=d.response)
    blocks = " + ".join(f"({t.expr} | {t.group})" for t in terms)
    link = "logit" if family == "binomial" else "log"
    return GlmmResult(
        method=f"Generalised linear mixed model ({family}, {link} link, Laplace approximation), random effects {blocks}, Wald z",
        estimand=f"{link}-scale fixed effects on {d.response} with random effects {blocks}",
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        terms=_terms(d.names, beta, cov, conf_level, None),
        diagnostics=tuple(diags),
        details={
            "fit": fit,
            "cov": pd.DataFrame(cov, index=d.names, columns=d.names),
            "random_effects": pd.DataFrame(re_rows),
            "ranef": ranef,
            "re_terms": [
                {"expr": t.expr, "group": key, "columns": list(t.columns)} for t, key in zip(terms, _mt.term_keys(terms), strict=True)
            ],
            "levels": {k: v for k, v in cat_levels.items() if k not in grouping},
            "columns": [c for c in used if c not in grouping],
        },
        provenance=Provenance.current(data_fingerprint=d.fingerprint),
    )
