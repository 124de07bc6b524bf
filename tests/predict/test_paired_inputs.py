"""Labels and predictions that carry an index are paired by label, never by position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci


def _data(seed=0):
    rng = np.random.default_rng(seed)
    y = pd.Series(rng.integers(0, 2, 200), index=[f"u{i}" for i in range(200)])
    p = pd.Series(np.clip(0.25 + 0.5 * y.to_numpy() + rng.normal(0, 0.2, 200), 0.01, 0.99), index=y.index)
    return y, p


def test_evaluate_aligns_shuffled_series_on_their_labels():
    y, p = _data()
    shuffled = p.sample(frac=1.0, random_state=1)
    a = ci.predict.evaluate(y, p, metrics="auc")
    b = ci.predict.evaluate(y, shuffled, metrics="auc")
    auc = a.to_frame()["estimate"].iloc[0]
    assert b.to_frame()["estimate"].iloc[0] == pytest.approx(auc, rel=1e-12)
    # pairing by position would have given a much worse AUC
    wrong = ci.predict.evaluate(y.to_numpy(), shuffled.to_numpy(), metrics="auc")
    assert wrong.to_frame()["estimate"].iloc[0] < auc - 0.1


def test_series_with_other_labels_are_refused():
    y, p = _data()
    with pytest.raises(ci.DataError, match="y_pred"):
        ci.predict.evaluate(y, p.set_axis([f"v{i}" for i in range(200)]), metrics="auc")
    lo_hi = pd.DataFrame({"lo": p - 0.5, "hi": p + 0.5}).sample(frac=1.0, random_state=2)
    r = ci.predict.coverage(y.astype(float), lo_hi)
    assert r.estimate == pytest.approx(ci.predict.coverage(y.astype(float), lo_hi.loc[y.index]).estimate, rel=1e-12)
