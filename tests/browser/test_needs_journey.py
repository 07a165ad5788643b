"""The core loop in Debian's Chromium on a small phone screen: a resident reports a need, the
grid worker whistles it to the water company, the liaison checks in and resolves it, the
resident rates it, and the street's dashboard shows the rates move."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from linli.accounts.sms import read_outbox
from linli.needs.models import Need
from tests.browser.test_journeys import sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}


def sign_in_resident(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    page.click("#sms-login")
    page.fill("#id_phone", "138 0013 8000")
    page.click("#request-code button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/code/confirm/"))
    code = re.search(r"\d{6}", read_outbox()[-1]["body"]).group(0)
    page.fill("#id_code", code)
    page.click("#confirm-code button[type=submit]")
    page.wait_for_url(f"{base}/")


def staff_page(browser: Browser, base: str, username: str) -> Page:
    page = browser.new_context(**PHONE).new_page()
    sign_in_staff(page, base, username)
    return page


def satisfaction_on_dashboard(page: Page, base: str, street_code: str) -> str:
    page.goto(f"{base}/needs/dashboard/?place={street_code}")
    return page.locator("#rate-satisfaction").inner_text()


def test_resident_to_department_and_back(
    page: Page,
    live_server: Any,
    nw: Any,
    screenshot: Any,
    browser: Browser,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    base = live_server.url
    street = staff_page(browser, base, "street_official")
    before = satisfaction_on_dashboard(street, base, nw.street.code)

    # 1. the resident: home → "report" → type → submit (three taps and some typing)
    sign_in_resident(page, base)
    page.click("#report-need")
    page.fill("#need-text", "家里停水两天了，水龙头一滴水都没有")
    screenshot("1-report")
    page.click("#need-submit")
    expect(page.locator("#need-status")).to_have_text("待受理")
    need = Need.objects.get()
    assert need.place == nw.household_place_a and need.category.code == "water"
    screenshot("2-submitted")

    # 2. the grid worker whistles it to the water company from the queue
    grid = staff_page(browser, base, "grid_worker")
    grid.click("#queue-link")
    grid.click(f"#queue >> text=#{need.pk}")
    grid.click("#whistle summary")
    grid.check(f"#whistle input[name=department][value='{nw.department.pk}']")
    grid.click("#whistle-submit")
    expect(grid.locator("#need-status")).to_have_text("已吹哨")
    expect(grid.locator("#dispatches")).to_contain_text(nw.department.name)
    grid.screenshot(path=_shot("3-whistled"), full_page=True)

    # 3. the liaison checks in and resolves
    liaison = staff_page(browser, base, "department_liaison")
    liaison.click("#dispatches-link")
    item = liaison.locator("#dispatch-list li", has_text=f"#{need.pk}")
    item.locator("button.checkin").click()
    item = liaison.locator("#dispatch-list li", has_text=f"#{need.pk}")
    item.locator("summary", has_text="办结").click()
    item.locator("textarea[name=result]").fill("更换了破损的进水管，已恢复供水")
    item.locator("button.resolve").click()
    expect(liaison.locator("main")).to_contain_text("已办结")
    liaison.screenshot(path=_shot("4-resolved"), full_page=True)

    # 4. the resident sees the result and rates it
    page.goto(f"{base}/needs/{need.pk}/")
    expect(page.locator("#need-status")).to_have_text("待回访")
    page.check("#rate-form input[name=resolved][value='1']")
    page.check("#rate-form input[name=satisfaction][value='satisfied']")
    page.click("#rate-submit")
    expect(page.locator("#need-status")).to_have_text("已办结")
    expect(page.locator("#timeline")).to_contain_text("报到")
    screenshot("5-rated")

    # 5. the street's dashboard counts it
    after = satisfaction_on_dashboard(street, base, nw.street.code)
    assert after != before and "100" in after, (before, after)
    street.screenshot(path=_shot("6-dashboard"), full_page=True)


def _shot(name: str) -> str:
    from conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"test_needs_journey-{name}.png")
