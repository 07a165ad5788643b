"""Every page on a small phone in large type, in Debian's Chromium: nothing wider than the
screen, every control of the header and the menu a 44 px target, fully on screen and clear
of its neighbours; the language switch in one tap, without JavaScript too.

The pages are found as the crawler finds them (``tests/test_crawl.py``): as each role of the
test world (and an anonymous visitor), one page of every kind (URL name) it can open. Each
role has one browser context; a screenshot of every page is kept under ``var/screenshots/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from linli.core.middleware import LARGE_TYPE_COOKIE
from linli.testing import sign_in
from tests.test_crawl import PAGES, ROLES, crawl, world_at_work

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]

SMALL_PHONE = {"width": 320, "height": 640}
TARGET = 44
#: Pages no link leads to (a building's printed QR code): where the crawl starts as well.
PRINTED = ("/places/t-a-g1-b1/qr/",)

#: Where each control of the header and the menu is, whether the page is wider than the screen.
MEASURE = """() => {
  const w = window.innerWidth;
  const controls = [...document.querySelectorAll('header.top a, header.top button, header.top select, nav.tabs a')];
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: w, innerHeight: window.innerHeight,
    controls: controls.map(el => {
      const r = el.getBoundingClientRect();
      return {name: el.id || el.textContent.trim().replace(/\\s+/g, ' '), left: r.left, right: r.right,
              top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, height: r.height};
    }),
    // a link or button of the page cut off by the screen's edge (or a strip scrolled sideways);
    // only the dashboard's wide tables are meant to scroll
    cut: [...document.querySelectorAll('main a, main button')].filter(el => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && !el.closest('.dash-scroll') && (r.left < -0.5 || r.right > w + 0.5);
    }).slice(0, 4).map(el => el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 20)),
    // the page's own buttons are tap targets too
    small: [...document.querySelectorAll('main button, main .button, main a.chip, main input[type=submit]')].filter(el => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height < 43.5;
    }).slice(0, 4).map(el => `${el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 20)} ${Math.round(el.getBoundingClientRect().height)}px`),
    wide: [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > w + 0.5)
      .slice(0, 4).map(el => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`),
  };
}"""


def misfits(measured: dict[str, Any]) -> list[str]:
    """What does not fit: the page wider than the screen, a control too small, off screen or
    on top of another."""
    width, height = measured["innerWidth"], measured["innerHeight"]
    found = []
    if measured["scrollWidth"] > width:
        found.append(f"{measured['scrollWidth']} px wide (screen {width}): {measured['wide']}")
    if measured["small"]:
        found.append(f"buttons under {TARGET} px: {measured['small']}")
    if measured["cut"]:
        found.append(f"cut off at the edge: {measured['cut']}")
    controls = measured["controls"]
    for c in controls:
        if c["height"] < TARGET - 0.5:
            found.append(f"{c['name']!r} is {c['height']:.0f} px tall")
        if c["left"] < 0 or c["right"] > width + 0.5 or c["top"] < 0 or c["bottom"] > height:
            found.append(
                f"{c['name']!r} is off screen ({c['left']:.0f}–{c['right']:.0f}, {c['top']:.0f}–{c['bottom']:.0f})"
            )
    for i, a in enumerate(controls):
        for b in controls[i + 1 :]:
            across = min(a["right"], b["right"]) - max(a["left"], b["left"])
            down = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if across > 1 and down > 1:
                found.append(f"{a['name']!r} overlaps {b['name']!r}")
    return found


def phone(browser: Browser, base: str, client: Client | None = None, *, javascript: bool = True) -> BrowserContext:
    """A small phone in large type, signed in as ``client`` is (one context per role)."""
    context = browser.new_context(viewport=SMALL_PHONE, locale="zh-CN", java_script_enabled=javascript)
    cookies = [{"name": LARGE_TYPE_COOKIE, "value": "1", "url": base}]
    if client is not None and settings.SESSION_COOKIE_NAME in client.cookies:
        cookies.append(
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        )
    context.add_cookies(cookies)  # type: ignore[arg-type]
    return context


def test_every_page_fits_a_small_phone_in_large_type_in_every_language(
    browser: Browser, live_server: Any, nw: Any, screenshot: Any
) -> None:
    world_at_work(nw)
    base = live_server.url
    reached: set[str] = set()
    problems: list[str] = []
    for who in ("anonymous", *ROLES):
        client = Client()
        if who != "anonymous":
            sign_in(client, nw.users[who])
        printed = tuple(url for url in PRINTED if client.get(url).status_code == 200)
        # the whole lists of dispatches and of votes before the home page's filtered ones (to
        # check in, to vote: empty for staff here), so that a liaison's job cards and a vote's
        # pages are reached with one page of each kind
        whole = ("/needs/dispatches/", reverse("deliberation:votes", args=[nw.community_a.code]))
        lists = tuple(url for url in whole if client.get(url).status_code == 200)
        found = crawl(client, per_kind=1, start=("/", *lists, *printed))
        assert not found.failures, f"{who}: {found.failures}"
        context = phone(browser, base, client)
        page = context.new_page()
        for kind, url in sorted(found.pages.items()):
            page.goto(base + url)
            assert page.locator("html.large").count() == 1, f"{who} {url}: not in large type"
            problems += [f"{who} {kind} {url}: {m}" for m in misfits(page.evaluate(MEASURE))]
            screenshot(f"{who}-{kind.replace(':', '-')}", of=page)
        # English labels are longer: the header and the menu (the same on every page) fit too
        for language in ("en", "zh-hant"):
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
            page.goto(base + "/")
            expect(page.locator("html")).to_have_attribute("lang", language)
            problems += [f"{who} home in {language}: {m}" for m in misfits(page.evaluate(MEASURE))]
            screenshot(f"{who}-home-{language}", of=page)
        context.close()
        reached |= set(found.pages)
    assert PAGES - reached == set(), "no role reached these pages"
    assert not problems, "\n".join(problems)


def _switch_in_one_tap(page: Page, base: str, url: str) -> None:
    page.goto(base + url)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # the two other languages are one button each; the current one is not offered
    expect(page.locator("#lang-form button")).to_have_count(2)
    page.locator("#lang-form button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url == base + url  # back on the same page, its query too
    page.locator("#lang-form button[value=zh-hant]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
    assert page.url == base + url
    page.locator("#lang-form button[value=zh-hans]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def test_the_language_changes_in_one_tap_with_or_without_javascript(
    browser: Browser, live_server: Any, nw: Any, screenshot: Any
) -> None:
    world_at_work(nw)
    base = live_server.url
    client = Client()
    sign_in(client, nw.users["secretary"])
    url = "/needs/queue/?status=open"
    for javascript in (True, False):
        context = phone(browser, base, client, javascript=javascript)
        page = context.new_page()
        _switch_in_one_tap(page, base, url)
        context.close()

    # in 繁體 the place names, stored simplified, are shown in traditional characters
    context = phone(browser, base, client)
    page = context.new_page()
    page.goto(f"{base}{url}")
    page.locator("#lang-form button[value=zh-hant]").click()
    expect(page.locator("#queue")).to_contain_text("第一網格 1棟 1單元101")
    expect(page.locator("h1")).to_have_text(re.compile("訴求"))
    screenshot("zh-hant-queue", of=page)
    context.close()
