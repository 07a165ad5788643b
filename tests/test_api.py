from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from linli.core.access import SYSTEM, forget_scope
from linli.core.models import AuditEntry
from linli.people.models import Relation
from linli.people.services import household_create, person_create
from linli.testing import make_id_number, make_phone, sign_in
from tests.schema import assert_matches_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(world: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users["grid_worker"])
    return client


def get(client: APIClient, path: str, **params: Any) -> Any:
    response = client.get(path, params)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    assert_matches_schema("GET", path, 200, response.json())
    return response.json()


def test_lists_are_scoped_and_match_the_schema(api: APIClient, world: Any) -> None:
    places = get(api, "/api/places/")
    assert {p["code"] for p in places["results"]} == {"t-a-g1", "t-a-g1-b1", "t-a-g1-b1-101"}
    people = get(api, "/api/people/")
    names = {p["name"] for p in people["results"]}
    assert "张建国" in names and "李秀英" not in names
    assert all("*" in p["phone_masked"] or not p["phone_masked"] for p in people["results"])
    households = get(api, "/api/households/")
    assert [h["place"] for h in households["results"]] == ["t-a-g1-b1-101"]
    get(api, "/api/departments/")
    get(api, "/api/memberships/")
    detail = get(api, f"/api/places/{world.grid_a.code}/")
    assert detail["parent_code"] == "t-a" and detail["household_count"] == 1
    children = get(api, "/api/places/", parent=world.grid_a.code)
    assert [c["code"] for c in children["results"]] == ["t-a-g1-b1"]


def test_person_detail_hides_sensitive_flags_from_roles_without_need(world: Any) -> None:
    client = APIClient()
    client.force_authenticate(world.users["street_official"])
    body = get(client, f"/api/people/{world.resident_a.pk}/")
    assert body["vulnerabilities"] is None
    client.force_authenticate(world.users["grid_worker"])
    assert get(client, f"/api/people/{world.resident_a.pk}/")["vulnerabilities"] == ["elderly_alone"]


def test_create_person_validates_and_never_500s(api: APIClient, world: Any) -> None:
    bad = [
        {"place": world.household_place_a.code, "name": "王五", "id_number": "420106199001011235"},
        {"place": world.household_place_a.code, "name": "王五", "phone": "12345"},
        {"place": "no-such-place", "name": "王五"},
        {"name": "王五"},
        {"place": world.household_place_a.code, "name": "", "vulnerabilities": ["nonsense"]},
        {"place": world.household_place_a.code, "name": "王五", "birth_date": "not-a-date"},
    ]
    for payload in bad:
        response = api.post("/api/people/", payload, format="json")
        assert response.status_code in (400, 404), (payload, response.status_code)
    assert not AuditEntry.objects.filter(action="create", target_label="王五").exists()
    response = api.post(
        "/api/people/",
        {
            "place": world.household_place_a.code,
            "name": "王五",
            "phone": "+86 139-0000-1234",
            "id_number": make_id_number(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert_matches_schema("POST", "/api/people/", 201, response.json())
    assert response.json()["phone_masked"] == "139****1234"
    outside = api.post("/api/people/", {"place": world.household_place_b.code, "name": "越界"}, format="json")
    assert outside.status_code == 404


def test_patch_person_and_unmask(api: APIClient, world: Any) -> None:
    url = f"/api/people/{world.resident_a.pk}/"
    response = api.patch(url, {"is_volunteer": True}, format="json")
    assert response.status_code == 200 and response.json()["is_volunteer"] is True
    refused = api.post(f"{url}unmask/", {"field": "phone"}, format="json")
    assert refused.status_code == 400
    shown = api.post(f"{url}unmask/", {"field": "phone", "reason": "电话回访"}, format="json")
    assert shown.status_code == 200 and shown.json() == {"field": "phone", "value": "+8613800138000"}
    assert_matches_schema("POST", f"{url}unmask/", 200, shown.json())
    assert AuditEntry.objects.filter(action="unmask", reason="电话回访").count() == 1


def test_memberships_grant_and_revoke(world: Any) -> None:
    client = APIClient()
    client.force_authenticate(world.users["secretary"])
    helper = person_create(actor=SYSTEM, place=world.community_a, name="新志愿者")
    response = client.post(
        "/api/memberships/",
        {"person": helper.pk, "place": world.community_a.code, "role": "volunteer", "reason": "报名"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert_matches_schema("POST", "/api/memberships/", 201, response.json())
    too_high = client.post(
        "/api/memberships/",
        {"person": helper.pk, "place": world.community_a.code, "role": "street_official"},
        format="json",
    )
    assert too_high.status_code == 403
    assert client.delete(f"/api/memberships/{response.json()['id']}/").status_code == 204


def test_bad_filters_are_400_or_404(api: APIClient) -> None:
    assert api.get("/api/places/", {"kind": "planet"}).status_code == 400
    assert api.get("/api/places/", {"parent": "nowhere"}).status_code == 404
    assert api.get("/api/people/abc/").status_code == 404
    assert api.get("/api/places/", {"page": "999"}).status_code == 404


def _grow(world: Any, start: int, stop: int) -> None:
    """Households with one person each, numbered start..stop-1, under building A."""
    for i in range(start, stop):
        household = household_create(
            actor=SYSTEM, building=world.building_a, code=f"t-a-g1-b1-x{i}", name=f"2单元{i:03d}"
        )
        person_create(
            actor=SYSTEM,
            place=household.place,
            household=household,
            relation=Relation.HEAD,
            name=f"居民{i}",
            phone=make_phone(),
            id_number=make_id_number(birth="19700101", seq=i),
        )


ENDPOINTS = ["/api/places/", "/api/people/", "/api/households/", "/api/memberships/"]
PAGES = ["/people/", "/places/t-a-g1-b1/", "/audit/", "/places/t-a/memberships/", "/places/"]


def _counts(client: Any, paths: list[str], params: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for path in paths:
        # force_authenticate reuses one user object, on which the scope is cached: drop it
        # so that every request pays for its scope as a real request does
        forget_scope(getattr(getattr(client, "handler", None), "_force_user", None))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path, params)
        assert response.status_code == 200, (path, response.status_code)
        counts[path] = len(ctx.captured_queries)
    return counts


def test_query_counts_do_not_grow_with_rows(world: Any, client: Any) -> None:
    api = APIClient()
    api.force_authenticate(world.users["secretary"])
    sign_in(client, world.users["secretary"])
    _grow(world, 0, 10)
    small = _counts(api, ENDPOINTS, {"page_size": 200}) | _counts(client, PAGES, {})
    _grow(world, 10, 200)
    large = _counts(api, ENDPOINTS, {"page_size": 200}) | _counts(client, PAGES, {})
    assert large == small


def test_create_is_idempotent_with_a_key(api: APIClient, world: Any) -> None:
    payload = {"place": world.household_place_a.code, "name": "赵六", "phone": "13900002222"}
    first = api.post("/api/people/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/people/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    from linli.people.models import Person

    assert Person.objects.filter(name="赵六").count() == 1
    other = api.post("/api/people/", {**payload, "name": "钱七"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    # a failed request stores nothing, so a corrected retry with the same key goes through
    bad = api.post("/api/people/", {**payload, "phone": "1"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400
    fixed = api.post("/api/people/", {**payload, "name": "孙八"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert fixed.status_code == 201
