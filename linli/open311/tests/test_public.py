"""Reading without a key, as GeoReport v2 has it and real clients do: the public projection
of a need (no reporter, the building not the flat, names and numbers masked), never a need of
a private category; a key adds what its account may see; writing still needs a key."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from linli.accounts.api_keys import api_client_register
from linli.core.access import SYSTEM
from linli.needs.services import Reporter, need_create

pytestmark = pytest.mark.django_db
BASE = "/open311/v2/"


def _needs(nw: Any) -> dict[str, Any]:
    staff = nw.users["community_staff"]
    lamp = need_create(
        actor=staff,
        text="张建国说5栋门口路灯坏了，找王师傅也没修，电话13800138000",
        place=nw.places["household_place_a"],
        address_string="3层 张建国家门口",
        category_code="lighting",
        lat=Decimal("30.580001"),
        lng=Decimal("114.280001"),
        reporter=Reporter(name="张建国", phone="+8613800138000"),
    )
    quarrel = need_create(
        actor=staff, text="对门邻居吵架，想请社区调解", place=nw.places["building_a"], category_code="dispute"
    )
    return {"lamp": lamp, "quarrel": quarrel}


def test_a_client_without_a_key_reads_the_public_projection(client: Client, nw: Any) -> None:
    needs = _needs(nw)
    nw.places["building_a"].lat, nw.places["building_a"].lng = Decimal("30.5812"), Decimal("114.2811")
    nw.places["building_a"].save(update_fields=["lat", "lng"])
    listed = client.get(f"{BASE}requests.json")
    assert listed.status_code == 200, listed.content
    ids = [row["service_request_id"] for row in listed.json()]
    assert str(needs["lamp"].pk) in ids and str(needs["quarrel"].pk) not in ids  # disputes are private
    [row] = client.get(f"{BASE}requests/{needs['lamp'].pk}.json").json()
    text = json.dumps(row, ensure_ascii=False)
    assert "张建国" not in text and "王师傅" not in text and "13800138000" not in text and "3层" not in text
    assert row["description"].startswith("张**说5栋门口路灯坏了") and "王**" in row["description"]
    assert row["address_id"] == nw.places["building_a"].code  # the building, not the flat
    assert (row["lat"], row["long"]) == (30.5812, 114.2811)  # the building's point, not the doorway's
    assert not {"first_name", "last_name", "phone", "email", "account_id"} & set(row)
    # the private need is not found, exactly like one that does not exist
    for fmt in ("json", "xml"):
        gone = client.get(f"{BASE}requests/{needs['quarrel'].pk}.{fmt}")
        assert gone.status_code == 404
    root = ET.fromstring(client.get(f"{BASE}requests.xml").content)  # noqa: S314 - our own answer
    assert str(needs["lamp"].pk) in [r.findtext("service_request_id") for r in root.findall("request")]
    [token] = client.get(f"{BASE}tokens/{needs['lamp'].token}.json").json()
    assert token["service_request_id"] == str(needs["lamp"].pk)


def test_a_key_adds_what_its_account_may_see_and_writing_needs_one(client: Client, nw: Any) -> None:
    needs = _needs(nw)
    _client, key = api_client_register(actor=SYSTEM, name="12345", user=nw.users["community_staff"])
    rows = client.get(f"{BASE}requests.json", {"api_key": key}).json()
    assert str(needs["quarrel"].pk) in [r["service_request_id"] for r in rows]
    [row] = client.get(f"{BASE}requests/{needs['lamp'].pk}.json", {"api_key": key}).json()
    assert row["lat"] == 30.580001 and "3层" in row["address"]  # staff see the exact point and floor
    assert "13800138000" not in json.dumps(row)  # numbers stay masked for everyone
    posted = client.post(
        f"{BASE}requests.json", {"service_code": "lighting", "description": "路灯坏了", "address_id": "t-a-g1-b1"}
    )
    assert posted.status_code == 401 and posted.json()[0]["code"] == 401
    bad_key = client.get(f"{BASE}requests.json", {"api_key": "not-a-key"})
    assert bad_key.status_code == 403  # a wrong key is an error, not the public view


def test_a_place_named_after_its_parent_is_not_named_twice(client: Client, nw: Any) -> None:
    from linli.places.models import joined_names

    assert joined_names(["武汉市", "常二社区", "常二社区第1网格"]) == "武汉市常二社区第1网格"
    assert joined_names(["1栋", "1栋502室"]) == "1栋502室" and joined_names(["1栋", "502室"]) == "1栋502室"
    grid = nw.places["grid_a"]
    grid.name = "常二社区第1网格"
    grid.save(update_fields=["name"])
    need = need_create(
        actor=nw.users["community_staff"], text="路灯坏了", place=nw.places["building_a"], category_code="lighting"
    )
    [row] = client.get(f"{BASE}requests/{need.pk}.json").json()
    assert row["agency_responsible"] == "常二社区第1网格"
    assert row["address"] == "武汉市江汉区汉兴街道常二社区1栋"
