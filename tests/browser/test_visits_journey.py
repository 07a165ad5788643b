"""Visits in Debian's Chromium on a small phone: the doorstep page keeps visits logged without a
signal and sends each exactly once when the signal returns; and the loop from a night visit to
the grid worker's queue and the household's coverage turning green."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from linli.needs.models import Channel, Need
from linli.visits.models import Visit, VisitKind
from linli.visits.tests.conftest import vw  # noqa: F401 - the fixture
from tests.browser.test_journeys import sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]

#: the narrowest phones in use
SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN"}


def sign_in_carer(page: Page, base: str, username: str = "central_household") -> None:
    """A carer (党员中心户) holds no staff role: it signs in with an SMS code to its phone
    (a password alone is refused: it would open other households' data)."""
    from linli.accounts.models import User
    from linli.accounts.sms import read_outbox

    phone = User.objects.get(username=username).phone
    page.goto(f"{base}/accounts/login/code/")
    page.fill("#id_phone", phone)
    page.click("#request-code button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/code/confirm/"))
    code = re.search(r"\d{6}", [m for m in read_outbox() if m["to"] == phone][-1]["body"]).group(0)  # type: ignore[union-attr]
    page.fill("#id_code", code)
    page.click("#confirm-code button[type=submit]")
    page.wait_for_url(f"{base}/")


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def log_visit(page: Page, kind_label: str, heard: str) -> None:
    page.locator("#visit-kind label", has_text=kind_label).click()
    page.fill("#visit-heard", heard)
    page.click("#visit-submit")


def test_visits_logged_offline_are_sent_once_when_back_online(
    browser: Browser,
    live_server: Any,
    vw: Any,  # noqa: F811 - the fixture imported above
) -> None:
    base = live_server.url
    context = browser.new_context(**SMALL_PHONE)
    page = context.new_page()
    sign_in_carer(page, base)
    page.goto(f"{base}/visits/log/")
    expect(page.locator(f"#household-list input[value='{vw.household_a.pk}']")).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing sticks out sideways
    # the search by building or room swaps the list in place (htmx)
    page.fill("#household-q", "99栋")
    expect(page.locator("#household-none")).to_be_visible()
    page.fill("#household-q", "1栋")
    expect(page.locator(f"#household-list input[value='{vw.household_a.pk}']")).to_be_checked()
    expect(page.locator("#visit-met-person option", has_text="户主")).to_have_count(1)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/api/visits/" in r.url else None)

    context.set_offline(True)
    log_visit(page, "日常敲门", "敲门，老人在家，身体还好")
    expect(page.locator("#visit-queue-status")).to_contain_text("1 条待发送")
    log_visit(page, "节日走访", "中秋送月饼")
    expect(page.locator("#visit-queue-status")).to_have_text("2 条待发送")
    page.screenshot(path=_shot("offline-2-waiting"), full_page=True)
    assert Visit.objects.count() == 0

    context.set_offline(False)
    expect(page.locator("#visit-queue-status")).to_be_hidden()
    wait_for(lambda: Visit.objects.count() == 2)
    expect(page.locator("#visit-sent")).to_contain_text("已登记走访")
    expect(page.locator("#recent-visits li")).to_have_count(2)  # swapped in as soon as they were sent
    page.screenshot(path=_shot("offline-sent"), full_page=True)
    visits = list(Visit.objects.order_by("visited_at"))
    assert [v.kind for v in visits] == [VisitKind.KNOCK, VisitKind.FESTIVAL]
    assert [v.heard for v in visits] == ["敲门，老人在家，身体还好", "中秋送月饼"]
    assert all(v.client_key and v.recorded_at >= v.visited_at for v in visits)  # the phone's time
    sent = len(posts)

    # a reload finds an empty queue and sends nothing more
    page.reload()
    expect(page.locator("#recent-visits li")).to_have_count(2)
    page.wait_for_timeout(1000)
    assert len(posts) == sent and Visit.objects.count() == 2
    key = f"linli.visits.queue.{vw.users['central_household'].pk}"
    assert page.evaluate(f"JSON.parse(localStorage.getItem('{key}') || '[]').length") == 0
    context.close()


