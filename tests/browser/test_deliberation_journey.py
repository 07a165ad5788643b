"""Deliberation from end to end in Debian's Chromium, on a phone in large type (issue 13): recurring
drainage needs → the offered topic → a meeting with QR check-in → a vote → a decision → a need
whistled to the water company. Each step goes through the pages a person would tap; only the
residents' needs and the monthly sweep are called directly."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from linli.deliberation.models import Decision, Meeting, Topic, TopicStatus, Vote, VoteStatus
from linli.deliberation.services.topics import offer_recurring_topics
from linli.needs.models import Dispatch, Need
from linli.needs.services import need_create
from tests.browser.test_journeys import sign_in_staff
from tests.browser.test_needs_journey import sign_in_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}
#: the htmx count of the door page refreshes every five seconds
LIVE = 15_000


def _large_type(page: Page) -> None:
    page.click("#large-type-toggle")
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))


def _fits(page: Page) -> None:
    """Nothing is cut off: the page is no wider than the phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _phone(browser: Browser) -> Page:
    return browser.new_context(**PHONE).new_page()


def _meeting_times() -> tuple[str, str, str]:
    """A meeting that starts in a few minutes (inside the check-in window) and lasts an hour, in
    Beijing time; just before midnight it starts at 23:00 so as to end the same day."""
    start = timezone.localtime() + dt.timedelta(minutes=5)
    if start.hour == 23:
        start = start.replace(minute=0)
    end = min(start + dt.timedelta(hours=1), start.replace(hour=23, minute=59))
    return start.date().isoformat(), f"{start:%H:%M}", f"{end:%H:%M}"


