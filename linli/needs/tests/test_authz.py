"""Who reaches the needs pages and API (the cases of ``linli.testing.authz``)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core.access import SYSTEM
from linli.needs.capabilities import NeedCap
from linli.needs.models import Dispatch, Need, NeedReporter
from linli.people.models import Membership
from linli.testing import png_bytes
from linli.testing.authz import AuthzCases, Scoped, granted_paths


def needs_of(world: Any) -> dict[str, tuple[Any, Any, Any]]:
    """A need with a photo and a need whistled to the world's department, in each community
    (created once per world, through the services)."""
    from linli.needs.photos import PhotoUpload, photos_attach
    from linli.needs.services import need_create, need_whistle
    from linli.needs.tests.conftest import make_categories

    if not hasattr(world, "needs_made"):
        make_categories()
        made = {}
        for tag, actor in (("a", "grid_worker"), ("b", "grid_worker_b")):
            place = world.places[f"household_place_{tag}"]
            need = need_create(actor=world.users[actor], text="楼道灯坏了", place=place)
            other = need_create(actor=world.users[actor], text="家里停水了", place=place)
            [dispatch] = need_whistle(actor=world.users[actor], need=other, departments=[world.department])
            [photo] = photos_attach(need=need, uploads=[PhotoUpload(name="p.png", content=png_bytes())], actor=SYSTEM)
            made[tag] = (need, dispatch, photo)
        world.needs_made = made
    return world.needs_made


def _liaisons(user: Any) -> list[tuple[str, int]]:
    return list(
        Membership.objects.filter(person__user=user, ended_at__isnull=True, department__isnull=False).values_list(
            "place__path", "department_id"
        )
    )


def _expected_needs(user: Any) -> set[int]:
    viewable = granted_paths(user, NeedCap.VIEW_NEEDS)
    liaison = _liaisons(user)
    reported = set(NeedReporter.objects.filter(user=user).values_list("need_id", flat=True))
    dispatched = {(d.need_id, d.department_id) for d in Dispatch.objects.all()}
    return {
        n.pk
        for n in Need.objects.all()
        if any(n.place_path.startswith(p) for p in viewable)
        or n.pk in reported
        or n.submitted_by_id == user.pk
        or any(n.place_path.startswith(path) and (n.pk, dep) in dispatched for path, dep in liaison)
    }


def _expected_dispatches(user: Any) -> set[int]:
    viewable = granted_paths(user, NeedCap.VIEW_NEEDS)
    liaison = _liaisons(user)
    return {
        d.pk
        for d in Dispatch.objects.select_related("need")
        if any(d.need.place_path.startswith(p) for p in viewable)
        or any(d.need.place_path.startswith(path) and d.department_id == dep for path, dep in liaison)
    }


@pytest.mark.django_db
class TestAuthz(AuthzCases):
    public = {
        "needs:new": "the report form; the place chosen is checked by the service",
        "needs:mine": "one's own needs",
        "needs:queue": "scoped by the selector",
        "needs:dispatches": "the liaison's department's dispatches, by the selector",
        # the rates dashboard scopes by its ``place`` parameter (linli/needs/tests/test_dashboard.py)
        "needs:dashboard": "scoped by its place parameter",
        "needs:dashboard_export": "scoped by its place parameter",
        "need-list": "scoped by the selector (compared below)",
        "need-triage": "suggests categories for a text; reads no need",
        "needs:emergency": "safety advice for a text being typed; reads no need",
        "dispatch-list": "scoped by the selector (compared below)",
        "category-list": "the dispatch catalogue belongs to no place",
        "category-detail": "the dispatch catalogue belongs to no place",
    }
    open = {
        # the rating link carries its own single-use token (linli/needs/tests/test_pages.py)
        "needs:rate_by_link": "the link's token is the credential",
    }
    scoped = {
        "needs:detail": Scoped("GET", "need", wrong="volunteer"),
        "needs:act": Scoped("POST", "need", wrong="volunteer"),
        "needs:photo": Scoped("GET", "photo", wrong="volunteer"),
        "needs:qr": Scoped("GET", "building", wrong="volunteer"),
        "needs:dispatch": Scoped("GET", "dispatch", wrong="volunteer", right="department_liaison"),
        "needs:dispatch_act": Scoped("POST", "dispatch", wrong="volunteer", right="department_liaison"),
        "needs:unmask": Scoped("POST", "need", wrong="volunteer"),
        "need-detail": Scoped("GET", "need", wrong="volunteer"),
        "need-timeline": Scoped("GET", "need", wrong="volunteer"),
        "need-accept": Scoped("POST", "need", wrong="volunteer"),
        "need-categorise": Scoped("POST", "need", wrong="volunteer"),
        "need-whistle": Scoped("POST", "need", wrong="volunteer"),
        "need-resolve": Scoped("POST", "need", wrong="volunteer"),
        "need-transfer": Scoped("POST", "need", wrong="volunteer"),
        "need-merge": Scoped("POST", "need", wrong="volunteer"),
        "need-rate": Scoped("POST", "need", wrong="volunteer"),
        "need-urgency": Scoped("POST", "need", wrong="volunteer"),
        "need-unmask": Scoped("POST", "need", wrong="volunteer"),
        "dispatch-detail": Scoped("GET", "dispatch", wrong="volunteer", right="department_liaison"),
        "dispatch-checkin": Scoped("POST", "dispatch", wrong="volunteer", right="department_liaison"),
        "dispatch-resolve": Scoped("POST", "dispatch", wrong="volunteer", right="department_liaison"),
        "dispatch-return": Scoped("POST", "dispatch", wrong="volunteer", right="department_liaison"),
        "dispatch-decide": Scoped("POST", "dispatch", wrong="volunteer", right="secretary"),
    }
    lists = {"/api/needs/": _expected_needs, "/api/dispatches/": _expected_dispatches}
    unscoped_lists = {
        "/api/categories/": "the dispatch catalogue belongs to no place",
        "/api/needs/triage/": "not rows: suggestions for a text",
    }

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        need, dispatch, photo = needs_of(world)[tag]
        return {
            **super().objects(world, tag),
            "photo": {"pk": need.pk, "photo_id": photo.pk},
            "need": {"pk": need.pk, "verb": "accept"},
            "dispatch": {"pk": dispatch.pk, "verb": "checkin"},
        }
