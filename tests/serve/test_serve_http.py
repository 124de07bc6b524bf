"""The live host as users meet it: a real server process (uvicorn) and a real HTTP client (httpx).

Predictions equal ``model.predict`` bit for bit, bad requests get a 4xx with one line, every request acknowledged
as logged is in the database exactly once even after SIGKILL, and SIGTERM flushes the log.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from causalinfer.cli import main  # noqa: E402
from causalinfer.predict import Profile, SplitConformalRegressor, save_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HTTP = httpx.Client(timeout=60)
TRUST = ("--trust", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``causalinfer serve`` in a child process."""

    def __init__(self, model: Path, *args: str, wait: float = 120) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "causalinfer", "serve", str(model), "--port", str(self.port), *args]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                if httpx.get(self.url + "/v2/health/ready", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(90)
        finally:
            if self.proc.stderr:
                self.stderr = self.proc.stderr.read() if self.proc.poll() is not None else ""
                self.proc.stderr.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(7)
    n = 400
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n) * 10,
            "n": rng.integers(0, 9, size=n),
            "color": rng.choice(["red", "green", "blue"], size=n).astype(object),
        }
    )
    y = (X["a"] + X["b"] / 10 + (X["color"] == "red") > 0.5).to_numpy()
    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["color"]), (StandardScaler(), ["a", "b", "n"]))
    clf = make_pipeline(pre, LogisticRegression()).fit(X, y)
    reg = SplitConformalRegressor(HistGradientBoostingRegressor(max_iter=30, random_state=0), alpha=0.1, random_state=0)
    num = X[["a", "b", "n"]]
    reg.fit(num, 3 * X["a"] - X["b"] / 5 + rng.normal(size=n))
    d = tmp_path_factory.mktemp("serve")
    save_model(clf, d / "clf.skops", training_data=X)
    save_model(reg, d / "reg.skops", training_data=num)
    (d / "profile.json").write_text(Profile.build(X).to_json())
    (d / "profile_other.json").write_text(Profile.build(X.rename(columns={"a": "zz"})).to_json())
    return {"dir": d, "X": X, "clf": clf, "reg": reg, "num": num}


@pytest.fixture(scope="module")
def server(files):
    d = files["dir"]
    srv = Server(d / "clf.skops", "--profile", str(d / "profile.json"), "--log", f"sqlite:///{d / 'scores.db'}", "--max-batch-rows", "100",
                 "--max-body-bytes", "20000")  # fmt: skip
    yield srv
    assert srv.stop() == 0  # SIGTERM: a graceful stop, the log flushed, is a normal exit


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in frame.to_dict("records")]


def logged(db: Path) -> pd.DataFrame:
    with sqlite3.connect(db) as con:
        return pd.read_sql("SELECT * FROM scores", con)


# ---------------------------------------------------------------------- correctness
def test_served_predictions_equal_model_predict_bit_for_bit(server, files):
    X, clf = files["X"], files["clf"]
    rows = X.iloc[:60]
    r = HTTP.post(server.url + "/predict", json=records(rows))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["predictions"] == clf.predict(rows).tolist()
    proba = np.array([[p[str(c)] for c in clf.classes_] for p in body["probabilities"]])
    assert np.array_equal(proba, clf.predict_proba(rows))
    assert r.headers["x-log-status"] == "queued" and body["logged"] == "queued"

    async def one_at_a_time():
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
            return await asyncio.gather(*(c.post("/predict", json=records(X.iloc[[i]])) for i in range(60, 100)))

    answers = asyncio.run(one_at_a_time())
    got = np.array([a.json()["probabilities"][0][str(clf.classes_[1])] for a in answers])
    singles = np.array([clf.predict_proba(X.iloc[[i]])[0, 1] for i in range(60, 100)])
    assert np.array_equal(got, singles)


def test_open_inference_protocol(server, files):
    X, clf = files["X"], files["clf"]
    assert HTTP.get(server.url + "/v2/health/live").json() == {"live": True}
    meta = HTTP.get(server.url + "/v2/models/clf").json()
    assert [i["name"] for i in meta["inputs"]] == ["a", "b", "n", "color"]
    assert [i["datatype"] for i in meta["inputs"]] == ["FP64", "FP64", "INT64", "BYTES"]
    rows = X.iloc[:5]
    dt = {"a": "FP64", "b": "FP64", "n": "INT64", "color": "BYTES"}
    req = {"id": "oip-1", "inputs": [{"name": k, "shape": [5], "datatype": dt[k], "data": rows[k].tolist()} for k in X.columns]}
    r = HTTP.post(server.url + "/v2/models/clf/infer", json=req)
    assert r.status_code == 200, r.text
    out = {o["name"]: o for o in r.json()["outputs"]}
    assert r.json()["id"] == "oip-1"
    assert out["predict"]["data"] == clf.predict(rows).tolist()
    assert out["predict_proba"]["shape"] == [5, 2]
    assert np.array_equal(np.array(out["predict_proba"]["data"]).reshape(5, 2), clf.predict_proba(rows))


