"""The three-rates dashboard 三率看板: scope, numbers, drill-down, exports and their audit,
bad input, query counts, and the page on a phone."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from linli.core.access import SYSTEM
from linli.core.errors import Conflict
from linli.core.models import AuditEntry
from linli.needs.dashboard import dashboard_figures, export_header, percent, quick_periods
from linli.needs.deadlines import deadlines_sweep
from linli.needs.models import ACTIVE_DISPATCH, DeadlineAction, Dispatch, Need, Rating, Status
from linli.needs.rates import ROLLUP_KINDS, Rates, local_day, rank_key, rates_by_child, rates_for
from linli.needs.services import (
    dispatch_checkin,
    dispatch_resolve,
    need_accept,
    need_create,
    need_merge,
    need_rate,
    need_resolve,
    need_transfer,
    need_whistle,
)
from linli.places.models import Place, PlaceKind
from linli.places.services import place_create
from linli.testing import sign_in

URL = "/needs/dashboard/"


def this_month() -> tuple[dt.date, dt.date]:
    today = local_day(timezone.now())
    return today.replace(day=1), today


def make_needs(nw: Any) -> dict[str, Need]:
    """In community A: one need resolved by the grid and rated satisfied, one whistled to the
    water department and rated basically satisfied, one received last month and one this
    month that nobody accepts; in community B: one resolved and rated unsatisfied (so
    reopened). Then the deadline sweep runs a month later: the three open needs go overdue,
    two of them received this month."""
    grid, liaison, resident = nw.users["grid_worker"], nw.users["department_liaison"], nw.users["resident"]
    lamp = need_create(actor=resident, text="楼下路灯不亮了", place=nw.household_place_a)
    need_resolve(actor=grid, need=lamp, result="换了灯泡")
    need_rate(actor=resident, need=lamp, resolved=True, satisfaction="satisfied")

    water = need_create(actor=resident, text="家里停水了", place=nw.household_place_a)
    [dispatch] = need_whistle(actor=grid, need=water, departments=[nw.department])
    dispatch_checkin(actor=liaison, dispatch=dispatch)
    dispatch_resolve(actor=liaison, dispatch=dispatch, result="修好了水管")
    need_rate(actor=resident, need=water, resolved=True, satisfaction="basic")

    old = need_create(
        actor=resident, text="邻居吵架", place=nw.household_place_a, now=timezone.now() - dt.timedelta(days=40)
    )

    other = nw.users["grid_worker_b"]
    b = need_create(actor=other, text="路灯坏了", place=nw.household_place_b)
    need_resolve(actor=other, need=b, result="已修")
    need_rate(actor=other, need=b, resolved=False, satisfaction="unsatisfied")

    late = need_create(actor=resident, text="楼道里的灯一直闪", place=nw.household_place_a)
    deadlines_sweep(now=timezone.now() + dt.timedelta(days=30))
    return {"lamp": lamp, "water": water, "old": old, "b": b, "late": late}


def signed_in(client: Any, user: Any) -> Any:
    sign_in(client, user)
    return client


def block(html: str, element_id: str) -> str:
    """The markup inside the first element with this id, up to its first closing tag of a
    block (enough for the small blocks the tests read)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(div|table|ul|p)>', html, re.S)
    assert match, element_id
    return match.group(1)


