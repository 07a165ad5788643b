"""``linli gen-city`` on a tiny city: the counts, every need's timeline agrees with its row,
the roll-ups equal a recomputation, and ``linli bench needs --quick`` runs on it. No timing
assertions: benchmarks print figures."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections import defaultdict
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linli.bench.gencity import CitySpec, gen_city
from linli.needs import rates
from linli.needs.models import Dispatch, EventKind, Need, NeedEvent, NeedReporter, Rating, Status
from linli.people.models import Department, Household
from linli.places.models import Place, PlaceKind

pytestmark = pytest.mark.django_db

SPEC = CitySpec(code="tg", communities=2, grids_per_community=2, households_per_grid=10, needs=300, years=2, seed=3)


@pytest.fixture
def city() -> Any:
    return gen_city(SPEC)


def test_counts(city: Any) -> None:
    root = Place.objects.get(code="tg")
    assert Place.objects.filter(path__startswith=root.path, kind=PlaceKind.GRID).count() == 4
    assert Household.objects.filter(place__path__startswith=root.path).count() == 40
    assert Department.objects.filter(place__path__startswith=root.path).count() == 7
    needs = Need.objects.filter(place_path__startswith=root.path)
    assert needs.count() == city.needs >= SPEC.needs
    assert NeedEvent.objects.filter(place_path__startswith=root.path).count() == city.events
    assert Rating.objects.filter(need__place_path__startswith=root.path).count() == city.ratings
    assert Dispatch.objects.filter(need__place_path__startswith=root.path).count() == city.dispatches
    statuses = set(needs.values_list("status", flat=True))
    assert {Status.CLOSED, Status.MERGED} <= statuses
    assert needs.filter(status=Status.CLOSED).count() > needs.count() / 2
    # every need copies its place's path and district
    for need in needs.select_related("place", "district")[:50]:
        assert need.place_path == need.place.path
        assert need.district is not None and need.place_path.startswith(need.district.path)


def test_timelines_agree_with_rows(city: Any) -> None:
    events: dict[int, list[NeedEvent]] = defaultdict(list)
    for event in NeedEvent.objects.filter(place_path__startswith=Place.objects.get(code="tg").path).order_by(
        "at", "id"
    ):
        events[event.need_id].append(event)
    ratings_by_need: dict[int, int] = defaultdict(int)
    for need_id in Rating.objects.values_list("need_id", flat=True):
        ratings_by_need[need_id] += 1
    for need in Need.objects.filter(pk__in=list(events)):
        timeline = events[need.pk]
        kinds = [e.kind for e in timeline]
        assert kinds[0] == EventKind.SUBMITTED
        assert timeline[-1].to_status == need.status, (need.pk, kinds)
        assert all(e.place_path == need.place_path and e.district_id == need.district_id for e in timeline)
        assert need.created_at == timeline[0].at
        for before, after in itertools.pairwise(timeline):
            assert after.from_status == before.to_status
        assert ratings_by_need[need.pk] == kinds.count(EventKind.RATED)
        if need.status == Status.MERGED:
            assert kinds == [EventKind.SUBMITTED, EventKind.MERGED] and need.merged_into_id is not None
            assert not NeedReporter.objects.filter(need=need).exists()
        else:
            assert NeedReporter.objects.filter(need=need).count() == need.heat
        if need.status in (Status.RESOLVED, Status.CLOSED):
            assert EventKind.RESOLVED in kinds and need.resolved_at is not None
        if need.status == Status.CLOSED:
            assert kinds[-1] == EventKind.CLOSED and need.closed_at == timeline[-1].at
        if need.accepted_at is not None:
            assert EventKind.ACCEPTED in kinds
        whistled = [e for e in timeline if e.kind == EventKind.WHISTLED]
        assert len(whistled) == need.dispatches.count()
        for dispatch in need.dispatches.all():
            own = [e.kind for e in timeline if e.data.get("dispatch") == dispatch.pk]
            expected = {"whistled": ["whistled"], "checked_in": ["whistled", "checked_in"]}.get(
                dispatch.status, ["whistled", "checked_in", "resolved"]
            )
            assert own == expected, (need.pk, own, dispatch.status)


def test_rollups_equal_recomputation(city: Any) -> None:
    assert city.rollups > 0
    root = Place.objects.get(code="tg")
    end = rates.local_day(dt.datetime.now(dt.UTC))
    for start in (end - dt.timedelta(days=365 * 2 + 2), end - dt.timedelta(days=30)):
        owners: list[dict[str, Any]] = [
            {"place": root},
            {"place": Place.objects.filter(path__startswith=root.path, kind=PlaceKind.STREET).first()},
            {"place": Place.objects.filter(path__startswith=root.path, kind=PlaceKind.GRID).last()},
            *({"department": d} for d in Department.objects.filter(place__path__startswith=root.path)),
        ]
        for owner in owners:
            assert rates.rates_for(**owner, start=start, end=end) == rates.rates_recompute(
                **owner, start=start, end=end
            ), owner
    whole = rates.rates_for(place=root, start=end - dt.timedelta(days=800), end=end)
    assert whole.received == Need.objects.filter(place_path__startswith=root.path).exclude(status="merged").count()
    assert whole.followed_up > 0 and whole.satisfaction_rate is not None


def test_existing_code_is_refused_then_reset(city: Any, english: None) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError, match="--reset"):
        call_command("gen_city", "--city-code", "tg", "--needs", "10", stdout=out)
    call_command(
        "gen_city",
        "--city-code",
        "tg",
        "--communities",
        "1",
        "--grids-per-community",
        "1",
        "--households-per-grid",
        "3",
        "--needs",
        "20",
        "--reset",
        stdout=out,
    )
    root = Place.objects.get(code="tg")
    assert Place.objects.filter(path__startswith=root.path, kind=PlaceKind.GRID).count() == 1
    assert Need.objects.filter(place_path__startswith=root.path).count() >= 20
    assert "rollup_rebuild" in out.getvalue()


def test_bench_needs_quick_runs(city: Any) -> None:
    out = io.StringIO()
    call_command("bench", "needs", "--quick", "--city-code", "tg", "--in-process", stdout=out)
    text = out.getvalue()
    for header in ("machine", "scale", "intake", "workbench", "Open311", "three rates"):
        assert header in text, header
