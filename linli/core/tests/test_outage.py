"""Surviving a database outage in-process: the web tier answers 503 with Retry-After in the
reader's format (never a 500) and reconnects by itself; the worker waits for the database and
runs an interrupted task again, once. The whole thing against a real PostgreSQL restart is
``tests/test_restart.py``."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

import psycopg
import pytest
from django.core.management import call_command
from django.db import OperationalError, close_old_connections, connection
from django.test import Client, override_settings
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from linli.core.models import Heartbeat
from linli.testing import sign_in

pytestmark = pytest.mark.django_db


@override_settings(ROOT_URLCONF="linli.core.tests.outage_urls")
def test_a_database_lost_mid_request_is_a_503_in_the_readers_format() -> None:
    page = Client().get("/lost/")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "数据库正在维护或重启" in page.content.decode() and "<html" in page.content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/lost/")
    assert english.status_code == 503 and "database" in english.content.decode().lower()
    api = Client().get("/api/lost/")
    assert api.status_code == 503 and api["Retry-After"] == "5" and "detail" in api.json()
    spec = Client().get("/open311/v2/lost.json")
    assert spec.status_code == 503
    [error] = json.loads(spec.content)
    assert error["code"] == 503 and error["description"]


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_is_replaced_before_the_view(nw: Any) -> None:
    """As after a database restart: the server ends the site's persistent connection, and the
    next request is answered as if nothing happened (health check on reuse, then reconnect)."""
    client = Client()
    assert client.get("/open311/v2/services.json").status_code == 200
    backend = connection.connection.info.backend_pid
    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])
    close_old_connections()  # what every request starts with (the test client leaves it out)
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 200
    assert connection.connection.info.backend_pid != backend


@pytest.mark.django_db(transaction=True)
def test_healthz_says_degraded_while_the_database_is_away(monkeypatch: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    Heartbeat.objects.all().delete()
    monkeypatch.setattr(connection, "cursor", refuse)
    body = Client().get("/healthz")
    assert body.status_code == 503 and body.json()["database"] == "unreachable"
    assert body.json()["status"] == "degraded"


# --- the worker ------------------------------------------------------------------------------------

RUNS = "flaky-task-runs"


@task()
def flaky() -> str:
    """Loses the database on its first run (as a restart in the middle of a sweep would)."""
    runs = Heartbeat.objects.filter(name__startswith=RUNS).count()
    Heartbeat.objects.create(name=f"{RUNS}-{runs}", at="2026-01-01T00:00:00Z")
    if runs == 0:
        raise OperationalError("server closed the connection unexpectedly")
    return "done"


@pytest.mark.django_db(transaction=True)
def test_the_worker_outlives_an_outage_and_runs_the_interrupted_task_again_once() -> None:
    result = flaky.enqueue()
    call_command("worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "SUCCESSFUL" and row.return_value == "done"
    # the first run was cut off, the second finished: two runs, not one and not three
    assert Heartbeat.objects.filter(name__startswith=RUNS).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_task_left_running_by_a_killed_worker_runs_again() -> None:
    import datetime as dt

    from django.utils import timezone

    result = flaky.enqueue()
    Heartbeat.objects.create(name=f"{RUNS}-0", at=timezone.now())  # its first run happened
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=timezone.now() - dt.timedelta(hours=1), worker_ids=["killed"]
    )
    call_command("worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    assert Heartbeat.objects.filter(name__startswith=RUNS).count() == 2


def test_open311_xml_outage_is_in_the_spec_format() -> None:
    with override_settings(ROOT_URLCONF="linli.core.tests.outage_urls"):
        from django.urls import path

        from linli.core.tests import outage_urls

        outage_urls.urlpatterns.insert(0, path("open311/v2/lost.xml", outage_urls.lost))
        try:
            response = Client().get("/open311/v2/lost.xml")
        finally:
            outage_urls.urlpatterns.pop(0)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    root = ET.fromstring(response.content)  # noqa: S314 - our own answer
    assert root.tag == "errors" and root.findtext("error/code") == "503"


# --- a full disk -------------------------------------------------------------------------------


def test_an_upload_on_a_full_disk_is_refused_clearly_and_nothing_is_kept(
    client: Client, nw: Any, monkeypatch: Any
) -> None:
    import errno
    import io
    import re

    from django.core.files.storage import InMemoryStorage
    from PIL import Image

    from linli.needs.models import Need

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(InMemoryStorage, "_save", full)
    sign_in(client, nw.users["resident"])
    form = client.get("/needs/new/").content.decode()
    submission = re.search(r'name="submission" value="([0-9a-f]{32})"', form).group(1)  # type: ignore[union-attr]
    image = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(image, format="JPEG")
    image.seek(0)
    image.name = "lamp.jpg"
    response = client.post(
        "/needs/new/",
        {
            "text": "楼下路灯坏了",
            "category": "lighting",
            "urgency": "normal",
            "submission": submission,
            "photos": image,
        },
    )
    assert response.status_code == 507, re.findall(r"class=\"errors?[^>]*>(.*?)<", response.content.decode())[:5]
    assert "存储空间已满" in response.content.decode()
    assert not Need.objects.exists()  # the write rolled back with the photo
    assert client.get("/needs/mine/").status_code == 200  # reading goes on
