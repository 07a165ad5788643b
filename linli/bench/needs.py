"""``linli bench needs``: figures for intake, the workbench queue, Open311 reads and the three
rates on a generated city (``linli gen-city``). Figures, never assertions.

Requests go through the real HTTP stack: ``linli serve`` (gunicorn, 2 workers × 4 threads)
is started on 127.0.0.1 at a free port against the same database, and clients are threads
with keep-alive ``http.client`` connections. Staff and resident sessions are made with
Django's ``Client.force_login`` (the sign-in form, with its password hashing and TOTP, is
not what is measured) and then sent as cookies; the staff account has a TOTP authenticator,
so the staff-MFA middleware lets it through as it would after a real sign-in. Open311 reads
use a registered client's ``api_key``. ``in_process=True`` uses Django's test ``Client`` in
this process instead (no server, one client; for tests).
"""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import json
import math
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, connections
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.utils import timezone

from linli.accounts.api_keys import api_client_register
from linli.accounts.models import ApiClient, User
from linli.core.access import SYSTEM, Role
from linli.core.text import normalize
from linli.needs import rates
from linli.needs.models import Category, Channel, Level, Need, NeedEvent, Urgency
from linli.people.models import Department, Membership, Person
from linli.places.models import Place, PlaceKind
from linli.testing import sign_in

#: The intake texts: the catalogue's own examples, so triage classifies and looks for
#: duplicates as it would for real reports.
BENCH_MARK = "(基准测试)"


@dataclass(frozen=True)
class Sizes:
    intake: int = 200
    requests: int = 500
    clients: int = 50
    intake_clients: int = 8
    runs: int = 20
    recompute_runs: int = 5

    @classmethod
    def quick(cls) -> Sizes:
        return cls(intake=5, requests=6, clients=2, intake_clients=2, runs=3, recompute_runs=2)


@dataclass
class Sample:
    """Latencies (ms) of one case, and how long the whole case took (s)."""

    label: str
    ms: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0
    note: str = ""

    def pct(self, q: float) -> float:
        if not self.ms:
            return float("nan")
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    @property
    def p50(self) -> float:
        return statistics.median(self.ms) if self.ms else float("nan")

    @property
    def p99(self) -> float:
        return self.pct(0.99)

    @property
    def rate(self) -> float:
        return len(self.ms) / self.wall if self.wall else float("nan")


# --- the machine and the scale --------------------------------------------------------------


def machine() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    ram = "?"
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "PostgreSQL": str(version),
        "Python": platform.python_version(),
        "load average (1/5/15 min)": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def scale(city: Place) -> dict[str, int]:
    like = rates._like_prefix(city.path)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {Need._meta.db_table} WHERE place_path LIKE %s", [like])  # noqa: S608
        (needs,) = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM {NeedEvent._meta.db_table} WHERE place_path LIKE %s",  # noqa: S608
            [like],
        )
        (events,) = cursor.fetchone()
    return {
        "needs (this city)": needs,
        "events (this city)": events,
        "places (this city)": Place.objects.filter(path__startswith=city.path).count(),
        "needs (whole database)": Need.objects.count(),
    }


# --- accounts -------------------------------------------------------------------------------


@dataclass
class Accounts:
    resident: User
    staff: User
    community: Place
    places: list[str]  # codes in the resident's community to report at
    api_key: str


def _account(username: str, role: str, place: Place, *, totp: bool = False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=None, display_name=username)
        person = Person.objects.create(place=place, name=f"基准{role}", user=user)
        Membership.objects.create(person=person, place=place, role=role)
    if totp:
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP

        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    return user


