"""Every place-scoped row keeps its place's path (``core.access.PlaceScoped``; decision 0007):
written by the services of needs and visits, and after a need moves to another place."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from linli.core.access import PlaceScoped
from linli.needs.services import need_create, need_transfer
from linli.needs.tests.conftest import make_categories
from linli.visits.services import care_assign, night_round_create, visit_log

pytestmark = pytest.mark.django_db


def _place_of(row: Any) -> Any:
    target = row
    for name in row.place_source.split("."):
        target = getattr(target, name)
    return target


def test_every_place_scoped_row_keeps_its_places_path(world: Any) -> None:
    make_categories()
    now = timezone.now()
    household = world.households["household_a"]
    carer = world.users["central_household"].person
    care_assign(actor=world.users["grid_worker"], household=household, carer=carer, now=now)
    visit_log(
        actor=world.users["central_household"],
        household=household,
        kind="knock",
        heard="想反映楼道灯的事",
        tags=["opinion_heard"],
        visited_at=now - dt.timedelta(hours=1),
        now=now,
    )
    night_round_create(
        actor=world.users["grid_worker"],
        place=world.grid_a,
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1, hours=2),
        members=[carer],
    )
    need = need_create(actor=world.users["resident"], text="楼道灯坏了", place=world.household_place_a)
    need_transfer(actor=world.users["community_staff"], need=need, place=world.building_a, note="是楼道的事")

    from linli.deliberation.tests.world import deliberation_at_work

    deliberation_at_work(world)

    models = [m for m in apps.get_models() if issubclass(m, PlaceScoped)]
    assert {m._meta.label for m in models} >= {
        "needs.Need",
        "visits.CareAssignment",
        "visits.NightRound",
        "visits.Visit",
        "visits.Opinion",
    }
    for model in models:
        rows = list(model._default_manager.all())
        assert rows, f"no {model._meta.label} was written"
        for row in rows:
            assert row.place_path == _place_of(row).path, (model._meta.label, row.pk)
    need.refresh_from_db()
    assert need.place_path == world.building_a.path
