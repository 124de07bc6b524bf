"""Write the example notebooks in notebooks/ from the cell lists below and execute them so outputs are committed.

Run:  python scripts/build_notebooks.py [name ...]

Each notebook is a story on bundled real data. The test suite re-executes every notebook from a clean kernel.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

OUT = Path(__file__).resolve().parents[1] / "notebooks"


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(text.strip())


NOTEBOOKS: dict[str, list[nbformat.NotebookNode]] = {}


def notebook(name: str):
    def register(fn):
        NOTEBOOKS[name] = fn()
        return fn

    return register


def build(name: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = NOTEBOOKS[name]
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(OUT)}}).execute()
    path = OUT / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def main(argv: list[str]) -> None:
    names = argv or list(NOTEBOOKS)
    for name in names:
        print("wrote", build(name))


# ---------------------------------------------------------------------------------------------------------------
@notebook("02_statistical_inference")
def _stats() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
# Statistical inference: did job training raise earnings?

In 1976-77 the National Supported Work Demonstration (NSW) assigned disadvantaged men at random to a
job-training programme or to a control group. Random assignment makes this a clean statistical question: is the
difference in 1978 earnings between the two groups larger than chance would produce, how large is it, and how
sure are we?

Every function below returns a `Result` with the same fields (`estimate`, `ci_low`, `ci_high`, `pvalue`,
`diagnostics`, ...), the same display and the same `to_frame()`.
"""
        ),
        code(
            """
import causalinfer as ci
import matplotlib.pyplot as plt

ds = ci.load_dataset("lalonde")
ds.describe()
"""
        ),
        md(
            """
## 1. Estimates with intervals

Mean 1978 earnings in each group, with t intervals. The earnings are very skewed (many zeros, a few high earners),
so we also look at medians with exact order-statistic intervals.
"""
        ),
        code(
            """
frame = ds.frame
treated = frame.loc[frame.treat == 1, "re78"]
control = frame.loc[frame.treat == 0, "re78"]
estimates = ci.ResultSet(
    [
        ci.stats.mean_ci(treated).replace(label="mean, trained"),
        ci.stats.mean_ci(control).replace(label="mean, control"),
        ci.stats.median_ci(treated).replace(label="median, trained"),
        ci.stats.median_ci(control).replace(label="median, control"),
    ],
    title="1978 earnings (US dollars)",
)
estimates
"""
        ),
        code(
            """
estimates.plot();
"""
        ),
        md(
            """
## 2. The main test: Welch's two-sample t-test

Welch's test does not assume equal variances (the default, as in R). The result carries Cohen's d and Hedges' g
with noncentral-t intervals, and checks of its own assumptions.
"""
        ),
        code(
            """
welch = ci.stats.ttest("re78", data=ds, group="treat", levels=(1, 0))
welch
"""
        ),
        md(
            """
The programme raised mean earnings by about \\$1,794 (the experimental benchmark of LaLonde 1986), with a 95%
interval from roughly \\$470 to \\$3,100. Because earnings are skewed, a rank-based check is worthwhile: the
Mann-Whitney test and its Hodges-Lehmann shift estimate do not rely on normality.
"""
        ),
        code(
            """
ci.stats.mann_whitney("re78", data=ds, group="treat", levels=(1, 0))
"""
        ),
        md(
            """
### Resampling: no normality needed

A BCa bootstrap interval for the difference in *medians*, and a permutation test of the difference in means,
make no distributional assumptions (compiled kernels; 9,999 resamples take a fraction of a second).
"""
        ),
        code(
            """
boot = ci.stats.bootstrap("re78", data=ds, group="treat", levels=(1, 0), statistic="median_diff", random_state=1)
boot.plot();
boot
"""
        ),
        code(
            """
perm = ci.stats.permutation_test("re78", data=ds, group="treat", levels=(1, 0), statistic="mean_diff", random_state=1)
print(f"permutation p-value {perm.pvalue:.4f} (Monte Carlo SE {perm.details['monte_carlo']['mc_std_error'].iloc[0]:.4f}); Welch p-value {welch.pvalue:.4f}")
"""
        ),
        md(
            """
## 3. A binary outcome: how many had no earnings at all?

Differences in proportions use Newcombe's hybrid score interval by default, which keeps close to its nominal
coverage even for small or extreme proportions.
"""
        ),
        code(
            """
zero = frame.assign(no_earnings=(frame.re78 == 0).astype(int))
ci.stats.diff_proportions("no_earnings", data=zero, group="treat", levels=(1, 0))
"""
        ),
        md(
            """
## 4. Was randomisation balanced? A family of tests with multiplicity adjustment

Testing eight covariates at once inflates the chance of a false alarm; `test_family` adjusts the p-values
(Holm by default) and returns a `ResultSet`.
"""
        ),
        code(
            """
covariates = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
balance = ci.stats.test_family(
    {c: ci.stats.ttest(c, data=ds, group="treat", levels=(1, 0)) for c in covariates},
    method="holm",
)
balance.to_frame()[["label", "estimate", "pvalue", "pvalue_adjusted"]]
"""
        ),
        md(
            """
Seven of the eight covariates are balanced. `nodegree` is not, even after the Holm adjustment: the trained men
were less likely to lack a high-school degree (about 71% against 83%). Chance imbalances like this happen in
small experiments; the regression below adjusts for it.

## 5. Regression with robust standard errors

Adjusting for pre-treatment covariates does not change what is estimated in an experiment, but it can sharpen it.
Heteroskedasticity-robust (HC1) standard errors match R's `sandwich::vcovHC(type = "HC1")`.
"""
        ),
        code(
            """
fit = ci.stats.ols("re78 ~ treat + age + educ + black + hisp + marr + nodegree + re74 + re75", data=frame, cov_type="HC1")
fit.to_frame().set_index("term")[["estimate", "std_error", "ci_low", "ci_high", "pvalue"]]
"""
        ),
        md(
            """
## 6. Planning the next study: power

How many men per group would a new trial need to detect a \\$1,000 gain with 80% power, given the observed
standard deviation of earnings?
"""
        ),
        code(
            """
sd = frame["re78"].std()
plan = ci.stats.power_ttest(delta=1000, sd=sd, power=0.8)
print(plan.estimand)
print(f"n per group: {plan.estimate:.1f} -> recruit {plan.details['n_rounded_up']}")
"""
        ),
        md(
            """
## What to conclude

* The programme raised mean 1978 earnings by about \\$1,800 (95% CI roughly \\$470 to \\$3,100); the rank-based
  shift is smaller (the gain is concentrated among the higher earners) but points the same way.
* Randomisation balanced all covariates but one (`nodegree`); adjusting for all of them gives a similar
  estimate (about \\$1,680, 95% CI \\$350 to \\$3,000).
* The median difference (about \\$1,100) has a bootstrap interval that includes zero: the evidence is
  strongest for the mean, which the highest earners pull up.
* Earnings are so variable that a study aiming to detect \\$1,000 needs about 700 men per group: the NSW
  experiment, with 185 and 260, was powered for larger effects.
"""
        ),
        md(
            """
## 7. The same regressions on a Parquet folder, inside the engine

`stats.ols`, `stats.logit`, `stats.poisson` and `stats.glm` also take a Parquet file or folder
(`ci.data.ParquetSource`), a SQL table, a DuckDB relation or a dask DataFrame. The fit is then computed from sums
that DuckDB (or the database, or the dask workers) returns: cross-products, scores and per-cluster score sums,
never the rows. Memory stays flat in the number of rows, so **the same call works on files larger than the
machine's memory** (the benchmarks run it on 100 million rows, 8.7 GiB of Parquet, in under 1 GiB of memory).

A small generated folder stands in for such an export here: purchases in 200 stores, written as three files of
uneven size.
"""
        ),
        code(
            """
import pathlib
import tempfile

import numpy as np
import pandas as pd

folder = pathlib.Path(tempfile.mkdtemp()) / "visits"
folder.mkdir()
rng = np.random.default_rng(7)
store_effect = rng.normal(0, 1, 200)
for i, n in enumerate([20_000, 50_000, 30_000]):
    store, price, promo = rng.integers(0, 200, n), rng.normal(10, 2, n), rng.uniform(size=n) < 0.3
    spend = 5 + 0.8 * price + 2.0 * promo + store_effect[store] + rng.normal(0, 3, n)
    bought = rng.uniform(size=n) < 1 / (1 + np.exp(1 - 0.8 * promo + 0.05 * (price - 10)))
    part = pd.DataFrame({"store": store, "price": price, "promo": promo, "spend": spend, "bought": bought.astype(int)})
    part.to_parquet(folder / f"part-{i}.parquet")
visits = ci.data.ParquetSource(folder)
"""
        ),
        md(
            """
Spending on price and promotion with standard errors clustered by store, and a logistic regression of whether
the visit ended in a purchase. Only the folder's name goes in; DuckDB scans the files.
"""
        ),
        code(
            """
spend = ci.stats.ols("spend ~ price + promo", data=visits, cov_type="cluster", cluster="store")
print(spend.method)
spend.to_frame().set_index("term")[["estimate", "std_error", "ci_low", "ci_high"]]
"""
        ),
        code(
            """
buy = ci.stats.logit("bought ~ price + promo", data=visits, cov_type="cluster", cluster="store")
print(buy.method)
buy.to_frame().set_index("term")[["estimate", "std_error", "ci_low", "ci_high", "pvalue"]]
"""
        ),
        md(
            """
The folder is small enough to load, so the in-memory fit can be compared: the numbers are the same to rounding.
"""
        ),
        code(
            """
rows = pd.read_parquet(folder)
same = ci.stats.logit("bought ~ price + promo", data=rows, cov_type="cluster", cluster="store")
print("largest relative difference, coefficients:", float(np.max(np.abs(buy.coef - same.coef) / np.abs(same.coef))))
print("largest relative difference, std errors:  ", float(np.max(np.abs(buy.terms["std_error"] - same.terms["std_error"]) / same.terms["std_error"])))
"""
        ),
    ]


