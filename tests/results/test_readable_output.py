"""The text summary shows estimates, tests and diagnostics; long tables stay in details, HTML and plots."""

from __future__ import annotations

import html.parser
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_html
from causalinfer.exceptions import AssumptionWarning
from causalinfer.results import Diagnostic, Result, ResultSet
from causalinfer.results._format import TEXT_MAX_ROWS


class Tables(html.parser.HTMLParser):
    """Every <table> of a page: header cells, body rows and the classes of the elements around it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.open: list[tuple[str, str]] = []
        self._cell: list[str] | None = None
        self._raw: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "wbr":
            if self._raw is not None:
                self._raw.append("<wbr>")
            return
        cls = dict(attrs).get("class") or ""
        if tag == "table":
            self.tables.append({"header": [], "header_html": [], "rows": [], "around": [c for _, c in self.open], "folded": False})
            self.tables[-1]["folded"] = any(t == "details" for t, _ in self.open)
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell, self._raw = [], []
        self.open.append((tag, cls))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            table = self.tables[-1]
            text = "".join(self._cell).strip()
            if tag == "th":
                table["header"].append(text)
                table["header_html"].append("".join(self._raw or []))
            else:
                table["rows"][-1].append(text)
            self._cell = self._raw = None
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
            assert self._raw is not None
            self._raw.append(data)


def tables_of(markup: str) -> list[dict]:
    check_html(markup)
    parser = Tables()
    parser.feed(markup)
    for t in parser.tables:
        t["rows"] = [r for r in t["rows"] if r]  # the header row has no td cells
    return parser.tables


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        return func(*args, **kwargs)


def _rdd() -> Result:
    rng = np.random.default_rng(0)
    r = rng.uniform(-1, 1, 3000)
    y = r + (r >= 0) + rng.normal(size=r.size)
    return _quiet(ci.designs.rdd, pd.DataFrame({"y": y, "r": r}), outcome="y", running="r", cutoff=0.0, n_bins=30)


def _with_table(rows: int) -> Result:
    frame = pd.DataFrame({"bin_low": np.arange(rows) / rows, "count": np.arange(rows)})
    return Result(
        method="Something with a histogram",
        estimate=1.0,
        ci_low=0.5,
        ci_high=1.5,
        conf_level=0.95,
        details={"histogram": frame, "groups": pd.DataFrame({"group": ["a", "b"], "n": [3, 4]})},
        diagnostics=(Diagnostic("check", "ok", None, "fine"),),
    )


# ---------------------------------------------------------------------- the rule
def test_long_detail_tables_are_named_not_printed():
    r = _with_table(60)
    text = str(r)
    assert "details['histogram']: 60 rows x 2 columns (bin_low, count)" in text
    assert len(text.splitlines()) < 25
    assert "Groups" in text and "Diagnostics" in text  # short tables and diagnostics stay
    assert "0.983333" not in text  # the last bin is not printed
    short = str(_with_table(TEXT_MAX_ROWS))
    assert "details['histogram']" not in short and "Histogram" in short


def test_long_detail_tables_are_folded_in_html_with_every_row():
    markup = _with_table(60)._repr_html_()
    tables = tables_of(markup)
    folded = [t for t in tables if t["folded"]]
    assert len(folded) == 1 and len(folded[0]["rows"]) == 60
    assert "Histogram: 60 rows" in check_html(markup)
    assert [t for t in tables if not t["folded"] and t["header"] == ["group", "n"]]


def test_ipw_text_has_no_propensity_histogram_rows():
    r = ci.causal.ipw(ci.load_dataset("lalonde"))
    text = str(r)
    assert len(text.splitlines()) <= 50
    assert "Propensity histogram" not in text
    assert "details['propensity_histogram']: 20 rows" in text
    assert "Balance" in text and "Overlap" in text and "[  ok] balance" in text
    assert any(len(t["rows"]) == 20 for t in tables_of(r._repr_html_()))


def test_rdd_text_has_no_bins_or_fitted_curve():
    r = _rdd()
    n_bins = len(r.details["bins"])
    assert n_bins == 60
    text = str(r)
    assert len(text.splitlines()) <= 35, text
    assert f"details['bins']: {n_bins} rows" in text
    assert "details['fit']" in text
    assert "Diagnostics" in text and "jump" in text


# ---------------------------------------------------------------------- result sets
def test_refutation_sets_show_no_empty_columns():
    r = ci.causal.ipw(ci.load_dataset("lalonde"))
    rs = r.refute(["placebo", "subset"], n_simulations=5, random_state=1, progress=False)
    text = str(rs)
    assert "CI" not in text.splitlines()[2]  # header row of the table
    (table,) = tables_of(rs._repr_html_())
    assert table["header"] == ["label", "estimate", "std. error", "p-value"]
    for j in range(len(table["header"])):
        assert any(row[j] for row in table["rows"]), table["header"][j]


def test_set_tables_and_forest_plots_do_not_repeat_the_label():
    rs = ci.causal.compare(ci.load_dataset("lalonde"), methods=["regression", "ipw"])
    (table,) = tables_of(rs._repr_html_())
    assert "term" not in table["header"]
    assert [row[0] for row in table["rows"]] == ["regression", "ipw"]
    ax = rs.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["regression", "ipw"]
    plt.close("all")


def test_set_of_multi_term_results_keeps_the_terms():
    x = np.arange(20.0)
    fits = [ci.stats.ols(x[:, None], y) for y in (2 * x + np.sin(x), x + np.cos(x))]
    rs = ResultSet(fits, labels=["first", "second"])
    ax = rs.plot()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 4 and all(lab.startswith(("first: ", "second: ")) for lab in labels)
    plt.close("all")
    table = tables_of(rs._repr_html_())[0]
    assert "term" in table["header"]


# ---------------------------------------------------------------------- fitting the page
def test_wide_tables_scroll_and_their_headers_may_wrap():
    r = ci.causal.ipw(ci.load_dataset("lalonde"))
    markup = r._repr_html_()
    overlap = next(t for t in tables_of(markup) if "effective_sample_size" in "".join(t["header"]))
    assert "ci-tab" in overlap["around"]
    assert any("_<wbr>" in h for h in overlap["header_html"])
    assert ".ci-res .ci-tab{max-width:100%;overflow-x:auto}" in markup
    assert "white-space:normal" in markup.split(".ci-res th{", 1)[1].split("}", 1)[0]


@pytest.mark.parametrize("rows", [0, 1, 13, 250])
def test_every_size_renders(rows):
    r = _with_table(rows)
    check_html(r._repr_html_())
    assert str(r).strip()
