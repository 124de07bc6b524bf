"""The key check of a scoring job holds a bounded number of keys in memory, however many chunks the job has.

It used to keep an 8-byte hash of every key seen, so a job's memory grew with its rows (about 80 MB of hashes
and as much again while merging them at 10^7 rows); now older keys go to temporary files and are checked when
the input has been read.
"""

from __future__ import annotations

import json
import tempfile

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from causalinfer.exceptions import DataError
from causalinfer.predict import _keys, _score, score
from causalinfer.predict._keys import KeyCheck


def _label(row):
    return f"row {row}"


def _chunks(keys, size):
    for start in range(0, len(keys), size):
        yield pd.DataFrame({"id": keys[start : start + size]}), start


def test_keys_held_in_memory_do_not_grow_with_the_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    keys = np.random.default_rng(0).permutation(40_000)
    kc = KeyCheck(["id"], _label, memory_rows=2_000)
    held = []
    for chunk, offset in _chunks(keys, 1_000):
        kc.add(chunk, offset)
        held.append(kc.rows_in_memory)
    kc.finish()
    assert max(held) <= 3_000 and kc.spilled + kc.rows_in_memory == 40_000
    assert any(tmp_path.iterdir())
    kc.close()
    assert not any(tmp_path.iterdir())  # the temporary files are gone


@pytest.mark.parametrize("memory_rows", [10, 400, 10**6])
def test_a_repeat_is_found_in_memory_or_on_disk_with_both_rows(memory_rows):
    # 1,500 rows: with 10 keys in memory the 64 files of the first split hold ~23 pairs each and are split again
    keys = np.arange(1_500) * 7
    keys[1_203] = keys[11]
    kc = KeyCheck(["id"], _label, memory_rows=memory_rows)

    def run():
        for chunk, offset in _chunks(keys, 300):
            kc.add(chunk, offset)
        kc.finish()

    try:
        with pytest.raises(DataError) as err:
            run()
    finally:
        kc.close()
    if memory_rows == 10**6:  # all keys in memory: refused before its chunk, as before
        assert "`key` 77 at row 1203 repeats a key of an earlier row" in str(err.value)
    else:
        assert "the `key` at row 1203 repeats the key at row 11" in str(err.value)
        assert "not marked complete" in str(err.value)


def test_a_scoring_job_keeps_few_keys_in_memory_and_finds_an_old_repeat(tmp_path, monkeypatch):
    monkeypatch.setattr(_keys, "MEMORY_ROWS", 600)
    peaks = []

    class Spy(KeyCheck):
        def add(self, chunk, offset):
            super().add(chunk, offset)
            peaks.append(self.rows_in_memory)

    monkeypatch.setattr(_score, "KeyCheck", Spy)
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.normal(size=50)})
    model = LinearRegression().fit(X, X["x"])
    frame = pd.DataFrame({"id": np.arange(5_000), "x": rng.normal(size=5_000)})
    res = score(model, frame, key="id", chunk_size=250, progress=False)
    assert res.rows_written == 5_000 and max(peaks) <= 850
    frame.loc[1_821, "id"] = 17
    with pytest.raises(DataError, match=r"the `key` at row 1821 of the source \(0-based\) repeats the key at row 17 "):
        score(model, frame.head(2_000), tmp_path / "dup", key="id", chunk_size=250, progress=False)
    manifest = json.loads((tmp_path / "dup" / "_manifest.json").read_text())
    assert manifest["status"] == "running"  # never marked complete
