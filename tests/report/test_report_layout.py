"""The analysis report reads well: tables fit the page, forest-plot labels say each method once, no empty columns."""

from __future__ import annotations

import html.parser

import matplotlib.pyplot as plt
import pytest

import causalinfer as ci
from causalinfer._testing import check_html


class _Tables(html.parser.HTMLParser):
    """Each <table>: its header cells (text and markup), body rows, and the classes of the elements around it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.open: list[tuple[str, str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "wbr":
            if self.cell is not None:
                self.cell.append("<wbr>")
            return
        if tag == "table":
            self.tables.append({"header": [], "rows": [], "around": [c for _, c in self.open]})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self.cell = []
        self.open.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            text = "".join(self.cell).strip()
            (self.tables[-1]["header"] if tag == "th" else self.tables[-1]["rows"][-1]).append(text)
            self.cell = None
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


@pytest.fixture(scope="module")
def analysis():
    return ci.report.analysis_report(ci.load_dataset("lalonde"), n_simulations=5, random_state=1, progress=False)


@pytest.fixture(scope="module")
def tables(analysis):
    markup = analysis.report.to_html()
    check_html(markup.split("\n", 1)[1])
    parser = _Tables()
    parser.feed(markup)
    for t in parser.tables:
        t["rows"] = [r for r in t["rows"] if r]
        t["text_header"] = [h.replace("<wbr>", "") for h in t["header"]]
    return parser.tables


def test_every_table_scrolls_inside_the_page(analysis, tables):
    markup = analysis.report.to_html()
    assert ".scroll{overflow-x:auto;max-width:100%}" in markup
    assert ".ci-res .ci-tab{max-width:100%;overflow-x:auto}" in markup
    for t in tables:
        assert "ci-tab" in t["around"] and "scroll" in t["around"], t["text_header"]


def test_the_overlap_table_is_narrow(tables):
    overlap = next(t for t in tables if any(row and row[0] == "effective_sample_size" for row in t["rows"]))
    assert overlap["text_header"] == ["measure", "treated", "control"]  # one column per group, not ten
    assert {row[0] for row in overlap["rows"]} >= {"n", "propensity_min", "propensity_max", "weight_max"}
    balance = next(t for t in tables if "smd_before" in t["text_header"])
    assert any("_<wbr>" in h for h in balance["header"])  # long headers may wrap


def test_the_refutation_table_has_no_empty_column(analysis, tables):
    refutations = next(t for t in tables if [r[0] for r in t["rows"]] == list(analysis.refutations.labels))
    assert "CI" not in " ".join(refutations["text_header"])
    assert "term" not in refutations["text_header"]
    for j, name in enumerate(refutations["text_header"]):
        assert any(row[j] for row in refutations["rows"]), f"column {name!r} is empty"


def test_the_estimates_table_and_forest_plot_name_each_method_once(analysis, tables):
    labels = list(analysis.estimates.labels)
    estimates = next(t for t in tables if [r[0] for r in t["rows"]] == labels)
    assert "term" not in estimates["text_header"]
    ax = analysis.estimates.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == labels
    plt.close("all")
