"""The visits API: the phone's queue sends visits retry-safe, refusals are clear 4xx answers,
reads are scoped and masked, responses match the schema, and the list's query count is flat."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from linli.needs.models import Channel, Need
from linli.visits.models import Opinion, Visit, VisitKind
from linli.visits.services import visit_log
from tests.schema import client_for, ok

pytestmark = pytest.mark.django_db


def payload(vw: Any, **extra: Any) -> dict[str, Any]:
    return {"household": vw.household_a.pk, "kind": "knock", **extra}


def test_carer_logs_a_visit_and_a_resend_is_the_same_visit(vw: Any) -> None:
    carer = client_for(vw.users["central_household"])
    at = timezone.localtime() - dt.timedelta(hours=3)
    body = {
        **payload(vw, kind="night"),
        "visited_at": at.isoformat(),
        "met_person": vw.resident_a.pk,
        "heard": "老人说最近血压高，儿子电话13912345678",
        "tags": ["opinion_heard"],
        "raise_need": {"text": "楼道灯坏了，老人晚上下楼不方便"},
    }
    first = ok(
        carer.post("/api/visits/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-1"), "POST", "/api/visits/", 201
    )
    assert first["client_key"] == "phone-1" and first["kind"] == "night"
    assert "139****5678" in first["heard"] and "13912345678" not in first["heard"]
    assert first["met_person_name"] == "张**"  # the carer may not unmask
    visit = Visit.objects.get()
    assert abs(visit.visited_at - at) < dt.timedelta(seconds=1)  # the phone's time, not the server's
    assert visit.recorded_by == vw.users["central_household"] and visit.visitor == vw.carer
    need = Need.objects.get()
    assert first["need"] == need.pk and need.channel == Channel.VISIT
    assert Opinion.objects.get().visit == visit
    # the phone sends it again (its answer was lost): the same visit, 200, the same body
    again = ok(carer.post("/api/visits/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-1"), "POST", "/api/visits/")
    assert again == first
    # the key in the body works as well as the header
    keyed = ok(carer.post("/api/visits/", {**body, "client_key": "phone-1"}, format="json"), "POST", "/api/visits/")
    assert keyed["id"] == first["id"]
    assert Visit.objects.count() == 1 and Need.objects.count() == 1 and Opinion.objects.count() == 1


def test_a_carer_outside_its_assignment_is_refused_clearly(vw: Any) -> None:
    leader = client_for(vw.users["building_leader"])  # same role and place, but no households
    response = leader.post("/api/visits/", payload(vw), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 403
    assert "不在您的包保范围内" in response.json()["detail"]
    english = leader.post("/api/visits/", payload(vw), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "not assigned to you" in english.json()["detail"]
    # a household in another community does not even confirm its existence
    other = client_for(vw.users["grid_worker_b"])
    assert other.post("/api/visits/", payload(vw), format="json").status_code == 404
    assert client_for(vw.users["resident"]).post("/api/visits/", payload(vw), format="json").status_code == 403
    assert APIClient().post("/api/visits/", payload(vw), format="json").status_code in (401, 403)
    assert not Visit.objects.exists()


def test_bad_visits_are_400_and_write_nothing(vw: Any) -> None:
    carer = client_for(vw.users["central_household"])
    future = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    cases = [
        payload(vw, visited_at=future),
        payload(vw, visited_at=(timezone.now() - dt.timedelta(days=90)).isoformat()),
        payload(vw, visited_at="yesterday"),
        payload(vw, kind="party"),
        payload(vw, tags=["gossip"]),
        payload(vw, not_at_home=True, refused=True),
        payload(vw, met_person=vw.resident_b.pk),
        payload(vw, tags=["opinion_heard"]),  # an opinion heard needs its text
        payload(vw, household="abc"),
        payload(vw, client_key="x" * 65),
        payload(vw, raise_need={"text": ""}),
        {"kind": "knock"},
    ]
    for body in cases:
        response = carer.post("/api/visits/", body, format="json")
        assert response.status_code == 400, (body, response.status_code, response.content)
    english = carer.post("/api/visits/", cases[0], format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "A visit cannot be in the future" in str(english.json())
    assert not Visit.objects.exists()


def test_the_same_visit_typed_twice_is_refused(vw: Any) -> None:
    carer = client_for(vw.users["central_household"])
    ok(carer.post("/api/visits/", payload(vw), format="json", HTTP_IDEMPOTENCY_KEY="a"), "POST", "/api/visits/", 201)
    twice = carer.post("/api/visits/", payload(vw), format="json", HTTP_IDEMPOTENCY_KEY="b")
    assert twice.status_code == 400 and "30" in str(twice.json())
    # another kind of visit to the same household is not a duplicate
    ok(
        carer.post("/api/visits/", payload(vw, kind="festival"), format="json", HTTP_IDEMPOTENCY_KEY="c"),
        "POST",
        "/api/visits/",
        201,
    )
    assert Visit.objects.count() == 2


def test_reads_are_scoped_and_masked(vw: Any) -> None:
    visit = visit_log(
        actor=vw.users["central_household"],
        household=vw.household_a,
        kind=VisitKind.KNOCK,
        met_person=vw.resident_a,
        heard="身份证420103198001010011说丢了",
    )
    path = f"/api/visits/{visit.pk}/"
    carer = ok(client_for(vw.users["central_household"]).get("/api/visits/"), "GET", "/api/visits/")
    assert [v["id"] for v in carer["results"]] == [visit.pk] and carer["results"][0]["met_person_name"] == "张**"
    grid = ok(client_for(vw.users["grid_worker"]).get(path), "GET", path)
    assert grid["met_person_name"] == "张建国"  # the grid worker may unmask at the household
    assert "420103198001010011" not in grid["heard"]
    for who in ("grid_worker_b", "secretary_b", "building_leader", "resident"):
        client = client_for(vw.users[who])
        assert client.get("/api/visits/").json()["count"] == 0, who
        assert client.get(path).status_code == 404, who
    staff = client_for(vw.users["community_staff"])
    assert staff.get("/api/visits/", {"place": vw.grid_a.code}).json()["count"] == 1
    assert staff.get("/api/visits/", {"household": vw.household_a.pk, "kind": "knock"}).json()["count"] == 1
    assert staff.get("/api/visits/", {"tag": "opinion_heard"}).json()["count"] == 0
    assert staff.get("/api/visits/", {"kind": "party"}).status_code == 400
    assert staff.get("/api/visits/", {"place": "no-such-place"}).status_code == 404


def test_list_query_count_does_not_grow(vw: Any) -> None:
    start = timezone.now() - dt.timedelta(days=20)

    def make(n: int) -> None:
        for _ in range(n):
            made = Visit.objects.count()
            visit_log(
                actor=vw.users["central_household"],
                household=vw.household_a,
                kind=VisitKind.KNOCK if made % 2 else VisitKind.NIGHT,
                visited_at=start + dt.timedelta(hours=made),
                met_person=vw.resident_a if made % 3 else None,
                heard=f"第{made}次",
            )

    staff = client_for(vw.users["grid_worker"])
    make(2)
    staff.get("/api/visits/")
    with CaptureQueriesContext(connection) as few:
        assert staff.get("/api/visits/").status_code == 200
    make(20)
    with CaptureQueriesContext(connection) as many:
        body = staff.get("/api/visits/", {"page_size": 200}).json()
    assert body["count"] == 22
    assert len(many) == len(few), (len(few), len(many))


def test_coverage(vw: Any) -> None:
    visit_log(actor=vw.users["central_household"], household=vw.household_a, kind=VisitKind.KNOCK)
    path = "/api/visits/coverage/"
    rows = ok(client_for(vw.users["grid_worker"]).get(path, {"place": vw.grid_a.code, "by": "total"}), "GET", path)
    assert len(rows) == 1 and rows[0]["households"] == 1 and rows[0]["ok"] == 1 and rows[0]["on_time_rate"] == 1.0
    by_child = ok(client_for(vw.users["secretary"]).get(path, {"place": vw.community_a.code}), "GET", path)
    assert [r["place"] for r in by_child] == [vw.grid_a.code]
    assert client_for(vw.users["grid_worker_b"]).get(path, {"place": vw.grid_a.code}).status_code == 404
    assert client_for(vw.users["grid_worker_b"]).get(path, {"by": "total"}).json()[0]["ok"] == 0
    assert client_for(vw.users["grid_worker"]).get(path, {"by": "street"}).status_code == 400
    assert client_for(vw.users["grid_worker"]).get(path, {"period_days": "x"}).status_code == 400
