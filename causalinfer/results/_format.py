"""Text and HTML rendering for every result type. Formatting lives here and nowhere else."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ._result import Result
    from ._resultset import ResultSet

_STATUS_MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL"}
_STATUS_COLOUR = {"ok": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e"}

_CSS = (
    "<style>"
    ".ci-res{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;line-height:1.4;max-width:100%;overflow-x:auto}"
    ".ci-res h4{margin:0 0 4px 0;font-size:14px}"
    ".ci-res .ci-sub{color:#57606a;margin:0 0 6px 0}"
    ".ci-res table{border-collapse:collapse;margin:4px 0 8px 0}"
    ".ci-res .ci-tab{max-width:100%;overflow-x:auto}"
    ".ci-res details .ci-tab{max-height:24em;overflow-y:auto}"
    ".ci-res details{margin:2px 0 6px 0}.ci-res summary{cursor:pointer;color:#57606a}"
    ".ci-res th,.ci-res td{padding:2px 8px;border-bottom:1px solid #d0d7de;text-align:right;white-space:nowrap}"
    ".ci-res th{background:#f6f8fa;font-weight:600;white-space:normal;vertical-align:bottom}"
    ".ci-res td.l,.ci-res th.l{text-align:left}"
    ".ci-res td.msg{text-align:left;white-space:normal;max-width:48em}"
    ".ci-res .st{font-weight:700}"
    "</style>"
)


# ---------------------------------------------------------------------- numbers
def fmt_num(x: Any, digits: int = 6) -> str:
    """A number for display: ``digits`` significant digits, R-like; never used in ``to_frame``."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    a = abs(v)
    if a >= 1e6 or a < 1e-4:
        return f"{v:.{max(digits - 2, 1)}e}"
    return f"{v:.{digits}g}"


def fmt_p(p: Any) -> str:
    """A p-value for display (R's convention for very small values)."""
    if p is None:
        return ""
    v = float(p)
    if math.isnan(v):
        return "NaN"
    if v < 2.2e-16:
        return "< 2.2e-16"
    if v < 1e-4:
        return f"{v:.3e}"
    return f"{v:.4g}"


def fmt_level(level: float | None) -> str:
    if level is None:
        return "CI"
    pct = 100 * level
    return f"{pct:.0f}% CI" if float(pct).is_integer() else f"{pct:g}% CI"


