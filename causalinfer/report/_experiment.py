"""The HTML report of an experiment analysis: the sample-ratio check first, then the results and a forest plot."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError
from ._html import Report, _Block

SRM_LABEL = "sample ratio mismatch"


def _srm(result_set: Any) -> Any:
    if SRM_LABEL not in result_set.labels:
        raise ArgumentError(
            f"`result_set` holds no {SRM_LABEL!r} result (labels {list(result_set.labels)}); pass the ResultSet "
            "returned by causalinfer.experiments.analyze"
        )
    return result_set[SRM_LABEL]


def srm_verdict(result_set: Any) -> tuple[str, str]:
    """``(status, message)`` of the sample-ratio check in an experiment's ResultSet ("ok" or "fail")."""
    srm = _srm(result_set)
    diag = next((d for d in srm.diagnostics if d.name == SRM_LABEL), None)
    if diag is None:
        return "warn", f"the sample-ratio check gave no verdict (p = {srm.pvalue:.4g})"
    return ("ok" if diag.status == "ok" else "fail"), diag.message


def _counts_table(srm: Any) -> str:
    counts = srm.details.get("counts")
    if counts is None:
        return ""
    e = html.escape
    head = "<tr><th>variant</th><th>units observed</th><th>units expected</th><th>planned share</th></tr>"
    rows = []
    for rec in counts.itertuples(index=False):
        rows.append(
            f"<tr><td>{e(str(rec.variant))}</td><td>{rec.observed:,.0f}</td><td>{rec.expected:,.1f}</td>"
            f"<td>{rec.planned_share:.4g}</td></tr>"
        )
    return f'<div class="scroll"><table class="ci-res">{head}{"".join(rows)}</table></div>'


def _adjustment_lines(result_set: Any) -> list[str]:
    lines = []
    for label, res in zip(result_set.labels, result_set, strict=True):
        vr = res.details.get("variance_reduction") if res.details else None
        if vr is None or not isinstance(vr, (int, float)) or not math.isfinite(vr):
            continue
        lines.append(f"{label}: covariate adjustment reduced the variance of the difference by {100 * vr:.1f}%.")
    return lines


def _sequential_lines(result_set: Any) -> list[str]:
    """What the sequential analysis was and at which look, from the results' ``details["sequential"]``."""
    lines = []
    for label in result_set.labels:
        seq = (result_set[label].details or {}).get("sequential")
        if not isinstance(seq, dict):
            continue
        if seq.get("method") == "mixture SPRT confidence sequence":
            lines.append(
                f"{label}: always-valid look at {seq.get('look_n')} units (mixture SPRT confidence sequence, tuning "
                f"{seq.get('tuning'):g} units)."
            )
        else:
            lines.append(f"{label}: group-sequential look {seq.get('look')} (critical value {seq.get('critical_z', float('nan')):.4g}).")
    return lines


def experiment_report(result_set: Any, path: str | Path, *, title: str = "Experiment report", subtitle: str = "") -> Path:
    """Write the analysis of an experiment as one self-contained HTML file and return its path.

    Parameters
    ----------
    result_set : ResultSet
        The answer of :func:`causalinfer.experiments.analyze` (its first result is the sample-ratio check).
    path : str or Path
        The HTML file to write.
    title, subtitle : str
        Heading of the page.

    Notes
    -----
    The sample-ratio verdict comes first and, when the check fails, says that the lifts below cannot be trusted.
    The forest plot is embedded as an inline PNG when matplotlib is installed and left out otherwise.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd
    >>> from causalinfer import experiments
    >>> from causalinfer.report import experiment_report
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"variant": rng.choice(["control", "b"], 2000), "revenue": rng.gamma(2.0, 5.0, 2000)})
    >>> res = experiments.analyze(df, control="control", metrics=["revenue"])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     p = experiment_report(res, os.path.join(folder, "experiment.html"))
    ...     "Sample ratio" in p.read_text(encoding="utf-8")
    True
    """
    if not hasattr(result_set, "labels") or not hasattr(result_set, "_repr_html_"):
        raise ArgumentTypeError(f"`result_set` must be the ResultSet of experiments.analyze; got {show(result_set)}")
    status, message = srm_verdict(result_set)
    srm = _srm(result_set)
    rep = Report(title, subtitle=subtitle or (result_set.title or ""))
    sec = rep.section("Sample ratio check")
    if status == "ok":
        sec.callout(f"Sample ratio check passed: {message}.", "ok")
    else:
        sec.callout(
            f"SAMPLE RATIO MISMATCH: {message}. The assignment did not produce the planned split, so the lifts below "
            "are not trustworthy until the cause (a bug in assignment, logging or filtering) is found.",
            "fail",
        )
    sec.blocks.append(_Block("html", _counts_table(srm)))
    seq_lines = _sequential_lines(result_set)
    if seq_lines:
        seq = rep.section("Sequential inference")
        if "always-valid" in seq_lines[0]:
            seq.text(
                "The intervals and p-values are always valid: they hold at this look and at any other, however often "
                "the experiment is monitored, so the results may be read now without inflating the false-positive rate."
            )
        else:
            seq.text("The intervals are repeated confidence intervals of a group-sequential design at a planned look.")
        for line in seq_lines:
            seq.text(line)
    others = [lab for lab in result_set.labels if lab != SRM_LABEL]
    res = rep.section("Results")
    res.text(
        "One row per metric and treatment against the control; guardrails are one-sided non-inferiority tests with "
        "their stated margin, and the adjusted p-values are corrected within each role."
    )
    res.result(result_set)
    lines = _adjustment_lines(result_set)
    if lines:
        adj = rep.section("Variance reduction")
        for line in lines:
            adj.text(line)
    if others:
        figure_cls: Any
        try:
            from matplotlib.figure import Figure as figure_cls
        except ImportError:
            figure_cls = None
        if figure_cls is not None:  # a Figure without pyplot: no backend is switched, no window opened
            subset = type(result_set)([result_set[lab] for lab in others], labels=others, title=result_set.title)
            fig = figure_cls(figsize=(7, 0.45 * len(others) + 1.2))
            ax = fig.subplots()
            subset.plot(ax=ax)
            ax.axvline(0.0, color="0.45", linewidth=0.9, linestyle="--", zorder=0)  # no lift, on either scale
            rep.section("Forest plot").figure(fig, "Each lift with its interval (one-sided for guardrails); the dashed line marks no lift.")
    return rep.save(path)
