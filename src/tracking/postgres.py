"""A PostgreSQL cluster of our own for the tracking server's backend store,
and the URI spellings MLflow and libpq each want.

Without `--store`, `make server` keeps a cluster in `.mlflow-server/pgdata`
(initdb + pg_ctl from Debian's `postgresql` package), listening on loopback
only. The tests start throwaway clusters the same way (`LocalPostgres`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from src.errors import UserError


def postgres_bindir() -> Optional[Path]:
    """PostgreSQL's server programs: $PG_BINDIR, initdb on PATH, or Debian's
    /usr/lib/postgresql/<version>/bin (not on PATH there), newest first."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.name.split(".")],
        reverse=True,
    )
    candidates.extend(debian)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


@dataclass
class LocalPostgres:
    """A PostgreSQL cluster of our own, on 127.0.0.1 only, with trust authentication
    for its one role (loopback, single user: for `make server` and tests).

    PostgreSQL refuses to run as root; as root the programs run as the
    `postgres` user that Debian's package creates, so `datadir` and its parents
    must be reachable by that user (e.g. a directory under /tmp)."""

    datadir: Path
    port: int
    user: str = "mlflow"
    bindir: Optional[Path] = None
    throwaway: bool = False  # fsync off: fast, for tests

    def __post_init__(self) -> None:
        self.datadir = Path(self.datadir).resolve()
        self.bindir = self.bindir or postgres_bindir()
        if self.bindir is None:
            raise UserError(
                "PostgreSQL is not installed (no initdb found on PATH, in $PG_BINDIR or /usr/lib/postgresql/*/bin); "
                "install it with `apt-get install postgresql`, or pass a running server's URI with --store"
            )

    # ------------------------------------------------------------ commands
    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        proc = subprocess.run(command, cwd="/", capture_output=True, text=True)
        if check and proc.returncode != 0:
            log = self.datadir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise UserError(
                f"PostgreSQL: `{program} {' '.join(args)}` failed: "
                + " ".join((proc.stderr or proc.stdout or tail).split())[-800:]
            )
        return proc

    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialized:
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres", "postgres")
        self.datadir.chmod(0o700)
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        settings = [
            "listen_addresses = '127.0.0.1'",  # loopback only
            "unix_socket_directories = ''",  # no socket in /var/run/postgresql
            "max_connections = 100",
        ]
        if self.throwaway:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(self.datadir / "postgresql.conf", "a") as conf:
            conf.write("\n# mlvsdl\n" + "\n".join(settings) + "\n")

    def running(self) -> bool:
        return self.initialized and self._run("pg_ctl", "-D", str(self.datadir), "status", check=False).returncode == 0

    def start(self) -> LocalPostgres:
        self.init()
        if not self.running():
            self._run(
                "pg_ctl",
                "-D",
                str(self.datadir),
                "-l",
                str(self.datadir / "server.log"),
                "-o",
                f"-p {int(self.port)}",
                "-w",
                "-t",
                "60",
                "start",
            )
        self._wait_ready()
        return self

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "-t", "60", "stop", check=False)

    def _wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.uri("postgres"), connect_timeout=3).close()
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise UserError(f"PostgreSQL on 127.0.0.1:{self.port} did not accept connections: {exc}") from None
                time.sleep(0.2)

    def create_database(self, name: str) -> str:
        return create_database(self.uri("postgres"), name)

    def uri(self, database: str = "mlflow") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"


def sqlalchemy_uri(uri: str) -> str:
    """A PostgreSQL URI with the psycopg (3) driver named, as MLflow's SQLAlchemy
    store needs it: plain postgresql:// means psycopg2 to SQLAlchemy < 2.1."""
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri


def libpq_uri(uri: str) -> str:
    """The same URI as libpq (psql, psycopg.connect) takes it: no driver name."""
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", uri)


def create_database(admin_uri: str, name: str) -> str:
    """Create database `name` on the PostgreSQL server of `admin_uri` if it does
    not exist; the same URI with `name` as its database."""
    import psycopg

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UserError(f"not a plain database name: {name!r}")
    with psycopg.connect(libpq_uri(admin_uri), connect_timeout=5, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(admin_uri)._replace(path=f"/{name}"))
