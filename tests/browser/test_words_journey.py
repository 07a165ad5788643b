"""Words a resident understands, in Debian's Chromium on a phone (390×844) in large type:

- after rating "unsatisfied" through the SMS link, the page says the need was reopened, who
  handles it now and by when; 我的诉求 shows 请评价 for a need waiting for the rating;
- a gas smell typed into the report form brings the safety advice and the numbers at once;
- the timeline names who acted: 我, 网格员 用*…, 居民 张**, 系统;
- the SMS code is said once, and sent again only after a countdown the server holds to.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from linli.accounts.sms import read_outbox
from linli.needs.catalogue import catalogue_load_defaults
from linli.needs.deadlines import deadlines_sweep
from linli.needs.models import Need, Status
from linli.needs.rating_links import rating_link_create
from linli.needs.services import need_accept, need_create, need_resolve
from tests.browser.test_journeys import sign_in_staff
from tests.browser.test_needs_journey import sign_in_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}


def large_type(page: Page) -> None:
    page.click("#large-type-toggle")
    expect(page.locator("html")).to_have_class("large")


def fits(page: Page, *targets: Locator) -> None:
    """Nothing runs off the phone's screen, and each target is large enough to tap."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"
    for target in targets:
        box = target.bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 390, box


def _shot(name: str) -> str:
    """A screenshot of a second page (the ``screenshot`` fixture takes the test's own)."""
    from conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"test_words_journey-{name}.png")


def _resolved(nw: Any, text: str) -> Need:
    need = need_create(actor=nw.users["resident"], text=text, place=nw.household_place_a)
    need_accept(actor=nw.users["grid_worker"], need=need)
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已更换灯泡")
    need.refresh_from_db()
    return need


def test_an_unsatisfied_rating_by_link_says_what_happens_next_and_my_needs_ask_for_ratings(
    page: Page, live_server: Any, nw: Any, screenshot: Any, settings: Any, tmp_path: Any
) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    base = live_server.url
    rated = _resolved(nw, "楼下路灯不亮了，晚上很黑")
    waiting = _resolved(nw, "3栋楼道灯坏了")
    token = rating_link_create(reporter=rated.reporters.get(), round_=1)

    # the SMS link, opened on the phone without signing in
    page.goto(f"{base}/r/{token}/")
    large_type(page)
    page.check("#rate-form input[name=resolved][value='0']")
    page.check("#rate-form input[name=satisfaction][value='unsatisfied']")
    page.fill("#rate-form textarea", "还是不亮")
    screenshot("1-rating-link")
    page.click("#rate-form button[type=submit]")
    next_step = page.locator("#next-step")
    expect(next_step).to_contain_text("评价为不满意，诉求已重新办理")
    expect(page.locator("#next-handler")).to_contain_text("现在由网格（第一网格）负责办理")
    rated.refresh_from_db()
    assert rated.status == Status.ACCEPTED and rated.resolution_due is not None
    due = timezone.localtime(rated.resolution_due).strftime("%Y-%m-%d %H:%M")
    expect(page.locator("#next-handler")).to_contain_text(f"最迟 {due} 前办好")
    expect(page.locator("main")).not_to_contain_text("当前不需要评价")
    fits(page)
    screenshot("2-reopened")

    # 我的诉求: 请评价 on the need still waiting for a rating, and it leads to the rating
    sign_in_resident(page, base)
    page.click("#my-needs-link")
    waiting_item = page.locator("#my-needs li", has_text=f"#{waiting.pk}")
    expect(waiting_item.locator(".rate-due")).to_have_text("请评价")
    expect(page.locator("#my-needs li", has_text=f"#{rated.pk}").locator(".rate-due")).to_have_count(0)
    fits(page, waiting_item.locator("a"))
    screenshot("3-my-needs")
    waiting_item.locator("a").click()
    page.wait_for_url(re.compile(rf"/needs/{waiting.pk}/#rate-form$"))
    expect(page.locator("#rate-form")).to_be_in_viewport()
    screenshot("4-rate-form")
    # the reopened need's own page says the same as the link did
    page.goto(f"{base}/needs/{rated.pk}/")
    expect(page.locator("#next-step")).to_contain_text("第一网格")


