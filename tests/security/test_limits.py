"""Throttling of intake and triage (finding 8): per key, per user and per address, a clear
429 (in Open311's error format on Open311), configured in settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.api_keys import api_client_register
from linli.core.access import SYSTEM
from linli.needs.models import Need

pytestmark = pytest.mark.django_db

LIMITS = {
    "need_intake_key": "3/m",
    "need_intake_user": "2/m",
    "need_intake_ip": "1000/m",
    "triage_key": "2/m",
    "triage_user": "2/m",
    "triage_ip": "1000/m",
}


@pytest.fixture
def limited(nw: Any, settings: Any) -> Any:
    settings.LINLI_RATE_LIMITS = {**getattr(settings, "LINLI_RATE_LIMITS", {}), **LIMITS}
    return nw


def test_f08_open311_posts_are_limited_per_key_in_the_specs_format(limited: Any) -> None:
    _, key = api_client_register(actor=SYSTEM, name="12345", user=limited.users["community_staff"])
    form = {"api_key": key, "service_code": "lighting", "description": "路灯不亮", "address_id": "t-a-g1-b1"}
    answers = [Client().post("/open311/v2/requests.json", form) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [201, 201, 201]
    last = answers[3]
    assert last.status_code == 429
    body = last.json()
    assert body[0]["code"] == 429 and body[0]["description"]
    assert last.has_header("Retry-After")
    assert Need.objects.count() == 3
    xml = Client().post("/open311/v2/requests.xml", form)
    assert xml.status_code == 429 and b"<errors>" in xml.content


def test_f08_triage_is_limited_per_key_and_per_user(limited: Any) -> None:
    _, key = api_client_register(actor=SYSTEM, name="bridge", user=limited.users["community_staff"])
    codes = [
        Client().post(f"/api/needs/triage/?api_key={key}", {"text": "停水了"}, content_type="application/json")
        for _ in range(3)
    ]
    assert [c.status_code for c in codes] == [200, 200, 429]
    staff = Client()
    staff.force_login(limited.users["resident"])
    codes = [staff.post("/api/needs/triage/", {"text": "停水了"}, content_type="application/json") for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert "detail" in codes[2].json()


def test_f08_needs_api_and_report_form_are_limited_per_user(limited: Any) -> None:
    resident = Client()
    resident.force_login(limited.users["resident"])
    body = {"text": "楼道灯坏了", "place": "t-a-g1-b1"}
    codes = [resident.post("/api/needs/", body, content_type="application/json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    form = resident.post(reverse("needs:new"), {"text": "楼下路灯不亮", "place": "t-a-g1-b1", "urgency": "normal"})
    assert form.status_code == 429
    assert "请稍后" in form.content.decode()
    assert Need.objects.count() == 2
