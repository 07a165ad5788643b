"""Reads about people, always through the actor's scope (masked values only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from linli.core.access import RANK, Actor, Grant, Role, account_id, get_or_404, scope_for
from linli.core.models import AuditEntry
from linli.core.text import normalize
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name
from linli.people.models import Department, Household, HouseholdMember, Membership, Person
from linli.places.capabilities import PlaceCap
from linli.places.models import Place


def person_list(
    *, actor: Actor, place: Place | None = None, q: str | None = None, vulnerability: str | None = None
) -> QuerySet[Person]:
    """People the actor may see: in its scope, plus always the actor itself."""
    scope = scope_for(actor)
    qs = Person.objects.visible(actor, PeopleCap.VIEW_PEOPLE).select_related("place")
    if place is not None:
        qs = qs.filter(place__path__startswith=place.path)
    if q:
        key = normalize(q)
        qs = qs.filter(Q(name_search__contains=key) | Q(name_pinyin__startswith=key.replace(" ", "")))
    if vulnerability:
        if not scope.holds_anywhere(PeopleCap.VIEW_SENSITIVE):
            return qs.none()
        qs = qs & Person.objects.visible(actor, PeopleCap.VIEW_SENSITIVE).filter(
            vulnerabilities__contains=[vulnerability]
        )
    return qs.order_by("name", "id")


def access_person(actor: Actor, person_id: int | str) -> Person:
    return get_or_404(person_list(actor=actor), person_id, "person")


def sees_sensitive(actor: Actor, path: str) -> bool:
    """Whether ``actor`` may see the health and social flags (困难标记) of the household or
    person at ``path``: roles with ``view_sensitive`` there, or a carer for its own households
    (the visits app adds those paths to ``view_sensitive``)."""
    return scope_for(actor).allows(PeopleCap.VIEW_SENSITIVE, path)


def can_see_sensitive(actor: Actor, person: Person) -> bool:
    return sees_sensitive(actor, person.place.path)


def can_unmask(actor: Actor, person: Person) -> bool:
    return scope_for(actor).allows(PeopleCap.UNMASK, person.place.path)


def household_list(*, actor: Actor, place: Place | None = None) -> QuerySet[Household]:
    qs = Household.objects.visible(actor, PeopleCap.VIEW_PEOPLE).select_related("place")
    if place is not None:
        qs = qs.filter(place__path__startswith=place.path)
    return qs.prefetch_related(
        Prefetch("members", queryset=HouseholdMember.objects.select_related("person").order_by("id"))
    ).order_by("place__path")


def access_household(actor: Actor, household_id: int | str) -> Household:
    return get_or_404(household_list(actor=actor), household_id, "household")


def membership_list(
    *, actor: Actor, place: Place | None = None, person: Person | None = None, active: bool = True
) -> QuerySet[Membership]:
    qs = Membership.objects.visible(actor, PeopleCap.VIEW_MEMBERSHIPS).select_related("person", "place", "department")
    if place is not None:
        qs = qs.filter(place__path__startswith=place.path)
    if person is not None:
        qs = qs.filter(person=person)
    if active:
        qs = qs.filter(ended_at__isnull=True)
    return qs.order_by("place__path", "role", "id")


def access_membership(actor: Actor, membership_id: int | str) -> Membership:
    return get_or_404(membership_list(actor=actor, active=False), membership_id, "membership")


def my_household(*, actor: Actor) -> Household | None:
    """The household the actor lives in (its first, if it is registered in several)."""
    person = getattr(actor, "person", None)
    if person is None:
        return None
    link = person.household_links.select_related("household__place").first()
    return link.household if link else None


def own_household_paths(actor: Actor) -> list[str]:
    """The place paths of the households the actor lives in: everyone may see their own
    household and its members (masked as anywhere), whatever roles they hold elsewhere."""
    person_id = scope_for(actor).person_id if account_id(actor) is not None else None
    if person_id is None:
        return []
    return list(HouseholdMember.objects.filter(person_id=person_id).values_list("household__place__path", flat=True))


def my_memberships(*, actor: Actor) -> QuerySet[Membership]:
    account = account_id(actor)
    if account is None:
        return Membership.objects.none()
    return (
        Membership.objects.filter(person__user_id=account, ended_at__isnull=True)
        .select_related("place", "department")
        .order_by("place__path")
    )


def department_list(*, actor: Actor) -> QuerySet[Department]:
    return Department.objects.visible(actor, PlaceCap.VIEW_PLACES).select_related("place")


def audit_list(*, actor: Actor, place: Place | None = None, action: str | None = None) -> QuerySet[AuditEntry]:
    """The audit trail of the places the actor may audit (community secretaries, admins)."""
    qs = AuditEntry.objects.visible(actor, PeopleCap.VIEW_AUDIT)
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-at", "-id")


def membership_grants(actor: Actor) -> tuple[int | None, list[Grant]]:
    """The roles an account holds and where (its active memberships), in one query: the
    access kernel's source of grants."""
    account = account_id(actor)
    if account is None:
        return None, []
    rows = Membership.objects.filter(person__user_id=account, ended_at__isnull=True).values_list(
        "role", "place__path", "place_id", "department_id", "person_id"
    )
    grants = [Grant(role=r, path=p, place_id=pid, department_id=d) for r, p, pid, d, _ in rows]
    person_id = rows[0][4] if rows else getattr(getattr(actor, "person", None), "pk", None)
    return person_id, grants


def timeline_names(accounts: Mapping[int, str], path: str) -> dict[int, tuple[str, str]]:
    """Who the accounts that took steps on a timeline are, for its readers (the kernel's
    ``core.timeline.register_account_namer``): the highest role each holds at ``path`` (else
    anywhere; 居民 when it holds none) and its person's name, masked as everywhere (张*; the
    name kept on the events when the account has no person). Two queries."""
    ids = list(accounts)
    people = dict(Person.objects.filter(user_id__in=ids).values_list("user_id", "name"))
    roles: dict[int, list[tuple[bool, int, str]]] = {}
    rows = Membership.objects.filter(person__user_id__in=ids, ended_at__isnull=True).values_list(
        "person__user_id", "role", "place__path"
    )
    for user_id, role, place_path in rows:
        roles.setdefault(user_id, []).append((path.startswith(place_path), RANK.get(role, -1), role))
    named: dict[int, tuple[str, str]] = {}
    for user_id in ids:
        held = max(roles.get(user_id, []), default=None)
        role = held[2] if held else (Role.RESIDENT if user_id in people else "")
        named[user_id] = (role, mask_name(people.get(user_id) or accounts[user_id]))
    return named


def with_people_counts(qs: QuerySet[Any]) -> QuerySet[Any]:
    """The residents of each place's subtree, for place lists (a correlated subquery on an
    indexed prefix; registered with ``core.registry.register_place_counts``)."""
    people = (
        Person.objects.filter(place__path__startswith=OuterRef("path"))
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(c=Count("id"))
        .values("c")
    )
    counted: QuerySet[Any] = qs.annotate(people_count=Coalesce(Subquery(people, output_field=IntegerField()), 0))
    return counted
