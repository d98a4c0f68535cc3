"""Errors of :mod:`tfless.serving`: what clients see, and what the servers answer."""

from __future__ import annotations


class ServingError(RuntimeError):
    """A serving request failed.

    Attributes:
      status: HTTP status code (REST), or the gRPC status name (gRPC); None when
        the server was never reached.
      message: the server's error message (TF Serving's ``"error"`` field).
      url: the URL or gRPC target of the request.
    """

    def __init__(self, message: str, status=None, url: str | None = None):
        self.status = status
        self.message = message
        self.url = url
        where = f" ({url})" if url else ""
        code = f"HTTP {status}: " if isinstance(status, int) else (f"{status}: " if status else "")
        super().__init__(f"{code}{message}{where}")


class ServingConnectionError(ServingError):
    """The server could not be reached within the retry budget."""


class ModelLoadError(RuntimeError):
    """``tfless-serve`` refused to load an export (missing, corrupted or tampered)."""


class RequestError(Exception):
    """An error answered to the caller with an HTTP status (and gRPC code)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> RequestError:
    """HTTP 400 (gRPC ``INVALID_ARGUMENT``)."""
    return RequestError(400, message)


def not_found(message: str) -> RequestError:
    """HTTP 404 (gRPC ``NOT_FOUND``), with TF Serving's wording in ``message``."""
    return RequestError(404, message)
