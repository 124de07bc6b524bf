"""The ``causalinfer experiment`` command and the experiment HTML report."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalinfer import experiments
from causalinfer.cli import main
from causalinfer.exceptions import ArgumentError, ArgumentTypeError
from causalinfer.report import experiment_report

ROOT = Path(__file__).resolve().parents[1]
METRIC_ARGS = [
    "--control",
    "control",
    "--metric",
    "revenue",
    "--metric",
    "converted:proportion",
    "--metric",
    "clicks/sessions:ratio",
    "--covariate",
    "pre_revenue",
    "--guardrail",
    "latency_ms:0.05:lower",
]
LABELS = ["sample ratio mismatch", "revenue: b", "converted: b", "clicks/sessions: b", "latency_ms: b"]


def _frame(n: int = 4000, share_b: float = 0.5, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    b = rng.random(n) < share_b
    pre = rng.gamma(2.0, 10.0, n)
    sessions = rng.poisson(3, n) + 1
    return pd.DataFrame(
        {
            "user_id": np.arange(n),
            "variant": np.where(b, "b", "control"),
            "pre_revenue": pre,
            "revenue": 0.8 * pre + rng.gamma(2.0, 5.0, n) + 1.0 * b,
            "converted": (rng.random(n) < 0.10 + 0.02 * b).astype(int),
            "clicks": rng.binomial(sessions, 0.3),
            "sessions": sessions,
            "latency_ms": rng.normal(200.0, 20.0, n),
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("experiment")
    df = _frame()
    csv, parquet = folder / "users.csv", folder / "users.parquet"
    df.to_csv(csv, index=False)
    df.to_parquet(parquet, index=False)
    srm = folder / "srm.csv"
    _frame(share_b=0.56, seed=8).to_csv(srm, index=False)
    return {"csv": csv, "parquet": parquet, "srm": srm, "frame": df}  # type: ignore[dict-item]


class _Page(HTMLParser):
    """Headings, callouts and table rows (cell texts) of a report."""

    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.callouts: list[tuple[str, str]] = []
        self.rows: list[list[str]] = []
        self.images = 0
        self._tag: str | None = None
        self._class = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h2" or (tag == "div" and "callout" in (a.get("class") or "")):
            self._tag, self._class = tag, a.get("class") or ""
            self._text: list[str] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img" and (a.get("src") or "").startswith("data:image/png;base64,"):
            self.images += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self._tag:
            text = "".join(self._text)
            if tag == "h2":
                self.h2.append(text)
            else:
                self.callouts.append((self._class, text))
            self._tag = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._tag is not None:
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _result_rows(page: _Page) -> dict[str, list[str]]:
    return {r[0]: r for r in page.rows if r and r[0] in LABELS}


def test_csv_report_through_main(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ab.html"
    assert main(["experiment", str(files["csv"]), *METRIC_ARGS, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].startswith("SRM ok: ")
    assert "revenue: b" in printed and "Report written to" in printed
    assert next(line for line in printed.splitlines() if "latency_ms: b" in line).endswith("guardrail (one-sided non-inferiority)")
    page = _page(out)
    assert page.h2[0] == "Sample ratio check"
    assert page.callouts[0][0] == "callout ok"
    assert page.callouts[0][1].startswith("Sample ratio check passed")
    rows = _result_rows(page)
    assert list(rows) == LABELS
    # the table holds the same numbers as the analysis in Python
    res = experiments.analyze(
        files["frame"],  # type: ignore[arg-type]
        control="control",
        metrics=[
            "revenue",
            experiments.proportion("converted"),
            experiments.ratio("clicks", "sessions"),
            experiments.mean("latency_ms", role="guardrail", margin=0.05, higher_is_better=False),
        ],
        covariates="pre_revenue",
    )
    assert float(rows["revenue: b"][1]) == pytest.approx(res["revenue: b"].estimate, rel=1e-5)
    assert float(rows["clicks/sessions: b"][1]) == pytest.approx(res["clicks/sessions: b"].estimate, rel=1e-5)
    assert "Variance reduction" in page.h2
    assert page.images == 1 and page.h2[-1] == "Forest plot"


def test_parquet_report_as_a_subprocess(files: dict[str, Path], tmp_path: Path) -> None:
    out_csv, out_pq = tmp_path / "csv.html", tmp_path / "pq.html"
    assert main(["experiment", str(files["csv"]), *METRIC_ARGS, "-o", str(out_csv)]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-m", "causalinfer", "experiment", str(files["parquet"]), *METRIC_ARGS, "-o", str(out_pq)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("SRM ok: ")
    page = _page(out_pq)
    assert page.h2[0] == "Sample ratio check" and page.callouts[0][0] == "callout ok"
    # the engine (DuckDB) gives the same table as the in-memory analysis of the CSV
    assert _result_rows(page) == _result_rows(_page(out_csv))


def test_parquet_without_duckdb_reads_the_columns_with_pandas(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from causalinfer import _cli_experiments

    monkeypatch.setattr(_cli_experiments, "_has_duckdb", lambda: False)
    out, ref = tmp_path / "pq.html", tmp_path / "csv.html"
    assert main(["experiment", str(files["parquet"]), *METRIC_ARGS, "-o", str(out)]) == 0
    assert main(["experiment", str(files["csv"]), *METRIC_ARGS, "-o", str(ref)]) == 0
    assert _result_rows(_page(out)) == _result_rows(_page(ref))


def test_guardrail_syntax_and_roles(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "g.html"
    argv = ["experiment", str(files["csv"]), "--control", "control", "--metric", "revenue", "--metric", "converted:proportion:secondary"]
    argv += ["--guardrail", "clicks/sessions:ratio:0.02", "--guardrail", "revenue:0.1", "-o", str(out)]
    assert main(argv) == 0
    rows = _result_rows(_page(out))
    # revenue named in --guardrail becomes a guardrail (one-sided, higher is better: the upper bound is Inf),
    # not a second metric
    assert set(rows) == {"sample ratio mismatch", "revenue: b", "converted: b", "clicks/sessions: b"}
    assert rows["revenue: b"][3].endswith(", Inf]")
    assert rows["clicks/sessions: b"][3].endswith(", Inf]")
    assert not rows["converted: b"][3].endswith("Inf]")


def test_sql_table(files: dict[str, Path], tmp_path: Path) -> None:
    import sqlalchemy as sa

    db = tmp_path / "ab.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    files["frame"].to_sql("users", engine, index=False)  # type: ignore[attr-defined]
    engine.dispose()
    out, ref = tmp_path / "sql.html", tmp_path / "csv.html"
    assert main(["experiment", "--sql-url", f"sqlite:///{db}", "--table", "users", *METRIC_ARGS, "-o", str(out)]) == 0
    assert main(["experiment", str(files["csv"]), *METRIC_ARGS, "-o", str(ref)]) == 0
    assert _result_rows(_page(out)) == _result_rows(_page(ref))


def test_sample_ratio_mismatch_comes_first_and_exits_3(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "srm.html"
    assert main(["experiment", str(files["srm"]), "--control", "control", "--metric", "revenue", "-o", str(out)]) == 3
    assert capsys.readouterr().out.startswith("SAMPLE RATIO MISMATCH: ")
    page = _page(out)
    assert page.h2[0] == "Sample ratio check"
    assert page.callouts[0][0] == "callout fail" and page.callouts[0][1].startswith("SAMPLE RATIO MISMATCH")
    # with the planned 44/56 split the same data pass
    ok = tmp_path / "ok.html"
    args = ["experiment", str(files["srm"]), "--control", "control", "--metric", "revenue", "-o", str(ok)]
    assert main([*args, "--allocation", "control=0.44", "b=0.56"]) == 0


def test_unit_rows_finer_than_units(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    users = pd.DataFrame({"user_id": np.arange(600), "variant": rng.choice(["control", "b"], 600)})
    rows = users.loc[users.index.repeat(rng.integers(1, 4, 600))].reset_index(drop=True)
    rows["revenue"] = rng.gamma(2.0, 5.0, len(rows))
    path = tmp_path / "sessions.csv"
    rows.to_csv(path, index=False)
    out = tmp_path / "u.html"
    assert main(["experiment", str(path), "--control", "control", "--metric", "revenue", "--unit", "user_id", "-o", str(out)]) == 0
    expected = experiments.analyze(rows, control="control", metrics=["revenue"], unit="user_id")
    got = _result_rows(_page(out))["revenue: b"]
    assert float(got[1]) == pytest.approx(expected["revenue: b"].estimate, rel=1e-5)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["missing.csv", "--control", "control", "--metric", "revenue"], "INPUT 'missing.csv' does not exist"),
        (["{csv}", "--control", "control", "--metric", "revenu"], "--metric names the column 'revenu'"),
        (["{csv}", "--control", "control", "--metric", "revenue", "--covariate", "pre"], "--covariate names the column 'pre'"),
        (["{csv}", "--control", "control", "--metric", "revenue", "--variant", "arm"], "--variant names the column 'arm'"),
        (["{csv}", "--control", "control", "--metric", "revenue:median"], "--metric 'revenue:median': unknown kind"),
        (["{csv}", "--control", "control", "--metric", "clicks:ratio"], "--metric 'clicks:ratio'"),
        (["{csv}", "--control", "control", "--guardrail", "latency_ms"], "--guardrail 'latency_ms' needs a margin"),
        (["{csv}", "--control", "control", "--guardrail", "latency_ms:x"], "--guardrail 'latency_ms:x'"),
        (["{csv}", "--control", "control", "--metric", "revenue", "--allocation", "b"], "--allocation 'b'"),
        (["{csv}", "--control", "control"], "--metric"),
        (["--control", "control", "--metric", "revenue"], "INPUT is missing"),
        (["{xlsx}", "--control", "control", "--metric", "revenue"], "is neither CSV nor Parquet"),
        (["{csv}", "--control", "control", "--metric", "revenue:mean:tertiary"], "unknown role 'tertiary'"),
        (["--sql-url", "sqlite://", "--control", "control", "--metric", "revenue"], "--table"),
        (["{csv}", "--sql-url", "sqlite://", "--table", "t", "--control", "control", "--metric", "revenue"], "not both"),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], names: str
) -> None:
    (tmp_path / "users.xlsx").write_bytes(b"not a spreadsheet")
    subs = {"{csv}": str(files["csv"]), "{xlsx}": str(tmp_path / "users.xlsx")}
    argv = ["experiment", *[subs.get(a, a) for a in args], "-o", str(tmp_path / "r.html")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert names in err
    assert not (tmp_path / "r.html").exists()


def test_missing_control_is_argparse_exit_2(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["experiment", str(files["csv"]), "--metric", "revenue"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--control" in err


def test_unknown_control_label_is_a_one_line_input_error(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["experiment", str(files["csv"]), "--control", "ctrl", "--metric", "revenue", "-o", str(tmp_path / "r.html")])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'ctrl'" in err and "control" in err


def test_help_has_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["experiment", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "exit codes:" in text and "clicks/sessions:ratio" in text


def test_experiment_report_refuses_other_objects(tmp_path: Path) -> None:
    with pytest.raises(ArgumentTypeError, match="result_set"):
        experiment_report("not a result", tmp_path / "r.html")
    from causalinfer.results import ResultSet

    res = experiments.analyze(_frame(500), control="control", metrics=["revenue"])
    with pytest.raises(ArgumentError, match="sample ratio mismatch"):
        experiment_report(ResultSet([res[1]], labels=["revenue: b"]), tmp_path / "r.html")


def test_sequential_look_in_the_report(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seq.html"
    args = ["--control", "control", "--metric", "revenue", "--sequential", "--sequential-tuning", "2000"]
    assert main(["experiment", str(files["parquet"]), *args, "-o", str(out)]) == 0
    expected = experiments.analyze(files["frame"], metrics=["revenue"], sequential="mixture", sequential_tuning=2000.0)
    printed = capsys.readouterr().out
    line = next(x for x in printed.splitlines() if "revenue: b" in x)
    assert f"{expected[1].ci_low:.4g}" in line and f"{expected[1].ci_high:.4g}" in line
    page = _page(out)
    assert page.h2[:2] == ["Sample ratio check", "Sequential inference"]
    text = out.read_text(encoding="utf-8")
    assert f"revenue: b: always-valid look at {len(files['frame'])} units (mixture SPRT confidence sequence, tuning 2000 units)" in text
    assert main(["experiment", str(files["csv"]), *args[:4], "--sequential-tuning", "0", "-o", str(out)]) == 2
    assert "--sequential-tuning must be a positive number" in capsys.readouterr().err


def test_numeric_variant_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """0/1 variants: --control 0 is read as the integer 0 for Parquet and SQL (CSV labels are text); the numbers agree."""
    import sqlalchemy as sa

    df = _frame(2000).assign(variant=lambda d: (d["variant"] == "b").astype(np.int64))
    df.to_parquet(tmp_path / "ab.parquet", index=False)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ab.db'}")
    df.to_sql("users", engine, index=False)
    engine.dispose()
    expected = experiments.analyze(df, control=0, metrics=["revenue"], covariates="pre_revenue", allocation={0: 0.5, 1: 0.5})
    common = ["--control", "0", "--metric", "revenue", "--covariate", "pre_revenue", "--allocation", "0=0.5", "1=0.5"]
    for source in ([str(tmp_path / "ab.parquet")], ["--sql-url", f"sqlite:///{tmp_path / 'ab.db'}", "--table", "users"]):
        out = tmp_path / "numeric.html"
        assert main(["experiment", *source, *common, "-o", str(out)]) == 0, source
        line = next(x for x in capsys.readouterr().out.splitlines() if "revenue: 1" in x)
        assert f"{expected[1].estimate:.4g}" in line, (source, line)
        assert "revenue: 1" in out.read_text(encoding="utf-8")
    assert main(["experiment", str(tmp_path / "ab.parquet"), "--control", "zero", "--metric", "revenue", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--control 'zero' is not a label of the variant column 'variant', which holds an integer per row" in err
    df.assign(variant=df["variant"].astype(bool)).to_parquet(tmp_path / "flag.parquet", index=False)
    assert main(["experiment", str(tmp_path / "flag.parquet"), "--control", "maybe", "--metric", "revenue", "-o", str(out)]) == 2
    assert "which holds true or false per row" in capsys.readouterr().err
