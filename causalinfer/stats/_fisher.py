"""Exact conditional inference for contingency tables: Fisher's test and the conditional odds ratio.

For a 2 x 2 table with first-row total ``k``, first-column total ``m`` and second-column total ``n``, the
top-left count follows Fisher's noncentral hypergeometric distribution with odds ratio ``psi``:
``P(X = x) ∝ C(m, x) C(n, k - x) psi^x`` on ``max(0, k - n) <= x <= min(k, m)``. The conditional maximum
likelihood estimate solves ``E_psi[X] = x``; the confidence limits solve ``P_psi(X >= x) = alpha`` and
``P_psi(X <= x) = alpha`` (the same equations as R's ``fisher.test``, solved here to machine precision).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..exceptions import DataError

_REL_ERR = 1 + 1e-7  # ties in probability, as R's fisher.test and binom.test treat them


@dataclass(frozen=True)
class Fisher2x2:
    """The conditional distribution of the top-left cell of a 2 x 2 table given its margins."""

    x: int
    m: int
    n: int
    k: int

    @classmethod
    def from_table(cls, table: np.ndarray) -> Fisher2x2:
        t = np.rint(table).astype(np.int64)
        return cls(int(t[0, 0]), int(t[:, 0].sum()), int(t[:, 1].sum()), int(t[0, :].sum()))

    @property
    def lo(self) -> int:
        return max(0, self.k - self.n)

    @property
    def hi(self) -> int:
        return min(self.k, self.m)

    @property
    def support(self) -> np.ndarray:
        return np.arange(self.lo, self.hi + 1)

    @functools.cached_property
    def _support(self) -> np.ndarray:
        return self.support.astype(float)

    @functools.cached_property
    def _logdc(self) -> np.ndarray:
        from scipy import stats

        return np.asarray(stats.hypergeom.logpmf(self.support, self.m + self.n, self.m, self.k), dtype=float)

    def density(self, log_psi: float) -> np.ndarray:
        """Probabilities over the support for odds ratio ``exp(log_psi)``."""
        d = self._logdc + log_psi * self._support
        d = np.exp(d - d.max())
        return np.asarray(d / d.sum())

    def mean(self, log_psi: float) -> float:
        return float(self._support @ self.density(log_psi))

    def tail(self, log_psi: float, *, upper: bool) -> float:
        """``P(X >= x)`` (upper) or ``P(X <= x)`` under odds ratio ``exp(log_psi)``."""
        d = self.density(log_psi)
        i = self.x - self.lo
        return float(d[i:].sum() if upper else d[: i + 1].sum())

    def _solve(self, f: object, target: float) -> float:
        """Root in log(psi) of the increasing function ``f(log_psi) = target``."""
        from scipy.optimize import brentq

        g = lambda t: f(t) - target  # type: ignore[operator]  # noqa: E731
        a, b = -1.0, 1.0
        while g(a) > 0:
            a *= 2
            if a < -1e4:
                raise DataError("the conditional odds ratio equation has no finite root")
        while g(b) < 0:
            b *= 2
            if b > 1e4:
                raise DataError("the conditional odds ratio equation has no finite root")
        return float(brentq(g, a, b, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500))

    def mle(self) -> float:
        """Conditional maximum likelihood estimate of the odds ratio."""
        if self.x == self.lo:
            return 0.0
        if self.x == self.hi:
            return math.inf
        return math.exp(self._solve(self.mean, float(self.x)))

    def lower_limit(self, alpha: float) -> float:
        """Solve ``P_psi(X >= x) = alpha`` (increasing in psi)."""
        if self.x == self.lo:
            return 0.0
        return math.exp(self._solve(lambda t: self.tail(t, upper=True), alpha))

    def upper_limit(self, alpha: float) -> float:
        """Solve ``P_psi(X <= x) = alpha`` (decreasing in psi)."""
        if self.x == self.hi:
            return math.inf
        return math.exp(self._solve(lambda t: -self.tail(t, upper=False), -alpha))

    def interval(self, conf_level: float, alternative: str) -> tuple[float, float]:
        if alternative == "less":
            return 0.0, self.upper_limit(1 - conf_level)
        if alternative == "greater":
            return self.lower_limit(1 - conf_level), math.inf
        alpha = (1 - conf_level) / 2
        return self.lower_limit(alpha), self.upper_limit(alpha)

    def pvalue(self, odds_ratio: float, alternative: str) -> float:
        """Exact conditional p-value against the null odds ratio ``odds_ratio``."""
        if self.lo == self.hi:
            return 1.0  # a single table has these margins (an empty row or column): R's fisher.test gives p = 1
        s = self.support
        if odds_ratio == 0:
            if alternative == "less":
                return 1.0
            if alternative == "greater":
                return float(self.x <= self.lo)
            return float(self.x == self.lo)
        if math.isinf(odds_ratio):
            if alternative == "less":
                return float(self.x >= self.hi)
            if alternative == "greater":
                return 1.0
            return float(self.x == self.hi)
        if odds_ratio == 1:
            from scipy import stats

            dist = stats.hypergeom(self.m + self.n, self.m, self.k)
            if alternative == "less":
                return float(min(1.0, dist.cdf(self.x)))
            if alternative == "greater":
                return float(min(1.0, dist.sf(self.x - 1)))
        d = self.density(math.log(odds_ratio))
        if alternative == "less":
            return float(min(1.0, d[s <= self.x].sum()))
        if alternative == "greater":
            return float(min(1.0, d[s >= self.x].sum()))
        return float(min(1.0, d[d <= d[self.x - self.lo] * _REL_ERR].sum()))


def fisher_rxc_pvalue(table: np.ndarray, *, max_tables: int = 2_000_000) -> tuple[float, int]:
    """Two-sided exact p-value of an r x c table by full enumeration of the tables with its margins.

    The p-value sums the probabilities of all tables no more probable than the observed one (with R's
    relative tolerance of 1e-7). Returns the p-value and the number of tables enumerated.
    """
    from scipy.special import gammaln

    t = np.rint(table).astype(np.int64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 1.0, 1
    # enumerate over the shorter dimension's cells column by column: put more rows than columns
    if t.shape[0] < t.shape[1]:
        t = t.T
    rows = t.sum(axis=1)
    cols = t.sum(axis=0)
    total = int(rows.sum())
    lf = gammaln(np.arange(total + 2) + 1.0)
    const = float(lf[rows].sum() + lf[cols].sum() - lf[total])
    log_obs = const - float(lf[t].sum())
    threshold = log_obs + math.log(_REL_ERR)
    nr, nc = t.shape
    acc = [0.0]
    count = [0]

    def columns(j: int, rem: np.ndarray, logp: float) -> None:
        if j == nc - 1:
            count[0] += 1
            if count[0] > max_tables:
                raise DataError(
                    f"the exact r x c test needs more than {max_tables:,} tables for this table; "
                    "use chisq_test or g_test for a table this large"
                )
            lp = logp - float(lf[rem].sum())
            if lp <= threshold:
                acc[0] += math.exp(lp - log_obs)
            return
        cj = int(cols[j])
        # remaining capacity of rows i+1.. bounds each cell from below
        suffix = np.concatenate([np.cumsum(rem[::-1])[::-1][1:], [0]])
        cell = np.zeros(nr, dtype=np.int64)

        def fill(i: int, left: int, lp: float) -> None:
            if i == nr - 1:
                if left <= rem[i]:
                    cell[i] = left
                    columns(j + 1, rem - cell, lp - float(lf[left]))
                return
            lo = max(0, left - int(suffix[i]))
            hi = min(int(rem[i]), left)
            for v in range(lo, hi + 1):
                cell[i] = v
                fill(i + 1, left - v, lp - float(lf[v]))
            cell[i] = 0

        fill(0, cj, logp)

    columns(0, rows.copy(), const)
    p = acc[0] * math.exp(log_obs)
    return float(min(1.0, max(0.0, p))), count[0]
