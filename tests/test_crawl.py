"""Every tap lands: as each role of the test world, follow every link of every page reachable
from the home page (a few pages of each kind), and fail on any answer of 400 or more; a
form's button is followed when it reads (GET) and its target must exist when it writes.

The world has a need in every hand (reported, whistled to a department, checked in), a carer
with a household and a visit, so that the pages of needs, dispatches, households, people,
places and visits are all reached. Links that change something (sign-out, the language) and
the admin site's own pages are not followed; files (exports, photos, QR codes) are fetched
but not read.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from linli.core.access import SYSTEM
from linli.people.models import HouseholdMember, Relation
from linli.testing import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("crawl")]

ROLES = (
    "resident",
    "grid_worker",
    "building_leader",
    "central_household",
    "secretary",
    "community_staff",
    "street_official",
    "district_official",
    "department_liaison",
    "mediator",
    "volunteer",
    "system_admin",
)
#: Not followed: they change the session, or belong to Django's admin (tested on its own).
SKIP = ("/accounts/logout/", "/i18n/", "/admin/", "/static/", "/media/", "/api/schema", "/api/docs")
#: Pages of one kind (one URL pattern) visited at most this many times per role.
PER_KIND = 3
LIMIT = 250


def _world_at_work(nw: Any) -> None:
    """A need reported by the resident, accepted and whistled to the water department, which
    checked in; a second need only reported; a carer for household A, who visited it; the
    volunteer lives in household B (a resident with another role, as in the demo)."""
    from linli.needs.services import dispatch_checkin, need_create, need_whistle
    from linli.visits.services import care_assign, visit_log

    users = nw.users
    need = need_create(actor=users["resident"], text="楼下水管漏水，一直在流", place=nw.places["household_place_a"])
    [dispatch] = need_whistle(actor=users["grid_worker"], need=need, departments=[nw.department], note="请尽快")
    dispatch_checkin(actor=users["department_liaison"], dispatch=dispatch)
    need_create(actor=users["resident"], text="路灯不亮了", place=nw.places["household_place_a"])
    household = nw.households["household_a"]
    carer = users["central_household"].person
    care_assign(actor=SYSTEM, household=household, carer=carer)
    visit_log(actor=users["central_household"], household=household, kind="knock", heard="老人身体还好")
    HouseholdMember.objects.create(
        household=nw.households["household_b"], person=users["volunteer"].person, relation=Relation.SPOUSE
    )


def _links(html: str, base: str) -> list[str]:
    found = []
    for href in re.findall(r'<a\b[^>]*\bhref="([^"#][^"]*)"', html):
        href = href.replace("&amp;", "&")
        if href.startswith(("mailto:", "tel:", "javascript:", "sms:")):
            continue
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver"):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _forms(html: str, base: str) -> list[tuple[str, str]]:
    """Each form's method and action (the page itself when it names none)."""
    found = []
    for attrs in re.findall(r"<form\b([^>]*)>", html):
        method = re.search(r'\bmethod="([^"]*)"', attrs)
        action = re.search(r'\baction="([^"]*)"', attrs)
        url = urljoin(base, (action.group(1) if action else "").replace("&amp;", "&")) if action else base
        parts = urlsplit(url)
        if parts.netloc in ("", "testserver"):
            found.append(((method.group(1) if method else "get").lower(), parts.path))
    return found


def crawl(client: Client) -> tuple[list[tuple[str, int, str]], Counter[str]]:
    """Breadth-first from the home page; the failures (url, status, the page linking to it)
    and how many pages of each kind (URL name) were fetched."""
    queue: deque[tuple[str, str]] = deque([("/", "")])
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    failures: list[tuple[str, int, str]] = []
    fetched = 0
    while queue and fetched < LIMIT:
        url, came_from = queue.popleft()
        path = urlsplit(url).path
        if url in seen or path.startswith(SKIP):
            continue
        seen.add(url)
        try:
            match = resolve(path)
        except Resolver404:
            failures.append((url, 404, came_from))
            continue
        kind = match.view_name or match.route
        if kinds[kind] >= PER_KIND:
            continue
        kinds[kind] += 1
        response = client.get(url)
        fetched += 1
        if response.status_code >= 400:
            failures.append((url, response.status_code, came_from))
            continue
        if response.status_code in (301, 302, 303):
            queue.append((response["Location"], url))
            continue
        if getattr(response, "streaming", False) or not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = response.content.decode()
        for link in _links(html, url):
            if link not in seen:
                queue.append((link, url))
        # a button leads somewhere too: a GET form is followed, a POST form's target must exist
        for method, action in _forms(html, url):
            if method == "get":
                queue.append((action, url))
            elif not action.startswith(SKIP):
                try:
                    resolve(action)
                except Resolver404:
                    failures.append((action, 404, url))
    return failures, kinds


@pytest.mark.parametrize("who", ROLES)
def test_every_link_lands_for_every_role(client: Client, nw: Any, who: str) -> None:
    _world_at_work(nw)
    sign_in(client, nw.users[who])
    failures, kinds = crawl(client)
    assert len(kinds) >= 4, f"{who} reached only {sorted(kinds)}"
    reached = set(kinds)
    if who in ("grid_worker", "secretary", "community_staff"):
        assert {"needs:queue", "needs:detail", "places:detail", "visits:coverage"} <= reached, sorted(reached)
    if who == "department_liaison":
        # a department works through its job cards (what was whistled to it), not the needs' pages
        assert {"needs:dispatches", "needs:dispatch"} <= reached, sorted(reached)
    if who == "volunteer":
        assert "people:household" in reached, sorted(reached)  # 我的家庭
    if who == "resident":
        assert {"needs:mine", "needs:new", "needs:detail"} <= reached, sorted(reached)
    assert not failures, "\n".join(f"{status} {url}  (linked from {came_from})" for url, status, came_from in failures)