def test_a_gas_smell_typed_into_the_form_shows_what_to_do_at_once(
    page: Page, live_server: Any, nw: Any, screenshot: Any, settings: Any, tmp_path: Any
) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    catalogue_load_defaults()
    base = live_server.url
    sign_in_resident(page, base)
    large_type(page)
    page.click("#report-need")
    advice = page.locator("#emergency-advice [data-emergency]")
    page.locator("#need-text").press_sequentially("路灯坏了")
    page.wait_for_load_state("networkidle")
    expect(advice).to_have_count(0)
    page.fill("#need-text", "")
    page.locator("#need-text").press_sequentially("楼道里一股很浓的煤气味")
    expect(advice).to_have_attribute("data-emergency", "gas")
    expect(advice).to_contain_text("不要开关电灯和电器")
    call = page.locator("#emergency-advice a[href='tel:119']")
    expect(call).to_be_visible()
    fits(page, call)
    screenshot("1-gas-on-the-form")
    page.click("#need-submit")
    expect(page.locator("#need-status")).to_have_text("待受理")
    expect(page.locator("#emergency-advice [data-emergency=gas]")).to_be_visible()
    screenshot("2-gas-on-the-need")


def test_the_timeline_names_who_acted_as_each_reader_understands_it(
    page: Page, live_server: Any, nw: Any, screenshot: Any, browser: Browser, settings: Any, tmp_path: Any
) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    base = live_server.url
    need = _resolved(nw, "楼下路灯不亮了，晚上很黑")
    page.goto(f"{base}/r/{rating_link_create(reporter=need.reporters.get(), round_=1)}/")
    page.check("#rate-form input[name=resolved][value='0']")
    page.check("#rate-form input[name=satisfaction][value='unsatisfied']")
    page.click("#rate-form button[type=submit]")
    expect(page.locator("#next-step")).to_be_visible()
    deadlines_sweep(now=timezone.now() + dt.timedelta(days=30))  # the worker's sweep

    sign_in_resident(page, base)
    large_type(page)
    page.goto(f"{base}/needs/{need.pk}/")
    timeline = page.locator("#timeline")
    worker = "网格员 用" + "*" * (len("用户grid_worker") - 1)

    def actors(kind: str) -> Locator:
        return timeline.locator("li", has=page.locator("strong", has_text=re.compile(f"^{kind}$"))).locator(".actor")

    expect(actors("提交")).to_have_text(["我"])
    expect(actors("受理")).to_have_text([worker])
    expect(actors("评价")).to_have_text(["我"])
    expect(actors("超期")).to_have_text(["系统"])
    expect(timeline).not_to_contain_text("system")
    expect(timeline).not_to_contain_text("张建国")
    fits(page)
    screenshot("1-resident-reads")

    grid = browser.new_context(**PHONE).new_page()
    sign_in_staff(grid, base, "grid_worker")
    grid.click("#large-type-toggle")
    grid.goto(f"{base}/needs/{need.pk}/")
    grid_timeline = grid.locator("#timeline")
    expect(grid_timeline.locator("li", has_text="提交").locator(".actor")).to_have_text(["居民 张**"])
    expect(grid_timeline.locator("li", has_text="受理").locator(".actor")).to_have_text(["我"])
    expect(grid_timeline).not_to_contain_text("张建国")
    grid.screenshot(path=_shot("timeline-grid-worker-reads"), full_page=True)


def test_the_sms_code_is_said_once_and_sent_again_after_a_countdown(
    page: Page, live_server: Any, world: Any, screenshot: Any, settings: Any, tmp_path: Any
) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    # a short gap, so that the test waits for the countdown in seconds rather than a minute
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "sms_resend_phone": "1/3s"}
    base = live_server.url
    page.goto(f"{base}/accounts/login/code/")
    large_type(page)
    page.fill("#id_phone", "138 0013 8000")
    page.click("#request-code button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/code/confirm/"))
    main = page.locator("main")
    expect(main).to_contain_text("验证码已发送至 138****8000")
    assert main.inner_text().count("验证码已发送") == 1
    resend = page.locator("#resend-button")
    wait = page.locator("#resend-wait")
    expect(resend).to_be_disabled()
    expect(wait).to_contain_text("秒后可以重新发送")
    fits(page, resend, page.locator("#confirm-code button[type=submit]"))
    screenshot("1-code-sent-countdown")
    # the countdown ends when the server's limit does: the resend goes, and says so once
    expect(resend).to_be_enabled(timeout=10_000)
    expect(wait).to_have_text("没收到？可以重新发送。")
    resend.click()
    expect(page.locator(".message.success")).to_have_text("已重新发送验证码，请用最新收到的那一条。")
    expect(resend).to_be_disabled()  # and the next one waits again
    assert main.inner_text().count("验证码已发送") == 1
    codes = [m["body"] for m in read_outbox() if m["to"] == "+8613800138000"]
    assert len(codes) == 2
    screenshot("2-code-sent-again")
    page.fill("#id_code", re.search(r"\d{6}", codes[-1]).group(0))  # type: ignore[union-attr]
    page.click("#confirm-code button[type=submit]")
    page.wait_for_url(f"{base}/")
    expect(page.locator("main")).to_contain_text("居民")
