"""Shared machinery of the resampling engine: seeds, threads, memory budget, progress and batched index loops.

The causal and predictive modules reuse :func:`bootstrap_indices` and :func:`resample_apply` to refit an
estimator in each bootstrap resample of the rows, with the same seeding, batching, ``n_jobs`` and progress
behaviour as :func:`~causalinfer.stats.bootstrap`.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_array, check_int, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError

#: Default memory budget of one resampling call, in bytes (256 MiB).
DEFAULT_MEMORY_BUDGET = 256 * 2**20
#: Work (resamples x observations) above which the progress bar is shown by default in an interactive session.
PROGRESS_WORK = 2 * 10**8


def resolve_seed(random_state: Any) -> tuple[int, int | None]:
    """The 63-bit seed the kernels use, and the integer seed to record in provenance (None if not an int).

    An integer seed is used as given, so the same integer always gives the same resamples. A Generator
    (or None) supplies a fresh seed drawn from it; that drawn seed is still recorded in the result.
    """
    if isinstance(random_state, bool):
        raise ArgumentTypeError(f"`random_state` must be None, an integer seed or a numpy Generator; got {show(random_state)}")
    if isinstance(random_state, (numbers.Integral, np.integer)):
        seed = int(random_state)
        if seed < 0:
            raise ArgumentError(f"`random_state` must be a non-negative integer seed; got {show(random_state)}")
        return seed % 2**63, seed
    if random_state is None:
        rng = np.random.default_rng()
    elif isinstance(random_state, np.random.Generator):
        rng = random_state
    elif isinstance(random_state, np.random.RandomState):
        rng = np.random.default_rng(random_state.randint(0, 2**31 - 1))
    else:
        raise ArgumentTypeError(f"`random_state` must be None, an integer seed or a numpy Generator; got {show(random_state)}")
    seed = int(rng.integers(0, 2**63 - 1))
    return seed, seed


def check_n_resamples(value: Any, memory_budget: int, per_resample_bytes: int = 8) -> int:
    """``n_resamples`` >= 1 and small enough that the stored distribution fits the memory budget."""
    b = check_int(value, "n_resamples", minimum=1)
    if b * per_resample_bytes > memory_budget:
        raise ArgumentError(
            f"`n_resamples` = {b:,} would need {b * per_resample_bytes / 2**20:.0f} MiB to store the distribution, more than "
            f"`memory_budget` = {memory_budget / 2**20:.0f} MiB; lower n_resamples or raise memory_budget"
        )
    return b


def check_memory_budget(value: Any) -> int:
    if value is None:
        return DEFAULT_MEMORY_BUDGET
    return check_int(value, "memory_budget", minimum=2**20)


def check_n_jobs(value: Any) -> int:
    """Number of threads: None or -1 means every core numba may use; k >= 1 means at most k."""
    import numba

    top = int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))
    if value is None:
        return top
    k = check_int(value, "n_jobs", minimum=-1)
    if k == 0:
        raise ArgumentError(f"`n_jobs` must be a positive integer, or -1 (or None) for all cores; got {show(value)}")
    return top if k == -1 else min(k, top)


def check_progress(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ArgumentTypeError(f"`progress` must be True, False or None (automatic); got {show(value)}")


#: Below this much work (resamples x observations) the kernels run on one thread: waking a second thread
#: costs more than it saves, and much more on a busy machine.
PARALLEL_WORK = 2 * 10**6


@contextmanager
def numba_threads(n_jobs: int, work: float = math.inf) -> Iterator[int]:
    """Run the compiled kernels on ``n_jobs`` threads (one for small ``work``), restoring the previous setting afterwards."""
    import numba

    old = numba.get_num_threads()
    n_jobs = 1 if work < PARALLEL_WORK else n_jobs
    numba.set_num_threads(n_jobs)
    try:
        yield n_jobs
    finally:
        numba.set_num_threads(old)


def _interactive() -> bool:
    if os.environ.get("CI"):
        return False
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """A tqdm bar over resamples: shown when ``progress`` is True, or when None and the run is long and interactive."""

    def __init__(self, total: int, progress: bool | None, work: float, desc: str) -> None:
        show_bar = progress if progress is not None else (work >= PROGRESS_WORK and _interactive())
        self.bar: Any = None
        if show_bar:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="resample", leave=False)

    @property
    def active(self) -> bool:
        return self.bar is not None

    def update(self, k: int) -> None:
        if self.bar is not None:
            self.bar.update(k)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def chunks(self, total: int, minimum: int = 256, multiple: int = 1) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` ranges covering ``range(total)``: one range, or about 50 when the bar is shown.

        Every start is a multiple of ``multiple``.
        """
        step = total if not self.active else max(minimum, math.ceil(total / 50))
        step = max(multiple, step - step % multiple) if step < total else total
        for start in range(0, total, step):
            yield start, min(total, start + step)
            self.update(min(total, start + step) - start)


