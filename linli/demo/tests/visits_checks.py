"""The demo's visits: carers with their households, months of history, overdue and never-visited
households, the ``partyhead`` account's own households, opinions heard and night rounds.

Checked by ``test_loader.test_demo_content`` on the demo it loads, so that the suite loads the
demo no more often for visits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Count
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from linli.accounts.models import User
from linli.core.access import SYSTEM
from linli.demo.loader import DemoSummary
from linli.needs.models import Need
from linli.places.models import Place, PlaceKind
from linli.visits import selectors
from linli.visits.demo import COUNT_LABELS
from linli.visits.models import CareAssignment, NightRound, Opinion, Visit, VisitKind, VisitPolicy, VisitTag


def demo_visits_hold(demo: DemoSummary) -> None:
    now = timezone.now()
    _carers_have_households()
    _months_of_history(now)
    _some_overdue_and_some_never_visited(demo, now)
    _the_tour_carer_sees_its_households(now)
    _opinions_policies_and_needs()
    _night_rounds()
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert {key for key, _label in COUNT_LABELS} <= set(demo.seeds["visits"])


def _carers_have_households() -> None:
    per_carer = Counter(CareAssignment.objects.filter(ended_at__isnull=True).values_list("carer_id", flat=True))
    assert len(per_carer) >= 200
    assert 8 <= sum(per_carer.values()) / len(per_carer) <= 12  # about ten households each
    # every grid of every demo community has carers
    grids = Place.objects.filter(kind=PlaceKind.GRID).values_list("path", flat=True)
    cared = {path[:20] for path in CareAssignment.objects.values_list("place_path", flat=True)}
    assert set(grids) <= cared
    # a handover kept the history of who cared for whom
    assert CareAssignment.objects.filter(ended_at__isnull=False).exclude(end_reason="").exists()
    # the secretary of 常二 visits the elderly alone every five days; 林峰 visits at night
    assert VisitPolicy.objects.get(community__code="hanxing-changer", target="elderly_alone").interval_days == 5
    assert VisitPolicy.objects.get(community__code="linfeng", target="out_by_day").night_only


def _months_of_history(now: dt.datetime) -> None:
    oldest = Visit.objects.order_by("visited_at").first()
    assert oldest is not None and oldest.visited_at <= now - dt.timedelta(days=90)
    assert not Visit.objects.filter(visited_at__gt=now).exists()
    kinds = Counter(Visit.objects.values_list("kind", flat=True))
    assert {VisitKind.KNOCK, VisitKind.CARE, VisitKind.NIGHT, VisitKind.FESTIVAL} <= set(kinds)
    assert Visit.objects.filter(not_at_home=True).exists()
    # night visits are in the evening (Beijing time)
    for visit in Visit.objects.filter(kind=VisitKind.NIGHT)[:50]:
        assert 19 <= timezone.localtime(visit.visited_at).hour <= 22
    # the recent weeks of 常二 went through visit_log, recorded after they happened
    logged = Visit.objects.filter(place_path__startswith=Place.objects.get(code="hanxing-changer").path)
    assert logged.filter(visited_at__gte=now - dt.timedelta(days=14)).exists()
    assert all(v.recorded_at >= v.visited_at for v in logged.order_by("-visited_at")[:100])


def _some_overdue_and_some_never_visited(summary: DemoSummary, now: dt.datetime) -> None:
    rows = selectors.coverage_rows(actor=SYSTEM, now=now)
    statuses = Counter(r.status for r in rows)
    assert statuses["never"] >= 5 and statuses["overdue"] >= 20
    assert statuses["ok"] > len(rows) / 2  # most carers keep up
    assert (
        summary.seeds["visits"]["never"] == statuses["never"]
        and summary.seeds["visits"]["overdue"] == statuses["overdue"]
    )
    # vulnerable households come first in the list, and some of them are overdue
    assert any(r.vulnerable for r in rows if r.status == "overdue")
    # the street can compare its communities
    street = Place.objects.get(code="hanxing")
    summary = selectors.coverage_summary(actor=SYSTEM, place=street, by="child", now=now)
    assert len(summary) == 20 and all(s.households and s.visited_in_period for s in summary)


def _the_tour_carer_sees_its_households(now: dt.datetime) -> None:
    partyhead = User.objects.get(username="partyhead")
    rows = selectors.coverage_rows(actor=partyhead, now=now)
    assert 6 <= len(rows) <= 12
    assert {r.carer_name for r in rows} == {partyhead.person.name}
    statuses = {r.status for r in rows}
    assert {"never", "overdue", "ok"} <= statuses
    assert any("elderly_alone" in r.vulnerabilities for r in rows)
    assert any(r.out_by_day and r.status in ("overdue", "due_soon") for r in rows)
    # the doorstep page lists exactly those households; the leader has the rest of the building
    assert {h.pk for h in selectors.loggable_households(actor=partyhead)} == {r.household_id for r in rows}
    leader = selectors.coverage_rows(actor=User.objects.get(username="leader"), now=now)
    assert leader and not {r.household_id for r in leader} & {r.household_id for r in rows}
    # the grid worker sees the carers' households of the grid
    grid = selectors.coverage_rows(actor=User.objects.get(username="grid"), now=now)
    assert {r.household_id for r in rows} <= {r.household_id for r in grid}


def _opinions_policies_and_needs() -> None:
    assert Opinion.objects.count() >= 100
    by_status = Counter(Opinion.objects.values_list("status", flat=True))
    assert {"open", "topic", "closed"} <= set(by_status)
    # opinions were heard when the visit was logged, and come from the visit's notes
    sample = Opinion.objects.select_related("visit")[:50]
    assert all(o.created_at == o.visit.recorded_at and o.text == o.visit.heard for o in sample)
    secretary = User.objects.get(username="secretary")
    assert selectors.opinion_list(actor=secretary).exists()
    assert Visit.objects.filter(tags__contains=[VisitTag.POLICY_EXPLAINED]).exclude(policy_topic="").exists()
    raised = Need.objects.filter(visits__isnull=False, channel="visit")
    assert raised.exists()
    assert Need.objects.filter(visits__visitor__user__username="partyhead").exists()


def _night_rounds() -> None:
    rounds = NightRound.objects.annotate(n=Count("households"))
    assert rounds.filter(place__code="linfeng-g4", n__gt=0).count() >= 3
    assert rounds.filter(place__code="hanxing-changer-g1", starts_at__gt=timezone.now()).exists()
    assert Visit.objects.filter(night_round__isnull=False, kind=VisitKind.NIGHT).exists()
    assert NightRound.objects.filter(members__name="何兆品").exists()  # the courtyard party group's leader
