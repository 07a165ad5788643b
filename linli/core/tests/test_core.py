from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone

from linli.core.access import SYSTEM
from linli.core.models import Heartbeat
from linli.core.tasks import beat_worker, ensure_heartbeat_scheduled, worker_is_fresh
from linli.people import leakguard


def test_leak_guard_detects_clear_numbers() -> None:
    from django.http import HttpResponse

    body = (
        "电话 13800138000 或 +86 13912345678；身份证 11010519491231002X；脱敏 138****8000 420106********1234；"
        "写法各异 137 1234 5678、136-1234-5678、135.1234.5678、１３４１２３４５６７８、4201 0619 9001 0112 34"
    )
    middleware = leakguard.LeakGuardMiddleware(lambda request: HttpResponse(body))
    before = len(leakguard.LEAKS)
    middleware(RequestFactory().get("/x"))
    found = leakguard.LEAKS[before:]
    leakguard.LEAKS[before:] = []
    assert sorted(v for _, _, v in found) == [
        "+8613912345678",
        "11010519491231002X",
        "13412345678",
        "13512345678",
        "13612345678",
        "13712345678",
        "13800138000",
        "420106199001011234",
    ]


@pytest.mark.django_db
def test_leak_guard_finds_a_birth_date_beside_a_masked_id() -> None:
    from django.http import HttpResponse

    from linli.people.services import person_create
    from linli.places.models import PlaceKind
    from linli.places.services import place_create
    from linli.testing import make_id_number

    city = place_create(actor=SYSTEM, parent=None, code="lg-city", name="城", kind=PlaceKind.CITY)
    person = person_create(actor=SYSTEM, place=city, name="王五", id_number=make_id_number(birth="19620315"))
    for shown, leaks in (("1962-03-15", 1), ("1962年3月15日", 1), ("19620315", 1), ("1962年", 0), ("1962-03-16", 0)):
        middleware = leakguard.LeakGuardMiddleware(
            lambda request, shown=shown: HttpResponse(f"{person.id_number_masked} · {shown}")
        )
        before = len(leakguard.LEAKS)
        middleware(RequestFactory().get("/x"))
        found = leakguard.LEAKS[before:]
        leakguard.LEAKS[before:] = []
        assert len(found) == leaks, (shown, found)


def test_leak_guard_is_on_in_the_test_settings(settings: Any) -> None:
    assert "linli.people.leakguard.LeakGuardMiddleware" in settings.MIDDLEWARE


def test_leak_guard_ignores_long_digit_runs_and_tokens() -> None:
    assert leakguard.find_leaks("id=123456789012345678901 csrf=a13800138000b ts=1764048000123") == []