@notebook("03_causal_effects")
def _causal() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
# Causal effects: does quitting smoking cause weight gain?

The NHANES I Epidemiologic Follow-up Study (NHEFS) measured 1,566 smokers in 1971 and again in 1982. People who
quit smoking in between gained more weight, but quitters also differed from those who kept smoking: they were
older, smoked less, and so on. This notebook follows Part II of Hernan and Robins' *Causal Inference: What If*:
state the causal assumptions as a graph, identify the effect, estimate it several ways, check balance and
overlap, try to refute the estimate, and ask how sensitive it is to confounders we did not measure.
"""
        ),
        code(
            """
import causalinfer as ci
import matplotlib.pyplot as plt

ds = ci.load_dataset("nhefs")
frame = ds.frame
crude = frame.groupby("qsmk")["wt82_71"].mean()
print(f"crude difference in weight gain, quitters minus others: {crude[1] - crude[0]:.2f} kg")
ds.describe()
"""
        ),
        md(
            """
## 1. Assumptions as a graph, and what they identify

We assume the baseline covariates cause both quitting and weight change, and nothing else confounds them.
`identify_effect` asks dowhy which adjustment set the graph implies.
"""
        ),
        code(
            """
confounders = ["sex", "race", "age", "education", "smokeintensity", "smokeyrs", "exercise", "active", "wt71"]
graph = "digraph {" + " ".join(f"{c} -> qsmk; {c} -> wt82_71;" for c in confounders) + " qsmk -> wt82_71; }"
ident = ci.causal.identify_effect(ds, graph=graph)
ident
"""
        ),
        md(
            """
