"""User journeys in Debian's Chromium (Playwright), on a small phone screen.

Screenshots of each step are kept under ``var/screenshots/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from linli.accounts.sms import read_outbox
from linli.core.models import AuditEntry
from linli.testing import PASSWORD, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def sign_in_staff(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("#password-login button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_grid_worker_unmasks_a_phone_and_the_secretary_sees_it(
    page: Page, live_server: Any, world: Any, screenshot: Any, browser: Any
) -> None:
    base = live_server.url
    sign_in_staff(page, base, "grid_worker")
    screenshot("1-home")
    page.click("text=浏览地点")
    page.click("#places >> text=第一网格")
    expect(page.locator("h1")).to_contain_text("第一网格")
    page.click("#children >> text=1栋")
    # the building page lists its people with masked phones
    row = page.locator("#people tr", has_text="张建国")
    expect(row).to_contain_text("138****8000")
    screenshot("2-building-masked")
    assert "13800138000" not in page.content()
    row.locator("a").click()
    expect(page.locator("#phone-masked")).to_have_text("138****8000")
    page.click("text=查看完整号码")
    page.fill(".unmask-form input[name=reason]", "电话回访独居老人")
    page.click(".unmask-form button[type=submit]")
    expect(page.locator("[data-unmasked]")).to_have_text("+8613800138000")
    screenshot("3-unmasked")
    entry = AuditEntry.objects.get(action="unmask")
    assert entry.reason == "电话回访独居老人" and entry.actor.username == "grid_worker"

    # the community secretary reads the audit trail in a separate session
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    secretary = context.new_page()
    sign_in_staff(secretary, base, "secretary")
    secretary.click("#audit-link")
    audit = secretary.locator("#audit tbody tr", has_text="电话回访独居老人")
    expect(audit).to_contain_text("grid_worker")
    expect(audit).to_contain_text("查看完整信息")
    secretary.screenshot(path=_shot("secretary-audit"), full_page=True)
    context.close()


def _shot(name: str) -> str:
    from conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"test_journeys-{name}.png")


def test_resident_signs_in_with_an_sms_code(
    page: Page, live_server: Any, world: Any, screenshot: Any, settings: Any, tmp_path: Any
) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    base = live_server.url
    page.goto(f"{base}/")
    page.click("#sms-login")
    page.fill("#id_phone", "138 0013 8000")
    screenshot("1-phone")
    page.click("#request-code button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/code/confirm/"))
    expect(page.locator("main")).to_contain_text("138****8000")
    code = re.search(r"\d{6}", read_outbox()[-1]["body"]).group(0)
    page.fill("#id_code", code)
    page.click("#confirm-code button[type=submit]")
    page.wait_for_url(f"{base}/")
    expect(page.locator("main")).to_contain_text("居民")
    screenshot("2-home")
    page.click("nav.tabs >> text=我的")
    expect(page.locator("main")).to_contain_text("138****8000")


def test_language_and_large_type_persist(page: Page, live_server: Any, world: Any, screenshot: Any) -> None:
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    expect(page.locator("h1")).to_have_text("登录邻里")
    page.click("#large-type-toggle")
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))
    page.click("#lang-form button[value=zh-hant]")
    expect(page.locator("h1")).to_have_text("登錄鄰里")
    screenshot("1-hant-large")
    page.click("#lang-form button[value=en]")
    expect(page.locator("h1")).to_have_text("Sign in to Linli")
    # both survive a fresh visit (cookies), and the text really got bigger
    page.goto(f"{base}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))
    size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size >= 22
    screenshot("2-en-large")
    page.click("#large-type-toggle")
    expect(page.locator("html")).not_to_have_class(re.compile(r"\blarge\b"))
