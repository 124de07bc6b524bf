"""statsmodels' cluster-robust OLS (use_t, G - 1 df) on the data of edge_cases.json's "cluster" case.

statsmodels' ``get_robustcov_results(cov_type="cluster", use_correction=True, df_correction=True)`` uses the CR1
covariance of ``sandwich::vcovCL(type = "HC1")`` and t tests on G - 1 df, the convention that
``ols(..., cluster_df="G-1")`` follows. Run from the repository root (statsmodels installed):
    python tests/reference/cluster_df_statsmodels.py
"""

import json
from pathlib import Path

import numpy as np
import statsmodels
import statsmodels.api as sm

HERE = Path(__file__).parent
case = json.loads((HERE / "edge_cases.json").read_text(encoding="utf-8"))["cluster"]
X = sm.add_constant(np.column_stack([case["x1"], case["x2"]]))
fit = sm.OLS(np.asarray(case["y"]), X).fit(cov_type="cluster", cov_kwds={"groups": np.asarray(case["cluster"])}, use_t=True)
ci = fit.conf_int()
wald = fit.f_test(np.eye(3)[1:])
out = {
    "statsmodels_version": statsmodels.__version__,
    "df_resid_inference": float(fit.df_resid_inference),
    "std_error": fit.bse.tolist(),
    "pvalue": fit.pvalues.tolist(),
    "ci_low": ci[:, 0].tolist(),
    "ci_high": ci[:, 1].tolist(),
    "wald_f": float(np.squeeze(wald.fvalue)),
    "wald_df_denom": float(wald.df_denom),
    "wald_pvalue": float(wald.pvalue),
}
(HERE / "cluster_df_statsmodels.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
