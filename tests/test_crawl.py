"""Every tap lands: as each role of the test world, follow every link of every page reachable
from the home page (a few pages of each kind), and fail on any answer of 400 or more; a
form's button is followed when it reads (GET) and its target must exist when it writes.

The world has a need in every hand (reported, whistled to a department, checked in), a carer
with a household and a visit, and deliberation at work (topics, meetings, votes, conventions:
``linli.deliberation.tests.world``), so that the pages of needs, dispatches, households,
people, places, visits and deliberation are all reached. Links that change something (sign-out, the language) and
the admin site's own pages are not followed; files (exports, photos, QR codes) are fetched
but not read.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

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
#: The kinds of page (URL names) that someone can open with a GET: each must be reached.
PAGES = {
    "home",
    "account_login",
    "account_request_login_code",
    "account_change_password",
    "account_reset_password",
    "account_reauthenticate",
    "account_request_reauthentication_code",
    "mfa_index",
    "mfa_reauthenticate",
    "places:index",
    "places:detail",
    "places:import",
    "people:index",
    "people:person",
    "people:household",
    "people:profile",
    "people:audit",
    "people:place_memberships",
    "needs:new",
    "needs:mine",
    "needs:queue",
    "needs:dispatches",
    "needs:dashboard",
    "needs:detail",
    "needs:dispatch",
    "needs:qr",
    "visits:home",
    "visits:log",
    "visits:coverage",
    "visits:household",
    "visits:care",
    "visits:policies",
    "visits:nights",
    "visits:night",
    "visits:opinions",
    "deliberation:topics",
    "deliberation:topic",
    "deliberation:topic_board",
    "deliberation:topic_rules",
    "deliberation:votes",
    "deliberation:vote",
    "deliberation:vote_notice",
    "deliberation:vote_paper",
    "deliberation:vote_entry",
    "deliberation:meetings_mine",
    "deliberation:meetings_place",
    "deliberation:meeting_new",
    "deliberation:meeting",
    "deliberation:meeting_edit",
    "deliberation:meeting_invite",
    "deliberation:meeting_door",
    "deliberation:meeting_checkin",
    "deliberation:meeting_minutes",
    "deliberation:decision_new",
    "deliberation:decision",
    "deliberation:decisions_place",
    "deliberation:decisions_overdue",
    "deliberation:conventions",
    "deliberation:convention_create",
    "deliberation:convention",
    "deliberation:convention_diff",
    "deliberation:convention_print",
    "deliberation:convention_version",
    "deliberation:convention_edit",
    "deliberation:convention_comments",
    "deliberation:convention_signatures",
}
#: Every other named URL, and why it is no page of its own.
NOT_PAGES = {
    # fragments that htmx swaps into a page (the report form's safety advice, the doorstep
    # page's latest visits)
    "needs:emergency",
    "visits:recent",
    # the door page's live count of attendees (an htmx fragment of the door page)
    "deliberation:meeting_door_count",
    # deliberation's files: the published register (JSON), a proxy's scan, a meeting's calendar
    # file and the minutes' attachments
    "deliberation:vote_register_json",
    "deliberation:vote_proxy_scan",
    "deliberation:meeting_ics",
    "deliberation:minutes_file",
    # writes (POST only)
    "deliberation:topic_propose",
    "deliberation:topic_support",
    "deliberation:topic_accept",
    "deliberation:topic_decline",
    "deliberation:topic_from_opinion",
    "deliberation:topic_rules_set",
    "deliberation:vote_new",
    "deliberation:vote_cast",
    "deliberation:vote_open",
    "deliberation:vote_close",
    "deliberation:vote_cancel",
    "deliberation:vote_proxy",
    "deliberation:meeting_cancel",
    "deliberation:meeting_rsvp",
    "deliberation:meeting_tick",
    "deliberation:decision_report",
    "deliberation:convention_version_create",
    "deliberation:convention_article_add",
    "deliberation:convention_article_edit",
    "deliberation:convention_discard",
    "deliberation:convention_comments_open",
    "deliberation:convention_comment",
    "deliberation:convention_vote",
    "deliberation:convention_publish",
    "deliberation:convention_sign",
    "deliberation:convention_sign_paper",
    "large_type",
    "set_language",
    "account_logout",
    "people:person_unmask",
    "people:membership_revoke",
    "needs:dispatch_act",
    "needs:unmask",
    "needs:act",
    "visits:household_out_by_day",
    "visits:household_assign",
    "visits:care_handover",
    "visits:care_import",
    "visits:care_end",
    "visits:policy_set",
    "visits:night_create",
    "visits:opinion_decide",
    # files and parts of pages
    "places:export",
    "needs:dashboard_export",
    "needs:photo",
    "visits:ledger",
    "visits:care_export",
    "visits:photo",
    "visits:pick",
    "javascript_catalog",
    "mfa_download_recovery_codes",
    # machines: health (the API, its schema and Open311 are left out whole)
    "healthz",
    # one person's moment: a link sent by SMS or e-mail, a background import, a sign-in step
    "needs:rate_by_link",
    "import_job",
    "account_confirm_login_code",
    "mfa_authenticate",
    "account_confirm_reauthentication_code",
    # allauth's pages of features the site leaves off (sign-up, e-mail, phone changes,
    # recovery codes, TOTP changes by a signed-in account); each answers a redirect or a 404
    "account_signup",
    "account_inactive",
    "account_email",
    "account_email_verification_sent",
    "account_confirm_email",
    "account_set_password",
    "account_verify_phone",
    "account_change_phone",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
}

#: Pages of one kind (one URL pattern) visited at most this many times per role.
PER_KIND = 3
LIMIT = 250


def world_at_work(nw: Any) -> None:
    """A need reported by the resident, accepted and whistled to the water department, which
    checked in; a second need only reported; a carer for household A, who visited it, and a
    night round planned there; the volunteer lives in household B (a resident with another
    role, as in the demo)."""
    import datetime as dt

    from django.utils import timezone

    from linli.needs.services import dispatch_checkin, need_create, need_whistle
    from linli.visits.services import care_assign, night_round_create, visit_log

    users = nw.users
    need = need_create(actor=users["resident"], text="楼下水管漏水，一直在流", place=nw.places["household_place_a"])
    [dispatch] = need_whistle(actor=users["grid_worker"], need=need, departments=[nw.department], note="请尽快")
    dispatch_checkin(actor=users["department_liaison"], dispatch=dispatch)
    need_create(actor=users["resident"], text="路灯不亮了", place=nw.places["household_place_a"])
    household = nw.households["household_a"]
    carer = users["central_household"].person
    care_assign(actor=SYSTEM, household=household, carer=carer)
    visit_log(actor=users["central_household"], household=household, kind="knock", heard="老人身体还好")
    evening = timezone.localtime().replace(hour=19, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    night_round_create(
        actor=users["grid_worker"],
        place=nw.grid_a,
        starts_at=evening,
        ends_at=evening + dt.timedelta(hours=2),
        members=[carer],
        households=[household],
    )
    HouseholdMember.objects.create(
        household=nw.households["household_b"], person=users["volunteer"].person, relation=Relation.SPOUSE
    )
    from linli.deliberation.tests.world import deliberation_at_work

    deliberation_at_work(nw)


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


@dataclass
class Crawl:
    """What a crawl found: the failures (url, status, the page linking to it), how many pages
    of each kind (URL name) were fetched, and the first HTML page of each kind."""

    failures: list[tuple[str, int, str]] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    pages: dict[str, str] = field(default_factory=dict)


def crawl(client: Client, per_kind: int = PER_KIND, start: tuple[str, ...] = ("/",)) -> Crawl:
    """Breadth-first from the home page (and the other ``start`` pages, such as those only a
    printed link leads to), at most ``per_kind`` pages of each kind."""
    queue: deque[tuple[str, str]] = deque((url, "") for url in start)
    seen: set[str] = set()
    found = Crawl()
    kinds, failures = found.kinds, found.failures
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
        if kinds[kind] >= per_kind:
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
        found.pages.setdefault(kind, url)
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
    return found


@pytest.mark.parametrize("who", ROLES)
def test_every_link_lands_for_every_role(client: Client, nw: Any, who: str) -> None:
    world_at_work(nw)
    sign_in(client, nw.users[who])
    found = crawl(client)
    failures, kinds = found.failures, found.kinds
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


def named_urls() -> set[str]:
    def walk(patterns: list[Any], namespace: str = "") -> set[str]:
        found: set[str] = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                # the admin site is tested on its own; the API and Open311 answer machines
                if str(pattern.pattern) not in ("admin/", "api/") and pattern.namespace != "open311":
                    found |= walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name and not str(pattern.pattern).startswith("api/"):
                found.add(f"{namespace}{pattern.name}")
        return found

    return walk(get_resolver().url_patterns)


def test_every_kind_of_page_is_named() -> None:
    """A new page joins ``PAGES`` (and so the phone layout test, which measures one of each
    kind), or says why it is none."""
    names = named_urls()
    assert not PAGES & NOT_PAGES
    assert names - PAGES - NOT_PAGES == set(), "classify these URL names"
    assert (PAGES | NOT_PAGES) - names == set(), "these URL names are gone"


def test_every_link_lands_for_every_demo_account() -> None:
    """The same crawl over the demo (``linli load-demo``: hundreds of needs in every state, six
    months of visits, twenty communities), as each of its accounts, one page of each kind.
    Loading it takes 25–40 s here and the crawls about 25 s, so it is loaded once, inside this
    test's transaction (no other test sees it), and every account crawls it in turn."""
    from linli.accounts.models import User
    from linli.demo.loader import ACCOUNTS, load_demo

    load_demo()
    failures = []
    for account in ACCOUNTS:
        client = Client()
        sign_in(client, User.objects.get(username=account.username))
        found = crawl(client, per_kind=1)
        assert len(found.kinds) >= 4, f"{account.username} reached only {sorted(found.kinds)}"
        failures += [
            f"{account.username}: {status} {url}  (linked from {came_from})"
            for url, status, came_from in found.failures
        ]
    assert not failures, "\n".join(failures)