def bench_accounts(city: Place) -> Accounts:
    """A resident (at a household of the first community), a community staff member of that
    community (with TOTP) and an Open311 client acting as a district official over the whole
    city. Created once per city; the client's key is registered afresh on every run."""
    community = Place.objects.filter(path__startswith=city.path, kind=PlaceKind.COMMUNITY).order_by("path").first()
    if community is None:
        raise ValueError("the city has no community")
    household = Place.objects.filter(path__startswith=community.path, kind=PlaceKind.HOUSEHOLD).order_by("path")[0]
    resident = _account(f"bench-{city.code}-resident", Role.RESIDENT, household)
    staff = _account(f"bench-{city.code}-staff", Role.COMMUNITY_STAFF, community, totp=True)
    reader = _account(f"bench-{city.code}-open311", Role.DISTRICT_OFFICIAL, city)
    ApiClient.objects.filter(user=reader).delete()
    _client, key = api_client_register(actor=SYSTEM, name=f"bench {city.code}", user=reader)
    places = list(
        Place.objects.filter(path__startswith=community.path, kind__in=[PlaceKind.GRID, PlaceKind.BUILDING])
        .order_by("path")
        .values_list("code", flat=True)
    )
    return Accounts(resident, staff, community, places, key)


# --- callers --------------------------------------------------------------------------------


class Caller(Protocol):
    description: str

    def call(self, method: str, path: str, *, who: str | None, body: dict[str, Any] | None = None) -> int: ...

    def close(self) -> None: ...


