"""The embedded SQLite store: where its file is, and how its connections are tuned.

In its default rollback-journal mode SQLite copies every page a commit
touches into a journal and syncs both; as the store grows, a run's metric
inserts touch more index pages and its writes slowed from 31 to 49 ms over
150 runs (measured). With write-ahead logging (WAL) and synchronous=NORMAL a
commit appends to the log instead: 42 ms against 58 ms per run over those 150
runs, with less growth. A crash or power loss can lose the last commits,
never corrupt the file; readers (the UI, the report) are not blocked by
writers.

Only the store's own connections are tuned (other SQLite databases the
process opens are left alone), and only when its folder is writable (WAL
keeps two side files there). WAL mode persists in the file, and a WAL file
cannot be opened from a read-only copy or mount, so at exit the process
resets the store to rollback-journal mode (about 1 ms; when another process
still has it open, the last one out does it). WAL needs the store on a local
disk, not a network file system.

A WAL store keeps its latest commits in `mlflow.db-wal` until a checkpoint
copies them into `mlflow.db`; so that a plain copy of `mlflow.db` holds every
finished run even after a kill -9, each run's end checkpoints the log
(`checkpoint`). Creating a new store runs MLflow's schema migrations, which two
processes must not run at once: `creation_lock` serializes them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Iterator, Optional

PREFIX = "sqlite:///"

# Store files this process has tuned, and the connections it holds to them
# (closed at exit before the journal mode is reset).
_STORES: set[str] = set()
_CONNECTIONS: list[Any] = []


def sqlite_database(uri: str) -> Optional[Path]:
    """The database file of a `sqlite:///...` URI (None for other and in-memory stores)."""
    path = uri[len(PREFIX) :].split("?", 1)[0] if uri.startswith(PREFIX) else ""
    return Path(path) if path and path != ":memory:" else None


def tune_sqlite_store(uri: str) -> None:
    """WAL for the connections this process opens to the store at `uri`, and
    the file back in rollback-journal mode when the process exits."""
    database = sqlite_database(uri)
    if database is None:
        return
    path = os.path.realpath(database)
    if path in _STORES or not os.access(os.path.dirname(path), os.W_OK):
        return
    if not _STORES:
        import atexit

        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "connect", _on_connect)
        atexit.register(reset_journals)
    _STORES.add(path)


def _on_connect(dbapi_connection: Any, record: Any) -> None:
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        main = next((row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"), "")
        if main and os.path.realpath(main) in _STORES:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            _CONNECTIONS.append(dbapi_connection)
    except sqlite3.OperationalError:
        pass  # a store another process holds, or a device like /dev/full: MLflow reports it
    finally:
        cursor.close()


def reset_journals() -> None:
    """At exit: close this process's store connections, then put each store
    back in rollback-journal mode unless another process still uses it."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if event.contains(Engine, "connect", _on_connect):
        event.remove(Engine, "connect", _on_connect)  # later connections (other exit hooks) stay plain
    for connection in _CONNECTIONS:
        with suppress(sqlite3.Error):
            connection.close()
    _CONNECTIONS.clear()
    for path in _STORES:
        try:
            connection = sqlite3.connect(path, timeout=0.1)
            try:
                connection.execute("PRAGMA journal_mode=DELETE")
            finally:
                connection.close()
        except sqlite3.Error:
            pass  # still open elsewhere (that process resets it) or gone


@contextmanager
def creation_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock, across processes of this machine, while the
    store at `uri` is opened (and, if new, created and migrated): two sweeps
    started at once on a new store would otherwise both migrate its schema,
    and one would fail (`duplicate column name`). The lock file lives in the
    temporary folder, keyed by the store's path, so nothing is added beside the
    store; other URIs need no lock."""
    database = sqlite_database(uri)
    if database is None:
        yield
        return
    import fcntl

    key = hashlib.sha256(os.path.realpath(database).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"mlvsdl-store-{key}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def checkpoint(uri: str) -> None:
    """Copy the write-ahead log of the store at `uri` into the database file
    (when this process put it in WAL mode): what is committed is then in
    `mlflow.db` itself, whatever happens to the process next. About 1 ms."""
    import sqlite3

    database = sqlite_database(uri)
    if database is None or os.path.realpath(database) not in _STORES:
        return
    with suppress(sqlite3.Error):  # busy for 5 s (another writer): its own run's end checkpoints
        connection = sqlite3.connect(database, timeout=5)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            connection.close()
