"""The default dispatch catalogue, loading it, and its XLSX/CSV import and export."""

from __future__ import annotations

import csv
import io
from typing import Any

import opencc
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from linli.needs.catalogue import (
    COLUMNS,
    DEFAULT_CATALOGUE,
    OPTIONAL_COLUMNS,
    catalogue_export_xlsx,
    catalogue_import,
    catalogue_load_defaults,
)
from linli.needs.models import Category, HandlingLevel
from linli.people.models import DepartmentKind
from linli.places.models import Place, PlaceKind
from linli.places.services import ImportFailed, place_create
from linli.workdays.models import LimitUnit

pytestmark = pytest.mark.django_db

CODES = [
    "lighting",
    "parking",
    "drainage",
    "wiring",
    "water",
    "power",
    "gas",
    "telecom",
    "property",
    "greening",
    "sanitation",
    "noise",
    "road",
    "building",
    "safety",
    "dispute",
    "elderly",
    "other",
]
FIELDS = [c for c in COLUMNS if c != "code"] + ["urgency_limits", "emergency", "emergency_words", "emergency_phone"]


@pytest.fixture
def city(db: Any) -> Place:
    return place_create(actor=SYSTEM, parent=None, code="c-city", name="武汉市", kind=PlaceKind.CITY)


def snapshot(city: Place | None = None) -> dict[str, dict[str, Any]]:
    return {c.code: {f: getattr(c, f) for f in FIELDS} for c in Category.objects.filter(city=city)}


# --- the default catalogue ----------------------------------------------------------------------


def test_the_default_catalogue_has_the_eighteen_codes() -> None:
    assert [e.code for e in DEFAULT_CATALOGUE] == CODES


def test_each_default_is_complete_and_consistent() -> None:
    s2t = opencc.OpenCC("s2t")
    all_examples: list[str] = []
    for entry in DEFAULT_CATALOGUE:
        assert entry.name and entry.name_en
        assert entry.name_hant == s2t.convert(entry.name), entry.code
        assert entry.level in HandlingLevel.values
        if entry.level == HandlingLevel.DEPARTMENT:
            assert entry.department_kind in DepartmentKind.values, entry.code
        assert 4 <= len(entry.keywords) <= 8, entry.code
        assert len(set(entry.keywords)) == len(entry.keywords), entry.code
        assert len(entry.examples) >= 6, entry.code
        all_examples.extend(entry.examples)
        for amount, unit in entry.limits:
            assert amount >= 1 and unit in LimitUnit.values
    assert len(set(all_examples)) == len(all_examples)


def test_limits_follow_beijing_12345() -> None:
    by_code = {e.code: e.fields() for e in DEFAULT_CATALOGUE}
    assert (by_code["gas"]["response_limit"], by_code["gas"]["response_unit"]) == (2, LimitUnit.HOURS)
    for code in ("water", "power", "gas"):
        assert by_code[code]["response_unit"] == LimitUnit.HOURS and by_code[code]["response_limit"] <= 24
    for code in ("lighting", "parking", "sanitation", "other"):
        assert (by_code[code]["resolution_limit"], by_code[code]["resolution_unit"]) == (7, LimitUnit.WORKDAYS)
    for code in ("wiring", "road", "building", "dispute"):
        assert (by_code[code]["resolution_limit"], by_code[code]["resolution_unit"]) == (15, LimitUnit.WORKDAYS)


def test_keywords_point_to_their_own_category() -> None:
    """At least half the examples of each category mention one of its own keywords, so the
    keywords and the examples describe the same thing."""
    for entry in DEFAULT_CATALOGUE:
        own = sum(any(k in text for k in entry.keywords) for text in entry.examples)
        assert own >= len(entry.examples) // 2, entry.code


# --- loading the defaults --------------------------------------------------------------------------


def test_load_defaults_is_idempotent() -> None:
    assert catalogue_load_defaults() == 18
    assert catalogue_load_defaults() == 0
    assert Category.objects.filter(city=None).count() == 18
    gas = Category.objects.get(code="gas", city=None)
    assert (gas.name, gas.name_hant, gas.name_en, gas.department_kind) == ("燃气", "燃氣", "Gas", "gas")
    # a changed default is put back, others are untouched
    Category.objects.filter(code="gas").update(response_limit=9)
    assert catalogue_load_defaults() == 1
    assert Category.objects.get(code="gas").response_limit == 2


def test_load_defaults_for_a_city(city: Place) -> None:
    catalogue_load_defaults()
    assert catalogue_load_defaults(city=city) == 18
    assert Category.objects.count() == 36


# --- export and import ---------------------------------------------------------------------------------


def test_export_then_import_round_trips(city: Place) -> None:
    catalogue_load_defaults()
    data = catalogue_export_xlsx(actor=SYSTEM)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS + OPTIONAL_COLUMNS and len(rows) == 19
    # into an empty city catalogue: identical rows
    result = catalogue_import(actor=SYSTEM, data=data, filename="catalogue.xlsx", city=city)
    assert (result.created, result.updated, result.unchanged) == (18, 0, 0)
    assert snapshot(city) == snapshot(None)
    # back onto the defaults: nothing changes
    again = catalogue_import(actor=SYSTEM, data=data, filename="catalogue.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 18)
    # an edited default is restored by importing the file
    Category.objects.filter(city=None, code="noise").update(examples=["太吵"], keywords=[])
    restored = catalogue_import(actor=SYSTEM, data=data, filename="catalogue.xlsx")
    assert restored.updated == 1
    assert snapshot(None) == snapshot(city)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, target_type="needs.category").count() == 3