## 2. Several estimators, one question

The What If models treat education, exercise and activity as categories and add squares of the continuous
covariates. Regression adjustment (standardisation), inverse probability weighting and the doubly robust AIPW
estimator rely on different models; if they agree, no single model drives the answer.
"""
        ),
        code(
            """
spec = dict(categorical=["education", "exercise", "active"], squared=["age", "smokeintensity", "smokeyrs", "wt71"])
estimates = ci.causal.compare(ds, methods=["regression", "ipw", "aipw", "stratification"], **spec)
estimates
"""
        ),
        code(
            """
estimates.plot();
"""
        ),
        md(
            """
IP weighting gives 3.4 kg (95% CI 2.5 to 4.4) and standardisation 3.4-3.5 kg, the values in What If chapters 12
and 13. The crude difference (2.5 kg) understated the effect: the confounders hid part of it.

## 3. Balance and overlap

Weighting should make treated and untreated look alike on every covariate (|SMD| < 0.1), and every person should
have had a real chance of either choice.
"""
        ),
        code(
            """
aipw = estimates["aipw"]
fig, axes = plt.subplots(1, 2, figsize=(12, 5))
aipw.plot(kind="love", ax=axes[0])
aipw.plot(kind="overlap", ax=axes[1])
plt.tight_layout()
"""
        ),
        code(
            """
aipw.to_frame("diagnostics")
"""
        ),
        md(
            """
## 4. Try to refute it

Each refutation refits every model on altered data: a placebo treatment (the effect should vanish), an added
random common cause and random subsets (the effect should not move). A correct estimate passes all three.
"""
        ),
        code(
            """
refutations = aipw.refute(["placebo", "random_common_cause", "subset"], n_simulations=100, random_state=1, progress=False)
for r in refutations:
    print(f"{r.refuter:>20}: {'passed' if r.passed else 'FAILED'}  (p = {r.pvalue:.3f})")
refutations
"""
        ),
        md(
            """
## 5. How strong would an unmeasured confounder have to be?

The E-value is the risk-ratio association an unmeasured confounder would need with both quitting and weight
gain to explain the estimate away; the robustness value (Cinelli and Hazlett) is the share of residual
variance it would need to explain.
"""
        ),
        code(
            """
print(aipw.sensitivity("e_value").estimand)
print(f"E-value: {aipw.sensitivity('e_value').estimate:.2f}")
rv = estimates["regression"].sensitivity("robustness_value")
print(f"robustness value: {rv.estimate:.3f}")
"""
        ),
        md(
            """
## 6. The whole analysis as a shareable report

`analysis_report` runs the same steps and writes one self-contained HTML file (this is what
`causalinfer demo` does).
"""
        ),
        code(
            """
import tempfile, pathlib
analysis = ci.report.analysis_report(ds, graph=graph, n_simulations=50, random_state=1, progress=False, **spec)
path = analysis.save(pathlib.Path(tempfile.mkdtemp()) / "nhefs-report.html")
print(analysis.headline_text())
print("report:", path.name, f"({path.stat().st_size // 1024} kB)")
"""
        ),
        md(
            """
## What to conclude

Under the assumption that the nine baseline covariates capture all confounding, quitting smoking caused an
average weight gain of about 3.4 kg (95% CI roughly 2.4 to 4.4) over eleven years. Three estimators agree,
weighting balances every covariate, the estimate survives placebo, random-common-cause and subset refutations,
and an unmeasured confounder would need a risk-ratio association above 2 with both quitting and weight gain
to explain it away.
"""
        ),
    ]


@notebook("01_quickstart")
def _quickstart() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
# causalinfer in five minutes

One `Dataset` (a table plus the roles of its columns) and one family of `Result`s (estimate, interval, test,
diagnostics; the same display and `to_frame()` everywhere) cover three kinds of inference:

* **statistical**: what can we say about the process that produced the data? (`ci.stats`)
* **causal**: would an intervention change the outcome, and by how much? (`ci.causal`)
* **predictive**: what will a model say about new data, how sure is it, and is the data still like the
  training data? (`ci.predict`)
"""
        ),
        code(
            """
import causalinfer as ci
ci.list_datasets()
"""
        ),
        code(
            """
nsw = ci.load_dataset("lalonde")   # the NSW job-training experiment; roles come from its data card
nsw
"""
        ),
        md("## Statistical inference: a Welch t-test on the randomised experiment"),
        code(
            """
t = ci.stats.ttest("re78", data=nsw, group="treat", levels=(1, 0))
t
"""
        ),
        code(
            """
t.to_frame()   # tidy, full precision, fixed column names
"""
        ),
        md("## Causal inference: the effect of quitting smoking on weight gain (observational data)"),
        code(
            """
nhefs = ci.load_dataset("nhefs")
effect = ci.causal.aipw(nhefs, categorical=["education", "exercise", "active"], squared=["age", "smokeintensity", "smokeyrs", "wt71"])
effect
"""
        ),
        code(
            """
effect.refute("placebo", n_simulations=50, random_state=0, progress=False)
"""
        ),
        md("## Predictive inference: a model with honest intervals, and a drift check"),
        code(
            """
from sklearn.ensemble import HistGradientBoostingRegressor

cps = ci.load_dataset("lalonde_cps", frame_only=True)
features = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
train = cps[cps.treat == 0].sample(frac=0.8, random_state=0)
test = cps[cps.treat == 0].drop(train.index)

model = ci.predict.SplitConformalRegressor(HistGradientBoostingRegressor(random_state=0), alpha=0.1, random_state=0)
model.fit(train[features], train["re78"])
intervals = model.predict_frame(test[features])
covered = ((test["re78"].to_numpy() >= intervals["lower"]) & (test["re78"].to_numpy() <= intervals["upper"])).mean()
print(f"90% conformal intervals cover {covered:.1%} of held-out CPS earnings")
"""
        ),
        code(
            """
profile = ci.predict.Profile.build(train[features])
nsw_rows = cps[cps.treat == 1][features]     # the NSW participants are nothing like the CPS sample
drift = profile.check(nsw_rows)
drift
"""
        ),
        md(
            """
The drift check raises alerts: a model trained on the general population should not be trusted for NSW
participants without looking again. Next: the notebooks on statistical inference, causal effects and
predictive inference go deeper into each part.
"""
        ),
    ]


