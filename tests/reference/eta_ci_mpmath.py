"""High-precision noncentral-F intervals for eta squared (40 digits, mpmath), for the data of anova.json.

R's pf(..., ncp) is accurate to about 1e-9 (its series stops at errmax = 1e-9), which limits the agreement of
the R reference values; these values solve the same equations to full double precision.
Run from the repository root:  python tests/reference/eta_ci_mpmath.py
"""

import json
from pathlib import Path

import mpmath as mp

mp.mp.dps = 40
HERE = Path(__file__).parent


def ncf_cdf(f, d1, d2, lam):
    x = mp.mpf(d1) * f / (mp.mpf(d1) * f + d2)
    h = mp.mpf(lam) / 2
    return mp.nsum(
        lambda j: mp.exp(-h) * h**j / mp.factorial(j) * mp.betainc(mp.mpf(d1) / 2 + j, mp.mpf(d2) / 2, 0, x, regularized=True), [0, mp.inf]
    )


def bound(f, d1, d2, target):
    if mp.betainc(mp.mpf(d1) / 2, mp.mpf(d2) / 2, 0, mp.mpf(d1) * f / (mp.mpf(d1) * f + d2), regularized=True) <= target:
        return mp.mpf(0)
    lo, hi = mp.mpf(0), mp.mpf(10)
    while ncf_cdf(f, d1, d2, hi) > target:
        hi *= 2
    return mp.findroot(lambda lam: ncf_cdf(f, d1, d2, lam) - target, (lo, hi), solver="anderson")


def exact_f(groups):
    gs = [[mp.mpf(float(v)) for v in g] for g in groups]  # the doubles as stored, exactly
    n = sum(len(g) for g in gs)
    k = len(gs)
    means = [sum(g) / len(g) for g in gs]
    grand = sum(sum(g) for g in gs) / n
    ssb = sum(len(g) * (m - grand) ** 2 for g, m in zip(gs, means, strict=True))
    ssw = sum((v - m) ** 2 for g, m in zip(gs, means, strict=True) for v in g)
    return (ssb / (k - 1)) / (ssw / (n - k)), k - 1, n - k, n


cases = []
for case in json.loads((HERE / "anova.json").read_text())["cases"]:
    f, d1, d2, n = exact_f(case["groups"])
    a = 1 - mp.mpf(repr(case["conf_level"]))
    lo, hi = bound(f, d1, d2, 1 - a / 2), bound(f, d1, d2, a / 2)
    cases.append({"name": case["name"], "eta_ci": [float(lo / (lo + n)), float(hi / (hi + n))]})
out = {"generated_by": "tests/reference/eta_ci_mpmath.py", "mpmath": mp.__version__, "cases": cases}
(HERE / "eta_ci_mpmath.json").write_text(json.dumps(out, indent=1))
