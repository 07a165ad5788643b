"""Demo data: places, households, residents, departments and one account per role.

``load_demo()`` builds, in one transaction, the places the seed reports talk about:

* Wuhan 武汉市 → Jianghan 江汉区 → Hanxing street 汉兴街道 with its 20 communities (the 13
  named in seed 004 and seven more), each with 2–3 grids, 2–4 buildings a grid and 8–16
  households a building; and Qingshan 青山区 → 工人村街道 → 青和居社区 (seed 001).
* Huangshi 黄石市 → Yangxin 阳新县 → Xingguo 兴国镇 → Linfeng 林峰社区, whose Pingan estate
  平安小区 (buildings and courtyards) has about 1,800 residents and exactly 365 party members:
  57 direct, 218 by residence and 90 from paired units (seed 003). All 218 residence members
  and 40 of the direct ones live in the estate; the 90 paired-unit members and 17 direct ones
  (among them the secretary, 吴莉) are registered at the community node without a household.
* Huanggang 黄冈市 → Huangzhou 黄州区 → 东湖街道 → Anju 安居社区 (seed 002).
* Wuhan 武汉市 → Jiang'an 江岸区 → 后湖街道 → 华锦社区 and 游乐场社区 (seed 000).

Codes are lowercase ASCII and predictable: communities ``hanxing-changer`` (street code plus
the pinyin of the name without 社区; the single communities are ``qinghe``,
``linfeng``, ``anju``, ``huajin`` and ``youlechang``), grids ``<community>-g1``, buildings and courtyards
``<community>-g1-b3``, households ``<community>-g1-b3-u0201`` (floor 02, door 01).

People are generated from ``seed`` (Faker zh_CN and ``random.Random``); ages are counted
from today, so the same seed gives the same data on the same day. Identity numbers are
built from the generated birth date (region code, date, sequence with the sex's parity,
GB 11643 check character) rather than with Faker's ``ssn``, whose 365-day years put ages
off by a few days and so contradict the age-based flags (≥ 80 → 高龄老人).

DEMO ONLY: every demo account shares the password :data:`DEMO_PASSWORD` and every staff
account the TOTP secret :data:`DEMO_TOTP_SECRET`; both are public. ``load_demo`` refuses to
run unless ``settings.LINLI_DEMO`` is true.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Count, ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _
from faker import Faker
from pypinyin import lazy_pinyin

from linli.accounts.models import User
from linli.core.access import STAFF_ROLES, SYSTEM, Role, under
from linli.core.audit import audit_record
from linli.core.data import read_data
from linli.core.models import AuditEntry
from linli.core.registry import demo_seeds
from linli.core.text import normalize, pinyin_key
from linli.people.identity import id_check_char, validate_resident_id
from linli.people.models import (
    Department,
    DepartmentKind,
    Household,
    HouseholdMember,
    Membership,
    PartyKind,
    Person,
    Relation,
    Tenure,
    Vulnerability,
)
from linli.people.services import membership_grant
from linli.places.models import KIND_LEVEL, Place, PlaceKind
from linli.places.selectors import PlaceNamer
from linli.places.services import TreeBuilder

__all__ = [
    "ACCOUNTS",
    "DEMO_PASSWORD",
    "DEMO_TOTP_SECRET",
    "RESIDENT_PHONE",
    "ROOT_CODES",
    "DemoAccount",
    "DemoSummary",
    "load_demo",
    "reset_demo",
    "totp_code_for",
]

#: The password of every demo account. Public: demo only.
DEMO_PASSWORD = "linli-demo-2026"
#: The TOTP secret (base32) of every demo staff account. Public: demo only.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#: The demo's places, people and accounts as data (``demo/data/demo.toml``).
DATA = read_data("linli.demo", "demo")
#: The phone of the demo resident (``resident``), who signs in with an SMS code.
RESIDENT_PHONE: str = DATA["resident_phone"]
#: The tour's carers sign in with an SMS code too (a password alone would open other
#: households' data): their numbers are fixed, like the resident's.
CARER_PHONES: dict[str, str] = DATA["carer_phones"]
#: The top-level places of the demo; their subtrees are what ``reset_demo`` removes.
ROOT_CODES: tuple[str, ...] = tuple(DATA["root_codes"])

STREET_LEVEL = KIND_LEVEL[PlaceKind.STREET]
#: ``progress(description, done, total)``
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    place_code: str
    department_code: str | None = None


#: One account per role (the data file says who lives where).
ACCOUNTS: tuple[DemoAccount, ...] = tuple(
    DemoAccount(username, role, place, department or None) for username, role, place, department in DATA["accounts"]
)
USERNAMES = tuple(a.username for a in ACCOUNTS)


@dataclass
class DemoSummary:
    already_loaded: bool = False
    seconds: float = 0.0
    places: dict[str, int] = field(default_factory=dict)
    households: int = 0
    people: int = 0
    departments: int = 0
    party_members: dict[str, int] = field(default_factory=dict)
    pingan_residents: int = 0
    pingan_party_members: dict[str, int] = field(default_factory=dict)
    vulnerabilities: dict[str, int] = field(default_factory=dict)
    veterans: int = 0
    volunteers: int = 0
    #: (username, role label, place name, sign-in method)
    accounts: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: each app's figures (its demo seed's ``counts``), by seed key
    seeds: dict[str, dict[str, int]] = field(default_factory=dict)


# --- the places --------------------------------------------------------------------------

HANXING_NAMED: tuple[str, ...] = tuple(DATA["hanxing"]["named"])  # seed 004
HANXING_MORE: tuple[str, ...] = tuple(DATA["hanxing"]["more"])

# (south-west corner of the first community's cell) and the cell size, in degrees
HANXING_ORIGIN: tuple[float, float] = tuple(DATA["hanxing"]["origin"])  # type: ignore[assignment]
CELL: tuple[float, float] = tuple(DATA["hanxing"]["cell"])  # type: ignore[assignment]

_PINGAN = DATA["pingan"]
#: the 90 paired-unit party members of the Pingan estate, by unit
PINGAN_UNITS: tuple[tuple[str, int], ...] = tuple((unit, int(n)) for unit, n in _PINGAN["units"])
PINGAN_DIRECT, PINGAN_RESIDENCE, PINGAN_PAIRED = _PINGAN["direct"], _PINGAN["residence"], _PINGAN["paired"]
PINGAN_DIRECT_LIVING_THERE: int = _PINGAN["direct_living_there"]
PINGAN_TARGET: int = _PINGAN["residents"]

WUHAN_UNITS: tuple[str, ...] = tuple(DATA["hanxing"]["units"])

DEPARTMENTS: tuple[tuple[str, str, str, str], ...] = tuple(
    (code, name, DepartmentKind(kind), place) for code, name, kind, place in DATA["departments"]["rows"]
)

# Region codes of identity numbers: where people were registered at birth.
OTHER_HUBEI: tuple[str, ...] = tuple(DATA["regions"]["hubei"])
OTHER_PROVINCES: tuple[str, ...] = tuple(DATA["regions"]["other_provinces"])

# Household compositions: (kind, weight). Mean size ≈ 2.5.
COMPOSITIONS: tuple[tuple[str, float], ...] = tuple(
    (kind, float(weight)) for kind, weight in DATA["households"]["compositions"]
)

#: Compositions of the first households of a community's first building: the demo accounts',
#: then the neighbours the ``partyhead`` account looks after (包保), some of them elderly alone.
FORCED: dict[str, tuple[str, ...]] = {code: tuple(kinds) for code, kinds in DATA["households"]["forced"].items()}


_MOBILE = re.compile(r"^1[3-9]\d{9}$")  # mainland mobile numbers, as people.identity checks them


# --- small helpers -----------------------------------------------------------------------

_normalize = lru_cache(maxsize=None)(normalize)
_pinyin_key = lru_cache(maxsize=None)(pinyin_key)


def _slug(name: str) -> str:
    return "".join(lazy_pinyin(name)).lower()


def _deg(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _rect(south: float, west: float, north: float, east: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _age_on(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _root_paths() -> list[str]:
    return list(Place.objects.filter(code__in=ROOT_CODES, depth=1).values_list("path", flat=True))


# --- generation --------------------------------------------------------------------------


@dataclass
class _Spec:
    relation: str
    age: int
    sex: str
    family: bool = True  # takes the head's surname


class _Generator:
    """Builds places, households and people in memory; ``save`` writes them in bulk."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.today = timezone.localdate()
        self.ids: set[str] = set()
        self.phones: set[str] = {RESIDENT_PHONE}
        self.builder = TreeBuilder()
        self.places: dict[str, Place] = {}
        self.persons: list[Person] = []
        self.households: list[Household] = []
        self.members: list[HouseholdMember] = []
        #: community code → its households, each as a list of (person, relation)
        self.by_community: dict[str, list[list[tuple[Person, str]]]] = {}
        self.linfeng_secretary: Person | None = None
        self.composition_kinds, weights = zip(*COMPOSITIONS, strict=True)
        self.composition_weights = list(weights)

    # places

    def place(self, parent: Place | None, code: str, name: str, kind: str, **extra: Any) -> Place:
        node = self.builder.add(parent, code=code, name=name, kind=kind, **extra)
        self.places[code] = node
        return node

    # people

    def id_number(self, age: int, sex: str, area: str) -> tuple[str, dt.date]:
        while True:
            try:
                anchor = self.today.replace(year=self.today.year - age)
            except ValueError:  # 29 February
                anchor = self.today.replace(year=self.today.year - age, day=28)
            born = anchor - dt.timedelta(days=self.rng.randint(1, 364))
            sequence = self.rng.randrange(0, 1000, 2) + (1 if sex == "M" else 0)
            if sequence > 999:
                sequence -= 2
            first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
            number = first17 + id_check_char(first17)
            if number in self.ids:
                continue
            validate_resident_id(number)  # never fails; guards the demo against a broken builder
            self.ids.add(number)
            return number, born

    def area(self, local: str) -> str:
        roll = self.rng.random()
        if roll < 0.65:
            return local
        if roll < 0.90:
            return self.rng.choice(OTHER_HUBEI)
        return self.rng.choice(OTHER_PROVINCES)

    def phone_for(self, age: int) -> str:
        chance = 0.0 if age < 14 else 0.6 if age < 18 else 0.97 if age < 70 else 0.7 if age < 80 else 0.4
        if self.rng.random() >= chance:
            return ""
        return self.new_phone()

    def new_phone(self) -> str:
        while True:
            national = self.fake.phone_number()
            phone = "+86" + national
            if _MOBILE.match(national) and phone not in self.phones:
                self.phones.add(phone)
                return phone

    def person(
        self, *, place: Place, age: int, sex: str, local_area: str, surname: str | None = None, phone: str | None = None
    ) -> Person:
        number, born = self.id_number(age, sex, self.area(local_area))
        given = self.fake.first_name_male() if sex == "M" else self.fake.first_name_female()
        name = (surname or self.fake.last_name()) + given
        person = Person(
            place=place,
            name=name,
            name_search=_normalize(name),
            name_pinyin=_pinyin_key(name),
            phone=self.phone_for(age) if phone is None else phone,
            birth_date=born,
            sex=sex,
        )
        person.set_id_number(number)
        self.persons.append(person)
        return person

    def rename(self, person: Person, name: str) -> None:
        person.name, person.name_search, person.name_pinyin = name, _normalize(name), _pinyin_key(name)

    # households

    def pick_kind(self) -> str:
        return self.rng.choices(self.composition_kinds, self.composition_weights)[0]

    def compose(self, kind: str) -> list[_Spec]:
        r = self.rng

        def child_of(mother_age: int, low: int = 0) -> int:
            return max(low, mother_age - r.randint(22, max(22, min(36, mother_age))))

        if kind == "alone_elderly":
            return [
                _Spec(
                    Relation.HEAD,
                    r.choice([r.randint(70, 79), r.randint(80, 96), r.randint(80, 92)]),
                    r.choice("FFFMM"),
                )
            ]
        if kind == "alone_adult":
            return [_Spec(Relation.HEAD, r.randint(22, 60), r.choice("MF"))]
        if kind in (
            "elderly_couple",
            "couple",
            "couple_child",
            "couple_adult_child",
            "grandparents_child",
            "couple_two_children",
            "couple_child_parent",
            "three_generations",
        ):
            low, high = {
                "elderly_couple": (70, 92),
                "couple": (25, 64),
                "couple_child": (28, 50),
                "couple_adult_child": (50, 75),
                "grandparents_child": (58, 78),
                "couple_two_children": (30, 50),
                "couple_child_parent": (30, 50),
                "three_generations": (64, 90),
            }[kind]
            head = r.randint(low, high)
            wife = max(20, head - r.randint(-2, 5))
            specs = [_Spec(Relation.HEAD, head, "M"), _Spec(Relation.SPOUSE, wife, "F", family=False)]
            if kind == "couple_child":
                specs.append(_Spec(Relation.CHILD, child_of(wife), r.choice("MF")))
            elif kind == "couple_adult_child":
                specs.append(_Spec(Relation.CHILD, child_of(wife, 18), r.choice("MF")))
            elif kind == "grandparents_child":
                specs.append(_Spec(Relation.GRANDCHILD, r.randint(4, 15), r.choice("MF")))
            elif kind == "couple_two_children":
                first = child_of(wife)
                specs += [
                    _Spec(Relation.CHILD, first, r.choice("MF")),
                    _Spec(Relation.CHILD, max(0, first - r.randint(2, 8)), r.choice("MF")),
                ]
            elif kind == "couple_child_parent":
                specs += [
                    _Spec(Relation.CHILD, child_of(wife), r.choice("MF")),
                    _Spec(Relation.PARENT, min(96, head + r.randint(22, 32)), r.choice("MF")),
                ]
            elif kind == "three_generations":
                son = child_of(wife, 25)
                daughter_in_law = max(22, son - r.randint(-2, 4))
                specs += [
                    _Spec(Relation.CHILD, son, "M"),
                    _Spec(Relation.OTHER, daughter_in_law, "F", family=False),
                    _Spec(Relation.GRANDCHILD, child_of(daughter_in_law), r.choice("MF")),
                ]
            return specs
        if kind == "single_parent":
            parent = r.randint(30, 55)
            return [
                _Spec(Relation.HEAD, parent, r.choice("MF")),
                _Spec(Relation.CHILD, child_of(parent, 1), r.choice("MF")),
            ]
        raise ValueError(kind)

    def household(
        self,
        building: Place,
        code: str,
        name: str,
        community: str,
        local_area: str,
        kind: str | None = None,
        party: bool = True,
        specs: list[_Spec] | None = None,
    ) -> list[tuple[Person, str]]:
        r = self.rng
        kind = kind or self.pick_kind()
        specs = specs or self.compose(kind)
        node = self.place(building, code, name, PlaceKind.HOUSEHOLD)
        area = min(140.0, max(45.0, 30 + 16 * len(specs) + r.uniform(-10, 25)))
        tenure = r.choices([Tenure.OWNER, Tenure.TENANT, Tenure.RESIDENT], [0.75, 0.15, 0.10])[0]
        household = Household(place=node, tenure=tenure, floor_area=Decimal(f"{area:.2f}"))
        self.households.append(household)
        low_income = r.random() < 0.03
        surname = self.fake.last_name()
        members: list[tuple[Person, str]] = []
        for spec in specs:
            person = self.person(
                place=node, age=spec.age, sex=spec.sex, local_area=local_area, surname=surname if spec.family else None
            )
            age = _age_on(person.birth_date, self.today) if person.birth_date else spec.age
            flags: set[str] = set()
            if len(specs) == 1 and age >= 70:
                flags.add(Vulnerability.ELDERLY_ALONE)
            if age >= 80:
                flags.add(Vulnerability.ELDERLY)
            if kind == "elderly_couple" and age >= 60:
                flags.add(Vulnerability.EMPTY_NEST)
            if kind == "grandparents_child" and spec.relation == Relation.GRANDCHILD and age < 16:
                flags.add(Vulnerability.LEFT_BEHIND_CHILD)
            if r.random() < (0.035 if age >= 60 else 0.012):
                flags.add(Vulnerability.DISABLED)
            if r.random() < (0.025 if age >= 60 else 0.004):
                flags.add(Vulnerability.SERIOUSLY_ILL)
            if low_income:
                flags.add(Vulnerability.LOW_INCOME)
            person.vulnerabilities = sorted(flags)
            person.is_veteran = spec.sex == "M" and 40 <= age <= 85 and r.random() < 0.08
            person.is_volunteer = 18 <= age <= 75 and r.random() < 0.09
            if party and age >= 20 and r.random() < 0.095:
                person.party_kind = r.choices(
                    [PartyKind.RESIDENCE, PartyKind.DIRECT, PartyKind.PAIRED_UNIT], [0.7, 0.2, 0.1]
                )[0]
                if person.party_kind == PartyKind.PAIRED_UNIT:
                    person.party_unit = r.choice(WUHAN_UNITS)
            self.members.append(HouseholdMember(household=household, person=person, relation=spec.relation))
            members.append((person, spec.relation))
        self.by_community.setdefault(community, []).append(members)
        return members

    # whole communities

    def community(
        self,
        street: Place,
        code: str,
        name: str,
        origin: tuple[float, float],
        grids: int,
        buildings: Callable[[], int],
        households: Callable[[], int],
        local_area: str,
        courtyard_grids: tuple[int, ...] = (),
        office_phone: str = "",
    ) -> Place:
        south, west = origin
        north, east = south + CELL[0], west + CELL[1]
        community = self.place(
            street,
            code,
            name,
            PlaceKind.COMMUNITY,
            boundary=_rect(south, west, north, east),
            lat=_deg((south + north) / 2),
            lng=_deg((west + east) / 2),
            office_phone=office_phone,
        )
        width = CELL[1] / grids
        number = 0
        for g in range(1, grids + 1):
            g_west, g_east = west + (g - 1) * width, west + g * width
            grid = self.place(
                community,
                f"{code}-g{g}",
                f"{name}第{g}网格",
                PlaceKind.GRID,
                boundary=_rect(south, g_west, north, g_east),
            )
            courtyards = g in courtyard_grids
            for b in range(1, buildings() + 1):
                number += 1
                lat = south + 0.0003 + self.rng.random() * (CELL[0] - 0.0006)
                lng = g_west + 0.0003 + self.rng.random() * (width - 0.0006)
                b_name = f"{number}号院" if courtyards else f"{number}栋"
                building = self.place(
                    grid,
                    f"{code}-g{g}-b{b}",
                    b_name,
                    PlaceKind.COURTYARD if courtyards else PlaceKind.BUILDING,
                    lat=_deg(lat),
                    lng=_deg(lng),
                )
                count = households()
                if g == b == 1:
                    count = max(count, len(FORCED.get(code, ())))
                doors = count if courtyards else (2 if count <= 12 else 3)
                for i in range(count):
                    floor, door = divmod(i, doors)
                    forced = FORCED.get(code, ()) if g == b == 1 else ()
                    kind = forced[i] if i < len(forced) else None
                    label = f"{b_name}{door + 1}号" if courtyards else f"{b_name}{floor + 1}{door + 1:02d}室"
                    self.household(
                        building, f"{code}-g{g}-b{b}-u{floor + 1:02d}{door + 1:02d}", label, code, local_area, kind=kind
                    )
        return community

    def pingan(self, street: Place) -> Place:
        """Linfeng community: the Pingan estate, ~1,800 residents, 365 party members."""
        south, west = 29.8370, 115.2080
        north, east = south + CELL[0], west + CELL[1]
        community = self.place(
            street,
            "linfeng",
            "林峰社区",
            PlaceKind.COMMUNITY,
            boundary=_rect(south, west, north, east),
            lat=_deg((south + north) / 2),
            lng=_deg((west + east) / 2),
            office_phone="0714-7321 5600",
        )
        # grids 1–3: five 8-storey buildings with 6 flats a floor; grid 4: six courtyards
        slots: list[tuple[Place, str, str]] = []
        width = CELL[1] / 4
        number = 0
        yards = ("东一", "东二", "东三", "西一", "西二", "西三")
        for g in range(1, 5):
            g_west = west + (g - 1) * width
            grid = self.place(
                community,
                f"linfeng-g{g}",
                f"林峰社区第{g}网格",
                PlaceKind.GRID,
                boundary=_rect(south, g_west, north, g_west + width),
            )
            for b in range(1, (6 if g == 4 else 5) + 1):
                lat = _deg(south + 0.0003 + self.rng.random() * (CELL[0] - 0.0006))
                lng = _deg(g_west + 0.0003 + self.rng.random() * (width - 0.0006))
                code = f"linfeng-g{g}-b{b}"
                if g == 4:
                    yard = f"平安小区{yards[b - 1]}院"
                    building = self.place(grid, code, yard, PlaceKind.COURTYARD, lat=lat, lng=lng)
                    slots += [(building, f"{code}-u01{d:02d}", f"{yard}{d}号") for d in range(1, 15)]
                else:
                    number += 1
                    name = f"平安小区{number}栋"
                    building = self.place(grid, code, name, PlaceKind.BUILDING, lat=lat, lng=lng)
                    slots += [
                        (building, f"{code}-u{f:02d}{d:02d}", f"{name}{f}{d:02d}室")
                        for f in range(1, 9)
                        for d in range(1, 7)
                    ]
        # households until the estate has its 1,800 residents, in flats picked at random
        planned: list[tuple[str, list[_Spec]]] = []
        while sum(len(specs) for _key, specs in planned) < PINGAN_TARGET:
            kind = self.pick_kind()
            planned.append((kind, self.compose(kind)))
        flats = sorted(self.rng.sample(range(len(slots)), len(planned)))
        for index, (kind, specs) in zip(flats, planned, strict=True):
            building, code, label = slots[index]
            self.household(building, code, label, "linfeng", "420222", kind=kind, party=False, specs=specs)
        # the estate's party members (seed 003): residence and most direct ones live here
        people = [p for household in self.by_community["linfeng"] for p, _rest in household]
        # 何兆品, 80, head of the courtyard party group (院落党小组组长), a direct member
        elders = [p for p in people if p.sex == "M" and p.birth_date and _age_on(p.birth_date, self.today) >= 75]
        he = elders[0]
        self.rename(he, "何兆品")
        eligible = [p for p in people if p is not he and p.birth_date and _age_on(p.birth_date, self.today) >= 20]
        chosen = self.rng.sample(eligible, PINGAN_RESIDENCE + PINGAN_DIRECT_LIVING_THERE - 1)
        for person in chosen[:PINGAN_RESIDENCE]:
            person.party_kind = PartyKind.RESIDENCE
        for person in [he, *chosen[PINGAN_RESIDENCE:]]:
            person.party_kind = PartyKind.DIRECT
        # residents named in seed 003
        chosen_ids = {id(p) for p in chosen}
        others = [p for p in eligible if id(p) not in chosen_ids]
        for name, sex in (("胡朝阳", "M"), ("王来香", "F"), ("邓春燕", "F")):
            match = next(p for p in others if p.sex == sex)
            others.remove(match)
            self.rename(match, name)
        # members who do not live in the estate, registered at the community node
        for i in range(PINGAN_DIRECT - PINGAN_DIRECT_LIVING_THERE):
            age, sex = (46, "F") if i == 0 else (self.rng.randint(26, 58), self.rng.choice("MF"))
            person = self.person(place=community, age=age, sex=sex, local_area="420222", phone=self.new_phone())
            person.party_kind = PartyKind.DIRECT
            if i == 0:
                self.rename(person, "吴莉")  # the community secretary (seed 003)
                self.linfeng_secretary = person
        for unit, count in PINGAN_UNITS:
            for _n in range(count):
                person = self.person(
                    place=community,
                    age=self.rng.randint(25, 58),
                    sex=self.rng.choice("MF"),
                    local_area="420222",
                    phone=self.new_phone(),
                )
                person.party_kind, person.party_unit = PartyKind.PAIRED_UNIT, unit
        return community

    def save(self) -> None:
        self.builder.save()
        Household.objects.bulk_create(self.households, batch_size=1000)
        Person.objects.bulk_create(self.persons, batch_size=1000)
        HouseholdMember.objects.bulk_create(self.members, batch_size=2000)