@notebook("04_predictive_inference")
def _predict() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
# Predictive inference: forecasting 1978 earnings, with honest intervals and a drift check

The `lalonde_cps` data stack two very different groups of American men: 15,992 respondents of the Current
Population Survey (CPS) and the 185 disadvantaged men who entered the NSW job-training programme. Suppose an
agency trained a model on the CPS to forecast a man's 1978 earnings from his age, schooling and earlier
earnings, and then used it to score new case files. This notebook follows that model through its working life:

1. train a scikit-learn model and wrap it in a **conformal predictor**, so every forecast comes with a 90%
   prediction interval;
2. **save** it (a skops file with a sidecar that pins its content and its input columns);
3. **score** a CSV of new rows into a SQLite table in chunks, resumably, with the intervals as extra columns and a
   **drift monitor** watching the inputs;
4. **evaluate** the forecasts with confidence intervals, and check the intervals' coverage;
5. point the same model at the NSW men, a population it never saw, and watch the drift check and the coverage.

Every file is written to a temporary folder.
"""
        ),
        code(
            """
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sklearn.ensemble import HistGradientBoostingRegressor

import causalinfer as ci
from causalinfer import predict

work = Path(tempfile.mkdtemp(prefix="predictive-inference-"))
ds = ci.load_dataset("lalonde_cps")
features = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
frame = ds.frame.assign(id=np.arange(len(ds.frame)))
cps = frame[frame["sample"] == "CPS"]
nsw = frame[frame["sample"] == "NSW"]

# CPS men: 70% to fit and calibrate the model, 30% arrive later as new rows to score
rng = np.random.default_rng(2024)
is_new = rng.random(len(cps)) < 0.3
train, new_cps = cps[~is_new], cps[is_new]
print(f"training rows: {len(train):,}   new CPS rows: {len(new_cps):,}   NSW rows: {len(nsw):,}")
"""
        ),
        md(
            """
## 1. A model with prediction intervals

Earnings are skewed and heteroskedastic: men who earned a lot before vary much more afterwards. A gradient-boosted
model gives the point forecast; `SplitConformalRegressor` with the normalised score holds out a quarter of the
training rows to calibrate intervals that widen where the model errs more. If new rows are exchangeable with
the calibration rows, at least 90% of the intervals will contain the true earnings, whatever the model.
"""
        ),
        code(
            """
model = predict.SplitConformalRegressor(
    HistGradientBoostingRegressor(max_iter=100, learning_rate=0.1, random_state=0),
    alpha=0.1,
    conformity_score="normalized",
    random_state=0,
).fit(train[features], train["re78"])
print(f"calibrated on {model.n_calibration_:,} rows; 90% intervals from the {model.quantile():.3f} quantile of the normalised scores")
"""
        ),
        md(
            """
## 2. Save it, with a reference profile beside it

`save_model` writes a skops file (no pickle: loading it cannot run code of the file's choosing) and a JSON sidecar
with its SHA-256, the input columns and dtypes, and the library versions. The gradient-boosting trees are a type
skops does not trust by default, so loading names it in `trusted=`; causalinfer's own conformal predictors need
no such naming.

The `Profile` stores what the training inputs, and the model's predictions on them, looked like, so later data can
be compared with it.
"""
        ),
        code(
            """
model_file = work / "earnings.skops"
info = predict.save_model(model, model_file, training_data=train[features])
TRUSTED = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]

profile = predict.Profile.build(
    train[features].assign(prediction=model.predict(train[features])), prediction="prediction", name="CPS training rows"
)
(work / "profile.json").write_text(profile.to_json())
print(info.estimator, info.sha256[:16], "...", info.schema.names)
profile.describe()
"""
        ),
        md(
            """
## 3. Score new rows into SQLite, in chunks, with intervals and a drift monitor

The new CPS rows arrive as a CSV file. `score` reads it 1,000 rows at a time, checks each chunk against the saved
input schema, writes `prediction`, `lower` and `upper` for every row into a SQLite table (one transaction per
chunk), and feeds every chunk to the drift monitor. Were the job interrupted, running it again would continue
after the last committed chunk; each row lands in the table exactly once.
"""
        ),
        code(
            """
new_cps[["id", *features]].to_csv(work / "new_cps.csv", index=False)
db = predict.SQLDestination(f"sqlite:///{work / 'scores.db'}", "cps_scores")

job = predict.score(
    model_file, work / "new_cps.csv", db,
    chunk_size=1_000, key="id", outputs=("prediction", "interval"),
    trusted=TRUSTED, monitor=profile, progress=False,
)
job
"""
        ),
        code(
            """
again = predict.score(
    model_file, work / "new_cps.csv", db,
    chunk_size=1_000, key="id", outputs=("prediction", "interval"), trusted=TRUSTED, progress=False,
)
print(again.details["status"], "-", again.rows_written, "rows written on the second run")
"""
        ),
        md(
            """
The drift monitor saw nothing unusual: the new CPS rows look like the training rows, feature by feature and in
their predictions. Now the scores are in the database; join them with the 1978 earnings once those are known.
"""
        ),
        code(
            """
