"""How a place is named to its reader: relative to the reader's scope, each name once, in the
reader's script (``place_label``, ``PlaceNamer``, the ``place_name`` tag), on the pages that
list places at every level."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from linli.core.access import SYSTEM
from linli.needs.services import need_create
from linli.people.models import Relation
from linli.people.services import household_create, person_create
from linli.places.models import place_label
from linli.places.selectors import PlaceNamer, reader_level
from linli.testing import make_phone, sign_in

TOP = [(0, "武汉市"), (1, "江汉区"), (2, "汉兴街道"), (3, "常二社区")]
FLAT = [*TOP, (4, "常二社区第1网格"), (5, "1栋"), (6, "1栋502室")]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (0, "常二社区 1栋502室"),  # an admin
        (1, "常二社区 1栋502室"),  # a district official, a department's liaison
        (2, "常二社区 1栋502室"),  # a street official: the community first
        (3, "第1网格 1栋502室"),  # a secretary: the grid without its community's name
        (4, "1栋502室"),  # a grid worker
        (5, "1栋502室"),  # a carer
        (6, "1栋502室"),  # the resident
        (None, "1栋502室"),  # someone without a role: the name alone
    ],
)
def test_a_household_named_after_its_building_is_named_once(level: int | None, expected: str) -> None:
    assert place_label(FLAT, level) == expected


def test_a_grid_named_after_its_community() -> None:
    grid = [*TOP, (4, "常二社区第1网格")]
    assert place_label(grid, 2) == "常二社区第1网格"  # not 常二社区 常二社区第1网格
    assert place_label(grid, 3) == "第1网格"
    assert place_label(grid, 4) == "常二社区第1网格"  # the grid worker's own grid
    assert place_label([*grid, (5, "1栋")], 3) == "第1网格 1栋"
    assert place_label([*grid, (5, "1栋")], 2) == "常二社区 1栋"
    # a grid named exactly as its community keeps its name
    assert place_label([*TOP, (4, "常二社区"), (5, "1栋")], 3) == "常二社区 1栋"


def test_names_that_repeat_nothing_are_joined_with_a_space() -> None:
    plain = [*TOP, (4, "第一网格"), (5, "1栋"), (6, "1单元101")]
    assert place_label(plain, 2) == "常二社区 1栋 1单元101"
    assert place_label(plain, 3) == "第一网格 1栋 1单元101"
    assert place_label(plain, 4) == "1栋 1单元101"
    # a carer's households may lie in more than one building: the building stays
    assert place_label(plain, 5) == "1栋 1单元101"


def test_places_at_or_above_the_reader_are_named_alone() -> None:
    assert place_label(TOP, 3) == "常二社区"
    assert place_label(TOP, 2) == "常二社区"
    assert place_label(TOP[:3], 1) == "汉兴街道"
    assert place_label([], 3) == ""


def test_an_estate_prefix_is_kept_and_never_doubled() -> None:
    pingan = [(0, "黄石市"), (1, "阳新县"), (2, "兴国镇"), (3, "林峰社区"), (4, "林峰社区第2网格")]
    flat = [*pingan, (5, "平安小区3栋"), (6, "平安小区3栋101室")]
    assert place_label(flat, 4) == "平安小区3栋101室"
    assert place_label(flat, 3) == "第2网格 平安小区3栋101室"
    assert place_label(flat, 2) == "林峰社区 平安小区3栋101室"


def _flat(world: Any) -> Any:
    """1栋502室 in building A of a grid named after its community, with a resident."""
    grid = world.grid_a
    grid.name = "常二社区第1网格"
    grid.save()
    household = household_create(
        actor=SYSTEM, building=world.building_a, code="t-a-g1-b1-502", name="1栋502室", floor_area=None
    )
    person_create(
        actor=SYSTEM,
        place=household.place,
        household=household,
        relation=Relation.HEAD,
        name="王淑芬",
        phone=make_phone(),
    )
    return household


@pytest.mark.django_db
def test_the_reader_level_is_the_widest_role(world: Any) -> None:
    users = world.users
    assert reader_level(users["street_official"]) == 2
    assert reader_level(users["secretary"]) == 3
    assert reader_level(users["grid_worker"]) == 4
    assert reader_level(users["building_leader"]) == 5
    assert reader_level(users["resident"]) == 6
    assert reader_level(users["system_admin"]) == 0
    assert reader_level(SYSTEM) == 0


@pytest.mark.django_db
def test_a_namer_converts_for_zh_hant_and_names_a_primed_list_without_queries(world: Any) -> None:
    household = _flat(world)
    namer = PlaceNamer.for_actor(world.users["secretary"])
    places = [household.place, world.households["household_a"].place, world.building_a]
    namer.prime(places)
    with CaptureQueriesContext(connection) as ctx:
        names = [namer.name(p) for p in places]
        with translation.override("zh-hant"):
            hant = namer.name(household.place)
            alone = namer.name(world.grid_a, alone=True)
    assert names == ["第1网格 1栋502室", "第1网格 1栋 1单元101", "第1网格 1栋"]
    assert hant == "第1網格 1棟502室" and alone == "第1網格"
    assert not ctx.captured_queries


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("building_leader", "1栋502室"),
        ("grid_worker", "1栋502室"),
        ("secretary", "第1网格 1栋502室"),
        ("street_official", "常二社区 1栋502室"),
        ("district_official", "常二社区 1栋502室"),
        ("system_admin", "常二社区 1栋502室"),
    ],
)
def test_lists_name_places_at_each_level(client: Client, world: Any, who: str, expected: str) -> None:
    """The people list and the needs queue print a place as its reader needs it, never a
    parent twice (1栋 1栋502室) nor a community twice (常二社区 常二社区第1网格)."""
    household = _flat(world)
    need_create(actor=world.users["grid_worker"], text="楼道灯坏了", place=household.place)
    sign_in(client, world.users[who])
    pages = ["/people/?q=王淑芬"] + (["/needs/queue/"] if who != "building_leader" else [])
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<span class="muted">{expected}</span>' in html, url
        assert "1栋 1栋502室" not in html and "常二社区 常二社区" not in html


@pytest.mark.django_db
def test_zh_hant_pages_show_place_names_in_traditional_characters(client: Client, world: Any) -> None:
    household = _flat(world)
    need_create(actor=world.users["grid_worker"], text="楼道灯坏了", place=household.place)
    sign_in(client, world.users["secretary"])
    client.cookies["linli_lang"] = "zh-hant"
    html = client.get("/needs/queue/").content.decode()
    assert '<span class="muted">第1網格 1棟502室</span>' in html
    crumbs = client.get(f"/places/{world.building_a.code}/").content.decode()
    main = crumbs.split("<main>", 1)[1]
    # the crumbs name the grid below its community without repeating it
    assert '">常二社區</a> › <a href="/places/t-a-g1/">第1網格</a>' in main and "<h1>第1網格 1棟" in main
    assert "常二社区" not in main and "常二社區第1網格" not in main


@pytest.mark.django_db
def test_a_primed_list_of_rows_costs_one_query(world: Any) -> None:
    """``name_places`` follows attributes, keys and indexes as a template does, and loads the
    ancestors of every row's place at once."""
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = world.users["street_official"]
    rows = [
        {"household": world.households["household_a"]},
        {"household": world.households["household_b"]},
    ]
    template = Template(
        "{% load place_names %}{% name_places rows 'household.place' %}"
        "{% for row in rows %}[{% place_name row.household.place %}]{% endfor %}"
    )
    with CaptureQueriesContext(connection) as ctx:
        html = template.render(Context({"request": request, "rows": rows}))
    assert html == "[常二社区 1栋 1单元101][常四社区 1栋 1单元101]"
    # the reader's scope (one query, unless cached) and the ancestors of both rows (one); the
    # rows lie in two buildings, so naming them one by one would take two more
    assert len(ctx.captured_queries) <= 2, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("secretary", "第1网格 1栋502室\n"),  # the grid is named once
        ("street_official", "常二社区 1栋502室 · 常二社区第1网格\n"),
    ],
)
def test_a_need_says_where_it_is_and_its_grid_once(client: Client, world: Any, who: str, where: str) -> None:
    household = _flat(world)
    need = need_create(actor=world.users["grid_worker"], text="楼道灯坏了", place=household.place)
    sign_in(client, world.users[who])
    html = client.get(f"/needs/{need.pk}/").content.decode()
    assert f'<p class="muted">{where}' in html
