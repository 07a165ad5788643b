"""Dispatch 吹哨报到 on a phone in large type, in Debian's Chromium: the water company's liaison
opens the home page, taps the count of dispatches waiting for it, opens the job card (where to
go, whom to call, the photo, the note) and checks in; the grid worker finds the suggested
department ticked, the transfer picker and the bulk whistle's departments."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from linli.core.photos import PhotoUpload
from linli.needs.models import Dispatch, DispatchStatus, Need
from linli.needs.services import need_accept, need_create, need_whistle
from linli.testing import png_bytes
from tests.browser.test_journeys import sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]

OFFICE = "027-8552 3100"


def _large_type(page: Page) -> None:
    page.click("#large-type-toggle")
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))


def _fits(page: Page) -> None:
    """Nothing is cut off: the page is no wider than the phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _tappable(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, (selector, box)


def test_liaison_checks_in_from_the_home_page_on_a_phone(
    page: Page, live_server: Any, nw: Any, screenshot: Any
) -> None:
    nw.community_a.office_phone = OFFICE
    nw.community_a.save(update_fields=["office_phone"])
    need = need_create(
        actor=nw.users["resident"],
        text="家里停水两天了，水龙头一滴水都没有",
        place=nw.household_place_a,
        photos=[PhotoUpload("tap.png", png_bytes(64, "blue"))],
    )
    [dispatch] = need_whistle(
        actor=nw.users["grid_worker"], need=need, departments=[nw.department], note="总阀在1栋东侧，请带检修工具"
    )
    base = live_server.url
    sign_in_staff(page, base, "department_liaison")
    _large_type(page)

    # 1. home: one dispatch waiting for the check-in
    pending = page.locator("#todo-checkin")
    expect(pending.locator(".todo-count")).to_have_text("1")
    _tappable(page, "#todo-checkin")
    _fits(page)
    screenshot("1-home")

    # 2. the count opens the list of what waits for the check-in
    pending.click()
    page.wait_for_url(re.compile(r"/needs/dispatches/\?show=checkin$"))
    item = page.locator("#dispatch-list li", has_text=f"#{need.pk}")
    expect(item).to_have_count(1)
    _tappable(page, f'#dispatch-list a[href="/needs/dispatches/{dispatch.pk}/"]')
    _fits(page)
    screenshot("2-to-check-in")

    # 3. the job card: the building, the community and its phone, the photo, the note
    item.locator("a.job-link").click()
    page.wait_for_url(f"{base}/needs/dispatches/{dispatch.pk}/")
    expect(page.locator("#job-address")).to_have_text("汉兴街道常二社区1栋")
    expect(page.locator("#job-contact a.tel")).to_have_text(OFFICE)
    expect(page.locator("#whistle-note")).to_contain_text("总阀在1栋东侧，请带检修工具")
    photo = page.locator("#photos img").first
    expect(photo).to_be_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth", photo.element_handle()) == 64
    expect(page.locator("main")).not_to_contain_text(nw.household_place_a.name)
    _tappable(page, "#job-contact a.tel")
    _tappable(page, "#job-actions button.checkin")
    _fits(page)
    screenshot("3-job-card")

    # 4. check in: the card says so, and the home page has nothing left to check in
    page.click("#job-actions button.checkin")
    expect(page.locator("#dispatch-status")).to_have_text("已报到")
    expect(page.locator("main")).to_contain_text("已报到")
    assert Dispatch.objects.get(pk=dispatch.pk).status == DispatchStatus.CHECKED_IN
    _fits(page)
    screenshot("4-checked-in")
    page.goto(f"{base}/")
    expect(page.locator("#todo-checkin .todo-count")).to_have_text("0")


def test_grid_worker_whistles_and_transfers_on_a_phone(page: Page, live_server: Any, nw: Any, screenshot: Any) -> None:
    water = need_create(
        actor=nw.users["grid_worker"],
        text="家里停水了，水管爆了漏水",
        place=nw.household_place_a,
        category_code="water",
    )
    lamp = need_create(actor=nw.users["grid_worker"], text="楼道灯不亮了", place=nw.household_place_a)
    need_accept(actor=nw.users["grid_worker"], need=lamp)
    base = live_server.url
    sign_in_staff(page, base, "grid_worker")
    _large_type(page)

    # the water company is suggested and ticked: one tap whistles it
    page.goto(f"{base}/needs/{water.pk}/")
    page.click("#whistle summary")
    suggested = page.locator("#whistle li", has_text=nw.department.name)
    expect(suggested.locator(".suggested")).to_have_text("建议：派单目录")
    expect(suggested.locator("input[type=checkbox]")).to_be_checked()
    expect(page.locator("#whistle li", has_text=nw.power.name).locator("input")).not_to_be_checked()
    _fits(page)
    screenshot("1-suggested")
    page.click("#whistle-submit")
    expect(page.locator("#need-status")).to_have_text("已吹哨")
    assert list(Need.objects.get(pk=water.pk).dispatches.values_list("department_id", flat=True)) == [nw.department.pk]

    # the transfer picker lists the grid's places, named with their community
    page.goto(f"{base}/needs/{lamp.pk}/")
    page.click("details.act summary:has-text('转办')")
    picker = page.locator("#transfer-place")
    expect(picker.locator("option")).to_have_text(["请选择地点", "常二社区第一网格", "常二社区1栋"])
    _tappable(page, "#transfer-place")
    _fits(page)
    screenshot("2-transfer-picker")
    picker.select_option(nw.building_a.code)
    page.fill("#transfer-note", "在楼道，不在户内")
    page.click("form[action$='/transfer/'] button[type=submit]")
    expect(page.locator("main")).to_contain_text("已转办")
    assert Need.objects.get(pk=lamp.pk).place == nw.building_a

    # the bulk whistle of the workbench lists the departments that serve the grid
    page.goto(f"{base}/needs/queue/")
    page.click("#bulk-form details summary")
    expect(page.locator("#bulk-form input[name=department]")).to_have_count(2)
    expect(page.locator("#bulk-form details")).to_contain_text(nw.power.name)
    _fits(page)
    screenshot("3-bulk-whistle")
