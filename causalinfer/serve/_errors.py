"""The one error type of the live host: an HTTP status with a one-line reason for the client."""

from __future__ import annotations

from ..exceptions import CausalInferError

__all__ = ["RequestError"]


class RequestError(CausalInferError, ValueError):
    """A request the host refuses: ``status`` is the HTTP status (4xx for client input), ``str(exc)`` the reason."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(" ".join(str(message).split()))
        self.status = int(status)
        self.headers = dict(headers or {})
