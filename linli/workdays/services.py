"""Working-day arithmetic in the site's time zone (``TIME_ZONE``), over the calendar kept as data.

A day is a working day when a ``CalendarDay`` of the city says so, else when a national
``CalendarDay`` (``city`` null) says so, else when it is Monday to Friday. The national rows are
seeded from the ``chinese-calendar`` package (public holidays on weekdays, make-up working days
调休 on weekends) or imported from a file once the State Council publishes a new year; a city may
import its own overrides. ``CalendarYear`` records which years are loaded: deadlines in a year
without one fall back to Monday–Friday and log a warning, they never fail.

A deadline in working days ends at 18:00 local time on the N-th working day after the start's
local date: the start day itself never counts ("N working days from the next day").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.timezone import get_default_timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor, require_admin
from linli.core.audit import audit_import
from linli.core.sheets import ImportFailed, RowError, import_failed, read_rows
from linli.places.models import Place
from linli.places.selectors import check_city
from linli.workdays.models import CalendarDay, CalendarYear, LimitUnit

logger = logging.getLogger("linli.workdays")

#: A deadline counted in working days ends at the close of that day's office hours.
DUE_TIME = time(18, 0)
#: Official runs of days off last at most nine days (Spring Festival), so a first window of
#: 2N + 21 calendar days holds N working days around any of them and a deadline costs one
#: calendar query; a longer local shutdown just fetches a further window.
_WINDOW_SLACK = 21
SEED_SOURCE_PREFIX = "chinese-calendar"

#: The Chinese names of the holidays the package knows, as the State Council writes them.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

CityArg = Place | int | None


def _city_pk(city: CityArg) -> int | None:
    if city is None or isinstance(city, int):
        return city
    pk: int = city.pk
    return pk


# --- seeding from chinese-calendar --------------------------------------------------------------


def _package_source() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{SEED_SOURCE_PREFIX} {version('chinese_calendar')}"
    except PackageNotFoundError:  # pragma: no cover - vendored copies
        return SEED_SOURCE_PREFIX


def _package_days() -> dict[int, dict[date, tuple[bool, str]]]:
    """The package's days that differ from Monday–Friday, per year it knows."""
    import chinese_calendar

    by_year: dict[int, dict[date, tuple[bool, str]]] = {}
    for day, english in chinese_calendar.holidays.items():
        by_year.setdefault(day.year, {})
        if day.weekday() < 5:
            by_year[day.year][day] = (False, HOLIDAY_NAMES.get(english, english)[:40])
    for day, english in chinese_calendar.workdays.items():
        by_year.setdefault(day.year, {})
        if day.weekday() >= 5:
            by_year[day.year][day] = (True, (HOLIDAY_NAMES.get(english, english) + "调休")[:40])
    return by_year


@transaction.atomic
def calendar_seed(*, years: Iterable[int] | None = None) -> int:
    """Load the national calendar of ``years`` (default: every year the package knows) from
    ``chinese-calendar`` and record a ``CalendarYear`` for each. Returns the number of days
    created or changed; running it again writes nothing.

    Years the package does not know are skipped (logged, not an error). A year whose national
    calendar was imported from a file (its ``CalendarYear.source`` is not the package) is left
    as imported: the hand-made calendar is the newer word.
    """
    known = _package_days()
    wanted = sorted(set(years)) if years is not None else sorted(known)
    source = _package_source()
    imported = set(
        CalendarYear.objects.filter(city__isnull=True, year__in=wanted)
        .exclude(source__startswith=SEED_SOURCE_PREFIX)
        .values_list("year", flat=True)
    )
    written = 0
    for year in wanted:
        if year not in known:
            logger.warning("chinese-calendar does not know %s: not seeded", year)
            continue
        if year in imported:
            logger.info("the national calendar of %s was imported from a file: not seeded", year)
            continue
        created, changed, _unused = _replace_days(None, year, known[year])
        written += created + changed
        CalendarYear.objects.update_or_create(city=None, year=year, defaults={"source": source})
    return written


def _replace_days(city_pk: int | None, year: int, days: dict[date, tuple[bool, str]]) -> tuple[int, int, int]:
    """Make the rows of one (city, year) exactly ``days``: (created, changed, removed)."""
    existing = {row.date: row for row in CalendarDay.objects.filter(city_id=city_pk, date__year=year)}
    stale = [row.pk for day, row in existing.items() if day not in days]
    if stale:
        CalendarDay.objects.filter(pk__in=stale).delete()
    new = [
        CalendarDay(city_id=city_pk, date=day, is_workday=workday, name=name)
        for day, (workday, name) in sorted(days.items())
        if day not in existing
    ]
    changed = []
    for day, (workday, name) in days.items():
        row = existing.get(day)
        if row is not None and (row.is_workday, row.name) != (workday, name):
            row.is_workday, row.name = workday, name
            changed.append(row)
    CalendarDay.objects.bulk_create(new)
    CalendarDay.objects.bulk_update(changed, ["is_workday", "name"])
    return len(new), len(changed), len(stale)