def element(html: str, element_id: str) -> str:
    """The text of that block."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block(html, element_id)))


# --- scope --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_street_official_sees_the_street_and_both_communities(client: Any, nw: Any) -> None:
    make_needs(nw)
    response = signed_in(client, nw.users["street_official"]).get(URL)
    assert response.status_code == 200
    assert response.context["place"] == nw.street
    assert {row.code for row in response.context["children"]} == {"t-a", "t-b"}
    html = response.content.decode()
    children = element(html, "children")
    assert "常二社区" in children and "常四社区" in children
    # drill-down: each community links to its own dashboard over the same period
    start, end = this_month()
    assert f'href="{URL}?place=t-a&amp;start={start}&amp;end={end}"' in html
    drilled = client.get(URL, {"place": "t-a", "start": start.isoformat(), "end": end.isoformat()})
    assert drilled.status_code == 200 and drilled.context["place"] == nw.community_a
    assert [row.code for row in drilled.context["children"]] == ["t-a-g1"]
    # the home page links to the dashboard
    assert 'id="dashboard-link"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_community_secretary_is_kept_to_the_community(client: Any, nw: Any) -> None:
    client = signed_in(client, nw.users["secretary"])
    assert client.get(URL).context["place"] == nw.community_a
    assert client.get(URL, {"place": "t-a"}).status_code == 200
    for code in ("t-b", "t-street", "t-city", "no-such-place"):
        assert client.get(URL, {"place": code}).status_code == 404, code
        assert client.get(f"{URL}export.csv", {"place": code}).status_code == 404, code
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


@pytest.mark.django_db
def test_roles_without_rates_are_refused(client: Any, nw: Any) -> None:
    assert client.get(URL).status_code == 302  # anonymous: to the sign-in page
    for name in ("volunteer", "grid_worker", "resident", "department_liaison"):
        sign_in(client, nw.users[name])
        assert client.get(URL).status_code == 403, name
        assert client.get(URL, {"place": "t-a"}).status_code == 403, name
        assert client.get(f"{URL}export.xlsx", {"place": "t-a"}).status_code == 403, name
    assert 'id="dashboard-link"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_admin_starts_at_the_city(client: Any, nw: Any) -> None:
    response = signed_in(client, nw.users["system_admin"]).get(URL)
    assert response.status_code == 200 and response.context["place"] == nw.city


# --- the numbers --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_numbers_on_the_page_equal_the_rates(client: Any, nw: Any) -> None:
    needs = make_needs(nw)
    start, end = this_month()
    response = signed_in(client, nw.users["street_official"]).get(URL)
    expected = rates_for(place=nw.street, start=start, end=end)
    assert response.context["total"].rates == expected
    assert (expected.received, expected.followed_up, expected.overdue) == (4, 3, 2)
    html = response.content.decode()
    for element_id, rate in (
        ("rate-response", expected.response_rate),
        ("rate-on-time", expected.on_time_response_rate),
        ("rate-resolution", expected.resolution_rate),
        ("rate-satisfaction", expected.satisfaction_rate),
    ):
        assert percent(rate) in element(html, element_id), element_id
    assert percent(expected.satisfaction_rate) == "66.67%"
    for counter in ("received", "responded", "followed_up", "overdue"):
        assert f'data-counter="{counter}">{getattr(expected, counter)}<' in html
    # children by satisfaction: A (2 of 2 satisfied) before B (unsatisfied)
    assert [row.code for row in response.context["children"]] == ["t-a", "t-b"]
    by_child = {place.code: rates for place, rates in rates_by_child(parent=nw.street, start=start, end=end)}
    assert {row.code: row.rates for row in response.context["children"]} == by_child
    # the water department served inside the street: ranked with its check-in and rating
    water = next(row for row in response.context["departments"] if row.code == nw.department.code)
    assert water.rates == rates_for(place=nw.street, department=nw.department, start=start, end=end)
    assert (water.rates.received, water.rates.responded, water.rates.followed_up) == (1, 1, 1)
    # the power company had nothing whistled to it: not ranked, listed as 无派单
    assert [row.code for row in response.context["departments"]] == [nw.department.code]
    assert [row.code for row in response.context["idle_departments"]] == [nw.power.code]
    assert "国网武汉供电" in element(html, "idle-departments")
    # 超期 is the list below it: the needs received this month that went overdue, linked;
    # not the one received last month
    assert {n.pk for n in response.context["overdue"]} == {needs["late"].pk, needs["b"].pk}
    assert response.context["overdue_count"] == expected.overdue
    assert f'href="/needs/{needs["late"].pk}/"' in block(html, "overdue")
    assert f'href="/needs/{needs["old"].pk}/"' not in block(html, "overdue")
    # the charts' data are in a JSON block, no inline script
    assert 'id="dashboard-data" type="application/json"' in html
    assert re.search(r"<script>(?!\s*</script>)", html) is None


@pytest.mark.django_db
def test_period_and_trend(client: Any, nw: Any) -> None:
    make_needs(nw)
    client = signed_in(client, nw.users["street_official"])
    short = client.get(URL, {"start": "2025-03-01", "end": "2025-03-31"})
    assert short.status_code == 200 and short.context["trend_by"] == "day" and len(short.context["trend"]) == 31
    assert short.context["total"].rates.received == 0
    assert percent(None) in element(short.content.decode(), "rate-satisfaction")  # undefined, not 0 %
    long = client.get(URL, {"start": "2024-01-15", "end": "2025-03-31"})
    assert long.context["trend_by"] == "month" and long.context["trend"][0][0] == "2024-01"
    assert len(long.context["trend"]) == 15


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"start": "2025-13-01"},
        {"start": "yesterday"},
        {"end": "2025-02-30"},
        {"start": "2025-03-02", "end": "2025-03-01"},
        {"start": "1990-01-01", "end": "2025-01-01"},
        {"start": "9999-12-01", "end": "9999-12-31"},
    ],
)
def test_bad_dates_are_a_400_page(client: Any, nw: Any, params: dict[str, str]) -> None:
    client = signed_in(client, nw.users["street_official"])
    response = client.get(URL, {"place": "t-street", **params})
    assert response.status_code == 400
    assert re.search(r"[\u4e00-\u9fff]", element(response.content.decode(), "dashboard-error"))
    # in the reader's language
    english = client.get(URL, {"place": "t-street", **params}, HTTP_ACCEPT_LANGUAGE="en")
    message = element(english.content.decode(), "dashboard-error")
    assert english.status_code == 400 and message and not re.search(r"[\u4e00-\u9fff]", message), message
    assert client.get(f"{URL}export.csv", params).status_code == 400
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


@pytest.mark.django_db
def test_places_below_grids_have_no_rates(client: Any, nw: Any) -> None:
    response = signed_in(client, nw.users["street_official"]).get(URL, {"place": nw.building_a.code})
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_grid_never_responds_to_more_needs_than_it_received(client: Any, nw: Any) -> None:
    """The grid of the issue showed 200 % (2 / 1): the responses of the month counted needs
    received last month, or received at another grid and transferred in. A response now
    counts with its need's reception."""
    month_ago = timezone.now() - dt.timedelta(days=40)
    last_month = need_create(actor=SYSTEM, text="楼道灯坏了", place=nw.grid_a, category_code="lighting", now=month_ago)
    moved = need_create(actor=SYSTEM, text="路灯不亮", place=nw.grid_b, category_code="lighting")
    need_transfer(actor=SYSTEM, need=moved, place=nw.grid_a)
    own = need_create(actor=SYSTEM, text="井盖松动", place=nw.grid_a, category_code="lighting")
    for need in (last_month, moved, own):
        need_accept(actor=SYSTEM, need=need)

    client = signed_in(client, nw.users["street_official"])
    grid_a = client.get(URL, {"place": nw.grid_a.code})
    assert grid_a.context["total"].rates.received == grid_a.context["total"].rates.responded == 1
    assert element(grid_a.content.decode(), "rate-response").split() == ["响应率", "100.00%", "1", "/", "1"]
    grid_b = client.get(URL, {"place": nw.grid_b.code}).context["total"].rates
    assert (grid_b.received, grid_b.responded) == (1, 1)  # received there, whoever answered it
    street = client.get(URL).context
    assert {row.code: (row.rates.received, row.rates.responded) for row in street["children"]} == {
        "t-a": (1, 1),
        "t-b": (1, 1),
    }