def test_recurring_drainage_needs_become_a_vote_a_decision_and_a_whistle(
    browser: Browser, live_server: Any, nw: Any, screenshot: Any
) -> None:
    base = live_server.url
    for text in ("下水道堵了，污水漫出来", "楼下下水道又堵了，一股臭味", "1栋的下水道反水，厨房进污水"):
        need_create(actor=nw.users["resident"], text=text, place=nw.household_place_a, category_code="water")
    assert offer_recurring_topics() == 1
    topic = Topic.objects.get()

    # 1. the secretary finds the offered topic on the home page's to-do and accepts it
    secretary = _phone(browser)
    sign_in_staff(secretary, base, "secretary")
    _large_type(secretary)
    todo = secretary.get_by_role("link", name=re.compile("待确认的议题"))
    expect(todo).to_contain_text("1")
    todo.click()
    expect(secretary.locator("#topics li")).to_have_count(1)
    secretary.locator(f"#topics a[href='/deliberation/topics/{topic.pk}/']").first.click()
    expect(secretary.locator("#linked-needs li")).to_have_count(3)
    _fits(secretary)
    screenshot("1-offered", of=secretary)
    secretary.locator("#accept").click()
    expect(secretary.locator("#topic-status")).to_have_text("待议")

    # 2. a meeting with the topic on its agenda, starting within the check-in window, quorum 2
    secretary.goto(f"{base}/deliberation/meetings/place/{nw.community_a.code}/")
    secretary.locator("#plan-meeting").click()
    day, start, end = _meeting_times()
    secretary.select_option("#m-kind", index=0)
    secretary.fill("#m-title", "1栋下水道议事会")
    secretary.fill("#m-date", day)
    secretary.fill("input[name=start]", start)
    secretary.fill("input[name=end]", end)
    secretary.fill("#m-venue", "社区党群服务中心二楼")
    secretary.fill("#m-quorum", "2")
    secretary.locator(f"input[name=topic][value='{topic.pk}']").check()
    _fits(secretary)
    screenshot("2-plan", of=secretary)
    secretary.get_by_role("button", name="安排").click()
    expect(secretary.locator("#invite-title")).to_contain_text("1栋下水道议事会")
    meeting = Meeting.objects.get()
    assert list(meeting.agenda.values_list("topic_id", flat=True)) == [topic.pk]

    # invited by place: the adults of building 1
    secretary.select_option("#inv-place", nw.building_a.code)
    secretary.locator("details[open] form button[type=submit]").click()
    expect(secretary.locator("#invited")).to_contain_text("张")
    _fits(secretary)
    screenshot("3-invited", of=secretary)

    # 3. the door page shows the QR code and its link; nobody is in yet
    secretary.goto(f"{base}/deliberation/meetings/{meeting.pk}/")
    expect(secretary.locator("#agenda")).to_contain_text(topic.title)
    secretary.get_by_role("link", name="会场签到").click()
    expect(secretary.locator(".qr svg")).to_be_visible()
    expect(secretary.locator("#present")).to_have_text("0")
    expect(secretary.locator("#door-count")).to_contain_text("法定人数 2")
    checkin_url = secretary.locator(".qr + p.break-all").inner_text().strip()
    assert checkin_url.endswith(f"/deliberation/meetings/checkin/{meeting.checkin_token}/"), checkin_url
    _fits(secretary)
    screenshot("4-door", of=secretary)

    # 4. the resident scans the code (opens its link) and checks in
    resident = _phone(browser)
    sign_in_resident(resident, base)
    _large_type(resident)
    resident.goto(checkin_url)
    resident.locator("#checkin-button").click()
    expect(resident.locator("#checked-in")).to_have_text("您已签到")
    _fits(resident)
    screenshot("5-checked-in", of=resident)

    # the door page's live count (htmx, without a reload): 1 against the quorum of 2
    expect(secretary.locator("#present")).to_have_text("1", timeout=LIVE)
    expect(secretary.locator("#quorum-state")).to_have_text("还差 1 人")
    screenshot("6-door-count", of=secretary)

    # 5. the meeting decides, subject to a vote of the households (majority)
    secretary.goto(f"{base}/deliberation/meetings/{meeting.pk}/")
    secretary.get_by_role("link", name="记录决定").click()
    secretary.fill("#d-text", "请专业队伍疏通1栋下水道主管，费用由维修资金列支")
    secretary.select_option("#d-owner", index=1)
    secretary.select_option("#d-topic", str(topic.pk))
    secretary.locator("input[name=spawn][value=vote]").check()
    secretary.locator("summary", has_text="提交表决：范围与规则").click()
    secretary.select_option("#d-electorate", "households")
    secretary.select_option("#d-rule", "majority")
    _fits(secretary)
    secretary.get_by_role("button", name="记录").click()
    expect(secretary.locator("#decision-status")).to_have_text("落实中")
    secretary.locator("#vote-note a").click()
    expect(secretary.locator("#vote-status")).to_have_text("草拟")
    secretary.locator("#open-vote").click()
    expect(secretary.locator("#vote-status")).to_have_text("投票中")
    vote = Vote.objects.get()
    assert (vote.meeting_id, vote.topic_id) == (meeting.pk, topic.pk)

    # 6. the resident votes on the phone
    resident.goto(f"{base}/deliberation/votes/{vote.pk}/")
    resident.locator("#ballot-form label", has_text="同意").first.click()
    _fits(resident)
    screenshot("7-ballot", of=resident)
    resident.get_by_role("button", name="提交选票").click()
    expect(resident.locator("#my-ballot")).to_contain_text("您已投票")

    # 7. the secretary closes the vote: passed
    secretary.reload()
    expect(secretary.locator("#participation")).to_contain_text("已参与：1 /")
    secretary.locator("#close-vote").click()
    expect(secretary.locator("#vote-status")).to_have_text("已结束")
    expect(secretary.locator("#result-passed")).to_have_text("通过")
    _fits(secretary)
    screenshot("8-result", of=secretary)
    assert Vote.objects.get().status == VoteStatus.CLOSED

    # 8. the decision that follows is whistled to the water company as a need
    secretary.goto(f"{base}/deliberation/meetings/{meeting.pk}/")
    secretary.get_by_role("link", name="记录决定").click()
    secretary.fill("#d-text", "1栋下水道主管破损，转供水公司维修")
    secretary.select_option("#d-owner", index=1)
    secretary.select_option("#d-topic", str(topic.pk))
    secretary.locator("input[name=spawn][value=need]").check()
    secretary.locator("summary", has_text="转为诉求：类别与吹哨部门").click()
    secretary.select_option("#d-category", "water")
    secretary.select_option("#d-department", str(nw.department.pk))
    secretary.get_by_role("button", name="记录").click()
    expect(secretary.locator("#decision")).to_contain_text("已转为诉求")
    _fits(secretary)
    screenshot("9-decision", of=secretary)

    # 9. the water company's liaison has it waiting on the home page
    liaison = _phone(browser)
    sign_in_staff(liaison, base, "department_liaison")
    _large_type(liaison)
    expect(liaison.locator("#todo-checkin .todo-count")).to_have_text("1")
    _fits(liaison)
    screenshot("10-liaison-home", of=liaison)

    # the topic's page shows the decisions
    secretary.goto(f"{base}/deliberation/topics/{topic.pk}/")
    expect(secretary.locator("#outcome #decisions")).to_contain_text("转供水公司维修")

    # the rows behind it
    whistled = Decision.objects.get(need__isnull=False)
    assert whistled.topic_id == topic.pk and whistled.meeting_id == meeting.pk
    need = Need.objects.get(pk=whistled.need_id)
    assert [d.department_id for d in Dispatch.objects.filter(need=need)] == [nw.department.pk]
    voted = Decision.objects.get(vote=vote)
    assert voted.topic_id == topic.pk and "表决通过" in voted.progress
    assert Topic.objects.get(pk=topic.pk).status != TopicStatus.OFFERED
