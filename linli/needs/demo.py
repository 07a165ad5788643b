"""Demo needs: the catalogue, the holiday calendar, a trained classifier, the demo API client,
and a few hundred needs in every state, built through the needs services with simulated
clocks over the last four months, so that their timelines, deadlines and rates are real.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.api_keys import api_client_register
from linli.accounts.models import User
from linli.core.access import SYSTEM, under
from linli.core.data import read_data
from linli.core.errors import Conflict
from linli.core.notify import drop_pending
from linli.needs import services
from linli.needs.catalogue import DEFAULT_CATALOGUE, catalogue_load_defaults
from linli.needs.models import Channel, Need, NeedEvent, Status, TriageModel, Urgency
from linli.needs.selectors import departments_in_reach
from linli.needs.triage import triage_train
from linli.people.models import Department, Person
from linli.places.models import Place, PlaceKind
from linli.workdays.services import calendar_seed

DATA = read_data("linli.needs", "demo")
DEMO_API_KEY: str = DATA["api_key"]
#: Communities whose residents raise needs in the demo, with how many each.
NEED_COMMUNITIES: tuple[tuple[str, int], ...] = tuple((code, int(n)) for code, n in DATA["communities"])
DAYS_BACK: int = DATA["days_back"]
#: The append-only triggers that ``reset_demo`` suspends while it removes the demo's needs.
TRIGGERS = ("needs.NeedEvent:need_event_append_only",)


def _departments_for(kind: str, place: Place) -> list[Department]:
    return list(departments_in_reach(place_path=place.path).filter(kind=kind))


def _staff_for(community_code: str) -> dict[str, Any]:
    """The accounts that act in the demo's history: in 常二 the demo accounts themselves; in
    other communities the system (``SYSTEM``), as if by their own staff."""
    users = {u.username: u for u in User.objects.filter(username__in=["grid", "staff", "secretary", "liaison"])}
    if community_code == "hanxing-changer":
        g1 = Place.objects.filter(code="hanxing-changer-g1").first()
        return {
            "grid": users.get("grid", SYSTEM),
            "grid_path": g1.path if g1 else "-",
            "staff": users.get("staff", SYSTEM),
            "secretary": users.get("secretary", SYSTEM),
            "liaison": users.get("liaison", SYSTEM),
        }
    return {"grid": SYSTEM, "grid_path": "-", "staff": SYSTEM, "secretary": SYSTEM, "liaison": SYSTEM}


class _History:
    """One need's life on a simulated clock that never passes the real now."""

    def __init__(self, start: dt.datetime, rng: random.Random, real_now: dt.datetime) -> None:
        self.t, self.rng, self.real_now = start, rng, real_now

    def later(self, low_hours: float, high_hours: float) -> dt.datetime | None:
        t = self.t + dt.timedelta(hours=self.rng.uniform(low_hours, high_hours))
        if t >= self.real_now - dt.timedelta(minutes=5):
            return None
        self.t = t
        return t


def steps(paths: list[str]) -> int:
    """How many progress steps ``load`` takes."""
    return 1 + len(NEED_COMMUNITIES)


def load(*, paths: list[str], step: Callable[[str], None], seed: int = 20261128) -> None:
    """Catalogue, calendar, classifier, API client and needs (inside the demo's transaction,
    after the places, people, departments and accounts exist)."""
    rng = random.Random(seed)
    step(_("派单目录、节假日、分类模型"))
    catalogue_load_defaults()
    calendar_seed()
    if not TriageModel.objects.filter(active=True).exists():  # a reload keeps the classifier it has
        triage_train(note=DATA["classifier_note"], cross_validate=False)
    district = User.objects.filter(username="district").first()
    if district is not None:
        api_client_register(actor=SYSTEM, name=DATA["api_client"], user=district, key=DEMO_API_KEY)
    real_now = timezone.now()
    examples = {entry.code: list(entry.examples) for entry in DEFAULT_CATALOGUE if entry.examples}
    codes = sorted(examples)
    resident = User.objects.filter(username="resident").select_related("person").first()
    for community_code, count in NEED_COMMUNITIES:
        community = Place.objects.filter(under(paths, "path"), code=community_code).first()
        if community is None:
            continue
        step(_("诉求 · %(community)s") % {"community": community.name})
        households = list(
            Place.objects.filter(path__startswith=community.path, kind=PlaceKind.HOUSEHOLD).order_by("path")[:400]
        )
        people = list(Person.objects.filter(place__in=households).exclude(phone="").order_by("id")[:400])
        staff = _staff_for(community_code)
        for i in range(count):
            reporter = rng.choice(people) if people else None
            if community_code == "hanxing-changer" and i < 5 and resident is not None:
                reporter = getattr(resident, "person", None)
            code = rng.choice(codes)
            text = rng.choice(examples[code])
            if rng.random() < 0.4:
                text = f"{rng.choice(DATA['places_in_text'])}{text}"
            age_days = rng.triangular(0, DAYS_BACK, 5)
            start = real_now - dt.timedelta(days=age_days, hours=rng.uniform(0, 10))
            _one_need(
                rng=rng,
                history=_History(start, rng, real_now),
                text=text,
                place=reporter.place if reporter is not None else rng.choice(households),
                reporter=reporter,
                staff=staff,
                age_days=age_days,
                own_resident=community_code == "hanxing-changer" and i < 5,
                index=i,
            )
    # the history is simulated: its notifications were due months ago, so none is sent now
    drop_pending("needs.")


def labels() -> list[tuple[str, str]]:
    """(key, label) of the counts the demo's summary prints: the needs by status."""
    return [(status, _("诉求·%(status)s") % {"status": label}) for status, label in Status.choices]


