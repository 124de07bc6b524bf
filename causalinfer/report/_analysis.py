"""The causal analysis report: one question, several estimators, their diagnostics, challenges and conclusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._validation import check_int
from ..data import Dataset, as_dataset
from ..exceptions import CausalInferError, RoleError
from ._html import Report

_ASSUMPTIONS = (
    "No unmeasured confounding: given the covariates, treatment is as good as randomly assigned.",
    "Positivity (overlap): every kind of unit had a real chance of being treated and of not being treated.",
    "Consistency and no interference: a unit's outcome depends only on its own treatment, which is well defined.",
    "The nuisance models are adequate: at least one of the propensity and outcome models is correct for the "
    "doubly robust estimate; both the regression and the weighting estimates rely on their own model.",
)


@dataclass(frozen=True)
class AnalysisReport:
    """A finished causal analysis: the report and the results it was built from."""

    report: Report
    dataset: Dataset
    headline: Any
    estimates: Any
    refutations: Any
    sensitivity: tuple[Any, ...]
    identification: Any = None

    def save(self, path: str | Path) -> Path:
        """Write the HTML report to ``path``."""
        return self.report.save(path)

    def headline_text(self) -> str:
        """One sentence stating the headline estimate with its interval."""
        r = self.headline
        level = round(100 * (r.conf_level or 0.95))
        return f"{r.effect} of {r.treatment} on {r.outcome}: {r.estimate:.4g} ({level}% CI {r.ci_low:.4g} to {r.ci_high:.4g}; {r.method})"

    def _repr_html_(self) -> str:
        return self.report.to_html()


def analysis_report(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: Sequence[str] | None = None,
    graph: Any = None,
    methods: Sequence[str] = ("regression", "ipw", "aipw"),
    headline: str = "aipw",
    estimand: str = "ATE",
    categorical: Sequence[str] = (),
    squared: Sequence[str] = (),
    refuters: Sequence[str] = ("placebo", "random_common_cause", "subset"),
    n_simulations: int = 100,
    random_state: int = 0,
    title: str | None = None,
    question: str | None = None,
    progress: bool | None = None,
) -> AnalysisReport:
    """Run a complete causal analysis of a binary treatment and build a shareable HTML report.

    The report has: the question and a data summary; the causal graph and what it identifies (when a graph is
    given); covariate balance (table and love plot) and propensity overlap; estimates from several methods in a
    table and a forest plot; refutation tests with pass/fail in plain words; sensitivity to unmeasured
    confounding (E-value, robustness value); and a conclusion that states the assumptions it rests on.

    Parameters
    ----------
    data : Dataset or DataFrame
        With a DataFrame, give ``outcome``, ``treatment`` and ``covariates``.
    graph : str, networkx.DiGraph or edge list, optional
        A causal graph; its adjustment set is identified with dowhy and shown.
    methods : sequence of str
        Estimators to compare (see :func:`causalinfer.causal.compare`).
    headline : str
        The method whose estimate is the headline, refuted and tested for sensitivity (default: doubly robust).
    categorical, squared : sequence of str
        Covariates to expand into indicators, and covariates that also enter squared.
    refuters : sequence of str
        Refutation tests to run on the headline estimate.
    n_simulations : int
        Simulations per refutation test.
    random_state : int
        Seed for refutations (the report is reproducible for a given seed).

    Returns
    -------
    AnalysisReport
        ``.report`` (save with ``.save(path)``), ``.headline`` (EffectResult), ``.estimates`` (ResultSet),
        ``.refutations`` (ResultSet), ``.sensitivity`` (Results).
    """
    from .. import causal

    n_simulations = check_int(n_simulations, "n_simulations", minimum=1)
    ds = as_dataset(data, outcome=outcome, treatment=treatment, covariates=covariates, graph=graph)
    if ds.outcome is None or ds.treatment is None:
        raise RoleError("an analysis report needs an `outcome` and a `treatment`; give them as arguments or Dataset roles")
    if headline not in methods:
        methods = (*methods, headline)
    options: dict[str, Any] = {"categorical": tuple(categorical), "squared": tuple(squared)}

    identification = None
    if ds.graph is not None:
        identification = causal.identify_effect(ds)
    estimates = causal.compare(ds, methods=list(methods), estimand=estimand, **options)
    head = estimates[headline]
    refutations = head.refute(list(refuters), n_simulations=n_simulations, random_state=random_state, progress=progress)
    sens: list[Any] = [head.sensitivity("e_value")]
    sens_notes: list[str] = []
    if "regression" in estimates.labels and estimand == "ATE":
        try:
            sens.append(estimates["regression"].sensitivity("robustness_value"))
        except CausalInferError as exc:
            sens_notes.append(f"The robustness value could not be computed: {exc}")

    title = title or f"Effect of {ds.treatment} on {ds.outcome}" + (f" ({ds.name})" if ds.name else "")
    rep = Report(title, subtitle=f"{estimand} estimated by {len(estimates)} methods on {ds.n:,} rows")
    _question(rep, ds, question, estimand)
    if identification is not None:
        sec = rep.section("Causal graph and identification")
        sec.text("The analysis assumes the causal graph below; dowhy identified the effect from it.")
        if isinstance(ds.graph, str):
            sec.preformatted(ds.graph)
        sec.result(identification)
    _balance(rep, head)
    _estimates(rep, estimates, head)
    _refutations(rep, refutations)
    _sensitivity(rep, sens, sens_notes)
    _conclusion(rep, head, estimates, refutations, sens)
    return AnalysisReport(
        report=rep,
        dataset=ds,
        headline=head,
        estimates=estimates,
        refutations=refutations,
        sensitivity=tuple(sens),
        identification=identification,
    )


def _question(rep: Report, ds: Dataset, question: str | None, estimand: str) -> None:
    sec = rep.section("Question and data")
    words = {"ATE": "everyone", "ATT": "the treated", "ATC": "the untreated"}[estimand]
    sec.text(question or f"Would setting {ds.treatment} to 1 rather than 0 change {ds.outcome}, and by how much, on average over {words}?")
    counts = ds.frame[ds.treatment].value_counts().sort_index()
    sec.text(
        f"Data: {ds.n:,} rows ({', '.join(f'{ds.treatment} = {k}: {v:,}' for k, v in counts.items())}). "
        f"Adjustment set: {', '.join(ds.covariates) or 'none'}."
    )
    sec.result(ds.describe())


def _balance(rep: Report, head: Any) -> None:
    sec = rep.section("Balance and overlap")
    sec.text(
        "Standardised mean differences (SMD) of each covariate between treated and untreated, before and after "
        "weighting by the propensity score. |SMD| below 0.1 is the usual mark of good balance."
    )
    if "balance" in head.details:
        sec.figure(head.plot(kind="love"), "Love plot: covariate balance before and after adjustment")
        from ..results import TableResult

        sec.result(TableResult(method="Balance table", table=head.details["balance"]))
    if "propensity_histogram" in head.details:
        sec.figure(head.plot(kind="overlap"), "Estimated propensity scores by treatment group")
    if "overlap" in head.details:
        from ..results import TableResult

        sec.result(TableResult(method="Overlap", table=_by_group(head.details["overlap"])))
    for d in head.diagnostics:
        if d.status != "ok":
            sec.callout(f"{d.name}: {d.message}", d.status)


def _by_group(table: Any) -> Any:
    """A table with one row per group and many measures, turned to one row per measure and one column per group.

    The overlap table has two rows and ten columns: as printed it is wider than a page, transposed it is narrow.
    """
    if "group" not in table.columns or len(table) > 4:
        return table
    out = table.set_index("group").T
    out.columns = [str(c) for c in out.columns]
    return out.rename_axis("measure").reset_index()


def _estimates(rep: Report, estimates: Any, head: Any) -> None:
    sec = rep.section("Estimates")
    sec.text("The same effect estimated by methods that rely on different models; agreement is reassuring.")
    sec.result(estimates)
    sec.figure(estimates.plot(), "Estimates with 95% confidence intervals")
    sec.text(f"Headline method: {head.method}. {head.estimand}.")


def _refutations(rep: Report, refutations: Any) -> None:
    sec = rep.section("Refutation tests")
    sec.text(
        "Each test changes the data in a way that should (placebo treatment: remove) or should not (random common "
        "cause, data subset: keep) change a correct estimate, refits every model, and compares."
    )
    items = list(refutations) if hasattr(refutations, "labels") else [refutations]
    for r in items:
        verdict = "passed" if r.passed else "FAILED"
        sec.callout(f"{r.refuter or r.method}: {verdict}. {r.estimand}", "ok" if r.passed else "fail")
    sec.result(refutations)


def _sensitivity(rep: Report, sens: Sequence[Any], notes: Sequence[str] = ()) -> None:
    sec = rep.section("Sensitivity to unmeasured confounding")
    sec.text("How strong would a confounder we did not measure have to be to explain the estimate away?")
    for note in notes:
        sec.callout(note, "warn")
    for s in sens:
        sec.result(s)


def _conclusion(rep: Report, head: Any, estimates: Any, refutations: Any, sens: Sequence[Any]) -> None:
    sec = rep.section("Conclusion")
    level = round(100 * (head.conf_level or 0.95))
    sec.text(
        f"Headline ({head.method}): the {head.effect} of {head.treatment} on {head.outcome} is {head.estimate:.4g}, "
        f"{level}% CI {head.ci_low:.4g} to {head.ci_high:.4g} (p = {head.pvalue:.3g})."
    )
    ests = [r.estimate for r in estimates]
    los = [r.ci_low for r in estimates]
    his = [r.ci_high for r in estimates]
    agree = all(lo <= head.estimate <= hi for lo, hi in zip(los, his, strict=True))
    sec.text(
        f"The {len(ests)} methods give {min(ests):.4g} to {max(ests):.4g}; "
        + (
            "every interval contains the headline estimate."
            if agree
            else "their intervals do not all contain the headline: the models disagree, so read the diagnostics before trusting any single number."
        )
    )
    items = list(refutations) if hasattr(refutations, "labels") else [refutations]
    failed = [r.refuter for r in items if not r.passed]
    sec.callout(
        "All refutation tests passed." if not failed else f"Refutation tests failed: {', '.join(failed)}. Do not rely on the estimate.",
        "ok" if not failed else "fail",
    )
    warns = [d for d in head.diagnostics if d.status != "ok"]
    if warns:
        sec.callout("Diagnostics to read: " + "; ".join(f"{d.name}" for d in warns), "warn")
    if sens:
        e = sens[0]
        sec.text(
            f"An unmeasured confounder would need an association of about {e.estimate:.3g} (risk-ratio scale) with both "
            "treatment and outcome, beyond the measured covariates, to explain the estimate away."
        )
    sec.text("These conclusions rest on assumptions that data cannot fully check:")
    for a in _ASSUMPTIONS:
        sec.text("- " + a)
