"""The visits services: who may assign, log and decide, what is refused, and what is kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from linli.needs.models import Channel, Need, Urgency
from linli.people.models import Relation
from linli.people.services import household_create, person_create
from linli.visits import services
from linli.visits.models import CareAssignment, HouseholdCare, NightRound, Opinion, OpinionStatus, Visit, VisitPolicy
from linli.visits.services import RaiseNeed, visit_log

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def log(w: Any, user: str = "central_household", **kw: Any) -> Visit:
    kw.setdefault("household", w.household_a)
    kw.setdefault("kind", "knock")
    kw.setdefault("visited_at", w.now - H)
    kw.setdefault("now", w.now)
    return visit_log(actor=w.users[user], **kw)


def care(w: Any) -> HouseholdCare:
    return HouseholdCare.objects.get(household=w.household_a)


# --- care assignments ---------------------------------------------------------------------------


def test_reassigning_keeps_the_history(vw: Any) -> None:
    leader = vw.users["building_leader"].person
    later = vw.now + dt.timedelta(days=3)
    new = services.care_assign(
        actor=vw.users["secretary"], household=vw.household_a, carer=leader, now=later, reason="调整"
    )
    old = CareAssignment.objects.get(pk=vw.assignment.pk)
    assert old.ended_at == later and old.end_reason == "调整" and old.ended_by == vw.users["secretary"]
    assert new.carer == leader and new.ended_at is None
    assert CareAssignment.objects.filter(household=vw.household_a).count() == 2
    assert AuditEntry.objects.filter(target_type="visits.careassignment", target_id=str(new.pk)).exists()
    # assigning the current carer again changes nothing
    again = services.care_assign(actor=vw.users["secretary"], household=vw.household_a, carer=leader, now=later)
    assert again.pk == new.pk and CareAssignment.objects.filter(household=vw.household_a).count() == 2


def test_only_a_grids_carers_may_care_and_only_staff_of_the_place_assign(vw: Any) -> None:
    with pytest.raises(ValidationError, match="不是该网格的党员中心户或楼栋长"):
        services.care_assign(actor=vw.users["grid_worker"], household=vw.household_a, carer=vw.resident_a)
    with pytest.raises(PermissionDenied):
        services.care_assign(
            actor=vw.users["grid_worker_b"], household=vw.household_a, carer=vw.users["building_leader"].person
        )
    with pytest.raises(PermissionDenied):
        services.care_assign(
            actor=vw.users["central_household"], household=vw.household_a, carer=vw.users["building_leader"].person
        )
    # a carer of community A cannot care for a household of community B
    with pytest.raises(ValidationError):
        services.care_assign(actor=SYSTEM, household=vw.household_b, carer=vw.carer)


def test_one_active_carer_per_household_is_enforced_by_the_database(vw: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CareAssignment.objects.create(
            household=vw.household_a, carer=vw.users["building_leader"].person, place_path="x", started_at=vw.now
        )


def test_a_leaving_carer_hands_over_every_household(vw: Any) -> None:
    leader = vw.users["building_leader"].person
    moved = services.carer_handover(actor=vw.users["secretary"], carer=vw.carer, to=leader, reason="搬走了")
    assert moved == 1
    assert CareAssignment.objects.get(household=vw.household_a, ended_at__isnull=True).carer == leader
    assert services.carer_handover(actor=vw.users["secretary"], carer=leader, to=None, reason="退出") == 1
    assert not CareAssignment.objects.filter(household=vw.household_a, ended_at__isnull=True).exists()


# --- policies -----------------------------------------------------------------------------------


def test_the_secretary_sets_policies_and_the_defaults_are_copied_in_first(vw: Any) -> None:
    policy = services.policy_set(
        actor=vw.users["secretary"], community=vw.community_a, target="elderly_alone", interval_days=5
    )
    assert policy.interval_days == 5
    rows = dict(VisitPolicy.objects.filter(community=vw.community_a).values_list("target", "interval_days"))
    assert rows["elderly_alone"] == 5 and rows["everyone"] == 90 and len(rows) == len(services.DEFAULT_POLICIES)
    assert services.policies_of(vw.community_b) == list(services.DEFAULT_POLICIES)
    services.policy_set(
        actor=vw.users["secretary"], community=vw.community_a, target="everyone", interval_days=90, active=False
    )
    assert ("everyone", 90, False) not in services.policies_of(vw.community_a)


@pytest.mark.parametrize(
    ("target", "days", "message"),
    [
        ("elderly_alone", 0, "1到366"),
        ("elderly_alone", 400, "1到366"),
        ("martians", 7, "未知"),
        ("everyone", "x", "天数"),
    ],
)
def test_bad_policies_are_refused(vw: Any, target: str, days: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        services.policy_set(actor=vw.users["secretary"], community=vw.community_a, target=target, interval_days=days)
    assert not VisitPolicy.objects.exists()


def test_only_the_secretary_sets_policies_and_only_for_a_community(vw: Any) -> None:
    for user in ("grid_worker", "community_staff", "secretary_b"):
        with pytest.raises(PermissionDenied):
            services.policy_set(actor=vw.users[user], community=vw.community_a, target="everyone", interval_days=30)
    with pytest.raises(ValidationError, match="按社区"):
        services.policy_set(actor=vw.users["secretary"], community=vw.grid_a, target="everyone", interval_days=30)


# --- visits -------------------------------------------------------------------------------------


def test_a_carer_logs_a_visit_to_their_household(vw: Any) -> None:
    visit = log(
        vw, met_person=vw.resident_a, heard="身体还好，就是腿脚不便", tags=["policy_explained"], policy_topic="医保"
    )
    assert visit.visitor == vw.carer and visit.recorded_by == vw.users["central_household"]
    assert visit.place_path == vw.household_a.place.path and not visit.replayed
    assert care(vw).last_visit_at == vw.now - H and care(vw).last_night_visit_at is None


def test_a_household_outside_the_assignment_is_refused_clearly(vw: Any) -> None:
    with pytest.raises(PermissionDenied, match="不在您的包保范围内"):
        log(vw, user="building_leader")
    with pytest.raises(PermissionDenied, match="不在您的包保范围内"):
        log(vw, user="grid_worker_b")
    for user in ("street_official", "resident", "volunteer", "department_liaison"):
        with pytest.raises(PermissionDenied):
            log(vw, user=user)
    assert not Visit.objects.exists()


def test_staff_of_the_place_may_log_any_household_there(vw: Any) -> None:
    assert log(vw, user="grid_worker").visitor == vw.users["grid_worker"].person
    assert log(vw, user="secretary").visitor == vw.users["secretary"].person


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"visited_at": dt.datetime(2026, 6, 10, 11, 0, tzinfo=dt.UTC)}, "不能晚于现在"),
        ({"visited_at": dt.datetime(2026, 4, 1, 10, 0, tzinfo=dt.UTC)}, "60天"),
        ({"visited_at": dt.datetime(2026, 6, 10, 9, 0)}, "时区"),
        ({"kind": "party"}, "未知的走访类型"),
        ({"not_at_home": True, "refused": True}, "只能选一项"),
        ({"tags": ["opinion_heard"]}, "写下听到的内容"),
        ({"tags": ["gossip"]}, "未知的标记"),
        ({"heard": "很" * 2001}, "最多2000"),
        ({"client_key": "k" * 65}, "最长64"),
        ({"not_at_home": True, "met_other": "邻居"}, "不在家时"),
    ],
)
def test_bad_visits_are_refused_and_nothing_is_written(vw: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        log(vw, **kwargs)
    assert not Visit.objects.exists() and not Need.objects.exists()


def test_the_person_met_must_live_in_the_household(vw: Any) -> None:
    with pytest.raises(ValidationError, match="不是该户成员"):
        log(vw, met_person=vw.resident_b)


def test_a_duplicate_visit_is_refused_but_a_resend_returns_the_first(vw: Any) -> None:
    first = log(vw, client_key="phone-1")
    again = log(vw, client_key="phone-1", visited_at=vw.now - H)
    assert again.pk == first.pk and again.replayed
    with pytest.raises(ValidationError, match="30分钟内已登记过"):
        log(vw, visited_at=vw.now - H + dt.timedelta(minutes=10), client_key="phone-2")
    # another kind, or the same kind an hour apart, is another visit
    log(vw, kind="care", client_key="phone-3")
    log(vw, visited_at=vw.now - 2 * H, client_key="phone-4")
    assert Visit.objects.count() == 3


def test_coming_back_after_a_closed_door_is_not_a_duplicate(vw: Any) -> None:
    log(vw, not_at_home=True, visited_at=vw.now - H)
    log(vw, met_person=vw.resident_a, visited_at=vw.now - H + dt.timedelta(minutes=20))
    assert Visit.objects.count() == 2 and care(vw).last_visit_at == vw.now - H + dt.timedelta(minutes=20)
    with pytest.raises(ValidationError, match="30分钟内已登记过"):
        log(vw, not_at_home=True, visited_at=vw.now - H + dt.timedelta(minutes=5))


def test_visits_are_append_only(vw: Any) -> None:
    visit = log(vw)
    with pytest.raises(Exception, match="visit_append_only"), transaction.atomic():
        Visit.objects.filter(pk=visit.pk).delete()


def test_a_closed_door_is_kept_but_does_not_count(vw: Any) -> None:
    log(vw, kind="night", not_at_home=True)
    assert Visit.objects.count() == 1
    assert care(vw).last_visit_at is None


def test_the_kept_last_visit_only_moves_forward(vw: Any) -> None:
    log(vw, kind="night", visited_at=vw.now - H)
    log(vw, kind="knock", visited_at=vw.now - dt.timedelta(days=5))  # sent late from a phone queue
    kept = care(vw)
    assert kept.last_visit_at == vw.now - H and kept.last_night_visit_at == vw.now - H
    HouseholdCare.objects.update(last_visit_at=None, last_night_visit_at=None)
    services.visits_refresh_care()
    assert (care(vw).last_visit_at, care(vw).last_night_visit_at) == (kept.last_visit_at, kept.last_night_visit_at)


def test_an_opinion_heard_rolls_up_to_the_community(vw: Any) -> None:
    visit = log(vw, heard="希望小区加装电梯", tags=["opinion_heard"])
    opinion = Opinion.objects.get(visit=visit)
    assert opinion.community == vw.community_a and opinion.status == OpinionStatus.OPEN
    with pytest.raises(PermissionDenied):
        services.opinion_decide(actor=vw.users["grid_worker"], opinion=opinion, status=OpinionStatus.TOPIC)
    decided = services.opinion_decide(
        actor=vw.users["secretary"], opinion=opinion, status=OpinionStatus.TOPIC, note="下次议事会"
    )
    assert decided.status == OpinionStatus.TOPIC and decided.decided_by == vw.users["secretary"]
    with pytest.raises(ValidationError):
        services.opinion_decide(actor=vw.users["secretary"], opinion=opinion, status="lost")


def test_a_visit_raises_a_need_through_the_needs_services(vw: Any) -> None:
    visit = log(
        vw,
        kind="night",
        met_person=vw.resident_a,
        needs_help=True,
        raise_need=RaiseNeed(text="楼道的灯不亮了，老人晚上下楼看不见"),
    )
    need = Need.objects.get(pk=visit.need_id)
    assert need.channel == Channel.VISIT and need.urgency == Urgency.URGENT
    assert need.place == vw.household_a.place and need.grid == vw.grid_a
    assert need.reporters.get().person == vw.resident_a
    assert need.events.filter(kind="submitted").exists()


def test_a_refused_need_leaves_no_visit_behind(vw: Any) -> None:
    with pytest.raises(ValidationError):
        log(vw, raise_need=RaiseNeed(text="灯坏了", category_code="no-such-category"))
    assert not Visit.objects.exists() and not Need.objects.exists()
    assert not HouseholdCare.objects.exists()


def test_household_out_by_day_is_staff_business(vw: Any) -> None:
    services.household_care_set(actor=vw.users["grid_worker"], household=vw.household_a, out_by_day=True)
    assert care(vw).out_by_day
    with pytest.raises(PermissionDenied):
        services.household_care_set(actor=vw.users["central_household"], household=vw.household_a, out_by_day=False)
    assert AuditEntry.objects.filter(field="out_by_day").count() == 1


def test_a_night_round_plans_the_out_by_day_households_due(vw: Any) -> None:
    building = vw.building_a
    other = household_create(actor=SYSTEM, building=building, code="t-a-g1-b1-102", name="1单元102", floor_area=None)
    person_create(actor=SYSTEM, place=other.place, household=other, relation=Relation.HEAD, name="王大明")
    for household in (vw.household_a, other):
        services.household_care_set(actor=vw.users["grid_worker"], household=household, out_by_day=True)
    log(vw, user="grid_worker", household=other, kind="night", visited_at=vw.now - H)
    start = vw.now + dt.timedelta(hours=9)
    night = services.night_round_create(
        actor=vw.users["grid_worker"],
        place=vw.grid_a,
        starts_at=start,
        ends_at=start + 2 * H,
        members=[vw.carer],
        now=vw.now,
    )
    assert list(night.households.all()) == [vw.household_a]  # the other one had its night visit
    visit = log(vw, kind="night", visited_at=start + H, now=start + 2 * H)
    assert visit.night_round == night
    with pytest.raises(ValidationError, match="晚于开始"):
        services.night_round_create(
            actor=vw.users["grid_worker"], place=vw.grid_a, starts_at=start, ends_at=start, members=[vw.carer]
        )
    with pytest.raises(PermissionDenied):
        services.night_round_create(
            actor=vw.users["grid_worker_b"], place=vw.grid_a, starts_at=start, ends_at=start + H, members=[vw.carer]
        )
    assert NightRound.objects.count() == 1


def test_logging_takes_a_bounded_number_of_queries(vw: Any, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(20):
        log(vw, met_person=vw.resident_a, heard="挺好", tags=["opinion_heard"], client_key="q-1")


def test_a_logged_visit_is_on_the_audit_trail_without_what_was_heard(vw: Any) -> None:
    visit = log(vw, met_person=vw.resident_a, heard="家里老人腿脚不便", tags=["opinion_heard"], client_key="a-1")
    entry = AuditEntry.objects.get(target_type="visits.visit", target_id=str(visit.pk))
    assert entry.action == AuditEntry.Action.CREATE and entry.actor == vw.users["central_household"]
    assert entry.place_path == visit.household.place.path
    assert entry.changes["tags"] == ["opinion_heard"] and entry.changes["met_person"] == vw.resident_a.pk
    assert "腿脚" not in str(entry.changes) and "腿脚" not in entry.target_label
    # the phone sending the same visit again writes nothing more
    log(vw, met_person=vw.resident_a, heard="家里老人腿脚不便", tags=["opinion_heard"], client_key="a-1")
    assert AuditEntry.objects.filter(target_type="visits.visit").count() == 1
