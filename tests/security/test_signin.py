"""Signing in: the second factor on every path (finding 1), one-time codes and limits that
hold across processes (5, 7), staff session lifetimes (13) and password spraying (15)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from linli.accounts.sms import read_outbox
from linli.testing import PASSWORD
from tests.security.conftest import codes_in, other_process, sign_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_outbox(settings: Any, tmp_path: Any) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")


def _make_superuser(world: Any) -> Any:
    admin = world.users["system_admin"]
    admin.is_superuser = admin.is_staff = True
    admin.save(update_fields=["is_superuser", "is_staff"])
    return admin


# --- 1: every staff sign-in needs the second factor ------------------------------------------


def test_f01_admin_login_with_a_password_alone_opens_nothing(client: Client, world: Any) -> None:
    _make_superuser(world)
    client.post("/admin/login/?next=/admin/", {"username": "system_admin", "password": PASSWORD})
    assert client.get("/admin/").status_code != 200
    assert client.get("/api/people/").status_code in (401, 403)
    assert client.get(reverse("people:person", args=[world.resident_a.pk])).status_code == 302
    # the admin site signs in through the site's own sign-in page, with the second factor
    login = client.get("/admin/login/?next=/admin/")
    assert login.status_code == 302 and login["Location"].startswith(reverse("account_login"))
    sign_in_staff(client, "system_admin")
    assert client.get("/admin/").status_code == 200


def test_f01_a_session_without_the_second_factor_is_refused_everywhere(client: Client, world: Any) -> None:
    """Whatever path made a session (a test helper here; a bug or a new back-end tomorrow), a
    staff account whose session never passed the second factor is sent back to sign in."""
    client.force_login(world.users["grid_worker"])
    page = client.get(reverse("people:person", args=[world.resident_a.pk]))
    assert page.status_code == 302 and reverse("account_login") in page["Location"]
    assert client.get("/api/people/").status_code in (401, 403)
    # nor can such a session remove the second factor it lacks
    assert client.get(reverse("mfa_deactivate_totp")).status_code == 302
    # a resident needs no second factor
    client.force_login(world.users["resident"])
    assert client.get(reverse("people:profile")).status_code == 200


def test_f01_staff_who_sign_in_by_sms_code_still_need_the_second_factor(client: Client, world: Any) -> None:
    staff = world.users["grid_worker"]
    staff.phone, staff.phone_verified = "+8613900001111", True
    staff.save(update_fields=["phone", "phone_verified"])
    response = client.post(reverse("account_request_login_code"), {"phone": "13900001111"})
    [code] = codes_in(read_outbox()[-1]["body"])
    client.post(response["Location"], {"code": code})
    assert client.get("/api/people/").status_code in (401, 403)


# --- 5: one-time codes and limits in one shared cache ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_f05_a_totp_code_is_used_once_across_server_processes(world: Any) -> None:
    said = other_process(
        """
        import time
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP
        from linli.testing import totp_now
        now = time.time()
        code = totp_now()
        totp = Authenticator.objects.get(user__username="grid_worker", type="totp")
        print(now, code, TOTP(totp).validate_code(code))
        """
    )
    now, code, accepted = said.split()
    assert accepted == "True"
    # the second process, at the same moment (so the code is still current), with the same code
    with time_machine.travel(float(now), tick=False):
        client = Client()
        sign_in_staff(client, "grid_worker", code=code)
        assert client.get("/api/people/").status_code in (401, 403), "the same code was accepted twice"


def test_a_code_typed_across_a_period_boundary_counts_and_older_ones_do_not(world: Any) -> None:
    """A code read in the last second of its period and sent in the next still signs in (one
    period of tolerance either side); a code two periods old does not."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    from linli.testing import TOTP_SECRET

    boundary = 1_800_000_010 // 30 * 30 + 30  # the first second of a period
    read_at = boundary - 1
    code = format_hotp_value(hotp_value(TOTP_SECRET, read_at // 30))
    with time_machine.travel(float(boundary), tick=False):
        client = Client()
        sign_in_staff(client, "grid_worker", code=code)
        assert client.get("/api/people/").status_code == 200
    old = format_hotp_value(hotp_value(TOTP_SECRET, boundary // 30 - 2))
    with time_machine.travel(float(boundary), tick=False):
        client = Client()
        sign_in_staff(client, "secretary", code=old)
        assert client.get("/api/people/").status_code in (401, 403)


# --- 7: SMS codes only to registered numbers, limited per phone, IP and overall --------------


def test_f07_an_unregistered_number_gets_no_sms_and_the_same_answer(client: Client, world: Any) -> None:
    known = client.post(reverse("account_request_login_code"), {"phone": "13800138000"})
    unknown = Client().post(reverse("account_request_login_code"), {"phone": "13900009999"})
    assert known.status_code == unknown.status_code == 302
    assert [m["to"] for m in read_outbox()] == ["+8613800138000"]


@pytest.mark.django_db(transaction=True)
def test_f07_the_per_phone_limit_holds_across_server_processes(world: Any, settings: Any) -> None:
    other_process(
        f"""
        from django.conf import settings
        from django.test import Client
        settings.SMS_FILE_PATH = {json.dumps(settings.SMS_FILE_PATH)}
        for _ in range(3):
            Client().post("/accounts/login/code/", {{"phone": "13800138000"}})
        """
    )
    assert len(read_outbox()) == 3
    for _ in range(3):
        Client().post(reverse("account_request_login_code"), {"phone": "13800138000"})
    assert len(read_outbox()) == 3, "a second server process sent more codes to the same phone"


def test_f07_one_address_cannot_send_codes_to_many_phones(world: Any) -> None:
    from linli.accounts.models import User

    phones = [f"+861370000{n:04d}" for n in range(30)]
    User.objects.bulk_create([User(username=f"r{n}", phone=p, phone_verified=True) for n, p in enumerate(phones)])
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        for phone in phones:
            Client().post(reverse("account_request_login_code"), {"phone": phone[3:]})
            traveller.shift(dt.timedelta(seconds=20))  # slower than any per-minute limit
    assert len(read_outbox()) <= 10


def test_f07_a_global_limit_caps_all_codes(world: Any, settings: Any) -> None:
    from linli.accounts.models import User

    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "sms_login_global": "5/h"}
    phones = [f"+861370001{n:04d}" for n in range(8)]
    User.objects.bulk_create([User(username=f"g{n}", phone=p, phone_verified=True) for n, p in enumerate(phones)])
    for n, phone in enumerate(phones):
        Client(REMOTE_ADDR=f"10.0.0.{n + 1}").post(reverse("account_request_login_code"), {"phone": phone[3:]})
    assert len(read_outbox()) == 5


# --- 13: staff sessions end after a working day and after 30 minutes idle --------------------


def test_f13_staff_sessions_expire_when_idle_and_after_a_working_day(world: Any) -> None:
    start = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        sign_in_staff(client, "grid_worker")
        assert client.get("/api/people/").status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        assert client.get("/api/people/").status_code in (401, 403), "30 minutes idle did not end the session"

    with time_machine.travel(start + dt.timedelta(hours=1), tick=False) as traveller:
        client = Client()
        sign_in_staff(client, "secretary")
        for _ in range(24):  # busy all day, never idle for long
            traveller.shift(dt.timedelta(minutes=25))
            last = client.get("/api/people/").status_code
            if last != 200:
                break
        assert last in (401, 403), "a staff session outlived a working day"

    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        client.force_login(world.users["resident"])
        traveller.shift(dt.timedelta(hours=3))
        assert client.get(reverse("people:profile")).status_code == 200, "residents stay signed in longer"


# --- 15: password spraying from one address -----------------------------------------------------


def test_f15_password_spraying_from_one_address_is_throttled(world: Any) -> None:
    """Nine tries a minute, each at a different account: under every per-minute and
    per-account limit, but an hour of it from one address must be stopped."""
    with time_machine.travel(dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC), tick=False) as traveller:
        for n in range(90):
            Client().post(reverse("account_login"), {"login": f"someone{n}", "password": "Spring2026!"})
            traveller.shift(dt.timedelta(seconds=7))
        response = Client().post(reverse("account_login"), {"login": "secretary", "password": PASSWORD})
    assert response.status_code == 429 or "2fa" not in response.get("Location", "")


# --- found by the probe after the first round of fixes ----------------------------------------


def test_f01_a_carer_signs_in_with_an_sms_code_not_a_password(client: Client, world: Any) -> None:
    """Carers (楼栋长, 党员中心户) see other households' data: a password alone does not open it."""
    from tests.security.conftest import sign_in_by_code

    right = client.post(reverse("account_login"), {"login": "building_leader", "password": PASSWORD})
    wrong = Client().post(reverse("account_login"), {"login": "building_leader", "password": "not-it"})
    assert right.status_code == wrong.status_code == 200  # the same answer: no password oracle
    assert "短信验证码" in right.content.decode() and "短信验证码" in wrong.content.decode()
    assert client.get("/api/people/").status_code in (401, 403)
    sign_in_by_code(client, world.users["building_leader"].phone)
    assert client.get("/api/people/").status_code == 200
    # a session that skipped the code (a test helper here) is ended
    other = Client()
    other.force_login(world.users["central_household"])
    assert other.get("/api/people/").status_code in (401, 403)


def test_f01_the_admin_site_neither_shows_secrets_nor_loops(client: Client, world: Any) -> None:
    from allauth.mfa.models import Authenticator

    from linli.testing import TOTP_SECRET, sign_in

    admin = _make_superuser(world)
    sign_in(client, admin)
    totp = Authenticator.objects.filter(type="totp").first()
    page = client.get(f"/admin/mfa/authenticator/{totp.pk}/change/")
    assert page.status_code == 200 and TOTP_SECRET not in page.content.decode()
    assert client.get("/admin/pghistory/").status_code == 404  # row history shows every field in full
    # staff who are not system admins are refused, not sent round between sign-in pages
    secretary = Client()
    sign_in(secretary, world.users["secretary"])
    assert secretary.get("/admin/needs/category/").status_code in (302, 403)
    refused = secretary.get("/admin/login/?next=/admin/needs/category/")
    assert refused.status_code == 403