@pytest.mark.django_db
def test_healthz_reports_database_and_stale_worker(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok" and response.json()["worker"] == "stale"
    Heartbeat.objects.create(name="worker", at=timezone.now())
    assert client.get("/healthz").json()["status"] == "ok"
    Heartbeat.objects.filter(name="worker").update(at=timezone.now() - dt.timedelta(minutes=10))
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_heartbeat_and_reschedules_it() -> None:
    from django_tasks_db.models import DBTaskResult

    ensure_heartbeat_scheduled()
    ensure_heartbeat_scheduled()  # idempotent: one waiting beat, not two
    waiting = DBTaskResult.objects.filter(task_path=beat_worker.module_path, status="READY")
    assert waiting.count() == 1
    call_command("worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    fresh, at = worker_is_fresh()
    assert fresh and at is not None
    # the beat re-enqueued itself for later
    later = DBTaskResult.objects.filter(task_path=beat_worker.module_path, status="READY").get()
    assert later.run_after is not None and later.run_after > timezone.now()


@pytest.mark.django_db  # every request makes sure of its database connection first (core.outage)
def test_large_type_and_language_are_remembered(client: Any) -> None:
    response = client.post("/prefs/large-type/", {"on": "1", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.cookies["linli_large"].value == "1"
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans" class="large">' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert '<html lang="en"' in client.get("/accounts/login/").content.decode()
    # an open redirect is refused
    response = client.post("/prefs/large-type/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_linli_command_lists_project_commands() -> None:
    out = subprocess.run([sys.executable, "-m", "linli.cli", "help"], capture_output=True, text=True, check=True)
    for command in ("demo", "serve", "worker", "load_demo", "import_places", "db"):
        assert command in out.stdout


@pytest.mark.django_db
def test_import_places_command(tmp_path: Any, english: None) -> None:
    from io import StringIO

    from django.core.management.base import CommandError

    from linli.places.models import Place

    good = tmp_path / "places.csv"
    good.write_text("code,parent_code,name,kind\nc-city,,黄冈市,city\nc-d,c-city,黄州区,district\n", encoding="utf-8")
    out = StringIO()
    call_command("import_places", str(good), stdout=out)
    assert "created 2" in out.getvalue()
    assert Place.objects.filter(code__startswith="c-").count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("code,parent_code,name,kind\nc-x,nowhere,某地,street\n", encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_places", str(bad), stdout=out)
    assert "Row 2" in out.getvalue()


def test_json_logs_never_carry_the_query_string() -> None:
    """Django's request logger attaches the request; its repr has the query string (api keys)."""
    import json
    import logging

    from django.test import RequestFactory

    from linli.core.logging import JSONFormatter

    request = RequestFactory().get("/open311/v2/requests.json?api_key=SECRET-KEY")
    record = logging.makeLogRecord({"msg": "Bad Request: %s", "args": (request.path,), "request": request})
    line = JSONFormatter().format(record)
    assert "SECRET-KEY" not in line
    assert json.loads(line)["request"] == "GET /open311/v2/requests.json"


@pytest.mark.parametrize("module", ["linli.core.api", "linli.core.views", "linli.core.imports", "linli.config.urls"])
def test_a_module_imports_first_in_a_fresh_process(module: str) -> None:
    """DRF reads its settings while ``rest_framework.views`` is imported: a class named there
    (the parser, the pagination) must import without importing that module back."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.config.settings.test"}
    program = f"import django; django.setup(); import {module}"
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]


@pytest.mark.django_db
def test_the_main_menu_is_what_the_apps_registered(client: Any, world: Any) -> None:
    from django.urls import reverse

    from linli.core.registry import nav_for
    from linli.testing import sign_in

    sign_in(client, world.users["resident"])
    page = client.get("/").content.decode()
    menu = page[page.index('<nav class="tabs"') : page.index("</nav>")]
    links = nav_for(world.users["resident"])
    assert [url for _title, url in links] == [
        reverse(n) for n in ("needs:mine", "places:index", "people:index", "people:profile")
    ]
    for title, url in links:
        assert f'<a href="{url}">{title}</a>' in menu
    assert '<nav class="tabs"' not in Client().get("/accounts/login/").content.decode()


def test_the_demo_starts_a_child_that_died_again_with_back_off() -> None:
    from linli.core.management.commands.demo import Supervisor

    now = [0.0]
    dying = [sys.executable, "-c", "import sys; sys.exit(3)"]
    child = subprocess.Popen(dying)
    child.wait()
    said: list[str] = []
    supervisor = Supervisor([dying], [child], log=said.append, clock=lambda: now[0], names=["worker"])
    supervisor.check()  # it died: started again in 1 s, and the log says so
    assert supervisor.due == [1.0] and len(said) == 1 and "worker" in said[0] and "3" in said[0]
    now[0] = 1.0
    supervisor.check()
    again = supervisor.children[0]
    assert again is not child and supervisor.due == [None]
    again.wait()
    now[0] = 1.5
    supervisor.check()  # dead again within a minute of its start: the pause doubles
    assert supervisor.due == [3.5] and len(said) == 2
    now[0] = 3.5
    supervisor.check()
    healthy = supervisor.children[0]
    healthy.wait()
    now[0] = 100.0
    supervisor.check()  # it had run for more than a minute: back to the shortest pause
    assert supervisor.due == [101.0]
