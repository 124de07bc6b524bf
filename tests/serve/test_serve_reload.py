"""Hot reload by watching the model file: a changed file is loaded after its checks, a bad one is refused."""

from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette")
pytest.importorskip("prometheus_client")

from sklearn.linear_model import Ridge

from causalinfer.predict import save_model
from causalinfer.serve import create_app


def test_the_file_watch_reloads_a_new_model_and_keeps_the_old_one_on_a_bad_file(tmp_path):
    X = pd.DataFrame(np.random.default_rng(3).normal(size=(60, 2)), columns=["a", "b"])
    path = tmp_path / "m.skops"
    save_model(Ridge().fit(X, X["a"]), path, training_data=X)
    host = create_app(path, reload_interval=0.02).state.host
    v1 = host.current[0].version

    async def watch_while(change) -> None:
        task = asyncio.create_task(host.watch())
        await asyncio.sleep(0.05)
        change()
        for _ in range(200):
            await asyncio.sleep(0.02)
            if host.stamp == host._stamp() and host.metrics.reloads._metrics:
                break
        task.cancel()

    asyncio.run(watch_while(lambda: path.write_bytes(path.read_bytes() + b"\0")))  # tampered: hash mismatch
    assert host.current[0].version == v1
    assert host.metrics.reloads.labels("refused")._value.get() >= 1
    second = Ridge(alpha=10.0).fit(X, X["b"])
    asyncio.run(watch_while(lambda: save_model(second, path, training_data=X, overwrite=True)))
    assert host.current[0].version != v1
    assert np.array_equal(host.current[0].predict(X)["prediction"], second.predict(X))