def test_openapi_is_generated_from_the_input_schema(server):
    spec = HTTP.get(server.url + "/openapi.json").json()
    record = spec["components"]["schemas"]["Record"]
    assert record["required"] == ["a", "b", "n", "color"] and record["additionalProperties"] is False
    assert record["properties"]["n"]["type"] == ["integer", "null"]
    assert record["properties"]["color"]["examples"] == ["blue", "green", "red"]
    assert spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]["maxItems"] == 100


GOOD = {"a": 0.5, "b": 1.0, "n": 3, "color": "red"}
BAD_REQUESTS = {
    "malformed JSON": (b'[{"a": 1,', 400, "malformed JSON"),
    "not a list": (b'{"a": 1}', 400, "JSON list of records"),
    "empty batch": (b"[]", 422, "empty"),
    "missing field": (json.dumps([GOOD, {k: v for k, v in GOOD.items() if k != "b"}]).encode(), 422, "row 1: missing field 'b'"),
    "wrong type": (
        json.dumps([{**GOOD, "n": "three"}]).encode(),
        422,
        "row 0: field 'n' must be an integer (the model was trained on int64)",
    ),
    "number for text": (json.dumps([{**GOOD, "color": 3}]).encode(), 422, "row 0: field 'color' must be a string"),
    "extra field": (json.dumps([{**GOOD, "zz": 1}]).encode(), 422, "row 0: unexpected field 'zz'"),
    "NaN constant": (b'[{"a": NaN, "b": 1, "n": 3, "color": "red"}]', 400, "NaN is not valid JSON"),
    "batch too large": (json.dumps([GOOD] * 101).encode(), 413, "101 rows, more than this server takes (100)"),
    "body too large": (json.dumps([{**GOOD, "color": "x" * 30000}]).encode(), 413, "more than this server takes (20000)"),
    "record not an object": (b"[1, 2]", 422, "row 0: a record must be a JSON object"),
    "number beyond float": (json.dumps([GOOD, {**GOOD, "a": 10**400}]).encode(), 422, "row 1: field 'a' must be a number"),
    "integer beyond int64": (json.dumps([{**GOOD, "n": 2**63}]).encode(), 422, "row 0: field 'n' must be an integer"),
    "nested too deeply": (b"[" * 5000 + b"]" * 5000, 400, "nested too deeply"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS), ids=list(BAD_REQUESTS))
