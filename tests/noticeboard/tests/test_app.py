"""The throwaway app gets its routes, job, tile, notifications, authorisation cases and demo
seed from its own folder: each is checked here through the kernel that serves every app."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from linli.core.access import CAPABILITIES, SYSTEM, Role
from linli.core.notify import kinds
from linli.core.registry import api_viewsets, demo_seeds, periodic_tasks, routes
from linli.testing import deliver_notifications, make_phone, sign_in
from linli.testing.authz import case_classes
from tests.noticeboard.models import Notice
from tests.noticeboard.services import notice_post

pytestmark = pytest.mark.django_db


def test_registered_from_its_own_folder() -> None:
    assert "tests.noticeboard.urls" in {r.module for r in routes()}
    assert "notice" in {basename for _, _, basename in api_viewsets()}
    assert "tests.noticeboard.tasks.expire_notices" in {t.module_path for t in periodic_tasks()}
    assert "noticeboard.posted" in {k.key for k in kinds()}
    assert "noticeboard" in {s.key for s in demo_seeds()}
    assert "noticeboard.post" in CAPABILITIES[Role.SECRETARY]
    assert "noticeboard.post" not in CAPABILITIES[Role.GRID_WORKER]
    assert "tests.noticeboard.tests.test_authz" in {c.__module__ for c in case_classes()}


def test_pages_api_and_tile(client: Any, world: Any) -> None:
    notice = notice_post(actor=SYSTEM, place=world.community_a, title="停水通知", body="周二停水")
    sign_in(client, world.users["resident"])
    home = client.get(reverse("home")).content.decode()
    assert reverse("noticeboard:index") in home and "公告栏" in home
    page = client.get(reverse("noticeboard:index")).content.decode()
    assert "停水通知" in page and reverse("noticeboard:detail", args=[notice.pk]) in page
    assert client.get(reverse("noticeboard:detail", args=[notice.pk])).status_code == 200
    api = client.get("/api/notices/").json()
    assert [row["id"] for row in api["results"]] == [notice.pk]
    assert "/api/notices/" in client.get("/api/schema/").content.decode()
    # a secretary posts through the page
    sign_in(client, world.users["secretary"])
    response = client.post(
        reverse("noticeboard:post", args=[world.community_a.code]), {"title": "议事会", "body": "周五晚上开会"}
    )
    assert response.status_code == 302
    assert Notice.objects.filter(title="议事会", place=world.community_a, posted_by=world.users["secretary"]).exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_its_job_and_sends_its_notifications(world: Any) -> None:
    secretary = world.users["secretary"].person
    secretary.phone = make_phone()
    secretary.save(update_fields=["phone"])
    old = notice_post(actor=SYSTEM, place=world.community_a, title="旧通知", body="已过期", days=1)
    Notice.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    sms = Path(settings.SMS_FILE_PATH)
    before = sms.read_text(encoding="utf-8").count("\n") if sms.exists() else 0
    call_command("worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    old.refresh_from_db()
    assert old.expired
    sent = [json.loads(line) for line in sms.read_text(encoding="utf-8").splitlines()[before:]]
    assert any(m["to"] == secretary.phone and "旧通知" in m["body"] for m in sent), sent
    assert deliver_notifications() == []  # nothing left in the outbox


def test_the_demo_loads_and_resets_its_seed(world: Any) -> None:
    """The demo loader runs the seed the app registered, counts it, and removes it on reset."""
    from linli.demo import loader

    seed = next(s for s in demo_seeds() if s.key == "noticeboard")
    module = seed.load_module()
    paths = [world.city.path]
    steps: list[str] = []
    module.load(paths=paths, step=steps.append)
    assert len(steps) == module.steps(paths)
    assert module.counts(paths) == {"notices": 2}  # one per community of the test world
    assert [key for key, _ in module.labels()] == ["notices"]
    deleted: Counter[str] = Counter()
    for queryset in module.purge(paths):
        loader._purge(queryset, deleted)
    assert deleted["noticeboard.Notice"] == 2 and not Notice.objects.exists()
