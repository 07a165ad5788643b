"""Working-day arithmetic against the official calendar (chinese-calendar is the oracle),
city overrides, the fallback for years without a calendar, and calendar imports."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils.timezone import get_default_timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from linli.places.models import Place, PlaceKind
from linli.places.services import ImportFailed, place_create
from linli.workdays.models import CalendarDay, CalendarYear, LimitUnit
from linli.workdays.services import (
    add_limit,
    calendar_import,
    calendar_seed,
    calendar_warnings,
    is_workday,
    missing_years,
    workdays_between,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [SHANGHAI, UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]
DB_EXAMPLES = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def national(db: Any) -> None:
    calendar_seed(years=[2024, 2025, 2026])


@pytest.fixture
def city(db: Any) -> Place:
    return place_create(actor=SYSTEM, parent=None, code="w-city", name="武汉市", kind=PlaceKind.CITY)


def at(y: int, m: int, d: int, hour: int = 10, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(y, m, d, hour, tzinfo=tz)


def due(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 18, tzinfo=SHANGHAI)


def official_workdays(after: date, until: date) -> int:
    """Working days in (after, until] by the package itself."""
    if until <= after:
        return 0
    return len(chinese_calendar.get_workdays(after + timedelta(days=1), until))


# --- properties ----------------------------------------------------------------------------------


@DB_EXAMPLES
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 11, 30, 23, 59)),
    zone=st.sampled_from(ZONES),
    limit=st.integers(min_value=1, max_value=20),
)
def test_workday_deadlines_match_the_official_calendar(
    national: None, start: datetime, zone: ZoneInfo, limit: int, django_assert_max_num_queries: Any
) -> None:
    start = start.replace(tzinfo=zone)
    with django_assert_max_num_queries(2):
        deadline = add_limit(start, limit, LimitUnit.WORKDAYS)
    local = deadline.astimezone(SHANGHAI)
    assert (local.hour, local.minute, local.second) == (18, 0, 0)
    assert chinese_calendar.is_workday(local.date())
    start_day = start.astimezone(SHANGHAI).date()
    assert local.date() > start_day
    assert official_workdays(start_day, local.date()) == limit
    assert workdays_between(start_day, local.date()) == limit


@DB_EXAMPLES
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)),
    zone=st.sampled_from(ZONES),
    limit=st.integers(min_value=1, max_value=72),
)
def test_hour_deadlines_are_exact_clock_hours(national: None, start: datetime, zone: ZoneInfo, limit: int) -> None:
    start = start.replace(tzinfo=zone)
    deadline = add_limit(start, limit, LimitUnit.HOURS)
    assert deadline - start == timedelta(hours=limit)
    assert deadline.tzinfo == get_default_timezone()


@DB_EXAMPLES
@given(day=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)))
def test_is_workday_agrees_with_the_package(national: None, day: date) -> None:
    assert is_workday(day) == chinese_calendar.is_workday(day)


# --- concrete days -------------------------------------------------------------------------------


def test_national_day_2025(national: None) -> None:
    # 1–8 October 2025 are off; Sunday 28 September and Saturday 11 October are make-up days
    assert chinese_calendar.find_workday(1, date(2025, 9, 30)) == date(2025, 10, 9)
    assert add_limit(at(2025, 9, 30), 1, LimitUnit.WORKDAYS) == due(2025, 10, 9)
    assert add_limit(at(2025, 9, 30), 3, LimitUnit.WORKDAYS) == due(2025, 10, 11)
    assert add_limit(at(2025, 10, 10), 1, LimitUnit.WORKDAYS) == due(2025, 10, 11)
    assert add_limit(at(2025, 9, 26), 1, LimitUnit.WORKDAYS) == due(2025, 9, 28)
    assert is_workday(date(2025, 10, 11)) and not is_workday(date(2025, 10, 8))
    assert CalendarDay.objects.get(city=None, date=date(2025, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(city=None, date=date(2025, 10, 11)).name == "国庆节调休"


def test_spring_festival_2025_and_the_seven_days_of_an_ordinary_need(national: None) -> None:
    assert add_limit(at(2025, 1, 27), 1, LimitUnit.WORKDAYS) == due(2025, 2, 5)
    expected = chinese_calendar.find_workday(7, date(2025, 1, 24))
    assert add_limit(at(2025, 1, 24), 7, LimitUnit.WORKDAYS) == datetime.combine(
        expected, datetime.min.time().replace(hour=18), tzinfo=SHANGHAI
    )


def test_the_start_day_never_counts_and_the_local_date_decides(national: None) -> None:
    # a need at 17:59 or 23:59 on a working day: the next working day is still day one
    assert add_limit(at(2025, 6, 3, 23), 1, LimitUnit.WORKDAYS) == due(2025, 6, 4)
    # 20:00 UTC on Friday 10 October is 04:00 on Saturday 11 October (a make-up day) in Shanghai
    start = datetime(2025, 10, 10, 20, tzinfo=UTC)
    assert add_limit(start, 1, LimitUnit.WORKDAYS) == due(2025, 10, 13)


def test_hours_run_through_holidays(national: None) -> None:
    assert add_limit(at(2025, 10, 1, 9), 2, LimitUnit.HOURS) == at(2025, 10, 1, 11)
    assert add_limit(at(2025, 9, 30, 12), 24, LimitUnit.HOURS) == at(2025, 10, 1, 12)


def test_bad_arguments(national: None) -> None:
    with pytest.raises(ValueError, match="positive"):
        add_limit(at(2025, 1, 2), 0, LimitUnit.WORKDAYS)
    with pytest.raises(ValueError, match="positive"):
        add_limit(at(2025, 1, 2), -3, LimitUnit.HOURS)
    with pytest.raises(ValueError, match="aware"):
        add_limit(datetime(2025, 1, 2, 10), 1, LimitUnit.WORKDAYS)
    with pytest.raises(ValueError, match="unit"):
        add_limit(at(2025, 1, 2), 1, "weeks")


def test_workdays_between(national: None) -> None:
    assert workdays_between(date(2025, 9, 30), date(2025, 10, 11)) == 3
    assert workdays_between(date(2025, 10, 11), date(2025, 9, 30)) == -3
    assert workdays_between(date(2025, 9, 30), date(2025, 9, 30)) == 0


# --- years without a calendar ----------------------------------------------------------------------


def test_2027_falls_back_to_monday_to_friday_with_a_warning(national: None, caplog: Any, english: None) -> None:
    assert calendar_seed(years=[2027]) == 0  # the package does not know it: skipped, not an error
    assert missing_years([2025, 2026, 2027]) == [2027]
    assert "2027" in calendar_warnings([2027])[0] and "Monday to Friday" in calendar_warnings([2027])[0]
    with caplog.at_level(logging.WARNING, logger="linli.workdays"):
        # Thursday 31 December 2026 + 1: Friday 1 January 2027 counts, as any Friday would
        assert add_limit(at(2026, 12, 31), 1, LimitUnit.WORKDAYS) == due(2027, 1, 1)
        assert add_limit(at(2027, 3, 5), 1, LimitUnit.WORKDAYS) == due(2027, 3, 8)
    fallbacks = [r.getMessage() for r in caplog.records if r.getMessage().startswith("no holiday calendar")]
    assert fallbacks == ["no holiday calendar for 2027: counting Monday to Friday"] * 2
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="linli.workdays"):
        add_limit(at(2025, 3, 5), 5, LimitUnit.WORKDAYS)
    assert not [r for r in caplog.records if r.name == "linli.workdays"]


def test_seeding_is_idempotent(national: None) -> None:
    rows = CalendarDay.objects.count()
    assert rows > 0
    assert calendar_seed(years=[2024, 2025, 2026]) == 0
    assert CalendarDay.objects.count() == rows
    assert set(CalendarYear.objects.values_list("year", flat=True)) == {2024, 2025, 2026}
    assert CalendarYear.objects.get(year=2025).source.startswith("chinese-calendar ")
    # only what differs from Monday–Friday is stored
    for row in CalendarDay.objects.all():
        assert row.is_workday == (row.date.weekday() >= 5)
    # a changed row is put back
    CalendarDay.objects.filter(date=date(2025, 10, 8)).update(is_workday=True)
    assert calendar_seed(years=[2025]) == 1
    assert not is_workday(date(2025, 10, 8))


# --- city overrides -------------------------------------------------------------------------------


def test_city_overrides_win(national: None, city: Place) -> None:
    CalendarDay.objects.create(city=city, date=date(2025, 10, 9), is_workday=False, name="本市停工")
    CalendarDay.objects.create(city=city, date=date(2025, 10, 8), is_workday=True, name="本市上班")
    assert not is_workday(date(2025, 10, 9), city=city)
    assert is_workday(date(2025, 10, 9))
    assert is_workday(date(2025, 10, 8), city=city.pk)
    assert add_limit(at(2025, 9, 30), 1, LimitUnit.WORKDAYS, city=city) == due(2025, 10, 8)
    assert add_limit(at(2025, 10, 8), 1, LimitUnit.WORKDAYS, city=city) == due(2025, 10, 10)
    assert add_limit(at(2025, 9, 30), 1, LimitUnit.WORKDAYS) == due(2025, 10, 9)
    other = place_create(actor=SYSTEM, parent=None, code="w-other", name="黄石市", kind=PlaceKind.CITY)
    assert add_limit(at(2025, 9, 30), 1, LimitUnit.WORKDAYS, city=other) == due(2025, 10, 9)


def test_a_city_calendar_covers_a_year_for_that_city_only(national: None, city: Place) -> None:
    data = "日期,类型,名称\n2027-01-01,休,元旦\n2027-02-06,班,春节调休\n".encode()
    result = calendar_import(actor=SYSTEM, data=data, filename="wuhan-2027.csv", city=city)
    assert (result.created, result.years) == (2, [2027])
    assert missing_years([2027], city) == []
    assert missing_years([2027]) == [2027]
    assert add_limit(at(2026, 12, 31), 1, LimitUnit.WORKDAYS, city=city) == due(2027, 1, 4)
    assert add_limit(at(2027, 2, 5), 1, LimitUnit.WORKDAYS, city=city) == due(2027, 2, 6)


# --- import -----------------------------------------------------------------------------------------

GOOD_2027 = """日期,类型,名称
2027-01-01,休,元旦
2027-02-06,班,春节调休
2027-02-08,休,春节
2027/02/09,holiday,春节
2027年2月10日,0,春节
2027-02-20,workday,春节调休
2027-02-21,1,
"""


def test_import_a_national_year() -> None:
    result = calendar_import(actor=SYSTEM, data=GOOD_2027.encode(), filename="2027.csv")
    assert (result.created, result.updated, result.removed, result.years) == (7, 0, 0, [2027])
    assert CalendarDay.objects.filter(city=None, date__year=2027).count() == 7
    assert CalendarYear.objects.get(city=None, year=2027).source == "import: 2027.csv"
    assert missing_years([2027]) == []
    assert not is_workday(date(2027, 2, 9)) and is_workday(date(2027, 2, 21))
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor_name == "system" and entry.reason == "2027.csv"
    # the file is the whole year: importing a shorter one removes the rows it leaves out
    again = calendar_import(actor=SYSTEM, data="date,kind,name\n2027-01-01,休,新年\n".encode(), filename="b.csv")
    assert (again.created, again.updated, again.removed) == (0, 1, 6)
    assert CalendarDay.objects.get(city=None, date=date(2027, 1, 1)).name == "新年"


def test_seeding_leaves_an_imported_year_alone() -> None:
    calendar_import(actor=SYSTEM, data="日期,类型\n2026-01-02,休\n".encode(), filename="fix.csv")
    calendar_seed(years=[2026])
    assert list(CalendarDay.objects.filter(date__year=2026).values_list("date", flat=True)) == [date(2026, 1, 2)]
    assert CalendarYear.objects.get(year=2026).source == "import: fix.csv"


def test_import_is_all_or_nothing_with_line_numbers(english: None) -> None:
    bad = GOOD_2027 + "\n".join(
        [
            "2027-02-30,休,",  # row 9: no such date
            "2027-01-01,班,",  # row 10: repeats row 2
            "2027-03-01,调,",  # row 11: unknown kind
            "2027-03-02,休," + "长" * 41,  # row 12: name too long
            "昨天,放假,",  # row 13: not a date
        ]
    )
    with pytest.raises(ImportFailed) as info:
        calendar_import(actor=SYSTEM, data=bad.encode(), filename="bad.csv")
    assert isinstance(info.value, ValidationError)
    lines = [e.line for e in info.value.row_errors]
    assert lines == [9, 10, 11, 12, 13]
    messages = info.value.messages
    assert messages[0].startswith("Row 9: ")
    assert "repeats row 2" in messages[1]
    assert "Invalid kind" in messages[2]
    assert "40" in messages[3]
    assert CalendarDay.objects.count() == 0
    assert CalendarYear.objects.count() == 0
    assert not AuditEntry.objects.exists()


def test_import_checks_the_file(english: None) -> None:
    with pytest.raises(ImportFailed, match=r"Only \.xlsx or \.csv"):
        calendar_import(actor=SYSTEM, data=b"x", filename="a.txt")
    with pytest.raises(ImportFailed, match="Missing columns: kind"):
        calendar_import(actor=SYSTEM, data="日期,名称\n2027-01-01,元旦\n".encode(), filename="a.csv")
    with pytest.raises(ImportFailed, match="no data rows"):
        calendar_import(actor=SYSTEM, data="日期,类型\n".encode(), filename="a.csv")
    with pytest.raises(ImportFailed, match=r"Not a valid \.xlsx"):
        calendar_import(actor=SYSTEM, data=b"not a zip", filename="a.xlsx")


def test_import_xlsx_with_date_cells(city: Place) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["date", "kind", "name"])
    sheet.append([datetime(2027, 10, 1), "休", "国庆节"])
    sheet.append([date(2027, 9, 26), "班", "国庆节调休"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = calendar_import(actor=SYSTEM, data=buffer.getvalue(), filename="2027.xlsx", city=city)
    assert result.created == 2
    assert CalendarDay.objects.filter(city=city).count() == 2


def test_import_needs_a_system_admin(world: Any, english: None) -> None:
    data = "日期,类型\n2027-01-01,休\n".encode()
    for role in ("secretary", "street_official", "district_official", "resident"):
        with pytest.raises(PermissionDenied, match="Only system administrators"):
            calendar_import(actor=world.users[role], data=data, filename="a.csv")
    admin = world.users["system_admin"]
    calendar_import(actor=admin, data=data, filename="a.csv", city=world.city)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT, target_type="workdays.calendaryear")
    assert entry.actor == admin and entry.place == world.city


def test_import_into_a_place_that_is_not_a_city(world: Any, english: None) -> None:
    with pytest.raises(ValidationError, match="not a city"):
        calendar_import(actor=SYSTEM, data=b"date,kind\n2027-01-01,0\n", filename="a.csv", city=world.community_a)


# --- the command -----------------------------------------------------------------------------------


def test_command_seed_show_and_import(tmp_path: Any, english: None) -> None:
    out = io.StringIO()
    call_command("calendar", "seed", "--years", "2025", "2027", stdout=out)
    assert "2027" in out.getvalue() and "days written" in out.getvalue()
    out = io.StringIO()
    call_command("calendar", "show", "2025", stdout=out)
    text = out.getvalue()
    assert "2025-10-11" in text and "国庆节调休" in text and "2025-10-01" in text
    assert "not loaded" not in text
    out = io.StringIO()
    call_command("calendar", "show", "2027", stdout=out)
    assert "The 2027 holiday calendar is not loaded" in out.getvalue()

    good = tmp_path / "2027.csv"
    good.write_text(GOOD_2027, encoding="utf-8")
    out = io.StringIO()
    call_command("calendar", "import", str(good), stdout=out)
    assert "created 7" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("日期,类型\n2027-13-01,休\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("calendar", "import", str(bad), stdout=out)
    assert "Row 2: Invalid date" in out.getvalue()
    with pytest.raises(CommandError, match="No place with code"):
        call_command("calendar", "show", "2025", "--city", "nowhere", stdout=io.StringIO())