def _session_cookie(user: User) -> str:
    client = Client()
    sign_in(client, user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class HttpCaller:
    """Keep-alive HTTP/1.1 connections to 127.0.0.1, one per client thread."""

    def __init__(self, port: int, users: dict[str, User]) -> None:
        self.port = port
        self.description = f"HTTP to linli serve (gunicorn, 2 workers × 4 threads) on 127.0.0.1:{port}"
        self._local = threading.local()
        self.headers: dict[str, dict[str, str]] = {}
        for who, user in users.items():
            request = RequestFactory().get("/")
            masked = get_token(request)
            secret = request.META["CSRF_COOKIE"]
            self.headers[who] = {
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={_session_cookie(user)}; {settings.CSRF_COOKIE_NAME}={secret}",
                "X-CSRFToken": masked,
            }

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def call(self, method: str, path: str, *, who: str | None, body: dict[str, Any] | None = None) -> int:
        headers = dict(self.headers.get(who or "", {}))
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            conn = self._connection(fresh=attempt == 1)
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt:
                    raise
        return 0  # pragma: no cover


class InProcessCaller:
    """Django's test ``Client`` in this process: no server and no network."""

    description = "in-process Django test Client (no HTTP server, no network, 1 client)"

    def __init__(self, users: dict[str, User]) -> None:
        self.clients: dict[str, Client] = {}
        for who, user in users.items():
            client = Client()
            sign_in(client, user)
            self.clients[who] = client
        self.anonymous = Client()

    def close(self) -> None:
        pass

    def call(self, method: str, path: str, *, who: str | None, body: dict[str, Any] | None = None) -> int:
        client = self.clients[who] if who else self.anonymous
        if method == "POST":
            return client.post(path, data=json.dumps(body or {}), content_type="application/json").status_code
        return client.get(path).status_code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``linli serve`` on 127.0.0.1 as a subprocess (its own process group), stopped on exit."""

    def __init__(self, workers: int = 2) -> None:
        self.port = free_port()
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
        env["LINLI_DB_NAME"] = str(settings.DATABASES["default"]["NAME"])
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and fixed arguments)
            [
                sys.executable,
                "-m",
                "linli.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
            ],
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("linli serve exited") from None
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError("linli serve did not answer within 90 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # serve forwards SIGTERM to gunicorn
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


# --- running cases --------------------------------------------------------------------------


def run_concurrent(
    label: str,
    fn: Callable[[int], int],
    *,
    total: int,
    clients: int,
    warmup: int = 0,
    ok: Sequence[int] = (200,),
    thread_exit: Callable[[], None] | None = None,
) -> Sample:
    """``total`` calls of ``fn(i)`` (returning an HTTP status) from ``clients`` threads, each
    taking the next call as soon as its previous one is answered; after ``warmup`` calls
    that are not measured. ``thread_exit`` runs in each thread at its end (to close its
    connections). With one client everything runs in this thread."""
    sample = Sample(label)
    lock = threading.Lock()

    def one(i: int, record: bool) -> None:
        started = time.perf_counter()
        try:
            status = fn(i)
        except Exception:  # counted as an error and reported; the run goes on
            status = 0
        elapsed = (time.perf_counter() - started) * 1000
        if record:
            with lock:
                if status in ok:
                    sample.ms.append(elapsed)
                else:
                    sample.errors += 1

    def run(count: int, record: bool) -> None:
        if clients == 1:
            for i in range(count):
                one(i, record)
            return
        counter = itertools.count()

        def worker() -> None:
            try:
                while (i := next(counter)) < count:
                    one(i, record)
            finally:
                if thread_exit is not None:
                    thread_exit()

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    if warmup:
        run(warmup, record=False)
    started = time.perf_counter()
    run(total, record=True)
    sample.wall = time.perf_counter() - started
    return sample


def run_repeated(label: str, fn: Callable[[], object], *, runs: int) -> Sample:
    fn()  # warm-up
    sample = Sample(label)
    started = time.perf_counter()
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        sample.ms.append((time.perf_counter() - t) * 1000)
    sample.wall = time.perf_counter() - started
    return sample


# --- the suite ------------------------------------------------------------------------------


@dataclass
class IntakeResult:
    http: list[Sample]
    bare: list[Sample]


def _texts() -> list[str]:
    texts = [
        t for examples in Category.objects.filter(active=True).values_list("examples", flat=True) for t in examples
    ]
    return texts or ["楼下路灯不亮了"]


def bench_intake(caller: Caller, accounts: Accounts, sizes: Sizes, *, concurrent: bool) -> IntakeResult:
    """N needs posted through ``POST /api/needs/`` (triage, duplicates, deadlines, reporter,
    event, roll-up and notification job included) beside N bare ``Need.objects.create`` of
    the same row, sequentially and, over HTTP, from several clients at once."""
    rng = random.Random(7)  # noqa: S311 (benchmark input, not secrets)
    texts = _texts()
    plan = [(rng.choice(texts), rng.choice(accounts.places)) for _ in range(sizes.intake)]

    def post(i: int) -> int:
        text, place = plan[i % len(plan)]
        return caller.call("POST", "/api/needs/", who="resident", body={"text": f"{text}{BENCH_MARK}", "place": place})

    http_samples = [run_concurrent("HTTP POST /api/needs/, 1 client", post, total=sizes.intake, clients=1, ok=(201,))]
    if concurrent:
        http_samples.append(
            run_concurrent(
                f"HTTP POST /api/needs/, {sizes.intake_clients} clients",
                post,
                total=sizes.intake,
                clients=sizes.intake_clients,
                warmup=sizes.intake_clients,
                ok=(201,),
                thread_exit=caller.close,
            )
        )

    # the same rows, written bare
    category = Category.objects.filter(active=True).order_by("code").first()
    by_code = {p.code: p for p in Place.objects.filter(code__in=accounts.places)}
    district = Place.objects.filter(path=accounts.community.path[: 2 * Place.steplen]).first()
    grids = {
        p.path: p
        for p in Place.objects.filter(path__startswith=accounts.community.path, kind=PlaceKind.GRID).only("id", "path")
    }
    created: list[int] = []
    lock = threading.Lock()

    def insert(i: int) -> int:
        text, code = plan[i % len(plan)]
        place = by_code[code]
        now = timezone.now()
        full = f"{text}{BENCH_MARK}"
        need = Need.objects.create(
            text=full,
            text_search=normalize(full),
            category=category,
            place=place,
            place_path=place.path,
            grid=grids.get(place.path[: 5 * Place.steplen]),
            district=district,
            channel=Channel.API,
            urgency=Urgency.NORMAL,
            level=Level.GRID,
            response_due=now + dt.timedelta(days=1),
            resolution_due=now + dt.timedelta(days=9),
        )
        with lock:
            created.append(need.pk)
        return 201

    bare = [run_concurrent("bare Need.objects.create, 1 client", insert, total=sizes.intake, clients=1, ok=(201,))]
    if concurrent:
        # one database connection per thread, as the server's threads have
        bare.append(
            run_concurrent(
                f"bare Need.objects.create, {sizes.intake_clients} clients",
                insert,
                total=sizes.intake,
                clients=sizes.intake_clients,
                ok=(201,),
                thread_exit=connections.close_all,
            )
        )
    Need.objects.filter(pk__in=created).delete()
    return IntakeResult(http_samples, bare)


def bench_reads(caller: Caller, accounts: Accounts, sizes: Sizes) -> list[Sample]:
    """The workbench queue (API and page) as community staff, and Open311 reads by key."""
    key = urlencode({"api_key": accounts.api_key})
    cases: list[tuple[str, str, str | None]] = [
        ("API queue ?status=submitted (staff)", "/api/needs/?status=submitted", "staff"),
        ("page /needs/queue/ (staff)", "/needs/queue/", "staff"),
        ("Open311 requests.json (90 d, ≤1000 rows)", f"/open311/v2/requests.json?{key}", None),
        ("Open311 requests.json?status=open", f"/open311/v2/requests.json?{key}&status=open", None),
        (
            "Open311 requests.json, last 24 h",
            f"/open311/v2/requests.json?{key}&"
            + urlencode({"start_date": (timezone.now() - dt.timedelta(days=1)).isoformat(timespec="seconds")}),
            None,
        ),
    ]
    samples = []
    for label, path, who in cases:

        def get(_i: int, path: str = path, who: str | None = who) -> int:
            return caller.call("GET", path, who=who)

        # one client: the service time; then many at once: the service time plus the queue
        runs = [(1, min(sizes.requests, 50))] + ([(sizes.clients, sizes.requests)] if sizes.clients > 1 else [])
        for clients, total in runs:
            samples.append(
                run_concurrent(
                    f"{label}, {clients} client{'s' if clients > 1 else ''}",
                    get,
                    total=total,
                    clients=clients,
                    warmup=min(clients, total) if clients > 1 else 1,
                    thread_exit=caller.close,
                )
            )
    return samples


def bench_rates(city: Place, sizes: Sizes) -> list[Sample]:
    """``rates_for`` (the roll-ups) beside ``rates_recompute`` (the raw timeline) for the
    city, its busiest street and its busiest department, over the last year."""
    end = rates.local_day(timezone.now())
    start = end - dt.timedelta(days=364)
    street = Place.objects.filter(path__startswith=city.path, kind=PlaceKind.STREET).order_by("path").first()
    department = Department.objects.filter(place__path__startswith=city.path, kind="property").order_by("code").first()
    owners: list[tuple[str, dict[str, Any]]] = [("city", {"place": city})]
    if street is not None:
        owners.append(("street", {"place": street}))
    if department is not None:
        owners.append(("department", {"department": department}))
    samples = []
    for name, owner in owners:

        def rollups(owner: dict[str, Any] = owner) -> rates.Rates:
            return rates.rates_for(**owner, start=start, end=end)

        def recompute(owner: dict[str, Any] = owner) -> rates.Rates:
            return rates.rates_recompute(**owner, start=start, end=end)

        samples.append(run_repeated(f"rates_for {name}, 1 year (roll-ups)", rollups, runs=sizes.runs))
        samples.append(
            run_repeated(f"rates_recompute {name}, 1 year (raw events)", recompute, runs=sizes.recompute_runs)
        )
    return samples
