"""The shared MLflow tracking server: reaching it, and running one.

`tracking=server` points runs at a server by URL. Before the first request
to it, `check_server` asks `<uri>/health` with a short timeout, so that an
unreachable server fails in seconds with its URL instead of after MLflow's
HTTP retries (7 retries with exponential back-off by default: minutes).

`make server` runs `python -m src.tracking.server serve`: `mlflow server` on
127.0.0.1 with a PostgreSQL backend store and a local artifact root. Without
`--store`, it keeps a PostgreSQL cluster of its own in `.mlflow-server/pgdata`
(initdb + pg_ctl from Debian's `postgresql` package), listening on loopback
only, and stops it when the server stops. The tests start throwaway clusters
the same way (`LocalPostgres`).

    python -m src.tracking.server serve [--host H] [--port P] [--store postgresql://...] [--artifacts DIR]
    python -m src.tracking.server postgres start|stop|status --datadir DIR [--port N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence
from urllib.parse import urlsplit, urlunsplit

from src.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SERVER_URI = "http://127.0.0.1:5001"

# MLflow's HTTP client retries 7 times with a back-off factor of 2 and a 120 s
# timeout per request. Once the server has answered the health check, a few
# short retries are enough to ride out a restart; set these variables to change it.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
HEALTH_TIMEOUT_S = 5.0
_REACHABLE: set[str] = set()


def is_server_uri(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


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


# ---------------------------------------------------------------- PostgreSQL


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


# ---------------------------------------------------------------- mlflow server


def server_command(
    store: str,
    artifacts: str | Path,
    host: str = "127.0.0.1",
    port: int = 5001,
    workers: Optional[int] = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """`mlflow server` with `store` as backend and artifacts proxied to `artifacts`
    (a local folder here; an object store such as s3://bucket/prefix in production)."""
    mlflow = Path(sys.executable).with_name("mlflow")
    command = [
        str(mlflow) if mlflow.exists() else "mlflow",
        "server",
        "--backend-store-uri",
        sqlalchemy_uri(store),
        "--serve-artifacts",
        "--artifacts-destination",
        str(artifacts),
        "--host",
        host,
        "--port",
        str(port),
    ]
    if workers:
        command += ["--workers", str(workers)]
    return command + list(extra)


def wait_for_server(uri: str, process: Optional[subprocess.Popen] = None, timeout: float = 180.0) -> None:
    """Wait until `uri`/health answers OK (the first start on an empty database
    runs MLflow's schema migrations, which takes a while)."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise UserError(f"mlflow server exited with code {process.returncode} before {uri} answered")
        try:
            if requests.get(uri.rstrip("/") + "/health", timeout=2).ok:
                return
        except requests.exceptions.RequestException:
            pass
        if time.monotonic() > deadline:
            raise UserError(f"mlflow server at {uri} did not answer /health within {timeout:.0f} s")
        time.sleep(0.5)


def serve(args: argparse.Namespace) -> int:
    cluster: Optional[LocalPostgres] = None
    store = args.store
    if not store:
        cluster = LocalPostgres(Path(args.pgdata), args.pg_port)
        was_running = cluster.running()
        cluster.start()
        store = cluster.create_database("mlflow")
        print(f"PostgreSQL backend store: {store} (data in {cluster.datadir})", flush=True)
        if was_running:
            cluster = None  # someone else's to stop
    if "://" not in str(args.artifacts):
        Path(args.artifacts).mkdir(parents=True, exist_ok=True)
    command = server_command(store, args.artifacts, args.host, args.port, args.workers)
    print(
        f"MLflow tracking server on http://{args.host}:{args.port}  (runs: tracking=server "
        f"MLFLOW_SERVER_URI=http://{args.host}:{args.port})",
        flush=True,
    )
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            return 130
    finally:
        if cluster is not None:
            cluster.stop()


def _postgres(args: argparse.Namespace) -> int:
    cluster = LocalPostgres(Path(args.datadir), args.port, throwaway=args.throwaway)
    if args.action == "start":
        cluster.start()
        print(cluster.create_database(args.database))
    elif args.action == "stop":
        cluster.stop()
    else:
        print("running" if cluster.running() else "stopped")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src.tracking.server", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="run mlflow server with a PostgreSQL backend store")
    run.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    run.add_argument("--port", type=int, default=5001)
    run.add_argument("--store", default="", help="backend store URI (default: a local PostgreSQL cluster)")
    run.add_argument(
        "--artifacts",
        default=str(PROJECT_ROOT / "mlartifacts"),
        help="artifact destination: a folder, or an object store URI such as s3://bucket/mlflow",
    )
    run.add_argument("--workers", type=int, default=None)
    run.add_argument(
        "--pgdata",
        default=str(PROJECT_ROOT / ".mlflow-server" / "pgdata"),
        help="data directory of the local PostgreSQL cluster (when --store is not given)",
    )
    run.add_argument("--pg-port", type=int, default=5433)

    pg = commands.add_parser("postgres", help="a local PostgreSQL cluster on 127.0.0.1")
    pg.add_argument("action", choices=["start", "stop", "status"])
    pg.add_argument("--datadir", required=True)
    pg.add_argument("--port", type=int, default=5433)
    pg.add_argument("--database", default="mlflow")
    pg.add_argument("--throwaway", action="store_true", help="fsync off (tests and CI)")

    args = parser.parse_args(argv)
    try:
        return serve(args) if args.command == "serve" else _postgres(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
