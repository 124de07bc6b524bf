"""Regression tables: several fitted models side by side, in the spirit of R's ``modelsummary``."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_int, show
from ..exceptions import ArgumentError, ArgumentTypeError
from ..results import Provenance, Result, TableResult

__all__ = ["RegressionTable", "regression_table"]

TABLE_COLUMNS = ("model", "term", "estimate", "std_error", "ci_low", "ci_high", "conf_level", "statistic", "df", "pvalue")
SECONDARY = ("std_error", "ci", "statistic", "pvalue", None)
DEFAULT_STARS: dict[str, float] = {"*": 0.05, "**": 0.01, "***": 0.001}
#: Fit statistics known to the table, in display order, with their row labels (modelsummary's names).
FIT_LABELS: dict[str, str] = {
    "n": "Num.Obs.",
    "tau": "Quantile (tau)",
    "r_squared": "R2",
    "adj_r_squared": "R2 Adj.",
    "pseudo_r_squared": "R2 Pseudo",
    "aic": "AIC",
    "bic": "BIC",
    "loglik": "Log.Lik.",
    "deviance": "Deviance",
    "sigma": "RMSE (sigma)",
    "objective": "Check loss",
    "n_clusters": "Clusters",
    "n_groups": "Groups",
    "cov_type": "Std. errors",
}
_DEFAULT_FIT = ("n", "n_groups", "tau", "r_squared", "adj_r_squared", "aic", "bic", "loglik", "cov_type")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class RegressionTable(TableResult):
    """Several regressions side by side.

    ``table`` / ``to_frame()`` is tidy and numeric (one row per model and term, columns
    :data:`TABLE_COLUMNS`); ``details["fit"]`` holds the fit statistics (one row per statistic, one column per
    model). The display (``str``, notebook HTML, :meth:`to_latex`, :meth:`to_markdown`, :meth:`formatted`) is
    the classic layout: one column per model, the estimate above its standard error (or interval) in brackets.
    """

    # ------------------------------------------------------------------ layout
    @property
    def models(self) -> list[str]:
        return list(self.details["options"]["models"])

    def formatted(self) -> pd.DataFrame:
        """The displayed table as strings: index = row labels, one column per model (blank where a term is absent)."""
        opts = self.details["options"]
        digits, secondary, stars = opts["digits"], opts["secondary"], opts["stars"]
        models = self.models
        tab = self.table
        rows: list[tuple[str, list[str]]] = []
        for term, label in opts["terms"]:
            top, bottom = [], []
            for m in models:
                hit = tab[(tab["model"] == m) & (tab["term"] == term)]
                if hit.empty:
                    top.append("")
                    bottom.append("")
                    continue
                r = hit.iloc[0]
                top.append(_num(r["estimate"], digits) + _stars(r["pvalue"], stars))
                bottom.append(_secondary(r, secondary, digits))
            rows.append((label, top))
            if secondary is not None:
                rows.append(("", bottom))
        fit = self.details["fit"]
        fit_rows = []
        for stat in fit.index:
            cells = []
            for m in models:
                v = fit.loc[stat, m]
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    cells.append("")
                elif stat in ("n", "n_clusters", "n_groups"):
                    cells.append(str(int(v)))
                elif isinstance(v, str):
                    cells.append(v)
                else:
                    cells.append(_num(float(v), digits))
            fit_rows.append((FIT_LABELS.get(stat, stat), cells))
        index = [lab for lab, _ in rows] + [lab for lab, _ in fit_rows]
        data = [cells for _, cells in rows] + [cells for _, cells in fit_rows]
        out = pd.DataFrame(data, columns=models)
        out.index = pd.Index(index, name="")
        out.attrs["n_coef_rows"] = len(rows)
        return out

    def _notes(self) -> list[str]:
        opts = self.details["options"]
        notes = []
        sec = opts["secondary"]
        if sec == "std_error":
            notes.append("Standard errors in parentheses.")
        elif sec == "ci":
            notes.append(f"{_pct(opts['conf_level'])} confidence intervals in brackets.")
        elif sec == "statistic":
            notes.append("Test statistics in parentheses.")
        elif sec == "pvalue":
            notes.append("p-values in parentheses.")
        if opts["stars"]:
            notes.append(", ".join(f"{s} p < {t:g}" for s, t in sorted(opts["stars"].items(), key=lambda kv: -kv[1])))
        return notes

    def summary(self) -> str:
        from ..results._format import text_table

        f = self.formatted()
        k = f.attrs["n_coef_rows"]
        header = ["", *f.columns]
        body = [[lab, *vals] for lab, vals in zip(f.index, f.to_numpy().tolist(), strict=True)]
        table = text_table(header, body, left=(0,)).splitlines()
        if 0 < k < len(body):
            table.insert(2 + k, table[1])  # the header rule again between coefficients and fit statistics
        lines = [self.method, "=" * max(20, min(78, len(self.method))), *table]
        lines += ["  " + n for n in self._notes()]
        return "\n".join(lines).rstrip() + "\n"

    def to_text(self) -> str:
        """The table as plain text (same as ``str(table)``)."""
        return self.summary()

    def to_html(self) -> str:
        """The table as a self-contained HTML fragment (same as the notebook display)."""
        return self._repr_html_()

    def _repr_html_(self) -> str:
        from ..results._format import _CSS

        e = html.escape
        f = self.formatted()
        k = f.attrs["n_coef_rows"]
        head = "<th></th>" + "".join(f"<th>{e(str(c))}</th>" for c in f.columns)
        body = []
        for i, (lab, vals) in enumerate(zip(f.index, f.to_numpy().tolist(), strict=True)):
            style = ' style="border-top:1px solid #888"' if i == k and i > 0 else ""
            cells = "".join(f"<td{style}>{e(v)}</td>" for v in vals)
            body.append(f'<tr><td class="l"{style}>{e(lab)}</td>{cells}</tr>')
        notes = "".join(f"<p class='ci-sub'>{e(n)}</p>" for n in self._notes())
        return (
            f'{_CSS}<div class="ci-res"><h4>{e(self.method)}</h4>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}</div>"
        )

    @vp.validate_params({"caption": [None, "string"], "label": [None, "string"]})
    def to_latex(self, *, caption: str | None = None, label: str | None = None) -> str:
        """The table as a LaTeX ``table`` with a ``booktabs`` tabular (needs ``\\usepackage{booktabs}``)."""
        f = self.formatted()
        k = f.attrs["n_coef_rows"]
        cols = "l" + "c" * f.shape[1]
        out = ["\\begin{table}[htbp]", "\\centering"]
        if caption:
            out.append(f"\\caption{{{_tex(caption)}}}")
        if label:
            out.append(f"\\label{{{label}}}")
        out += [f"\\begin{{tabular}}{{{cols}}}", "\\toprule", " & ".join(["", *(_tex(str(c)) for c in f.columns)]) + " \\\\", "\\midrule"]
        for i, (lab, vals) in enumerate(zip(f.index, f.to_numpy().tolist(), strict=True)):
            if i == k and i > 0:
                out.append("\\midrule")
            out.append(" & ".join([_tex(lab), *(_tex(v) for v in vals)]) + " \\\\")
        out += ["\\bottomrule", "\\end{tabular}"]
        notes = self._notes()
        if notes:
            out.append(f"\\par\\smallskip{{\\footnotesize {_tex(' '.join(notes))}}}")
        out.append("\\end{table}")
        return "\n".join(out) + "\n"

    def to_markdown(self) -> str:
        """The table as a GitHub-flavoured Markdown table."""
        f = self.formatted()
        header = "| " + " | ".join(["", *map(str, f.columns)]) + " |"
        rule = "|" + "|".join([":---", *([":---:"] * f.shape[1])]) + "|"
        body = ["| " + " | ".join([lab, *vals]) + " |" for lab, vals in zip(f.index, f.to_numpy().tolist(), strict=True)]
        notes = self._notes()
        return "\n".join([header, rule, *body]) + ("\n\n" + " ".join(notes) if notes else "") + "\n"

    def __repr__(self) -> str:
        return f"RegressionTable(models={self.models}, terms={len(self.details['options']['terms'])})"

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Coefficient plot: every model's estimates with intervals, one row per model and term."""
        from ..results._plot import forest_plot

        frame = self.table.assign(term=[f"{m}: {t}" for m, t in zip(self.table["model"], self.table["term"], strict=True)])
        return forest_plot(frame, ax=ax, title=self.method, null_value=0.0, **kwargs)


