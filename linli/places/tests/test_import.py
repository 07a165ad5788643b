from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from openpyxl import Workbook, load_workbook

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from linli.places.models import Place
from linli.places.selectors import place_ancestors
from linli.places.services import ImportFailed, place_create, place_export_xlsx, place_import

pytestmark = pytest.mark.django_db

GOOD = """编码,上级编码,名称,类型,纬度,经度
x-city,,武汉市,市,,
x-dist,x-city,江汉区,区,,
x-street,x-dist,汉兴街道,街道,,
x-c1,x-street,常二社區,社区,30.590000,114.270000
x-c1-g1,x-c1,第一网格,网格,,
x-c1-g1-b1,x-c1-g1,1栋,楼栋,30.591000,114.271000
"""


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")


def test_good_csv_imports_a_tree() -> None:
    result = place_import(actor=SYSTEM, data=csv_bytes(GOOD), filename="places.csv")
    assert (result.created, result.updated) == (6, 0)
    building = Place.objects.get(code="x-c1-g1-b1")
    assert [p.code for p in place_ancestors(building)][:-1] == ["x-city", "x-dist", "x-street", "x-c1", "x-c1-g1"]
    assert Place.objects.get(code="x-c1").name_search == "常二社区"
    # a second run changes nothing and is idempotent
    again = place_import(actor=SYSTEM, data=csv_bytes(GOOD), filename="places.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_children_may_come_before_parents() -> None:
    lines = GOOD.strip().splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:])])
    assert place_import(actor=SYSTEM, data=csv_bytes(shuffled), filename="p.csv").created == 6


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_written(english: None) -> None:
    bad = (
        GOOD
        + "\n".join(
            [
                "x-c1-g1,x-c1,重复网格,网格,,",  # line 8: repeats line 6
                "x-orphan,nope,孤儿,楼栋,,",  # line 9: unknown parent
                "x-c2,x-street,新社区,楼栋,,",  # line 10: a building under a street
                "x-c3,x-street,,社区,,",  # line 11: empty name
                "x-c4,x-street,坐标社区,社区,95,114",  # line 12: latitude out of range
                "bad code!,x-street,坏编码,社区,,",  # line 13: bad code
                "x-c5,x-street,乱码社区辦好?!?/p>,社区,,",  # line 14: garbled text
            ]
        )
        + "\n"
    )
    with pytest.raises(ImportFailed) as info:
        place_import(actor=SYSTEM, data=csv_bytes(bad), filename="bad.csv")
    lines = {e.line for e in info.value.row_errors}
    assert lines == {8, 9, 10, 11, 12, 13, 14}
    text = " ".join(str(e) for e in info.value.row_errors)
    assert "Row 9: Parent code nope does not exist" in text, text
    assert Place.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_xlsx_import_and_export_round_trip(world: Any) -> None:
    data = place_export_xlsx(actor=world.users["street_official"], root=world.street)
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("编码", "上级编码", "名称", "类型")
    assert rows[1][:4] == ("t-street", "t-district", "汉兴街道", "street")
    # renaming in the sheet and importing updates in place
    book = Workbook()
    out = book.active
    out.append(list(rows[0]))
    for row in rows[1:]:
        out.append([*row[:2], "常二社区(新)" if row[0] == "t-a" else row[2], *row[3:]])
    buffer = io.BytesIO()
    book.save(buffer)
    result = place_import(actor=world.users["street_official"], data=buffer.getvalue(), filename="round.xlsx")
    assert result.updated == 1 and result.created == 0
    assert Place.objects.get(code="t-a").name == "常二社区(新)"


def test_the_office_phone_is_an_optional_column(world: Any) -> None:
    """A community's office phone (办公电话: place data, what a department whistled there calls)
    comes in by the import, is checked, survives a file without the column and goes out by
    the export."""
    street = world.users["street_official"]
    rows = "编码,上级编码,名称,类型,办公电话\nt-a,t-street,常二社区,社区, 027-8552  3100 \n"
    assert place_import(actor=street, data=csv_bytes(rows), filename="p.csv").updated == 1
    assert Place.objects.get(code="t-a").office_phone == "027-8552 3100"
    # a file without the column leaves it as it is
    plain = "编码,上级编码,名称,类型\nt-a,t-street,常二社区,社区\n"
    assert place_import(actor=street, data=csv_bytes(plain), filename="p.csv").unchanged == 1
    assert Place.objects.get(code="t-a").office_phone == "027-8552 3100"
    # what is not a phone number is refused with its line, and nothing is written
    bad = "编码,上级编码,名称,类型,办公电话\nt-a,t-street,常二社区,社区,找王书记\n"
    with pytest.raises(ImportFailed) as info:
        place_import(actor=street, data=csv_bytes(bad), filename="p.csv")
    assert [e.line for e in info.value.row_errors] == [2]
    assert "办公电话只能包含数字、空格、连字符和括号" in str(info.value.row_errors[0])
    rows = list(
        load_workbook(io.BytesIO(place_export_xlsx(actor=street, root=world.street))).active.iter_rows(values_only=True)
    )
    assert rows[0][-1] == "办公电话"
    assert [r[-1] for r in rows if r[0] == "t-a"] == ["027-8552 3100"]


def test_import_outside_scope_is_refused(world: Any, english: None) -> None:
    rows = "code,parent_code,name,kind\nt-b-g9,t-b,第九网格,grid\n"
    with pytest.raises(ImportFailed) as info:
        place_import(actor=world.users["secretary"], data=csv_bytes(rows), filename="x.csv")
    assert "outside your scope" in str(info.value.row_errors[0])


def test_import_refuses_moves_and_wrong_files(world: Any, english: None) -> None:
    with pytest.raises(ImportFailed, match="cannot be moved"):
        place_import(
            actor=SYSTEM, data=csv_bytes("code,parent_code,name,kind\nt-a-g1,t-b,第一网格,grid\n"), filename="m.csv"
        )
    with pytest.raises(ImportFailed, match=r"Only \.xlsx or \.csv"):
        place_import(actor=SYSTEM, data=b"hello", filename="x.txt")
    with pytest.raises(ImportFailed, match=r"Not a valid \.xlsx"):
        place_import(actor=SYSTEM, data=b"not a zip", filename="x.xlsx")
    with pytest.raises(ImportFailed, match="Missing columns"):
        place_import(actor=SYSTEM, data=csv_bytes("a,b\n1,2\n"), filename="x.csv")
    with override_settings(IMPORT_MAX_BYTES=10), pytest.raises(ImportFailed, match="larger than"):
        place_import(actor=SYSTEM, data=csv_bytes(GOOD), filename="x.csv")


def test_gb18030_csv_is_read() -> None:
    assert place_import(actor=SYSTEM, data=GOOD.encode("gb18030"), filename="gbk.csv").created == 6


def test_boundary_must_be_a_valid_polygon(world: Any, english: None) -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[114.27, 30.58], [114.28, 30.58], [114.28, 30.59], [114.27, 30.59], [114.27, 30.58]]],
    }
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    grid = place_create(
        actor=SYSTEM, parent=world.community_a, code="t-a-g2", name="第二网格", kind="grid", boundary=json.dumps(square)
    )
    assert grid.boundary["type"] == "Polygon"
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="self-intersecting"):
        place_create(
            actor=SYSTEM, parent=world.community_a, code="t-a-g3", name="第三网格", kind="grid", boundary=bowtie
        )
    with pytest.raises(PermissionDenied):
        place_create(actor=world.users["grid_worker"], parent=world.community_a, code="t-a-g4", name="x", kind="grid")
