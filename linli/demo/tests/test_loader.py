"""The demo loader: the places and facts of the seeds, valid people, working demo accounts.

Loading takes a few seconds, so the checks share two loads: one for the content, one for
reloading and resetting.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, validate_totp_code
from allauth.mfa.utils import decrypt
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q
from django.utils import timezone
from shapely.geometry import Point, shape

from linli.accounts.models import User
from linli.core.access import STAFF_ROLES
from linli.core.models import AuditEntry
from linli.demo.loader import (
    ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    RESIDENT_PHONE,
    DemoSummary,
    load_demo,
    totp_code_for,
)
from linli.demo.tests.deliberation_checks import demo_deliberation_holds
from linli.demo.tests.visits_checks import demo_visits_hold
from linli.people.identity import birth_date_from_id, sex_from_id, validate_resident_id
from linli.people.models import Department, Household, HouseholdMember, Membership, PartyKind, Person, Relation
from linli.places.models import Place, PlaceKind

SEED_COMMUNITIES = (
    "常二",
    "常四",
    "江汉里",
    "盛世",
    "常远里",
    "和祥里",
    "新松里",
    "桃林",
    "华安里",
    "民航里",
    "玉兰里",
    "华苑里",
    "新华家园",
)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@pytest.fixture
def clock() -> dt.datetime:
    """The instant the demo is generated at. The demo's history is drawn relative to now (a
    visit planned after now is not written, and every draw after it shifts), so a reload
    gives the same demo only on the same clock."""
    return timezone.now()


@pytest.fixture
def demo(db: None, clock: dt.datetime) -> DemoSummary:
    """The demo, loaded inside the test's own transaction (rolled back afterwards), so that no
    other test running on the same worker ever sees it."""
    with time_machine.travel(clock, tick=False):
        return load_demo()


def _counts() -> dict[str, int]:
    return {
        "places": Place.objects.count(),
        "households": Household.objects.count(),
        "people": Person.objects.count(),
        "members": HouseholdMember.objects.count(),
        "memberships": Membership.objects.count(),
        "departments": Department.objects.count(),
        "users": User.objects.count(),
        "authenticators": Authenticator.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def _places_follow_the_seeds(demo: DemoSummary) -> None:
    hanxing = Place.objects.get(code="hanxing", kind=PlaceKind.STREET)
    assert hanxing.name == "汉兴街道"
    assert Place.objects.get(code="jianghan").name == "江汉区"
    assert Place.objects.get(code="wuhan").name == "武汉市"
    communities = Place.objects.filter(path__startswith=hanxing.path, kind=PlaceKind.COMMUNITY)
    names = set(communities.values_list("name", flat=True))
    assert len(names) == communities.count() == 20
    assert {f"{n}社区" for n in SEED_COMMUNITIES} <= names
    assert Place.objects.get(code="hanxing-changer").name == "常二社区"
    assert Place.objects.get(code="qinghe").kind == PlaceKind.COMMUNITY
    assert Place.objects.get(code="yangxin").kind == PlaceKind.COUNTY
    assert Place.objects.get(code="xingguo").kind == PlaceKind.TOWN
    assert Place.objects.get(code="linfeng").name == "林峰社区"
    assert Place.objects.get(code="anju").name == "安居社区"
    assert Place.objects.get(code="huajin").name == "华锦社区"
    assert Place.objects.get(code="youlechang").name == "游乐场社区"

    assert all(CODE_RE.match(code) for code in Place.objects.values_list("code", flat=True))
    # each Hanxing community: 2–3 grids, 2–4 buildings a grid, 8–16 households a building
    for community in communities:
        grids = list(Place.objects.filter(path__startswith=community.path, kind=PlaceKind.GRID))
        assert 2 <= len(grids) <= 3
        for grid in grids:
            assert grid.code.startswith(community.code + "-g")
            area = shape(grid.boundary)
            buildings = list(Place.objects.filter(path__startswith=grid.path, kind=PlaceKind.BUILDING))
            assert 2 <= len(buildings) <= 4
            for building in buildings:
                assert area.contains(Point(float(building.lng), float(building.lat)))
                assert 8 <= building.numchild <= 16
    assert Place.objects.filter(code="hanxing-changer-g1-b1-u0101", kind=PlaceKind.HOUSEHOLD).exists()
    assert Department.objects.get(code="wuhan-water").name == "武汉水务集团"
    assert Department.objects.filter(kind="police", place=hanxing).exists()
    # one import entry in the audit trail per community
    imports = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, target_type="places.place")
    assert imports.count() == Place.objects.filter(kind=PlaceKind.COMMUNITY).count() == 25
    assert demo.places[PlaceKind.COMMUNITY] == 25


def _pingan_estate(demo: DemoSummary) -> None:
    linfeng = Place.objects.get(code="linfeng")
    residents = HouseholdMember.objects.filter(household__place__path__startswith=linfeng.path)
    assert 1710 <= residents.count() <= 1890
    assert demo.pingan_residents == residents.count()
    party = Person.objects.filter(place__path__startswith=linfeng.path).exclude(party_kind="")
    counts = dict(party.values_list("party_kind").annotate(n=Count("id")))
    assert counts == {PartyKind.DIRECT: 57, PartyKind.RESIDENCE: 218, PartyKind.PAIRED_UNIT: 90}
    # every residence member lives in the estate; paired-unit members name their unit
    assert not party.filter(party_kind=PartyKind.RESIDENCE, household_links__isnull=True).exists()
    assert not party.filter(party_kind=PartyKind.PAIRED_UNIT, party_unit="").exists()
    assert party.filter(party_kind=PartyKind.PAIRED_UNIT, party_unit="阳新县财政局").exists()
    assert party.filter(name="何兆品", party_kind=PartyKind.DIRECT, household_links__isnull=False).exists()
    assert Place.objects.filter(path__startswith=linfeng.path, kind=PlaceKind.COURTYARD).exists()


def _people_are_valid_and_households_have_one_head(demo: DemoSummary) -> None:
    people = list(Person.objects.all())
    assert len(people) == demo.people
    assert 5000 <= len(people) <= 8000
    numbers = set()
    for person in people:
        number = person.id_number()
        assert validate_resident_id(number) == number
        assert birth_date_from_id(number) == person.birth_date
        assert sex_from_id(number) == person.sex
        assert person.id_number_masked == f"{number[:6]}********{number[-4:]}"
        assert person.name_search and person.name_pinyin
        assert not person.phone or re.match(r"^\+861[3-9]\d{9}$", person.phone)
        numbers.add(number)
    assert len(numbers) == len(people)
    heads = Household.objects.annotate(heads=Count("members", filter=Q(members__relation=Relation.HEAD)))
    assert not heads.exclude(heads=1).exists()
    assert not Household.objects.filter(members__isnull=True).exists()
    sizes = Household.objects.annotate(n=Count("members")).values_list("n", flat=True)
    assert min(sizes) >= 1 and max(sizes) <= 5
    assert all(45 <= h.floor_area <= 140 for h in Household.objects.all() if h.floor_area is not None)
    # the proportions of the vulnerable stay in a realistic range
    for flag, low, high in (
        ("elderly_alone", 0.05, 0.11),
        ("elderly", 0.08, 0.20),
        ("disabled", 0.01, 0.04),
        ("left_behind_child", 0.003, 0.02),
        ("low_income", 0.01, 0.06),
    ):
        assert low <= demo.vulnerabilities[flag] / demo.people <= high, flag
    alone = Person.objects.filter(vulnerabilities__contains=["elderly_alone"]).annotate(
        size=Count("household_links__household__members")
    )
    assert set(alone.values_list("size", flat=True)) == {1}


def _demo_accounts(demo: DemoSummary) -> None:
    assert [a[0] for a in demo.accounts] == [a.username for a in ACCOUNTS]
    # each account's place as a street official reads it, each name once
    where = {a[0]: a[2] for a in demo.accounts}
    assert where["grid"] == "常二社区第1网格" and where["leader"] == "常二社区 1栋"
    assert where["resident"] == "常二社区 1栋101室" and where["linfeng"] == "林峰社区"
    for account in ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.display_name
        membership = Membership.objects.get(person__user=user, role=account.role, ended_at__isnull=True)
        assert membership.place.code == account.place_code
        if account.department_code:
            assert membership.department is not None
            assert membership.department.code == account.department_code
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if account.role in STAFF_ROLES:
            assert totp is not None, account.username
            assert decrypt(totp.data["secret"]) == DEMO_TOTP_SECRET
            code = totp_code_for(account.username)
            assert re.fullmatch(r"\d{6}", code)
            assert validate_totp_code(DEMO_TOTP_SECRET, code)
            assert TOTP(totp).validate_code(code)
        else:
            assert totp is None, account.username
    assert User.objects.get(username="admin").is_superuser
    resident = User.objects.get(username="resident")
    assert resident.phone == RESIDENT_PHONE and resident.phone_verified
    assert resident.person.phone == RESIDENT_PHONE
    assert resident.person.household_links.get().household.place.code == "hanxing-changer-g1-b1-u0101"
    partyhead = User.objects.get(username="partyhead").person
    assert partyhead.is_party_member
    assert partyhead.place.code.startswith("hanxing-changer-g1-b1-")
    linfeng = User.objects.get(username="linfeng").person
    assert linfeng.name == "吴莉" and linfeng.party_kind == PartyKind.DIRECT


def _totp_code_command(demo: DemoSummary, settings: Any) -> None:
    out = io.StringIO()
    call_command("totp_code", "grid", stdout=out, stderr=io.StringIO())
    assert validate_totp_code(DEMO_TOTP_SECRET, out.getvalue().strip())
    with pytest.raises(CommandError):
        call_command("totp_code", "resident", stdout=io.StringIO(), stderr=io.StringIO())
    settings.LINLI_DEMO = False
    with pytest.raises(CommandError):
        call_command("totp_code", "grid", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("load_demo", stdout=io.StringIO())


def _loading_twice_changes_nothing(demo: DemoSummary) -> None:
    before = _counts()
    again = load_demo()
    assert again.already_loaded
    assert _counts() == before
    assert again.people == demo.people and again.households == demo.households
    assert again.accounts == demo.accounts


def _reset_reloads_the_same_demo(demo: DemoSummary, clock: dt.datetime) -> None:
    before = _counts()
    out = io.StringIO()
    with time_machine.travel(clock, tick=False):
        call_command("load_demo", "--reset", stdout=out)
    text = out.getvalue()
    assert "linli totp-code" in text and DEMO_PASSWORD in text and DEMO_TOTP_SECRET in text
    after = _counts()
    assert after == before
    assert Place.objects.filter(code="wuhan").count() == 1
    assert (
        Person.objects.filter(place__path__startswith=Place.objects.get(code="linfeng").path)
        .exclude(party_kind="")
        .count()
        == 365
    )


def test_demo_content(demo: DemoSummary, settings: Any) -> None:
    out = io.StringIO()
    call_command("bench", "places", "--runs", "2", stdout=out)
    assert "20 communities" in out.getvalue() and "p95" in out.getvalue()
    _places_follow_the_seeds(demo)
    _pingan_estate(demo)
    _people_are_valid_and_households_have_one_head(demo)
    _demo_accounts(demo)
    _totp_code_command(demo, settings)
    _needs_in_every_state(demo)
    demo_visits_hold(demo)
    demo_deliberation_holds(demo)


def _needs_in_every_state(demo: DemoSummary) -> None:
    from linli.accounts.api_keys import api_client_for_key
    from linli.needs.models import Category, Need, NeedEvent
    from linli.needs.rates import rates_for, rates_recompute

    assert Category.objects.filter(city=None, active=True).count() == 18
    assert sum(demo.seeds["needs"].values()) >= 200
    for status in ("submitted", "accepted", "whistled", "resolved", "closed"):
        assert demo.seeds["needs"].get(status, 0) >= 1, (status, demo.seeds)
    # the resident of the tour has needs of their own
    assert Need.objects.filter(reporters__user__username="resident").count() >= 3
    assert NeedEvent.objects.filter(kind="whistled").exists() and NeedEvent.objects.filter(kind="rated").exists()
    from linli.core.models import Notification

    assert not Notification.objects.filter(status="pending", kind__startswith="needs.").exists()
    client = api_client_for_key("linli-demo-key")
    assert client is not None and client.user.username == "district"
    street = Place.objects.get(code="hanxing")
    period = {"start": timezone.localdate() - dt.timedelta(days=200), "end": timezone.localdate()}
    assert rates_for(place=street, **period) == rates_recompute(place=street, **period)
    assert rates_for(place=street, **period).satisfaction_rate is not None


def test_demo_reloads_and_resets(demo: DemoSummary, clock: dt.datetime) -> None:
    _loading_twice_changes_nothing(demo)
    _reset_reloads_the_same_demo(demo, clock)