def fmt_ci(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return ""
    lo = -math.inf if low is None else low
    hi = math.inf if high is None else high
    return f"[{fmt_num(lo)}, {fmt_num(hi)}]"


# ---------------------------------------------------------------------- tables
def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: Sequence[int] = (0,), indent: str = "  ") -> str:
    """Fixed-width text table; columns in ``left`` are left-aligned, the rest right-aligned."""
    if not rows:
        return ""
    widths = [max(len(str(h)), *(len(str(r[j])) for r in rows)) for j, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        out = []
        for j, c in enumerate(cells):
            out.append(str(c).ljust(widths[j]) if j in left else str(c).rjust(widths[j]))
        return indent + "  ".join(out).rstrip()

    rule = indent + "-" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def html_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, left: Sequence[int] = (0,), raw: Sequence[int] = (), wrap: Sequence[int] = ()
) -> str:
    """HTML table; cells in columns ``raw`` are inserted without escaping (already HTML); ``wrap`` columns wrap."""
    e = html.escape
    head = "".join(f'<th class="{"l" if j in left else ""}">{_breakable(e(str(h)))}</th>' for j, h in enumerate(header))
    body = []
    for r in rows:
        cells = []
        for j, c in enumerate(r):
            cls = "msg" if j in wrap else "l" if j in left else ""
            text = str(c) if j in raw else e(str(c))
            cells.append(f'<td class="{cls}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="ci-tab"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _breakable(escaped: str) -> str:
    """A header that may wrap after its underscores (``effective_sample_size``), so wide tables fit the page."""
    return escaped.replace("_", "_<wbr>")


def frame_cells(frame: pd.DataFrame, max_rows: int = 30) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, formatted rows and left-aligned column positions for a DataFrame."""
    shown = frame.head(max_rows)
    header = [str(c) for c in shown.columns]
    left = [j for j, c in enumerate(shown.columns) if not pd.api.types.is_numeric_dtype(shown[c].dtype)]
    rows = []
    for rec in shown.itertuples(index=False):
        rows.append(["" if (v is None or v is pd.NA) else fmt_num(v) if isinstance(v, (int, float)) else str(v) for v in rec])
    if len(frame) > max_rows:
        rows.append(["..."] + [""] * (len(header) - 1))
    return header, rows, left


# ---------------------------------------------------------------------- single results
def _test_line(r: Result) -> str:
    bits = []
    if r.statistic is not None:
        bits.append(f"{r.statistic_name or 'statistic'} = {fmt_num(r.statistic, 5)}")
    if r.df is not None:
        if isinstance(r.df, tuple):
            bits.append(f"df = ({fmt_num(r.df[0], 5)}, {fmt_num(r.df[1], 5)})")
        else:
            bits.append(f"df = {fmt_num(r.df, 5)}")
    if r.pvalue is not None:
        bits.append(f"p-value = {fmt_p(r.pvalue)}")
    line = ", ".join(bits)
    extra = []
    if r.alternative is not None:
        extra.append(r.alternative)
    if r.null_value is not None:
        extra.append(f"null value {fmt_num(r.null_value)}")
    if extra and line:
        line += f"  ({'; '.join(extra)})"
    return line


def _terms_rows(r: Result) -> tuple[list[str], list[list[str]]]:
    assert r.terms is not None
    t = r.terms
    cols = [c for c in ("estimate", "std_error", "ci_low", "ci_high", "statistic", "df", "pvalue") if c in t.columns]
    names = {"std_error": "std. error", "ci_low": f"{fmt_level(r.conf_level)} low", "ci_high": "high", "pvalue": "p-value"}
    header = ["term", *[names.get(c, c) for c in cols]]
    rows = []
    for rec in t.to_dict("records"):
        row = [str(rec["term"])]
        for c in cols:
            row.append(fmt_p(rec[c]) if c == "pvalue" and rec[c] is not None and not pd.isna(rec[c]) else fmt_num(rec[c]))
        rows.append(row)
    return header, rows


def _key_facts(r: Result) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if r.estimand:
        facts.append(("Estimand", r.estimand))
    if r.estimate is not None:
        est = fmt_num(r.estimate)
        if r.std_error is not None:
            est += f"   (std. error {fmt_num(r.std_error)})"
        facts.append(("Estimate", est))
    if r.ci is not None:
        facts.append((fmt_level(r.conf_level), fmt_ci(r.ci_low, r.ci_high)))
    test = _test_line(r)
    if test:
        facts.append(("Test", test))
    if r.n is not None:
        facts.append(("n", str(r.n)))
    return facts


#: Detail tables kept in the result (and in to_dict) but not printed: too wide to read in a summary.
_HIDDEN_DETAILS = frozenset({"cov", "vcov", "covariance", "influence", "residuals", "fitted"})

#: Detail tables with more rows than this are not printed in the text summary, which names them instead
#: ("details['bins']: 40 rows"); they are the data behind plots (bins, histograms, fitted curves) or long
#: listings, shown in the HTML display (folded) and in plot().
TEXT_MAX_ROWS = 12

#: The HTML display shows detail tables up to this many rows (longer ones are only named).
HTML_MAX_ROWS = 200


def _detail_tables(r: Result) -> list[tuple[str, pd.DataFrame]]:
    """Every detail table a reader may want, in order: DataFrames not private and not covariance-like."""
    return [(k, v) for k, v in r.details.items() if isinstance(v, pd.DataFrame) and not k.startswith("_") and k not in _HIDDEN_DETAILS]


def _table_title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _size(frame: pd.DataFrame) -> str:
    rows = f"{len(frame)} row{'s' if len(frame) != 1 else ''}"
    cols = ", ".join(str(c) for c in frame.columns[:6]) + (", ..." if frame.shape[1] > 6 else "")
    return f"{rows} x {frame.shape[1]} columns ({cols})"


def render_text(r: Result) -> str:
    """The text summary of one result."""
    lines = [r.method, "=" * min(max(len(r.method), 20), 78)]
    facts = _key_facts(r)
    width = max((len(k) for k, _ in facts), default=0)
    lines += [f"{k.ljust(width)} : {v}" for k, v in facts]
    if r.terms is not None:
        header, rows = _terms_rows(r)
        lines += ["", text_table(header, rows)]
    if r.effect_sizes:
        rows = [[e.name, fmt_num(e.estimate), fmt_ci(e.ci_low, e.ci_high), e.method] for e in r.effect_sizes]
        lines += ["", "Effect sizes", text_table(["name", "estimate", "CI", "method"], rows, left=(0, 3))]
    tables = _detail_tables(r)
    for name, frame in tables:
        if len(frame) <= TEXT_MAX_ROWS:
            header, rows, left = frame_cells(frame)
            lines += ["", _table_title(name), text_table(header, rows, left=left)]
    long = [(name, frame) for name, frame in tables if len(frame) > TEXT_MAX_ROWS]
    if long:
        lines += ["", "More tables (in details; shown in the HTML display)"]
        lines += [f"  details[{name!r}]: {_size(frame)}" for name, frame in long]
    if r.diagnostics:
        lines += ["", "Diagnostics"]
        for d in r.diagnostics:
            val = (
                f" ({fmt_num(d.value, 4)})"
                if d.value is not None and not isinstance(d.value, str)
                else (f" ({d.value})" if d.value else "")
            )
            lines.append(f"  [{_STATUS_MARK[d.status]:>4}] {d.name}{val}: {d.message}")
    return "\n".join(lines).rstrip() + "\n"


def render_html(r: Result) -> str:
    """The notebook (HTML) display of one result: the same content as :func:`render_text`."""
    e = html.escape
    parts = [_CSS, '<div class="ci-res">', f"<h4>{e(r.method)}</h4>"]
    facts = _key_facts(r)
    if facts:
        parts.append(
            html_table(["", ""], [[k, v] for k, v in facts], left=(0, 1)).replace(
                '<thead><tr><th class="l"></th><th class="l"></th></tr></thead>', ""
            )
        )
    if r.terms is not None:
        header, rows = _terms_rows(r)
        parts.append(html_table(header, rows))
    if r.effect_sizes:
        rows = [[es.name, fmt_num(es.estimate), fmt_ci(es.ci_low, es.ci_high), es.method] for es in r.effect_sizes]
        parts.append("<p class='ci-sub'>Effect sizes</p>" + html_table(["name", "estimate", "CI", "method"], rows, left=(0, 3)))
    for name, frame in _detail_tables(r):
        if len(frame) <= TEXT_MAX_ROWS:
            header, rows, left = frame_cells(frame)
            parts.append(f"<p class='ci-sub'>{e(_table_title(name))}</p>" + html_table(header, rows, left=left))
        elif len(frame) <= HTML_MAX_ROWS:  # long tables are folded away: open them to read
            header, rows, left = frame_cells(frame, max_rows=HTML_MAX_ROWS)
            summary = f"{e(_table_title(name))}: {len(frame)} rows (details[{e(repr(name))}])"
            parts.append(f"<details><summary>{summary}</summary>{html_table(header, rows, left=left)}</details>")
        else:
            parts.append(f"<p class='ci-sub'>details[{e(repr(name))}]: {e(_size(frame))}</p>")
    if r.diagnostics:
        rows = []
        for d in r.diagnostics:
            badge = f'<span class="st" style="color:{_STATUS_COLOUR[d.status]}">{_STATUS_MARK[d.status]}</span>'
            value = fmt_num(d.value, 4) if d.value is not None and not isinstance(d.value, str) else (d.value or "")
            rows.append([badge, e(d.name), e(str(value)), e(d.message)])
        table = html_table(["status", "check", "value", "message"], rows, left=(0, 1, 3), raw=(0, 1, 2, 3), wrap=(3,))
        parts.append("<p class='ci-sub'>Diagnostics</p>" + table)
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------- collections
def secondary_term(label: str, term: Any) -> str:
    """The term of a row of a result set, or "" when it only repeats the result's label ("regression ATE" under
    the label "regression"): what a table or forest plot should add to the label."""
    t = "" if term is None or (isinstance(term, float) and math.isnan(term)) else str(term)
    if not t or t == label or t.startswith(label + " ") or label.startswith(t):
        return ""
    return t


def _drop_empty_columns(header: list[str], rows: list[list[str]], keep: Sequence[int] = (0,)) -> tuple[list[str], list[list[str]]]:
    """Without the columns (other than ``keep``) that are empty in every row: no blank CI column under refutations."""
    cols = [j for j in range(len(header)) if j in keep or any(str(r[j]) for r in rows)]
    return [header[j] for j in cols], [[r[j] for j in cols] for r in rows]


def _set_rows(rs: ResultSet) -> tuple[list[str], list[list[str]]]:
    frame = rs.to_frame()
    level = next((r.conf_level for r in rs if r.conf_level is not None), None)
    has_adj = "pvalue_adjusted" in frame.columns and frame["pvalue_adjusted"].notna().any()
    header = ["label", "term", "estimate", "std. error", fmt_level(level), "p-value"]
    if has_adj:
        header.append(f"p adj. ({rs.adjust_method})")
    rows = []
    for rec in frame.to_dict("records"):
        row = [
            str(rec["label"]),
            secondary_term(str(rec["label"]), rec["term"]),
            fmt_num(rec["estimate"]),
            fmt_num(rec["std_error"]),
            fmt_ci(None if pd.isna(rec["ci_low"]) else rec["ci_low"], None if pd.isna(rec["ci_high"]) else rec["ci_high"])
            if not (pd.isna(rec["ci_low"]) and pd.isna(rec["ci_high"]))
            else "",
            fmt_p(rec["pvalue"]) if not pd.isna(rec["pvalue"]) else "",
        ]
        if has_adj:
            row.append(fmt_p(rec["pvalue_adjusted"]) if not pd.isna(rec["pvalue_adjusted"]) else "")
        rows.append(row)
    return _drop_empty_columns(header, rows)


def _left_of(header: Sequence[str]) -> tuple[int, ...]:
    return tuple(j for j, h in enumerate(header) if h in ("label", "term"))


def render_set_text(rs: ResultSet) -> str:
    title = rs.title or "Results"
    header, rows = _set_rows(rs)
    lines = [title, "=" * min(max(len(title), 20), 78), text_table(header, rows, left=_left_of(header))]
    warn = [(r_label, d) for r_label, r in zip(rs.labels, rs, strict=True) for d in r.warnings]
    if warn:
        lines += ["", "Diagnostics needing attention"]
        lines += [f"  [{_STATUS_MARK[d.status]:>4}] {lab}: {d.name}: {d.message}" for lab, d in warn]
    return "\n".join(lines).rstrip() + "\n"


def render_set_html(rs: ResultSet) -> str:
    e = html.escape
    header, rows = _set_rows(rs)
    parts = [_CSS, '<div class="ci-res">', f"<h4>{e(rs.title or 'Results')}</h4>", html_table(header, rows, left=_left_of(header))]
    warn = [(lab, d) for lab, r in zip(rs.labels, rs, strict=True) for d in r.warnings]
    if warn:
        wrows = [
            [f'<span class="st" style="color:{_STATUS_COLOUR[d.status]}">{_STATUS_MARK[d.status]}</span>', e(lab), e(d.name), e(d.message)]
            for lab, d in warn
        ]
        parts.append("<p class='ci-sub'>Diagnostics needing attention</p>")
        parts.append(html_table(["status", "result", "check", "message"], wrows, left=(0, 1, 2, 3), raw=(0, 1, 2, 3), wrap=(3,)))
    parts.append("</div>")
    return "".join(parts)


def render_frame_html(title: str, frame: pd.DataFrame, subtitle: str = "") -> str:
    """A titled table (used by table-shaped results such as a dataset description)."""
    e = html.escape
    header, rows, left = frame_cells(frame, max_rows=200)
    sub = f"<p class='ci-sub'>{e(subtitle)}</p>" if subtitle else ""
    return f"{_CSS}<div class='ci-res'><h4>{e(title)}</h4>{sub}{html_table(header, rows, left=left)}</div>"


def render_frame_text(title: str, frame: pd.DataFrame, subtitle: str = "") -> str:
    header, rows, left = frame_cells(frame, max_rows=200)
    lines = [title, "=" * min(max(len(title), 20), 78)]
    if subtitle:
        lines.append(subtitle)
    lines.append(text_table(header, rows, left=left))
    return "\n".join(lines).rstrip() + "\n"
