"""Model checks: the result types and the decision rule shared by every check.

A check compares a quantity with a rule ("AUC at least 0.80", "PSI at most 0.2 in every column") and answers
pass, fail or inconclusive. Inferential checks decide on one-sided confidence bounds at level ``1 - alpha``:
a gate passes only when the bound on the passing side clears the threshold, fails only when the bound on the
failing side does (after the multiplicity adjustment of the family of checks), and is inconclusive otherwise.
Census checks (duplicate rows, unseen categories, a missing column) count the data given and decide exactly.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..results import Diagnostic, Result, ResultSet
from ..stats._normal import t_pvalue, z_pvalue

__all__ = ["STATUSES", "CheckReport", "CheckResult", "Gate", "Rule", "combine_worst", "decide", "proportion_gate"]

STATUSES: tuple[str, ...] = ("pass", "fail", "inconclusive")
_DIAG = {"pass": "ok", "fail": "fail", "inconclusive": "warn"}
#: Power at which :func:`n_needed` sizes an inconclusive gate.
TARGET_POWER = 0.8


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CheckResult(Result):
    """One check of a suite: its status, the rule in words, and the inference behind the decision.

    On top of the :class:`~causalinfer.results.Result` fields (``estimate`` with its one-sided bounds in
    ``ci_low``/``ci_high``, ``pvalue`` = the p-value of the alarm "the rule is violated", ``n``):

    Attributes
    ----------
    status : {"pass", "fail", "inconclusive"}
    check : str
        The kind of check (``"performance"``, ``"drift"``, ``"duplicates"``...).
    rule : str
        The rule in words, e.g. ``"auc at least 0.8"``.
    data : str
        The table checked (``"train"``, ``"test"``, ``"production"``).
    pvalue_pass : float, optional
        P-value of "the rule holds" (small when the data show the rule is met).
    pvalue_adjusted : float, optional
        ``pvalue`` adjusted across the family of inferential checks (Holm or Benjamini-Hochberg).
    power : float, optional
        Power of the decision at the observed effect (the chance that data of this size decide when the true
        value equals the estimate).
    n_needed : int, optional
        Rows that would make an inconclusive check decisive at the observed effect with 80% power.
    census : bool
        True when the check counts the data given (no sampling inference, no p-value).
    """

    status: str = "inconclusive"
    check: str = ""
    rule: str = ""
    data: str = ""
    pvalue_pass: float | None = None
    pvalue_adjusted: float | None = None
    power: float | None = None
    n_needed: int | None = None
    census: bool = False

    _kind: ClassVar[str] = "check"

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def replace(self, **changes: Any) -> CheckResult:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def verdict(self) -> str:
        """One line: label, status, estimate with its bounds, and the rule."""
        est = "" if self.estimate is None else f" estimate {_num(self.estimate)}"
        if self.ci_low is not None and self.ci_high is not None and not self.census:
            est += f" [{_num(self.ci_low)}, {_num(self.ci_high)}]"
        more = f"; {self.n_needed} rows would decide" if self.status == "inconclusive" and self.n_needed else ""
        return f"{self.label}: {self.status.upper()} ({self.rule};{est}){more}"


def _num(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)


class CheckReport(ResultSet):
    """The results of a check suite (a :class:`~causalinfer.results.ResultSet` of :class:`CheckResult`).

    ``status`` is "fail" when any check fails, else "inconclusive" when any is inconclusive, else "pass";
    ``exit_code`` maps it to 0 / 1 / 3 for pipelines. ``overview()`` is one row per check;
    ``to_junit()``, ``to_html()`` and ``to_json()`` write the report for CI servers and people.
    """

    __slots__ = ()

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self if isinstance(r, CheckResult))

    def _with(self, status: str) -> tuple[str, ...]:
        return tuple(lab for lab, r in zip(self.labels, self, strict=True) if getattr(r, "status", None) == status)

    @property
    def failed(self) -> tuple[str, ...]:
        return self._with("fail")

    @property
    def inconclusive(self) -> tuple[str, ...]:
        return self._with("inconclusive")

    @property
    def passed(self) -> tuple[str, ...]:
        return self._with("pass")

    @property
    def status(self) -> str:
        return "fail" if self.failed else "inconclusive" if self.inconclusive else "pass"

    @property
    def exit_code(self) -> int:
        """0 when every check passes, 1 when any fails, 3 when none fails but some are inconclusive."""
        return {"pass": 0, "fail": 1, "inconclusive": 3}[self.status]

    def overview(self) -> pd.DataFrame:
        """One row per check: ``label, check, data, status, estimate, ci_low, ci_high, rule, pvalue,
        pvalue_adjusted, pvalue_pass, power, n_needed, n``."""
        cols = ["check", "data", "status", "estimate", "ci_low", "ci_high", "rule", "pvalue", "pvalue_adjusted"]
        cols += ["pvalue_pass", "power", "n_needed", "n"]
        rows = [[lab, *[getattr(r, c, None) for c in cols]] for lab, r in zip(self.labels, self, strict=True)]
        return pd.DataFrame(rows, columns=["label", *cols])

    def failure_summary(self, *, include_inconclusive: bool = True) -> str:
        """The verdict lines of the checks that did not pass."""
        keep = ("fail", "inconclusive") if include_inconclusive else ("fail",)
        return "\n".join(r.verdict() for r in self.checks if r.status in keep)

    def to_junit(self, path: Any = None) -> str:
        """JUnit XML (one testcase per check); written to ``path`` when given."""
        from ._check_output import to_junit

        return to_junit(self, path)

    def to_html(self, path: Any = None) -> str:
        """A self-contained HTML report; written to ``path`` when given."""
        from ._check_output import to_html

        return to_html(self, path)


# ---------------------------------------------------------------------- rules and decisions
@dataclass(frozen=True)
class Rule:
    """``kind`` "at_least" (value >= low), "at_most" (value <= high) or "within" (low <= value <= high)."""

    kind: str
    low: float = -math.inf
    high: float = math.inf
    what: str = "value"

    def words(self) -> str:
        if self.kind == "at_least":
            return f"{self.what} at least {self.low:g}"
        if self.kind == "at_most":
            return f"{self.what} at most {self.high:g}"
        return f"{self.what} within [{self.low:g}, {self.high:g}]"


@dataclass
class Gate:
    """An inferential decision before the family adjustment: estimate, one-sided bounds and both p-values."""

    estimate: float
    ci_low: float
    ci_high: float
    pvalue_pass: float
    pvalue_fail: float
    std_error: float | None
    n: int
    label: str = ""
    power: float | None = None
    n_needed: int | None = None
    value: float | None = None  # a part's own level (a segment's metric), beside the gap being judged


def _normal_p(z: float) -> float:
    return z_pvalue(z, "greater")


def gate_pvalues(estimate: float, se: float, rule: Rule, df: float | None = None) -> tuple[float, float]:
    """(p_pass, p_fail) of a rule for an estimate with a normal (or t on ``df``) sampling distribution."""

    def upper(z: float) -> float:  # P(statistic >= z)
        if math.isnan(z):
            return math.nan
        return float(t_pvalue(z, df, "greater")) if df is not None else _normal_p(z)

    if not se > 0:
        exact = {True: 0.0, False: 1.0}
        ok_low = estimate >= rule.low
        ok_high = estimate <= rule.high
        return exact[ok_low and ok_high], exact[not (ok_low and ok_high)]
    parts_pass, parts_fail = [], []
    if rule.kind in ("at_least", "within"):
        z = (estimate - rule.low) / se
        parts_pass.append(upper(z))  # H0: value <= low
        parts_fail.append(upper(-z))  # H0: value >= low
    if rule.kind in ("at_most", "within"):
        z = (estimate - rule.high) / se
        parts_pass.append(upper(-z))
        parts_fail.append(upper(z))
    return max(parts_pass), min(parts_fail)


def power_and_n(estimate: float, se: float | None, n: int, rule: Rule, alpha: float) -> tuple[float | None, int | None]:
    """Power at the observed effect and the rows that would give 80% power (standard error proportional to 1/sqrt(n))."""
    from ..stats._normal import z_upper

    if se is None or not se > 0 or not math.isfinite(estimate):
        return None, None
    edges = [x for x in (rule.low, rule.high) if math.isfinite(x)]
    gap = min(abs(estimate - e) for e in edges)
    za = z_upper(alpha)

    power = z_pvalue(gap / se - za, "less")
    if gap == 0:
        return power, None
    need = n * ((za + z_upper(1 - TARGET_POWER)) * se / gap) ** 2
    return power, math.ceil(need)


def decide(gate: Gate, p_fail_adjusted: float, alpha: float) -> str:
    """pass when the passing bound clears the rule, fail when the adjusted alarm p-value is below alpha."""
    if p_fail_adjusted < alpha:
        return "fail"
    if gate.pvalue_pass < alpha:
        return "pass"
    return "inconclusive"


def proportion_gate(k: int, n: int, rule: Rule, alpha: float, label: str = "") -> Gate:
    """Gate on a share k/n with exact binomial tests and the Clopper-Pearson one-sided bounds they invert.

    Exact tests keep their level in the far tails the family adjustment reaches (the normal approximation behind
    Wilson's interval does not: a binomial share near 0.1 with a few hundred rows has a heavier upper tail).
    """
    from scipy import special

    def cdf(q: float) -> float:  # P(X <= k)
        return float(special.bdtr(k, n, q))

    def sf(q: float) -> float:  # P(X >= k)
        return 1.0 if k == 0 else float(special.bdtrc(k - 1, n, q))

    p = k / n
    lo = float(special.betaincinv(k, n - k + 1, alpha)) if k > 0 else 0.0
    hi = float(special.betaincinv(k + 1, n - k, 1 - alpha)) if k < n else 1.0
    p_pass, p_fail = [], []
    if math.isfinite(rule.low):  # H0 value <= low (pass) and value >= low (fail)
        p_pass.append(sf(rule.low) if 0 < rule.low < 1 else float(not (p >= rule.low)))
        p_fail.append(cdf(rule.low) if 0 < rule.low < 1 else float(p >= rule.low))
    if math.isfinite(rule.high):
        p_pass.append(cdf(rule.high) if 0 < rule.high < 1 else float(not (p <= rule.high)))
        p_fail.append(sf(rule.high) if 0 < rule.high < 1 else float(p <= rule.high))
    se = math.sqrt(max(p * (1 - p), 1.0 / n) / n)
    return Gate(p, lo, hi, max(p_pass), min(p_fail), se, n, label)


def combine_worst(gates: list[Gate]) -> tuple[Gate, float, float]:
    """Several parts of one check: passes when every part passes (intersection-union), alarms on the smallest
    part p-value times the number of parts (Bonferroni). Returns the worst part, p_pass and p_fail."""
    if not gates:
        raise ValueError("no parts to combine")
    worst = min(gates, key=lambda g: (g.pvalue_fail, -g.pvalue_pass))
    p_pass = max(g.pvalue_pass for g in gates)
    p_fail = min(1.0, len(gates) * worst.pvalue_fail)
    return worst, p_pass, p_fail


def census_result(
    *, label: str, check: str, data: str, rule: str, ok: bool, estimate: float | None, n: int | None, message: str, method: str
) -> CheckResult:
    """A check that counts the data given and decides exactly."""
    status = "pass" if ok else "fail"
    return CheckResult(
        method=method,
        estimand=rule,
        estimate=estimate,
        n=n,
        label=label,
        status=status,
        check=check,
        rule=rule,
        data=data,
        census=True,
        diagnostics=(Diagnostic(label, _DIAG[status], estimate, message),),
    )


def gate_result(
    gate: Gate, *, label: str, check: str, data: str, rule: Rule, alpha: float, method: str, message: str = "", **extra: Any
) -> CheckResult:
    """An inferential check before the family adjustment (status filled in by :func:`finalise`)."""
    return CheckResult(
        method=method,
        estimand=rule.words(),
        estimate=gate.estimate,
        std_error=gate.std_error,
        ci_low=gate.ci_low,
        ci_high=gate.ci_high,
        conf_level=1 - 2 * alpha,
        pvalue=gate.pvalue_fail,
        pvalue_pass=gate.pvalue_pass,
        n=gate.n,
        label=label,
        check=check,
        rule=rule.words(),
        data=data,
        power=gate.power,
        n_needed=gate.n_needed,
        details={"message": message, **extra},
    )


def inconclusive_result(*, label: str, check: str, data: str, rule: str, n: int | None, n_needed: int | None, message: str) -> CheckResult:
    """A check the data cannot decide at all (too few rows, one class only)."""
    return CheckResult(
        method="not enough data to decide",
        estimand=rule,
        n=n,
        label=label,
        status="inconclusive",
        check=check,
        rule=rule,
        data=data,
        n_needed=n_needed,
        diagnostics=(Diagnostic(label, "warn", n, message),),
    )


def finalise(results: list[CheckResult], alpha: float, correction: str | None, title: str) -> CheckReport:
    """Adjust the alarm p-values of the inferential checks across the family and decide each one."""
    from ..stats import adjust_pvalues

    p = np.array([math.nan if r.census or r.pvalue is None else r.pvalue for r in results], dtype=float)
    method = {"holm": "holm", "bh": "BH", None: "none"}[correction]
    padj = adjust_pvalues(p, method=method) if np.isfinite(p).any() else p
    out = []
    for r, pa in zip(results, padj, strict=True):
        if r.census or r.pvalue is None:
            out.append(r)
            continue
        p_pass = 1.0 if r.pvalue_pass is None else r.pvalue_pass
        g = Gate(r.estimate or 0.0, r.ci_low or 0.0, r.ci_high or 0.0, p_pass, r.pvalue, r.std_error, r.n or 0)
        status = decide(g, float(pa), alpha)
        msg = _gate_message(r, status, float(pa), alpha, correction)
        diag = (Diagnostic(r.label or "", _DIAG[status], float(pa), msg),)
        need = r.n_needed if status == "inconclusive" else None
        out.append(r.replace(status=status, pvalue_adjusted=float(pa), n_needed=need, diagnostics=diag))
    labels = [r.label or r.check for r in out]
    return CheckReport(out, labels=labels, title=title, pvalues_adjusted=[float(x) for x in padj], adjust_method=method)


def _gate_message(r: CheckResult, status: str, padj: float, alpha: float, correction: str | None) -> str:
    level = f"{100 * (1 - alpha):g}%"
    adj = {"holm": "Holm", "bh": "Benjamini-Hochberg", None: "un"}[correction] + "-adjusted"
    base = str(r.details.get("message", ""))
    if status == "pass":
        text = f"the {level} one-sided bound(s) [{_num(r.ci_low or 0)}, {_num(r.ci_high or 0)}] meet the rule ({r.rule})"
    elif status == "fail":
        text = f"the data show the rule is violated ({r.rule}); {adj} p = {padj:.3g} < {alpha:g}"
    else:
        need = f"; about {r.n_needed} rows would decide at the observed effect (80% power)" if r.n_needed else ""
        text = f"the bounds [{_num(r.ci_low or 0)}, {_num(r.ci_high or 0)}] straddle the rule ({r.rule}){need}"
    return f"{text}. {base}".strip()