def _pct(level: Any) -> str:
    return f"{100 * float(level):g}%" if level is not None else ""


def _num(x: Any, digits: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    v = float(x)
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    out = f"{v:.{digits}f}"
    return "0." + "0" * digits if out.startswith("-") and float(out) == 0 else out


def _stars(p: Any, stars: Mapping[str, float]) -> str:
    if not stars or p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    best = ""
    for sym, cut in sorted(stars.items(), key=lambda kv: -kv[1]):
        if p < cut:
            best = sym
    return best


def _secondary(r: pd.Series, secondary: str | None, digits: int) -> str:
    if secondary is None:
        return ""
    if secondary == "ci":
        if pd.isna(r["ci_low"]):
            return ""
        return f"[{_num(r['ci_low'], digits)}, {_num(r['ci_high'], digits)}]"
    v = r[secondary]
    return "" if pd.isna(v) else f"({_num(v, digits)})"


_TEX = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "{": "\\{",
    "}": "\\}",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
}


def _tex(text: str) -> str:
    out = "".join(_TEX.get(ch, ch) for ch in str(text))
    return out.replace("*", "$^{*}$").replace("$^{*}$$^{*}$", "$^{**}$").replace("$^{**}$$^{*}$", "$^{***}$")


def _collect(results: tuple[Any, ...], labels: Sequence[str] | None) -> tuple[list[Result], list[str]]:
    if len(results) == 1 and isinstance(results[0], Mapping):
        named = dict(results[0])
        if labels is not None:
            raise ArgumentError("give model names either as the keys of a dict or as `labels`, not both")
        items, names = list(named.values()), [str(k) for k in named]
    else:
        one = results[0] if len(results) == 1 else None
        items = list(one) if isinstance(one, Sequence) and not isinstance(one, (str, Result)) else list(results)
        if labels is None and one is not None and hasattr(one, "labels"):  # a ResultSet: keep its labels
            labels = list(one.labels)
        names = [f"({i + 1})" for i in range(len(items))] if labels is None else [str(s) for s in labels]
    if not items:
        raise ArgumentError("`regression_table` needs at least one fitted model")
    for i, r in enumerate(items):
        if not isinstance(r, Result) or r.terms is None:
            raise ArgumentTypeError(
                f"model {i + 1} must be a fitted regression (a result with one row per coefficient, e.g. from ols, logit or quantreg); got {show(r)}"
            )
    if len(names) != len(items):
        raise ArgumentError(f"`labels` must name each of the {len(items)} models; got {len(names)}: {show(list(names))}")
    if len(set(names)) != len(names):
        raise ArgumentError(f"model labels must be unique; got {names}")
    return items, names


