"""The three-rates dashboard 三率看板: scope, numbers, drill-down, exports and their audit,
bad input, query counts, and the page on a phone."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from linli.needs.dashboard import export_header, percent
from linli.needs.models import Need
from linli.needs.rates import local_day, rates_by_child, rates_for
from linli.needs.services import (
    dispatch_checkin,
    dispatch_resolve,
    need_create,
    need_rate,
    need_resolve,
    need_whistle,
)
from linli.places.models import PlaceKind
from linli.places.services import place_create
from linli.testing import PASSWORD, sign_in, totp_now

URL = "/needs/dashboard/"


def this_month() -> tuple[dt.date, dt.date]:
    today = local_day(timezone.now())
    return today.replace(day=1), today


def make_needs(nw: Any) -> dict[str, Need]:
    """In community A: one need resolved by the grid and rated satisfied, one whistled to the
    water department and rated basically satisfied, one overdue since last month; in
    community B: one resolved and rated unsatisfied."""
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
    return {"lamp": lamp, "water": water, "old": old, "b": b}


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
    assert (expected.received, expected.followed_up) == (3, 3)
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
    assert water.rates == rates_for(department=nw.department, start=start, end=end)
    assert (water.rates.received, water.rates.responded, water.rates.followed_up) == (1, 1, 1)
    # the overdue open need, linked; never the finished ones
    assert [n.pk for n in response.context["overdue"]] == [needs["old"].pk]
    assert f'href="/needs/{needs["old"].pk}/"' in block(html, "overdue")
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
        for _ in range(3):
            need_create(
                actor=SYSTEM,
                text="楼道堆满杂物",
                place=grid,
                now=timezone.now() - dt.timedelta(days=30),
            )
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert response.status_code == 200 and len(response.context["children"]) == 6
    assert len(response.context["overdue"]) == 13
    assert len(many) == len(few), (len(few), len(many))


# --- the phone ----------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_on_a_phone(page: Any, live_server: Any, nw: Any, screenshot: Any) -> None:
    from playwright.sync_api import expect

    make_needs(nw)
    base = live_server.url
    # the real sign-in with a TOTP code, as in tests/browser/test_journeys.py (not imported
    # from there: its xdist_group mark is unknown when pytest runs without xdist)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", "street_official")
    page.fill("#id_password", PASSWORD)
    page.click("#password-login button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    page.click("#dashboard-link")
    expect(page.locator("#dashboard-title")).to_contain_text("汉兴街道")
    expect(page.locator("#children-chart canvas")).to_have_count(1)
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    # nothing wider than the 390 px screen: wide tables scroll inside their own box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("1-street")
    page.click("#children >> text=常二社区")
    expect(page.locator("#dashboard-title")).to_contain_text("常二社区")
    expect(page.locator("#children-chart canvas")).to_have_count(1)
    screenshot("2-community")