@pytest.mark.django_db
def test_departments_are_ranked_for_the_place_and_period(client: Any, nw: Any) -> None:
    """A department rated this month for last month's dispatch (100 % satisfied) but with
    nothing whistled to it this month is listed last, as 无派单, never first; and a
    department's numbers are those of the place drilled into."""
    make_needs(nw)
    earlier = timezone.now() - dt.timedelta(days=40)
    power_cut = need_create(actor=SYSTEM, text="小区停电了", place=nw.grid_b, category_code="water", now=earlier)
    [dispatch] = need_whistle(actor=SYSTEM, need=power_cut, departments=[nw.power], now=earlier)
    dispatch_checkin(actor=SYSTEM, dispatch=dispatch, now=earlier)
    dispatch_resolve(actor=SYSTEM, dispatch=dispatch, result="恢复供电")
    need_rate(actor=SYSTEM, need=power_cut, reporter=power_cut.reporters.get(), resolved=True, satisfaction="satisfied")

    client = signed_in(client, nw.users["street_official"])
    street = client.get(URL).context
    assert [row.code for row in street["departments"]] == [nw.department.code]
    [power] = street["idle_departments"]
    assert power.code == nw.power.code
    assert (power.rates.received, power.rates.followed_up, power.satisfaction) == (0, 1, "100.00%")
    html = client.get(URL).content.decode()
    assert html.index(f'data-code="{nw.department.code}"') < html.index(f'data-code="{nw.power.code}"')

    # community B: the water department worked only in community A
    b = client.get(URL, {"place": nw.community_b.code}).context
    assert b["departments"] == []
    assert {row.code: row.rates.received for row in b["idle_departments"]} == {nw.department.code: 0, nw.power.code: 0}
    # last month at community B: the power company was whistled to and checked in on time
    start = local_day(earlier).replace(day=1)
    last_month = client.get(
        URL, {"place": nw.community_b.code, "start": start.isoformat(), "end": local_day(earlier).isoformat()}
    ).context
    assert [(row.code, row.rates.received, row.rates.responded) for row in last_month["departments"]] == [
        (nw.power.code, 1, 1)
    ]


