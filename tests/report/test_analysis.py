"""The causal analysis report on bundled data: every section present, numbers right, renders in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import causalinfer as ci
from causalinfer._testing import check_html
from causalinfer.cli import DEMO_OPTIONS

SECTIONS = [
    "Question and data",
    "Balance and overlap",
    "Estimates",
    "Refutation tests",
    "Sensitivity to unmeasured confounding",
    "Conclusion",
]


@pytest.fixture(scope="module")
def nhefs_analysis():
    return ci.report.analysis_report(ci.load_dataset("nhefs"), n_simulations=30, random_state=1, progress=False, **DEMO_OPTIONS)


def test_sections_and_headline(nhefs_analysis, tmp_path):
    a = nhefs_analysis
    # What If ch. 12-13: IP weighting 3.4 (2.4, 4.5), standardisation 3.5; the doubly robust estimate sits between
    assert 3.2 < a.headline.estimate < 3.6
    assert round(a.estimates["ipw"].estimate, 1) == 3.4
    assert all(r.passed for r in a.refutations)
    path = a.save(tmp_path / "report.html")
    markup = path.read_text(encoding="utf-8")
    text = check_html(markup.split("\n", 1)[1])
    for title in SECTIONS:
        assert title in text
    assert markup.count("data:image/png;base64,") >= 3  # love plot, overlap, forest plot
    assert "No unmeasured confounding" in text
    assert "passed" in text
    assert "<script" not in markup.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", markup)
    # no raw rows: the data set has 1,566 rows, the report only summaries
    assert markup.count("<tr>") < 200


def test_graph_section():
    ds = ci.load_dataset("lalonde")
    graph = "digraph { age -> treat; educ -> treat; age -> re78; educ -> re78; treat -> re78 }"
    a = ci.report.analysis_report(ds, covariates=["age", "educ"], graph=graph, n_simulations=10, progress=False)
    html = a.report.to_html()
    assert "Causal graph and identification" in html
    assert "digraph" in html


def test_needs_outcome_and_treatment():
    ds = ci.load_dataset("lalonde").with_roles(treatment=None)
    with pytest.raises(ci.RoleError, match="needs an `outcome` and a `treatment`"):
        ci.report.analysis_report(ds)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed (Debian package chromium)")
def test_renders_in_headless_chromium_at_phone_width(nhefs_analysis, tmp_path):
    path = nhefs_analysis.save(tmp_path / "report.html")
    shot = tmp_path / "phone.png"
    cmd = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=390,2400",
        f"--screenshot={shot}",
        path.as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.exists()
    assert shot.stat().st_size > 20_000  # a real page, not a blank one
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