# --- reading the calendar -----------------------------------------------------------------------


def _owners(city_pk: int | None) -> Q:
    """The national rows, and the city's when there is one."""
    return Q(city__isnull=True) | Q(city_id=city_pk) if city_pk is not None else Q(city__isnull=True)


def missing_years(years: Iterable[int], city: CityArg = None) -> list[int]:
    """The years among ``years`` with no loaded calendar (neither national nor the city's)."""
    wanted = sorted(set(years))
    if not wanted:
        return []
    city_pk = _city_pk(city)
    owners = _owners(city_pk)
    loaded = set(CalendarYear.objects.filter(owners, year__in=wanted).values_list("year", flat=True))
    return [y for y in wanted if y not in loaded]


def calendar_warnings(years: Iterable[int], city: CityArg = None) -> list[str]:
    """A bilingual warning for each year without a loaded calendar."""
    return [
        _("%(year)s年的节假日安排尚未导入，时限按周一至周五计算") % {"year": year}
        for year in missing_years(years, city)
    ]


def _overrides(start: date, end: date, city_pk: int | None) -> dict[date, bool]:
    """Working status of the days in [start, end] that differ from the default, one query;
    the city's rows win over the national ones."""
    owners = _owners(city_pk)
    result: dict[date, bool] = {}
    rows = CalendarDay.objects.filter(owners, date__range=(start, end)).values_list("date", "is_workday", "city_id")
    for day, workday, _owner in sorted(rows, key=lambda r: r[2] is not None):
        result[day] = workday  # national first, then the city's on top
    return result


def _warn_missing(first: date, last: date, city_pk: int | None) -> None:
    for year in missing_years(range(first.year, last.year + 1), city_pk):
        logger.warning(
            "no holiday calendar for %s%s: counting Monday to Friday",
            year,
            f" (city {city_pk})" if city_pk is not None else "",
        )


def is_workday(day: date, *, city: CityArg = None) -> bool:
    """Whether ``day`` is a working day (in ``city``, whose own rows win over national ones)."""
    status = _overrides(day, day, _city_pk(city)).get(day)
    return status if status is not None else day.weekday() < 5


