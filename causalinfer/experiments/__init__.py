"""Experiments: analysis of online controlled experiments (A/B tests).

``analyze`` compares every treatment with the control on many metrics (means, proportions, ratio metrics,
quantiles), with absolute and relative lifts, CUPED / regression adjustment, post-stratification, a
sample-ratio-mismatch check on every analysis (``srm_test`` alone), multiplicity adjustment within roles,
non-inferiority tests for guardrails, and always-valid (``sequential="mixture"``) or group-sequential
(``group_sequential``) inference. ``plan`` gives units per arm or the detectable effect.

Every estimator except quantiles and post-stratification reads :class:`Summaries` (counts, sums and
cross-products per variant), so the same numbers come from a pandas frame or from aggregates computed inside a
database engine (:func:`sql_aggregates` writes the query's aggregate list; ``analyze`` accepts the summaries).
``analyze`` runs those queries itself on a :class:`ParquetSource` (a Parquet file, folder or glob, through DuckDB,
an optional dependency: ``pip install "causalinfer[duckdb]"``), a DuckDB relation or a :class:`SQLTable`
(SQLAlchemy: PostgreSQL, SQLite, ...): only one row per variant leaves the engine, so the data need not fit in
memory (post-stratification included; quantile metrics through the order statistics of the band, found inside
the engine with window functions). A dask DataFrame is summarised partition by partition where it lives, and only
the summaries are merged.
"""

from ._analyze import analyze
from ._engine import ParquetSource, SQLTable
from ._groupseq import group_sequential
from ._metrics import ROLES, Metric, mean, proportion, quantile, ratio
from ._planning import plan
from ._srm import srm_test
from ._summary import Summaries, sql_aggregates

__all__ = [
    "ROLES",
    "Metric",
    "ParquetSource",
    "SQLTable",
    "Summaries",
    "analyze",
    "group_sequential",
    "mean",
    "plan",
    "proportion",
    "quantile",
    "ratio",
    "sql_aggregates",
    "srm_test",
]
