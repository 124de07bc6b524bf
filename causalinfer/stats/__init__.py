"""Statistical inference: estimates, confidence intervals and hypothesis tests that agree with R.

Every function takes arrays or ``data=`` plus column names and returns a :class:`~causalinfer.results.Result`.
"""

from ._bootstrap import bootstrap
from ._permutation import permutation_test
from ._resample_core import bootstrap_indices, resample_apply
from ._resampling_results import BootstrapResult, PermutationResult
from ._ttest import ttest

__all__ = ["ttest"]
__all__ += ["BootstrapResult", "PermutationResult", "bootstrap", "bootstrap_indices", "permutation_test", "resample_apply"]
