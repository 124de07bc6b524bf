"""Exactly once after a crash: a scoring job killed with SIGKILL in the middle, then run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from causalinfer.predict import SQLDestination, score

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only")

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import causalinfer.predict._score as S
    from causalinfer.predict import SQLDestination, score

    model, source, dest, beacon = sys.argv[1:5]
    if dest.startswith("sqlite:"):
        dest = SQLDestination(dest, "scores")
    real = S.predict_frame
    count = 0

    def slow(*args, **kwargs):  # slow scoring down so the parent can kill the job part-way
        global count
        count += 1
        Path(beacon).write_text(str(count))
        time.sleep(0.03)
        return real(*args, **kwargs)

    S.predict_frame = slow
    score(model, source, dest, chunk_size=100, key="id", outputs=["prediction", "proba"], progress=False)
    """
)


def read_back(dest):
    if isinstance(dest, SQLDestination):
        return pd.read_sql_table("scores", sa.create_engine(dest.connection))
    return pd.read_csv(dest) if str(dest).endswith(".csv") else pd.read_parquet(dest)


@pytest.mark.parametrize("dest_kind", ["parquet", "csv", "sqlite"])
def test_sigkill_mid_job_then_rerun_writes_every_row_once(dest_kind, tmp_path, model_path, parquet_path, model, frame):
    dest_arg = {"parquet": str(tmp_path / "out"), "csv": str(tmp_path / "out.csv"), "sqlite": f"sqlite:///{tmp_path / 'out.db'}"}[dest_kind]
    beacon = tmp_path / "beacon"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, str(script), str(model_path), str(parquet_path), dest_arg, str(beacon)], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = beacon.read_text().strip() if beacon.exists() else ""
            if text.isdigit() and int(text) >= 5:
                break
            assert proc.poll() is None, "the scoring job ended before it could be killed"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    dest = SQLDestination(dest_arg, "scores") if dest_kind == "sqlite" else Path(dest_arg)
    partial = read_back(dest)
    assert 0 < len(partial) < len(frame)

    res = score(model_path, parquet_path, dest, chunk_size=100, key="id", outputs=["prediction", "proba"], progress=False)
    assert res.details["rows_skipped"] > 0
    assert res.rows_written > 0
    assert res.details["rows_skipped"] + res.rows_written == len(frame)
    out = read_back(dest).sort_values("id").reset_index(drop=True)
    assert out["id"].is_unique
    assert out["id"].tolist() == frame["id"].tolist()
    features = frame.drop(columns="id")
    pd.testing.assert_series_equal(out["proba_yes"], pd.Series(model.predict_proba(features)[:, 1], name="proba_yes"), rtol=1e-9, atol=0)
    again = score(model_path, parquet_path, dest, chunk_size=100, key="id", outputs=["prediction", "proba"], progress=False)
    assert again.details["status"] == "already complete"
    assert again.rows_written == 0
