"""Proposing carers (包保人) for a place's households: nearest first, even load, vulnerable
households spread fairly.

``balance_propose`` reads; it writes nothing. For every household of the place without an
active carer (or every household, with ``rebalance=True``) it proposes one among the people
holding a carer role (``capabilities.CARER_ROLES``) for the household's grid, by these rules:

1. **Vulnerable households first.** A household is vulnerable when a member carries a
   vulnerability mark (``Person.vulnerabilities``). Within a grid each carer takes at most
   ``ceil(vulnerable households ÷ carers)`` of them while another carer still has room under
   that share, so that no one carer holds all the frail elderly of a grid.
2. **Nearest.** A carer whose own household, registered place or carer role is in the
   household's building or courtyard beats one elsewhere in the grid, who beats one whose role
   covers the grid from above (the community).
3. **Even load.** Among equally near carers the one with fewer households; nobody goes past
   ``capacity`` households, counting the assignments they already hold anywhere.
4. **Deterministic.** Ties fall to the carer's name, then id; households are taken in place
   order, those with a carer in their own building before the others, so that a building's
   own carer is not used up by a neighbour's households.

A household no carer can take (none eligible, or all full) is returned as a proposal without a
carer and with the reason, never dropped. ``balance_apply`` writes the proposals in one
transaction through ``services.care_assign``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor
from linli.people.models import Household, HouseholdMember, Membership, Person
from linli.places.models import Place, PlaceKind, path_len
from linli.visits.models import CareAssignment
from linli.visits.services import GRID_PATH_LEN, care_assign, carer_memberships

#: The place-path length of a building or courtyard.
BUILDING_PATH_LEN = path_len(PlaceKind.BUILDING)
#: How near a carer is to a household, best first.
NEAR_BUILDING, NEAR_GRID, NEAR_ABOVE = 0, 1, 2
NEARNESS_LABELS = {NEAR_BUILDING: _("同楼"), NEAR_GRID: _("同网格"), NEAR_ABOVE: _("同社区")}
#: Where balancing may run: a whole community, a grid, or one building/courtyard.
BALANCE_KINDS = (
    PlaceKind.STREET,
    PlaceKind.TOWN,
    PlaceKind.COMMUNITY,
    PlaceKind.VILLAGE,
    PlaceKind.GRID,
    PlaceKind.BUILDING,
    PlaceKind.COURTYARD,
)

NO_CARER = _("网格内没有党员中心户或楼栋长")
ALL_FULL = _("网格内的包保人都已满额")


@dataclass(frozen=True)
class CarerInfo:
    """A possible carer: the carer-role places (``roles``) and where they live (``homes``)."""

    person_id: int
    name: str
    roles: tuple[str, ...]
    homes: tuple[str, ...]

    def covers(self, household_path: str) -> bool:
        """The rule of ``services.is_carer_for``: a carer role at the household's grid, inside
        it, or above it."""
        return covers(self.roles, household_path)

    def nearness(self, household_path: str) -> int:
        building = household_path[:BUILDING_PATH_LEN]
        grid = household_path[:GRID_PATH_LEN]
        paths = self.roles + self.homes
        if any(p.startswith(building) for p in paths):
            return NEAR_BUILDING
        if any(p.startswith(grid) for p in paths):
            return NEAR_GRID
        return NEAR_ABOVE


@dataclass(frozen=True)
class Proposal:
    """One household and the carer proposed for it (``carer`` is ``None`` when nobody can take
    it; ``reason`` then says why)."""

    household: Household
    carer: Person | None
    current_carer_id: int | None
    vulnerable: bool
    nearness: int | None
    reason: str = ""
    building: str = ""

    @property
    def changes(self) -> bool:
        return self.carer is not None and self.carer.pk != self.current_carer_id


def covers(role_paths: Iterable[str], household_path: str) -> bool:
    grid = household_path[:GRID_PATH_LEN]
    return any(p.startswith(grid) or grid.startswith(p) for p in role_paths)


def carer_infos(place: Place) -> dict[int, CarerInfo]:
    """Everyone holding an active carer role inside ``place`` or above it, with their role
    places and where they live (registered place and households), in three queries."""
    rows = Membership.objects.filter(carer_memberships(place)).values_list("person_id", "place__path")
    roles: dict[int, set[str]] = defaultdict(set)
    for person_id, path in rows:
        roles[person_id].add(path)
    homes: dict[int, set[str]] = defaultdict(set)
    people = Person.objects.filter(pk__in=roles).values_list("pk", "name", "place__path")
    names = {}
    for pk, name, path in people:
        names[pk] = name
        homes[pk].add(path)
    for person_id, path in HouseholdMember.objects.filter(person_id__in=roles).values_list(
        "person_id", "household__place__path"
    ):
        homes[person_id].add(path)
    return {
        pk: CarerInfo(pk, names.get(pk, ""), tuple(sorted(roles[pk])), tuple(sorted(homes[pk]))) for pk in sorted(roles)
    }


def _vulnerable_households(place: Place) -> set[int]:
    return set(
        HouseholdMember.objects.filter(household__place__path__startswith=place.path)
        .exclude(person__vulnerabilities=[])
        .values_list("household_id", flat=True)
    )


def balance_propose(
    *, place: Place, capacity: int = 10, rebalance: bool = False, now: dt.datetime | None = None
) -> list[Proposal]:
    """Propose carers for the households of ``place`` that have no active carer (every
    household with ``rebalance``). Reads only; see the module's docstring for the rules.
    Proposals come vulnerable households first, then in place order; households nobody can
    take come last. ``now`` is accepted for symmetry with the services (the proposal does not
    depend on the time)."""
    del now
    if place.kind not in BALANCE_KINDS:
        raise ValidationError({"place": [_("请选择社区、网格、楼栋或院落")]})
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValidationError({"capacity": [_("每人包保户数至少为1")]})
    households = list(
        Household.objects.filter(place__path__startswith=place.path).select_related("place").order_by("place__path")
    )
    current = dict(
        CareAssignment.objects.filter(place_path__startswith=place.path, ended_at__isnull=True).values_list(
            "household_id", "carer_id"
        )
    )
    vulnerable = _vulnerable_households(place)
    buildings = dict(
        Place.objects.filter(
            path__in={h.place.path[:BUILDING_PATH_LEN] for h in households}, depth=BUILDING_PATH_LEN // Place.steplen
        ).values_list("path", "name")
    )
    carers = carer_infos(place)
    people = {p.pk: p for p in Person.objects.filter(pk__in=carers)}
    todo = [h for h in households if rebalance or h.pk not in current]
    todo_ids = {h.pk for h in todo}

    # what each carer already holds (anywhere), less the households being redone
    load: dict[int, int] = defaultdict(int)
    vulnerable_load: dict[int, int] = defaultdict(int)
    held = CareAssignment.objects.filter(carer_id__in=carers, ended_at__isnull=True)
    for carer_id, count in held.values_list("carer_id").annotate(n=Count("id")).values_list("carer_id", "n"):
        load[carer_id] = count
    for household_id, carer_id in current.items():
        if household_id in todo_ids:
            load[carer_id] -= 1
        elif household_id in vulnerable:
            vulnerable_load[carer_id] += 1

    eligible: dict[int, list[CarerInfo]] = {}
    by_grid: dict[str, list[CarerInfo]] = {}
    for h in households:
        grid = h.place.path[:GRID_PATH_LEN]
        if grid not in by_grid:
            by_grid[grid] = [c for c in carers.values() if c.covers(h.place.path)]
        eligible[h.pk] = by_grid[grid]
    # each grid's fair share of vulnerable households per carer
    grid_vulnerable: dict[str, int] = defaultdict(int)
    for h in households:
        if h.pk in vulnerable:
            grid_vulnerable[h.place.path[:GRID_PATH_LEN]] += 1
    share = {grid: math.ceil(grid_vulnerable[grid] / len(found)) if found else 0 for grid, found in by_grid.items()}

    def best_nearness(h: Household) -> int:
        return min((c.nearness(h.place.path) for c in eligible[h.pk]), default=NEAR_ABOVE + 1)

    order = sorted(todo, key=lambda h: (h.pk not in vulnerable, best_nearness(h), h.place.path))
    proposals: list[Proposal] = []
    unplaced: list[Proposal] = []
    for h in order:
        path = h.place.path
        is_vulnerable = h.pk in vulnerable
        candidates = [c for c in eligible[h.pk] if load[c.person_id] < capacity]
        if not candidates:
            reason = ALL_FULL if eligible[h.pk] else NO_CARER
            building = buildings.get(path[:BUILDING_PATH_LEN], "")
            unplaced.append(Proposal(h, None, current.get(h.pk), is_vulnerable, None, reason, building))
            continue
        grid_share = share.get(path[:GRID_PATH_LEN], 0)
        rank = partial(
            _rank, path=path, vulnerable=is_vulnerable, share=grid_share, load=load, vulnerable_load=vulnerable_load
        )
        chosen = min(candidates, key=rank)
        load[chosen.person_id] += 1
        if is_vulnerable:
            vulnerable_load[chosen.person_id] += 1
        proposals.append(
            Proposal(
                h,
                people[chosen.person_id],
                current.get(h.pk),
                is_vulnerable,
                chosen.nearness(path),
                building=buildings.get(path[:BUILDING_PATH_LEN], ""),
            )
        )
    return proposals + unplaced


def _rank(
    carer: CarerInfo,
    *,
    path: str,
    vulnerable: bool,
    share: int,
    load: dict[int, int],
    vulnerable_load: dict[int, int],
) -> tuple[Any, ...]:
    """Smaller is better: a vulnerable household goes to a carer under the grid's fair share of
    vulnerable households if there is one, then nearest, then the least loaded."""
    near, held = carer.nearness(path), load[carer.person_id]
    if vulnerable:
        frail = vulnerable_load[carer.person_id]
        return (frail >= share, near, frail, held, carer.name, carer.person_id)
    return (near, held, carer.name, carer.person_id)


@transaction.atomic
def balance_apply(
    *,
    actor: Actor,
    proposals: Sequence[Proposal],
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the proposals that name a carer, all or nothing, through ``care_assign`` (which
    checks the actor's ``manage_care`` at each household and ends a previous carer's
    assignment, kept as history). Returns the number of households whose carer changed."""
    now = now or timezone.now()
    changed = 0
    todo = [p for p in proposals if p.carer is not None and p.changes]
    for proposal in todo:
        assert proposal.carer is not None
        care_assign(
            actor=actor,
            household=proposal.household,
            carer=proposal.carer,
            now=now,
            reason=_("均衡分配"),
        )
        changed += 1
        if progress is not None:
            progress(changed, len(todo))
    return changed
