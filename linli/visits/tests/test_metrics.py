"""The visits app's coverage rate is a registered metric (``core.registry.register_metric``):
the needs' dashboard shows it beside the three rates for each child place, to the readers who
may see coverage there, without knowing of the visits app."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.people.models import Household
from linli.testing import sign_in
from linli.visits.services import visit_log

pytestmark = pytest.mark.django_db


def _metric_cells(html: str) -> dict[str, str]:
    table = re.search(r'<table id="metrics">.*?</table>', html, re.S)
    assert table is not None, "no metrics table"
    return dict(re.findall(r'<tr data-code="([^"]+)"><td><a [^>]+>[^<]*</a></td><td>([^<]*)</td>', table.group(0)))


def test_the_dashboard_compares_the_coverage_of_the_children(client: Client, vw: Any) -> None:
    now = timezone.now()
    visit_log(
        actor=vw.users["central_household"],
        household=vw.household_a,
        kind="knock",
        visited_at=now - dt.timedelta(hours=2),
        now=now,
    )
    street = vw.street
    sign_in(client, vw.users["street_official"])
    page = client.get("/needs/dashboard/", {"place": street.code})
    assert page.status_code == 200
    cells = _metric_cells(page.content.decode())
    households = Household.objects.filter(place__path__startswith=vw.community_a.path).count()
    assert cells[vw.community_a.code] == f"{100 / households:.1f}%"
    others = Household.objects.filter(place__path__startswith=vw.community_b.path).count()
    assert cells[vw.community_b.code] == ("0.0%" if others else "—")
