"""Refutation tests: refit the whole estimator on altered data and see whether the estimate survives."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_int, check_probability, check_random_state, show
from ..exceptions import ArgumentError, ArgumentTypeError
from ..results import Diagnostic, Provenance, ResultSet
from . import _core as core
from ._effect import EffectResult, RefutationResult
from ._models import Standardizer, fit_ols

REFUTERS = ("placebo", "random_common_cause", "subset", "bootstrap", "dummy_outcome")

_TITLES = {
    "placebo": "placebo treatment",
    "random_common_cause": "random common cause",
    "subset": "data subset",
    "bootstrap": "bootstrap",
    "dummy_outcome": "dummy outcome",
}
_NULLS = {
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


def _context(result: Any) -> Any:
    if not isinstance(result, EffectResult):
        raise ArgumentTypeError(f"`result` must be an EffectResult from a causalinfer.causal estimator; got {show(result)}")
    ctx = getattr(result, "_context", None)
    if ctx is None:
        raise ArgumentError(
            "this EffectResult does not carry its data (it was rebuilt from JSON or copied); estimate the effect again and refute that result"
        )
    return ctx


def _simulator(kind: str, ctx: Any, subset_fraction: float) -> Callable[[np.random.Generator], float]:
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


def _simulate(one: Callable[[np.random.Generator], float], seeds: np.ndarray, n_jobs: int, progress: bool, label: str) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    out = np.empty(seeds.size)
    bar = None
    if progress:
        from .._progress import progress_bar

        bar = progress_bar(total=int(seeds.size), desc=f"refute: {label}", progress=True)

    def chunk(idx: np.ndarray) -> None:
        for i in idx:
            out[i] = one(np.random.default_rng(int(seeds[i])))
            if bar is not None:
                bar.update(1)

    with threadpool_limits(1):
        if n_jobs <= 1:
            chunk(np.arange(seeds.size))
        else:
            parts = np.array_split(np.arange(seeds.size), n_jobs)
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                for f in [pool.submit(chunk, p) for p in parts]:
                    f.result()
    if bar is not None:
        bar.close()
    return out


def _judge(kind: str, sims: np.ndarray, original: float, original_se: float) -> tuple[float, float, str]:
    """Statistic, p-value and the statistic's name for one refuter."""
    from scipy import stats

    k = sims.size
    mean, sd = float(sims.mean()), float(sims.std(ddof=1)) if k > 1 else 0.0
    if kind in ("placebo", "dummy_outcome"):
        if sd == 0:
            return (0.0, 1.0, "t") if mean == 0 else (math.inf, 0.0, "t")
        t = mean / (sd / math.sqrt(k))
        return float(t), float(2 * stats.t.sf(abs(t), k - 1)), "t"
    if kind == "random_common_cause":
        z = (mean - original) / original_se if original_se > 0 else 0.0
        return float(z), float(2 * stats.norm.sf(abs(z))), "z"
    if sd == 0:
        return 0.0, 1.0, "z"
    z = (original - mean) / sd
    return float(z), float(2 * stats.norm.sf(abs(z))), "z"


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "kind": [None, vp.Options(REFUTERS), vp.SequenceOf(vp.Options(REFUTERS))],
        "n_simulations": vp.Interval("int", 2),
        "subset_fraction": vp.OPEN_PROBABILITY,
        "alpha": vp.OPEN_PROBABILITY,
        "random_state": "random_state",
        "n_jobs": vp.Interval("int", 1, 64),
        "progress": [None, "boolean"],
    }
)
def refute(
    result: EffectResult,
    kind: str | Sequence[str] | None = None,
    *,
    n_simulations: int = 100,
    subset_fraction: float = 0.8,
    alpha: float = 0.05,
    random_state: Any = None,
    n_jobs: int = 2,
    progress: bool | None = None,
) -> RefutationResult | ResultSet:
    """Refutation tests of an effect estimate; each simulation refits the estimator and every nuisance model.

    Parameters
    ----------
    result : EffectResult
        An estimate from :func:`ipw`, :func:`aipw`, :func:`regression_adjustment` or :func:`dml`, or from a design
        estimator (:func:`iv_2sls`, :func:`did_2x2`, :func:`rdd`, ...; see below), computed in this session: it
        carries its data.
    kind : str or sequence of str, optional
        Default ``("placebo", "random_common_cause", "subset")``, or ``("placebo", "subset")`` for a design
        result. Any of

        - ``"placebo"``: the treatment is replaced by a random permutation of itself. A sound estimator
          finds effects centred at 0.
        - ``"dummy_outcome"``: the outcome is replaced by covariate-driven values with no treatment effect
          (fitted linear covariate model plus permuted residuals). Effects should be centred at 0.
        - ``"random_common_cause"``: an independent standard-normal covariate is added to the adjustment
          set. The estimate should not move.
        - ``"subset"``: the estimate is recomputed on random subsets of ``subset_fraction`` of the rows.
        - ``"bootstrap"``: the estimate is recomputed on bootstrap resamples.

        A design result is refuted by calling its own design function again, with the same options, on altered
        data: ``"subset"`` and ``"bootstrap"`` resample whole units (panels) or clusters when the design has them,
        ``"random_common_cause"`` applies where the design adjusts for covariates, and ``"placebo"`` is the
        design's own placebo: a permuted outcome for instrumental variables, treatment paths given to randomly
        chosen other units for difference-in-differences, a permuted treatment for continuous treatments, and
        for regression discontinuity a single fixed test of placebo cutoffs at the median of the running variable
        on each side of the real one (each fitted on that side's data; ``n_simulations`` does not apply).
    n_simulations : int
        Refits per refuter.
    subset_fraction : float
        Share of rows kept by the subset refuter.
    alpha : float
        A refuter fails when its p-value is below ``alpha``.
    random_state : int or Generator, optional
        Seed; the same seed gives the same simulations whatever ``n_jobs``.
    n_jobs : int
        Worker threads (each runs its linear algebra single-threaded).
    progress : bool, optional
        Show a progress bar; default: only when stderr is a terminal.

    Returns
    -------
    RefutationResult or ResultSet
        One result per refuter: ``estimate`` is the mean refitted estimate, ``std_error`` their standard
        deviation, ``statistic`` and ``pvalue`` the refuter's test (its null hypothesis is spelt out in
        ``estimand``), ``passed``, ``original_estimate``; the diagnostic ``"refutation"`` says in words whether the
        estimate passed. ``details["simulations"]`` has every refitted estimate; for the placebo refuter
        ``details["placebo_exceedance"]`` is the share of placebo effects at least as large (in absolute value) as
        the original: how often a treatment without effect looks as strong as the real one.

    Notes
    -----
    Unlike DoWhy 0.14, nuisance models are refitted in every simulation (warm-started from the original fit
    where the data allow) and nothing is written into the user's data, so a correct estimate passes the
    placebo test.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.ipw(ci.load_dataset("lalonde"))
    >>> ref = r.refute("placebo", n_simulations=50, random_state=1, progress=False)
    >>> ref.passed
    True
    """
    ctx = _context(result)
    design = getattr(ctx, "refuters", None) is not None  # design contexts re-run their own design
    allowed = ctx.refuters if design else REFUTERS
    if kind is None:
        kind = ctx.default_refuters if design else ("placebo", "random_common_cause", "subset")
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if not kinds:
        raise ArgumentError(f"`kind` must name at least one refuter among {allowed}")
    for k in kinds:
        check_choice(k, "kind", allowed)
    n_simulations = check_int(n_simulations, "n_simulations", minimum=2)
    subset_fraction = check_probability(subset_fraction, "subset_fraction", open_interval=True)
    alpha = check_probability(alpha, "alpha", open_interval=True)
    n_jobs = check_int(n_jobs, "n_jobs", minimum=1, maximum=64)
    rng = check_random_state(random_state)
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    assert result.estimate is not None
    assert result.std_error is not None
    original, original_se = result.estimate, result.std_error
    out = []
    for k in kinds:
        title = ctx.title(k) if design else _TITLES[k]
        null = ctx.null(k) if design else _NULLS[k]
        seeds = rng.integers(0, 2**63 - 1, n_simulations)
        if design and ctx.deterministic(k):
            out.append(_fixed_refutation(result, ctx, k, title, null, alpha, random_state))
            continue
        if design:
            sims = _simulate_quietly(ctx.simulator(k, subset_fraction), seeds, n_jobs, progress, title)
        else:
            sims = _simulate(_simulator(k, ctx, subset_fraction), seeds, n_jobs, progress, title)
        stat, p, stat_name = _judge(k, sims, original, original_se)
        passed = bool(p >= alpha)
        mean = float(sims.mean())
        details: dict[str, Any] = {"simulations": pd.DataFrame({"estimate": sims})}
        if k in ("placebo", "dummy_outcome"):
            what = f"mean {title} effect {mean:.4g} (original estimate {original:.4g})"
            verdict = "centred at 0 as it should be" if passed else "NOT centred at 0: the estimator produces effects where there are none"
            if k == "placebo":
                exceed = float((1 + np.sum(np.abs(sims) >= abs(original))) / (1 + sims.size))
                details["placebo_exceedance"] = exceed
                what += f"; {100 * exceed:.1f}% of placebo effects are as large as the original"
        elif k == "random_common_cause":
            what = f"mean estimate {mean:.4g} with a random extra covariate vs {original:.4g} originally ({stat:+.3f} standard errors)"
            verdict = "stable" if passed else "UNSTABLE: an irrelevant covariate moves the estimate"
        else:
            what = f"{title} estimates {mean:.4g} on average (sd {sims.std(ddof=1):.4g}) vs {original:.4g} originally"
            verdict = "consistent with them" if passed else "NOT consistent with them: the estimate depends on a few rows"
        status = "ok" if passed else "fail"
        message = f"{'passed' if passed else 'FAILED'}: {what}; {verdict} (p = {p:.3g}, alpha = {alpha:g})"
        out.append(
            RefutationResult(
                method=f"Refutation by {title}: {n_simulations} refits of {result.label or result.method}",
                estimand="Null hypothesis: " + null,
                estimate=mean,
                std_error=float(sims.std(ddof=1)),
                statistic=stat,
                statistic_name=stat_name,
                pvalue=p,
                alternative="two-sided",
                n=n_simulations,
                diagnostics=(Diagnostic("refutation", status, p, message),),
                details=details,
                label=k,
                provenance=Provenance.current(
                    random_state=random_state, data_fingerprint=ctx.fingerprint if design else ctx.cd.fingerprint
                ),
                passed=passed,
                original_estimate=original,
                refuter=k,
            )
        )
    if isinstance(kind, str):
        return out[0]
    return ResultSet(out, labels=[r.refuter for r in out], title=f"Refutation tests of {result.label or result.method}")


