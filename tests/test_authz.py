"""Authorisation over the whole URL conf: every named URL is found automatically and checked
for the anonymous case, the wrong-role case and the other-place case (NetBox's
``ViewTestCases``). A new URL fails here until it is either public or place-scoped below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from linli.core.access import SYSTEM
from linli.people.models import Membership
from linli.testing import sign_in

# URL names that need no place scope: sign-in pages, health, preferences, the API schema.
# Open311 authenticates by api_key and scopes by the client's account (linli/open311/tests).
PUBLIC_PREFIXES = ("account_", "mfa_", "admin:", "usersessions", "open311:")
PUBLIC = {
    "healthz",
    "set_language",
    "javascript_catalog",
    "large_type",
    "schema",
    "api_docs",
    "api-root",
    "home",
    "places:index",
    "people:index",
    "people:profile",
    "place-list",
    "person-list",
    "household-list",
    "department-list",
    "membership-list",
    "places:import",
    "people:audit",
    "department-detail",
    # needs: lists and forms scoped by the selectors themselves; the catalogue; the rating
    # link carries its own signed token (tested in linli/needs/tests/test_pages.py)
    "needs:new",
    "needs:mine",
    "needs:queue",
    "needs:dispatches",
    "needs:rate_by_link",
    # the rates dashboard scopes by its ``place`` query parameter (linli/needs/tests/test_dashboard.py)
    "needs:dashboard",
    "needs:dashboard_export",
    "need-list",
    "need-triage",
    "dispatch-list",
    "category-list",
    "category-detail",
    # visits: the carer's own households, or a redirect to the actor's coverage page
    "visits:home",
    # the doorstep page and its household search list only what the actor may log; the API's
    # list and coverage scope by their selectors (linli/visits/tests/test_api.py)
    "visits:log",
    "visits:pick",
    "visit-list",
    "visit-coverage",
    # a large import's progress: only the person who sent the file (tests/test_imports.py)
    "import_job",
}


@dataclass
class Case:
    name: str
    kwargs: dict[str, Any]
    method: str
    wrong_role: str  # a user in the same place whose role lacks the capability
    object_kwargs_for: str  # which world object the kwargs name


def iter_named(resolver: URLResolver, namespace: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.extend(iter_named(entry, ns))
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((namespace + entry.name, entry))
    return found


def kwarg_names(pattern: URLPattern) -> set[str]:
    regex = pattern.pattern.regex
    return set(regex.groupindex)


# How to fill the kwargs of place-scoped URLs with objects from community B, and which
# role in community A lacks the capability the URL needs.
SCOPED: dict[str, tuple[str, str, str]] = {
    # name: (method, object, wrong role)
    "places:detail": ("GET", "place", "outsider"),
    "places:export": ("GET", "place", "grid_worker"),
    "people:person": ("GET", "person", "volunteer"),
    "people:person_unmask": ("POST", "person", "building_leader"),
    "people:household": ("GET", "household", "volunteer"),
    "people:place_memberships": ("GET", "place", "volunteer"),
    "people:membership_revoke": ("POST", "membership", "grid_worker"),
    "place-detail": ("GET", "place", "outsider"),
    "person-detail": ("GET", "person", "volunteer"),
    "person-unmask": ("POST", "person", "building_leader"),
    "household-detail": ("GET", "household", "volunteer"),
    "membership-detail": ("GET", "membership", "volunteer"),
    "needs:detail": ("GET", "need", "volunteer"),
    "needs:act": ("POST", "need", "volunteer"),
    "needs:photo": ("GET", "photo", "volunteer"),
    "needs:qr": ("GET", "building", "volunteer"),
    "needs:dispatch_act": ("POST", "dispatch", "volunteer"),
    "need-detail": ("GET", "need", "volunteer"),
    "need-timeline": ("GET", "need", "volunteer"),
    "need-accept": ("POST", "need", "volunteer"),
    "need-categorise": ("POST", "need", "volunteer"),
    "need-whistle": ("POST", "need", "volunteer"),
    "need-resolve": ("POST", "need", "volunteer"),
    "need-transfer": ("POST", "need", "volunteer"),
    "need-merge": ("POST", "need", "volunteer"),
    "need-rate": ("POST", "need", "volunteer"),
    "need-unmask": ("POST", "need", "volunteer"),
    "needs:unmask": ("POST", "need", "volunteer"),
    "dispatch-detail": ("GET", "dispatch", "volunteer"),
    "dispatch-checkin": ("POST", "dispatch", "volunteer"),
    "dispatch-resolve": ("POST", "dispatch", "volunteer"),
    "dispatch-return": ("POST", "dispatch", "volunteer"),
    "dispatch-decide": ("POST", "dispatch", "volunteer"),
    "visits:coverage": ("GET", "place", "volunteer"),
    "visits:household": ("GET", "household", "volunteer"),
    "visits:household_out_by_day": ("POST", "household", "volunteer"),
    "visits:household_assign": ("POST", "household", "volunteer"),
    "visits:care": ("GET", "place", "volunteer"),
    "visits:care_handover": ("POST", "place", "volunteer"),
    "visits:care_import": ("POST", "place", "volunteer"),
    "visits:care_export": ("GET", "place", "volunteer"),
    "visits:care_end": ("POST", "assignment", "volunteer"),
    "visits:policies": ("GET", "place", "volunteer"),
    "visits:policy_set": ("POST", "place", "grid_worker"),
    "visits:nights": ("GET", "place", "volunteer"),
    "visits:night_create": ("POST", "place", "volunteer"),
    "visits:night": ("GET", "night", "volunteer"),
    "visits:opinions": ("GET", "place", "volunteer"),
    "visits:opinion_decide": ("POST", "opinion", "grid_worker"),
    "visits:photo": ("GET", "visit", "volunteer"),
    "visit-detail": ("GET", "visit", "volunteer"),
    "visit-unmask": ("POST", "visit", "volunteer"),
    "visits:ledger": ("GET", "ledger", "street_official"),
}

#: Who reaches an object of each kind in community A (the positive control); default grid worker.
RIGHT_USER = {"membership": "secretary", "dispatch": "department_liaison"}
RIGHT_USER_BY_NAME = {
    "dispatch-decide": "secretary",
    "visits:policy_set": "secretary",
    "visits:opinion_decide": "secretary",
    "visits:ledger": "secretary",
}


def _needs_of(world: Any) -> dict[str, Any]:
    """A need and a dispatch in each community (created once per world, through the services)."""
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
            [photo] = photos_attach(need=need, uploads=[PhotoUpload(name="p.png", content=_png())], actor=SYSTEM)
            made[tag] = (need, dispatch, photo)
        world.needs_made = made
    return world.needs_made


def _visits_of(world: Any) -> dict[str, Any]:
    """A carer's assignment, a visit with a photo and an opinion heard, and a night round in each
    community (created once per world, through the services)."""
    import datetime as dt

    from django.utils import timezone

    from linli.core.access import Role
    from linli.needs.photos import PhotoUpload
    from linli.testing import make_user
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
                photo=PhotoUpload(name="p.png", content=_png()),
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
            made[tag] = {
                "assignment": assignment,
                "visit": visit,
                "opinion": visit.opinion,
                "night": night,
                "ledger": ledger,
            }
        world.visits_made = made
    return world.visits_made


def _visit_objects(world: Any, tag: str) -> dict[str, dict[str, Any]]:
    made = _visits_of(world)[tag]
    return {
        "assignment": {"pk": made["assignment"].pk},
        "visit": {"pk": made["visit"].pk},
        "opinion": {"pk": made["opinion"].pk},
        "night": {"pk": made["night"].pk},
        "ledger": {**made["ledger"], "fmt": "xlsx"},
    }


def all_urls() -> list[tuple[str, URLPattern]]:
    return [
        (name, p)
        for name, p in iter_named(get_resolver())
        if not name.endswith("-format") and "format" not in kwarg_names(p)
    ]


def test_every_url_is_classified() -> None:
    unclassified = sorted(
        name
        for name, _ in all_urls()
        if name not in PUBLIC and name not in SCOPED and not name.startswith(PUBLIC_PREFIXES)
    )
    assert not unclassified, f"classify these URLs in tests/test_authz.py (public or scoped): {unclassified}"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def _objects(world: Any) -> dict[str, dict[str, Any]]:
    membership_b = Membership.objects.get(person__user=world.users["grid_worker_b"])
    need_b, dispatch_b, photo_b = _needs_of(world)["b"]
    return {
        "photo": {"pk": need_b.pk, "photo_id": photo_b.pk},
        "need": {"pk": need_b.pk, "verb": "accept"},
        "dispatch": {"pk": dispatch_b.pk, "verb": "checkin"},
        "building": {"code": world.building_b.code},
        "place": {"code": world.grid_b.code},
        "person": {"pk": world.resident_b.pk},
        "household": {"pk": world.household_b.pk},
        "membership": {"pk": membership_b.pk},
        **_visit_objects(world, "b"),
    }


def _own_objects(world: Any, *, membership_of: str) -> dict[str, dict[str, Any]]:
    """Objects in community A (the actors' own place) for each kind of URL."""
    need_a, dispatch_a, photo_a = _needs_of(world)["a"]
    return {
        "photo": {"pk": need_a.pk, "photo_id": photo_a.pk},
        "need": {"pk": need_a.pk, "verb": "accept"},
        "dispatch": {"pk": dispatch_a.pk, "verb": "checkin"},
        "building": {"code": world.building_a.code},
        "place": {"code": world.grid_a.code},
        "person": {"pk": world.resident_a.pk},
        "household": {"pk": world.household_a.pk},
        "membership": {"pk": Membership.objects.get(person__user=world.users[membership_of]).pk},
        **_visit_objects(world, "a"),
    }


def _url(name: str, pattern: URLPattern, objects: dict[str, Any], which: str) -> str:
    values = objects[which]
    names = kwarg_names(pattern)
    kwargs = {k: values.get(k, values.get("pk")) for k in names}
    return reverse(name, kwargs=kwargs)


def _call(client: Any, method: str, url: str) -> Any:
    if method == "POST":
        return client.post(url, {"field": "phone", "reason": "测试理由"})
    return client.get(url)


def _is_api(name: str) -> bool:
    return "-" in name and ":" not in name


@pytest.mark.django_db
def test_anonymous_is_turned_away_everywhere(client: Any, world: Any) -> None:
    objects = _objects(world)
    for name, pattern in all_urls():
        if name in SCOPED:
            method, which, _ = SCOPED[name]
            url = _url(name, pattern, objects, which)
        elif name in PUBLIC and not kwarg_names(pattern):
            method, url = "GET", reverse(name)
            if name in {"healthz", "set_language", "javascript_catalog", "large_type", "schema", "api_docs"}:
                continue
        else:
            continue
        response = _call(client, method, url)
        if _is_api(name):
            assert response.status_code in (401, 403), (name, response.status_code)
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], (
                name,
                response.status_code,
            )