@vp.validate_params(
    {
        "results": vp.AnyOf(
            vp.InstanceOf("causalinfer.results:Result"),
            vp.InstanceOf("causalinfer.results:ResultSet"),
            vp.InstanceOf(Mapping),
            vp.SequenceOf(vp.InstanceOf("causalinfer.results:Result")),
            what="a fitted regression result, or a list, dict or QuantileProcess of them",
        ),
        "labels": [None, vp.SequenceOf("string")],
        "statistic": [None, vp.Options(("std_error", "ci", "statistic", "pvalue"))],
        "stars": ["boolean", "mapping", None],
        "digits": vp.Interval("int", 0, 12),
        "terms": [None, vp.SequenceOf("string"), "mapping"],
        "fit_stats": [None, vp.SequenceOf("string")],
        "title": "string",
    }
)
def regression_table(
    *results: Any,
    labels: Sequence[str] | None = None,
    statistic: str | None = "std_error",
    stars: bool | Mapping[str, float] = False,
    digits: int = 3,
    terms: Sequence[str] | Mapping[str, str] | None = None,
    fit_stats: Sequence[str] | None = None,
    title: str = "Regression results",
) -> RegressionTable:
    """Several regression results side by side, as R's ``modelsummary``: coefficients with errors, stars, fit.

    Parameters
    ----------
    *results : RegressionResult (or any result with coefficient rows), or one list / dict of them
        Fitted models (``ols``, ``logit``, ``poisson``, ``quantreg``, ...). A dict gives model names as its keys;
        a :class:`QuantileProcess` may be passed as a list (one column per quantile).
    labels : sequence of str, optional
        Column names for the models (default ``(1)``, ``(2)``, ...).
    statistic : {"std_error", "ci", "statistic", "pvalue", None}
        What appears under each estimate: standard error ``( )`` (default), confidence interval ``[ , ]``
        (at each model's level), test statistic or p-value ``( )``, or nothing.
    stars : bool or mapping
        Significance stars after the estimate: True for ``* p < 0.05, ** p < 0.01, *** p < 0.001``, or a mapping
        such as ``{"+": 0.1, "*": 0.05}``. Off by default (as modelsummary).
    digits : int
        Decimal places shown (the numbers in ``to_frame()`` are never rounded).
    terms : sequence of str or mapping, optional
        Coefficients to show, in this order (a mapping also renames them: ``{"x1": "Dose"}``). Default: every
        coefficient, in order of first appearance.
    fit_stats : sequence of str, optional
        Rows of fit statistics, from the keys of each model's ``details["fit"]``: ``n, tau, r_squared,
        adj_r_squared, aic, bic, loglik, deviance, sigma, n_clusters, cov_type``... Default: those among
        ``n, n_groups, tau, r_squared, adj_r_squared, aic, bic, loglik, cov_type`` that some model has.
    title : str

    Returns
    -------
    RegressionTable
        ``to_frame()``: tidy numeric rows (``model, term, estimate, std_error, ci_low, ci_high, conf_level,
        statistic, df, pvalue``); ``details["fit"]``: fit statistics by model; ``formatted()`` the displayed
        strings; ``str()``, ``to_html()``, ``to_latex()``, ``to_markdown()`` render it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(7)
    >>> df = pd.DataFrame({"x": rng.normal(size=100), "z": rng.normal(size=100)})
    >>> df["y"] = 1 + 2 * df.x + rng.normal(size=100)
    >>> tab = ci.stats.regression_table(ci.stats.ols("y ~ x", data=df), ci.stats.ols("y ~ x + z", data=df), stars=True)
    >>> tab.formatted().index.tolist()[:4]
    ['(Intercept)', '', 'x', '']
    >>> tab.models
    ['(1)', '(2)']
    """
    if statistic not in SECONDARY:
        raise ArgumentError(f"`statistic` must be one of 'std_error', 'ci', 'statistic', 'pvalue' or None; got {show(statistic)}")
    digits = check_int(digits, "digits", minimum=0, maximum=12)
    if stars is True:
        star_map: dict[str, float] = dict(DEFAULT_STARS)
    elif stars is False or stars is None:
        star_map = {}
    elif isinstance(stars, Mapping):
        star_map = {}
        for sym, cut in stars.items():
            if not isinstance(sym, str) or isinstance(cut, bool) or not isinstance(cut, (int, float)) or not 0 < float(cut) < 1:
                raise ArgumentError(
                    f"`stars` must map symbols to p-value thresholds in (0, 1), e.g. {{'*': 0.05}}; got {show(dict(stars))}"
                )
            star_map[sym] = float(cut)
    else:
        raise ArgumentTypeError(f"`stars` must be True, False or a mapping of symbols to thresholds; got {show(stars)}")
    items, names = _collect(results, labels)
    frames = []
    for name, r in zip(names, items, strict=True):
        assert r.terms is not None
        f = r.terms.copy()
        for c in ("std_error", "ci_low", "ci_high", "statistic", "df", "pvalue"):
            if c not in f.columns:
                f[c] = np.nan
        f["model"] = name
        f["conf_level"] = np.nan if r.conf_level is None else r.conf_level
        frames.append(f[list(TABLE_COLUMNS)])
    table = pd.concat(frames, ignore_index=True)
    for c in TABLE_COLUMNS[2:]:
        table[c] = pd.to_numeric(table[c], errors="coerce").astype("float64")
    present = list(dict.fromkeys(table["term"]))
    if terms is None:
        chosen = [(t, t) for t in present]
    else:
        pairs = list(terms.items()) if isinstance(terms, Mapping) else [(t, t) for t in terms]
        unknown = [t for t, _ in pairs if t not in present]
        if unknown:
            raise ArgumentError(f"`terms` {show(unknown)} are in none of the models; coefficients are {present}")
        chosen = [(str(t), str(lab)) for t, lab in pairs]
    fits = [dict(r.details.get("fit", {})) if isinstance(r.details.get("fit", {}), Mapping) else {} for r in items]
    for fit, r in zip(fits, items, strict=True):
        fit.setdefault("n", r.n)
    if fit_stats is None:
        stats_rows = [s for s in _DEFAULT_FIT if any(f.get(s) is not None for f in fits)]
    else:
        stats_rows = [str(s) for s in fit_stats]
        unknown = [s for s in stats_rows if all(f.get(s) is None for f in fits)]
        if unknown:
            available = sorted({k for f in fits for k, v in f.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)})
            raise ArgumentError(f"`fit_stats` {show(unknown)} are in none of the models; available: {available}")
    fit_frame = pd.DataFrame(
        {name: [_fit_value(f.get(s)) for s in stats_rows] for name, f in zip(names, fits, strict=True)},
        index=pd.Index(stats_rows, name="statistic"),
        dtype=object,
    )
    options = {
        "models": names,
        "terms": [list(p) for p in chosen],
        "secondary": statistic,
        "stars": star_map,
        "digits": digits,
        "conf_level": items[0].conf_level,
    }
    provs = [r.provenance for r in items if r.provenance is not None]
    return RegressionTable(
        method=title,
        estimand=f"{len(items)} model(s) side by side",
        table=table,
        details={"fit": fit_frame, "options": options},
        provenance=provs[0] if provs else Provenance.current(),
    )


def _fit_value(v: Any) -> Any:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, np.integer)):
        return float(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, str):
        return v
    return None
