"""Where the problem is, on a phone in large type: the resident taps 5栋 on the community's
sketch map, then a spot on a road; the need is filed in the grid at that point. The form
starts at the resident's flat and nothing runs off a 320 px screen."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from linli.needs.models import Need
from linli.places.location import grid_index_clear
from linli.testing import draw_community_a
from tests.browser.test_needs_journey import sign_in_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def rect(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


def test_a_resident_points_at_the_problem_on_the_map(
    page: Page, live_server: Any, nw: Any, screenshot: Any, settings: Any, tmp_path: Any
) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    w = nw
    five = draw_community_a(w)
    grid_index_clear()
    try:
        base = live_server.url
        page.set_viewport_size({"width": 320, "height": 700})
        sign_in_resident(page, base)
        page.click("#large-type-toggle")
        page.goto(f"{base}/needs/new/")
        expect(page.locator("#need-place")).to_have_value(w.household_place_a.code)
        expect(page.locator("#place-map")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the form is {overflow} px wider than the screen"

        # a tap on 5栋 picks it in the list
        page.get_by_role("button", name="5栋").click()
        expect(page.locator("#need-place")).to_have_value(five.code)
        expect(page.locator("#id_lat")).to_have_value("")

        # a tap on empty ground west of 1栋 (still in grid A) marks a point on the community
        svg = page.locator("#place-map svg")
        box = svg.bounding_box()
        assert box is not None
        svg.click(position={"x": box["width"] * 0.12, "y": box["height"] * 0.85})
        expect(page.locator("#need-place")).to_have_value(w.community_a.code)
        expect(page.locator("#point-status")).to_contain_text("已标出位置")
        expect(page.locator("#sketch-pin")).to_be_visible()
        screenshot("map-point-320px-large")

        page.fill("#need-text", "这里的路灯坏了，晚上很黑")
        page.click("#need-submit")
        page.wait_for_url(re.compile(r"/needs/\d+/$"))
        need = Need.objects.get()
        assert (need.place, need.grid) == (w.grid_a, w.grid_a)
        assert need.lat is not None and 30.58 < float(need.lat) < 30.60 and 114.20 < float(need.lng) < 114.212  # type: ignore[arg-type]
    finally:
        grid_index_clear()