def test_bad_requests_get_a_4xx_with_one_line(server, case):
    body, status, text = BAD_REQUESTS[case]
    r = HTTP.post(server.url + "/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    msg = r.json()["error"]
    assert text in msg and "\n" not in msg


def test_unknown_model_and_bad_tensors_get_4xx(server):
    r = HTTP.post(server.url + "/v2/models/nope/infer", json={"inputs": []})
    assert r.status_code == 404 and "unknown model 'nope'" in r.json()["error"]
    r = HTTP.post(server.url + "/v2/models/clf/infer", json={"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1.0]}]})
    assert r.status_code == 422 and "missing input 'b'" in r.json()["error"]
    r = HTTP.post(server.url + "/v2/models/clf/infer", json={"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1.0]}]})
    assert r.status_code == 422 and "holds 2 values" in r.json()["error"]


def test_metrics_and_drift_report(server, files):
    HTTP.post(server.url + "/predict", json=records(files["X"].iloc[:50].assign(b=lambda f: f["b"] + 100)))
    text = HTTP.get(server.url + "/metrics").text
    assert 'causalinfer_requests_total{endpoint="predict",status="200"}' in text
    assert "causalinfer_request_seconds_bucket" in text
    assert 'causalinfer_request_errors_total{endpoint="predict",status="422"}' in text
    assert 'causalinfer_drift_alert{feature="b"} 1.0' in text
    assert "causalinfer_model_info{" in text
    drift = HTTP.get(server.url + "/v2/models/clf/drift").json()
    assert drift["type"] == "DriftResult"
    html = HTTP.get(server.url + "/v2/models/clf/drift?format=html")
    assert html.headers["content-type"].startswith("text/html") and "<table" in html.text


def test_durable_requests_are_committed_once_even_when_retried(server, files):
    rows = records(files["X"].iloc[:3])
    for _ in range(2):  # a client retry under the same request id
        r = HTTP.post(server.url + "/predict?durable=true", json=rows, headers={"X-Request-Id": "retry-me"})
        assert r.status_code == 200 and r.headers["x-log-status"] == "committed"
    log = logged(files["dir"] / "scores.db")
    mine = log[log["request_id"] == "retry-me"]
    assert mine["row"].tolist() == [0, 1, 2]
    assert [json.loads(o)["prediction"] for o in mine["output"]] == files["clf"].predict(files["X"].iloc[:3]).tolist()
    assert json.loads(mine["input"].iloc[0]) == rows[0]


def _raw_predict(sock: socket.socket, reader, body: bytes) -> bytes:
    """One request on a connection of our own (no client pool to hide a closed connection); returns the status line."""
    head = f"POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    sock.sendall(head.encode() + body)
    status = reader.readline()
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    reader.read(length)
    return status


def test_an_idle_connection_is_kept_longer_than_clients_keep_it(server):
    # httpx (and most clients and gateways) reuse an idle connection for up to 5 s. A server that closes it after
    # 5 s as well (uvicorn's default) races the client: a request written as the server closes is reset
    # (httpx.ReadError). The server keeps idle connections longer than its clients do.
    body = json.dumps([GOOD]).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock, sock.makefile("rb") as reader:
        assert _raw_predict(sock, reader, body).startswith(b"HTTP/1.1 200")
        time.sleep(5.5)
        assert _raw_predict(sock, reader, body).startswith(b"HTTP/1.1 200")


# ---------------------------------------------------------------------- reliability
async def _hammer(url: str, X: pd.DataFrame, sent: list, acked: list) -> None:
    """Eight clients sending durable one-row requests back to back until the server goes away."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:

        async def client(k: int) -> None:
            i = 0
            while True:
                rid = f"c{k}-{i}"
                i += 1
                sent.append(rid)
                try:
                    r = await c.post("/predict?durable=true", json=records(X.iloc[[i % len(X)]]), headers={"X-Request-Id": rid})
                except httpx.TransportError:
                    return
                if r.status_code == 200 and r.headers.get("x-log-status") == "committed":
                    acked.append(rid)

        await asyncio.gather(*(client(k) for k in range(8)))


def test_sigkill_under_load_loses_nothing_acknowledged(files, tmp_path):
    db = tmp_path / "kill.db"
    model = files["dir"] / "reg.skops"
    srv = Server(model, "--log", f"sqlite:///{db}", *TRUST)
    sent: list[str] = []
    acked: list[str] = []

    async def run() -> None:
        task = asyncio.create_task(_hammer(srv.url, files["num"], sent, acked))
        while len(acked) < 40 and not task.done():  # kill once enough requests are acknowledged, with more in flight
            await asyncio.sleep(0.01)
        srv.proc.send_signal(signal.SIGKILL)
        await task

    asyncio.run(run())
    assert srv.stop() == -signal.SIGKILL
    assert len(acked) >= 40 and len(sent) > len(acked)
    log = logged(db)
    counts = log.groupby("request_id").size()
    assert counts.max() == 1  # single-row requests: every request id once
    assert set(acked) <= set(log["request_id"])
    assert set(log["request_id"]) <= set(sent)
    # restart on the same database and carry on; then SIGTERM: requests in flight are answered, the log is flushed
    srv2 = Server(model, "--log", f"sqlite:///{db}", *TRUST)
    r = HTTP.post(srv2.url + "/predict?durable=true", json=records(files["num"].iloc[:2]), headers={"X-Request-Id": "after-restart"})
    assert r.status_code == 200 and r.headers["x-log-status"] == "committed"
    assert r.json()["intervals"][0][0] < r.json()["predictions"][0] < r.json()["intervals"][0][1]
    X, reg = files["num"], files["reg"]

    async def queued() -> list:
        async with httpx.AsyncClient(base_url=srv2.url, timeout=60) as c:
            return await asyncio.gather(
                *(c.post("/predict", json=records(X.iloc[[i]]), headers={"X-Request-Id": f"t{i}"}) for i in range(100))
            )

    answers = asyncio.run(queued())
    assert {a.headers["x-log-status"] for a in answers} == {"queued"}
    assert [a.json()["predictions"][0] for a in answers] == reg.predict(X.iloc[:100]).tolist()  # micro-batched, bit for bit
    assert srv2.stop(signal.SIGTERM) == 0  # requests in flight answered and the log flushed: a normal exit
    log = logged(db)
    assert log.groupby("request_id").size().loc["after-restart"] == 2
    assert {f"t{i}" for i in range(100)} <= set(log["request_id"])
    assert log.groupby("request_id").size().max() <= 2


def test_token_reload_and_untrusted_reload(files, tmp_path):
    import shutil

    for f in ("reg.skops", "reg.skops.json"):
        shutil.copy(files["dir"] / f, tmp_path / f)
    srv = Server(tmp_path / "reg.skops", "--no-log", "--token", "s3cret", "--access-log", *TRUST)
    try:
        auth = {"Authorization": "Bearer s3cret"}
        assert HTTP.get(srv.url + "/v2/health/ready").status_code == 200  # health checks stay open
        assert HTTP.get(srv.url + "/v2/models/reg").status_code == 401
        v1 = HTTP.get(srv.url + "/v2/models/reg", headers=auth).json()["versions"][0]
        # a tampered file (its hash no longer matches the sidecar) is refused; the old model keeps serving
        (tmp_path / "reg.skops").write_bytes((tmp_path / "reg.skops").read_bytes() + b"\0")
        r = HTTP.post(srv.url + "/v2/repository/models/reg/load", headers=auth)
        assert r.status_code == 422 and f"still serving version {v1}" in r.json()["error"]
        assert HTTP.post(srv.url + "/predict", json=records(files["num"].iloc[:1]), headers=auth).status_code == 200
        # a new, valid model is loaded
        new = SplitConformalRegressor(HistGradientBoostingRegressor(max_iter=5), alpha=0.2, random_state=1)
        new.fit(files["num"], files["num"]["a"])
        save_model(new, tmp_path / "reg.skops", training_data=files["num"], overwrite=True)
        r = HTTP.post(srv.url + "/v2/repository/models/reg/load", headers=auth)
        assert r.status_code == 200, r.text
        assert r.json()["version"] != v1
        got = HTTP.post(srv.url + "/predict", json=records(files["num"].iloc[:4]), headers=auth).json()
        assert got["predictions"] == new.predict(files["num"].iloc[:4]).tolist() and got["alpha"] == 0.2
    finally:
        srv.stop()
    access = [json.loads(line) for line in srv.stderr.splitlines() if line.startswith("{")]
    assert {"request_id", "method", "path", "status", "ms"} <= set(access[0])
    assert [a["status"] for a in access if a["path"] == "/v2/repository/models/reg/load"] == [422, 200]


def _counter(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def test_metrics_of_several_workers_are_summed_and_sigterm_exits_0(files):
    srv = Server(files["dir"] / "reg.skops", "--no-log", "--workers", "2", *TRUST, wait=300)  # three processes to start
    try:

        async def send() -> list:
            async with httpx.AsyncClient(base_url=srv.url, timeout=60) as c:  # 12 connections: both workers answer
                return await asyncio.gather(*(c.post("/predict", json=records(files["num"].iloc[[i]])) for i in range(12)))

        assert {r.status_code for r in asyncio.run(send())} == {200}
        for _ in range(4):  # whichever worker answers the scrape reports every worker's requests
            with httpx.Client(timeout=60) as fresh:
                text = fresh.get(srv.url + "/metrics").text
            assert _counter(text, 'causalinfer_requests_total{endpoint="predict",status="200"}') == 12
            assert _counter(text, "causalinfer_predicted_rows_total") == 12
        info = [line for line in text.splitlines() if line.startswith("causalinfer_model_info{")]
        assert info and all('pid="' in line for line in info)  # per-worker gauges carry the worker's pid
    finally:
        code = srv.stop()
    assert code == 0


# ---------------------------------------------------------------------- the command's own checks
def _one_line_error(capsys, argv: list[str], text: str) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and text in err, err


def test_command_refuses_bad_input_in_one_line(files, tmp_path, capsys):
    d = files["dir"]
    _one_line_error(capsys, ["serve", str(tmp_path / "none.skops")], "does not exist")
    tampered = tmp_path / "t.skops"
    tampered.write_bytes((d / "clf.skops").read_bytes() + b"x")
    (tmp_path / "t.skops.json").write_text((d / "clf.skops.json").read_text())
    _one_line_error(capsys, ["serve", str(tampered), "--no-log"], "does not match its metadata")
    _one_line_error(
        capsys, ["serve", str(d / "clf.skops"), "--profile", str(d / "profile_other.json"), "--no-log"], "the model does not take"
    )
    _one_line_error(capsys, ["serve", str(d / "reg.skops"), "--no-log"], "contains types that are not trusted")
    _one_line_error(capsys, ["serve", str(d / "clf.skops"), "--no-log", "--port", "70000"], "--port must be between 1 and 65535")
    _one_line_error(capsys, ["serve", str(d / "clf.skops"), "--no-log", "--workers", "0"], "--workers must be at least 1")
    blocker = tmp_path / "file"
    blocker.write_text("")
    _one_line_error(capsys, ["serve", str(d / "clf.skops"), "--log", f"sqlite:///{blocker}/x.db"], "cannot be written")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        _one_line_error(capsys, ["serve", str(d / "clf.skops"), "--no-log", "--port", str(port)], f"cannot listen on 127.0.0.1:{port}")


def test_command_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "examples" in out and "--profile" in out and "exit codes" in out
