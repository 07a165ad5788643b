"""The conventions' journey in Debian's Chromium on a phone (390×844): a resident signs in with an
SMS code, reads the convention in force, signs it for the household, comments on an article of
the amendment open for comments and reads the diff; the secretary reads the comments per article.
No page scrolls sideways and none breaks the content security policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from linli.deliberation.models import ArticleComment, Signature
from linli.deliberation.services import conventions as services
from linli.deliberation.tests.test_conventions import adopt, make_convention

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def test_a_resident_signs_comments_and_reads_the_diff(
    page: Page, live_server: Any, world: Any, screenshot: Any, settings: Any, tmp_path: Any, browser: Any
) -> None:
    from tests.browser.test_needs_journey import sign_in_resident, staff_page

    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    secretary = world.users["secretary"]
    convention = make_convention(world)
    adopt(world, convention.versions.get())
    amendment = services.version_create(actor=secretary, convention=convention, note="补充养犬条款")
    services.article_change(
        actor=secretary, article=amendment.articles.get(number=2), text="文明养犬，出门拴绳，及时清理犬只粪便。"
    )
    services.comments_open(actor=secretary, version=amendment, until=timezone.now() + dt.timedelta(days=7))
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    base = live_server.url
    sign_in_resident(page, base)
    page.click("main >> text=居民公约")
    expect(page.locator("#conventions")).to_contain_text("常二社区居民公约")
    page.click("#conventions >> text=常二社区居民公约")
    expect(page.locator("#current")).to_contain_text("爱护公共环境")
    expect(page.locator("#comments-open")).to_contain_text("第2版正在征求意见")
    _fits(page)
    screenshot("1-convention")
    page.click("#sign-form button[type=submit]")
    expect(page.locator("#signed")).to_contain_text("本户已由张**")
    expect(page.locator("#share")).to_contain_text("已签署 1/1 户（100%）")
    assert Signature.objects.count() == 1
    screenshot("2-signed")
    page.click("#comments-open >> text=逐条提意见")
    article = amendment.articles.get(number=2)
    page.fill(f"#c{article.pk}", "建议写明犬只粪便的处理方式")
    page.click(f"#a{article.pk} .comment-form button[type=submit]")
    expect(page.locator(".message.success")).to_contain_text("意见已提交")
    expect(page.locator(f"#a{article.pk}")).to_contain_text("张**")
    assert ArticleComment.objects.get().article == article
    _fits(page)
    screenshot("3-commented")
    page.click("text=与第1版对照")
    expect(page.locator("#diff-counts")).to_contain_text("修改1条")
    expect(page.locator("#diff ins")).to_contain_text("及时清理犬只粪便")
    _fits(page)
    screenshot("4-diff")

    staff = staff_page(browser, base, "secretary")
    staff.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    staff.goto(f"{base}/deliberation/conventions/v/{amendment.pk}/comments/")
    expect(staff.locator("#comments")).to_contain_text("建议写明犬只粪便的处理方式")
    expect(staff.locator("main")).to_contain_text("共1条意见")
    _fits(staff)
    screenshot("5-comments", of=staff)
    draft = make_convention(world, title="1栋楼栋公约").versions.get()
    staff.goto(f"{base}/deliberation/conventions/v/{draft.pk}/edit/")
    staff.fill("#add-article textarea[name=text]", "电动车不进楼道，不飞线充电。")
    staff.click("#add-article button[type=submit]")
    expect(staff.locator(".message.success")).to_contain_text("已添加一条")
    expect(staff.locator("#articles")).to_contain_text("第4条")
    _fits(staff)
    screenshot("6-editor", of=staff)
    staff.goto(f"{base}/deliberation/conventions/c/{convention.pk}/")
    staff.click("text=各楼栋签署情况")
    expect(staff.locator("#buildings")).to_contain_text("1/1")
    _fits(staff)
    screenshot("7-signatures", of=staff)
    staff.context.close()
    assert violations == [], violations