def test_a_night_visit_raises_a_need_and_turns_the_household_green(
    page: Page,
    browser: Browser,
    live_server: Any,
    vw: Any,  # noqa: F811 - the fixture imported above
    screenshot: Any,
) -> None:
    base = live_server.url
    grid = browser.new_context(**SMALL_PHONE).new_page()
    sign_in_staff(grid, base, "grid_worker")
    household_url = f"{base}/visits/households/{vw.household_a.pk}/"
    grid.goto(household_url)
    expect(grid.locator("#coverage-row [data-status]")).to_have_attribute("data-status", "never")

    # the carer, at the door at night
    sign_in_carer(page, base)
    page.goto(f"{base}/visits/log/?household={vw.household_a.pk}")
    page.locator("#visit-kind label", has_text="夜访").click()
    page.select_option("#visit-met-person", str(vw.resident_a.pk))
    page.fill("#visit-heard", "老人说楼道灯坏了，晚上下楼看不见")
    page.check("input[name=raise_need]")
    page.fill("#visit-need-text", "3栋楼道灯坏了，独居老人晚上下楼不方便")
    screenshot("1-night-visit")
    page.click("#visit-submit")
    expect(page.locator("#visit-sent")).to_contain_text("诉求编号", timeout=30_000)
    wait_for(lambda: Visit.objects.filter(need__isnull=False).exists())
    visit = Visit.objects.select_related("need").get()
    assert visit.kind == VisitKind.NIGHT and visit.met_person == vw.resident_a
    need = visit.need
    assert isinstance(need, Need) and need.channel == Channel.VISIT and need.place == vw.household_place_a
    screenshot("2-sent")

    # the grid worker sees the need in the queue, and the household green
    grid.goto(f"{base}/needs/queue/")
    expect(grid.locator("#queue")).to_contain_text(f"#{need.pk}")
    grid.screenshot(path=_shot("journey-3-queue"), full_page=True)
    grid.goto(household_url)
    expect(grid.locator("#coverage-row [data-status]")).to_have_attribute("data-status", "ok")
    expect(grid.locator("#visits")).to_contain_text("夜访")
    grid.screenshot(path=_shot("journey-4-green"), full_page=True)
    assert re.search(r"张建国", grid.content())  # the grid worker may see the name


#: The contrast of an element's text with its background (WCAG's ratio; 4.5 is the least for text).
CONTRAST = """el => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const style = getComputedStyle(el);
  const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_a_logged_visit_is_confirmed_clearly_and_listed_on_a_phone_in_large_type(
    page: Page,
    live_server: Any,
    vw: Any,  # noqa: F811 - the fixture imported above
    screenshot: Any,
) -> None:
    base = live_server.url
    assert page.viewport_size == {"width": 390, "height": 844}
    sign_in_carer(page, base)
    page.goto(f"{base}/visits/log/")
    page.click("#large-type-toggle")
    expect(page.locator("html")).to_have_class("large")
    expect(page.locator("#recent-visits li")).to_have_count(0)
    log_visit(page, "日常敲门", "老人在家，身体还好")
    sent = page.locator("#visit-sent")
    expect(sent).to_be_visible()
    expect(sent).to_have_text(re.compile(r"已登记走访：.*1单元101 · 日常敲门"))
    assert sent.evaluate(CONTRAST) >= 7, "the confirmation must be easy to read"
    assert float(sent.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 20  # large type
    # the list of my latest visits shows it without a reload
    expect(page.locator("#recent-visits li")).to_have_count(1)
    expect(page.locator("#recent-visits li").first).to_contain_text("日常敲门")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("1-logged-large-type")
    log_visit(page, "节日走访", "中秋送月饼")
    expect(sent).to_contain_text("节日走访")
    expect(page.locator("#recent-visits li")).to_have_count(2)
    expect(page.locator("#recent-visits li").first).to_contain_text("节日走访")
    assert Visit.objects.count() == 2
    # the same in English, whichever way it was sent
    page.click('#lang-form button[value="en"]')
    log_visit(page, "Care visit", "brought medicine")
    expect(sent).to_contain_text("Visit logged:")
    expect(page.locator("#recent-visits li")).to_have_count(3)
    screenshot("2-logged-english")


def _shot(name: str) -> str:
    from conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"test_visits_journey-{name}.png")
