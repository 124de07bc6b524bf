"""Causal forest (generalised random forest, Athey, Tibshirani & Wager 2019) with per-unit confidence intervals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int, check_probability, check_random_state, show
from ..exceptions import ArgumentError, DataError
from ._cate_models import CLIP, CATEModel, _check_alpha, _normal_quantile
from ._metalearners import _fit, _proba

__all__ = ["CausalForest"]

MAX_BINS = 256


def _default_nuisance(seed: int) -> tuple[Any, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=100, random_state=seed), HistGradientBoostingClassifier(max_iter=100, random_state=seed)


def bin_edges(x: np.ndarray, max_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Split points per column: midpoints between distinct values, or (many values) ``max_bins - 1`` quantiles."""
    p = x.shape[1]
    edges = np.full((p, max_bins - 1), np.inf)
    n_edges = np.zeros(p, dtype=np.int64)
    for j in range(p):
        u = np.unique(x[:, j])
        if u.size <= max_bins:
            e = (u[:-1] + u[1:]) / 2
        else:
            e = np.unique(np.quantile(x[:, j], np.linspace(0, 1, max_bins + 1)[1:-1]))
        edges[j, : e.size] = e
        n_edges[j] = e.size
    return edges, n_edges


class CausalForest(CATEModel):
    """Causal forest: honest trees split on the gradient of the treatment-effect moment, after local centring.

    Parameters
    ----------
    n_estimators : int, default 2000
        Number of trees (rounded up to a multiple of ``ci_group_size``).
    outcome_model, propensity_model : scikit-learn estimators, optional
        Nuisance models for :math:`E[Y|X]` and :math:`P(T=1|X)` (default: histogram gradient boosting), fitted by
        cross-fitting over ``n_folds`` folds; the forest is grown on the residuals :math:`Y - \\hat m(X)` and
        :math:`T - \\hat e(X)` (local centring).
    sample_fraction : float, default 0.5
        Share of units drawn (without replacement) for each tree; at most 0.5 with ``ci_group_size`` > 1.
    honesty_fraction : float, default 0.5
        Share of each tree's sample used to choose the splits; the rest fill the leaves (honesty).
    min_samples_leaf : int, default 5
        Fewest splitting units in a child.
    min_arm : int, default 1
        Fewest treated and fewest control splitting units in a child.
    mtry : int, optional
        Covariates tried per split; default :math:`\\min(\\lceil\\sqrt p + 20\\rceil, p)` as grf.
    imbalance : float, default 0.05
        Each child holds at least this share of its parent's splitting units (grf's ``alpha``).
    ci_group_size : int, default 2
        Trees per half-sample for the bootstrap of little bags.
    max_bins : int, default 256
        Split candidates per covariate: its distinct values or (when it has more) quantile bins.
    n_folds, random_state, alpha
        Cross-fitting folds, seed, and the level ``1 - alpha`` of intervals written by scoring jobs.
    n_jobs : int, optional
        Threads (default: all that numba may use).
    oob : bool, default True
        Keep the training units' out-of-bag estimates, as grf's ``predict()`` without new data: each unit's effect
        and its little-bags variance come only from the half-sample groups that did not draw that unit
        (``oob_effect_``, ``oob_std_error_``). Call ``effect()``, ``effect_interval()`` or ``effect_frame()``
        without ``X`` to get them. Rows passed as ``X`` are always predicted with every tree, as new units (grf's
        ``predict(newdata)``, EconML's ``effect``): a training unit scored that way is predicted partly from its own
        outcome, so its interval is too narrow. ``oob=False`` skips the out-of-bag pass (for forests that only score
        new units).
    Notes
    -----
    The splitting rule is grf's: in a node, with centred :math:`W, Y`, the pseudo-outcome
    :math:`\\rho_i = (W_i-\\bar W)(Y_i - \\bar Y - (W_i-\\bar W)\\hat\\tau_P)/\\widehat{Var}(W)` is computed once, and
    the split maximises :math:`\\sum_{c} (\\sum_{i\\in c}\\rho_i)^2/n_c` over the children. Candidate thresholds are
    the (binned) values of each covariate. The estimate at :math:`x` solves the forest-weighted moment; its
    variance comes from the bootstrap of little bags with grf's debiasing.
    """

    def __init__(
        self,
        n_estimators: int = 2000,
        *,
        outcome_model: Any = None,
        propensity_model: Any = None,
        sample_fraction: float = 0.5,
        honesty_fraction: float = 0.5,
        min_samples_leaf: int = 5,
        min_arm: int = 1,
        mtry: int | None = None,
        imbalance: float = 0.05,
        ci_group_size: int = 2,
        max_bins: int = MAX_BINS,
        n_folds: int = 5,
        random_state: Any = 0,
        alpha: float = 0.05,
        n_jobs: int | None = None,
        oob: bool = True,
    ) -> None:
        self.n_estimators = n_estimators
        self.outcome_model = outcome_model
        self.propensity_model = propensity_model
        self.sample_fraction = sample_fraction
        self.honesty_fraction = honesty_fraction
        self.min_samples_leaf = min_samples_leaf
        self.min_arm = min_arm
        self.mtry = mtry
        self.imbalance = imbalance
        self.ci_group_size = ci_group_size
        self.max_bins = max_bins
        self.n_folds = n_folds
        self.random_state = random_state
        self.alpha = alpha
        self.n_jobs = n_jobs
        self.oob = oob

    # ------------------------------------------------------------------------------------------------ fitting
    def _options(self, n: int, p: int) -> dict[str, Any]:
        ell = check_int(self.ci_group_size, "ci_group_size", minimum=1)
        frac = check_probability(self.sample_fraction, "sample_fraction", open_interval=True)
        if ell > 1 and frac > 0.5:
            raise ArgumentError(
                f"`sample_fraction` must be at most 0.5 when ci_group_size > 1 (each tree is drawn from a half-sample); got {show(frac)}"
            )
        hon = check_probability(self.honesty_fraction, "honesty_fraction", open_interval=True)
        leaf = check_int(self.min_samples_leaf, "min_samples_leaf", minimum=1)
        s = int(frac * n)
        n_split = int(s * hon)
        if n_split < 2 * leaf or s - n_split < leaf:
            raise DataError(
                f"`min_samples_leaf` = {leaf} is too many for honest trees on {n} units: each tree splits {n_split} and "
                f"fills its leaves with {s - n_split}, so a split needs at least {2 * leaf} splitting units. Use more data, a "
                "larger sample_fraction or a smaller min_samples_leaf"
            )
        trees = check_int(self.n_estimators, "n_estimators", minimum=1)
        mtry = min(int(np.ceil(np.sqrt(p) + 20)), p) if self.mtry is None else check_int(self.mtry, "mtry", minimum=1, maximum=p)
        max_bins = check_int(self.max_bins, "max_bins", minimum=2, maximum=MAX_BINS)
        imb = check_probability(self.imbalance, "imbalance")
        if imb >= 0.5:
            raise ArgumentError(f"`imbalance` must be below 0.5 (each child needs that share of its parent); got {show(imb)}")
        arm = check_int(self.min_arm, "min_arm", minimum=0)
        return dict(ell=ell, groups=-(-trees // ell), s=s, n_split=n_split, leaf=leaf, mtry=mtry, max_bins=max_bins, imb=imb, arm=arm)

    def _fit_arrays(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:
        from ..stats._resample_core import check_n_jobs, numba_threads
        from ._forest_core import bin_codes

        n, p = x.shape
        opt = self._options(n, p)
        rng = check_random_state(self.random_state)
        m_hat, e_hat = self._centre(x, y, t)
        self.outcome_fit_, self.propensity_ = m_hat, e_hat
        yr, wr = y - m_hat, t - e_hat
        self.edges_, self.n_edges_ = bin_edges(x, opt["max_bins"])
        n_jobs = check_n_jobs(self.n_jobs)
        for stale in ("oob_effect_", "oob_std_error_", "train_index_"):
            self.__dict__.pop(stale, None)
        with numba_threads(n_jobs):
            codes = bin_codes(x, self.edges_, self.n_edges_)
            member = self._grow(codes, yr, wr, t.astype(np.int64), opt, rng)
            self.n_groups_ = opt["groups"]
            if self.oob:
                est, var = self._oob(codes, member)
                self.oob_effect_, self.oob_std_error_ = est, np.sqrt(var)

    def _oob(self, codes: np.ndarray, packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each training unit predicted by the half-sample groups that did not draw it (in blocks, to bound memory)."""
        n = codes.shape[0]
        est, var = np.empty(n), np.empty(n)
        step = max(1, 50_000_000 // max(1, self.n_groups_))
        for a in range(0, n, step):
            b = min(n, a + step)
            exclude = np.unpackbits(packed[a:b], axis=1, count=self.n_groups_).astype(np.bool_)
            est[a:b], var[a:b] = self._predict_codes(np.ascontiguousarray(codes[a:b]), exclude)
        return est, var

    def _centre(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cross-fitted :math:`\\hat m(X) = E[Y|X]` and :math:`\\hat e(X)` (clipped to [0.01, 0.99])."""
        seed = self._seed()
        dm, dp = _default_nuisance(seed)
        om = dm if self.outcome_model is None else self.outcome_model
        pm = dp if self.propensity_model is None else self.propensity_model
        folds = self._folds(t)
        m, e = np.empty(y.size), np.empty(y.size)
        for k in range(int(folds.max()) + 1):
            te = folds == k
            m[te] = _fit(om, x[~te], y[~te]).predict(x[te])
            e[te] = _proba(_fit(pm, x[~te], t[~te]), x[te])
        self.folds_ = folds
        return m, np.clip(e, *CLIP)

    def _grow(self, codes: np.ndarray, yr: np.ndarray, wr: np.ndarray, treat: np.ndarray, opt: dict[str, Any], rng: Any) -> np.ndarray:
        """Grow the trees; returns which units each group's trees drew from, bit-packed (``n`` x ceil(groups / 8)):
        the group's half-sample, or with ``ci_group_size`` 1 the tree's own subsample."""
        from ._forest_core import N_STATS, grow_batch

        n = codes.shape[0]
        ell, s, n_split = opt["ell"], opt["s"], opt["n_split"]
        n_bins = (self.n_edges_ + 1).astype(np.int64)
        max_nodes = 2 * (n_split // opt["leaf"]) + 1
        per_batch = max(ell, (64 // ell) * ell)
        member = np.zeros((n, -(-opt["groups"] // 8)), np.uint8) if self.oob else np.zeros((0, 0), np.uint8)
        half = np.arange(n)
        feats, thrs, lefts, stats, sizes = [], [], [], [], []
        for first in range(0, opt["groups"] * ell, per_batch):
            nb = min(per_batch, opt["groups"] * ell - first)
            split_idx = np.empty((nb, n_split), np.int64)
            est_idx = np.empty((nb, s - n_split), np.int64)
            for b in range(nb):
                g = (first + b) // ell
                if ell > 1 and b % ell == 0:
                    half = np.sort(rng.choice(n, n // 2, replace=False))
                    if self.oob:
                        member[half, g >> 3] |= np.uint8(128 >> (g & 7))
                sub = rng.choice(half, s, replace=False)
                if ell == 1 and self.oob:
                    member[sub, g >> 3] |= np.uint8(128 >> (g & 7))
                split_idx[b], est_idx[b] = sub[:n_split], sub[n_split:]
            seeds = rng.integers(1, 2**62, size=nb).astype(np.uint64)
            f = np.empty((nb, max_nodes), np.int32)
            th = np.empty((nb, max_nodes), np.uint8)
            lf = np.empty((nb, max_nodes), np.int32)
            st = np.empty((nb, max_nodes, N_STATS))
            sz = np.empty(nb, np.int64)
            grow_batch(
                codes, yr, wr, treat, split_idx, est_idx, n_bins, opt["mtry"], opt["leaf"], opt["arm"], opt["imb"], seeds, f, th, lf, st, sz
            )
            for b in range(nb):
                k = int(sz[b])
                feats.append(f[b, :k].copy())
                thrs.append(th[b, :k].copy())
                lefts.append(lf[b, :k].copy())
                stats.append(st[b, :k].copy())
                sizes.append(k)
        self.offsets_ = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.feature_ = np.concatenate(feats)
        self.threshold_ = np.concatenate(thrs)
        self.left_ = np.concatenate(lefts)
        self.leaf_stats_ = np.concatenate(stats)
        self.group_size_ = ell
        return member

    # ------------------------------------------------------------------------------------------------ prediction
    def _predict_codes(self, codes: np.ndarray, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        from ._forest_core import predict_forest

        n = codes.shape[0]
        est, var = np.empty(n), np.empty(n)
        ex = np.zeros((n, 0), dtype=np.bool_) if exclude is None else exclude
        predict_forest(codes, self.feature_, self.threshold_, self.left_, self.leaf_stats_, self.offsets_, self.group_size_, ex, est, var)
        return est, var

    def _est_var(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimate and variance per row of ``x``, from every tree (rows are treated as new units)."""
        from ..stats._resample_core import check_n_jobs, numba_threads
        from ._forest_core import bin_codes

        with numba_threads(check_n_jobs(self.n_jobs), work=float(x.shape[0]) * self.offsets_.size * 10):
            return self._predict_codes(bin_codes(x, self.edges_, self.n_edges_))

    def _effect_arrays(self, x: np.ndarray) -> np.ndarray:
        return self._est_var(x)[0]

    def _has_intervals(self) -> bool:
        return hasattr(self, "offsets_") and int(self.ci_group_size) > 1

    def _effect_se(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self._has_intervals():
            raise self._no_intervals()
        est, var = self._est_var(x)
        return est, np.sqrt(var)

    def _interval_arrays(self, x: np.ndarray, alpha: float) -> np.ndarray:
        est, se = self._effect_se(x)
        z = _normal_quantile(alpha)
        return np.column_stack([est - z * se, est + z * se])

    def _no_intervals(self) -> ArgumentError:
        return ArgumentError(
            "CausalForest gives intervals only with ci_group_size >= 2 (the bootstrap of little bags); refit with ci_group_size=2"
        )

    def fit(self, X: Any, y: Any, treatment: Any) -> CausalForest:
        """Fit on covariates ``X``, outcome ``y`` and 0/1 ``treatment`` (as every CATE model)."""
        super().fit(X, y, treatment)
        if self.oob:
            self.train_index_ = X.index.copy()
        return self

    def _training(self) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        if not hasattr(self, "oob_effect_"):
            raise ArgumentError("this CausalForest keeps no out-of-bag estimates (fitted with oob=False); pass `X` or refit with oob=True")
        return self.oob_effect_, self.oob_std_error_

    def effect(self, X: Any = None) -> np.ndarray:
        """The CATE of each row of ``X`` (every tree); without ``X``, the training units' out-of-bag estimates."""
        return self._training()[0].copy() if X is None else super().effect(X)

    def effect_interval(self, X: Any = None, alpha: float | None = None) -> np.ndarray:
        """Limits of the ``1 - alpha`` interval of each row's effect; without ``X``, of the training units out of bag."""
        if X is not None:
            return super().effect_interval(X, alpha)
        if not self._has_intervals():
            raise self._no_intervals()
        est, se = self._training()
        z = _normal_quantile(_check_alpha(self.alpha if alpha is None else alpha))
        return np.column_stack([est - z * se, est + z * se])

    def effect_frame(self, X: Any = None, alpha: float | None = None) -> pd.DataFrame:
        """Effect, standard error and interval per row of ``X``; without ``X``, the training units out of bag."""
        if X is not None:
            return super().effect_frame(X, alpha)
        lo, hi = self.effect_interval(None, alpha).T
        est, se = self._training()
        return pd.DataFrame({"effect": est, "std_error": se, "ci_low": lo, "ci_high": hi}, index=self.train_index_)

    def effect_out_of_fold(self, X: Any, y: Any, treatment: Any) -> np.ndarray:
        """Out-of-bag effects of the training rows (each from the trees whose half-sample left the row out)."""
        if not hasattr(self, "oob_effect_"):
            raise ArgumentError("this CausalForest holds no out-of-bag effects; fit it with oob=True")
        return self.oob_effect_
