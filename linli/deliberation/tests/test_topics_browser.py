"""Topics in Debian's Chromium on a phone: the secretary sets the community's threshold, a
resident proposes from the home tile, two neighbours support it with one tap each (htmx, no
reload) and it goes on the secretary's list; recurring needs offer a topic that the secretary
accepts from the home page's to-do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from linli.core.access import SYSTEM, Role
from linli.deliberation.models import Topic, TopicStatus
from linli.deliberation.services.topics import offer_recurring_topics
from linli.needs.services import need_create
from linli.needs.tests.conftest import make_categories
from linli.testing import make_user
from tests.browser.test_journeys import sign_in_staff
from tests.browser.test_needs_journey import sign_in_resident
from tests.browser.test_visits_journey import sign_in_carer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways


def support_as(browser: Browser, base: str, username: str, topic: Topic) -> int:
    """A neighbour signs in by SMS code, finds the topic on 议题 and taps 附议 (htmx swaps the
    button for its new state, without a reload). Returns the supports shown."""
    page = browser.new_context(**PHONE).new_page()
    sign_in_carer(page, base, username)  # an SMS code to the phone, as any resident signs in
    page.goto(f"{base}/deliberation/topics/")
    item = page.locator(f"#support-{topic.pk}")
    page.evaluate("window.notReloaded = true")
    item.get_by_role("button", name="附议").click()
    expect(page.locator(f"#support-{topic.pk}")).to_contain_text("您已附议")
    assert page.evaluate("window.notReloaded === true")
    supports = int(page.locator(f"#support-{topic.pk}").get_attribute("data-supports") or 0)
    page.context.close()
    return supports


def test_a_proposal_reaches_the_list_and_an_offer_is_accepted(
    browser: Browser, live_server: Any, world: Any, screenshot: Any
) -> None:
    base = live_server.url
    for i in (1, 2):
        make_user(f"neighbour{i}", Role.RESIDENT, world.household_place_a, phone=f"+861390000000{i}")
    secretary = browser.new_context(**PHONE).new_page()
    sign_in_staff(secretary, base, "secretary")
    secretary.goto(f"{base}/deliberation/topics/rules/{world.community_a.code}/")
    secretary.fill("#support-threshold", "2")
    secretary.get_by_role("button", name="保存").click()
    expect(secretary.locator(".message")).to_contain_text("议事规则已保存")

    resident = browser.new_context(**PHONE).new_page()
    sign_in_resident(resident, base)
    resident.get_by_role("link", name=re.compile("议题")).first.click()
    expect(resident.locator("h1")).to_have_text("议题")
    resident.select_option("#topic-place", label="1栋")
    resident.fill("#topic-title", "1栋楼道加装扶手")
    resident.fill("#topic-body", "楼里老人多，上下楼需要扶手")
    resident.get_by_role("button", name="提交提议").click()
    expect(resident.locator("#topic-status")).to_have_text("征集附议")
    expect(resident.locator("#proposer")).to_have_text("张**")
    fits(resident)
    screenshot("1-proposed", of=resident)
    topic = Topic.objects.get()

    assert support_as(browser, base, "neighbour1", topic) == 1
    assert support_as(browser, base, "neighbour2", topic) == 2
    topic.refresh_from_db()
    assert topic.status == TopicStatus.LISTED

    make_categories()
    for _ in range(3):
        need_create(actor=SYSTEM, text="下水道堵了，污水漫出来", place=world.building_a, category_code="water")
    assert offer_recurring_topics() == 1
    secretary.goto(f"{base}/")
    secretary.get_by_role("link", name=re.compile("待确认的议题")).click()
    expect(secretary.locator("#topics li")).to_have_count(1)
    fits(secretary)
    screenshot("2-offered", of=secretary)
    secretary.get_by_role("link", name=re.compile("1栋3件")).click()
    expect(secretary.locator("#linked-needs li")).to_have_count(3)
    secretary.locator("#accept").click()
    expect(secretary.locator("#topic-status")).to_have_text("待议")
    secretary.goto(f"{base}/deliberation/topics/place/{world.community_a.code}/?status=listed")
    expect(secretary.locator("#topics li")).to_have_count(2)
    fits(secretary)
    screenshot("3-listed", of=secretary)
