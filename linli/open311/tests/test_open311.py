"""Open311 GeoReport v2: every endpoint in JSON and XML, errors in the spec's format (never a
500), retries with ``Idempotency-Key``, filters, the client's scope, and no personal data."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from linli.accounts.api_keys import api_client_register
from linli.core.access import SYSTEM
from linli.core.geo import wgs84_to_gcj02
from linli.needs.models import Channel, Need, NeedReporter, Status
from linli.needs.services import need_create, need_merge, need_whistle
from linli.needs.triage import triage_cache_clear
from linli.places.models import PlaceKind
from linli.places.services import place_create

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
ERROR_CODES = (400, 401, 403, 404, 409, 415, 422)


def key_for(nw: Any, user: str = "community_staff") -> str:
    _, key = api_client_register(actor=SYSTEM, name=f"12345 bridge ({user})", user=nw.users[user])
    return key


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    return ET.fromstring(response.content)  # noqa: S314 - our own answer, not untrusted input


def spec_error(response: Any, code: int) -> str:
    """The response is an error in the spec's format (JSON or XML); returns its description."""
    assert response.status_code == code, (response.status_code, response.content[:400])
    if response["Content-Type"].startswith("text/xml"):
        root = xml(response)
        assert root.tag == "errors"
        [error] = root.findall("error")[:1]
        assert error.findtext("code") == str(code)
        description = error.findtext("description") or ""
    else:
        body = response.json()
        assert isinstance(body, list) and body and set(body[0]) == {"code", "description"}
        assert body[0]["code"] == code
        description = body[0]["description"]
    assert_in_reader_language(response, description)
    return description


def assert_in_reader_language(response: Any, description: str) -> None:
    """Errors speak the reader's language: Chinese by default, English when asked for."""
    assert description.strip()
    if response.get("Content-Language", "").startswith("en"):
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in description), description
    else:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in description), description


def post_request(client: Client, key: str, fmt: str = "json", **fields: Any) -> Any:
    return client.post(f"{BASE}requests.{fmt}", {"api_key": key, **fields})


def make_need(nw: Any, text: str = "楼道灯坏了", **kwargs: Any) -> Need:
    kwargs.setdefault("place", nw.building_a)
    return need_create(actor=nw.users["community_staff"], text=text, category_code="lighting", **kwargs)


# --- discovery and the catalogue ---------------------------------------------------------------