def notes() -> list[str]:
    """Lines the demo prints after its summary."""
    return [_("12345 演示客户端的接口密钥(Open311、分类):") + f" [bold]{DEMO_API_KEY}[/bold]"]


def counts(paths: list[str]) -> dict[str, int]:
    """The demo's needs under ``paths`` by status."""
    rows = Need.objects.filter(under(paths)).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def purge(paths: list[str]) -> list[QuerySet[Any]]:
    """What ``reset_demo`` deletes for the needs, in order (the API client goes with its account)."""
    return [NeedEvent.objects.filter(under(paths)), Need.objects.filter(under(paths))]


def _one_need(
    *,
    rng: random.Random,
    history: _History,
    text: str,
    place: Place,
    reporter: Person | None,
    staff: dict[str, Any],
    age_days: float,
    own_resident: bool,
    index: int,
) -> None:
    grid, liaison = staff["staff"], staff["liaison"]
    urgency = Urgency.EMERGENCY if rng.random() < 0.03 else (Urgency.URGENT if rng.random() < 0.1 else Urgency.NORMAL)
    channel = rng.choices(
        [Channel.RESIDENT, Channel.QR, Channel.STAFF, Channel.VISIT, Channel.PATROL, Channel.MEETING],
        weights=[50, 15, 12, 12, 8, 3],
    )[0]
    need = services.need_create(
        actor=SYSTEM,
        text=text,
        place=place,
        channel=channel,
        urgency=urgency,
        reporter=services.Reporter(person=reporter) if reporter is not None else None,
        now=history.t,
    )
    # the resident's own needs show one of each state in the tour
    if own_resident:
        target = ["submitted", "accepted", "whistled", "resolved", "closed"][index % 5]
    elif rng.random() < 0.05:
        target = "submitted"  # never looked at: overdue by now unless very recent
    elif age_days < 3:
        target = rng.choice(["submitted", "submitted", "accepted", "whistled", "merged"])
    elif age_days < 12:
        target = rng.choice(["submitted", "accepted", "whistled", "whistled", "resolved", "closed", "merged"])
    else:
        target = rng.choices(["closed", "resolved", "whistled", "accepted"], weights=[85, 5, 5, 5])[0]
    if staff["grid"] is not SYSTEM and need.place_path.startswith(staff["grid_path"]):
        grid = staff["grid"]  # the demo grid worker handles the needs of their own grid
    if target == "submitted":
        return
    if target == "merged":
        other = (
            Need.objects.filter(place_path__startswith=need.place_path[:16], status="submitted")
            .exclude(pk=need.pk)
            .first()
        )
        if other is not None:
            with contextlib.suppress(Conflict):  # the other need moved on meanwhile
                services.need_merge(
                    actor=staff["staff"], duplicate=need, into=other, now=history.later(1, 6) or history.t
                )
        return
    t = history.later(0.2, 20)
    if t is None:
        return
    category = need.category
    whistle = target == "whistled" or (
        category is not None and category.department_kind and target in ("resolved", "closed") and rng.random() < 0.7
    )
    if whistle and category is not None and category.department_kind:
        departments = _departments_for(category.department_kind, need.place)[:1]
        if not departments:
            departments = _departments_for("property", need.place)[:1]
    else:
        departments = []
    if departments:
        [dispatch] = services.need_whistle(actor=grid, need=need, departments=departments, now=t)
        if target == "whistled":
            if rng.random() < 0.6 and (t := history.later(1, 30)) is not None:
                services.dispatch_checkin(
                    actor=liaison if _serves(liaison, dispatch) else SYSTEM, dispatch=dispatch, now=t
                )
            return
        if (t := history.later(1, 26)) is None:
            return
        services.dispatch_checkin(actor=liaison if _serves(liaison, dispatch) else SYSTEM, dispatch=dispatch, now=t)
        if (t := history.later(4, 24 * 6)) is None:
            return
        services.dispatch_resolve(
            actor=liaison if _serves(liaison, dispatch) else SYSTEM,
            dispatch=dispatch,
            result=rng.choice(DATA["department_results"]),
            now=t,
        )
    else:
        services.need_accept(actor=grid, need=need, now=t)
        if target == "accepted":
            return
        if (t := history.later(2, 24 * 5)) is None:
            return
        services.need_resolve(
            actor=grid,
            need=need,
            result=rng.choice(DATA["grid_results"]),
            now=t,
        )
    if target == "resolved":
        return
    for rep in list(need.reporters.all()):
        if (t := history.later(2, 60)) is None:
            return
        satisfaction = rng.choices(["satisfied", "basic", "unsatisfied"], weights=[78, 16, 6])[0]
        services.need_rate(
            actor=SYSTEM,
            need=need,
            reporter=rep,
            resolved=satisfaction != "unsatisfied",
            satisfaction=satisfaction,
            comment="" if satisfaction != "unsatisfied" else DATA["unsatisfied_comment"],
            channel=rng.choice(["sms", "app", "phone"]) if rep.phone else "phone",
            now=t,
        )
    need.refresh_from_db()
    if need.status == "accepted" and (t := history.later(4, 72)) is not None:  # reopened: a second try
        services.need_resolve(actor=grid, need=need, result=DATA["second_try_result"], now=t)
        if (t := history.later(2, 48)) is not None:
            for rep in need.reporters.all():
                services.need_rate(
                    actor=SYSTEM, need=need, reporter=rep, resolved=True, satisfaction="basic", channel="phone", now=t
                )


def _serves(user: Any, dispatch: Any) -> bool:
    if user is SYSTEM:
        return False
    return bool(
        user.person.memberships.filter(department_id=dispatch.department_id, ended_at__isnull=True).exists()
        if hasattr(user, "person")
        else False
    )
