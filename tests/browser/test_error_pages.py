"""An error page on a small phone in large type: nothing runs off the screen, and the ways back
are large enough to tap."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def test_a_missing_page_on_a_small_phone_in_large_type(
    page: Page, live_server: Any, world: Any, screenshot: Any
) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("#large-type-toggle")
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.locator("h1")).to_have_text("找不到该页面")
    home = page.locator("#error-home")
    expect(home).to_be_visible()
    box = home.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 320
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"
    screenshot("404-320px-large")
    home.click()
    expect(page.locator("h1")).to_have_text("登录邻里")  # home, which asks a stranger to sign in
