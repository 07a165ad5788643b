"""The content security policy in a real browser: the pages of every role render without a
single violation (no inline style or script left behind), and htmx still works."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from linli.testing import PASSWORD
from tests.browser.test_journeys import sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def _violations(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def test_pages_of_every_role_keep_the_policy(page: Page, live_server: Any, world: Any) -> None:
    from linli.needs.services import need_create
    from linli.needs.tests.conftest import make_categories

    make_categories()
    need = need_create(actor=world.users["resident"], text="楼道灯坏了", place=world.household_place_a)
    base = live_server.url
    found = _violations(page)
    for url in ("/accounts/login/", "/accounts/login/code/"):
        page.goto(base + url)
    sign_in_staff(page, base, "secretary")
    for url in (
        "/",
        "/places/",
        f"/places/{world.grid_a.code}/",
        f"/people/{world.resident_a.pk}/",
        f"/households/{world.household_a.pk}/",
        "/people/",
        "/audit/",
        "/needs/queue/",
        f"/needs/{need.pk}/",
        "/needs/new/",
        "/needs/dashboard/",
        f"/places/{world.building_a.code}/qr/",
        "/visits/log/",
        f"/visits/care/{world.community_a.code}/",
        f"/visits/coverage/{world.community_a.code}/",
        "/api/docs/",
    ):
        response = page.goto(base + url)
        assert response is not None and response.status < 400, (url, response and response.status)
    # htmx under the policy: unmask a need's text in place
    page.goto(f"{base}/needs/{need.pk}/")
    page.click("text=查看原文(含号码)")
    page.fill("#need-text ~ details input[name=reason], details.unmask input[name=reason]", "核实地址")
    page.click("details.unmask button[type=submit]")
    page.wait_for_selector("#need-unmasked")
    assert found == [], found


def test_the_sign_in_page_keeps_the_policy_for_residents(page: Page, live_server: Any, world: Any) -> None:
    found = _violations(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "volunteer")
    page.fill("#id_password", PASSWORD)
    page.click("#password-login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/me/")
    assert found == [], found