@pytest.mark.django_db
def test_the_chart_leaves_out_places_without_data(client: Any, nw: Any) -> None:
    make_needs(nw)
    for n in range(3):
        place_create(actor=SYSTEM, parent=nw.street, code=f"t-empty-{n}", name=f"空社区{n}", kind=PlaceKind.COMMUNITY)
    response = signed_in(client, nw.users["street_official"]).get(URL)
    assert len(response.context["children"]) == 5  # the table lists them all, the empty ones last
    assert [row.code for row in response.context["children"]][2:] == ["t-empty-0", "t-empty-1", "t-empty-2"]
    assert response.context["chart"]["children"]["x"] == ["常二社区", "常四社区"]
    assert "另有 3 个下级没有数据，未画入图中。" in element(response.content.decode(), "children-uncharted")


@pytest.mark.parametrize(
    ("today", "month", "quarter", "year"),
    [
        (dt.date(2025, 4, 1), "2025-04-01", "2025-04-01", "2025-01-01"),
        (dt.date(2025, 3, 31), "2025-03-01", "2025-01-01", "2025-01-01"),
        (dt.date(2025, 12, 31), "2025-12-01", "2025-10-01", "2025-01-01"),
        (dt.date(2024, 8, 15), "2024-08-01", "2024-07-01", "2024-01-01"),
    ],
)
def test_quick_periods_run_from_the_first_day_to_today(today: dt.date, month: str, quarter: str, year: str) -> None:
    found = {q.key: (q.start.isoformat(), q.end) for q in quick_periods(today)}
    assert found == {"month": (month, today), "quarter": (quarter, today), "year": (year, today)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("utc", "month", "quarter", "year", "today"),
    [
        # 00:30 on 1 April in Shanghai, still 31 March in UTC
        ("2025-03-31T16:30:00+00:00", "2025-04-01", "2025-04-01", "2025-01-01", "2025-04-01"),
        # 23:59 on 31 March in Shanghai
        ("2025-03-31T15:59:00+00:00", "2025-03-01", "2025-01-01", "2025-01-01", "2025-03-31"),
        # New Year in Shanghai, New Year's Eve in UTC
        ("2025-12-31T16:00:00+00:00", "2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01"),
    ],
)
def test_quick_periods_on_the_page_follow_shanghai_days(
    client: Any, nw: Any, utc: str, month: str, quarter: str, year: str, today: str
) -> None:
    with time_machine.travel(dt.datetime.fromisoformat(utc), tick=False):
        client = signed_in(client, nw.users["street_official"])
        html = client.get(URL).content.decode()
        links = dict(re.findall(r'id="period-(\w+)" href="[^"]*start=([\d-]+)&amp;end=' + today + '"', html))
        assert links == {"month": month, "quarter": quarter, "year": year}
        # the default period is this month so far: the month link is the current one
        assert re.search(r'id="period-month"[^>]*aria-current="true"', html)
        quarter_page = client.get(URL, {"start": quarter, "end": today})
        assert quarter_page.status_code == 200
        assert re.search(r'id="period-quarter"[^>]*aria-current="true"', quarter_page.content.decode())


# --- exports ------------------------------------------------------------------------------------


def _expected_rows(nw: Any) -> dict[str, list[Any]]:
    start, end = this_month()
    found = {place.code: rates for place, rates in rates_by_child(parent=nw.street, start=start, end=end)}
    for department in (nw.department, nw.power):
        found[department.code] = rates_for(department=department, start=start, end=end)
    return {
        code: [
            *(getattr(r, c) for c in r.as_dict()),
            *(
                None if rate is None else float(round(rate * 100, 2))
                for rate in (r.response_rate, r.on_time_response_rate, r.resolution_rate, r.satisfaction_rate)
            ),
        ]
        for code, r in found.items()
    }


