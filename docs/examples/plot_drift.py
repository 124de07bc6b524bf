"""
Drift between training and production data
==========================================

A profile of the training data is compared with a later sample whose ``x1`` has shifted; the monitor flags the
column by an effect size, not by a p-value alone (large samples make every difference significant).
"""

import numpy as np
import pandas as pd

import causalinfer as ci

rng = np.random.default_rng(0)
train = pd.DataFrame({"x1": rng.normal(size=2000), "x2": rng.normal(size=2000)})
later = pd.DataFrame({"x1": rng.normal(0.4, 1.0, size=2000), "x2": rng.normal(size=2000)})
profile = ci.predict.Profile.build(train)
drift = profile.check(later)
print(drift.to_frame())
drift.plot()
