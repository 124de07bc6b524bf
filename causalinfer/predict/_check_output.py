"""Check reports for pipelines and people: JUnit XML, JSON and a self-contained HTML page."""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ..exceptions import SourceError

__all__ = ["to_html", "to_junit", "write_text"]


def write_text(path: Any, text: str, what: str) -> None:
    """Write a report file; an OS failure becomes a SourceError naming the path."""
    try:
        Path(os.fspath(path)).write_text(text, encoding="utf-8")
    except (OSError, TypeError) as exc:
        raise SourceError(f"cannot write the {what} to {str(path)!r}: {exc}") from exc


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.4g}" if math.isfinite(x) else str(x)
    return str(x)


def _message(r: Any) -> str:
    return r.diagnostics[0].message if r.diagnostics else r.rule


def to_junit(report: Any, path: Any = None) -> str:
    """JUnit XML: one testsuite, one testcase per check; fail -> <failure>, inconclusive -> <skipped>."""
    suite = ET.Element("testsuite", name=report.title or "Model checks", tests=str(len(report)))
    suite.set("failures", str(len(report.failed)))
    suite.set("skipped", str(len(report.inconclusive)))
    suite.set("errors", "0")
    for label, r in zip(report.labels, report, strict=True):
        case = ET.SubElement(suite, "testcase", name=label, classname=f"causalinfer.check.{getattr(r, 'check', 'check')}")
        text = f"{r.verdict()}\n{_message(r)}"
        if r.status == "fail":
            el = ET.SubElement(case, "failure", message=r.verdict(), type="CheckFailed")
            el.text = text
        elif r.status == "inconclusive":
            ET.SubElement(case, "skipped", message=f"inconclusive: {r.verdict()}")
        out = ET.SubElement(case, "system-out")
        out.text = text
    ET.indent(suite)
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    if path is not None:
        write_text(path, xml, "JUnit report")
    return xml


_CSS = """
:root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--ok:#1a7f37;--warn:#9a6700;--fail:#cf222e}
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);line-height:1.5}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;margin:.2em 0}h2{font-size:1.2rem;border-bottom:1px solid var(--line)}
p.lead{color:var(--muted)}
.callout{border-left:4px solid var(--muted);background:#f6f8fa;padding:.6em .9em;margin:.8em 0}
.callout.pass{border-color:var(--ok)}.callout.inconclusive{border-color:var(--warn)}.callout.fail{border-color:var(--fail)}
table{border-collapse:collapse;font-size:.9rem;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.3em .5em;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{font-weight:600;padding:0 .4em;border-radius:3px;color:#fff}
.badge.pass{background:var(--ok)}.badge.fail{background:var(--fail)}.badge.inconclusive{background:var(--warn)}
footer{color:var(--muted);font-size:.85rem;margin-top:2em}
"""


def _row(label: str, r: Any) -> str:
    cells = [
        html.escape(label),
        f'<span class="badge {r.status}">{r.status}</span>',
        html.escape(r.rule),
        f'<td class="num">{_fmt(r.estimate)}',
        "" if r.census else f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
        _fmt(r.pvalue_adjusted),
        _fmt(r.power),
        _fmt(r.n_needed),
        html.escape(_message(r)),
    ]
    tds = "".join(c + "</td>" if c.startswith("<td") else f"<td>{c}</td>" for c in cells)
    return f"<tr>{tds}</tr>"


def to_html(report: Any, path: Any = None) -> str:
    """A self-contained HTML page (inline CSS, no scripts): the verdict, then one row per check."""
    from .. import __version__

    counts = f"{len(report.passed)} passed, {len(report.failed)} failed, {len(report.inconclusive)} inconclusive"
    adj = {"holm": "Holm", "BH": "Benjamini-Hochberg", "none": "no"}.get(str(report.adjust_method), str(report.adjust_method))
    level = next((r.conf_level for r in report if r.conf_level), None)
    alpha = f"{(1 - level) / 2:g}" if level else "the stated alpha"
    head = "<tr><th>check</th><th>status</th><th>rule</th><th>estimate</th><th>one-sided bounds</th>"
    head += "<th>adjusted p (alarm)</th><th>power</th><th>rows to decide</th><th>why</th></tr>"
    rows = "".join(_row(lab, r) for lab, r in zip(report.labels, report, strict=True))
    body = f"""<main><h1>{html.escape(report.title or "Model checks")}</h1>
<p class="lead">{len(report)} checks: {counts}.</p>
<div class="callout {report.status}"><strong>Suite {report.status.upper()}</strong> (exit code {report.exit_code}).
Gates decide on one-sided bounds at level alpha = {alpha}; alarms are {adj}-adjusted across the family of inferential checks.
Inconclusive: the data cannot decide at this level; "rows to decide" is the size that would, at the observed effect, with 80% power.</div>
<h2>Checks</h2><div style="overflow-x:auto"><table>{head}{rows}</table></div>
<footer>causalinfer {html.escape(__version__)} model checks. No data rows are included in this report.</footer></main>"""
    page = f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(report.title or "Model checks")}</title>'
    page += f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    if path is not None:
        write_text(path, page, "HTML report")
    return page