scores = pd.read_sql_table("cps_scores", sa.create_engine(db.connection))
scored = scores.merge(frame[["id", "re78"]], on="id")
scored.head()
"""
        ),
        md(
            """
## 4. How good are the forecasts, and do the intervals keep their promise?

`evaluate` gives each metric with a confidence interval (for RMSE and MAE from the per-row losses, for R² by
bootstrap), so the reader can tell a real difference between models from noise. `coverage` counts how many
intervals contain the truth, with a Wilson interval, and compares it with the promised 90%.
"""
        ),
        code(
            """
predict.evaluate(scored["re78"], scored["prediction"], task="regression")
"""
        ),
        code(
            """
cps_coverage = predict.coverage(scored["re78"], scored[["lower", "upper"]].to_numpy(), nominal=0.9)
cps_coverage
"""
        ),
        md(
            """
About 89% of the intervals contain the true earnings, within a point of the promised 90%. The guarantee is an
average over calibration sets: with 2,793 calibration rows, the coverage of one calibrated predictor varies
around 90% with a standard deviation of about 0.6 points (it follows a Beta distribution), so a shortfall of a
point is ordinary. The interval above is about this one predictor on these 4,821 rows.
"""
        ),
        code(
            """
fig, ax = plt.subplots(figsize=(7, 4))
show = scored.sort_values("prediction").iloc[:: max(1, len(scored) // 150)]
inside = (show["re78"] >= show["lower"]) & (show["re78"] <= show["upper"])
ax.vlines(np.arange(len(show)), show["lower"], show["upper"], color="#9ecae1", linewidth=2, label="90% interval")
ax.scatter(np.arange(len(show))[inside], show["re78"][inside], s=12, color="#08306b", zorder=3, label="1978 earnings, inside")
ax.scatter(np.arange(len(show))[~inside], show["re78"][~inside], s=14, color="#cf222e", zorder=3, label="outside")
ax.set_xlabel("new CPS rows, sorted by forecast (one in %d shown)" % max(1, len(scored) // 150))
ax.set_ylabel("US dollars")
ax.legend(loc="upper left", fontsize=8)
ax.set_title("Forecasts with conformal intervals widen where earnings vary more");
"""
        ),
        md(
            """
## 5. The same model on a population it never saw

The NSW men were recruited because they were poor: most earned nothing in 1974 and 1975, few were married, most
had no high-school degree. Score them with the same saved model and the same profile, this time into a Parquet
directory, and the drift monitor raises an alert. It comes back as a `warn` diagnostic naming the columns, and
because the outputs are conformal intervals the diagnostic also says that their coverage is no longer guaranteed.
"""
        ),
        code(
            """
nsw[["id", *features]].to_csv(work / "nsw.csv", index=False)
nsw_job = predict.score(
    model_file, work / "nsw.csv", work / "nsw_scores",
    chunk_size=100, key="id", outputs=("prediction", "interval"),
    trusted=TRUSTED, monitor=profile, progress=False,
)
print([d.message for d in nsw_job.diagnostics if d.name == "drift"][0])
nsw_job.drift
"""
        ),
        code(
            """
nsw_job.drift.plot();
"""
        ),
        md(
            """
Does the shift matter? For these men the outcome is known too, so the coverage can be checked. Below, both
coverage estimates with their 95% intervals against the promised 90%.
"""
        ),
        code(
            """
nsw_scored = pd.read_parquet(work / "nsw_scores").merge(frame[["id", "re78"]], on="id")
nsw_coverage = predict.coverage(nsw_scored["re78"], nsw_scored[["lower", "upper"]].to_numpy(), nominal=0.9)
both = ci.ResultSet(
    [cps_coverage.replace(label="new CPS rows"), nsw_coverage.replace(label="NSW men (shifted)")],
    title="Coverage of the 90% prediction intervals",
)
ax = both.plot()
ax.axvline(0.9, color="#57606a", linestyle="--", linewidth=1)
both.to_frame()[["label", "estimate", "ci_low", "ci_high", "n"]]
"""
        ),
        code(
            """
predict.evaluate(nsw_scored["re78"], nsw_scored["prediction"], task="regression", metrics=["rmse", "mae"])
"""
        ),
        md(
            """
## The same from the command line

A scheduler can run both steps without Python: `causalinfer score` (with `--profile` to check drift while
scoring) and `causalinfer drift`, which exits with code 3 when a column is flagged, so a pipeline can stop or page
someone.

```
causalinfer score earnings.skops nsw.csv sqlite:///scores.db --table nsw --key id \\
    --outputs prediction interval --trust sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor \\
    --profile profile.json
causalinfer drift profile.json nsw.csv --columns age educ re74 re75 || echo "exit $?"
```

## What to conclude

* On new rows from the population it was trained on, the model's 90% conformal intervals cover about 89% of
  the true 1978 earnings, within the variation the theory allows for one calibration set, and the drift
  monitor stays quiet.
* The NSW men differ sharply from the CPS men in their earlier earnings and circumstances; the drift check flags
  it before any outcome is known. There the guarantee no longer holds, and coverage falls to about 77%, far
  outside that variation. Read a drift alert on a scoring job as "the intervals are not to be trusted here", not as a detail.
"""
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------
@notebook("05_experiments")
def _experiments() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
# Experiments: a checkout A/B/C test, end to end

An online shop tests two changes against its current site: a faster checkout (`faster_checkout`) and product
recommendations on the basket page (`recommendations`). Users were randomised one third to each arm. The questions:
does either change raise revenue per user and conversion, do recommendations raise the click-through rate (clicks
per session, a **ratio metric**: the session is not the randomised unit), and does neither slow the site down by
more than 2% (a **guardrail** with a non-inferiority margin)?

The data are simulated with a fixed seed, so the true effects are known: the faster checkout lifts revenue by 3%
and conversion by 6%; recommendations lift click-through by 5% but add 4% to page latency.
"""
        ),
        code(
            """
import numpy as np
import pandas as pd

from causalinfer import experiments

rng = np.random.default_rng(2026)
n = 30_000
arms = np.array(["control", "faster_checkout", "recommendations"])
variant = rng.choice(arms, n)  # planned split: one third each
is_b, is_c = variant == arms[1], variant == arms[2]

spend = rng.lognormal(2.0, 0.9, n)  # each user's typical spend, before and during the test
pre_revenue = spend * rng.gamma(8.0, 1 / 8, n)  # the 4 weeks before the test: the CUPED covariate
revenue = spend * rng.gamma(8.0, 1 / 8, n) * (1 + 0.03 * is_b)
converted = rng.random(n) < 0.08 * (1 + 0.06 * is_b)
sessions = 1 + rng.poisson(4.0, n)
clicks = rng.binomial(sessions, 0.25 * (1 + 0.05 * is_c))
latency_ms = rng.normal(240.0, 35.0, n) * (1 + 0.04 * is_c)  # each user's mean page latency
users = pd.DataFrame(
    {
        "user_id": np.arange(n),  # in order of arrival
        "variant": variant,
        "pre_revenue": pre_revenue.round(2),
        "revenue": revenue.round(2),
        "converted": converted.astype(int),
        "sessions": sessions,
        "clicks": clicks,
        "latency_ms": latency_ms.round(1),
    }
)
users.head()
"""
        ),
        md(
            """
## 1. First, the sample-ratio check

Before any lift is read, the number of users per arm is compared with the planned split. A mismatch means that
assignment, logging or filtering is broken, and then no lift can be trusted, however small its p-value.
`analyze` runs this check first in every analysis; `srm_test` runs it alone.
"""
        ),
        code(
            """
srm = experiments.srm_test(users, variant="variant")
print(srm.details["counts"])
print(srm.diagnostics[0].message)
"""
        ),
        md(
            """
## 2. CUPED: the same lift, a narrower interval

Revenue per user varies a lot between users, and most of that variation was already there before the test.
CUPED (Deng et al. 2013) subtracts the part predicted by each user's pre-period revenue, with one coefficient
pooled across arms, so the lift keeps its meaning and its standard error shrinks.
"""
        ),
        code(
            """
plain = experiments.analyze(users, control="control", metrics=["revenue"])
cuped = experiments.analyze(users, control="control", metrics=["revenue"], covariates="pre_revenue")
labels = list(cuped.labels[1:])
pd.DataFrame(
    {
        "lift, plain": [plain[lab].estimate for lab in labels],
        "s.e., plain": [plain[lab].std_error for lab in labels],
        "lift, CUPED": [cuped[lab].estimate for lab in labels],
        "s.e., CUPED": [cuped[lab].std_error for lab in labels],
        "variance reduction": [cuped[lab].details["variance_reduction"] for lab in labels],
    },
    index=labels,
).round(4)
"""
        ),
        md(
            """
## 3. All metrics at once: proportions, a ratio metric and a guardrail

One call analyses every metric in every arm. Click-through is `sum(clicks) / sum(sessions)` per arm with a
delta-method variance over users (sessions of one user are not independent). Latency is a guardrail: a one-sided
non-inferiority test that the relative increase stays below the 2% margin (`higher_is_better=False`). p-values are
adjusted (Holm) within each role: primary, secondary and guardrail metrics are separate families.
"""
        ),
        code(
            """
metrics = [
    experiments.mean("revenue", covariates="pre_revenue"),
    experiments.proportion("converted"),
    experiments.ratio("clicks", "sessions", name="click-through", role="secondary"),
    experiments.mean("latency_ms", role="guardrail", margin=0.02, higher_is_better=False),
]
res = experiments.analyze(users, control="control", metrics=metrics)
res
"""
        ),
        code(
            """
for label in ("latency_ms: faster_checkout", "latency_ms: recommendations"):
    r = res[label]
    verdict = "non-inferior" if r.pvalue < 0.05 else "NOT shown non-inferior"
    print(f"{label}: upper bound of the increase {r.ci_high:+.2%} vs margin +2%: {verdict} (p = {r.pvalue:.3g})")
"""
        ),
        md(
            """
Recommendations raise click-through, but their latency increase is not shown to stay within 2%: the guardrail
blocks the launch until the page is made faster. The faster checkout passes the guardrail.

## 4. A sequential look

A team that looks at the dashboard every day cannot read fixed-sample p-values: peeking inflates the false-positive
rate. `sequential="mixture"` gives always-valid confidence sequences (a mixture SPRT, as GrowthBook's sequential
engine), valid at every look. Here the first 6,000 arrivals: the always-valid intervals are wider, the price of
being allowed to look any time.
"""
        ),
        code(
            """
early = users[users["user_id"] < 6_000]
fixed = experiments.analyze(early, control="control", metrics=metrics[:2])
seq = experiments.analyze(early, control="control", metrics=metrics[:2], sequential="mixture")
print(seq[1].method)
pd.DataFrame(
    {
        "fixed-sample CI": [f"[{fixed[lab].ci_low:+.3f}, {fixed[lab].ci_high:+.3f}]" for lab in seq.labels[1:]],
        "always-valid CI": [f"[{seq[lab].ci_low:+.3f}, {seq[lab].ci_high:+.3f}]" for lab in seq.labels[1:]],
        "always-valid p": [round(seq[lab].pvalue, 4) for lab in seq.labels[1:]],
    },
    index=list(seq.labels[1:]),
)
"""
        ),
        md(
            """
## 5. The forest plot

Every lift with its interval (relative lifts; guardrail intervals are one-sided); the dashed line marks no lift.
"""
        ),
        code(
            """
ax = res[1:].plot()
ax.axvline(0.0, color="0.45", linewidth=0.9, linestyle="--");  # no lift
"""
        ),
        md(
            """
## 6. What a sample-ratio mismatch looks like

Suppose a logging bug dropped 8% of the users in the recommendations arm. The lifts still come out, but the
analysis now says, first, that they cannot be trusted: every result carries a failing diagnostic and a warning is
issued.
"""
        ),
        code(
            """
import warnings

lost = (users["variant"] == "recommendations") & (rng.random(n) < 0.08)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    broken = experiments.analyze(users[~lost], control="control", metrics=metrics)
print(broken.title)
print(broken[0].diagnostics[0].message)
print(f"{len(caught)} warning(s):", caught[0].message if caught else "")
"""
        ),
        md(
            """
## 7. The report, from Python or the command line

`experiment_report` writes one self-contained HTML file: the sample-ratio verdict first, then the table and the
forest plot.
"""
        ),
        code(
            """
import os
import tempfile

from causalinfer.report import experiment_report

with tempfile.TemporaryDirectory() as folder:
    path = experiment_report(res, os.path.join(folder, "checkout-test.html"), title="Checkout test")
    print(f"{path.name}: {path.stat().st_size:,} bytes")
"""
        ),
        md(
            """
The command `causalinfer experiment` does the same from a CSV or Parquet file (Parquet is analysed inside DuckDB,
so the file need not fit in memory) or a database table, and exits with code 3 when the sample-ratio check fails:

```
causalinfer experiment users.parquet --control control --metric revenue --covariate pre_revenue \\
    --metric converted:proportion --metric clicks/sessions:ratio:secondary \\
    --guardrail latency_ms:0.02:lower -o checkout-test.html
causalinfer experiment --sql-url postgresql+psycopg://host/db --table checkout_users --control control \\
    --metric revenue --guardrail latency_ms:0.02:lower
```

(`--covariate` applies to every mean and proportion metric.)

## 8. The same analysis inside DuckDB, from a Parquet file

When the users table is a Parquet file (or a folder of them) too large for memory, pass it as a `ParquetSource`:
DuckDB scans it and sends back only counts, sums and cross-products per arm, and the results are the same numbers
as from the frame. A `SQLTable` does the same in a database, and a dask DataFrame on a cluster.
"""
        ),
        code(
            """
with tempfile.TemporaryDirectory() as folder:
    parquet = os.path.join(folder, "checkout-users.parquet")
    users.to_parquet(parquet, index=False)
    in_engine = experiments.analyze(experiments.ParquetSource(parquet), control="control", metrics=metrics)
gap = max(abs(in_engine[lab].std_error / res[lab].std_error - 1) + abs(in_engine[lab].estimate - res[lab].estimate) for lab in res.labels[1:])
print(f"{len(in_engine) - 1} comparisons computed inside DuckDB; largest difference from the in-memory analysis: {gap:.1e}")
"""
        ),
        md(
            """
## What to conclude

* The split matches the plan, so the lifts can be read.
* CUPED with pre-period revenue removes about two thirds of the variance of the revenue lift: without it the
  interval would be about 1.7 times wider, and the faster checkout's revenue lift would not be distinguishable
  from zero even before any adjustment for multiple metrics.
* The faster checkout points to higher revenue per user (+2.3%, 95% CI +0.3% to +4.3%) and conversion, and passes
  the latency guardrail; but after Holm's adjustment across the four primary comparisons neither lift is
  significant at 5%. An honest reading: promising, run longer (or name one primary metric in advance).
* Recommendations raise click-through by about 5% (adjusted p < 0.001) but fail the latency guardrail: make the
  page faster before launching them.
* An always-valid analysis lets the team watch the test daily without inflating false positives.
"""
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------
@notebook("06_heterogeneous_effects")
def _heterogeneity() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
# Whom to train? From heterogeneous effects to a targeting policy with its value

The NSW experiment (`lalonde`) randomised job training among 445 men. The average effect on 1978 earnings is
about $1,800; here we ask whether some men gained more than others, whether that heterogeneity is real, and
what a rule that trains only some of them would be worth. Everything is cross-fitted: no man's own earnings are
used to predict his own effect.
"""
        ),
        code(
            """
import warnings
import numpy as np
import matplotlib.pyplot as plt
from sklearn.linear_model import LinearRegression, LogisticRegression
import causalinfer as ci
from causalinfer import designs

warnings.simplefilter("ignore", ci.AssumptionWarning)
ds = ci.load_dataset("lalonde")
df = ds.frame.assign(re78=ds.frame["re78"] / 1000, re74=ds.frame["re74"] / 1000, re75=ds.frame["re75"] / 1000)
X, y, t = df[list(ds.covariates)], df["re78"], df["treat"]
lin, logit = LinearRegression(), LogisticRegression(solver="newton-cholesky")  # nuisance models
print(f"{len(df)} men, {t.mean():.0%} trained; earnings in $1,000")
"""
        ),
        md(
            "## CATE models that score new rows\n\nA DR-learner with a linear final stage gives effects with heteroscedasticity-robust intervals for new units (columns matched by name); a causal forest gives per-unit intervals from the bootstrap of little bags."
        ),
        code(
            """
dr = designs.DRLearner(lin, logit, n_folds=3).fit(X, y, t)
dr.coef_frame
"""
        ),
        code(
            """
cf = designs.CausalForest(200, outcome_model=lin, propensity_model=logit,
                          min_samples_leaf=5, n_folds=3, n_jobs=1).fit(X, y, t)
effects = cf.effect_frame(X)
print(effects.describe().loc[["mean", "std", "min", "max"]].round(2))
designs.plot_cate(effects, title="Causal forest: effect of training on 1978 earnings ($1,000)");
"""
        ),
        md(
            "The same model scores a table with `causalinfer.predict.score(cf, table, outputs=['prediction', 'interval'])`, chunk by chunk, into a file or a database."
        ),
        md(
            "## Is the heterogeneity real?\n\nPredictions made on held-out folds are tested against doubly robust scores: the BLP slope (1 = the predictions track the real effects, 0 = no detectable heterogeneity), sorted group effects (GATES), grf's calibration test and the RATE."
        ),
        code(
            """
het = designs.heterogeneity_test(df, outcome="re78", treatment="treat", covariates=list(ds.covariates), model=designs.DRLearner(lin, logit, n_folds=2),
                                 outcome_model=lin, propensity_model=logit, n_groups=3, n_folds=3, n_boot=100)
het.terms.round(3)
"""
        ),
        code(
            """
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
designs.plot_gates(het, ax=axes[0])
designs.plot_toc(het, ax=axes[1]);
het.details["clan"].round(2)
"""
        ),
        md(
            "## A policy and its value\n\nTrain a man when his predicted effect exceeds a cost (here $1,000 of earnings), or follow a depth-2 policy tree that may train at most half of the men. The value of each rule is estimated with doubly robust scores on folds the rule was not learned from, with its confidence interval and its gain over training everyone or no one."
        ),
        code(
            """
rule = designs.policy_value(df, outcome="re78", treatment="treat", covariates=list(ds.covariates), model=designs.DRLearner(lin, logit, n_folds=2),
                            outcome_model=lin, propensity_model=logit, cost=1.0, n_folds=3)
rule.terms.round(3)
"""
        ),
        code(
            """
tree = designs.policy_tree(df, outcome="re78", treatment="treat", covariates=["age", "educ", "re74", "re75"],
                           outcome_model=lin, propensity_model=logit, cost=1.0, budget=0.5, min_leaf=30, max_splits=8, n_folds=3)
print(tree.details["tree_text"])
designs.plot_policy_tree(tree)
tree.terms.round(3)
"""
        ),
        md(
            """
## What to conclude

* The average effect is about $1,700 (BLP intercept), in line with the experimental $1,794.
* The held-out predictions of the linear DR-learner do not track the real differences between men: the BLP
  slope and the calibration test's differential coefficient are below zero, not near one, and the TOC curve
  and RATE are negative. With 445 men and eight covariates the learner fits noise; the GATES and CLAN tables
  describe its groups, not established differences.
* Accordingly, neither targeting rule beats training everyone: the rule "train if the predicted effect exceeds
  $1,000" and the budgeted policy tree both gain nothing significant over training no one, and lose (within
  their intervals) against training everyone.
* The honest conclusion for this small experiment is to train everyone (or collect more data before targeting).
"""
        ),
    ]


# ---------------------------------------------------------------------------------------------------------------
@notebook("07_serving")
def _serving() -> list[nbformat.NotebookNode]:
    return [
        md(
            """
# Serving a model to live requests

A scoring job answers for a table; the live host answers one end user at a time. `causalinfer serve` loads a model
saved with `save_model` (its hash and types checked), speaks the Open Inference Protocol and a plain JSON endpoint,
checks every record against the model's input contract, and logs every request and its outputs to a database
exactly once. This notebook starts the real server as a separate process, sends it requests with `httpx`, and
reads the logged scores back.
"""
        ),
        code(
            """
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd
import sqlalchemy as sa
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import causalinfer as ci

nsw = ci.load_dataset("lalonde", frame_only=True)
features = ["age", "educ", "re74", "re75"]
model = make_pipeline(StandardScaler(), LogisticRegression()).fit(nsw[features], nsw["treat"])

folder = Path(tempfile.mkdtemp())
ci.predict.save_model(model, folder / "propensity.skops", training_data=nsw[features])
(folder / "profile.json").write_text(ci.predict.Profile.build(nsw[features]).to_json())
sorted(p.name for p in folder.iterdir())
"""
        ),
        md("Start the server on a free port, as a deployment would (`causalinfer serve ...`), and wait until it is ready."),
        code(
            """
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
db = folder / "scores.db"
server = subprocess.Popen(
    [sys.executable, "-m", "causalinfer", "serve", str(folder / "propensity.skops"), "--port", str(port),
     "--profile", str(folder / "profile.json"), "--log", f"sqlite:///{db}"],
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
)
url = f"http://127.0.0.1:{port}"
for _ in range(600):
    try:
        if httpx.get(url + "/v2/health/ready", timeout=2).status_code == 200:
            break
    except httpx.TransportError:
        time.sleep(0.1)
httpx.get(url + "/v2/models/propensity").json()
"""
        ),
        md(
            """
A plain JSON request with two records. `?durable=true` answers only after the request is committed to the log;
the `X-Log-Status` header says so. The predictions equal `model.predict_proba` on the same rows, bit for bit.
"""
        ),
        code(
            """
rows = nsw[features].head(2)
reply = httpx.post(url + "/predict?durable=true", json=rows.to_dict("records"))
body = reply.json()
print(reply.status_code, reply.headers["X-Log-Status"])
pd.DataFrame(body["probabilities"]), model.predict_proba(rows)
"""
        ),
        md("A bad record gets a 422 whose one-line reason names the row, the field and the type expected."),
        code(
            """
bad = httpx.post(url + "/predict", json=[{"age": 30, "educ": "twelve", "re74": 0.0, "re75": 0.0}])
bad.status_code, bad.json()
"""
        ),
        md("Every answered request is in the log, once, with its inputs and outputs."),
        code(
            """
server.terminate()
server.wait(timeout=60)
logged = pd.read_sql("SELECT request_id, row, model_version, input, output FROM scores", sa.create_engine(f"sqlite:///{db}"))
logged
"""
        ),
    ]


if __name__ == "__main__":
    main(sys.argv[1:])
