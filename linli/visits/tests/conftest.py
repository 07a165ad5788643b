"""Fixtures for the visits tests: the foundation's small world with its carers assigned.

In community A the central household (党员中心户) cares for ``household_a``; the building leader
holds the same role but has no households, so a visit from them is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from linli.needs.tests.conftest import make_categories
from linli.visits.services import care_assign

NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def vw(world: Any) -> Any:
    world.categories = make_categories()
    world.carer = world.users["central_household"].person
    world.assignment = care_assign(
        actor=world.users["grid_worker"], household=world.households["household_a"], carer=world.carer, now=NOW
    )
    world.now = NOW
    return world
