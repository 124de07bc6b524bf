"""``causalinfer check``: exit codes, report files, the suite file and one-line errors; the example suite parses."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from causalinfer import _cli_check, cli
from causalinfer.predict import load_suite, save_model

ROOT = Path(__file__).resolve().parents[2]


def run(argv, capsys):
    parser = argparse.ArgumentParser(prog="causalinfer")
    _cli_check.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("check")
    rng = np.random.default_rng(0)
    n = 3000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    X["y"] = (X.a + rng.normal(size=n) > 0).astype(int)
    train, test = X.iloc[:1500], X.iloc[1500:]
    model = LogisticRegression().fit(train[["a", "b"]], train.y)
    save_model(model, d / "m.skops", training_data=train[["a", "b"]])
    train.to_parquet(d / "train.parquet")
    test.to_csv(d / "test.csv", index=False)
    test.iloc[:40].to_csv(d / "small.csv", index=False)
    (d / "pass.toml").write_text(
        '[settings]\nlabel = "y"\n\n[[checks]]\ncheck = "performance"\nmetric = "auc"\nat_least = 0.7\n\n[[checks]]\ncheck = "drift"\n'
    )
    (d / "fail.toml").write_text('[settings]\nlabel = "y"\n\n[[checks]]\ncheck = "performance"\nmetric = "accuracy"\nat_least = 0.95\n')
    (d / "typo.toml").write_text('[[checks]]\ncheck = "perfomance"\n')
    (d / "range.toml").write_text('[[checks]]\ncheck = "performance"\nmetric = "auc"\nat_least = 80\n')
    return d


def test_pass_writes_reports_and_exits_0(files, capsys, tmp_path):
    argv = ["check", "--suite", files / "pass.toml", "--model", files / "m.skops", "--train", files / "train.parquet"]
    argv += ["--test", files / "test.csv", "--junit", tmp_path / "r.xml", "--html", tmp_path / "r.html", "--json", tmp_path / "r.json"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "suite PASS" in out and "auc (test): PASS" in out
    xml = ET.parse(tmp_path / "r.xml").getroot()
    assert [c.get("name") for c in xml.findall("testcase")] == ["auc (test)", "drift (test)"]
    assert json.loads((tmp_path / "r.json").read_text())["type"] == "ResultSet"
    assert "<script" not in (tmp_path / "r.html").read_text()


def test_fail_exits_1_and_junit_has_a_failure(files, capsys, tmp_path):
    argv = [
        "check",
        "--suite",
        files / "fail.toml",
        "--model",
        files / "m.skops",
        "--test",
        files / "test.csv",
        "--junit",
        tmp_path / "f.xml",
    ]
    code, out, _ = run(argv, capsys)
    assert code == 1
    assert "accuracy (test): FAIL" in out
    case = ET.parse(tmp_path / "f.xml").getroot().find("testcase")
    assert case.find("failure") is not None


def test_inconclusive_exits_3_with_skipped_testcase(files, capsys, tmp_path):
    (files / "incon.toml").write_text('[settings]\nlabel = "y"\n\n[[checks]]\ncheck = "performance"\nmetric = "auc"\nat_least = 0.8\n')
    rep_argv = [
        "check",
        "--suite",
        files / "incon.toml",
        "--model",
        files / "m.skops",
        "--test",
        files / "small.csv",
        "--junit",
        tmp_path / "s.xml",
    ]
    code, out, _ = run(rep_argv, capsys)
    assert code == 3
    assert "INCONCLUSIVE" in out and "rows would decide" in out
    assert ET.parse(tmp_path / "s.xml").getroot().find("testcase").find("skipped") is not None


def test_json_to_stdout(files, capsys):
    argv = ["check", "--suite", files / "pass.toml", "--model", files / "m.skops", "--test", files / "test.csv", "--json"]
    code, out, _ = run([*argv, "--train", files / "train.parquet"], capsys)
    assert code == 0
    assert json.loads(out)["labels"] == ["auc (test)", "drift (test)"]
    code, _, err = run(argv, capsys)
    assert code == 1 and "`train` was not given" in err


@pytest.mark.parametrize(
    ("suite", "match"),
    [("typo.toml", "did you mean 'performance'"), ("range.toml", "outside the range"), ("none.toml", "does not exist")],
)
def test_bad_suites_give_one_line_errors(files, capsys, suite, match):
    code, _out, err = run(["check", "--suite", files / suite, "--model", files / "m.skops", "--test", files / "test.csv"], capsys)
    assert code == 1
    assert err.startswith("causalinfer check: error:") and match in err
    assert len(err.strip().splitlines()) == 1


def test_labels_missing_is_an_error_not_a_pass(files, capsys, tmp_path):
    (tmp_path / "nolabel.toml").write_text('[[checks]]\ncheck = "performance"\nmetric = "auc"\nat_least = 0.7\n')
    code, _, err = run(["check", "--suite", tmp_path / "nolabel.toml", "--model", files / "m.skops", "--test", files / "test.csv"], capsys)
    assert code == 1 and "needs labels" in err


def test_registered_in_the_main_parser():
    parser = cli.build_parser()
    args = parser.parse_args(["check", "--test", "x.csv"])
    assert args.func is _cli_check._cmd_check


def test_example_suite_file_is_valid():
    checks, settings = load_suite(ROOT / "examples" / "checks.toml")
    assert settings["label"] == "churned"
    assert {c["check"] for c in checks} >= {"schema", "performance", "drift", "segments", "fairness"}