def _simulate_quietly(
    one: Callable[[np.random.Generator], float], seeds: np.ndarray, n_jobs: int, progress: bool, label: str
) -> np.ndarray:
    """:func:`_simulate` for design re-runs, without the design's assumption warnings on every altered data set."""
    import warnings

    from ..exceptions import AssumptionWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        return _simulate(one, seeds, n_jobs, progress, label)


def _fixed_refutation(
    result: EffectResult, ctx: Any, kind: str, title: str, null: str, alpha: float, random_state: Any
) -> RefutationResult:
    """A refuter that is one fixed test (the placebo cutoffs of a regression discontinuity), not repeated simulations."""
    import warnings

    from ..exceptions import AssumptionWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        test = ctx.fixed_test()
    p = test["pvalue"]
    passed = bool(p >= alpha)
    verdict = (
        "no jump, as it should be" if passed else "a JUMP where there should be none: the discontinuity may not be specific to the cutoff"
    )
    message = f"{'passed' if passed else 'FAILED'}: {test['what']}; {verdict} (p = {p:.3g}, alpha = {alpha:g})"
    details: dict[str, Any] = {"simulations": test["table"]}
    diags = [Diagnostic("refutation", "ok" if passed else "fail", p, message)]
    if test["skipped"]:
        diags.append(Diagnostic("placebo sides", "warn", None, "not fitted: " + "; ".join(test["skipped"])))
    return RefutationResult(
        method=f"Refutation by {title}: {test['n']} placebo fit(s) of {result.label or result.method}",
        estimand="Null hypothesis: " + null,
        estimate=test["estimate"],
        std_error=test["std_error"],
        statistic=test["statistic"],
        statistic_name=test["statistic_name"],
        pvalue=p,
        df=float(test["n"]),
        alternative="two-sided",
        n=test["n"],
        diagnostics=tuple(diags),
        details=details,
        label=kind,
        provenance=Provenance.current(random_state=random_state, data_fingerprint=ctx.fingerprint),
        passed=passed,
        original_estimate=result.estimate,
        refuter=kind,
    )
