"""The needs API: intake with retries, triage, the life of a need, the departments' side,
schema conformance and query counts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from linli.accounts.api_keys import api_client_register
from linli.core.access import SYSTEM
from linli.needs.models import Need, Status
from linli.needs.services import need_create
from tests.schema import client_for, ok

pytestmark = pytest.mark.django_db


def test_resident_submits_and_follows_a_need(nw: Any) -> None:
    resident = client_for(nw.users["resident"])
    body = ok(
        resident.post(
            "/api/needs/",
            {"text": "楼下路灯不亮了，电话13912345678", "place": nw.household_place_a.code, "channel": "resident"},
            format="json",
        ),
        "POST",
        "/api/needs/",
        201,
    )
    assert body["status"] == "submitted" and body["grid"] == nw.grid_a.code
    assert "139****5678" in body["text"]  # a number typed into the text goes out masked
    assert body["reporters"] == ["张**"]
    mine = ok(resident.get("/api/needs/", {"mine": "true"}), "GET", "/api/needs/")
    assert [n["id"] for n in mine["results"]] == [body["id"]]
    timeline = ok(resident.get(f"/api/needs/{body['id']}/timeline/"), "GET", f"/api/needs/{body['id']}/timeline/")
    assert [e["kind"] for e in timeline] == ["submitted"]


def test_bad_intake_is_400_and_writes_nothing(nw: Any) -> None:
    resident = client_for(nw.users["resident"])
    for payload in (
        {"text": "", "place": nw.household_place_a.code},
        {"text": "路灯坏了", "place": "no-such-place"},
        {"text": "路灯坏了"},
        {"text": "路灯坏了", "place": nw.household_place_a.code, "category": "nope"},
        {"text": "路灯坏了", "place": nw.household_place_a.code, "urgency": "very"},
        {"text": "路灯坏了", "lat": "abc", "long": "114"},
    ):
        response = resident.post("/api/needs/", payload, format="json")
        assert response.status_code == 400, (payload, response.status_code, response.content)
    # another community's flat is as unknown as one that does not exist (nothing confirmed)
    assert resident.post("/api/needs/", {"text": "路灯坏了", "place": nw.household_place_b.code}).status_code == 400
    assert not Need.objects.exists()


def test_idempotency_key_makes_one_need(nw: Any) -> None:
    resident = client_for(nw.users["resident"])
    payload = {"text": "小区门口的路灯坏了", "place": nw.household_place_a.code}
    first = resident.post("/api/needs/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = resident.post("/api/needs/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Need.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_posts_with_one_key_make_one_need(nw: Any, settings: Any) -> None:
    # retries are counted by the intake limit like any request; this test is about the key
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "need_intake_user": "100/m"}
    barrier = threading.Barrier(20)
    codes: list[int] = []

    def post() -> None:
        try:
            client = client_for(nw.users["resident"])
            barrier.wait()
            response = client.post(
                "/api/needs/",
                {"text": "路灯又坏了", "place": nw.household_place_a.code},
                format="json",
                HTTP_IDEMPOTENCY_KEY="same-key",
            )
            codes.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Need.objects.count() == 1
    assert codes.count(201) == 20


def test_triage_with_session_and_api_key_writes_nothing(nw: Any) -> None:
    need_create(actor=nw.users["resident"], text="楼下路灯不亮了", place=nw.household_place_a)
    before = Need.objects.count()
    staff = client_for(nw.users["grid_worker"])
    body = ok(
        staff.post("/api/needs/triage/", {"text": "樓下路燈不亮", "place": nw.building_a.code}, format="json"),
        "POST",
        "/api/needs/triage/",
    )
    assert body["categories"][0]["code"] == "lighting" and len(body["categories"]) == 3
    assert body["grid"] == nw.grid_a.code and body["duplicates"]
    _, key = api_client_register(actor=SYSTEM, name="12345 bridge", user=nw.users["community_staff"])
    anonymous = APIClient()
    response = anonymous.post(f"/api/needs/triage/?api_key={key}", {"text": "停水了", "place": None}, format="json")
    assert response.status_code == 200 and response.json()["grid"] is None
    assert anonymous.post("/api/needs/triage/?api_key=wrong", {"text": "停水了"}, format="json").status_code == 401
    assert anonymous.post("/api/needs/triage/", {"text": "停水了"}, format="json").status_code in (401, 403)
    assert staff.post("/api/needs/triage/", {"text": ""}, format="json").status_code == 400
    assert Need.objects.count() == before


def test_life_of_a_need_through_the_api(nw: Any) -> None:
    need = need_create(actor=nw.users["resident"], text="家里停水了", place=nw.household_place_a)
    grid = client_for(nw.users["grid_worker"])
    path = f"/api/needs/{need.pk}/"
    body = ok(
        grid.post(path + "whistle/", {"departments": [nw.department.code]}, format="json"), "POST", path + "whistle/"
    )
    assert body["status"] == "whistled" and body["dispatches"][0]["is_lead"]
    assert grid.post(path + "whistle/", {"departments": ["nope"]}, format="json").status_code == 400
    assert grid.post(path + "accept/").status_code == 409
    liaison = client_for(nw.users["department_liaison"])
    work = ok(liaison.get("/api/dispatches/", {"active": "true"}), "GET", "/api/dispatches/")
    [dispatch] = work["results"]
    dpath = f"/api/dispatches/{dispatch['id']}/"
    assert grid.post(dpath + "checkin/").status_code == 403
    ok(liaison.post(dpath + "checkin/"), "POST", dpath + "checkin/")
    ok(liaison.post(dpath + "resolve/", {"result": "已修复管道"}, format="json"), "POST", dpath + "resolve/")
    resident = client_for(nw.users["resident"])
    assert resident.post(path + "rate/", {"resolved": True, "satisfaction": "meh"}, format="json").status_code == 400
    body = ok(
        resident.post(path + "rate/", {"resolved": True, "satisfaction": "satisfied"}, format="json"),
        "POST",
        path + "rate/",
    )
    assert body["status"] == Status.CLOSED


def test_other_community_and_other_department_see_nothing(nw: Any) -> None:
    need = need_create(actor=nw.users["resident"], text="家里停水了", place=nw.household_place_a)
    other = client_for(nw.users["grid_worker_b"])
    assert other.get(f"/api/needs/{need.pk}/").status_code == 404
    assert other.get("/api/needs/").json()["count"] == 0
    liaison = client_for(nw.users["department_liaison"])
    assert liaison.get(f"/api/needs/{need.pk}/").status_code == 404  # not whistled to them (yet)


@pytest.mark.parametrize("endpoint", ["/api/needs/", "/api/dispatches/"])
def test_list_query_count_does_not_grow(nw: Any, endpoint: str) -> None:
    from linli.needs.services import need_whistle

    def make(n: int) -> None:
        for i in range(n):
            need = need_create(actor=nw.users["resident"], text=f"第{i}号楼道灯坏了", place=nw.household_place_a)
            need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])

    staff = client_for(nw.users["community_staff"])
    make(3)
    staff.get(endpoint)  # the actor's scope is computed once and cached
    with CaptureQueriesContext(connection) as few:
        assert staff.get(endpoint).status_code == 200
    make(30)
    with CaptureQueriesContext(connection) as many:
        assert staff.get(endpoint, {"page_size": 200}).status_code == 200
    assert len(many) == len(few), (len(few), len(many))


def test_categories(nw: Any) -> None:
    body = ok(client_for(nw.users["resident"]).get("/api/categories/"), "GET", "/api/categories/")
    assert {c["code"] for c in body} >= {"lighting", "water", "dispute"}
    assert client_for(nw.users["resident"]).get("/api/categories/nope/").status_code == 404