@pytest.mark.django_db
def test_csv_export_is_streamed_with_a_bom_and_audited(client: Any, nw: Any) -> None:
    make_needs(nw)
    response = signed_in(client, nw.users["street_official"]).get(f"{URL}export.csv", {"place": "t-street"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == export_header()
    body = {row[1]: row for row in rows[1:]}
    assert set(body) == {"t-a", "t-b", nw.department.code, nw.power.code}
    assert body["t-a"][2:4] == ["常二社区", "社区"]
    for code, values in _expected_rows(nw).items():
        assert body[code][4:] == ["" if v is None else str(v) for v in values], code
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.actor == nw.users["street_official"] and entry.place == nw.street
    assert entry.changes["format"] == "csv" and entry.changes["rows"] == 4


@pytest.mark.django_db
def test_xlsx_export_has_the_same_rows_and_is_audited(client: Any, nw: Any) -> None:
    make_needs(nw)
    start, end = this_month()
    response = signed_in(client, nw.users["street_official"]).get(
        f"{URL}export.xlsx", {"place": "t-street", "start": start.isoformat(), "end": end.isoformat()}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    # a read-only sheet drops the empty cells at the end of a row: pad them back
    rows = [[*row, *[None] * (len(export_header()) - len(row))] for row in workbook.active.iter_rows(values_only=True)]
    assert rows[0] == export_header()
    body = {row[1]: row for row in rows[1:]}
    assert set(body) == {"t-a", "t-b", nw.department.code, nw.power.code}
    for code, values in _expected_rows(nw).items():
        assert body[code][4:] == values, code
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.changes == {
        "kind": "rates",
        "format": "xlsx",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "rows": 4,
        "masked": True,
    }


@pytest.mark.django_db
def test_unknown_export_format_is_404(client: Any, nw: Any) -> None:
    assert signed_in(client, nw.users["street_official"]).get(f"{URL}export.pdf").status_code == 404


@pytest.mark.django_db
def test_export_cells_cannot_become_formulas(client: Any, nw: Any) -> None:
    place_create(actor=SYSTEM, parent=nw.street, code="t-evil", name="=HYPERLINK(1)", kind=PlaceKind.COMMUNITY)
    response = signed_in(client, nw.users["street_official"]).get(f"{URL}export.xlsx", {"place": "t-street"})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    names = [row[2] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(1)" in names


# --- cost ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_query_count_does_not_grow_with_communities_or_needs(client: Any, nw: Any) -> None:
    client = signed_in(client, nw.users["street_official"])
    client.get(URL)  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    make_needs(nw)
    for n in range(4):
        community = place_create(
            actor=SYSTEM, parent=nw.street, code=f"t-more-{n}", name=f"新社区{n}", kind=PlaceKind.COMMUNITY
        )
        grid = place_create(actor=SYSTEM, parent=community, code=f"t-more-{n}-g", name="网格", kind=PlaceKind.GRID)
        for _ in range(6):
            need_create(actor=SYSTEM, text="楼道堆满杂物", place=grid)
    deadlines_sweep(now=timezone.now() + dt.timedelta(days=40))
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert response.status_code == 200 and len(response.context["children"]) == 6
    assert len(response.context["overdue"]) == 20 and response.context["overdue_count"] == 26
    assert response.context["total"].rates.overdue == 26
    assert "显示前 20 件，共 26 件" in response.content.decode()
    assert len(many) == len(few), (len(few), len(many))


# --- property: every figure at every level is a plain recomputation ----------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The worlds start ten days before the end of March: their periods cross a month, a quarter
#: and (for the needs received near midnight) Shanghai days that are other days in UTC.
SPAN_START = dt.datetime(2025, 3, 22, tzinfo=SHANGHAI)
SPAN_DAYS = 14
NEED_AT = ["household_place_a", "building_a", "grid_a", "community_a", "household_place_b", "grid_b"]
MOVE_TO = ["grid_a", "grid_b", "household_place_a", "community_b"]
LEVELS = ["city", "district", "street", "community_a", "community_b", "grid_a", "grid_b"]

_later = st.integers(1, 8 * 24)  # hours after the need's reception (or its dispatch)
_minutes = st.one_of(
    st.integers(0, SPAN_DAYS * 1440 - 1),
    # within a quarter of an hour of a Shanghai midnight
    st.builds(lambda day, m: max(0, day * 1440 + m), st.integers(0, SPAN_DAYS - 1), st.integers(-15, 15)),
)
need_plans = st.lists(
    st.fixed_dictionaries(
        {
            "place": st.sampled_from(NEED_AT),
            "minute": _minutes,
            "accept": st.none() | _later,
            "transfer": st.none() | st.tuples(_later, st.sampled_from(MOVE_TO)),
            "whistle": st.none() | st.tuples(_later, st.lists(st.integers(0, 1), min_size=1, max_size=2, unique=True)),
            "checkin": st.tuples(st.none() | _later, st.none() | _later),
            "resolve": st.none() | _later,
            "rate": st.none()  # hours after the resolution
            | st.tuples(st.integers(0, 72), st.booleans(), st.sampled_from(["satisfied", "basic", "unsatisfied"])),
            "merge": st.none() | st.tuples(st.integers(1, 12), st.integers(0, 5)),
        }
    ),
    min_size=1,
    max_size=6,
)
sweeps = st.lists(st.integers(1, (SPAN_DAYS + 8) * 24), min_size=1, max_size=3)
sub_periods = st.lists(st.tuples(st.integers(0, SPAN_DAYS + 4), st.integers(0, 6)), max_size=2)


class World:
    """A random world lived through the services, in the order of its moments."""

    def __init__(self, nw: Any, plans: list[dict[str, Any]], sweep_hours: list[int]) -> None:
        self.nw = nw
        self.departments = [nw.department, nw.power]
        self.needs: dict[int, Need] = {}
        self.origin: dict[int, str] = {}  # the path of the place each need was received at
        self.dispatches: dict[tuple[int, int], Any] = {}
        actions: list[tuple[dt.datetime, int, Any]] = []
        for i, plan in enumerate(plans):
            t0 = SPAN_START + dt.timedelta(minutes=plan["minute"])
            hour = dt.timedelta(hours=1)
            actions.append((t0, 0, lambda t, i=i, plan=plan: self.create(i, plan, t)))
            if plan["accept"] is not None:
                actions.append((t0 + plan["accept"] * hour, 1, lambda t, i=i: self.accept(i, t)))
            if plan["transfer"] is not None:
                after, to = plan["transfer"]
                actions.append((t0 + after * hour, 2, lambda t, i=i, to=to: self.transfer(i, to, t)))
            if plan["whistle"] is not None:
                after, which = plan["whistle"]
                whistled = t0 + after * hour
                actions.append((whistled, 3, lambda t, i=i, which=which: self.whistle(i, which, t)))
                for d, checkin in enumerate(plan["checkin"]):
                    if checkin is not None:
                        actions.append((whistled + checkin * hour, 4, lambda t, i=i, d=d: self.checkin(i, d, t)))
            if plan["resolve"] is not None:
                actions.append((t0 + plan["resolve"] * hour, 5, lambda t, i=i: self.resolve(i, t)))
            if plan["resolve"] is not None and plan["rate"] is not None:
                after, resolved, satisfaction = plan["rate"]
                rated = t0 + (plan["resolve"] + after) * hour
                actions.append((rated, 6, lambda t, i=i, r=resolved, s=satisfaction: self.rate(i, r, s, t)))
            if plan["merge"] is not None:
                after, into = plan["merge"]
                actions.append((t0 + after * hour, 7, lambda t, i=i, into=into: self.merge(i, into, t)))
        for h in sweep_hours:
            actions.append((SPAN_START + dt.timedelta(hours=h), 8, lambda t: deadlines_sweep(now=t)))
        for when, _order, act in sorted(actions, key=lambda a: (a[0], a[1])):
            # the services refuse a step the need is not ready for: it did not happen
            with contextlib.suppress(ValidationError, PermissionDenied, Conflict, KeyError):
                act(when)

    def create(self, i: int, plan: dict[str, Any], at: dt.datetime) -> None:
        place = self.nw.places[plan["place"]]
        need = need_create(actor=SYSTEM, text=f"第{i}件：楼道灯坏了", place=place, category_code="lighting", now=at)
        self.needs[i], self.origin[need.pk] = need, place.path

    def accept(self, i: int, at: dt.datetime) -> None:
        need_accept(actor=SYSTEM, need=self.needs[i].pk, now=at)

    def transfer(self, i: int, to: str, at: dt.datetime) -> None:
        need_transfer(actor=SYSTEM, need=self.needs[i].pk, place=self.nw.places[to], now=at)

    def whistle(self, i: int, which: list[int], at: dt.datetime) -> None:
        departments = [self.departments[d] for d in which]
        for d, dispatch in zip(
            which, need_whistle(actor=SYSTEM, need=self.needs[i].pk, departments=departments, now=at), strict=True
        ):
            self.dispatches[(i, d)] = dispatch

    def checkin(self, i: int, d: int, at: dt.datetime) -> None:
        dispatch_checkin(actor=SYSTEM, dispatch=self.dispatches[(i, d)].pk, now=at)

    def resolve(self, i: int, at: dt.datetime) -> None:
        need = Need.objects.get(pk=self.needs[i].pk)
        active = list(need.dispatches.filter(status__in=ACTIVE_DISPATCH))
        if not active:
            need_resolve(actor=SYSTEM, need=need.pk, result="已处理", now=at)
        for dispatch in active:
            dispatch_resolve(actor=SYSTEM, dispatch=dispatch.pk, result="已处理", now=at)

    def rate(self, i: int, resolved: bool, satisfaction: str, at: dt.datetime) -> None:
        need = Need.objects.get(pk=self.needs[i].pk)
        for reporter in list(need.reporters.all()):
            need_rate(
                actor=SYSTEM, need=need.pk, reporter=reporter, resolved=resolved, satisfaction=satisfaction, now=at
            )

    def merge(self, i: int, into: int, at: dt.datetime) -> None:
        need_merge(actor=SYSTEM, duplicate=self.needs[i].pk, into=self.needs[into].pk, now=at)


class Plain:
    """The figures recomputed the plain way, from the needs, dispatches, ratings and deadline
    actions (never the events or the roll-ups): a need counts at the place and on the day it
    was received, a dispatch on the day it was whistled, a rating on its own day."""

    def __init__(self, world: World) -> None:
        self.origin = world.origin
        self.needs = [n for n in Need.objects.all() if n.status != Status.MERGED]
        self.dispatches = list(Dispatch.objects.all())
        self.ratings = list(Rating.objects.all())
        escalations = DeadlineAction.objects.filter(action=DeadlineAction.Action.ESCALATE)
        self.overdue_needs = set(escalations.filter(dispatch__isnull=True).values_list("need_id", flat=True))
        self.overdue_dispatches = set(escalations.filter(dispatch__isnull=False).values_list("dispatch_id", flat=True))
        self.rated_departments = {
            r.pk: {
                d.department_id
                for d in self.dispatches
                if d.need_id == r.need_id and d.resolved_at is not None and d.resolved_at <= r.at
            }
            for r in self.ratings
        }

    def overdue(self, place: Place, start: dt.date, end: dt.date) -> set[int]:
        return {
            n.pk
            for n in self.needs
            if self.origin[n.pk].startswith(place.path) and start <= local_day(n.created_at) <= end
            and n.pk in self.overdue_needs
        }  # fmt: skip

    def rates(self, place: Place | None, start: dt.date, end: dt.date, department: Any = None) -> Rates:
        def here(need_id: int) -> bool:
            return place is None or self.origin[need_id].startswith(place.path)

        def inside(moment: dt.datetime) -> bool:
            return start <= local_day(moment) <= end

        c: dict[str, int] = dict.fromkeys(Rates().as_dict(), 0)
        if department is None:
            for n in (n for n in self.needs if here(n.pk) and inside(n.created_at)):
                c["received"] += 1
                if n.accepted_at is not None:
                    c["responded"] += 1
                    c["responded_on_time"] += n.response_due is None or n.accepted_at <= n.response_due
                c["resolved"] += n.resolved_at is not None
                c["overdue"] += n.pk in self.overdue_needs
            ratings = [r for r in self.ratings if here(r.need_id) and inside(r.at)]
        else:
            for d in self.dispatches:
                if d.department_id == department.pk and here(d.need_id) and inside(d.whistled_at):
                    c["received"] += 1
                    if d.checked_in_at is not None:
                        c["responded"] += 1
                        c["responded_on_time"] += d.checked_in_at <= d.checkin_due
                    c["resolved"] += d.resolved_at is not None
                    c["overdue"] += d.pk in self.overdue_dispatches
            ratings = [
                r
                for r in self.ratings
                if department.pk in self.rated_departments[r.pk] and here(r.need_id) and inside(r.at)
            ]
        for r in ratings:
            c["followed_up"] += 1
            c["rated_resolved"] += r.resolved
            c[r.satisfaction] += 1
        return Rates(**c)


def shown_rate(numerator: int, denominator: int) -> str:
    """How the page shows a rate, worked out in integers: "—" for an empty denominator."""
    if denominator == 0:
        return "—"
    assert 0 <= numerator <= denominator, (numerator, denominator)
    basis_points = (2 * numerator * 10_000 + denominator) // (2 * denominator)
    return f"{basis_points // 100}.{basis_points % 100:02d}%"


def check_row(row: Any, expected: Rates) -> None:
    assert row.rates == expected, (row.code, row.rates, expected)
    r = expected
    assert row.response == shown_rate(r.responded, r.received)
    assert row.on_time == shown_rate(r.responded_on_time, r.received)
    assert row.resolution == shown_rate(r.rated_resolved, r.followed_up)
    assert row.satisfaction == shown_rate(r.satisfied + r.basic, r.followed_up)
    assert 0 <= r.resolved <= r.received and 0 <= r.overdue <= r.received
    assert r.satisfied + r.basic + r.unsatisfied == r.followed_up


@pytest.mark.django_db
def test_every_figure_at_every_level_is_a_plain_recomputation(client: Any, nw: Any) -> None:
    admin = nw.users["system_admin"]
    signed_in(client, admin)
    first = SPAN_START.date()

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(plans=need_plans, sweep_hours=sweeps, extra=sub_periods)
    def check(plans: list[dict[str, Any]], sweep_hours: list[int], extra: list[tuple[int, int]]) -> None:
        savepoint = transaction.savepoint()
        try:
            world = World(nw, plans, sweep_hours)
            plain = Plain(world)
            periods = [
                (first, first + dt.timedelta(days=SPAN_DAYS + 8)),
                (dt.date(2025, 3, 1), dt.date(2025, 3, 31)),  # 本月 on 31 March
                (dt.date(2025, 4, 1), dt.date(2025, 4, 30)),
                *((first + dt.timedelta(days=a), first + dt.timedelta(days=a + n)) for a, n in extra),
            ]
            for start, end in periods:
                for level in LEVELS:
                    place = nw.places[level]
                    figures = dashboard_figures(actor=admin, place=place, start=start, end=end)
                    total = plain.rates(place, start, end)
                    check_row(figures.total, total)
                    # the trend, day by day, adds up to the total
                    assert figures.trend_by == "day" and len(figures.trend) == (end - start).days + 1
                    for n, (label, row) in enumerate(figures.trend):
                        day = start + dt.timedelta(days=n)
                        assert label == day.strftime("%m-%d")
                        check_row(row, plain.rates(place, day, day))
                    assert sum((row.rates for _label, row in figures.trend), Rates()) == total
                    # the children: all of them in the table, those with data in the chart
                    children = {
                        c.code: c
                        for c in Place.objects.filter(path__startswith=place.path, depth=place.depth + 1)
                        if c.kind in ROLLUP_KINDS
                    }
                    assert {row.code for row in figures.children} == set(children)
                    for row in figures.children:
                        check_row(row, plain.rates(children[row.code], start, end))
                    assert [r.code for r in figures.charted] == [r.code for r in figures.children if not r.rates.empty]
                    assert [rank_key(r.rates) for r in figures.children] == sorted(
                        rank_key(r.rates) for r in figures.children
                    )
                    # the departments, for this place only; those with nothing whistled last
                    assert {row.code for row in figures.departments} == {d.code for d in world.departments}
                    for row in figures.departments:
                        department = next(d for d in world.departments if d.code == row.code)
                        check_row(row, plain.rates(place, start, end, department))
                    received = [row.rates.received > 0 for row in figures.departments]
                    assert received == sorted(received, reverse=True)
                    assert all(row.rates.received > 0 for row in figures.ranked_departments)
                    assert all(row.rates.received == 0 for row in figures.idle_departments)
                    # 超期 is its list
                    assert {n.pk for n in figures.overdue} == plain.overdue(place, start, end)
                    assert figures.overdue.count() == total.overdue
            # and the page shows no rate above 100 %
            html = client.get(URL, {"place": "t-street", "start": first.isoformat(), "end": periods[0][1].isoformat()})
            shown = [float(v) for v in re.findall(r"(-?\d+(?:\.\d+)?)%", html.content.decode())]
            assert all(0 <= v <= 100 for v in shown), shown
        finally:
            transaction.savepoint_rollback(savepoint)

    check()
