"""Drift checks of current data against a stored :class:`~causalinfer.predict.Profile`, chunk by chunk."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._validation import check_choice, check_probability, check_real
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, Provenance, TableResult
from ._reference import FeatureProfile, ProfileData, as_frame, category_labels, numeric_values

__all__ = ["DRIFT_COLUMNS", "DriftMonitor", "DriftResult"]

#: Columns of ``DriftResult.to_frame()``.
DRIFT_COLUMNS: tuple[str, ...] = (
    "feature",
    "kind",
    "role",
    "n_reference",
    "n_current",
    "missing_reference",
    "missing_current",
    "test",
    "statistic",
    "df",
    "pvalue",
    "pvalue_adjusted",
    "psi",
    "js_distance",
    "wasserstein",
    "effect",
    "alert",
)

_DEFAULT_THRESHOLDS: dict[str, float] = {"psi": 0.2, "js": 0.1, "wasserstein": 0.1}
_PSI_FLOOR = 1e-4


# ---------------------------------------------------------------------- accumulators
class _NumericCounts:
    """Counts of current values relative to the reference sample and bins; additive across chunks."""

    __slots__ = ("between", "bins", "eq", "n", "n_missing", "prof", "sum_between")

    def __init__(self, prof: FeatureProfile) -> None:
        k = prof.values.size
        self.prof = prof
        self.between = np.zeros(k + 1, dtype=np.int64)
        self.eq = np.zeros(k, dtype=np.int64)
        self.sum_between = np.zeros(k + 1)
        self.bins = np.zeros(prof.bin_edges.size + 1, dtype=np.int64)
        self.n = 0
        self.n_missing = 0

    def add(self, s: pd.Series) -> None:
        arr = numeric_values(s, self.prof.name)
        miss = np.isnan(arr)
        n_miss = int(miss.sum())
        if n_miss:
            arr = arr[~miss]
        self.n += int(miss.size)
        self.n_missing += n_miss
        if arr.size == 0:
            return
        # Sort the chunk once; every count then comes from searching the (small) reference arrays in it.
        arr = np.sort(arr)
        m = arr.size
        ref = self.prof.values
        k = ref.size
        lt = np.searchsorted(arr, ref, side="left")  # current values < r_j
        le = np.searchsorted(arr, ref, side="right")  # current values <= r_j
        starts = np.concatenate([[0], le])
        ends = np.concatenate([lt, [m]])
        between = ends - starts  # strictly between r_{j-1} and r_j (j = 0..k)
        self.eq += le - lt
        self.between += between
        # exact per-segment sums: segments alternate "between j" [starts_j, lt_j) and "equal to r_j" [lt_j, le_j)
        idx = np.empty(2 * k + 1, dtype=np.intp)
        idx[0::2] = starts
        idx[1::2] = lt
        sums = np.add.reduceat(np.append(arr, 0.0), idx)[0::2]
        self.sum_between += np.where(between > 0, sums, 0.0)
        right = np.searchsorted(arr, self.prof.bin_edges, side="right")
        self.bins += np.diff(np.concatenate([[0], right, [m]]))

    def merge(self, other: _NumericCounts) -> None:
        self.between += other.between
        self.eq += other.eq
        self.sum_between += other.sum_between
        self.bins += other.bins
        self.n += other.n
        self.n_missing += other.n_missing


class _CategoricalCounts:
    __slots__ = ("counts", "index", "n", "n_missing", "prof", "unseen")

    def __init__(self, prof: FeatureProfile) -> None:
        self.prof = prof
        self.counts = np.zeros(len(prof.categories), dtype=np.int64)
        self.unseen: dict[str, int] = {}
        self.n = 0
        self.n_missing = 0

    def add(self, s: pd.Series) -> None:
        labels, missing = category_labels(s)
        codes = pd.Index(list(self.prof.categories), dtype=object).get_indexer(pd.Index(labels, dtype=object))
        self.n += int(labels.size)
        self.n_missing += int(missing.sum())
        known = codes >= 0
        self.counts += np.bincount(codes[known], minlength=self.counts.size)
        new = ~known & ~missing
        if new.any():
            vals, cnt = np.unique(labels[new].astype(str), return_counts=True)
            for v, c in zip(vals, cnt, strict=True):
                self.unseen[str(v)] = self.unseen.get(str(v), 0) + int(c)

    def merge(self, other: _CategoricalCounts) -> None:
        self.counts += other.counts
        for k, v in other.unseen.items():
            self.unseen[k] = self.unseen.get(k, 0) + v
        self.n += other.n
        self.n_missing += other.n_missing


# ---------------------------------------------------------------------- statistics
def psi(p_ref: np.ndarray, p_cur: np.ndarray, floor: float = _PSI_FLOOR) -> float:
    """Population stability index :math:`\\sum (c_i - r_i) \\ln(c_i / r_i)` with shares floored at ``floor``."""
    r = np.maximum(p_ref, floor)
    c = np.maximum(p_cur, floor)
    return float(np.sum((c - r) * np.log(c / r)))


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]), as ``scipy.spatial.distance.jensenshannon(p, q, base=2)``."""
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log2(p / m), 0.0)
        b = np.where(q > 0, q * np.log2(q / m), 0.0)
    return float(math.sqrt(max(0.5 * (a.sum() + b.sum()), 0.0)))


