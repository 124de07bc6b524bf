"""Fixtures for scoring tests: a small classification problem, a saved model, and a throwaway PostgreSQL server."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

N_ROWS = 2_000


def make_frame(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    frame["color"] = pd.Categorical(rng.choice(["red", "green", "blue"], size=n))
    frame["id"] = np.arange(n, dtype="int64") * 7 + 3
    return frame


def fit_model(frame: pd.DataFrame):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = frame.drop(columns="id")
    y = np.where(features["x0"] + 0.5 * (features["color"] == "red") > 0.2, "yes", "no")
    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["color"]), remainder=StandardScaler())
    return make_pipeline(pre, LogisticRegression()).fit(features, y)


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(scope="session")
def model(frame):
    return fit_model(frame)


@pytest.fixture(scope="session")
def model_path(tmp_path_factory, model, frame) -> Path:
    from causalinfer.predict import save_model

    path = tmp_path_factory.mktemp("model") / "model.skops"
    save_model(model, path, training_data=frame.drop(columns="id"))
    return path


@pytest.fixture(scope="session")
def parquet_path(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("input") / "input.parquet"
    frame.to_parquet(path, row_group_size=300)
    return path


# ---------------------------------------------------------------------------------------------- PostgreSQL
def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server in a temporary directory, run as an unprivileged user."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="ci-pg-"))
        self.data = self.base / "data"
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            os.chown(self.base, 65534, 65534)
            os.chmod(self.base, 0o700)
            runner = shutil.which("runuser")
            self.prefix = [runner, "-u", "nobody", "--"] if runner else ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [*self.prefix, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=self.base)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout}\n{done.stderr}")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-o", opts, "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def cleanup(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("fast")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine; install the postgresql package to run these tests")
    pytest.importorskip("psycopg", reason="the psycopg driver is needed for the PostgreSQL tests (extra 'postgres')")
    server = PostgresServer(bindir)
    server.start()
    yield server
    server.cleanup()
