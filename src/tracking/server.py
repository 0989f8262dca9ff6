"""Running the shared MLflow tracking server.

`make server` runs `python -m src.tracking.server serve`: `mlflow server` on
127.0.0.1 with a PostgreSQL backend store and a local artifact root. Without
`--store`, it keeps a PostgreSQL cluster of its own in `.mlflow-server/pgdata`
(src/tracking/postgres.py) and stops it when the server stops.

    python -m src.tracking.server serve [--host H] [--port P] [--store postgresql://...] [--artifacts DIR]
    python -m src.tracking.server postgres start|stop|status --datadir DIR [--port N]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from src.errors import UserError
from src.tracking.postgres import LocalPostgres, sqlalchemy_uri

PROJECT_ROOT = Path(__file__).resolve().parents[2]

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
