"""The monthly visits ledger 走访台账: the month's visits and nothing else, local time, masking and
the full ledger, who may have it, bad months, the audit, the PDF, and a flat query count."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.timezone import get_default_timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from linli.core.access import CAPABILITIES, Role
from linli.core.models import AuditEntry
from linli.people.capabilities import PeopleCap
from linli.testing import sign_in
from linli.visits.ledger import header, ledger_month
from linli.visits.models import Visit, VisitTag
from linli.visits.services import visit_log

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
JUNE = "/visits/ledger/t-a/2026-6"
HEARD = "楼道灯坏了，请回电13912345678"


def log(w: Any, at: dt.datetime, user: str = "grid_worker", **kw: Any) -> Visit:
    kw.setdefault("household", w.household_a)
    kw.setdefault("kind", "knock")
    return visit_log(actor=w.users[user], visited_at=at, now=at + H, **kw)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def june(vw: Any) -> Any:
    """Visits of June 2026 in community A, and others around them that the ledger leaves out."""
    # 1 June 01:00 in Shanghai is still 31 May in UTC: it belongs to June
    log(vw, utc(2026, 5, 31, 17, 0), heard="月初凌晨的走访")
    log(
        vw,
        utc(2026, 6, 5, 2, 30),
        met_person=vw.resident_a,
        heard=HEARD,
        tags=[VisitTag.OPINION_HEARD],
        needs_help=True,
    )
    log(vw, vw.now + H, user="central_household", kind="night", met_other="王阿姨")
    # left out: May, 1 July 00:30 in Shanghai, and community B
    log(vw, utc(2026, 5, 20, 2, 0), heard="五月的走访")
    log(vw, utc(2026, 6, 30, 16, 30), heard="七月初的走访")
    log(vw, utc(2026, 6, 6, 2, 0), user="grid_worker_b", household=vw.household_b, heard="常四社区的走访")
    return vw


def signed_in(client: Any, user: Any) -> Any:
    sign_in(client, user)
    return client


def workbook(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def texts(sheet: Any) -> str:
    return "\n".join(" ".join("" if c is None else str(c) for c in row) for row in sheet.iter_rows(values_only=True))


def pdf_text(response: Any) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


# --- the workbook -------------------------------------------------------------------------------


def test_the_xlsx_has_the_months_visits_masked(client: Any, june: Any) -> None:
    response = signed_in(client, june.users["secretary"]).get(f"{JUNE}.xlsx")
    assert response["Content-Disposition"].startswith('attachment; filename="linli-visits-t-a-2026-06.xlsx"')
    book = workbook(response)
    assert book.sheetnames == ["走访台账", "汇总"]
    sheet = book["走访台账"]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == header()
    assert [r[0] for r in rows[1:]] == ["2026-06-01 01:00", "2026-06-05 10:30", "2026-06-10 19:00"]
    first, opinion, night = (dict(zip(header(), r, strict=True)) for r in rows[1:])
    assert (opinion["网格"], opinion["楼栋/院落"], opinion["房号"]) == ("第一网格", "1栋", "1单元101")
    assert opinion["走访类型"] == "日常敲门" and night["走访类型"] == "夜访"
    assert opinion["见到的人"] == "张**" and night["见到的人"] == "王**"
    assert opinion["听到的情况"] == "楼道灯坏了，请回电139****5678"
    assert opinion["情况标记"] == "需要立即帮助" and opinion["标记/宣讲政策"] == "向上反映心声"
    assert first["走访人"].startswith("用") and "grid_worker" not in first["走访人"]
    everything = texts(sheet) + texts(book["汇总"])
    for absent in ("张建国", "13912345678", "五月的走访", "七月初的走访", "常四社区的走访", "王阿姨"):
        assert absent not in everything, absent

    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[0][0] == "常二社区 2026年6月 走访台账"
    assert any("生成时" in str(r[0]) for r in summary)
    by_name = {r[0]: r[1:] for r in summary if r and r[0]}
    # households, visits in the month, households met, coverage, overdue, never visited
    assert by_name["第一网格"][:4] == (1, 3, 1, "100.0%")
    assert by_name["合计"][:4] == (1, 3, 1, "100.0%")
    carer = [r for r in summary if r[0] and str(r[0]).startswith("用*")]
    assert len(carer) == 1 and carer[0][1:4] == (1, 1, 1)

    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.actor == june.users["secretary"] and entry.place == june.community_a
    assert entry.field == "masked" and entry.changes == {
        "kind": "visits_ledger",
        "format": "xlsx",
        "month": "2026-06",
        "rows": 3,
        "masked": True,
    }


def test_the_full_ledger_for_the_secretary_is_audited(client: Any, june: Any) -> None:
    secretary = signed_in(client, june.users["secretary"])
    assert secretary.get(f"{JUNE}.xlsx", {"full": "1"}).status_code == 400  # a reason is required
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()
    book = workbook(secretary.get(f"{JUNE}.xlsx", {"full": "1", "reason": "上报民政局"}))
    everything = texts(book["走访台账"]) + texts(book["汇总"])
    assert "张建国" in everything and "13912345678" in everything and "王阿姨" in everything
    assert "用户central_household" in everything
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.field == "full" and entry.changes["masked"] is False and entry.reason == "上报民政局"


def test_an_empty_month_is_still_a_ledger(client: Any, vw: Any) -> None:
    client = signed_in(client, vw.users["community_staff"])
    book = workbook(client.get("/visits/ledger/t-a/2026-3.xlsx"))
    assert list(book["走访台账"].iter_rows(values_only=True)) == [tuple(header())]
    assert "常二社区 2026年3月 走访台账" in pdf_text(client.get("/visits/ledger/t-a/2026-03.pdf"))
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == 2


def test_cells_that_look_like_formulas_stay_text(client: Any, vw: Any) -> None:
    log(vw, utc(2026, 6, 2, 2, 0), heard="=HYPERLINK(1)")
    sheet = workbook(signed_in(client, vw.users["secretary"]).get(f"{JUNE}.xlsx"))["走访台账"]
    assert sheet["H2"].value == "'=HYPERLINK(1)"


# --- the PDF ------------------------------------------------------------------------------------


def test_the_pdf_has_the_community_and_the_visits_masked(client: Any, june: Any) -> None:
    text = pdf_text(signed_in(client, june.users["secretary"]).get(f"{JUNE}.pdf"))
    assert "常二社区 2026年6月 走访台账" in text
    assert "楼道灯坏了" in text and "139****5678" in text and "月初凌晨的走访" in text
    assert "第一网格" in text and "汇总" in text
    for absent in ("13912345678", "张建国", "五月的走访", "七月初的走访", "常四社区的走访"):
        assert absent not in text, absent
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.changes["format"] == "pdf" and entry.field == "masked"


def test_the_full_pdf_has_clear_names(client: Any, june: Any) -> None:
    text = pdf_text(signed_in(client, june.users["secretary"]).get(f"{JUNE}.pdf", {"full": "1", "reason": "存档"}))
    assert "张建国" in text and "13912345678" in text


# --- who may have it ----------------------------------------------------------------------------


def test_who_may_have_the_ledger(client: Any, june: Any) -> None:
    assert client.get(f"{JUNE}.xlsx").status_code == 302  # anonymous: to the sign-in page
    cases = {
        "secretary_b": 404,  # another community: its existence is not confirmed
        "grid_worker_b": 404,
        "grid_worker": 404,  # sees only its grid, not the community
        "resident": 404,
        "street_official": 403,  # sees the community, but not its visit notes
        "district_official": 403,
        "community_staff": 200,
        "system_admin": 200,
    }
    for name, status in cases.items():
        sign_in(client, june.users[name])
        for fmt in ("xlsx", "pdf"):
            assert client.get(f"{JUNE}.{fmt}").status_code == status, (name, fmt)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == 4
    sign_in(client, june.users["secretary"])
    assert client.get("/visits/ledger/no-such-place/2026-6.xlsx").status_code == 404
    assert client.get(f"{JUNE}.csv").status_code == 404
    assert client.get(f"{JUNE}.xlsx").status_code == 200


def test_the_full_ledger_needs_unmask(client: Any, june: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(CAPABILITIES, Role.COMMUNITY_STAFF, CAPABILITIES[Role.COMMUNITY_STAFF] - {PeopleCap.UNMASK})
    client = signed_in(client, june.users["community_staff"])
    assert client.get(f"{JUNE}.xlsx").status_code == 200
    assert client.get(f"{JUNE}.xlsx", {"full": "1", "reason": "存档"}).status_code == 403
    assert client.get(f"{JUNE}.pdf", {"full": "1", "reason": "存档"}).status_code == 403
    assert list(AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).values_list("field", flat=True)) == [
        "masked"
    ]


def test_bad_months_are_refused(client: Any, vw: Any) -> None:
    client = signed_in(client, vw.users["secretary"])
    today = timezone.now().astimezone(get_default_timezone()).date()
    nxt = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    future = client.get(f"/visits/ledger/t-a/{nxt.year}-{nxt.month}.xlsx")
    assert future.status_code == 400 and "尚未到来" in future.content.decode()
    assert client.get(f"/visits/ledger/t-a/{today.year}-{today.month}.xlsx").status_code == 200  # this month
    assert client.get("/visits/ledger/t-a/2026-13.pdf").status_code == 400
    assert client.get("/visits/ledger/t-a/1999-12.pdf").status_code == 400
    grid = client.get("/visits/ledger/t-a-g1/2026-6.xlsx")
    assert grid.status_code == 400 and "社区" in grid.content.decode()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == 1


def test_the_month_runs_in_local_time() -> None:
    now = utc(2026, 11, 28)
    june = ledger_month(2026, 6, now=now)
    assert june.start == dt.datetime(2026, 5, 31, 16, 0, tzinfo=dt.UTC) and june.days == 30
    assert ledger_month(2026, 12, now=utc(2026, 11, 30, 16, 0)).key == "2026-12"  # 1 December in Shanghai
    assert ledger_month(2025, 12, now=now).end == dt.datetime(2026, 1, 1, tzinfo=get_default_timezone())


# --- cost ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_the_query_count_does_not_grow_with_the_visits(client: Any, vw: Any, fmt: str) -> None:
    client = signed_in(client, vw.users["secretary"])
    start = utc(2026, 6, 1, 0, 0)
    log(vw, start, met_person=vw.resident_a, heard="第0次")
    with CaptureQueriesContext(connection) as one:
        response = client.get(f"{JUNE}.{fmt}")
        assert response.status_code == 200
    for n in range(1, 30):
        log(vw, start + n * H, met_person=vw.resident_a, heard=f"第{n}次", kind="care" if n % 2 else "knock")
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{JUNE}.{fmt}")
        assert response.status_code == 200
    if fmt == "xlsx":
        assert len(list(workbook(response)["走访台账"].iter_rows(min_row=2))) == 30
    assert len(many) == len(one), (len(one), len(many))
