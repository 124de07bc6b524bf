"""The one normality diagnostic used by every normal-theory method (t-tests, ANOVA, correlation, regression)."""

from __future__ import annotations

import numpy as np

from ..results import Diagnostic
from ._stable import pow2_scale

_MAX_N = 5000  # the Shapiro-Wilk approximation's range; larger samples are checked on a seeded subsample


def normality_diagnostic(
    sample: np.ndarray,
    label: str,
    *,
    name: str | None = None,
    robust_n: int | None = 30,
    advice: str = "consider a rank test or a bootstrap interval",
    ok_text: str = "no evidence against normality",
    robust_text: str = "the method is robust to non-normality of this kind",
) -> Diagnostic:
    """Shapiro-Wilk check (R's ``shapiro.test`` algorithm) of ``sample``, worded for the method that relies on it.

    ``"ok"`` when p >= 0.05, or when p < 0.05 but n >= ``robust_n`` (the method is robust there; ``None``: never
    relaxed); ``"warn"`` otherwise, with ``advice``. Fewer than 3 observations or no spread give ``"warn"`` with
    no p-value. The test is location and scale free, so the sample is standardised first (exactly, by powers of
    two), which keeps data of any magnitude away from overflow.
    """
    from ._distribution import _swilk

    name = name or f"normality ({label})"
    x = np.asarray(sample, dtype=float)
    n = x.size
    if n < 3:
        return Diagnostic(name, "warn", None, f"only {n} observation(s): normality cannot be checked")
    if np.ptp(x) == 0:
        return Diagnostic(name, "warn", None, "all values are equal")
    if n > _MAX_N:
        x = np.random.default_rng(0).choice(x, _MAX_N, replace=False)
    x = x / pow2_scale(x)
    x = x - np.median(x)
    x = x / pow2_scale(x)
    if np.ptp(x) < 1e-10:
        return Diagnostic(name, "warn", None, "the values are identical to about 10 significant digits: normality cannot be checked")
    p = min(1.0, float(_swilk(x)[1]))
    if p >= 0.05:
        return Diagnostic(name, "ok", p, f"Shapiro-Wilk p = {p:.3g}: {ok_text}")
    if robust_n is not None and n >= robust_n:
        return Diagnostic(name, "ok", p, f"Shapiro-Wilk p = {p:.3g}, but with n = {n} {robust_text}")
    return Diagnostic(name, "warn", p, f"Shapiro-Wilk p = {p:.3g}{f' with only n = {n}' if robust_n is not None else ''}: {advice}")
