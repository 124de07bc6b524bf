"""Per-call cost of declared parameter checks: causalinfer's validate_params against scikit-learn's.

Both decorate the same no-op function with equivalent declarations (a sample, an optional second sample, a
confidence level, a string option and a bounded integer) and are called with every argument given. The figure
that matters is the overhead over the undecorated call, in microseconds.

    python benchmarks/bench_validate_params.py [--repeats 7] [--number 20000]

Two runs on a shared 2-core machine (load average about 6), `--repeats 7` and `--repeats 9`:

    undecorated call                          0.30 us      0.50 us
    causalinfer validate_params overhead      2.40 us      4.56 us   (5 arguments)
    causalinfer validate_params overhead      2.71 us      1.31 us   (2 arguments)
    scikit-learn validate_params overhead   152.42 us    185.31 us   (5 arguments)
    ratio causalinfer / scikit-learn = 0.016 and 0.025

The cost is a dictionary look-up and one predicate per argument passed (answers of type-only constraints are
cached per type); defaults are not re-checked on each call (tests/test_declared_params.py checks them once).
"""

from __future__ import annotations

import argparse
import timeit
from numbers import Integral, Real

from causalinfer import _validation as vp


def noop(x, y=None, *, conf_level=0.95, alternative="two-sided", n_resamples=999):
    return x


ours = vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "conf_level": "conf_level",
        "alternative": "alternative",
        "n_resamples": vp.Interval("int", 1),
    }
)(noop)


def _sklearn():
    from sklearn.utils._param_validation import Interval, StrOptions, validate_params

    return validate_params(
        {
            "x": ["array-like", str],
            "y": [None, "array-like", str],
            "conf_level": [Interval(Real, 0, 1, closed="neither")],
            "alternative": [StrOptions({"two-sided", "less", "greater"})],
            "n_resamples": [Interval(Integral, 1, None, closed="left")],
        },
        prefer_skip_nested_validation=True,
    )(noop)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    data = [1.0, 2.0, 3.0]
    theirs = _sklearn()

    def per_call(f, **kw):
        t = min(timeit.repeat(lambda: f(data, data, **kw), number=args.number, repeat=args.repeats))
        return t / args.number * 1e6

    kw = {"conf_level": 0.9, "alternative": "less", "n_resamples": 99}
    base = per_call(noop, **kw)
    a = per_call(ours, **kw) - base
    b = per_call(theirs, **kw) - base
    one = per_call(ours) - per_call(noop)
    print(f"undecorated call                      {base:8.2f} us")
    print(f"causalinfer validate_params overhead  {a:8.2f} us  (5 arguments)")
    print(f"causalinfer validate_params overhead  {one:8.2f} us  (2 arguments)")
    print(f"scikit-learn validate_params overhead {b:8.2f} us  (5 arguments)")
    print(f"ratio causalinfer / scikit-learn = {a / b:.3f}")


if __name__ == "__main__":
    main()
