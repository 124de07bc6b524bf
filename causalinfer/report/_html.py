"""A self-contained HTML report: inline CSS and images, no scripts, no external resources, no raw data rows."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .._validation import show
from ..exceptions import ArgumentTypeError, SourceError

_PAGE_CSS = """
:root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--accent:#0969da;--ok:#1a7f37;--warn:#9a6700;--fail:#cf222e}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);line-height:1.5;background:#fff}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;margin:.2em 0}
h2{font-size:1.25rem;margin:1.6em 0 .4em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
p.lead{color:var(--muted);margin-top:0}
section{margin-bottom:1.2em}
figure{margin:.6em 0}
figure img{max-width:100%;height:auto;border:1px solid var(--line)}
figcaption{color:var(--muted);font-size:.9rem}
.callout{border-left:4px solid var(--accent);background:#f6f8fa;padding:.6em .9em;margin:.8em 0}
.callout.ok{border-color:var(--ok)}.callout.warn{border-color:var(--warn)}.callout.fail{border-color:var(--fail)}
.scroll{overflow-x:auto;max-width:100%}
nav ol{padding-left:1.2em;margin:.4em 0}
footer{color:var(--muted);font-size:.85rem;border-top:1px solid var(--line);margin-top:2em;padding-top:.6em}
@media (max-width:600px){main{padding:10px}h1{font-size:1.3rem}.ci-res td,.ci-res th{padding:2px 4px}}
@media print{main{max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}nav{display:none}}
"""


@dataclass
class _Block:
    kind: str
    content: str


@dataclass
class Section:
    """One titled part of a report, holding text, results, tables and figures in order."""

    title: str
    anchor: str
    blocks: list[_Block] = field(default_factory=list)

    def text(self, paragraph: str) -> Section:
        """A paragraph of plain text (escaped)."""
        self.blocks.append(_Block("html", f"<p>{html.escape(paragraph)}</p>"))
        return self

    def callout(self, message: str, status: str = "info") -> Section:
        """A highlighted message; ``status`` is info, ok, warn or fail."""
        cls = status if status in ("ok", "warn", "fail") else ""
        self.blocks.append(_Block("html", f'<div class="callout {cls}">{html.escape(message)}</div>'))
        return self

    def result(self, result: Any) -> Section:
        """Any object with ``_repr_html_`` (Result, ResultSet, TableResult, Dataset)."""
        if not hasattr(result, "_repr_html_"):
            raise ArgumentTypeError(f"`result` must be a causalinfer result (with an HTML display); got {show(result)}")
        self.blocks.append(_Block("html", f'<div class="scroll">{result._repr_html_()}</div>'))
        return self

    def figure(self, fig: Any, caption: str = "") -> Section:
        """A matplotlib Figure (or Axes) embedded as an inline PNG; the figure is closed afterwards."""
        figure = fig.get_figure() if hasattr(fig, "get_figure") and not hasattr(fig, "savefig") else fig
        if not hasattr(figure, "savefig"):
            raise ArgumentTypeError(f"`fig` must be a matplotlib Figure or Axes; got {show(fig)}")
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        try:
            import matplotlib.pyplot as plt

            plt.close(figure)
        except ImportError:  # pragma: no cover - matplotlib is present if a figure exists
            pass
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        alt = html.escape(caption or self.title)
        self.blocks.append(_Block("html", f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{cap}</figure>'))
        return self

    def preformatted(self, text: str) -> Section:
        """Monospaced text (e.g. a causal graph in DOT)."""
        self.blocks.append(_Block("html", f'<pre class="scroll">{html.escape(text)}</pre>'))
        return self


class Report:
    """Builds one self-contained HTML file from sections of text, results and figures.

    Examples
    --------
    >>> from causalinfer.report import Report
    >>> rep = Report("Example", subtitle="A short report")
    >>> _ = rep.section("Question").text("Does the programme raise earnings?")
    >>> "<h2 id=\\"question\\">Question</h2>" in rep.to_html()
    True
    """

    def __init__(self, title: str, *, subtitle: str = "") -> None:
        if not isinstance(title, str) or not title:
            raise ArgumentTypeError(f"`title` must be a non-empty string; got {show(title)}")
        self.title = title
        self.subtitle = subtitle
        self.sections: list[Section] = []

    def section(self, title: str) -> Section:
        """Start a new section and return it for adding content."""
        base = "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-") or "section"
        anchor, k = base, 1
        while any(s.anchor == anchor for s in self.sections):
            k += 1
            anchor = f"{base}-{k}"
        sec = Section(title, anchor)
        self.sections.append(sec)
        return sec

    def to_html(self) -> str:
        from .._version import __version__

        e = html.escape
        toc = "".join(f'<li><a href="#{s.anchor}">{e(s.title)}</a></li>' for s in self.sections)
        body = []
        for s in self.sections:
            body.append(f'<section><h2 id="{s.anchor}">{e(s.title)}</h2>{"".join(b.content for b in s.blocks)}</section>')
        sub = f'<p class="lead">{e(self.subtitle)}</p>' if self.subtitle else ""
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(self.title)}</title><style>{_PAGE_CSS}</style></head>"
            f"<body><main><h1>{e(self.title)}</h1>{sub}"
            f"<nav><ol>{toc}</ol></nav>{''.join(body)}"
            f"<footer>Made with causalinfer {e(__version__)} on {date.today().isoformat()}.</footer>"
            "</main></body></html>\n"
        )

    def save(self, path: str | Path) -> Path:
        """Write the report to ``path`` (UTF-8) and return the path."""
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(self.to_html(), encoding="utf-8")
        except OSError as exc:
            raise SourceError(f"could not write the report to {str(p)!r}: {exc.strerror or exc}") from exc
        return p

    def _repr_html_(self) -> str:
        return self.to_html()