def _csv(*rows: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def row(code: str, **changes: str) -> list[str]:
    values = {
        "code": code,
        "name": "电梯",
        "name_hant": "電梯",
        "name_en": "Lifts",
        "level": "部门",
        "department_kind": "物业公司",
        "response_limit": "2",
        "response_unit": "小时",
        "checkin_limit": "1",
        "checkin_unit": "工作日",
        "resolution_limit": "3",
        "resolution_unit": "workdays",
        "keywords": "电梯、困人,停运，异响",
        "examples": "电梯又坏了｜电梯里困人了\n电梯一直异响",
    }
    values.update(changes)
    return [values[c] for c in COLUMNS]


def test_import_accepts_labels_and_separators() -> None:
    result = catalogue_import(actor=SYSTEM, data=_csv(row("lift")), filename="c.csv")
    assert result.created == 1
    lift = Category.objects.get(code="lift")
    assert (lift.level, lift.department_kind) == (HandlingLevel.DEPARTMENT, DepartmentKind.PROPERTY)
    assert (lift.response_limit, lift.response_unit, lift.resolution_unit) == (2, "hours", "workdays")
    assert lift.keywords == ["电梯", "困人", "停运", "异响"]
    assert lift.examples == ["电梯又坏了", "电梯里困人了", "电梯一直异响"]


def test_import_reads_the_urgency_limits_and_the_emergency_columns() -> None:
    def sheet(*rows: list[str]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*COLUMNS, "紧急时限", "特急时限", "紧急情况提示", "紧急情况关键词", "抢修电话"])
        writer.writerows(rows)
        return buffer.getvalue().encode()

    good = [*row("lift"), "2小时/2小时/1工作日", "", "人身危险", "困人、有人被困", "027-8888 6666"]
    bad = [*row("bad"), "2小时/2小时", "", "地震", "", "call me"]
    with pytest.raises(ImportFailed) as info:
        catalogue_import(actor=SYSTEM, data=sheet(good, bad), filename="c.csv")
    [error] = info.value.row_errors
    assert error.line == 3 and "紧急时限“2小时/2小时”应为三项" in str(error)
    assert "紧急情况提示“地震”无效" in str(error) and "抢修电话“call me”无效" in str(error)
    catalogue_import(actor=SYSTEM, data=sheet(good), filename="c.csv")
    lift = Category.objects.get(code="lift")
    assert lift.urgency_limits == {"urgent": [[2, "hours"], [2, "hours"], [1, "workdays"]]}  # 特急: the default's
    assert (lift.emergency, lift.emergency_words, lift.emergency_phone) == (
        "danger",
        ["困人", "有人被困"],
        "027-8888 6666",
    )
    # a file without these columns leaves them as they are
    catalogue_import(actor=SYSTEM, data=_csv(row("lift", name="升降梯")), filename="c.csv")
    lift.refresh_from_db()
    assert lift.name == "升降梯" and lift.emergency == "danger" and lift.urgency_limits["urgent"][2] == [1, "workdays"]


def test_import_is_all_or_nothing_with_line_numbers(english: None) -> None:
    data = _csv(
        row("lift"),  # row 2: fine
        row("bad code!"),  # row 3
        row("lift"),  # row 4: repeats row 2
        row("x1", level="街道"),  # row 5: not a catalogue level
        row("x2", department_kind=""),  # row 6: a department level without a kind
        row("x3", response_limit="0", checkin_unit="周"),  # row 7
        row("x4", name=""),  # row 8
        row("x5", resolution_limit="2.5", keywords="好" * 31),  # row 9
    )
    with pytest.raises(ImportFailed) as info:
        catalogue_import(actor=SYSTEM, data=data, filename="c.csv")
    errors = {e.line: str(e) for e in info.value.row_errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert errors[3].startswith("Row 3: Invalid code")
    assert "repeats row 2" in errors[4]
    assert "Invalid level" in errors[5]
    assert "needs a department kind" in errors[6]
    assert "Response limit 0 must be" in errors[7] and "Check-in limit: the unit 周 must be" in errors[7]
    assert "The name is empty" in errors[8]
    assert "Resolution limit 2.5 must be" in errors[9] and "Keyword longer than 30" in errors[9]
    assert not Category.objects.exists()
    assert not AuditEntry.objects.exists()


def test_import_needs_every_column(english: None) -> None:
    with pytest.raises(ImportFailed, match="Missing columns: checkin_limit, checkin_unit, department_kind, examples"):
        catalogue_import(actor=SYSTEM, data=b"code,name,level\nx,y,grid\n", filename="c.csv")


def test_only_system_admins_import_and_export(world: Any, english: None) -> None:
    catalogue_load_defaults()
    for role in ("secretary", "district_official", "grid_worker"):
        with pytest.raises(PermissionDenied, match="Only system administrators"):
            catalogue_import(actor=world.users[role], data=_csv(row("lift")), filename="c.csv")
        with pytest.raises(PermissionDenied, match="Only system administrators"):
            catalogue_export_xlsx(actor=world.users[role])
    admin = world.users["system_admin"]
    assert catalogue_export_xlsx(actor=admin).startswith(b"PK")
    catalogue_import(actor=admin, data=_csv(row("lift")), filename="c.csv")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert (entry.actor, entry.target_type, entry.reason) == (admin, "needs.category", "c.csv")


# --- the command -----------------------------------------------------------------------------------


def test_command(tmp_path: Any, english: None) -> None:
    out = io.StringIO()
    call_command("catalogue", "load-defaults", stdout=out)
    assert "18 categories written" in out.getvalue()
    target = tmp_path / "catalogue.xlsx"
    call_command("catalogue", "export", str(target), stdout=io.StringIO())
    out = io.StringIO()
    call_command("catalogue", "import", str(target), stdout=out)
    assert "unchanged 18" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(row("x", level="?")))
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("catalogue", "import", str(bad), stdout=out)
    assert "Row 2: Invalid level" in out.getvalue()
