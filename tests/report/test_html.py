"""The HTML report: self-contained, escaped, parseable, responsive and printable."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

import causalinfer as ci
from causalinfer._testing import check_html
from causalinfer.report import Report


def test_report_is_self_contained(tmp_path):
    rep = Report("Effect of <training>", subtitle="NSW experiment")
    ds = ci.load_dataset("lalonde")
    sec = rep.section("Data")
    sec.text("Rows & columns").result(ds.describe())
    res = rep.section("Result")
    res.result(ci.stats.ttest("re78", data=ds, group="treat", levels=(1, 0)))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    res.figure(fig, "a line").callout("It passed", "ok")
    rep.section("Data").preformatted("digraph { d -> y }")
    path = rep.save(tmp_path / "out" / "report.html")
    markup = path.read_text(encoding="utf-8")
    text = check_html(markup.split("\n", 1)[1])  # after the doctype
    assert "Effect of <training>" in text
    assert "&lt;training&gt;" in markup
    assert 'name="viewport"' in markup
    assert "@media print" in markup
    assert "data:image/png;base64," in markup
    assert 'id="data-2"' in markup  # repeated titles get unique anchors
    assert "<script" not in markup.lower()
    # no raw data rows: the report holds summaries, not the 445 records
    assert markup.count("<tr>") < 100


def test_report_bad_input(tmp_path):
    with pytest.raises(ci.ArgumentTypeError, match="`title` must be a non-empty string"):
        Report("")
    rep = Report("x")
    with pytest.raises(ci.ArgumentTypeError, match="`result` must be a causalinfer result"):
        rep.section("s").result(42)
    with pytest.raises(ci.ArgumentTypeError, match="`fig` must be a matplotlib Figure"):
        rep.section("s").figure("not a figure")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ci.SourceError, match="could not write the report"):
        rep.save(tmp_path / "file" / "report.html")