@pytest.mark.django_db
def test_other_place_gets_404(client: Any, world: Any) -> None:
    """Staff of community A asking for community B's objects: not found (no existence leak)."""
    objects = _objects(world)
    for actor in ("grid_worker", "secretary", "community_staff"):
        sign_in(client, world.users[actor])
        _pass_mfa(client)
        for name, pattern in all_urls():
            if name not in SCOPED:
                continue
            method, which, _ = SCOPED[name]
            response = _call(client, method, _url(name, pattern, objects, which))
            assert response.status_code == 404, (actor, name, response.status_code)


@pytest.mark.django_db
def test_wrong_role_is_refused(client: Any, world: Any) -> None:
    """A role without the capability, at the same place: 403 or 404, never the data."""
    from linli.core.access import Role
    from linli.testing import make_user

    outsider = make_user("outsider", Role.RESIDENT, world.household_place_b)
    own = _own_objects(world, membership_of="grid_worker")
    for name, pattern in all_urls():
        if name not in SCOPED:
            continue
        method, which, wrong = SCOPED[name]
        user = outsider if wrong == "outsider" else world.users[wrong]
        sign_in(client, user)
        _pass_mfa(client)
        response = _call(client, method, _url(name, pattern, own, which))
        assert response.status_code in (403, 404), (name, wrong, response.status_code)


