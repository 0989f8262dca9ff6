"""The store checked once, before MLflow touches it: fail in seconds, in one line.

Left to MLflow, an unusable store costs minutes and screens of tracebacks:
its engine retries a failing first connection 10 times with exponential
back-off (about 100 s), logging a warning each time, before the error. So the
first time a process opens a store, `check_store` looks at it directly:

- an SQLite file: it must be an SQLite database (not a corrupt or foreign
  file), and writable with its folder when the caller writes; a missing file
  is created only when the caller may create one (training may, the report
  may not, so that a typo in --tracking-uri does not make a new store);
- a database server (PostgreSQL, MySQL): one connection with a 5 s timeout.

Errors name the store with any password masked (src/tracking/secrets.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from src.errors import UserError
from src.tracking.secrets import has_password, mask_secrets
from src.tracking.sqlite_store import sqlite_database

CONNECT_TIMEOUT_S = 5
_SERVERS = ("postgresql", "postgres", "mysql")


def short_error(exc: BaseException) -> str:
    """One line of a store error, without SQLAlchemy's statement dump, passwords masked."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    return mask_secrets(first.split(" [SQL", 1)[0].split(" (Background on this error", 1)[0])


def check_store(uri: str, create: bool = True) -> None:
    """Raise a one-line UserError naming the store when it cannot be used."""
    if sqlite_database(uri) is not None:
        _check_sqlite(uri, sqlite_database(uri), create)  # type: ignore[arg-type]
    elif uri.split(":", 1)[0].split("+", 1)[0] in _SERVERS:
        _check_server_database(uri)


def _check_sqlite(uri: str, database: Path, create: bool) -> None:
    import sqlite3

    if not database.exists():
        if not create:
            raise UserError(
                f"no MLflow store at {database}: nothing has been recorded there (check --tracking-uri "
                "or $MLFLOW_TRACKING_URI; the report reads an existing store and never creates one)"
            )
        folder = next((p for p in database.parents if p.exists()), Path("/"))
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            reason = "not a folder" if not folder.is_dir() else "read-only"
            raise UserError(f"cannot write to the MLflow store at {uri}: {folder} is {reason}")
        return
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=CONNECT_TIMEOUT_S)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise UserError(
            f"the MLflow store at {uri} cannot be read ({exc}); is it an SQLite database? "
            "Move it aside, or point tracking.uri / --tracking-uri at another store"
        ) from None
    if create:
        for path in (database, database.parent):
            if not os.access(path, os.W_OK):
                raise UserError(f"cannot write to the MLflow store at {uri}: {path} is read-only")


def _check_server_database(uri: str) -> None:
    import sqlalchemy

    from src.tracking.postgres import sqlalchemy_uri

    try:
        engine = sqlalchemy.create_engine(sqlalchemy_uri(uri), connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        try:
            engine.connect().close()
        finally:
            engine.dispose()
    except Exception as exc:
        hint = " (a password belongs in PGPASSWORD or ~/.pgpass, not in the URI)" if has_password(uri) else ""
        raise UserError(
            f"the MLflow store at {mask_secrets(uri)} cannot be reached: {short_error(exc)}{hint}"
        ) from None
