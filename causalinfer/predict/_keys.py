"""The key check of a scoring job: every row has a key and no key repeats, in memory bounded whatever the input size.

Each key is reduced to a 64-bit hash and remembered with its row number (its position in the source). The
pairs of the most recent rows are kept in memory as sorted runs, and each new chunk is checked against them
before it is scored, so a repeat among them is refused before its chunk is written. Once more than
``memory_rows`` pairs are held, they are moved to a temporary folder, split into files by the leading bits of
the hash; those older rows are checked when the input has been read, before the job is marked complete, one
file at a time (a file larger than ``memory_rows`` pairs is split again by the next bits). Memory therefore stays
within about three times ``memory_rows`` pairs of 16 bytes, and the disk holds 16 bytes per row until the job ends.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataError, SourceError

__all__ = ["MEMORY_ROWS", "KeyCheck"]

#: Key hashes (with their row numbers, 16 bytes each) held in memory before the older ones go to disk.
MEMORY_ROWS = 1 << 19
PAIR = np.dtype([("hash", "<u8"), ("row", "<i8")])
BITS = 6  # 64 files per split


class KeyCheck:
    """Refuses a missing or repeated key, naming the row (see the module docstring for how memory stays bounded)."""

    def __init__(self, keys: Sequence[str], row_label: Callable[[int], str], *, memory_rows: int | None = None) -> None:
        self.keys = list(keys)
        self.row_label = row_label
        self.memory_rows = int(MEMORY_ROWS if memory_rows is None else memory_rows)
        self.runs: list[np.ndarray] = []  # sorted by hash; dtype PAIR
        self.folder: Path | None = None
        self.spilled = 0

    @property
    def rows_in_memory(self) -> int:
        return sum(len(r) for r in self.runs)

    def add(self, chunk: pd.DataFrame, offset: int) -> None:
        if not self.keys:
            return
        ident = chunk[self.keys]
        missing = ident.isna().any(axis=1).to_numpy()
        if missing.any():
            row = int(missing.argmax())
            col = next(k for k in self.keys if pd.isna(ident[k].iloc[row]))
            raise DataError(
                f"`key` column {col!r} is missing at {self.row_label(offset + row)}; every row needs a key to be scored "
                "exactly once. Fill in the key or drop the row"
            )
        hashes = pd.util.hash_pandas_object(ident, index=False).to_numpy()
        self._check_repeats(ident, hashes, offset)
        run = np.empty(hashes.size, dtype=PAIR)
        run["hash"], run["row"] = hashes, np.arange(offset, offset + hashes.size)
        self._push(run[np.argsort(hashes, kind="stable")])
        if self.rows_in_memory > self.memory_rows:
            self._spill()

    def _check_repeats(self, ident: pd.DataFrame, hashes: np.ndarray, offset: int) -> None:
        order = np.argsort(hashes, kind="stable")
        ranked = hashes[order]
        within = np.flatnonzero(ranked[1:] == ranked[:-1])
        rows = sorted(int(order[i + 1]) for i in within)
        earlier: list[int] = []
        for run in self.runs:
            pos = np.minimum(np.searchsorted(run["hash"], hashes), len(run) - 1)
            earlier.extend(np.flatnonzero(run["hash"][pos] == hashes).tolist())
        bad = sorted(set(rows) | set(earlier))
        if bad:
            row = bad[0]
            value = ident.iloc[row].tolist()
            shown = value[0] if len(value) == 1 else tuple(value)
            raise DataError(
                f"`key` {shown!r} at {self.row_label(offset + row)} repeats a key of an earlier row ({len(bad)} repeated "
                "key(s) in this chunk); keys must identify rows uniquely, or the output could not be matched back. "
                "Remove the duplicates or choose a key that is unique"
            )

    def _push(self, run: np.ndarray) -> None:
        self.runs.append(run)
        while len(self.runs) > 1 and len(self.runs[-1]) >= len(self.runs[-2]):
            last = self.runs.pop()
            both = np.concatenate([self.runs[-1], last])  # older rows first, so a stable sort keeps rows in order
            self.runs[-1] = both[np.argsort(both["hash"], kind="stable")]

    def _spill(self) -> None:
        """Move the pairs held in memory to the files of the temporary folder, by the leading bits of the hash."""
        try:
            if self.folder is None:
                self.folder = Path(tempfile.mkdtemp(prefix="causalinfer-keys-"))
            for run in self.runs:
                _append_split(run, self.folder, 0)
        except OSError as exc:
            raise SourceError(
                f"the key check could not write its temporary files ({type(exc).__name__}: {exc}); free some space in "
                f"the temporary folder ({tempfile.gettempdir()!r}, set by TMPDIR) and run the job again"
            ) from exc
        self.spilled += self.rows_in_memory
        self.runs = []

    def finish(self) -> None:
        """Check the rows moved to disk (and those still in memory) for a repeated key; raise DataError naming it."""
        if self.folder is None:
            return
        self._spill()
        try:
            first = _first_repeat(self.folder, 0, self.memory_rows)
        except OSError as exc:
            raise SourceError(f"the key check could not read its temporary files ({type(exc).__name__}: {exc})") from exc
        if first is not None:
            later, earlier = first
            raise DataError(
                f"the `key` at {self.row_label(later)} repeats the key at {self.row_label(earlier)}; keys must identify rows "
                "uniquely, or the output could not be matched back. The chunks scored so far are kept but the job is not "
                "marked complete: remove the duplicates (or choose a key that is unique) and score again with resume=False"
            )

    def close(self) -> None:
        """Remove the temporary folder (never raises: it runs while another error may be on its way)."""
        if self.folder is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.folder)
            self.folder = None


def _bucket_of(hashes: np.ndarray, level: int) -> np.ndarray:
    shift = 64 - BITS * (level + 1)
    return ((hashes >> np.uint64(max(shift, 0))) & np.uint64((1 << BITS) - 1)).astype(np.int64)


def _append_split(pairs: np.ndarray, folder: Path, level: int) -> None:
    """Append ``pairs`` to the files ``folder/00`` ... ``folder/63`` by the hash bits of split ``level``."""
    buckets = _bucket_of(pairs["hash"], level)
    order = np.argsort(buckets, kind="stable")
    bounds = np.searchsorted(buckets[order], np.arange((1 << BITS) + 1))
    for b in range(1 << BITS):
        if bounds[b + 1] > bounds[b]:
            with open(folder / f"{b:02d}", "ab") as fh:
                pairs[order[bounds[b] : bounds[b + 1]]].tofile(fh)


def _first_repeat(folder: Path, level: int, memory_rows: int) -> tuple[int, int] | None:
    """The earliest row (in source order) whose key hash occurs at an earlier row, with that earlier row."""
    best: tuple[int, int] | None = None
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        size = path.stat().st_size // PAIR.itemsize
        if size > memory_rows and BITS * (level + 2) <= 64:
            sub = folder / (path.name + ".d")
            sub.mkdir()
            for start in range(0, size, memory_rows):
                _append_split(np.fromfile(path, dtype=PAIR, count=memory_rows, offset=start * PAIR.itemsize), sub, level + 1)
            path.unlink()
            found = _first_repeat(sub, level + 1, memory_rows)
        else:
            found = _repeat_in(np.fromfile(path, dtype=PAIR))
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    return best


def _repeat_in(pairs: np.ndarray) -> tuple[int, int] | None:
    pairs = pairs[np.argsort(pairs["hash"], kind="stable")]  # written in row order, so rows stay sorted within a hash
    h, r = pairs["hash"], pairs["row"]
    again = np.flatnonzero(h[1:] == h[:-1]) + 1
    if again.size == 0:
        return None
    i = int(again[np.argmin(r[again])])  # within a hash the rows are sorted, so the earliest repeat is a group's second
    return int(r[i]), int(r[i - 1])
