"""Triage of needs: the category classifier, duplicate candidates and locating the grid."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from linli.core.text import normalize, to_traditional
from linli.needs import triage as triage_module
from linli.needs.models import Category, Need, Status, TriageModel
from linli.needs.triage import (
    TriageResult,
    find_duplicates,
    locate_grid,
    suggest_categories,
    triage,
    triage_cache_clear,
    triage_train,
)
from linli.places.models import Place, PlaceKind
from linli.places.services import place_create

CATALOGUE: dict[str, tuple[list[str], list[str]]] = {
    "lighting": (
        ["路灯", "灯不亮", "照明"],
        ["楼下路灯不亮了", "小区路灯坏了晚上很黑", "单元门口的灯坏了", "楼道声控灯不亮", "路灯一直闪"],
    ),
    "water": (
        ["停水", "水压", "漏水", "水管"],
        ["家里停水了", "水管爆了到处漏水", "高楼层水压太低", "自来水发黄有异味", "小区突然停水没有通知"],
    ),
    "noise": (
        ["噪音", "吵", "扰民"],
        ["楼上装修噪音太大", "晚上广场舞音响太吵", "夜里施工扰民", "楼下商铺喇叭声音太大", "邻居半夜唱歌很吵"],
    ),
    "garbage": (
        ["垃圾", "清运", "臭"],
        ["门口垃圾没人清理", "垃圾桶满了没人收", "垃圾站臭气熏天", "楼道堆满杂物垃圾", "建筑垃圾乱倒"],
    ),
    "elevator": (
        ["电梯", "困人"],
        ["电梯坏了老人上不了楼", "电梯经常停运", "电梯困人了", "电梯门关不上", "电梯运行有异响"],
    ),
    "parking": (
        ["停车", "车位", "乱停"],
        ["小区停车位不够", "消防通道被车堵了", "电动车乱停乱放", "外来车辆占用车位", "门口车辆乱停堵路"],
    ),
}


def make_catalogue(codes: list[str] | None = None) -> dict[str, Category]:
    made = {}
    for code, (keywords, examples) in CATALOGUE.items():
        if codes is None or code in codes:
            made[code] = Category.objects.create(code=code, name=code, keywords=keywords, examples=examples)
    return made


def make_need(place: Place, text: str, *, status: str = Status.SUBMITTED, **fields: Any) -> Need:
    return Need.objects.create(
        text=text, text_search=normalize(text), place=place, place_path=place.path, status=status, **fields
    )


@pytest.fixture(autouse=True)
def _fresh_caches(settings: Any) -> Iterator[None]:
    """Each test starts without a cached classifier or grid index, and rechecks the
    database on every call (models and grids are rolled back between tests)."""
    settings.LINLI_TRIAGE_RECHECK_SECONDS = 0
    triage_cache_clear()
    yield
    triage_cache_clear()


# ---------------------------------------------------------------------------
# Training and suggestions
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_training_numbers_versions_and_keeps_only_the_newest_active() -> None:
    make_catalogue()
    first = triage_train(note="first")
    second = triage_train(note="second")
    assert second.version == first.version + 1
    assert list(TriageModel.objects.filter(active=True).values_list("version", flat=True)) == [second.version]
    assert second.labels == sorted(CATALOGUE)
    assert second.examples == sum(len(k) + len(e) for k, e in CATALOGUE.values())
    assert second.accuracy is not None and 0.0 <= second.accuracy <= 1.0
    assert bytes(second.blob)
    audit = AuditEntry.objects.get(target_type="needs.triagemodel", target_id=str(second.pk))
    assert audit.reason == "second"


@pytest.mark.django_db
def test_training_needs_two_categories_with_examples() -> None:
    make_catalogue(["lighting"])
    Category.objects.create(code="empty", name="empty")
    with pytest.raises(ValidationError) as caught:
        triage_train()
    assert "两个" in caught.value.messages[0]
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        triage_train()
    assert "two" in caught.value.messages[0]


@pytest.mark.django_db
def test_confirmed_needs_and_only_active_categories_are_examples(world: Any) -> None:
    cats = make_catalogue()
    make_need(world.community_a, "井盖丢了很危险", category=cats["lighting"], category_confirmed=True)
    make_need(world.community_a, "未确认的诉求不算", category=cats["lighting"])
    cats["parking"].active = False
    cats["parking"].save()
    model = triage_train()
    parking = len(CATALOGUE["parking"][0]) + len(CATALOGUE["parking"][1])
    assert model.examples == sum(len(k) + len(e) for k, e in CATALOGUE.values()) - parking + 1
    assert "parking" not in model.labels


@pytest.mark.django_db
def test_suggest_trains_on_the_fly_and_ranks_the_right_category() -> None:
    make_catalogue()
    assert not TriageModel.objects.exists()
    suggestions = suggest_categories("我家楼下的路灯晚上不亮")
    assert TriageModel.objects.filter(active=True).count() == 1
    assert suggestions[0][0] == "lighting"
    assert len(suggestions) == 3
    assert all(0.0 <= score <= 1.0 for _, score in suggestions)
    assert sum(score for _, score in suggestions) <= 1.0 + 1e-9
    assert [s for _, s in suggestions] == sorted((s for _, s in suggestions), reverse=True)
    assert len(suggest_categories("电梯又坏了", top=1)) == 1
    assert suggest_categories("电梯又坏了", top=1)[0][0] == "elevator"


@pytest.mark.django_db
def test_empty_text_and_empty_catalogue_suggest_nothing() -> None:
    assert suggest_categories("") == []
    assert suggest_categories("  \n ") == []
    assert suggest_categories("路灯不亮") == []  # nothing to learn from
    make_catalogue()
    assert suggest_categories("   ") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "楼下路灯不亮了，晚上很黑",
        "小区停水了，什么时候来水",
        "楼上装修的噪音太大了",
        "垃圾站太臭了，没人清运",
        "电梯困人了快来",
    ],
)
def test_traditional_text_gets_the_same_top_category(text: str) -> None:
    make_catalogue()
    traditional = to_traditional(text)
    assert traditional != text
    simplified_top = suggest_categories(text)[0]
    traditional_top = suggest_categories(traditional)[0]
    assert simplified_top[0] == traditional_top[0]
    assert simplified_top[1] == pytest.approx(traditional_top[1])


@pytest.mark.django_db
def test_inactive_categories_are_never_suggested() -> None:
    cats = make_catalogue()
    triage_train()
    assert suggest_categories("电梯坏了")[0][0] == "elevator"
    cats["elevator"].active = False
    cats["elevator"].save()
    codes = [code for code, _ in suggest_categories("电梯坏了", top=10)]
    assert "elevator" not in codes and codes


@pytest.mark.django_db
def test_the_model_is_cached_and_a_newer_version_is_picked_up(settings: Any) -> None:
    make_catalogue()
    triage_train()
    settings.LINLI_TRIAGE_RECHECK_SECONDS = 3600
    suggest_categories("电梯坏了")
    with CaptureQueriesContext(connection) as queries:
        suggest_categories("路灯坏了")
    assert len(queries) == 0  # within the recheck window: no query at all

    # Another process trains a version that knows only two categories.
    Category.objects.exclude(code__in=["lighting", "water"]).update(active=False)
    newer = triage_train()
    Category.objects.update(active=True)
    triage_module._cache._loaded.checked_at = float("-inf")  # pretend the window has passed
    assert {code for code, _ in suggest_categories("电梯坏了", top=10)} == {"lighting", "water"}
    assert triage_module._cache._loaded.version == newer.version


@pytest.mark.django_db
def test_held_out_accuracy_on_the_default_catalogue() -> None:
    catalogue = pytest.importorskip("linli.needs.catalogue")
    catalogue.catalogue_load_defaults()
    rng = random.Random(7)
    held_out: list[tuple[str, str]] = []
    for category in Category.objects.filter(active=True):
        examples = list(category.examples)
        rng.shuffle(examples)
        if len(examples) < 3:
            continue
        cut = max(1, len(examples) // 4)
        held_out.extend((text, category.code) for text in examples[:cut])
        category.examples = examples[cut:]
        category.save(update_fields=["examples"])
    assert len(held_out) >= 10
    triage_train()
    hits = sum(code in [c for c, _ in suggest_categories(text)] for text, code in held_out)
    assert hits / len(held_out) >= 0.8, f"top-3 held-out accuracy {hits}/{len(held_out)}"


# ---------------------------------------------------------------------------
# Duplicates
# ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ("社区东门的路灯坏了", "社區東門的路燈壞了"),  # traditional characters
        ("我们楼下的路灯坏了，晚上不亮", "楼下路灯不亮了"),  # paraphrase
        ("3栋电梯坏了，老人上不了楼", "3栋电梯坏了，老人上不楼了"),  # a typo and a dropped word
        ("楼下路灯不亮了", "楼下路登不亮了"),  # a wrong character
        ("5栋电梯又坏了，老人下不了楼", "电梯坏了老人上不了楼"),
    ],
)
def test_duplicates_are_found(world: Any, existing: str, new: str) -> None:
    need = make_need(world.household_place_a, existing)
    make_need(world.household_place_a, "三楼邻居装修噪音太大")  # same community, unrelated
    found = find_duplicates(new, place=world.building_a)
    assert [pk for pk, _ in found] == [need.pk]
    assert 0.55 <= found[0][1] <= 1.0


@pytest.mark.django_db
def test_duplicates_are_limited_to_open_recent_needs_of_the_community(world: Any) -> None:
    text = "楼下路灯不亮了"
    in_b = make_need(world.household_place_b, text)
    closed = make_need(world.household_place_a, text, status=Status.CLOSED)
    old = make_need(world.grid_a, text)
    Need.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    assert find_duplicates(text, place=world.building_a) == []
    assert [pk for pk, _ in find_duplicates(text, place=world.building_a, window_days=60)] == [old.pk]
    assert [pk for pk, _ in find_duplicates(text, place=world.community_b)] == [in_b.pk]
    assert closed.pk not in [pk for pk, _ in find_duplicates(text, place=world.street)]
    assert find_duplicates(text, place=world.grid_b, exclude_id=in_b.pk) == []
    assert find_duplicates("", place=world.grid_b) == []
    assert find_duplicates(text, place=None) == []


@pytest.mark.django_db
def test_duplicates_nearby_a_point_across_communities(world: Any) -> None:
    near = make_need(world.community_b, "路口井盖丢了", lat=Decimal("30.600000"), lng=Decimal("114.250000"))
    far = make_need(world.community_b, "路口井盖丢了", lat=Decimal("30.610000"), lng=Decimal("114.250000"))
    # ~200 m north of the first, reported in the other community
    found = find_duplicates("路口的井盖丢了", place=world.community_a, lat=30.6018, lng=114.25)
    assert [pk for pk, _ in found] == [near.pk]
    assert far.pk not in [pk for pk, _ in find_duplicates("路口井盖丢了", place=None, lat=30.6018, lng=114.25)]


@pytest.mark.django_db
def test_duplicates_ranked_best_first_and_limited(world: Any) -> None:
    exact = make_need(world.household_place_a, "楼下路灯不亮了")
    paraphrase = make_need(world.household_place_a, "我们楼下的路灯坏了，晚上不亮")
    found = find_duplicates("楼下路灯不亮了", place=world.grid_a)
    assert [pk for pk, _ in found] == [exact.pk, paraphrase.pk]
    assert found[0][1] == 1.0 > found[1][1]
    assert find_duplicates("楼下路灯不亮了", place=world.grid_a, limit=1) == found[:1]


@pytest.mark.django_db
def test_a_paraphrase_is_found_in_a_busy_community(world: Any) -> None:
    """Trigram similarity of a Chinese paraphrase is ~0, so ranking the 50 candidates must not
    rely on it alone."""
    others = [text for code, (_, examples) in CATALOGUE.items() if code != "lighting" for text in examples]
    for i in range(200):
        make_need(world.household_place_a, f"{others[i % len(others)]}（{i}号楼）")
    need = make_need(world.household_place_a, "我们楼下的路灯坏了，晚上不亮")
    Need.objects.filter(pk=need.pk).update(created_at=timezone.now() - dt.timedelta(days=20))  # the oldest
    assert [pk for pk, _ in find_duplicates("楼下路灯不亮了", place=world.building_a)] == [need.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 50])
def test_duplicate_search_is_one_query_whatever_the_candidates(world: Any, count: int) -> None:
    texts = ["楼下路灯不亮了", "电梯坏了", "垃圾没人清理", "停车位不够", "楼上噪音太大"]
    for i in range(count):
        make_need(world.household_place_a, f"{texts[i % len(texts)]}，第{i}次反映")
    find_duplicates("楼下路灯不亮", place=world.building_a)  # jieba's dictionary loads once
    with CaptureQueriesContext(connection) as queries:
        found = find_duplicates("楼下路灯不亮", place=world.building_a, lat=30.6, lng=114.25)
    assert len(queries) == 1
    assert len(found) == min(5, count // len(texts))  # the lighting ones


# ---------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------


def square(lng: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.django_db
def test_locate_grid_by_place(world: Any) -> None:
    assert locate_grid(place=world.grid_a) == world.grid_a
    assert locate_grid(place=world.building_a) == world.grid_a
    assert locate_grid(place=world.household_place_b) == world.grid_b
    assert locate_grid(place=world.community_a) is None
    assert locate_grid(place=None) is None


@pytest.mark.django_db
def test_locate_grid_by_polygon(world: Any) -> None:
    east = place_create(
        actor=SYSTEM, parent=world.community_a, code="t-a-g2", name="第二网格", kind=PlaceKind.GRID,
        boundary=square(114.25, 30.60),
    )  # fmt: skip
    west = place_create(
        actor=SYSTEM, parent=world.community_b, code="t-b-g2", name="第二网格", kind=PlaceKind.GRID,
        boundary=square(114.23, 30.60),
    )  # fmt: skip
    assert locate_grid(place=None, lat=30.605, lng=114.255) == east
    assert locate_grid(place=None, lat=Decimal("30.605"), lng=Decimal("114.235")) == west
    assert locate_grid(place=world.community_a, lat=30.605, lng=114.255) == east
    assert locate_grid(place=None, lat=30.605, lng=114.245) is None  # between the two
    assert locate_grid(place=None, lat=39.9, lng=116.4) is None
    # the place's own grid wins over the point
    assert locate_grid(place=world.building_b, lat=30.605, lng=114.255) == world.grid_b

    # a grid drawn later is seen once the cache is rechecked
    north = place_create(
        actor=SYSTEM, parent=world.community_a, code="t-a-g3", name="第三网格", kind=PlaceKind.GRID,
        boundary=square(114.25, 30.62),
    )  # fmt: skip
    assert locate_grid(place=None, lat=30.625, lng=114.255) == north


@pytest.mark.django_db
def test_overlapping_grids_prefer_the_place_then_the_smaller(world: Any) -> None:
    big = place_create(
        actor=SYSTEM, parent=world.community_b, code="t-b-big", name="大网格", kind=PlaceKind.GRID,
        boundary=square(114.20, 30.50, size=0.2),
    )  # fmt: skip
    small = place_create(
        actor=SYSTEM, parent=world.community_a, code="t-a-small", name="小网格", kind=PlaceKind.GRID,
        boundary=square(114.25, 30.60),
    )  # fmt: skip
    assert locate_grid(place=None, lat=30.605, lng=114.255) == small
    assert locate_grid(place=world.community_b, lat=30.605, lng=114.255) == big


# ---------------------------------------------------------------------------
# All three, and the command
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_triage_composes_the_three(world: Any) -> None:
    make_catalogue()
    need = make_need(world.household_place_a, "我们楼下的路灯坏了，晚上不亮")
    result = triage("樓下路燈不亮了", place=world.household_place_a)
    assert isinstance(result, TriageResult)
    assert result.categories[0][0] == "lighting"
    assert result.grid == world.grid_a
    assert [pk for pk, _ in result.duplicates] == [need.pk]


@pytest.mark.django_db
def test_command() -> None:
    make_catalogue()
    out = io.StringIO()
    call_command("triage", "train", "--note", "from the test", stdout=out)
    assert "v1" in out.getvalue() or "examples" in out.getvalue()
    out = io.StringIO()
    call_command("triage", "show", stdout=out)
    assert "示例" in out.getvalue()
    out = io.StringIO()
    call_command("triage", "suggest", "电梯又坏了", stdout=out)
    assert "elevator" in out.getvalue()
