"""Properties of the summary layer: merging chunks and changing the shift never change the moments."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples

from causalinfer.experiments import Summaries

values = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=6, max_size=40).filter(
    lambda rows: all(sum(r[0] == g for r in rows) >= 3 for g in ("a", "b"))
)


def _frame(rows):
    return pd.DataFrame(rows, columns=["v", "y", "x"])


def _same(s1, s2):
    for g in ("a", "b"):
        m1 = s1.moments([s1.index(g)], ["y", "x"])
        m2 = s2.moments([s2.index(g)], ["y", "x"])
        scale = 1e-9 * (1 + np.abs(m1[1]).max()) ** 2
        assert m1[0] == m2[0]
        np.testing.assert_allclose(m1[1], m2[1], rtol=1e-9, atol=1e-9 * (1 + np.abs(m1[1]).max()))
        np.testing.assert_allclose(m1[2], m2[2], rtol=1e-7, atol=scale * 1e3)


@examples(30)
@given(values, st.integers(1, 5))
def test_merge_of_any_split_equals_the_whole(rows, cut):
    f = _frame(rows)
    whole = Summaries.from_frame(f, variant="v", variables=["y", "x"])
    cut = min(cut, len(f) - 1)
    merged = Summaries.from_frame(f.iloc[:cut], variant="v", variables=["y", "x"]) + Summaries.from_frame(
        f.iloc[cut:], variant="v", variables=["y", "x"]
    )
    _same(whole, merged)


@examples(30)
@given(values, st.floats(-1e3, 1e3), st.floats(-1e3, 1e3))
def test_shift_does_not_change_moments(rows, c1, c2):
    f = _frame(rows)
    s = Summaries.from_frame(f, variant="v", variables=["y", "x"])
    _same(s, s.reshift([c1, c2]))
    _same(s, Summaries.from_frame(f, variant="v", variables=["y", "x"], centre=False))