def ks_from_counts(acc: _NumericCounts) -> float:
    """Exact two-sample KS statistic between the reference sample and all current values, from counts alone.

    Between consecutive reference values the reference ECDF is flat and the current ECDF increases, so the
    supremum of their difference is reached at a reference value or just before it; both current ECDF values
    there follow from the counts of current values equal to, and strictly between, reference values.
    """
    prof = acc.prof
    m = acc.n - acc.n_missing
    f = np.cumsum(prof.value_counts) / prof.n_sample
    f_before = np.concatenate([[0.0], f[:-1]])
    cb = np.cumsum(acc.between[:-1])
    ce = np.cumsum(acc.eq)
    g = (cb + ce) / m
    g_before = (cb + ce - acc.eq) / m
    return float(max(np.max(np.abs(f - g)), np.max(np.abs(f_before - g_before))))


def wasserstein_from_counts(acc: _NumericCounts) -> float:
    """First Wasserstein distance :math:`\\int |F - G|` between the reference sample and the current values.

    Exact outside the reference range and on every gap between adjacent reference values where the two ECDFs do
    not cross; on a gap where they cross the current ECDF is taken as linear across the gap (error at most
    the gap length times the current mass inside it).
    """
    prof = acc.prof
    r = prof.values
    m = acc.n - acc.n_missing
    k = r.size
    total = (acc.between[0] * r[0] - acc.sum_between[0]) / m + (acc.sum_between[k] - acc.between[k] * r[-1]) / m
    if k < 2:
        return float(total)
    f = (np.cumsum(prof.value_counts) / prof.n_sample)[:-1]
    g_at = (np.cumsum(acc.between[:-1]) + np.cumsum(acc.eq))[:-1] / m
    inner_n = acc.between[1:k]
    inner_s = acc.sum_between[1:k]
    g_end = g_at + inner_n / m
    length = np.diff(r)
    int_g = g_at * length + (inner_n * r[1:] - inner_s) / m
    piece = np.abs(f * length - int_g)
    cross = (f > g_at) & (f < g_end)
    if cross.any():
        gs, ge, ff, ln = g_at[cross], g_end[cross], f[cross], length[cross]
        t = (ff - gs) / (ge - gs)
        piece[cross] = ln * ((ff - gs) * t + (ge - ff) * (1 - t)) / 2
    return float(total + piece.sum())


def ks_pvalue(d: float, n: int, m: int) -> float:
    """Two-sided asymptotic KS p-value, as ``scipy.stats.ks_2samp(..., method='asymp')``."""
    from scipy import stats

    en = n * m / (n + m)
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def chi2_homogeneity(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float, float]:
    """Pearson chi-square test of homogeneity of a 2 x K table (R ``chisq.test(correct = FALSE)``); empty columns dropped."""
    from scipy import stats

    keep = (ref_counts + cur_counts) > 0
    table = np.vstack([ref_counts[keep], cur_counts[keep]]).astype(float)
    if table.shape[1] < 2:
        return 0.0, 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    df = float(table.shape[1] - 1)
    return stat, df, float(stats.chi2.sf(stat, df))


def adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Holm or Benjamini-Hochberg adjusted p-values (NaN entries left NaN), as R's ``p.adjust``."""
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = q.size
    if m == 0 or method == "none":
        out[ok] = q
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:  # "bh"
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


# ---------------------------------------------------------------------- result
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DriftResult(TableResult):
    """Drift of current data against a reference profile: one row per column (:data:`DRIFT_COLUMNS`).

    ``table`` columns: ``feature, kind, role, n_reference, n_current, missing_reference, missing_current`` (shares),
    ``test`` ("KS" or "chi-square"), ``statistic, df, pvalue, pvalue_adjusted``, ``psi``, ``js_distance``
    (base 2), ``wasserstein`` (first Wasserstein distance divided by the reference sd; numeric only),
    ``effect`` (the alert metric) and ``alert``. ``details`` holds the alert rule.
    """

    _kind: ClassVar[str] = "drift"

    @property
    def alerts(self) -> tuple[str, ...]:
        """Columns flagged as drifted."""
        t = self.table
        return tuple(str(f) for f in t.loc[t["alert"].astype(bool), "feature"])

    @property
    def drifted(self) -> bool:
        """True if any column is flagged."""
        return bool(self.table["alert"].astype(bool).any())

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Bar chart of the alert metric per column with the threshold; flagged columns in red. Needs matplotlib."""
        from ..results._plot import get_axes

        t = self.table
        ax = get_axes(ax, figsize=(6.5, 0.6 + 0.35 * max(len(t), 1)))
        y = np.arange(len(t))[::-1]
        eff = t["effect"].to_numpy(dtype=float)
        colors = ["#cf222e" if a else "#0969da" for a in t["alert"].astype(bool)]
        ax.barh(y, np.nan_to_num(eff), color=colors, **kwargs)
        thr = self.details.get("threshold")
        if isinstance(thr, (int, float)) and self.details.get("alert_on") != "pvalue":
            ax.axvline(float(thr), color="#57606a", linestyle="--", linewidth=1)
        ax.set_yticks(y)
        ax.set_yticklabels([str(f) for f in t["feature"]])
        ax.set_xlabel(str(self.details.get("metric", "effect")))
        ax.set_title(self.method)
        return ax


# ---------------------------------------------------------------------- monitor
def _coverage_diagnostics(prof: FeatureProfile, a: Any, m: int, row: dict[str, Any], diags: list[Diagnostic]) -> bool:
    """Missing-share and constant-reference diagnostics; False when the column has no observed current value."""
    if a.n and abs(row["missing_current"] - row["missing_reference"]) > 0.05:
        diags.append(
            Diagnostic(
                f"missing values ({prof.name})",
                "warn",
                row["missing_current"],
                f"missing share moved from {row['missing_reference']:.3g} in the reference to {row['missing_current']:.3g}",
            )
        )
    if m == 0:
        diags.append(
            Diagnostic(
                f"all missing ({prof.name})",
                "fail",
                a.n,
                f"column {prof.name!r} has no observed values in the current data; it is flagged as drifted",
            )
        )
        return False
    if prof.constant:
        diags.append(
            Diagnostic(
                f"constant in reference ({prof.name})",
                "warn",
                None,
                f"column {prof.name!r} took a single value in the reference; any spread now is drift. "
                + ("The normalised Wasserstein distance is undefined (reference sd = 0)." if prof.kind == "numeric" else ""),
            )
        )
    return True


def _numeric_tests(prof: FeatureProfile, a: Any, m: int, row: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """KS test and normalised Wasserstein distance into ``row``; the reference and current bin shares."""
    d = ks_from_counts(a)
    row["statistic"] = d
    row["pvalue"] = ks_pvalue(d, prof.n_sample, m)
    w = wasserstein_from_counts(a)
    row["wasserstein"] = w / prof.sd if prof.sd > 0 else math.nan
    return prof.bin_counts / prof.bin_counts.sum(), a.bins / m


def _categorical_tests(prof: FeatureProfile, a: Any, m: int, row: dict[str, Any], diags: list[Diagnostic]) -> tuple[np.ndarray, np.ndarray]:
    """Chi-square test of homogeneity into ``row`` (unseen categories as their own); the category shares."""
    unseen = dict(sorted(a.unseen.items()))
    ref_c = np.concatenate([prof.category_counts, np.zeros(len(unseen), dtype=np.int64)])
    cur_c = np.concatenate([a.counts, np.asarray(list(unseen.values()), dtype=np.int64)])
    stat, df, p = chi2_homogeneity(ref_c, cur_c)
    row.update(statistic=stat, df=df, pvalue=p)
    if unseen:
        share = sum(unseen.values()) / m
        names = ", ".join(repr(k) for k in list(unseen)[:5]) + (", ..." if len(unseen) > 5 else "")
        diags.append(
            Diagnostic(
                f"unseen categories ({prof.name})",
                "warn",
                share,
                f"{len(unseen)} categor{'y' if len(unseen) == 1 else 'ies'} never seen in the reference ({names}) "
                f"make up {share:.3g} of current values; counted as their own categories in the tests",
            )
        )
    return ref_c / ref_c.sum(), cur_c / cur_c.sum()


class DriftMonitor:
    """Accumulates current data chunk by chunk against a :class:`Profile` and reports drift.

    Parameters
    ----------
    profile : Profile
    metric : {"psi", "js", "wasserstein"}
        Effect size that raises alerts. ``"wasserstein"`` (normalised by the reference sd) applies to numeric
        columns; categorical columns then use PSI with its default threshold (stated in the result).
    threshold : float, optional
        Alert threshold for ``metric``; defaults: PSI 0.2, Jensen-Shannon distance 0.1, normalised Wasserstein 0.1.
    alert_on : {"effect_size", "pvalue", "both"}
        ``"effect_size"`` (default): alert when the effect exceeds the threshold, whatever the sample size;
        ``"pvalue"``: when the adjusted p-value is below ``alpha`` (with millions of rows this flags negligible
        shifts); ``"both"``: effect above threshold and adjusted p-value below ``alpha``.
    alpha : float
        Family-wise (Holm) or false-discovery (BH) level for p-value alerts.
    adjust : {"holm", "bh", "none"}
        Adjustment of the p-values across columns.

    Notes
    -----
    Numeric columns: two-sample Kolmogorov-Smirnov test against the stored reference sample (statistic exact,
    computed from counts so chunks add up; asymptotic p-value as ``scipy.stats.ks_2samp(method='asymp')``);
    normalised Wasserstein :math:`W_1/\\mathrm{sd}_{ref}`; PSI and Jensen-Shannon distance on the reference
    quantile bins. Categorical columns: Pearson chi-square test of homogeneity of the 2 x K table of reference
    and current counts (categories unseen in the reference get their own columns), PSI and Jensen-Shannon
    on the category shares. PSI floors shares at 1e-4. Missing values are excluded from the tests and reported as
    shares; a change of more than 5 percentage points is flagged.

    False alarms: under no drift, PSI on B bins is approximately
    :math:`\\chi^2_{B-1} (1/n_{ref} + 1/n_{cur})`; the result warns when its 99th percentile exceeds the threshold,
    i.e. when current chunks are too small for the effect-size rule to be trusted. With ``alert_on="pvalue"``
    the family-wise false-alarm rate is at most ``alpha`` (Holm).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from causalinfer.predict import Profile
    >>> rng = np.random.default_rng(0)
    >>> prof = Profile.build(pd.DataFrame({"x": rng.normal(size=5000)}))
    >>> mon = prof.monitor()
    >>> for shift in (0.0, 0.0, 1.0):
    ...     _ = mon.update(pd.DataFrame({"x": rng.normal(shift, 1, size=2000)}))
    >>> [r.drifted for r in mon.history]
    [False, False, True]
    >>> mon.timeline()["alert"].tolist()
    [False, False, True]
    """

    def __init__(
        self,
        profile: ProfileData,
        *,
        metric: str = "psi",
        threshold: float | None = None,
        alert_on: str = "effect_size",
        alpha: float = 0.01,
        adjust: str = "holm",
    ) -> None:
        if not isinstance(profile, ProfileData):
            raise ArgumentError(f"`profile` must be a Profile (see Profile.build); got {type(profile).__name__}")
        self.profile = profile
        self.metric = check_choice(metric, "metric", tuple(_DEFAULT_THRESHOLDS))
        self.threshold = _DEFAULT_THRESHOLDS[self.metric] if threshold is None else check_real(threshold, "threshold")
        if self.threshold <= 0:
            raise ArgumentError(f"`threshold` must be positive; got {threshold}")
        self.alert_on = check_choice(alert_on, "alert_on", ("effect_size", "pvalue", "both"))
        self.alpha = check_probability(alpha, "alpha", open_interval=True)
        self.adjust = check_choice(adjust, "adjust", ("holm", "bh", "none"))
        self._total = self._empty()
        self._extra: set[str] = set()
        self.history: list[DriftResult] = []

    def _empty(self) -> dict[str, Any]:
        return {f.name: (_NumericCounts(f) if f.kind == "numeric" else _CategoricalCounts(f)) for f in self.profile}

    def _counts(self, chunk: Any) -> tuple[dict[str, Any], set[str]]:
        frame = as_frame(chunk, name="chunk")
        missing = [c for c in self.profile.columns if c not in frame.columns]
        if missing:
            raise DataError(f"the current data lack column(s) {missing} that the profile holds; add them or build the profile without them")
        acc = self._empty()
        for name, a in acc.items():
            a.add(frame[name])
        return acc, {str(c) for c in frame.columns} - set(self.profile.columns)

    def update(self, chunk: Any, *, keep_history: bool = True) -> DriftMonitor:
        """Add a chunk of current data; its own drift result is appended to :attr:`history` (unless ``keep_history=False``)."""
        acc, extra = self._counts(chunk)
        if keep_history:
            self.history.append(self._result(acc, extra))
        for name, a in acc.items():
            self._total[name].merge(a)
        self._extra |= extra
        return self

    def check(self, chunk: Any) -> DriftResult:
        """Drift of one chunk alone (the chunk is also added to the running total)."""
        self.update(chunk)
        return self.history[-1]

    def result(self) -> DriftResult:
        """Drift of all current data added so far."""
        n = max((a.n for a in self._total.values()), default=0)
        if n == 0:
            raise DataError("no current data yet; call update(chunk) first")
        return self._result(self._total, self._extra)

    def timeline(self) -> pd.DataFrame:
        """One row per chunk in :attr:`history` and column: chunk number, feature, effect, pvalue_adjusted, alert."""
        frames = []
        for i, r in enumerate(self.history):
            t = r.table[["feature", "effect", "pvalue_adjusted", "alert"]].copy()
            t.insert(0, "chunk", i)
            frames.append(t)
        if not frames:
            return pd.DataFrame(columns=["chunk", "feature", "effect", "pvalue_adjusted", "alert"])
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ finalisation
    def _row(self, a: Any, diags: list[Diagnostic]) -> dict[str, Any]:
        """One column's row of the drift table (tests and effect sizes), adding its diagnostics to ``diags``."""
        prof: FeatureProfile = a.prof
        m = a.n - a.n_missing
        row: dict[str, Any] = {
            "feature": prof.name,
            "kind": prof.kind,
            "role": prof.role,
            "n_reference": prof.n,
            "n_current": a.n,
            "missing_reference": prof.n_missing / prof.n,
            "missing_current": a.n_missing / a.n if a.n else math.nan,
        }
        nan_stats = {"test": "KS" if prof.kind == "numeric" else "chi-square", "statistic": math.nan, "df": math.nan, "pvalue": math.nan}
        row.update(nan_stats, psi=math.nan, js_distance=math.nan, wasserstein=math.nan)
        if not _coverage_diagnostics(prof, a, m, row, diags):
            return row
        p_ref, p_cur = _numeric_tests(prof, a, m, row) if prof.kind == "numeric" else _categorical_tests(prof, a, m, row, diags)
        row["psi"] = psi(p_ref, p_cur)
        row["js_distance"] = js_distance(p_ref, p_cur)
        self._sample_size_diagnostic(prof, p_ref.size, m, diags)
        return row

    def _sample_size_diagnostic(self, prof: FeatureProfile, b: int, m: int, diags: list[Diagnostic]) -> None:
        """Warn when PSI over ``m`` current values exceeds the alert threshold by chance alone."""
        expected99 = _psi_null_q99(b, prof.n_observed, m)
        if self.metric == "psi" and self.alert_on != "pvalue" and expected99 > self.threshold:
            diags.append(
                Diagnostic(
                    f"sample size ({prof.name})",
                    "warn",
                    expected99,
                    f"with {m} current values, PSI reaches {expected99:.3g} by chance alone (99th percentile under no drift), "
                    f"above the threshold {self.threshold:g}: effect-size alerts may be false alarms; check larger chunks",
                )
            )

    def _effect(self, row: dict[str, Any]) -> float:
        if self.metric == "wasserstein" and row["kind"] == "categorical":
            return float(row["psi"])
        return float(row[{"psi": "psi", "js": "js_distance", "wasserstein": "wasserstein"}[self.metric]])

    def _threshold_for(self, row: dict[str, Any]) -> float:
        if self.metric == "wasserstein" and row["kind"] == "categorical":
            return _DEFAULT_THRESHOLDS["psi"]
        return self.threshold

    def _evaluate(self, acc: dict[str, Any], diags: list[Diagnostic]) -> list[dict[str, Any]]:
        """Statistics, adjusted p-values and alerts, one dict per column (the rows of the result table)."""
        rows = [self._row(a, diags) for a in acc.values()]
        padj = adjust_pvalues(np.array([r["pvalue"] for r in rows], dtype=float), self.adjust)
        for r, pa in zip(rows, padj, strict=True):
            r["pvalue_adjusted"] = float(pa)
            eff = self._effect(r)
            r["effect"] = eff
            big = bool(np.isfinite(eff) and eff > self._threshold_for(r))
            sig = bool(np.isfinite(pa) and pa < self.alpha)
            all_missing = r["n_current"] > 0 and r["missing_current"] == 1.0
            r["alert"] = all_missing or {"effect_size": big, "pvalue": sig, "both": big and sig}[self.alert_on]
        return rows

    def _result(self, acc: dict[str, Any], extra: set[str]) -> DriftResult:
        diags: list[Diagnostic] = []
        rows = self._evaluate(acc, diags)
        if self.metric == "wasserstein" and any(r["kind"] == "categorical" for r in rows):
            diags.append(
                Diagnostic(
                    "categorical columns",
                    "ok",
                    None,
                    f"categorical columns are judged by PSI > {_DEFAULT_THRESHOLDS['psi']:g} (Wasserstein needs numbers)",
                )
            )
        if extra:
            diags.append(
                Diagnostic(
                    "columns not in profile",
                    "warn",
                    len(extra),
                    f"the current data have column(s) {sorted(extra)[:8]} that the profile never saw; they were not checked",
                )
            )
        table = pd.DataFrame(rows)
        table = table[[c for c in DRIFT_COLUMNS]]
        table["alert"] = table["alert"].astype(bool)
        n_alert = int(table["alert"].sum())
        diags.insert(
            0,
            Diagnostic(
                "drift",
                "fail" if n_alert else "ok",
                n_alert,
                f"{n_alert} of {len(table)} column(s) flagged: {', '.join(map(str, table.loc[table['alert'], 'feature']))}"
                if n_alert
                else "no column flagged",
            ),
        )
        rule = {
            "effect_size": f"{self.metric} > {self.threshold:g}",
            "pvalue": f"{self.adjust}-adjusted p < {self.alpha:g}",
            "both": f"{self.metric} > {self.threshold:g} and {self.adjust}-adjusted p < {self.alpha:g}",
        }[self.alert_on]
        n_cur = max((a.n for a in acc.values()), default=0)
        return DriftResult(
            method="Drift check against a reference profile",
            estimand=f"change in the distribution of {len(table)} column(s); alert when {rule}",
            n=n_cur,
            table=table,
            diagnostics=tuple(diags),
            details={
                "metric": self.metric,
                "threshold": self.threshold,
                "alert_on": self.alert_on,
                "alpha": self.alpha,
                "adjust": self.adjust,
            },
            provenance=Provenance.current(),
        )


def _psi_null_q99(bins: int, n_ref: int, n_cur: int) -> float:
    if bins < 2 or n_ref == 0 or n_cur == 0:
        return 0.0
    return _chi2_q99(bins - 1) * (1 / n_ref + 1 / n_cur)


@functools.lru_cache(maxsize=256)
def _chi2_q99(df: int) -> float:
    from scipy import stats

    return float(stats.chi2.ppf(0.99, df))