def add_limit(start: datetime, limit: int, unit: str, *, city: CityArg = None) -> datetime:
    """The deadline ``limit`` ``unit`` after ``start`` (an aware datetime).

    ``hours``: exactly that many clock hours later (emergencies run through nights and
    holidays). ``workdays``: 18:00 local time on the ``limit``-th working day after the
    start's local date. Two queries (the calendar of the span, the loaded years) whatever the
    limit; a span in a year without a calendar counts Monday–Friday and logs a warning.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, not {limit!r}")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    if unit == LimitUnit.HOURS:
        # in UTC: aware arithmetic in a zone with daylight saving would add wall-clock hours
        return (start.astimezone(UTC) + timedelta(hours=limit)).astimezone(get_default_timezone())
    if unit != LimitUnit.WORKDAYS:
        raise ValueError(f"unknown limit unit {unit!r}")
    city_pk = _city_pk(city)
    local_day = start.astimezone(get_default_timezone()).date()
    due = local_day
    for count, day in enumerate(_working_days_after(local_day, limit, city_pk), start=1):
        if count == limit:
            due = day
            break
    _warn_missing(local_day + timedelta(days=1), due, city_pk)
    return datetime.combine(due, DUE_TIME, tzinfo=get_default_timezone())


def _working_days_after(after: date, limit: int, city_pk: int | None) -> Iterator[date]:
    """The working days after ``after``, in order. The calendar is fetched a window at a time,
    the first one sized to hold ``limit`` working days, so a deadline is one query."""
    window_start = after + timedelta(days=1)
    window = limit * 2 + _WINDOW_SLACK
    while True:
        window_end = window_start + timedelta(days=window - 1)
        overrides = _overrides(window_start, window_end, city_pk)
        day = window_start
        while day <= window_end:
            status = overrides.get(day)
            if status if status is not None else day.weekday() < 5:
                yield day
            day += timedelta(days=1)
        window_start = window_end + timedelta(days=1)
        window *= 2


def workdays_between(a: date, b: date, *, city: CityArg = None) -> int:
    """The number of working days in (a, b]; negative when ``b`` is before ``a``. One query."""
    if b < a:
        return -workdays_between(b, a, city=city)
    if b == a:
        return 0
    first = a + timedelta(days=1)
    overrides = _overrides(first, b, _city_pk(city))
    count = 0
    day = first
    while day <= b:
        status = overrides.get(day)
        count += status if status is not None else day.weekday() < 5
        day += timedelta(days=1)
    return count


def calendar_days(year: int, *, city: CityArg = None) -> list[tuple[CalendarDay, bool]]:
    """The days of ``year`` that differ from Monday–Friday, with the city's rows replacing the
    national ones of the same date; each with whether it comes from the city."""
    city_pk = _city_pk(city)
    owners = _owners(city_pk)
    merged: dict[date, tuple[CalendarDay, bool]] = {}
    for row in CalendarDay.objects.filter(owners, date__year=year).order_by("date"):
        local = row.city_id is not None
        if local or row.date not in merged:
            merged[row.date] = (row, local)
    return [merged[d] for d in sorted(merged)]


# --- import from a file --------------------------------------------------------------------------

CALENDAR_ALIASES = {
    "日期": "date",
    "date": "date",
    "类型": "kind",
    "kind": "kind",
    "type": "kind",
    "名称": "name",
    "name": "name",
}
KIND_VALUES = {
    "休": False,
    "假": False,
    "休息": False,
    "放假": False,
    "holiday": False,
    "off": False,
    "0": False,
    "班": True,
    "上班": True,
    "工作日": True,
    "workday": True,
    "work": True,
    "1": True,
}
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: str) -> date | None:
    for pattern in _DATE_PATTERNS:
        match = pattern.match(value.strip())
        if match:
            try:
                return date(*(int(g) for g in match.groups()))
            except ValueError:
                return None
    return None


@dataclass
class CalendarImportResult:
    created: int = 0
    updated: int = 0
    removed: int = 0
    years: list[int] = field(default_factory=list)


def calendar_import(*, actor: Actor, data: bytes, filename: str, city: Place | None = None) -> CalendarImportResult:
    """Import the holidays and make-up working days of one or more years (national, or
    ``city``'s overrides). The file is the whole calendar of the years it covers: rows of
    those years that it does not list are removed. Every row is checked first; with any bad
    row nothing is written (``ImportFailed``, a ``ValidationError``, with each row's errors).
    System administrators only (``actor=SYSTEM`` is the system).
    """
    require_admin(actor, _("只有系统管理员可以导入节假日安排。"))
    check_city(city)
    rows = list(read_rows(data, filename, aliases=CALENDAR_ALIASES, required=("date", "kind")))
    if not rows:
        raise import_failed(0, _("文件中没有数据行"))
    errors: list[RowError] = []
    seen: dict[date, int] = {}
    days: dict[int, dict[date, tuple[bool, str]]] = {}
    for line, row in rows:
        msgs: list[str] = []
        raw_date = row.get("date", "")
        day = parse_date(raw_date)
        if day is None:
            msgs.append(_("日期“%(raw_date)s”无效，应为 2027-01-01") % {"raw_date": raw_date})
        elif day in seen:
            msgs.append(_("日期 %(day)s 与第%(day2)s行重复") % {"day": day, "day2": seen[day]})
        elif not 2000 <= day.year <= 2100:
            msgs.append(_("年份 %(year)s 超出范围") % {"year": day.year})
        raw_kind = row.get("kind", "")
        workday = KIND_VALUES.get(raw_kind.lower())
        if workday is None:
            msgs.append(_("类型“%(kind)s”无效，应为 休 或 班") % {"kind": raw_kind})
        name = row.get("name", "")
        if len(name) > 40:
            msgs.append(_("名称过长(最多40字)"))
        if msgs:
            errors.append(RowError(line, msgs))
            continue
        assert day is not None and workday is not None
        seen[day] = line
        days.setdefault(day.year, {})[day] = (workday, name)
    if errors:
        raise ImportFailed(errors)
    return _calendar_write(actor=actor, filename=filename, city=city, days=days)


@transaction.atomic
def _calendar_write(
    *, actor: Actor, filename: str, city: Place | None, days: dict[int, dict[date, tuple[bool, str]]]
) -> CalendarImportResult:
    city_pk = city.pk if city is not None else None
    result = CalendarImportResult(years=sorted(days))
    source = f"import: {filename}"[:60]  # a token like the seed's, not a message
    anchor: CalendarYear | None = None
    for year in result.years:
        created, changed, removed = _replace_days(city_pk, year, days[year])
        result.created += created
        result.updated += changed
        result.removed += removed
        record, _unused = CalendarYear.objects.update_or_create(city_id=city_pk, year=year, defaults={"source": source})
        anchor = anchor or record
    assert anchor is not None
    audit_import(
        actor=actor,
        target=anchor,
        place=city,
        what="calendar",
        filename=filename,
        years=result.years,
        created=result.created,
        updated=result.updated,
        removed=result.removed,
    )
    return result
