"""The place of a need is where the problem is: the report form offers the reporter's flat,
building, every building of the community and the community with a point on its sketch map;
it starts at the QR code's place, else the last report's, else home; it files what was chosen
and refuses (400, nothing written) a place it did not offer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from linli.needs.models import Need
from linli.places.location import grid_index_clear
from linli.testing import draw_community_a, sign_in

pytestmark = pytest.mark.django_db


def rect(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


@pytest.fixture
def resident(client: Client, world: Any) -> Client:
    sign_in(client, world.users["resident"])
    return client


@pytest.fixture
def mapped(world: Any) -> Iterator[Any]:
    """Community A is drawn: its boundary, grid A in its west half, 1栋 with a point, and a
    second building, 5栋, in grid A."""
    draw_community_a(world)
    grid_index_clear()
    yield world
    grid_index_clear()


def picker(html: str) -> tuple[list[str], str | None]:
    """The codes the picker offers, and the one preselected."""
    found = re.search(r'<select name="place" id="need-place".*?</select>', html, re.S)
    assert found, "the report form has a place picker"
    offered = re.findall(r'<option value="([^"]+)"', found.group(0))
    chosen = re.findall(r'<option value="([^"]+)"[^>]*\bselected\b', found.group(0))
    return offered, (chosen[0] if chosen else None)


def test_the_picker_offers_home_building_community_and_starts_at_home(resident: Client, mapped: Any) -> None:
    w = mapped
    html = resident.get("/needs/new/").content.decode()
    offered, chosen = picker(html)
    assert chosen == w.household_place_a.code
    assert {w.household_place_a.code, w.building_a.code, w.building_5.code, w.community_a.code} <= set(offered)
    assert w.building_b.code not in offered and w.household_place_b.code not in offered
    assert "我家（" in html and "的道路、广场等公共位置" in html
    # the sketch map draws both buildings of the community, and nothing of community B
    assert html.count('class="sketch-building"') == 2 and 'data-code="t-a-g1-b5"' in html


def test_a_lamp_at_another_building_is_filed_there(resident: Client, mapped: Any) -> None:
    w = mapped
    response = resident.post(
        "/needs/new/", {"text": "5栋门口路灯坏了", "urgency": "normal", "place": w.building_5.code}
    )
    assert response.status_code == 302
    need = Need.objects.get()
    assert (need.place, need.grid) == (w.building_5, w.grid_a)
    # the next report starts where the last one was
    assert picker(resident.get("/needs/new/").content.decode())[1] == w.building_5.code


def test_a_point_on_the_map_files_the_community_report_in_its_grid(resident: Client, mapped: Any) -> None:
    w = mapped
    response = resident.post(
        "/needs/new/",
        {
            "text": "广场地砖松了",
            "urgency": "normal",
            "place": w.community_a.code,
            "lat": "30.6012345",
            "lng": "114.2123",
        },
    )
    assert response.status_code == 302
    need = Need.objects.get()
    assert (need.place, need.grid) == (w.grid_a, w.grid_a)
    assert (float(need.lat), float(need.lng)) == (30.601235, 114.2123)  # type: ignore[arg-type]
    # in the community's east half, which no grid covers: the community, with its point
    resident.post(
        "/needs/new/",
        {"text": "东边空地堆了垃圾", "urgency": "normal", "place": w.community_a.code, "lat": "30.6", "lng": "114.235"},
    )
    east = Need.objects.get(text="东边空地堆了垃圾")
    assert (east.place, east.grid, east.level) == (w.community_a, None, "community") and east.lat is not None


def test_no_point_is_kept_with_a_home(resident: Client, mapped: Any) -> None:
    """The phone's position at home is where the reporter lives: a flat or building keeps none."""
    w = mapped
    resident.post(
        "/needs/new/",
        {"text": "家里停水了", "urgency": "normal", "place": w.household_place_a.code, "lat": "30.6", "lng": "114.21"},
    )
    need = Need.objects.get()
    assert need.place == w.household_place_a and need.lat is None and need.lng is None


@pytest.mark.parametrize("where", ["household_place_b", "building_b", "street", "nowhere"])
def test_a_place_the_picker_does_not_offer_is_refused(resident: Client, mapped: Any, where: str) -> None:
    code = "no-such-place" if where == "nowhere" else mapped.places[where].code
    response = resident.post("/needs/new/", {"text": "路灯坏了", "urgency": "normal", "place": code})
    assert response.status_code == 400
    assert "请从列表中选择地点" in response.content.decode() and not Need.objects.exists()
    # the form comes back as it was, at its default place
    assert picker(response.content.decode())[1] == mapped.household_place_a.code


def test_a_qr_code_wins_over_the_last_report(resident: Client, mapped: Any) -> None:
    w = mapped
    resident.post("/needs/new/", {"text": "5栋门口路灯坏了", "urgency": "normal", "place": w.building_5.code})
    html = resident.get(f"/needs/new/?place={w.building_a.code}&via=qr").content.decode()
    assert picker(html)[1] == w.building_a.code


def test_half_a_point_is_no_point(resident: Client, mapped: Any) -> None:
    w = mapped
    resident.post(
        "/needs/new/", {"text": "广场灯坏了", "urgency": "normal", "place": w.community_a.code, "lat": "30.6"}
    )
    need = Need.objects.get()
    assert need.place == w.community_a and need.lat is None
    bad = resident.post(
        "/needs/new/", {"text": "广场灯坏了", "urgency": "normal", "place": w.community_a.code, "lat": "91", "lng": "1"}
    )
    assert bad.status_code == 400 and Need.objects.count() == 1


@pytest.mark.parametrize("who", ["grid_worker", "secretary", "street_official"])
def test_staff_without_a_home_start_in_their_own_reach(client: Client, mapped: Any, who: str) -> None:
    """Staff report on behalf of residents: the form starts at the first community or grid of
    their reach, never empty."""
    sign_in(client, mapped.users[who])
    response = client.get("/needs/new/")
    assert response.status_code == 200
    offered, chosen = picker(response.content.decode())
    assert chosen in {mapped.grid_a.code, mapped.community_a.code} and chosen in offered
    assert mapped.building_5.code in offered