def test_discovery_in_both_formats(nw: Any) -> None:
    body = Client().get(f"{BASE}discovery.json").json()
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"http://testserver{BASE}" and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert body["changeset"] and "api_key" in body["notes"]
    root = xml(Client().get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery" and root.findtext("changeset") == body["changeset"]
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == endpoint["formats"]
    assert Client().get(f"{BASE}discovery").json() == body  # no suffix: JSON


def test_services_in_both_formats(nw: Any) -> None:
    body = Client().get(f"{BASE}services.json").json()
    by_code = {s["service_code"]: s for s in body}
    assert set(by_code) == {"lighting", "water", "dispute"}
    lighting = by_code["lighting"]
    assert lighting["service_name"] == "路灯照明" and lighting["metadata"] is True
    assert lighting["type"] == "realtime" and lighting["keywords"] == "路灯,灯不亮"
    assert lighting["group"] == "网格" and by_code["water"]["group"] == "部门"
    assert "7 个工作日内办结" in lighting["description"]
    root = xml(Client().get(f"{BASE}services.xml"))
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert codes == [s["service_code"] for s in body]
    assert root.find("service/metadata").text == "true"  # type: ignore[union-attr]
    # jurisdiction_id is a city's place code
    assert len(Client().get(f"{BASE}services.json", {"jurisdiction_id": nw.city.code}).json()) == 3
    for fmt in ("json", "xml"):
        spec_error(Client().get(f"{BASE}services.{fmt}", {"jurisdiction_id": "nowhere"}), 404)
        spec_error(Client().get(f"{BASE}services.{fmt}", {"jurisdiction_id": nw.community_a.code}), 404)


def test_service_names_follow_the_language(nw: Any) -> None:
    nw.categories["lighting"].name_en = "Street lighting"
    nw.categories["lighting"].save()
    body = Client().get(f"{BASE}services.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert {s["service_name"] for s in body} >= {"Street lighting"}


def test_service_definition_in_both_formats(nw: Any) -> None:
    body = Client().get(f"{BASE}services/lighting.json").json()
    assert body["service_code"] == "lighting"
    urgency, floor = body["attributes"]
    assert urgency["code"] == "urgency" and urgency["datatype"] == "singlevaluelist"
    assert urgency["required"] is False and urgency["variable"] is True
    assert [v["key"] for v in urgency["values"]] == ["normal", "urgent", "emergency"]
    assert floor["code"] == "floor" and floor["datatype"] == "string"
    root = xml(Client().get(f"{BASE}services/lighting.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "lighting"
    keys = [v.text for v in root.findall("attributes/attribute/values/value/key")]
    assert keys == ["normal", "urgent", "emergency"]
    assert root.findtext("attributes/attribute/required") == "false"
    for fmt in ("json", "xml"):
        spec_error(Client().get(f"{BASE}services/nope.{fmt}"), 404)


# --- posting -----------------------------------------------------------------------------------


def test_post_creates_a_need_and_reads_it_back(nw: Any) -> None:
    key = key_for(nw)
    client = Client()
    response = post_request(
        client,
        key,
        service_code="lighting",
        description="1栋门口路灯不亮，联系电话13912345678",
        address_id=nw.building_a.code,
        **{"attribute[urgency]": "urgent", "attribute[floor]": "3"},
        first_name="小明",
        last_name="王",
        phone="13987654321",
        email="x@example.com",
        media_url="https://example.com/a.jpg",
    )
    assert response.status_code == 201, response.content
    [answer] = response.json()
    need = Need.objects.get(pk=answer["service_request_id"])
    assert answer["token"] == str(need.token) and answer["service_notice"]
    assert need.channel == Channel.API and need.api_client is not None and need.urgency == "urgent"
    assert need.category is not None and need.category.code == "lighting"
    assert need.place == nw.building_a and need.address_string == "3层"
    reporter = NeedReporter.objects.get(need=need)
    assert (reporter.name, reporter.phone) == ("王小明", "+8613987654321")

    [row] = client.get(f"{BASE}requests/{need.pk}.json", {"api_key": key}).json()
    assert row["service_request_id"] == str(need.pk) and row["status"] == "open"
    assert row["description"] == "1栋门口路灯不亮，联系电话139****5678"  # masked
    assert row["service_code"] == "lighting" and row["service_name"] == "路灯照明"
    assert row["address_id"] == nw.building_a.code and row["address"] == "武汉市江汉区汉兴街道常二社区1栋（3层）"
    assert row["agency_responsible"] == "常二社区第一网格"
    assert row["requested_datetime"].endswith("+08:00") and row["expected_datetime"].endswith("+08:00")
    assert row["zipcode"] == "" and row["media_url"] == ""
    assert "王" not in json.dumps(row, ensure_ascii=False) and "987654321" not in response.content.decode()
    assert row["status_notes"] == "待受理"

    root = xml(client.get(f"{BASE}requests/{need.pk}.xml", {"api_key": key}))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert request.findtext("service_request_id") == str(need.pk)
    assert request.findtext("description") == row["description"]
    assert request.findtext("lat") == ""  # no point: empty, as the spec's optional fields

    [token] = client.get(f"{BASE}tokens/{need.token}.json", {"api_key": key}).json()
    assert token == {"service_request_id": str(need.pk), "token": str(need.token)}
    root = xml(client.get(f"{BASE}tokens/{need.token}.xml", {"api_key": key}))
    assert root.findtext("request/token") == str(need.token)
    for fmt in ("json", "xml"):
        spec_error(client.get(f"{BASE}tokens/not-a-token.{fmt}", {"api_key": key}), 404)
        spec_error(client.get(f"{BASE}tokens/00000000-0000-0000-0000-000000000000.{fmt}", {"api_key": key}), 404)


def test_post_in_xml_and_as_json(nw: Any) -> None:
    key = key_for(nw)
    root = xml(
        post_request(Client(), key, "xml", service_code="dispute", description="楼上噪音", address_id=nw.grid_a.code)
    )
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") and root.findtext("request/token")
    response = Client().post(
        f"{BASE}requests.json",
        json.dumps(
            {
                "api_key": key,
                "service_code": "water",
                "description": "停水了",
                "address_id": nw.household_place_a.code,
                "attribute": {"urgency": "emergency"},
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    need = Need.objects.get(pk=response.json()[0]["service_request_id"])
    assert need.urgency == "emergency" and need.place == nw.household_place_a
    # a need at a household is shown at its building: the home is the reporter's data
    [row] = Client().get(f"{BASE}requests/{need.pk}.json", {"api_key": key}).json()
    assert row["address_id"] == nw.building_a.code and "101" not in row["address"]


def test_post_with_gcj02_coordinates_finds_the_grid(nw: Any) -> None:
    square = [[114.25, 30.60], [114.26, 30.60], [114.26, 30.61], [114.25, 30.61], [114.25, 30.60]]
    grid = place_create(
        actor=SYSTEM,
        parent=nw.community_a,
        code="t-a-g2",
        name="第二网格",
        kind=PlaceKind.GRID,
        boundary={"type": "Polygon", "coordinates": [square]},
    )
    triage_cache_clear()
    try:
        lat, lng = wgs84_to_gcj02(30.605, 114.255)  # what AMap shows for that point
        assert abs(lng - 114.255) > 0.003  # GCJ-02 is a few hundred metres off
        response = post_request(
            Client(),
            key_for(nw),
            service_code="lighting",
            description="路灯坏了",
            lat=lat,
            long=lng,
            coordinates="gcj02",
        )
        assert response.status_code == 201, response.content
        need = Need.objects.get(pk=response.json()[0]["service_request_id"])
        assert need.grid == grid and need.place == grid
        assert abs(float(need.lat) - 30.605) < 1e-5 and abs(float(need.lng) - 114.255) < 1e-5  # type: ignore[arg-type]
        # the raw GCJ-02 point read as WGS-84 lies outside the grid (it would be taken by the
        # nearest-grid rule, switched off here, and then refused outside every street)
        with override_settings(LINLI_NEAREST_GRID_METRES=0):
            outside = post_request(
                Client(), key_for(nw), service_code="lighting", description="路灯坏了", lat=lat, long=lng
            )
        spec_error(outside, 400)
    finally:
        triage_cache_clear()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_posts_are_spec_errors_and_write_nothing(nw: Any, fmt: str) -> None:
    key = key_for(nw)
    good = {"service_code": "lighting", "description": "路灯坏了", "address_id": nw.building_a.code}
    cases: list[tuple[dict[str, Any], int]] = [
        ({**good, "service_code": ""}, 400),
        ({**good, "service_code": "nope"}, 400),
        ({**good, "description": ""}, 400),
        ({**good, "description": "x" * 5000}, 400),
        ({**good, "address_id": ""}, 400),
        ({**good, "address_id": "no-such-place"}, 400),
        ({**good, "address_id": nw.street.code}, 400),
        ({**good, "lat": "abc", "long": "114.2"}, 400),
        ({**good, "lat": "nan", "long": "114.2"}, 400),
        ({**good, "lat": "1e400", "long": "114.2"}, 400),
        ({**good, "lat": "95", "long": "114.2"}, 400),
        ({**good, "lat": "30.6"}, 400),
        ({**good, "coordinates": "bd09"}, 400),
        ({**good, "attribute[urgency]": "very"}, 400),
        ({**good, "attribute[floor]": "9" * 30}, 400),
        ({**good, "phone": "12345"}, 400),
        ({**good, "description": "路灯\x00坏了"}, 400),
        ({"service_code": "lighting", "description": "路灯坏了", "address_string": "常二社区1栋"}, 400),
        # outside the client's community: as unknown as a code that does not exist
        ({**good, "address_id": nw.building_b.code}, 400),
    ]
    for fields, code in cases:
        spec_error(post_request(Client(), key, fmt, **fields), code)
        english = Client(HTTP_ACCEPT_LANGUAGE="en")
        spec_error(post_request(english, key, fmt, **fields), code)
    spec_error(Client().post(f"{BASE}requests.{fmt}", good), 401)
    spec_error(Client().post(f"{BASE}requests.{fmt}", {**good, "api_key": "wrong"}), 403)
    url = f"{BASE}requests.{fmt}?api_key={key}"
    for body, content_type, code in (
        ("{not json", "application/json", 400),
        ('["a list"]', "application/json", 400),
        ('{"description": {"a": 1}}', "application/json", 400),
        ('{"service_code": "lighting", "description": "\\ud800", "address_id": "x"}', "application/json", 400),
        ("plain", "text/plain", 415),
    ):
        spec_error(Client().post(url, body, content_type=content_type), code)
    assert not Need.objects.exists()


def test_missing_fields_are_all_named(nw: Any) -> None:
    key = key_for(nw)
    response = post_request(Client(), key)
    assert response.status_code == 400
    described = " ".join(e["description"] for e in response.json())
    assert "service_code" in described and "description" in described and "位置" in described
    response = post_request(Client(HTTP_ACCEPT_LANGUAGE="en"), key)
    described = " ".join(e["description"] for e in response.json())
    assert "service_code" in described and "description" in described and "location" in described


def test_reading_needs_no_key_but_a_wrong_key_is_refused(nw: Any) -> None:
    for fmt in ("json", "xml"):
        assert Client().get(f"{BASE}requests.{fmt}").status_code == 200  # the public projection
        spec_error(Client().get(f"{BASE}requests/1.{fmt}"), 404)
        spec_error(Client().get(f"{BASE}tokens/00000000-0000-0000-0000-000000000000.{fmt}"), 404)
    for path in ("requests", "requests/1", "tokens/00000000-0000-0000-0000-000000000000"):
        for fmt in ("json", "xml"):
            assert "api_key" in spec_error(Client().get(f"{BASE}{path}.{fmt}", {"api_key": "wrong"}), 403)
    # a wrong key is refused even where no key is needed
    spec_error(Client().get(f"{BASE}services.json", {"api_key": "wrong"}), 403)


def test_unknown_paths_and_methods_are_spec_errors(nw: Any) -> None:
    spec_error(Client().get(f"{BASE}nothing.json"), 404)
    spec_error(Client().get(f"{BASE}nothing.xml"), 404)
    spec_error(Client().delete(f"{BASE}services.json"), 405)
    spec_error(Client().get(f"{BASE}requests/abc.json", {"api_key": key_for(nw)}), 404)
    spec_error(Client().get(f"{BASE}requests/{'9' * 30}.json", {"api_key": key_for(nw)}), 404)


def test_xml_is_escaped(nw: Any) -> None:
    key = key_for(nw)
    text = '路灯 <b>坏了</b> & "快修" ]]> \x07'
    need = make_need(nw, text=text.replace("\x07", ""))
    response = Client().get(f"{BASE}requests/{need.pk}.xml", {"api_key": key})
    assert b"<b>" not in response.content
    assert xml(response).findtext("request/description") == need.text


# --- retries -----------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(nw: Any) -> None:
    key = key_for(nw)
    fields = {"service_code": "lighting", "description": "路灯坏了", "address_id": nw.building_a.code}
    first = Client().post(f"{BASE}requests.json", {"api_key": key, **fields}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = Client().post(f"{BASE}requests.json", {"api_key": key, **fields}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json() and Need.objects.count() == 1
    other = {**fields, "description": "另一件事"}
    spec_error(Client().post(f"{BASE}requests.json", {"api_key": key, **other}, HTTP_IDEMPOTENCY_KEY="k-1"), 422)
    spec_error(Client().post(f"{BASE}requests.xml", {"api_key": key, **fields}, HTTP_IDEMPOTENCY_KEY="k" * 101), 400)
    assert Need.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_posts_with_one_key_make_one_need(nw: Any) -> None:
    key = key_for(nw)
    fields = {"api_key": key, "service_code": "lighting", "description": "路灯又坏了", "address_id": nw.building_a.code}
    barrier = threading.Barrier(20)
    answers: list[tuple[int, Any]] = []

    def post() -> None:
        try:
            client = Client()
            barrier.wait()
            response = client.post(f"{BASE}requests.json", fields, HTTP_IDEMPOTENCY_KEY="same-key")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Need.objects.count() == 1
    assert [code for code, _ in answers] == [201] * 20
    assert len({body[0]["service_request_id"] for _, body in answers}) == 1


# --- reading requests --------------------------------------------------------------------------


def test_request_filters(nw: Any) -> None:
    key = key_for(nw)
    lamp = make_need(nw, text="路灯坏了")
    dispute = need_create(
        actor=nw.users["community_staff"], text="邻居吵架", place=nw.building_a, category_code="dispute"
    )
    old = make_need(nw, text="去年的路灯")
    Need.objects.filter(pk=old.pk).update(created_at=dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC))
    whistled = need_create(
        actor=nw.users["community_staff"], text="家里停水", place=nw.building_a, category_code="water"
    )
    need_whistle(actor=nw.users["grid_worker"], need=whistled, departments=[nw.department])
    need_merge(actor=nw.users["grid_worker"], duplicate=make_need(nw, text="路灯坏了两盏"), into=lamp)

    def ids(**params: Any) -> list[int]:
        response = Client().get(f"{BASE}requests.json", {"api_key": key, **params})
        assert response.status_code == 200, response.content
        return sorted(int(r["service_request_id"]) for r in response.json())

    merged = Need.objects.get(status=Status.MERGED)
    recent = sorted([lamp.pk, dispute.pk, whistled.pk, merged.pk])
    assert ids() == recent  # the last 90 days
    assert ids(service_code="dispute") == [dispute.pk]
    assert ids(status="closed") == [merged.pk]
    assert ids(status="open") == sorted([lamp.pk, dispute.pk, whistled.pk])
    assert ids(status="open,closed") == recent
    assert ids(service_request_id=f"{old.pk},{lamp.pk}") == sorted([old.pk, lamp.pk])  # ids override the window
    assert ids(start_date="2025-01-01T00:00:00+08:00", end_date="2025-02-01T00:00:00+08:00") == [old.pk]
    assert ids(start_date="2025-01-01T00:00:00Z", end_date="2025-02-01") == [old.pk]
    assert ids(start_date="2025-01-01T00:00:00 08:00", end_date="2025-02-01T00:00:00 08:00") == [old.pk]
    assert ids(end_date="2025-02-01T00:00:00+08:00") == [old.pk]
    assert ids(start_date="2025-01-01T00:00:00+08:00") == sorted([*recent, old.pk])
    assert ids(jurisdiction_id=nw.city.code) == recent

    rows = {r["service_request_id"]: r for r in Client().get(f"{BASE}requests.json", {"api_key": key}).json()}
    assert rows[str(whistled.pk)]["status_notes"] == "已吹哨 1 个部门"
    assert rows[str(whistled.pk)]["agency_responsible"] == nw.department.name
    assert rows[str(merged.pk)]["status_notes"] == f"已合并至 #{lamp.pk}"
    root = xml(Client().get(f"{BASE}requests.xml", {"api_key": key, "status": "closed"}))
    assert [r.findtext("status") for r in root.findall("request")] == ["closed"]

    for params in (
        {"start_date": "yesterday"},
        {"start_date": "2025-13-01T00:00:00+08:00"},
        {"end_date": "0001-01-01T00:00:00+08:00"},
        {"start_date": "2025-02-01", "end_date": "2025-01-01"},
        {"status": "pending"},
        {"service_request_id": "1,abc"},
        {"service_request_id": "9" * 30},
    ):
        for fmt in ("json", "xml"):
            spec_error(Client().get(f"{BASE}requests.{fmt}", {"api_key": key, **params}), 400)
    spec_error(Client().get(f"{BASE}requests.json", {"api_key": key, "jurisdiction_id": "nowhere"}), 404)


def test_a_client_sees_only_its_accounts_scope(nw: Any) -> None:
    mine = make_need(nw, text="常二社区的路灯")
    theirs = need_create(
        actor=nw.users["secretary_b"], text="常四社区的路灯", place=nw.building_b, category_code="lighting"
    )
    key_a, key_b = key_for(nw), key_for(nw, "secretary_b")
    listed = Client().get(f"{BASE}requests.json", {"api_key": key_a}).json()
    assert [r["service_request_id"] for r in listed] == [str(mine.pk)]
    asked = Client().get(f"{BASE}requests.json", {"api_key": key_a, "service_request_id": f"{theirs.pk}"}).json()
    assert asked == []
    for fmt in ("json", "xml"):
        spec_error(Client().get(f"{BASE}requests/{theirs.pk}.{fmt}", {"api_key": key_a}), 404)
        spec_error(Client().get(f"{BASE}tokens/{theirs.token}.{fmt}", {"api_key": key_a}), 404)
    assert Client().get(f"{BASE}requests/{theirs.pk}.json", {"api_key": key_b}).status_code == 200
    admin = key_for(nw, "system_admin")
    assert len(Client().get(f"{BASE}requests.json", {"api_key": admin}).json()) == 2


def test_personal_data_never_goes_out(nw: Any) -> None:
    key = key_for(nw)
    need = need_create(
        actor=nw.users["community_staff"],
        text="张建国家漏水，电话 13800138000，身份证 420103198001010014",
        place=nw.household_place_a,
        category_code="water",
    )
    for fmt in ("json", "xml"):
        for path in (f"requests.{fmt}", f"requests/{need.pk}.{fmt}"):
            content = Client().get(f"{BASE}{path}", {"api_key": key}).content.decode()
            assert "138****8000" in content and "13800138000" not in content
            assert "420103198001010014" not in content and "1单元101" not in content
    # an error echoing a phone number typed into a parameter is masked too
    response = post_request(Client(), key, service_code="13800138000", description="x", address_id=nw.building_a.code)
    assert "13800138000" not in response.content.decode()


def test_list_query_count_does_not_grow(nw: Any) -> None:
    key = key_for(nw)

    def make(n: int) -> None:
        for i in range(n):
            need = make_need(nw, text=f"第{i}号楼道灯坏了")
            if i % 2:
                need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])

    client = Client()
    assert client.get(f"{BASE}requests.json", {"api_key": key}).status_code == 200  # marks the key used
    make(3)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(f"{BASE}requests.json", {"api_key": key}).json()) == 3
    make(30)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{BASE}requests.json", {"api_key": key}).json()) == 33
    assert len(many) == len(few), (len(few), len(many))


@pytest.mark.parametrize("route", ["services", "requests", "tokens"])
def test_an_empty_id_is_an_unknown_endpoint_in_the_format_asked_for(route: str, client: Any) -> None:
    response = client.get(f"/open311/v2/{route}/.xml")
    assert response.status_code == 404 and xml(response).tag == "errors"


def test_a_point_in_the_street_outside_every_grid_is_taken_to_locate(nw: Any) -> None:
    """A 12345 bridge of the street posts a point its grids do not cover: the need is filed at
    the street, handled there and marked to be located, and the answer says so."""
    nw.street.boundary = {
        "type": "Polygon",
        "coordinates": [[[114.20, 30.58], [114.30, 30.58], [114.30, 30.62], [114.20, 30.62], [114.20, 30.58]]],
    }
    nw.street.save(update_fields=["boundary"])
    triage_cache_clear()
    try:
        response = post_request(
            Client(),
            key_for(nw, "street_official"),
            service_code="lighting",
            description="路灯坏了",
            lat=30.6,
            long=114.28,
        )
        assert response.status_code == 201, response.content
        [answer] = response.json()
        assert "位置待街道工作人员确认" in answer["service_notice"]
        need = Need.objects.get(pk=answer["service_request_id"])
        assert (need.place, need.grid, need.level) == (nw.street, None, "street") and need.to_locate
        detail = Client().get(f"{BASE}requests/{need.pk}.json?api_key={key_for(nw, 'street_official')}").json()[0]
        assert detail["address"].endswith(nw.street.name) and "街道" in detail["service_notice"]
    finally:
        triage_cache_clear()
