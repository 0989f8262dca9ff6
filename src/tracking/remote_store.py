"""The tracking server as a client sees it: fail fast when it is unreachable.

`tracking=server` points runs at a server by URL. Before the first request
to it, `check_server` asks `<uri>/health` with a short timeout, so that an
unreachable server fails in seconds with its URL instead of after MLflow's
HTTP retries (7 retries with exponential back-off by default: minutes).
Running a server is `src/tracking/server.py`'s business.
"""

from __future__ import annotations

import os
import re
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from src.errors import UserError

# MLflow's HTTP client retries 7 times with a back-off factor of 2 and a 120 s
# timeout per request. Once the server has answered the health check, a few
# short retries are enough to ride out a restart; set these variables to change it.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    # MLflow prints "View run ... at: <url>" as a run ends, a link that opens the UI's GenAI
    # view; TrackedRun.finish prints the link to the Model training view instead.
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
HEALTH_TIMEOUT_S = 5.0
_REACHABLE: set[str] = set()


def redact(uri: str) -> str:
    """The URI without any user:password@ part."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=f"***@{netloc}"))


def check_server(uri: str, timeout: float = HEALTH_TIMEOUT_S) -> None:
    """Fail fast, in one line naming the URL, when the server at `uri` does not answer.

    Any HTTP answer counts as reachable (a server behind authentication may
    answer 401); a refused connection, a DNS failure or a timeout does not."""
    if uri in _REACHABLE:
        return
    parts = urlsplit(uri)
    if parts.username is not None or parts.password is not None:
        raise UserError(
            f"the tracking URI {redact(uri)} carries credentials; it is recorded with every run, so put them "
            "in MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) instead"
        )
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)

    import requests

    verify: bool | str = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or not _truthy(
        os.environ.get("MLFLOW_TRACKING_INSECURE_TLS")
    )
    try:
        requests.get(uri.rstrip("/") + "/health", timeout=(timeout, timeout), verify=verify)
    except requests.exceptions.SSLError as exc:
        raise UserError(f"the MLflow tracking server at {uri} failed the TLS handshake: {_reason(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise UserError(
            f"the MLflow tracking server at {uri} is unreachable ({_reason(exc)}); start one with "
            "`make server`, or point MLFLOW_SERVER_URI (tracking=server) or tracking.uri at a running server"
        ) from None
    _REACHABLE.add(uri)


def _truthy(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _reason(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, short."""
    text = str(exc)
    for pattern in (
        r"\[Errno -?\d+\] ([^'\")\]]+)",
        r"(timed out)",
        r"(Connection refused)",
        r"(Name or service not known)",
    ):
        match = re.search(pattern, text)
        if match:
            return match.group(1).strip()
    if "Timeout" in type(exc).__name__:
        return "timed out"
    return type(exc).__name__
