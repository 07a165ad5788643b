from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from linli.accounts.sms import read_outbox
from linli.core import ratelimit
from linli.core.access import Role
from linli.testing import PASSWORD, make_user, sign_in, totp_now

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_outbox(settings: Any, tmp_path: Any) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")


def _last_code(phone: str) -> str:
    messages = [m for m in read_outbox() if m["to"] == phone]
    assert messages, "no SMS was sent"
    return re.search(r"\b(\d{6})\b", messages[-1]["body"]).group(1)


def test_resident_signs_in_with_phone_and_sms_code(client: Any, world: Any) -> None:
    response = client.post(reverse("account_request_login_code"), {"phone": "138 0013 8000"})
    assert response.status_code == 302, response.content[:500]
    code = _last_code("+8613800138000")
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and home.context["user"] == world.users["resident"]
    # the page shows the resident's own phone masked, never in full
    assert "+8613800138000" not in client.get("/me/").content.decode()


def test_wrong_sms_code_does_not_sign_in(client: Any, world: Any) -> None:
    response = client.post(reverse("account_request_login_code"), {"phone": "13800138000"})
    confirm = response["Location"]
    code = _last_code("+8613800138000")
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(confirm, {"code": wrong})
    assert client.get("/").status_code == 302


def test_unknown_phone_gets_nothing_and_no_account_enumeration(client: Any, world: Any) -> None:
    response = client.post(reverse("account_request_login_code"), {"phone": "13900009999"})
    assert response.status_code == 302  # same answer as for a known number
    assert not [m for m in read_outbox() if m["to"] == "+8613900009999"]  # the site sends no SMS to strangers


def test_bad_phone_gets_a_clear_400_message(client: Any, world: Any) -> None:
    response = client.post(reverse("account_request_login_code"), {"phone": "12345"})
    assert response.status_code == 200  # form redisplayed with the error
    assert "11位手机号码" in response.content.decode()


def test_code_requests_are_rate_limited(world: Any) -> None:
    """An abuser with a fresh session each time still cannot make us send more than 3 codes
    to one number within five minutes (SMS costs money and annoys the resident)."""
    from django.test import Client

    for _ in range(6):
        Client().post(reverse("account_request_login_code"), {"phone": "13800138000"})
    sent = len([m for m in read_outbox() if m["to"] == "+8613800138000"])
    assert 1 <= sent <= 3


def test_staff_password_then_totp(client: Any, world: Any) -> None:
    response = client.post(reverse("account_login"), {"login": "grid_worker", "password": PASSWORD})
    assert response.status_code == 302 and "2fa" in response["Location"]
    assert client.get("/").status_code == 302  # not signed in before the second factor
    response = client.post(response["Location"], {"code": totp_now()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_staff_without_totp_must_set_it_up(client: Any, world: Any) -> None:
    make_user("new_grid", Role.GRID_WORKER, world.grid_a, totp=False)
    response = client.post(reverse("account_login"), {"login": "new_grid", "password": PASSWORD})
    assert response.status_code == 302 and "2fa" not in response["Location"]  # nothing to ask for yet
    response = client.get("/people/")
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    api = client.get("/api/people/")
    assert api.status_code == 403
    # setting TOTP up (its first code checked) is the second factor of this session; allauth
    # asks for the password again first
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("account_reauthenticate"))
    assert client.post(page["Location"], {"password": PASSWORD}).status_code == 302
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_now(secret)})
    assert response.status_code == 302
    assert client.get("/people/").status_code == 200
    # a resident needs no second factor
    client.force_login(world.users["resident"])
    assert client.get("/people/").status_code == 200


def test_lockout_after_repeated_failures(client: Any, world: Any) -> None:
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "secretary", "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": "secretary", "password": PASSWORD})
    # even the right password is refused now: allauth's per-account limit or axes' lockout
    assert response.status_code in (200, 403, 429)
    assert "登录失败次数过多" in response.content.decode() or response.status_code != 200
    assert client.get("/").status_code == 302


def test_admin_is_for_superusers_only(client: Any, world: Any) -> None:
    sign_in(client, world.users["secretary"])
    assert client.get("/admin/").status_code == 302
    world.users["system_admin"].is_superuser = True
    world.users["system_admin"].is_staff = True
    world.users["system_admin"].save()
    sign_in(client, world.users["system_admin"])
    assert client.get("/admin/").status_code == 200


# --- the SMS code: said once, sent again after the wait the limits give ---------------------------

T0 = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)  # on a five-minute boundary, as the windows are


def _codes(phone: str = "+8613800138000") -> list[str]:
    return [re.search(r"\b(\d{6})\b", m["body"]).group(1) for m in read_outbox() if m["to"] == phone]  # type: ignore[union-attr]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_code_page_says_once_where_the_code_went(client: Any, world: Any) -> None:
    page = client.post(reverse("account_request_login_code"), {"phone": "13800138000"}, follow=True)
    html = page.content.decode()
    assert _text(html).count("验证码已发送") == 1 and "138****8000" in html
    assert 'id="resend-button"' in html and 'name="action" value="resend"' in html
    assert "countdown.js" in html