@pytest.mark.django_db
def test_right_role_gets_through(client: Any, world: Any) -> None:
    """The positive control: the grid worker (secretary for role pages) of A reaches A's objects."""
    own = _own_objects(world, membership_of="volunteer")
    for name, pattern in all_urls():
        if name not in SCOPED:
            continue
        method, which, _ = SCOPED[name]
        user = world.users[RIGHT_USER_BY_NAME.get(name) or RIGHT_USER.get(which, "grid_worker")]
        if name == "places:export":
            user = world.users["street_official"]
        sign_in(client, user)
        _pass_mfa(client)
        response = _call(client, method, _url(name, pattern, own, which))
        if method == "GET":
            assert response.status_code == 200, (name, response.status_code)
        else:
            # through the door: done (200/201/302), or refused on content or state (400/409),
            # never on authorisation (our test body is not what every action wants)
            assert response.status_code in (200, 201, 302, 400, 409), (name, response.status_code)
            if response.status_code == 302:
                assert "/accounts/" not in response["Location"], (name, response["Location"])


def _pass_mfa(client: Any) -> None:
    """``sign_in`` leaves the session as a full sign-in with the second factor would (the
    staff-session middleware is tested in tests/security)."""


def test_scoped_names_exist() -> None:
    names = {name for name, _ in all_urls()}
    missing = set(SCOPED) - names
    assert not missing, missing
