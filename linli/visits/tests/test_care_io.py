"""Care assignments from and to XLSX/CSV: the happy path, every bad row, masking, and the
``linli visits import|export`` commands."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from linli.core.access import SYSTEM, Role
from linli.core.models import AuditEntry
from linli.places.services import ImportFailed
from linli.testing import make_user
from linli.visits.care_io import care_export, care_import
from linli.visits.models import CareAssignment
from linli.visits.tests.test_balance import add_households

pytestmark = pytest.mark.django_db

CARER_PHONE = "+8613912340001"


def csv_bytes(rows: list[list[str]], header: tuple[str, ...] = ("住户编码", "包保人手机")) -> bytes:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def xlsx_bytes(rows: list[list[Any]], header: tuple[str, ...] = ("住户编码", "包保人编号")) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def setup(world: Any) -> Any:
    world.extra = add_households(world.building_a, 3, vulnerable=1, start=201)
    world.phone_carer = make_user("carer_p", Role.CENTRAL_HOUSEHOLD, world.building_a, phone=CARER_PHONE).person
    world.leader = world.users["building_leader"].person
    return world


def imports(world: Any) -> int:
    return AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count()


def test_import_csv_by_phone_and_xlsx_by_id(setup: Any) -> None:
    w = setup
    actor = w.users["grid_worker"]
    data = csv_bytes(
        [
            [w.extra[0].place.code, "139 1234 0001"],
            [w.extra[1].place.code, "+86 139-1234-0001"],
        ]
    )
    result = care_import(actor=actor, data=data, filename="包保.csv")
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert set(CareAssignment.objects.filter(ended_at__isnull=True).values_list("carer_id", flat=True)) == {
        w.phone_carer.pk
    }
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor == actor and entry.reason == "包保.csv" and entry.changes["created"] == 2
    assert entry.place_path == w.building_a.path

    # the XLSX by person id: one reassignment, one unchanged, one new
    data = xlsx_bytes(
        [
            [w.extra[0].place.code, w.leader.pk],
            [w.extra[1].place.code, w.phone_carer.pk],
            [w.extra[2].place.code, float(w.leader.pk)],
        ]
    )
    result = care_import(actor=actor, data=data, filename="包保.xlsx")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    history = CareAssignment.objects.filter(household=w.extra[0]).order_by("started_at", "id")
    assert [a.carer_id for a in history] == [w.phone_carer.pk, w.leader.pk]
    assert history[0].ended_at is not None
    assert imports(w) == 2


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown_household", "No household with the code 'nope'"),
        ("unknown_phone", "No person with the phone 139****9999"),
        ("unknown_id", "No person with the id 999999"),
        ("bad_phone", "is not a mobile number"),
        ("not_eligible", "is not a central household or building leader of this grid"),
        ("outside_scope", "is outside your scope"),
        ("duplicate", "repeats row 2"),
        ("no_carer", "Give the carer's phone or id"),
    ],
)
def test_each_bad_row_is_reported_and_nothing_is_written(setup: Any, case: str, expected: str, english: None) -> None:
    w = setup
    good = [w.extra[0].place.code, CARER_PHONE, ""]
    bad = {
        "unknown_household": ["nope", CARER_PHONE, ""],
        "unknown_phone": [w.extra[1].place.code, "13900009999", ""],
        "unknown_id": [w.extra[1].place.code, "", "999999"],
        "bad_phone": [w.extra[1].place.code, "12345", ""],
        "not_eligible": [w.extra[1].place.code, "", str(w.resident_a.pk)],
        "outside_scope": [w.households["household_b"].place.code, CARER_PHONE, ""],
        "duplicate": [w.extra[0].place.code, CARER_PHONE, ""],
        "no_carer": [w.extra[1].place.code, "", ""],
    }[case]
    data = csv_bytes([good, bad], header=("住户编码", "包保人手机", "包保人编号"))
    before = AuditEntry.objects.count()
    with pytest.raises(ImportFailed) as caught:
        care_import(actor=w.users["grid_worker"], data=data, filename="bad.csv")
    errors = [str(e) for e in caught.value.row_errors]
    assert len(errors) == 1, errors
    assert errors[0].startswith("Row 3: ") and expected in errors[0], errors[0]
    assert CareAssignment.objects.count() == 0
    assert AuditEntry.objects.count() == before


def test_an_import_from_a_page_stays_in_its_place(setup: Any) -> None:
    from linli.places.models import PlaceKind
    from linli.places.services import place_create

    w = setup
    other = place_create(actor=SYSTEM, parent=w.grid_a, code="t-a-g1-b2", name="2栋", kind=PlaceKind.BUILDING)
    (elsewhere,) = add_households(other, 1, start=301)
    data = xlsx_bytes([[w.extra[0].place.code, w.leader.pk], [elsewhere.place.code, w.leader.pk]])
    with pytest.raises(ImportFailed, match=r"第 3 行.*不在1栋"):
        care_import(actor=w.users["grid_worker"], data=data, filename="a.xlsx", place=w.building_a)
    assert not CareAssignment.objects.filter(household__in=[w.extra[0], elsewhere]).exists()
    assert care_import(actor=w.users["grid_worker"], data=data, filename="a.xlsx", place=w.grid_a).created == 2


def test_every_bad_row_is_reported_at_once(setup: Any) -> None:
    w = setup
    data = csv_bytes([["nope", CARER_PHONE], [w.extra[0].place.code, "1"], [w.extra[1].place.code, CARER_PHONE]])
    with pytest.raises(ImportFailed) as caught:
        care_import(actor=SYSTEM, data=data, filename="bad.csv")
    assert [e.line for e in caught.value.row_errors] == [2, 3]
    assert CareAssignment.objects.count() == 0


def test_a_file_without_a_carer_column_or_rows_is_refused(setup: Any, english: None) -> None:
    with pytest.raises(ImportFailed, match="Missing a carer phone or carer id column"):
        care_import(actor=SYSTEM, data=csv_bytes([["x"]], header=("住户编码",)), filename="a.csv")
    with pytest.raises(ImportFailed, match="no data rows"):
        care_import(actor=SYSTEM, data=csv_bytes([]), filename="a.csv")
    with pytest.raises(ImportFailed, match=r"Only \.xlsx or \.csv"):
        care_import(actor=SYSTEM, data=b"x", filename="a.pdf")


def test_export_is_masked_unless_unmasked_with_a_reason(setup: Any) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    w = setup
    care_import(actor=SYSTEM, data=csv_bytes([[h.place.code, CARER_PHONE] for h in w.extra]), filename="a.csv")

    def sheet(actor: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        data = care_export(actor=actor, place=w.community_a, **kwargs)
        return list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))

    for who in ("grid_worker", "street_official"):  # masked for everyone by default
        masked = sheet(w.users[who])
        assert masked[0][0] == "住户编码" and len(masked) == 4
        assert masked[1][4] == "用********" and masked[1][5] == "139****0001"
    with pytest.raises(ValidationError):
        sheet(w.users["grid_worker"], full=True)  # no reason
    clear = sheet(w.users["grid_worker"], full=True, reason="核对包保名单")
    assert clear[1][4] == "用户carer_p" and clear[1][5] == CARER_PHONE and clear[1][3] == w.phone_carer.pk
    with pytest.raises(PermissionDenied):  # a role that may not unmask
        sheet(w.users["street_official"], full=True, reason="看看")
    # another community's grid worker may not export this one
    with pytest.raises(PermissionDenied):
        sheet(w.users["grid_worker_b"])
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).order_by("id")
    assert [(e.changes["masked_rows"], e.field, e.reason) for e in entries] == [
        (3, "masked", ""),
        (3, "masked", ""),
        (0, "full", "核对包保名单"),
    ]


def test_an_export_imports_again_unchanged(setup: Any) -> None:
    w = setup
    care_import(actor=SYSTEM, data=csv_bytes([[h.place.code, CARER_PHONE] for h in w.extra]), filename="a.csv")
    data = care_export(actor=w.users["street_official"], place=w.community_a)
    result = care_import(actor=w.users["secretary"], data=data, filename="export.xlsx")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)


def test_export_refuses_an_actor_without_coverage(setup: Any) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        care_export(actor=setup.users["volunteer"], place=setup.community_a)


# --- the commands --------------------------------------------------------------------------------


def test_import_and_export_commands(setup: Any, tmp_path: Path) -> None:
    w = setup
    source = tmp_path / "in.csv"
    source.write_bytes(csv_bytes([[h.place.code, CARER_PHONE] for h in w.extra]))
    out = io.StringIO()
    call_command("visits", "import", str(source), "--as", "grid_worker", stdout=out)
    assert "新分配 3" in out.getvalue()
    target = tmp_path / "out.xlsx"
    call_command("visits", "export", w.community_a.code, "--as", "street_official", "-o", str(target), stdout=out)
    rows = list(load_workbook(target).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 4 and rows[1][5] == "139****0001"


def test_commands_refuse_bad_input(setup: Any, tmp_path: Path, english: None) -> None:
    w = setup
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["nope", CARER_PHONE]]))
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported: 1 rows have errors"):
        call_command("visits", "import", str(bad), "--as", "grid_worker", stdout=out)
    assert "Row 2: No household with the code 'nope'" in out.getvalue()
    with pytest.raises(CommandError, match="No active account 'ghost'"):
        call_command("visits", "import", str(bad), "--as", "ghost", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--as"):
        call_command("visits", "import", str(bad), stdout=io.StringIO())
    with pytest.raises(CommandError, match="No such file"):
        call_command("visits", "import", str(tmp_path / "missing.csv"), "--as", "grid_worker", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No place with the code 'nowhere'"):
        call_command("visits", "export", "nowhere", "--as", "grid_worker", "-o", str(tmp_path / "x.xlsx"))
    with pytest.raises(CommandError, match="outside your scope"):
        call_command(
            "visits",
            "export",
            w.community_a.code,
            "--as",
            "volunteer",
            "-o",
            str(tmp_path / "x.xlsx"),
            stdout=io.StringIO(),
        )
