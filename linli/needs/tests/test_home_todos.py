"""The home page's to-do counts: each role sees what waits for it (needs to accept where it
handles needs, dispatches to check in or overdue for a liaison, households overdue for a visit
for a grid worker or a carer, needs awaiting its rating for a resident), each count a link to
the list it counts and equal to that list's length; the page's queries do not grow with the
data."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.core.access import SYSTEM
from linli.needs.models import Need
from linli.needs.services import dispatch_checkin, need_accept, need_create, need_rate, need_resolve, need_whistle
from linli.people.services import household_create
from linli.testing import sign_in
from linli.visits.services import care_assign, visit_log

pytestmark = pytest.mark.django_db
_serial = itertools.count(1)

TODO = re.compile(r'<a class="card todo[^"]*" href="([^"]+)" id="([^"]+)"><strong class="todo-count">(\d+)</strong>')

#: The to-dos each role of the world sees.
EXPECTED = {
    "grid_worker": {"todo-accept", "todo-grid-visits"},
    "secretary": {"todo-accept"},
    "community_staff": {"todo-accept"},
    "street_official": {"todo-accept"},
    "department_liaison": {"todo-checkin", "todo-dispatch-overdue"},
    "resident": {"todo-rate"},
    "central_household": {"todo-rate", "todo-my-visits"},
    "building_leader": {"todo-rate", "todo-my-visits"},
    "volunteer": {"todo-rate"},
}


def _as(nw: Any, who: str) -> Client:
    client = Client()
    sign_in(client, nw.users[who])
    return client


def _todos(client: Client) -> dict[str, tuple[int, str]]:
    html = client.get("/").content.decode()
    return {key: (int(count), href.replace("&amp;", "&")) for href, key, count in TODO.findall(html)}


def _list_length(client: Client, href: str) -> int:
    """How many rows the list at ``href`` holds, over all its pages."""
    patterns = {
        "/needs/queue/": r'name="need" value="\d+"',
        "/needs/dispatches/": r'class="job-link"',
        "/needs/mine/": r'<li><a href="/needs/\d+/(?:#rate-form)?">',
        "/visits/": r'<li class="cov-row">',
    }
    pattern = next(p for prefix, p in patterns.items() if href.startswith(prefix))
    total, page = 0, 1
    while True:
        response = client.get(f"{href}&page={page}")
        assert response.status_code == 200, href
        html = response.content.decode()
        total += len(re.findall(pattern, html))
        if "page=" + str(page + 1) not in html:
            return total
        page += 1


def _world_with_work(nw: Any, *, scale: int = 1) -> None:
    """Needs in every state in both communities, the water company's dispatches (one
    overdue, one checked in), needs the resident should rate, and households of grid A, some
    cared for and visited."""
    users = nw.users
    long_ago = timezone.now() - dt.timedelta(days=20)
    for i in range(scale):
        for place, worker in ((nw.household_place_a, "grid_worker"), (nw.household_place_b, "grid_worker_b")):
            need_create(actor=users[worker], text=f"{i}号楼道灯不亮", place=place)
            accepted = need_create(actor=users[worker], text=f"{i}号垃圾没人清", place=place)
            need_accept(actor=users[worker], need=accepted)
        late = need_create(
            actor=users["resident"], text=f"{i}号水管漏水很久了", place=nw.household_place_a, now=long_ago
        )
        need_whistle(actor=users["grid_worker"], need=late, departments=[nw.department], now=long_ago)
        fresh = need_create(actor=users["resident"], text=f"{i}号家里停水了", place=nw.household_place_a)
        [fresh_dispatch] = need_whistle(actor=users["grid_worker"], need=fresh, departments=[nw.department])
        if i % 2:
            dispatch_checkin(actor=users["department_liaison"], dispatch=fresh_dispatch)
        other = need_create(actor=users["grid_worker_b"], text=f"{i}号停水", place=nw.household_place_b)
        need_whistle(actor=users["grid_worker_b"], need=other, departments=[nw.power])
        # the resident's own: two resolved, one of them rated already
        for rated in (False, True):
            mine = need_create(actor=users["resident"], text=f"{i}号路灯坏了{rated}", place=nw.household_place_a)
            need_resolve(actor=users["grid_worker"], need=mine, result="已修好")
            if rated:
                need_rate(actor=users["resident"], need=mine, resolved=True, satisfaction="satisfied")
        for who in ("central_household", "building_leader", "volunteer"):
            mine = need_create(actor=users[who], text=f"{i}号楼道堆物{who}", place=nw.building_a)
            need_resolve(actor=users["grid_worker"], need=mine, result="已清理")
        # households of grid A: the carers look after them, and visit every other one
        for j in range(2):
            n = next(_serial)
            household = household_create(
                actor=SYSTEM, building=nw.building_a, code=f"t-a-g1-b1-x{n}", name=f"{n}室", floor_area=None
            )
            carer = users["central_household" if j else "building_leader"].person
            care_assign(actor=SYSTEM, household=household, carer=carer)
            if i % 2:
                visit_log(
                    actor=users["central_household" if j else "building_leader"], household=household, kind="knock"
                )


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_home_counts_are_the_lengths_of_the_lists_they_link_to(nw: Any, who: str) -> None:
    _world_with_work(nw, scale=2)
    client = _as(nw, who)
    todos = _todos(client)
    assert set(todos) == EXPECTED[who]
    for key, (count, href) in todos.items():
        assert count == _list_length(client, href), (who, key, href)
        assert count > 0, (who, key)  # the world gives each of them something to do


def test_the_counts_follow_each_readers_scope(nw: Any) -> None:
    _world_with_work(nw)
    # two reported, one accepted per community: A's own two for its workers, both for the street
    assert _todos(_as(nw, "grid_worker"))["todo-accept"][0] == 1
    assert _todos(_as(nw, "grid_worker_b"))["todo-accept"][0] == 1
    assert _todos(_as(nw, "street_official"))["todo-accept"][0] == 2
    # the water company's: two waiting for check-in, one of them overdue; the power company's not
    liaison = _todos(_as(nw, "department_liaison"))
    assert liaison["todo-checkin"][0] == 2 and liaison["todo-dispatch-overdue"][0] == 1
    # the resident rates one (the other is rated); a rating done removes it
    resident = _as(nw, "resident")
    count, href = _todos(resident)["todo-rate"]
    assert count == 1 and href == "/needs/mine/?show=rate"
    [waiting] = re.findall(r'<li><a href="/needs/(\d+)/#rate-form">', resident.get(href).content.decode())
    resident.post(f"/needs/{waiting}/rate/", {"resolved": "1", "satisfaction": "satisfied"})
    assert _todos(resident)["todo-rate"][0] == 0
    assert Need.objects.get(pk=waiting).ratings.count() == 1
    # a grid worker's households overdue for a visit: the three never visited in grid A
    assert _todos(_as(nw, "grid_worker"))["todo-grid-visits"] == (3, f"/visits/coverage/{nw.grid_a.code}/?status=late")


def _home_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_home_pages_queries_do_not_grow_with_the_data(nw: Any) -> None:
    clients = {who: _as(nw, who) for who in EXPECTED}
    _world_with_work(nw)
    few = {who: _home_queries(client) for who, client in clients.items()}
    _world_with_work(nw, scale=4)
    many = {who: _home_queries(client) for who, client in clients.items()}
    assert Need.objects.count() == 5 * 12  # five times the work
    assert many == few
