"""Every link of the meetings' pages lands, for every role, in every language: a crawl from
the home page over a world with meetings (published and not), files, decisions and an
overdue one; and the pages a role reaches are the ones it should."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from linli.deliberation.services import meetings as services
from linli.deliberation.tests.meetings_world import add_people, meetings_of, plan
from linli.testing import sign_in
from tests.test_crawl import crawl

pytestmark = pytest.mark.django_db

EXPECTED = {
    "secretary": {
        "deliberation:meetings_mine",
        "deliberation:meetings_place",
        "deliberation:meeting",
        "deliberation:meeting_new",
        "deliberation:meeting_edit",
        "deliberation:meeting_invite",
        "deliberation:meeting_minutes",
        "deliberation:meeting_door",
        "deliberation:decision_new",
        "deliberation:decision",
        "deliberation:decisions_place",
    },
    "wang": {"deliberation:meetings_mine", "deliberation:meeting", "deliberation:meeting_checkin"},
    # keeps the door of the meetings of its grid (building A's), not of the community's
    "grid_worker": {
        "deliberation:meetings_mine",
        "deliberation:meetings_place",
        "deliberation:meeting",
        "deliberation:meeting_door",
    },
    "street_official": {"deliberation:decisions_overdue", "deliberation:decision"},
    "resident": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_every_link_of_the_meetings_lands(client: Client, nw: Any, who: str, language: str) -> None:
    add_people(nw)
    made = meetings_of(nw)
    services.invite_by_households(actor=nw.secretary, meeting=made["a"]["coming"], households=[nw.household_102])
    past = plan(nw, starts_at=timezone.now() - dt.timedelta(days=30), title="上月议事会")
    services.decision_create(
        actor=nw.secretary,
        meeting=past,
        text="修补路面",
        owner=nw.wang,
        due=timezone.localdate() - dt.timedelta(days=3),
    )
    sign_in(client, nw.users[who])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    found = crawl(client, per_kind=2, start=("/", "/deliberation/meetings/"))
    reached = set(found.kinds)
    assert EXPECTED[who] <= reached, sorted(EXPECTED[who] - reached)
    assert not found.failures, "\n".join(f"{s} {u}  (from {c})" for u, s, c in found.failures)