def batch_size(memory_budget: int, bytes_per_item: float, total: int, workers: int = 1) -> int:
    """How many resamples fit in ``memory_budget`` at once, with ``workers`` batches in flight."""
    per = max(1.0, float(bytes_per_item))
    return int(max(1, min(total, memory_budget // (per * max(1, workers)))))


def stratum_positions(strata: Any, n: int) -> list[np.ndarray]:
    """Row positions of each stratum (in order of first appearance), or one stratum of all rows."""
    if strata is None:
        return [np.arange(n)]
    labels = np.asarray(strata)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ArgumentError(f"`strata` must have one label per row ({n}); got {show(strata)}")
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first)
    out = [np.flatnonzero(inverse == k) for k in order]
    if any(p.size == 0 for p in out):  # pragma: no cover - np.unique never yields empty groups
        raise DataError("`strata` has an empty stratum")
    return out


@vp.validate_params(
    {
        "n": vp.Interval("int", 1),
        "n_resamples": vp.Interval("int", 1),
        "random_state": "random_state",
        "strata": [None, "array-like"],
        "batch": [None, vp.Interval("int", 1)],
        "memory_budget": [None, vp.Interval("int", 2**20)],
        "stream": vp.Interval("int", 0),
    }
)
def bootstrap_indices(
    n: int,
    *,
    n_resamples: int = 9999,
    random_state: Any = None,
    strata: Any = None,
    batch: int | None = None,
    memory_budget: int | None = None,
    stream: int = 0,
) -> Iterator[tuple[int, np.ndarray]]:
    """Bootstrap row indices, in batches: yields ``(first_resample_number, indices)`` with ``indices`` of shape (m, n).

    Each resample draws ``n`` rows with replacement (within each stratum when ``strata`` is given, keeping
    the stratum sizes). Resample ``b`` depends only on the seed, ``stream`` and ``b``: batching changes
    nothing. With ``strata`` the columns are ordered stratum by stratum (strata in order of first appearance).
    """
    from . import _kernels as K

    n = check_int(n, "n", minimum=1)
    budget = check_memory_budget(memory_budget)
    b_total = check_int(n_resamples, "n_resamples", minimum=1)
    seed, _ = resolve_seed(random_state)
    groups = stratum_positions(strata, n)
    m = batch if batch is not None else batch_size(budget, 16 * n, b_total)
    m = check_int(m, "batch", minimum=1)
    for b0 in range(0, b_total, m):
        nb = min(m, b_total - b0)
        parts = []
        for s, pos in enumerate(groups):
            local = np.empty((nb, pos.size), dtype=np.int64)
            K.boot_indices(pos.size, seed, stream + s, b0, local)
            parts.append(pos[local] if strata is not None else local)
        yield b0, parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


@vp.validate_params(
    {
        "func": "callable",
        "n": vp.Interval("int", 1),
        "n_resamples": vp.Interval("int", 1),
        "random_state": "random_state",
        "memory_budget": [None, vp.Interval("int", 2**20)],
        "n_jobs": [None, vp.Interval("int", -1)],
        "progress": [None, "boolean"],
        "strata": [None, "array-like"],
    }
)
def resample_apply(
    func: Callable[[np.ndarray], Any],
    n: int,
    *,
    n_resamples: int = 999,
    random_state: Any = None,
    strata: Any = None,
    n_jobs: int | None = 1,
    progress: bool | None = None,
    memory_budget: int | None = None,
) -> np.ndarray:
    """Call ``func(indices)`` on each of ``n_resamples`` bootstrap resamples of ``n`` rows; stack the results.

    The generic "refit in each resample" loop: ``func`` receives a 1-D integer array of row positions
    (drawn with replacement, within strata if given) and returns a number or a fixed-shape array (for
    example the coefficients of a model refitted on ``data.iloc[indices]``). Calls run on ``n_jobs``
    threads (useful when ``func`` releases the GIL, as numpy, scikit-learn and statsmodels mostly do);
    the output does not depend on ``n_jobs``.

    Returns
    -------
    ndarray of shape (n_resamples, ...)
        Row ``b`` is ``func`` of resample ``b``.
    """
    if not callable(func):
        raise ArgumentTypeError(f"`func` must be a callable taking an array of row indices; got {show(func)}")
    jobs = check_n_jobs(n_jobs)
    prog = check_progress(progress)
    b_total = check_int(n_resamples, "n_resamples", minimum=1)
    bar = Progress(b_total, prog, work=float(b_total) * 10**6, desc="bootstrap refits")
    out: list[Any] = [None] * b_total

    def run(b0: int, idx: np.ndarray) -> None:
        for j in range(idx.shape[0]):
            out[b0 + j] = np.asarray(func(idx[j]))
        bar.update(idx.shape[0])

    batches = bootstrap_indices(
        n, n_resamples=b_total, random_state=random_state, strata=strata, memory_budget=memory_budget, batch=max(1, min(64, b_total))
    )
    try:
        if jobs == 1:
            for b0, idx in batches:
                run(b0, idx)
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                pending: deque[Future[None]] = deque()
                for b0, idx in batches:
                    pending.append(pool.submit(run, b0, idx))
                    while len(pending) >= 2 * jobs:
                        pending.popleft().result()
                while pending:
                    pending.popleft().result()
    finally:
        bar.close()
    shapes = {o.shape for o in out}
    if len(shapes) != 1:
        raise ArgumentError(f"`func` must return the same shape in every resample; got shapes {sorted(shapes)[:4]}")
    return np.stack(out)


def finite_array(values: Any, name: str) -> np.ndarray:
    """A 1-D float sample with no NaN or infinity (errors name the argument)."""
    return check_array(values, name, min_size=0)
