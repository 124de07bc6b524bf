"""Adaptive micro-batching: requests that arrive while the model is busy share its next call.

No request waits for a timer. When the model is idle a request is scored at once; while a call runs, new requests
queue, and the next call takes all of them (up to ``max_rows``). Under light load every call holds one request;
under heavy load calls grow with the load. Batching is used only for a model whose predictions on many rows are
bit for bit those on one row at a time (see :func:`~causalinfer.serve._model.batch_invariant`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ._errors import RequestError

__all__ = ["MicroBatcher"]


class MicroBatcher:
    def __init__(
        self, predict: Callable[[pd.DataFrame], dict[str, Any]], *, max_rows: int = 1024, on_call: Callable[[], None] | None = None
    ) -> None:
        self.predict = predict
        self.max_rows = max_rows
        self.on_call = on_call or (lambda: None)
        self.pending: list[tuple[pd.DataFrame, asyncio.Future[Any]]] = []
        self.busy = False

    async def submit(self, frame: pd.DataFrame) -> dict[str, Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append((frame, fut))
        if not self.busy:
            self._next()
        return await fut  # type: ignore[no-any-return]

    def _next(self) -> None:
        take: list[tuple[pd.DataFrame, asyncio.Future[Any]]] = []
        rows = 0
        while self.pending and (not take or rows + len(self.pending[0][0]) <= self.max_rows):
            item = self.pending.pop(0)
            take.append(item)
            rows += len(item[0])
        if take:
            self.busy = True
            asyncio.get_running_loop().create_task(self._run(take))

    async def _run(self, take: list[tuple[pd.DataFrame, asyncio.Future[Any]]]) -> None:
        try:
            if len(take) == 1:
                results = [await self._call(take[0][0])]
            else:
                results = await self._together(take)
            for (_, fut), res in zip(take, results, strict=True):
                if fut.done():
                    continue
                if isinstance(res, BaseException):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)
        finally:
            self.busy = False
            if self.pending:
                self._next()

    async def _call(self, frame: pd.DataFrame) -> Any:
        self.on_call()
        try:
            return await asyncio.to_thread(self.predict, frame)
        except Exception as exc:  # handed to the request's own future
            return exc

    async def _together(self, take: list[tuple[pd.DataFrame, asyncio.Future[Any]]]) -> list[Any]:
        frames = [f for f, _ in take]
        joined = await self._call(pd.concat(frames, ignore_index=True))
        if isinstance(joined, RequestError):  # one request holds a value the model refuses: score each alone
            return [await self._call(f) for f in frames]
        if isinstance(joined, BaseException):
            return [joined] * len(frames)
        bounds = np.cumsum([0] + [len(f) for f in frames])
        return [{k: v[a:b] for k, v in joined.items()} for a, b in itertools.pairwise(bounds)]
