"""The three-rates dashboard on a phone (390×844, then 320 px in large type): nothing wider
than the screen (wide tables scroll in their own box with the name column held in view), the
exports in the first screen, the quick periods 本月/本季度/本年 beside the date fields, a
chart without the places that have no data, and no rate above 100 % — with the needs that
made a grid read 200 % (received last month or at another grid, accepted this month)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from linli.core.access import SYSTEM
from linli.needs.rates import local_day
from linli.needs.services import need_accept, need_create, need_transfer
from linli.needs.tests.test_dashboard import make_needs
from linli.places.models import PlaceKind
from linli.places.services import place_create
from tests.browser.test_journeys import sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]

PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)\s*%")


def a_busy_street(nw: Any) -> None:
    make_needs(nw)
    late = need_create(
        actor=SYSTEM,
        text="楼道灯坏了",
        place=nw.grid_a,
        category_code="lighting",
        now=timezone.now() - dt.timedelta(days=40),
    )
    moved = need_create(actor=SYSTEM, text="路灯不亮", place=nw.grid_b, category_code="lighting")
    need_transfer(actor=SYSTEM, need=moved, place=nw.grid_a)
    for need in (late, moved):
        need_accept(actor=SYSTEM, need=need)
    for n in range(12):  # communities without any need: left out of the chart
        place_create(actor=SYSTEM, parent=nw.street, code=f"t-new-{n}", name=f"新建社区{n}", kind=PlaceKind.COMMUNITY)


def wide_elements(page: Page) -> list[str]:
    """The elements that run past the right edge of the screen (outside boxes that scroll)."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(el => !el.closest('.dash-scroll') && el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 8).map(el => el.tagName + '#' + el.id + '.' + el.className + ' ' + el.getBoundingClientRect().right)"""
    )
    return found


def check_the_screen(page: Page) -> None:
    """What must hold on every screen of the dashboard."""
    width = page.evaluate("window.innerWidth")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the {width} px screen: {wide_elements(page)}"
    # the exports are in the first screen, whole, and large enough to tap
    height = page.evaluate("window.innerHeight")
    assert page.evaluate("window.scrollY") == 0
    for export in ("#export-csv", "#export-xlsx"):
        expect(page.locator(export)).to_be_visible()
        box = page.locator(export).bounding_box()
        assert box is not None and box["y"] + box["height"] <= height and box["x"] + box["width"] <= width, export
        assert box["height"] >= 44, export
    for quick in ("#period-month", "#period-quarter", "#period-year"):
        box = page.locator(quick).bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= width, quick
    # no rate above 100 % anywhere on the page (tables, cards, the list)
    shown = [float(value) for value in PERCENT.findall(page.locator("main").inner_text())]
    assert shown and all(0 <= value <= 100 for value in shown), shown


def check_the_tables_scroll_with_their_names(page: Page) -> None:
    """A wide table scrolls inside its box; its first column (the names) stays in view."""
    box = page.locator("#children").locator("xpath=..")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    left = box.bounding_box()
    assert left is not None
    box.evaluate("el => { el.scrollLeft = 200; }")
    name = page.locator("#children tbody tr").first.locator("th").bounding_box()
    assert name is not None and abs(name["x"] - left["x"]) <= 2, (name, left)
    box.evaluate("el => { el.scrollLeft = 0; }")


def test_the_dashboard_on_a_phone_in_both_sizes(page: Page, live_server: Any, nw: Any, screenshot: Any) -> None:
    a_busy_street(nw)
    base = live_server.url
    today = local_day(timezone.now())
    sign_in_staff(page, base, "street_official")
    page.click("#dashboard-link")
    expect(page.locator("#dashboard-title")).to_contain_text("汉兴街道")
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    expect(page.locator("#children-chart canvas")).to_have_count(1)
    # 14 communities, 2 with data: the chart draws 2 and says 12 were left out
    expect(page.locator("#children tbody tr")).to_have_count(14)
    expect(page.locator("#children-uncharted")).to_contain_text("12")
    chart_height = page.locator("#children-chart").bounding_box()
    assert chart_height is not None and chart_height["height"] <= 300
    check_the_screen(page)
    check_the_tables_scroll_with_their_names(page)
    screenshot("1-street-390")

    # the quick periods: this quarter, this year, back to this month
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    page.click("#period-quarter")
    expect(page.locator("#period-quarter")).to_have_attribute("aria-current", "true")
    expect(page.locator("#period-form input[name=start]")).to_have_value(quarter.isoformat())
    expect(page.locator("#period-form input[name=end]")).to_have_value(today.isoformat())
    page.click("#period-year")
    expect(page.locator("#period-year")).to_have_attribute("aria-current", "true")
    expect(page.locator("#period-form input[name=start]")).to_have_value(f"{today.year}-01-01")
    page.click("#period-month")
    expect(page.locator("#period-form input[name=start]")).to_have_value(today.replace(day=1).isoformat())
    check_the_screen(page)

    # the grid of the issue
    page.click("#children >> text=常二社区")
    expect(page.locator("#dashboard-title")).to_contain_text("常二社区")
    page.click("#children >> text=第一网格")
    expect(page.locator("#dashboard-title")).to_contain_text("第一网格")
    # received this month at the grid: 3; accepted: 2 (not the one of last month, nor the one
    # received at grid B and transferred here)
    expect(page.locator("#rate-response")).to_contain_text("2 / 3")
    check_the_screen(page)
    screenshot("2-grid-390")

    # large type on a 390 px phone, then on a 320 px one
    page.goto(f"{base}/needs/dashboard/")
    page.click("#large-type-toggle")
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))
    expect(page.locator("#dashboard-title")).to_contain_text("汉兴街道")
    check_the_screen(page)
    screenshot("3-street-390-large")
    page.set_viewport_size({"width": 320, "height": 640})
    page.reload()
    expect(page.locator("#children-chart canvas")).to_have_count(1)
    check_the_screen(page)
    check_the_tables_scroll_with_their_names(page)
    screenshot("4-street-320-large")
    page.click("#period-year")
    expect(page.locator("#period-year")).to_have_attribute("aria-current", "true")
    check_the_screen(page)
    page.click("#children >> text=常四社区")
    expect(page.locator("#dashboard-title")).to_contain_text("常四社区")
    check_the_screen(page)
    screenshot("5-community-320-large")
