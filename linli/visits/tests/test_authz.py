"""Who reaches the visits pages and API (the cases of ``linli.testing.authz``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from linli.core.access import SYSTEM, Role
from linli.people.models import Person
from linli.testing import make_user, png_bytes
from linli.testing.authz import AuthzCases, Scoped, granted_paths
from linli.visits.capabilities import VisitCap
from linli.visits.models import CareAssignment, Visit


def visits_of(world: Any) -> dict[str, dict[str, Any]]:
    """A carer's assignment, a visit with a photo and an opinion heard, and a night round in each
    community (created once per world, through the services)."""
    from linli.core.photos import PhotoUpload
    from linli.visits.services import care_assign, night_round_create, visit_log

    if not hasattr(world, "visits_made"):
        made = {}
        now = timezone.now()
        for tag, staff in (("a", "grid_worker"), ("b", "grid_worker_b")):
            carer = make_user(f"authz_carer_{tag}", Role.CENTRAL_HOUSEHOLD, world.places[f"building_{tag}"]).person
            household = world.households[f"household_{tag}"]
            assignment = care_assign(actor=SYSTEM, household=household, carer=carer, now=now)
            visit = visit_log(
                actor=world.users[staff],
                household=household,
                kind="care",
                heard="希望加装电梯",
                tags=["opinion_heard"],
                photo=PhotoUpload(name="p.png", content=png_bytes()),
                now=now,
            )
            night = night_round_create(
                actor=SYSTEM,
                place=world.places[f"grid_{tag}"],
                starts_at=now + dt.timedelta(hours=1),
                ends_at=now + dt.timedelta(hours=3),
                members=[carer],
            )
            local = timezone.localtime(now)
            ledger = {"code": world.places[f"community_{tag}"].code, "year": local.year, "month": local.month}
            made[tag] = {"assignment": assignment, "visit": visit, "night": night, "ledger": ledger}
        world.visits_made = made
    return world.visits_made


def _expected_visits(user: Any) -> set[int]:
    readable = granted_paths(user, VisitCap.VIEW_VISITS)
    person = Person.objects.filter(user=user).first()
    cared = set(
        CareAssignment.objects.filter(carer=person, ended_at__isnull=True).values_list("household_id", flat=True)
    )
    return {
        v.pk
        for v in Visit.objects.all()
        if any(v.place_path.startswith(p) for p in readable)
        or v.household_id in cared
        or (person and v.visitor_id == person.pk)
    }


@pytest.mark.django_db
class TestAuthz(AuthzCases):
    public = {
        "visits:home": "the carer's own households, or a redirect to the reader's coverage page",
        "visits:log": "the doorstep page lists only what the reader may log",
        "visits:pick": "the household search lists only what the reader may log",
        "visits:recent": "the reader's own latest visits (a fragment of the doorstep page)",
        "visit-list": "scoped by the selector (compared below)",
        "visit-coverage": "scoped by the selector (linli/visits/tests/test_api.py)",
    }
    scoped = {
        "visits:coverage": Scoped("GET", "place", wrong="volunteer"),
        "visits:household": Scoped("GET", "household", wrong="volunteer"),
        "visits:household_out_by_day": Scoped("POST", "household", wrong="volunteer"),
        "visits:household_assign": Scoped("POST", "household", wrong="volunteer"),
        "visits:care": Scoped("GET", "place", wrong="volunteer"),
        "visits:care_handover": Scoped("POST", "place", wrong="volunteer"),
        "visits:care_import": Scoped("POST", "place", wrong="volunteer"),
        "visits:care_export": Scoped("GET", "place", wrong="volunteer"),
        "visits:care_end": Scoped("POST", "assignment", wrong="volunteer"),
        "visits:policies": Scoped("GET", "place", wrong="volunteer"),
        "visits:policy_set": Scoped("POST", "place", wrong="grid_worker", right="secretary"),
        "visits:nights": Scoped("GET", "place", wrong="volunteer"),
        "visits:night_create": Scoped("POST", "place", wrong="volunteer"),
        "visits:night": Scoped("GET", "night", wrong="volunteer"),
        "visits:opinions": Scoped("GET", "place", wrong="volunteer"),
        "visits:opinion_decide": Scoped("POST", "opinion", wrong="grid_worker", right="secretary"),
        "visits:photo": Scoped("GET", "visit", wrong="volunteer"),
        "visits:ledger": Scoped("GET", "ledger", wrong="street_official", right="secretary"),
        "visit-detail": Scoped("GET", "visit", wrong="volunteer"),
        "visit-unmask": Scoped("POST", "visit", wrong="volunteer"),
    }
    lists = {"/api/visits/": _expected_visits}
    unscoped_lists = {"/api/visits/coverage/": "not rows: totals scoped by the selector"}

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        made = visits_of(world)[tag]
        return {
            **super().objects(world, tag),
            "assignment": {"pk": made["assignment"].pk},
            "visit": {"pk": made["visit"].pk},
            "opinion": {"pk": made["visit"].opinion.pk},
            "night": {"pk": made["night"].pk},
            "ledger": {**made["ledger"], "fmt": "xlsx"},
        }

    def populate(self, world: Any) -> None:
        """The carers' visits, and one more household in the care of the demo's carer account."""
        from linli.visits.services import care_assign

        visits_of(world)
        care_assign(actor=SYSTEM, household=world.household_a, carer=world.users["central_household"].person)