def test_a_resend_waits_for_the_limit_and_says_how_long(client: Any, world: Any) -> None:
    with time_machine.travel(T0 + dt.timedelta(seconds=20), tick=False) as clock:
        confirm = client.post(reverse("account_request_login_code"), {"phone": "13800138000"})["Location"]
        page = client.get(confirm).content.decode()
        wait = int(re.search(r'data-countdown="(\d+)"', page).group(1))  # type: ignore[union-attr]
        assert wait == ratelimit.check("sms_resend_phone", "+8613800138000").retry_after
        assert 1 <= wait <= 120 and f"{wait} 秒后可以重新发送" in page
        assert 'data-for="resend-button" data-template="%(s)s 秒后可以重新发送"' in page
        # too soon, as a page without JavaScript would send it: refused, with the wait, nothing sent
        clock.shift(dt.timedelta(seconds=wait - 1))
        early = client.post(confirm, {"action": "resend"}, follow=True).content.decode()
        assert "验证码刚发过，请 1秒 后再重新发送" in early and len(_codes()) == 1
        assert 'data-countdown="1"' in early  # and the page counts down what is left
        # pressing early did not make the wait longer: when it ends, the code goes
        clock.shift(dt.timedelta(seconds=1))
        again = client.post(confirm, {"action": "resend"}, follow=True).content.decode()
        assert "已重新发送验证码，请用最新收到的那一条" in again and len(_codes()) == 2
        assert _text(again).count("验证码已发送") == 1
        # the newest code signs in
        done = client.post(confirm, {"code": _codes()[-1]})
        assert done.status_code == 302 and client.get("/").context["user"] == world.users["resident"]


def test_resends_are_few_and_pressing_one_too_many_is_not_a_wrong_code(client: Any, world: Any) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        confirm = client.post(reverse("account_request_login_code"), {"phone": "13800138000"})["Location"]
        for _ in range(2):
            clock.shift(dt.timedelta(minutes=2, seconds=30))  # past the gap and the number's budget
            client.post(confirm, {"action": "resend"})
        assert len(_codes()) == 3
        page = client.get(confirm).content.decode()
        assert 'id="resend-button"' not in page and "重新发送的次数已用完" in page
        for _ in range(3):  # as many as the wrong codes that would end the sign-in
            refused = client.post(confirm, {"action": "resend"}, follow=True).content.decode()
            assert "重新发送的次数已用完" in refused
        assert len(_codes()) == 3
        assert client.post(confirm, {"code": _codes()[-1]}).status_code == 302
        assert client.get("/").context["user"] == world.users["resident"]


def test_too_many_requests_say_how_long_to_wait_never_that_a_sign_in_failed(world: Any) -> None:
    from django.test import Client

    def ask(at: int) -> str:
        with time_machine.travel(T0 + dt.timedelta(seconds=at), tick=False):
            response = Client().post(reverse("account_request_login_code"), {"phone": "13800138000"}, follow=True)
            return _text(response.content.decode())

    for at in (290, 295, 299):  # three codes at the end of one window
        assert "验证码已发送" in ask(at)
    # a hundred seconds later the sliding limit lets one more through (allauth's own limit,
    # which the form used to ask too, refused it as 登录失败次数过多)
    fourth = ask(400)
    assert "验证码已发送" in fourth and "登录失败次数过多" not in fourth
    assert len(_codes()) == 4
    with time_machine.travel(T0 + dt.timedelta(seconds=401), tick=False):
        left = ratelimit.check("sms_login_phone", "+8613800138000").retry_after
    fifth = ask(401)
    assert f"验证码发送太频繁，请 {ratelimit.wait_text(left)} 后再试" in fifth
    assert "登录失败次数过多" not in fifth and len(_codes()) == 4
    assert _text(fifth).count("验证码发送太频繁") == 1


def _form_next(html: str, form_id: str) -> str | None:
    """The ``next`` a form of the page carries (the header's language form has its own)."""
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert form, f"no form #{form_id}"
    found = re.search(r'name="next"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="next"', form.group(0))
    return (found.group(1) or found.group(2)).replace("&amp;", "&") if found else None


def test_a_building_qr_code_survives_the_sms_sign_in(client: Any, world: Any) -> None:
    """A resident scans 1栋's code without a session: after the sign-in page, the SMS link, the
    phone and the code, the report form opens at 1栋, and the need is filed there via QR."""
    from urllib.parse import urlsplit

    from linli.needs.models import Channel, Need

    wanted = f"/needs/new/?place={world.building_a.code}&via=qr"
    response = client.get(wanted)
    assert response.status_code == 302
    login = client.get(response["Location"]).content.decode()
    sms_link = re.search(r'<a[^>]*id="sms-login"[^>]*>', login)
    assert sms_link, "the sign-in page links to the SMS sign-in"
    href = re.search(r'href="([^"]+)"', sms_link.group(0)).group(1).replace("&amp;", "&")
    page = client.get(href)
    assert page.status_code == 200
    response = client.post(href, {"phone": "13800138000", "next": _form_next(page.content.decode(), "request-code")})
    assert response.status_code == 302
    confirm = client.get(response["Location"]).content.decode()
    data = {"code": _last_code("+8613800138000")}
    carried = _form_next(confirm, "confirm-code")
    if carried:
        data["next"] = carried
    response = client.post(response["Location"], data)
    assert response.status_code == 302
    landed = urlsplit(response["Location"])
    assert f"{landed.path}?{landed.query}" == wanted
    form = client.get(wanted)
    assert form.status_code == 200 and world.building_a.name in form.content.decode()
    client.post(wanted, {"text": "楼道灯坏了", "urgency": "normal", "place": world.building_a.code})
    need = Need.objects.get(text="楼道灯坏了")
    assert need.place == world.building_a and need.channel == Channel.QR
