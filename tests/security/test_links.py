"""The demo's secret and the rating links sent by SMS (finding 4)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.test import Client

from linli.accounts.sms import read_outbox

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _demo_secret(var_dir: Path) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.config.settings.demo", "LINLI_VAR_DIR": str(var_dir)}
    env.pop("SECRET_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_f04_the_demo_makes_its_own_secret_and_keeps_it(tmp_path: Path) -> None:
    first = _demo_secret(tmp_path / "one")
    assert len(first) >= 50 and "not-secret" not in first
    assert _demo_secret(tmp_path / "one") == first, "the secret must survive a restart"
    assert _demo_secret(tmp_path / "two") != first, "every demo has its own"
    kept = tmp_path / "one" / "secret_key"
    assert kept.exists() and kept.stat().st_mode & 0o077 == 0
    # and nothing in the repository carries a secret the demo would use
    assert first not in (ROOT / "linli" / "config" / "settings" / "demo.py").read_text()


@pytest.fixture
def resolved(world: Any, settings: Any, tmp_path: Path) -> Any:
    from linli.core.notify import deliver
    from linli.needs.services import need_create, need_resolve
    from linli.needs.tests.conftest import make_categories

    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    make_categories()
    need = need_create(actor=world.users["resident"], text="楼道灯坏了", place=world.household_place_a)
    need_resolve(actor=world.users["grid_worker"], need=need, result="已更换灯泡")
    from linli.core.models import Notification

    deliver(Notification.objects.get(kind="needs.resolved").pk)
    return need


def _link(need: Any) -> str:
    body = next(m["body"] for m in reversed(read_outbox()) if "/r/" in m["body"])
    return re.search(r"(/r/[^/\s]+/)", body).group(1)


def test_f04_a_rating_link_cannot_be_forged(resolved: Any) -> None:
    reporter = resolved.reporters.get()
    for forged in (
        signing.dumps({"n": resolved.pk, "r": reporter.pk}, salt="linli.needs.rating", compress=True),
        "a" * 43,
    ):
        response = Client().get(f"/r/{forged}/")
        assert response.status_code == 404, "a link signed with the settings' key opens a need"
        assert "楼道灯坏了" not in response.content.decode()


def test_f04_a_rating_link_is_random_single_use_and_expires(resolved: Any) -> None:
    link = _link(resolved)
    token = link.split("/")[2]
    assert len(token) >= 32 and ":" not in token, "a random token, not a signed id"
    page = Client().get(link)
    assert page.status_code == 200 and "楼道灯坏了" in page.content.decode()
    done = Client().post(link, {"resolved": "1", "satisfaction": "satisfied"})
    assert done.status_code in (200, 302)
    assert resolved.ratings.count() == 1
    again = Client().get(link)
    assert again.status_code in (404, 410) and "楼道灯坏了" not in again.content.decode()
    assert Client().post(link, {"resolved": "0", "satisfaction": "unsatisfied"}).status_code in (404, 410)
    assert resolved.ratings.count() == 1


def test_f04_a_rating_link_expires(resolved: Any) -> None:
    link = _link(resolved)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=15), tick=False):
        response = Client().get(link)
    assert response.status_code in (404, 410)
