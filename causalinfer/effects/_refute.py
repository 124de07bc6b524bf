"""The refutation loop shared by every effect estimator: refit on altered data many times and judge the estimates.

What "altered data" means is the estimator's business (its :class:`~causalinfer.effects.Refitter`); this module
draws the seeds, runs the refits in worker threads, applies each refuter's test and builds the results.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_int, check_probability, check_random_state
from ..exceptions import ArgumentError, AssumptionWarning
from ..results import Diagnostic, Provenance, Result, ResultSet
from ._refitter import Refitter, refitter_of

if TYPE_CHECKING:
    from ._result import EffectResult


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class RefutationResult(Result):
    """The outcome of one refutation test of an effect estimate.

    ``estimate`` is the mean of the refuted estimates, ``std_error`` their standard deviation across
    simulations, ``pvalue`` the p-value of the refuter's own test (its meaning is in ``estimand``), and
    ``passed`` whether the original estimate survived. ``details["simulations"]`` lists every refitted estimate.
    """

    passed: bool = False
    original_estimate: float | None = None
    refuter: str = ""


def simulate(one: Callable[[np.random.Generator], float], seeds: np.ndarray, n_jobs: int, progress: bool, label: str) -> np.ndarray:
    """``one(default_rng(seed))`` for every seed, in ``n_jobs`` threads each running its linear algebra single-threaded.

    The refits run on deliberately altered data, so the estimator's assumption warnings are silenced here.
    """
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

    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", AssumptionWarning)
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


def judge(kind: str, sims: np.ndarray, original: float, original_se: float) -> tuple[float, float, str]:
    """Statistic, p-value and the statistic's name for one refuter."""
    from ..stats._normal import t_pvalue, z_pvalue

    k = sims.size
    mean, sd = float(sims.mean()), float(sims.std(ddof=1)) if k > 1 else 0.0
    if kind in ("placebo", "dummy_outcome"):
        if sd == 0:
            return (0.0, 1.0, "t") if mean == 0 else (math.inf, 0.0, "t")
        t = mean / (sd / math.sqrt(k))
        return float(t), t_pvalue(t, k - 1), "t"
    if kind == "random_common_cause":
        z = (mean - original) / original_se if original_se > 0 else 0.0
        return float(z), z_pvalue(z, "two-sided"), "z"
    if sd == 0:
        return 0.0, 1.0, "z"
    z = (original - mean) / sd
    return float(z), z_pvalue(z, "two-sided"), "z"


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "kind": [None, "string", vp.SequenceOf("string")],
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
    refitter = refitter_of(result)
    allowed = refitter.refuters
    if kind is None:
        kind = refitter.default_refuters
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
    out = []
    for k in kinds:
        seeds = rng.integers(0, 2**63 - 1, n_simulations)
        if refitter.deterministic(k):
            out.append(_fixed_refutation(result, refitter, k, alpha, random_state))
            continue
        sims = simulate(refitter.simulator(k, subset_fraction), seeds, n_jobs, progress, refitter.title(k))
        out.append(_judged_refutation(result, refitter, k, sims, alpha, random_state))
    if isinstance(kind, str):
        return out[0]
    return ResultSet(out, labels=[r.refuter for r in out], title=f"Refutation tests of {result.label or result.method}")


def _judged_refutation(
    result: EffectResult, refitter: Refitter, kind: str, sims: np.ndarray, alpha: float, random_state: Any
) -> RefutationResult:
    """The result of a refuter that refitted the estimator on ``sims.size`` altered copies of the data."""
    assert result.estimate is not None
    assert result.std_error is not None
    original, original_se = result.estimate, result.std_error
    title = refitter.title(kind)
    stat, p, stat_name = judge(kind, sims, original, original_se)
    passed = bool(p >= alpha)
    mean = float(sims.mean())
    details: dict[str, Any] = {"simulations": pd.DataFrame({"estimate": sims})}
    if kind in ("placebo", "dummy_outcome"):
        what = f"mean {title} effect {mean:.4g} (original estimate {original:.4g})"
        verdict = "centred at 0 as it should be" if passed else "NOT centred at 0: the estimator produces effects where there are none"
        if kind == "placebo":
            exceed = float((1 + np.sum(np.abs(sims) >= abs(original))) / (1 + sims.size))
            details["placebo_exceedance"] = exceed
            what += f"; {100 * exceed:.1f}% of placebo effects are as large as the original"
    elif kind == "random_common_cause":
        what = f"mean estimate {mean:.4g} with a random extra covariate vs {original:.4g} originally ({stat:+.3f} standard errors)"
        verdict = "stable" if passed else "UNSTABLE: an irrelevant covariate moves the estimate"
    else:
        what = f"{title} estimates {mean:.4g} on average (sd {sims.std(ddof=1):.4g}) vs {original:.4g} originally"
        verdict = "consistent with them" if passed else "NOT consistent with them: the estimate depends on a few rows"
    message = f"{'passed' if passed else 'FAILED'}: {what}; {verdict} (p = {p:.3g}, alpha = {alpha:g})"
    return RefutationResult(
        method=f"Refutation by {title}: {sims.size} refits of {result.label or result.method}",
        estimand="Null hypothesis: " + refitter.null(kind),
        estimate=mean,
        std_error=float(sims.std(ddof=1)),
        statistic=stat,
        statistic_name=stat_name,
        pvalue=p,
        alternative="two-sided",
        n=int(sims.size),
        diagnostics=(Diagnostic("refutation", "ok" if passed else "fail", p, message),),
        details=details,
        label=kind,
        provenance=Provenance.current(random_state=random_state, data_fingerprint=refitter.fingerprint),
        passed=passed,
        original_estimate=original,
        refuter=kind,
    )


def _fixed_refutation(result: EffectResult, refitter: Refitter, kind: str, alpha: float, random_state: Any) -> RefutationResult:
    """A refuter that is one fixed test (the placebo cutoffs of a regression discontinuity), not repeated simulations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        test = refitter.fixed_test()
    p = test["pvalue"]
    passed = bool(p >= alpha)
    verdict = (
        "no jump, as it should be" if passed else "a JUMP where there should be none: the discontinuity may not be specific to the cutoff"
    )
    message = f"{'passed' if passed else 'FAILED'}: {test['what']}; {verdict} (p = {p:.3g}, alpha = {alpha:g})"
    diags = [Diagnostic("refutation", "ok" if passed else "fail", p, message)]
    if test["skipped"]:
        diags.append(Diagnostic("placebo sides", "warn", None, "not fitted: " + "; ".join(test["skipped"])))
    return RefutationResult(
        method=f"Refutation by {refitter.title(kind)}: {test['n']} placebo fit(s) of {result.label or result.method}",
        estimand="Null hypothesis: " + refitter.null(kind),
        estimate=test["estimate"],
        std_error=test["std_error"],
        statistic=test["statistic"],
        statistic_name=test["statistic_name"],
        pvalue=p,
        df=float(test["n"]),
        alternative="two-sided",
        n=test["n"],
        diagnostics=tuple(diags),
        details={"simulations": test["table"]},
        label=kind,
        provenance=Provenance.current(random_state=random_state, data_fingerprint=refitter.fingerprint),
        passed=passed,
        original_estimate=result.estimate,
        refuter=kind,
    )
