"""Test helpers shared by every app's tests: a small world built through the services.

Not imported by the application. ``build_world()`` makes two communities under one street,
people in households, a department, and one account per role in community A, plus a grid
worker and a secretary in community B (the "other place" for scoping tests).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from linli.accounts.models import User
from linli.core.access import POSSESSION_ROLES, STAFF_ROLES, SYSTEM, Role
from linli.people.identity import id_check_char
from linli.people.models import Department, DepartmentKind, Household, Person, Relation
from linli.people.services import household_create, membership_grant, person_create
from linli.places.models import Place, PlaceKind
from linli.places.services import place_create

PASSWORD = "test-pass-Linli-2026"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_serial = itertools.count(1)


def make_id_number(birth: str = "19800101", region: str = "420103", seq: int | None = None, male: bool = True) -> str:
    """A valid GB 11643 identity number (unique per call unless ``seq`` is given)."""
    n = seq if seq is not None else next(_serial) % 500
    sequence = f"{n * 2 + (1 if male else 0):03d}"[-3:]
    first17 = f"{region}{birth}{sequence}"
    return first17 + id_check_char(first17)


def make_phone() -> str:
    return f"+86139{next(_serial) % 100_000_000:08d}"


def totp_now(secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app shows now (the current period's, whatever the tolerance)."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def make_user(
    username: str,
    role: str,
    place: Place,
    *,
    department: Department | None = None,
    totp: bool | None = None,
    phone: str | None = None,
    person: Person | None = None,
) -> User:
    """An account with a Person at ``place`` holding ``role`` there (TOTP for staff roles)."""
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=username, phone=phone)
    if phone:
        user.phone_verified = True
        user.save(update_fields=["phone_verified"])
    if person is None:
        person = person_create(actor=SYSTEM, place=place, name=f"用户{username}", phone=phone or "")
    person.user = user
    person.save(update_fields=["user"])
    membership_grant(actor=SYSTEM, person=person, place=place, role=role, department=department)
    if totp if totp is not None else role in STAFF_ROLES:
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, TOTP_SECRET)
    return user


@dataclass
class World:
    places: dict[str, Place] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    department: Department | None = None

    def __getattr__(self, name: str) -> Any:
        for bucket in ("places", "households", "people", "users"):
            items = self.__dict__.get(bucket, {})
            if name in items:
                return items[name]
        raise AttributeError(name)


def build_world() -> World:
    w = World()
    add = w.places.__setitem__
    add("city", place_create(actor=SYSTEM, parent=None, code="t-city", name="武汉市", kind=PlaceKind.CITY))
    add(
        "district", place_create(actor=SYSTEM, parent=w.city, code="t-district", name="江汉区", kind=PlaceKind.DISTRICT)
    )
    add(
        "street", place_create(actor=SYSTEM, parent=w.district, code="t-street", name="汉兴街道", kind=PlaceKind.STREET)
    )
    for tag, name in (("a", "常二社区"), ("b", "常四社区")):
        community = place_create(actor=SYSTEM, parent=w.street, code=f"t-{tag}", name=name, kind=PlaceKind.COMMUNITY)
        add(f"community_{tag}", community)
        grid = place_create(actor=SYSTEM, parent=community, code=f"t-{tag}-g1", name="第一网格", kind=PlaceKind.GRID)
        add(f"grid_{tag}", grid)
        building = place_create(actor=SYSTEM, parent=grid, code=f"t-{tag}-g1-b1", name="1栋", kind=PlaceKind.BUILDING)
        add(f"building_{tag}", building)
        household = household_create(
            actor=SYSTEM, building=building, code=f"t-{tag}-g1-b1-101", name="1单元101", floor_area=None
        )
        w.households[f"household_{tag}"] = household
        w.places[f"household_place_{tag}"] = household.place
        head = person_create(
            actor=SYSTEM,
            place=household.place,
            household=household,
            relation=Relation.HEAD,
            name="张建国" if tag == "a" else "李秀英",
            phone="+8613800138000" if tag == "a" else make_phone(),
            id_number=make_id_number(),
            vulnerabilities=["elderly_alone"] if tag == "a" else [],
        )
        w.people[f"resident_{tag}"] = head
    w.department = Department.objects.create(
        code="t-water", name="武汉水务集团", kind=DepartmentKind.WATER, place=w.city
    )
    a = w.places
    for role, place in (
        (Role.ADMIN, a["city"]),
        (Role.DISTRICT_OFFICIAL, a["district"]),
        (Role.STREET_OFFICIAL, a["street"]),
        (Role.SECRETARY, a["community_a"]),
        (Role.COMMUNITY_STAFF, a["community_a"]),
        (Role.GRID_WORKER, a["grid_a"]),
        (Role.BUILDING_LEADER, a["building_a"]),
        (Role.CENTRAL_HOUSEHOLD, a["building_a"]),
        (Role.MEDIATOR, a["community_a"]),
        (Role.VOLUNTEER, a["community_a"]),
    ):
        # carers sign in with an SMS code to their phone (never a password alone)
        phone = make_phone() if role in POSSESSION_ROLES else None
        w.users[role.value] = make_user(role.value, role, place, phone=phone)
    w.users["department_liaison"] = make_user(
        "department_liaison", Role.LIAISON, a["district"], department=w.department
    )
    w.users["resident"] = make_user(
        "resident", Role.RESIDENT, a["household_place_a"], phone="+8613800138000", person=w.people["resident_a"]
    )
    w.users["grid_worker_b"] = make_user("grid_worker_b", Role.GRID_WORKER, a["grid_b"])
    w.users["secretary_b"] = make_user("secretary_b", Role.SECRETARY, a["community_b"])
    return w


def sign_in(client: Any, user: User) -> None:
    """Sign ``client`` in as ``user`` with what a full sign-in leaves in the session: the
    password step and, for staff, the second factor (allauth's authentication record, which
    the staff-session middleware requires). ``force_login`` alone leaves a staff session
    that the site refuses, as it refuses any session that skipped the second factor."""
    import time

    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY

    client.force_login(user)
    session = client.session
    now = time.time()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "username": user.username},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session["linli_seen"] = now
    session.save()


def deliver_notifications() -> list[str]:
    """Deliver every notification still in the outbox now, as the worker would after the
    transactions that wrote them (tests run inside one transaction). Returns the outcomes."""
    from linli.core.models import Notification
    from linli.core.notify import deliver

    return [
        deliver(pk) for pk in Notification.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True)
    ]


def png_bytes(size: int = 8, color: str = "red") -> bytes:
    """A small PNG image, for photo uploads."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, format="PNG")
    return out.getvalue()


def rect(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """A rectangle as a GeoJSON polygon (WGS-84, longitude first)."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def draw_community_a(world: World) -> Place:
    """Community A on the map: its boundary 114.20–114.24 × 30.58–30.62, its grid in the
    west half (to 114.22), 1栋 at (30.60, 114.21) and a second building, 5栋, at (30.61,
    114.215), which is returned. Callers forget the boundary index before and after
    (``places.location.grid_index_clear``)."""
    for place, boundary in (
        (world.community_a, rect(114.20, 30.58, 114.24, 30.62)),
        (world.grid_a, rect(114.20, 30.58, 114.22, 30.62)),
    ):
        place.boundary = boundary
        place.save(update_fields=["boundary"])
    world.building_a.lat, world.building_a.lng = Decimal("30.60"), Decimal("114.21")
    world.building_a.save(update_fields=["lat", "lng"])
    five = place_create(
        actor=SYSTEM,
        parent=world.grid_a,
        code="t-a-g1-b5",
        name="5栋",
        kind=PlaceKind.BUILDING,
        lat=Decimal("30.61"),
        lng=Decimal("114.215"),
    )
    world.places["building_5"] = five
    return five
