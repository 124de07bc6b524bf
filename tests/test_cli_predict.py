"""The ``score`` and ``drift`` subcommands: registration, exit codes, one-line errors, and a real process."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalinfer import _cli_predict
from causalinfer.predict import Profile, SplitConformalClassifier, SplitConformalRegressor, save_model

ROOT = Path(__file__).resolve().parents[1]


def run(argv, capsys):
    parser = argparse.ArgumentParser(prog="causalinfer")
    _cli_predict.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=1500), "b": rng.normal(size=1500)})
    y = X["a"] - X["b"] + rng.normal(size=1500)
    reg = SplitConformalRegressor(LinearRegression(), random_state=0).fit(X, y)
    save_model(reg, d / "reg.skops", training_data=X)
    clf = SplitConformalClassifier(LogisticRegression(), random_state=0).fit(X, np.where(y > 0, "up", "down"))
    save_model(clf, d / "clf.skops", training_data=X)
    X.assign(id=np.arange(1500)).to_csv(d / "rows.csv", index=False)
    X.assign(a=X["a"] + 1.0).to_parquet(d / "shifted.parquet")
    (d / "prof.json").write_text(Profile.build(X.assign(prediction=reg.predict(X)), prediction="prediction").to_json())
    return {"dir": d, "reg": reg, "X": X}


def test_help_lists_examples_and_exit_codes(capsys):
    parser = argparse.ArgumentParser(prog="causalinfer")
    _cli_predict.register(parser.add_subparsers(dest="command"))
    for cmd in ("score", "drift"):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args([cmd, "--help"])
        assert exc.value.code == 0
        text = capsys.readouterr().out
        assert "examples:" in text and f"causalinfer {cmd} " in text
        assert "3    drift alert" in text


def test_score_with_intervals_then_resume_is_a_no_op(files, tmp_path, capsys):
    d = files["dir"]
    out = tmp_path / "scores.csv"
    argv = ["score", d / "reg.skops", d / "rows.csv", out, "--key", "id", "--outputs", "prediction", "interval", "--chunk-size", "400"]
    code, text, err = run(argv, capsys)
    assert code == 0 and err == ""
    assert "scored 1,500 rows in 4 chunk(s)" in text
    got = pd.read_csv(out)
    want = files["reg"].predict_frame(files["X"])
    np.testing.assert_allclose(got[["prediction", "lower", "upper"]].to_numpy(), want.to_numpy(), rtol=1e-9)
    code, text, _ = run(argv, capsys)
    assert code == 0 and text.startswith("already complete")
    code, text, _ = run([*argv, "--no-resume"], capsys)
    assert code == 0 and "1,500 written now" in text


def test_score_sets_into_sqlite(files, tmp_path, capsys):
    d = files["dir"]
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, _, _ = run(["score", d / "clf.skops", d / "rows.csv", url, "--table", "t", "--outputs", "prediction", "set", "--quiet"], capsys)
    assert code == 0
    got = pd.read_sql_table("t", sa.create_engine(url))
    assert list(got.columns) == ["row", "prediction", "set_size", "in_set_down", "in_set_up"]


def test_score_drift_alert_exits_3_with_one_line(files, tmp_path, capsys):
    d = files["dir"]
    code, _, err = run(["score", d / "reg.skops", d / "shifted.parquet", tmp_path / "o", "--profile", d / "prof.json", "--quiet"], capsys)
    assert code == _cli_predict.EXIT_DRIFT == 3
    assert err.count("\n") == 1 and err.startswith("drift alert: 2 of 3 column(s) flagged: a (psi")
    assert len(pd.read_parquet(tmp_path / "o")) == 1500  # the scores are written all the same


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["score", "{d}/nothere.skops", "{d}/rows.csv", "{t}/o.csv"], "causalinfer score: error: model file"),
        (["score", "{d}/reg.skops", "{d}/rows.csv", "{t}/o.csv", "--outputs", "set"], "gives no prediction sets"),
        (["score", "{d}/reg.skops", "{d}/rows.csv", "{t}/o.csv", "--chunk-size", "0"], "`chunk_size` must be an integer >= 1"),
        (["score", "{d}/reg.skops", "{d}/rows.csv", "{t}/o.csv", "--profile", "{d}/rows.csv"], "is not a saved profile"),
        (["drift", "{d}/prof.json", "{d}/missing.csv"], "causalinfer drift: error: CURRENT"),
        (["drift", "{d}/rows.csv", "{d}/rows.csv", "--columns", "zz"], "not in the reference data"),
        (["drift", "{d}/prof.json", "{d}/rows.csv", "--columns", "zz"], "which the profile does not hold"),
    ],
)
def test_failures_print_one_line_and_exit_1(files, tmp_path, capsys, argv, message):
    argv = [a.format(d=files["dir"], t=tmp_path) for a in argv]
    code, _, err = run(argv, capsys)
    assert code == 1
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_drift_from_data_writes_a_reusable_profile(files, tmp_path, capsys):
    d = files["dir"]
    prof = tmp_path / "ref.json"
    code, text, err = run(["drift", d / "rows.csv", d / "shifted.parquet", "--columns", "a", "b", "--profile-out", prof], capsys)
    assert code == 3 and "Drift check against a reference profile" in text
    assert "a (psi" in err and "b (psi" not in err
    assert Profile.from_json(prof.read_text()).columns == ("a", "b")
    code, text, err = run(["drift", prof, d / "rows.csv", "--quiet"], capsys)
    assert (code, text, err) == (0, "", "")


def test_drift_reads_a_directory_of_csv_files_in_chunks(files, tmp_path, capsys):
    cur = tmp_path / "incoming"
    cur.mkdir()
    X = files["X"]
    X.iloc[:700].to_csv(cur / "day1.csv", index=False)
    X.iloc[700:].to_csv(cur / "day2.csv", index=False)
    code, text, _ = run(["drift", files["dir"] / "prof.json", cur, "--columns", "a", "b", "--chunk-size", "300"], capsys)
    assert code == 0 and "1500" in text


ENTRY = textwrap.dedent(
    """
    import argparse, sys
    from causalinfer import _cli_predict

    parser = argparse.ArgumentParser(prog="causalinfer")
    _cli_predict.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args()
    sys.exit(args.func(args))
    """
)


def test_real_process_exit_codes(files, tmp_path):
    entry = tmp_path / "entry.py"
    entry.write_text(ENTRY)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    d = files["dir"]

    def call(*argv):
        return subprocess.run([sys.executable, str(entry), *map(str, argv)], capture_output=True, text=True, env=env, timeout=120)

    ok = call("score", d / "reg.skops", d / "rows.csv", tmp_path / "o.csv", "--outputs", "prediction", "interval")
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""  # no progress bar when stderr is not a terminal
    drift = call("drift", d / "prof.json", d / "shifted.parquet", "--columns", "a", "--quiet")
    assert drift.returncode == 3 and drift.stderr.startswith("drift alert") and drift.stdout == ""
    bad = call("drift", d / "prof.json", tmp_path / "none.csv")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    usage = call("score", d / "reg.skops")
    assert usage.returncode == 2


def test_score_a_model_fitted_on_an_array_needs_its_column_order(files, tmp_path, capsys):
    d, X = files["dir"], files["X"]
    model = LinearRegression().fit(X[["b", "a"]].to_numpy(), X["a"] - 2 * X["b"])  # positions: b, then a
    path = tmp_path / "arr.skops"
    save_model(model, path)  # no names, no order: nothing recorded
    code, _, err = run(["score", path, d / "rows.csv", tmp_path / "o.csv"], capsys)
    assert code == 1 and "feature_order" in err
    code, _, err = run(["score", path, d / "rows.csv", tmp_path / "o.csv", "--feature-order", "b", "a"], capsys)
    assert code == 0, err
    got = pd.read_csv(tmp_path / "o.csv")
    np.testing.assert_allclose(got["prediction"], X["a"] - 2 * X["b"], rtol=1e-9, atol=1e-9)
