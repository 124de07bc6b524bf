"""The job manifest kept beside a file destination: which job wrote it and which chunks are committed.

The manifest is rewritten atomically (write a temporary file, fsync, rename) after each chunk's output has
been made durable, so after a crash it never claims a chunk that is not on disk; a chunk on disk but not in
the manifest is simply written again (its part file is replaced, or the CSV is truncated to the last
committed byte), which is what makes every input row land in the output exactly once.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from ..exceptions import SourceError
from ._errors import JobConflictError

__all__ = ["Manifest", "job_id", "os_error", "remove_quietly"]

MANIFEST_FORMAT = 1


def job_id(job: dict[str, Any]) -> str:
    """A stable identifier of a scoring job: model hash, source identity and options (the manifest lives in the
    destination). The input's content fingerprint is left out: it is verified, not part of the identity."""
    defining = {k: v for k, v in job.items() if k != "input_fingerprint"}
    return hashlib.sha256(json.dumps(defining, sort_keys=True, default=str).encode()).hexdigest()[:32]


def remove_quietly(path: Path) -> None:
    """Remove a temporary file while handling another error: a failure here must not hide that error."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def os_error(exc: OSError, what: str, committed: int) -> SourceError:
    """A SourceError for a failed write that says why, what is safe, and how to continue."""
    if exc.errno == errno.ENOSPC:
        why = "the disk is full"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "permission denied"
    else:
        why = exc.strerror or str(exc)
    return SourceError(
        f"writing {what} failed: {why} ({type(exc).__name__}: {exc}). {committed} chunk(s) are committed and kept; "
        "fix the cause and run the same job again to resume"
    )


class Manifest:
    """A JSON manifest file, read and rewritten atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}

    def read(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise JobConflictError(
                f"the job manifest {str(self.path)!r} cannot be read ({type(exc).__name__}: {exc}); "
                "remove the destination or pass overwrite=True"
            ) from exc
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or "job" not in data:
            raise JobConflictError(f"{str(self.path)!r} is not a scoring-job manifest; remove it or pass overwrite=True")
        return data

    def start(self, job: dict[str, Any], jid: str) -> None:
        self.data = {"format": MANIFEST_FORMAT, "job_id": jid, "job": job, "status": "running", "chunks": {}, "started": time.time()}
        self.write()

    def resume(self, data: dict[str, Any]) -> None:
        self.data = data

    def record_job(self, job: dict[str, Any]) -> None:
        """Store the job's description anew (same identity, a newer input fingerprint)."""
        self.data["job"] = job
        self.write()

    @property
    def done(self) -> dict[int, dict[str, Any]]:
        return {int(k): v for k, v in self.data.get("chunks", {}).items()}

    def commit(self, index: int, info: dict[str, Any]) -> None:
        self.data["chunks"][str(index)] = info
        try:
            self.write()
        except SourceError:
            del self.data["chunks"][str(index)]
            raise

    def finish(self, totals: dict[str, Any]) -> None:
        self.data["status"] = "complete"
        self.data["totals"] = totals
        self.data["finished"] = time.time()
        self.write()

    def write(self) -> None:
        payload = json.dumps(self.data, sort_keys=True, default=str).encode()
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        try:
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            remove_quietly(tmp)
            raise os_error(exc, f"the job manifest {str(self.path)!r}", len(self.data.get("chunks", {}))) from exc
