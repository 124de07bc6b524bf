"""
A regression discontinuity
==========================

Lee, Moretti and Butler's close elections: does a Democratic win in the previous election raise the ADA score of
the district's representative? The plot shows the estimate with its 95% interval.
"""

import causalinfer as ci

lmb = ci.load_dataset("close_elections_lmb")
r = ci.designs.rdd(lmb)
print(r.summary())
r.plot()
