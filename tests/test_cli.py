"""The command line: every command has --help with examples; bad input gives one line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from causalinfer.cli import main


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "causalinfer", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("command", ["demo", "report", "datasets", "score", "drift"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out


def test_top_level_help_lists_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "exit codes" in capsys.readouterr().out


def test_demo_writes_report(tmp_path):
    proc = run("demo", "-o", str(tmp_path / "r.html"), "--n-simulations", "20", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "Report written to" in proc.stdout
    assert "Headline: ATE of qsmk on wt82_71" in proc.stdout
    assert (tmp_path / "r.html").stat().st_size > 50_000


def test_report_on_a_csv(tmp_path):
    import causalinfer as ci

    ci.load_dataset("lalonde", frame_only=True).to_csv(tmp_path / "nsw.csv", index=False)
    proc = run(
        "report", str(tmp_path / "nsw.csv"), "--treatment", "treat", "--outcome", "re78", "--covariates", "age", "educ", "re74", "re75",
        "--n-simulations", "10", "--no-progress", "-o", str(tmp_path / "nsw.html"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "nsw.html").exists()


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [
        (["report", "missing.csv", "--treatment", "t", "--outcome", "y"], 1, "does not exist"),
        (["report", "{csv}", "--treatment", "treat", "--outcome", "re79"], 1, "did you mean 're78'"),
        (["report", "{csv}", "--treatment", "age", "--outcome", "re78", "--covariates", "educ"], 1, "error:"),
        (["report", "{csv}", "--treatment", "treat", "--outcome", "re78", "--graph", "nope.dot"], 1, "graph file"),
        (["report"], 2, "required"),
        (["nonsense"], 2, "invalid choice"),
        (["demo", "--n-simulations", "many"], 2, "invalid int value"),
    ],
)
def test_bad_arguments_give_one_line(tmp_path, args, code, pattern):
    import causalinfer as ci

    csv = tmp_path / "nsw.csv"
    ci.load_dataset("lalonde", frame_only=True).to_csv(csv, index=False)
    proc = run(*[a.replace("{csv}", str(csv)) for a in args], cwd=tmp_path)
    assert proc.returncode == code
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert pattern in lines[0]
    assert "Traceback" not in proc.stderr
