"""The logistic propensity of the at-scale IPW: Newton steps, one pass over the rows each (see :mod:`._scale_ipw_passes`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._models import _separation
from ._scale_ipw_passes import IPWRows, dask_pass, sql_pass

__all__ = ["MAX_ITER", "hessian_and_score", "newton", "run_pass", "solve"]

MAX_ITER = 60


def run_pass(passes: Any, rows: IPWRows, beta: np.ndarray, kind: str) -> dict[str, Any]:
    from ..stats._scale_passes import DaskPasses

    if isinstance(passes, DaskPasses):
        return dask_pass(passes, rows, beta, kind)
    return sql_pass(passes, rows, beta, kind)


def hessian_and_score(r: dict[str, Any], k: int) -> tuple[np.ndarray, np.ndarray]:
    H = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            H[i, j] = H[j, i] = r[f"h{i}_{j}"]
    return H, np.array([r[f"g{j}"] for j in range(k)])


def solve(H: np.ndarray, g: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """``H^{-1} g`` by an equilibrated Cholesky factor; a Hessian that is not positive definite means separation."""
    d = np.sqrt(np.abs(np.diag(H)))
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))) or np.any(d == 0):
        _separation(names)
    try:
        L = np.linalg.cholesky(H / np.outer(d, d))
    except np.linalg.LinAlgError:
        _separation(names)
    from scipy.linalg import cho_solve

    out = cho_solve((L, True), g / d) / d
    if not np.all(np.isfinite(out)):
        _separation(names)
    return np.asarray(out)


def newton(passes: Any, rows: IPWRows, beta: np.ndarray, scale: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, bool]:
    """Newton steps, one pass each, until a step (on the standardised scale of each column) is below 1e-7."""
    k = len(beta)
    for _ in range(MAX_ITER):
        r = run_pass(passes, rows, beta, "newton")
        step = solve(*hessian_and_score(r, k), names)
        beta = beta + step
        if float(np.max(np.abs(step * scale))) < 1e-7:  # Newton is quadratic: the remaining error is O(1e-14)
            return beta, True
    return beta, False