def _build(gen: _Generator, step: Callable[[str], None]) -> None:
    r = gen.rng
    wuhan = gen.place(None, "wuhan", "武汉市", PlaceKind.CITY, lat=_deg(30.5928), lng=_deg(114.3055))
    jianghan = gen.place(wuhan, "jianghan", "江汉区", PlaceKind.DISTRICT, lat=_deg(30.6015), lng=_deg(114.2710))
    hanxing = gen.place(
        jianghan,
        "hanxing",
        "汉兴街道",
        PlaceKind.STREET,
        lat=_deg(30.5970),
        lng=_deg(114.2570),
        boundary=_rect(
            HANXING_ORIGIN[0], HANXING_ORIGIN[1], HANXING_ORIGIN[0] + 4 * CELL[0], HANXING_ORIGIN[1] + 5 * CELL[1]
        ),
    )
    for i, short in enumerate(HANXING_NAMED + HANXING_MORE):
        code = f"hanxing-{_slug(short)}"
        step(f"{short}社区")
        origin = (HANXING_ORIGIN[0] + (i // 5) * CELL[0], HANXING_ORIGIN[1] + (i % 5) * CELL[1])
        gen.community(
            hanxing,
            code,
            f"{short}社区",
            origin,
            grids=r.choice([2, 3]),
            buildings=lambda: r.randint(2, 4),
            households=lambda: r.randint(8, 16),
            local_area="420103",
            office_phone=f"027-8552 {3100 + 7 * i}",  # the community office's landline
        )

    qingshan = gen.place(wuhan, "qingshan", "青山区", PlaceKind.DISTRICT, lat=_deg(30.6400), lng=_deg(114.3850))
    gongrencun = gen.place(
        qingshan, "gongrencun", "工人村街道", PlaceKind.STREET, lat=_deg(30.6390), lng=_deg(114.3880)
    )
    step("青和居社区")
    gen.community(
        gongrencun,
        "qinghe",
        "青和居社区",
        (30.6375, 114.3860),
        grids=2,
        buildings=lambda: 3,
        households=lambda: r.randint(10, 16),
        local_area="420107",
        office_phone="027-8689 2210",
    )

    huangshi = gen.place(None, "huangshi", "黄石市", PlaceKind.CITY, lat=_deg(30.1998), lng=_deg(115.0389))
    yangxin = gen.place(huangshi, "yangxin", "阳新县", PlaceKind.COUNTY, lat=_deg(29.8306), lng=_deg(115.2153))
    xingguo = gen.place(yangxin, "xingguo", "兴国镇", PlaceKind.TOWN, lat=_deg(29.8400), lng=_deg(115.2100))
    step("林峰社区 · 平安小区")
    gen.pingan(xingguo)

    huanggang = gen.place(None, "huanggang", "黄冈市", PlaceKind.CITY, lat=_deg(30.4539), lng=_deg(114.8724))
    huangzhou = gen.place(huanggang, "huangzhou", "黄州区", PlaceKind.DISTRICT, lat=_deg(30.4347), lng=_deg(114.8800))
    donghu = gen.place(
        huangzhou, "huangzhou-donghu", "东湖街道", PlaceKind.STREET, lat=_deg(30.4450), lng=_deg(114.8850)
    )
    step("安居社区")
    gen.community(
        donghu,
        "anju",
        "安居社区",
        (30.4440, 114.8870),
        grids=2,
        buildings=lambda: 3,
        households=lambda: r.randint(8, 14),
        local_area="421102",
        courtyard_grids=(2,),
        office_phone="0713-8336 1420",
    )

    # seed 000: 华锦社区, whose residents' representatives turned a vacant lot into an adopted
    # garden, and 游乐场社区 with its monthly 欢乐夜话, both in Jiang'an
    jiangan = gen.place(wuhan, "jiangan", "江岸区", PlaceKind.DISTRICT, lat=_deg(30.6360), lng=_deg(114.3050))
    houhu = gen.place(jiangan, "jiangan-houhu", "后湖街道", PlaceKind.STREET, lat=_deg(30.6470), lng=_deg(114.2950))
    for code, name, origin, phone in (
        ("huajin", "华锦社区", (30.6480, 114.2900), "027-8277 1306"),
        ("youlechang", "游乐场社区", (30.6440, 114.2960), "027-8277 2410"),
    ):
        step(name)
        gen.community(
            houhu,
            code,
            name,
            origin,
            grids=2,
            buildings=lambda: 3,
            households=lambda: r.randint(10, 14),
            local_area="420102",
            office_phone=phone,
        )

    # people named in the seeds
    _name_first(
        gen,
        "hanxing-changsi",
        "孙黄清",
        lambda p, rel: p.sex == "M" and Vulnerability.ELDERLY_ALONE in p.vulnerabilities,
    )  # seed 004: lives alone
    _name_first(gen, "anju", "成良", lambda p, rel: p.sex == "M" and rel == Relation.HEAD, party=True)  # seed 002
    _name_first(gen, "anju", "刘光彩", lambda p, rel: p.sex == "M" and rel == Relation.HEAD)  # 乡贤理事会


def _name_first(
    gen: _Generator, community: str, name: str, test: Callable[[Person, str], bool], party: bool = False
) -> None:
    taken = {"孙黄清", "成良", "刘光彩"}
    for household in gen.by_community.get(community, []):
        for person, relation in household:
            if person.name not in taken and test(person, relation):
                gen.rename(person, name)
                if party:
                    person.party_kind, person.party_unit = PartyKind.RESIDENCE, ""
                return


def _account_people(gen: _Generator) -> dict[str, Person]:
    """The person behind each demo account (not yet saved)."""
    first_building = gen.by_community["hanxing-changer"][:4]  # households u0101, u0102, u0201, u0202
    heads = [next(p for p, rel in household if rel == Relation.HEAD) for household in first_building]
    people: dict[str, Person] = {}
    for username, head in zip(("resident", "leader", "partyhead", "volunteer"), heads, strict=True):
        if not head.phone:
            head.phone = gen.new_phone()
        people[username] = head
    people["resident"].phone = RESIDENT_PHONE
    for username, phone in CARER_PHONES.items():
        people[username].phone = phone
    people["partyhead"].party_kind, people["partyhead"].party_unit = PartyKind.RESIDENCE, ""
    people["volunteer"].is_volunteer = True
    for account in ACCOUNTS:
        if account.username in people:
            continue
        if account.username == "linfeng" and gen.linfeng_secretary is not None:
            people["linfeng"] = gen.linfeng_secretary
            continue
        place = gen.places[account.place_code]
        people[account.username] = gen.person(
            place=place,
            age=gen.rng.randint(26, 55),
            sex=gen.rng.choice("MF"),
            local_area="420103",
            phone=gen.new_phone(),
        )
    return people


def _sign_in(username: str, role: str) -> str:
    if role in STAFF_ROLES:
        return _("密码 + TOTP")
    if role == Role.RESIDENT:
        return _("短信验证码") + f" ({RESIDENT_PHONE})"
    if username in CARER_PHONES:
        return _("短信验证码") + f" ({CARER_PHONES[username]})"
    return _("短信验证码或密码")


def _create_accounts(people: dict[str, Person]) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    password = make_password(DEMO_PASSWORD)  # hashed once: every demo account shares it
    departments = {d.code: d for d in Department.objects.all()}
    for account in ACCOUNTS:
        if User.objects.filter(username=account.username).exists():
            raise ImproperlyConfigured(_("用户名 %(username)s 已存在，请使用 --reset") % {"username": account.username})
        person = people[account.username]
        user = User(username=account.username, display_name=person.name, password=password)
        if account.role == Role.ADMIN:
            user.is_superuser = user.is_staff = True
        if account.role not in STAFF_ROLES:  # residents and volunteers sign in with an SMS code
            user.phone, user.phone_verified = person.phone, True
        user.save()
        person.user = user
        person.save(update_fields=["user", "updated_at"])
        place = Place.objects.get(code=account.place_code)
        membership_grant(
            actor=SYSTEM,
            person=person,
            place=place,
            role=account.role,
            department=departments[account.department_code] if account.department_code else None,
            reason=DATA["reason"],
        )
        if account.role in STAFF_ROLES:
            TOTP.activate(user, DEMO_TOTP_SECRET)


def _require_demo() -> None:
    if not getattr(settings, "LINLI_DEMO", False):
        raise ImproperlyConfigured(_("演示数据只能在演示环境加载 (LINLI_DEMO)"))


def load_demo(*, progress: Progress | None = None, seed: int = 20261125) -> DemoSummary:
    """Load the demo data in one transaction: the places, people, departments and accounts,
    then each app's seed (``core.registry.demo_seeds``); do nothing if it is already there."""
    _require_demo()
    started = time.monotonic()
    seeds = demo_seeds()
    # the apps' steps are counted once the places exist; until then, an estimate
    total = 8 + len(HANXING_NAMED) + len(HANXING_MORE) + 4 * len(seeds)
    done = 0

    def step(description: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(description, min(done, total), total)

    with transaction.atomic():
        if Place.objects.filter(code="wuhan").exists():
            summary = summarize()
            summary.already_loaded = True
            if progress:
                progress(_("已加载"), total, total)
            summary.seconds = time.monotonic() - started
            return summary
        step(_("生成地点与居民"))
        gen = _Generator(seed)
        _build(gen, step)
        people = _account_people(gen)
        step(_("写入地点"))
        gen.save()
        step(_("写入部门"))
        Department.objects.bulk_create(
            [
                Department(code=code, name=name, kind=kind, place=gen.places[place])
                for code, name, kind, place in DEPARTMENTS
            ]
        )
        step(_("创建演示账户"))
        _create_accounts(people)
        step(_("写入审计记录"))
        for code, households in gen.by_community.items():
            community = gen.places[code]
            audit_record(
                actor=SYSTEM,
                action=AuditEntry.Action.IMPORT,
                target=community,
                place=community,
                reason=DATA["reason"],
                changes={"households": len(households), "people": sum(len(h) for h in households)},
            )
        paths = _root_paths()
        modules = [s.load_module() for s in seeds]
        total = done + sum(module.steps(paths) for module in modules)
        for module in modules:
            module.load(paths=paths, step=step)
        summary = summarize()
    summary.seconds = time.monotonic() - started
    if progress:
        progress(_("完成"), total, total)
    return summary


def summarize() -> DemoSummary:
    """Counts of what the demo subtrees hold now."""
    summary = DemoSummary()
    paths = _root_paths()
    if not paths:
        return summary
    in_places = under(paths, "path")
    in_people = under(paths, "place__path")
    summary.places = dict(Place.objects.filter(in_places).values_list("kind").annotate(n=Count("id")).order_by("kind"))
    summary.households = Household.objects.filter(in_people).count()
    people = Person.objects.filter(in_people)
    summary.people = people.count()
    summary.departments = Department.objects.filter(in_people).count()
    summary.party_members = dict(
        people.exclude(party_kind="").values_list("party_kind").annotate(n=Count("id")).order_by("party_kind")
    )
    summary.vulnerabilities = {v: people.filter(vulnerabilities__contains=[v]).count() for v in Vulnerability.values}
    summary.veterans = people.filter(is_veteran=True).count()
    summary.volunteers = people.filter(is_volunteer=True).count()
    linfeng = Place.objects.filter(code="linfeng").first()
    if linfeng is not None:
        summary.pingan_residents = HouseholdMember.objects.filter(
            household__place__path__startswith=linfeng.path
        ).count()
        summary.pingan_party_members = dict(
            Person.objects.filter(place__path__startswith=linfeng.path)
            .exclude(party_kind="")
            .values_list("party_kind")
            .annotate(n=Count("id"))
            .order_by("party_kind")
        )
    for account in ACCOUNTS:
        membership = (
            Membership.objects.filter(person__user__username=account.username, role=account.role, ended_at__isnull=True)
            .select_related("place", "department")
            .first()
        )
        if membership is not None:
            summary.accounts.append(
                (
                    account.username,
                    str(Role(account.role).label),
                    # as a street official reads it: 常二社区 1栋
                    PlaceNamer(STREET_LEVEL).name(membership.place)
                    + (f" · {membership.department.name}" if membership.department else ""),
                    _sign_in(account.username, account.role),
                )
            )
    summary.seeds = {seed.key: seed.load_module().counts(paths) for seed in demo_seeds()}
    return summary


# --- reset -------------------------------------------------------------------------------


def _purge(queryset: models.QuerySet[Any], deleted: Counter[str], depth: int = 0) -> None:
    """Delete ``queryset`` and count the rows by model; rows of other models that protect
    it (say, a future app's records at a demo place) are deleted first."""
    for _attempt in range(20):
        try:
            deleted.update({label: n for label, n in queryset.delete()[1].items() if n})
            return
        except (ProtectedError, RestrictedError) as exc:
            if depth > 8:
                raise
            blocking = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
            by_model: dict[type[models.Model], list[Any]] = {}
            for obj in blocking:
                by_model.setdefault(type(obj), []).append(obj.pk)
            for model, pks in by_model.items():
                _purge(model._default_manager.filter(pk__in=pks), deleted, depth + 1)
    raise RuntimeError("could not delete the demo data: too many protecting rows")


def reset_demo() -> dict[str, int]:
    """Remove the demo subtrees, everything registered in them and the demo accounts.

    Returns the number of deleted rows by model label. Audit entries about the demo are
    deleted too, with the append-only trigger suspended for this transaction only; every
    other audit entry stays as it was (one whose actor was a demo account keeps its
    ``actor_name`` and loses the link).
    """
    _require_demo()
    deleted: Counter[str] = Counter()
    from linli.accounts.models import ApiClient

    modules = [seed.load_module() for seed in reversed(demo_seeds())]
    triggers = [trigger for module in modules for trigger in getattr(module, "TRIGGERS", ())]
    with transaction.atomic(), pgtrigger.ignore("core.AuditEntry:audit_append_only", *triggers):
        paths = _root_paths()
        places = Place.objects.filter(under(paths, "path")).values("pk")
        # the demo accounts, and the accounts of the demo's people (the carers of the visits)
        users = User.objects.filter(Q(username__in=USERNAMES) | Q(person__place__in=places))
        for module in modules:
            for queryset in module.purge(paths):
                _purge(queryset, deleted)
        clients = ApiClient.objects.filter(user__in=users.values("pk"))
        _purge(
            AuditEntry.objects.filter(
                target_type="accounts.apiclient", target_id__in=[str(pk) for pk in clients.values_list("pk", flat=True)]
            ),
            deleted,
        )
        _purge(clients, deleted)
        _purge(AuditEntry.objects.filter(under(paths) | Q(place__in=places)), deleted)
        _purge(
            Membership.objects.filter(
                Q(place__in=places)
                | Q(person__place__in=places)
                | Q(department__place__in=places)
                | Q(person__user__in=users.values("pk"))
            ),
            deleted,
        )
        _purge(users, deleted)
        _purge(Household.objects.filter(place__in=places), deleted)
        _purge(Person.objects.filter(place__in=places), deleted)
        _purge(Department.objects.filter(place__in=places), deleted)
        _purge(Place.objects.filter(code__in=ROOT_CODES, depth=1), deleted)
    return dict(deleted)


# --- TOTP --------------------------------------------------------------------------------


def totp_code_for(username: str, at: float | None = None) -> str:
    """The current TOTP code of a demo account, computed the way allauth checks it."""
    from allauth.mfa import app_settings
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
    from allauth.mfa.utils import decrypt

    authenticator = Authenticator.objects.filter(user__username=username, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        raise LookupError(_("账户 %(username)s 未设置两步验证") % {"username": username})
    secret = decrypt(authenticator.data["secret"])
    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))
