"""Hostile input: NUL bytes (finding 10), spreadsheet bombs (11), fields a role may not choose
(16), lookups that would confirm places outside one's scope (17) and formulas in exports (18)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.api_keys import api_client_register
from linli.core.access import SYSTEM
from linli.needs.models import Need
from tests.security.conftest import body_of, sign_in_staff

pytestmark = pytest.mark.django_db


# --- 10: a NUL byte anywhere is a 400 ----------------------------------------------------------

NUL_GETS = [
    "/open311/v2/requests.json?service_request_id=%00",
    "/open311/v2/requests.json?status=open%00",
    "/open311/v2/services.json?jurisdiction_id=%00",
    "/open311/v2/requests/%00.json",
    "/places/%00/",
    "/places/?q=%00",
    "/people/?q=%00",
    "/needs/queue/?q=%00",
    "/needs/dashboard/?place=%00",
    "/api/places/?q=%00",
    "/api/people/?q=%00",
    "/api/needs/?q=%00",
    "/api/needs/?place=%00",
    "/visits/coverage/%00/",
    "/accounts/login/?next=%00",
]


def test_f10_a_nul_byte_is_a_400_never_a_500(world: Any) -> None:
    _, key = api_client_register(actor=SYSTEM, name="probe", user=world.users["community_staff"])
    signed = Client()
    sign_in_staff(signed, "secretary")
    for client in (Client(), signed):
        for url in NUL_GETS:
            if url.startswith("/open311/"):
                url += f"&api_key={key}" if "?" in url else f"?api_key={key}"
            response = client.get(url)
            assert response.status_code == 400, (url, response.status_code)
    for path, body in (
        ("/api/people/", '{"name": "a\\u0000b", "place": "t-a-g1-b1-101"}'),
        ("/api/needs/", '{"text": "灯\\u0000坏了", "place": "t-a-g1-b1"}'),
        ("/api/needs/triage/", '{"text": "\\u0000"}'),
    ):
        response = signed.post(path, body, content_type="application/json")
        assert response.status_code == 400, (path, response.status_code)
    form = signed.post(reverse("people:audit"), {"action": "a\x00"})
    assert form.status_code in (400, 405)
    anon = Client().post(reverse("account_login"), {"login": "x\x00y", "password": "p"})
    assert anon.status_code == 400


# --- 11: spreadsheet bombs ---------------------------------------------------------------------


def _xlsx(rows: int, *, filler: int = 0, declare: int | None = None) -> bytes:
    """A minimal workbook of ``rows`` place rows, written straight into the zip (small on the
    wire, big when unpacked); ``filler`` adds that many bytes of spaces to the sheet, and
    ``declare`` a dimension of that many rows."""
    head = '<c r="{col}1" t="inlineStr"><is><t>{v}</t></is></c>'
    header = "".join(head.format(col=c, v=v) for c, v in zip("ABCD", ("编码", "上级编码", "名称", "类型"), strict=True))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="places" sheetId="1" r:id="r1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + (f'<dimension ref="A1:D{declare}"/>'.encode() if declare else b"")
                + b'<sheetData><row r="1">'
                + header.encode()
                + b"</row>"
            )
            chunk = []
            for n in range(2, rows + 2):
                chunk.append(
                    f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x{n}</t></is></c>'
                    f'<c r="C{n}" t="inlineStr"><is><t>地{n}</t></is></c>'
                    f'<c r="D{n}" t="inlineStr"><is><t>city</t></is></c></row>'
                )
                if len(chunk) == 5000:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write("".join(chunk).encode())
            for _ in range(filler // 1_000_000):
                sheet.write(b" " * 1_000_000)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def test_f11_a_spreadsheet_bomb_is_refused_before_it_is_parsed(world: Any, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from linli.core.imports import import_job_run
    from linli.core.models import ImportJob

    street = Client()
    sign_in_staff(street, "street_official")
    limit = f"{settings.IMPORT_MAX_ROWS:,}"

    def post(data: bytes) -> Any:
        return street.post(reverse("places:import"), {"file": SimpleUploadedFile("places.xlsx", data)})

    # unpacks to more than the limit: refused from the zip's directory, nothing parsed
    huge = _xlsx(10, filler=settings.IMPORT_MAX_UNPACKED_BYTES + 2_000_000)
    assert len(huge) < 1024 * 1024
    response = post(huge)
    assert response.status_code == 400 and "MB" in response.content.decode()
    # declares more rows than the limit: refused at once
    declared = post(_xlsx(20, declare=settings.IMPORT_MAX_ROWS + 50))
    assert declared.status_code == 400 and limit in declared.content.decode()
    # 200,000 rows in 3 MB that declare nothing: the web request reads no more than it must
    # to see the file is large, and hands it to the worker, which stops at the limit
    many = _xlsx(200_000)
    assert len(many) < settings.IMPORT_MAX_BYTES
    queued = post(many)
    assert queued.status_code == 302
    job = ImportJob.objects.get()
    assert queued["Location"] == reverse("import_job", args=[job.pk])
    assert import_job_run(job.pk) == "failed"
    page = street.get(queued["Location"]).content.decode()
    assert limit in page
    job.refresh_from_db()
    assert job.status == "failed" and job.data in (b"", memoryview(b""))


# --- 16: a resident cannot choose what the server decides ---------------------------------------


def test_f16_a_resident_cannot_choose_the_staff_channel(nw: Any) -> None:
    resident = Client()
    resident.force_login(nw.users["resident"])
    for channel in ("staff", "patrol", "meeting", "visit"):
        response = resident.post(
            "/api/needs/",
            {"text": "楼道灯坏了", "place": "t-a-g1-b1", "channel": channel},
            content_type="application/json",
        )
        assert response.status_code in (201, 400), response.content[:300]
    assert not Need.objects.filter(channel__in=("staff", "patrol", "meeting", "visit")).exists()


# --- 17: lookups by user input never confirm places outside one's scope --------------------------


def test_f17_places_outside_ones_scope_look_like_places_that_do_not_exist(nw: Any) -> None:
    resident = Client()
    resident.force_login(nw.users["resident"])
    outside, missing = "t-b-g1-b1", "t-nowhere"
    a = resident.get(reverse("needs:new"), {"place": outside})
    b = resident.get(reverse("needs:new"), {"place": missing})
    assert a.status_code == b.status_code == 404
    assert nw.building_b.name not in a.content.decode()
    answers = [
        resident.post("/api/needs/triage/", {"text": "停水了", "place": code}, content_type="application/json")
        for code in (outside, missing)
    ]
    assert answers[0].status_code == answers[1].status_code
    assert answers[0].content.decode().replace(outside, "X") == answers[1].content.decode().replace(missing, "X")
    listed = [resident.get("/api/needs/", {"place": code}) for code in (outside, missing)]
    assert listed[0].status_code == listed[1].status_code
    _, key = api_client_register(actor=SYSTEM, name="12345", user=nw.users["community_staff"])
    posts = [
        Client().post(
            "/open311/v2/requests.json",
            {"api_key": key, "service_code": "lighting", "description": "灯坏了", "address_id": code},
        )
        for code in (outside, missing)
    ]
    assert posts[0].status_code == posts[1].status_code
    assert posts[0].json() == posts[1].json()


# --- 18: exports never carry a formula ---------------------------------------------------------


def test_f18_the_place_tree_export_guards_formulas(world: Any) -> None:
    from openpyxl import load_workbook

    from linli.places.services import place_create

    place_create(actor=SYSTEM, parent=world.grid_a, code="t-a-g1-b9", name='=HYPERLINK("http://x")', kind="building")
    street = Client()
    sign_in_staff(street, "street_official")
    data = body_of(street.get(reverse("places:export", args=[world.community_a.code])))
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    names = [row[2] for row in sheet.iter_rows(values_only=True)]
    assert not any(str(n).startswith(("=", "+", "-", "@")) for n in names if n), names


def test_f10_json_nested_too_deep_is_a_400(nw: Any) -> None:
    _, key = api_client_register(actor=SYSTEM, name="probe", user=nw.users["community_staff"])
    deep = "[" * 5000 + "]" * 5000
    signed = Client()
    sign_in_staff(signed, "secretary")
    for client, url in (
        (Client(), "/api/needs/triage/"),
        (Client(), f"/open311/v2/requests.json?api_key={key}"),
        (signed, "/api/needs/"),
        (signed, "/api/memberships/"),
        (signed, "/api/needs/triage/"),
    ):
        response = client.post(url, deep, content_type="application/json")
        assert response.status_code in (400, 401, 403), (url, response.status_code)
        assert response.status_code != 500


def test_f17_an_import_does_not_tell_out_of_scope_places_from_missing_ones(world: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    street = Client()
    sign_in_staff(street, "street_official")
    # another street, outside this official's reach, with a grid
    from linli.places.services import place_create

    other = place_create(actor=SYSTEM, parent=world.district, code="t-other", name="别的街道", kind="street")
    place_create(actor=SYSTEM, parent=other, code="t-other-c", name="别的社区", kind="community")

    def errors(rows: str) -> str:
        upload = SimpleUploadedFile("p.csv", ("编码,上级编码,名称,类型\n" + rows).encode())
        page = street.post(reverse("places:import"), {"file": upload}).content.decode()
        return page.split('id="import-errors"')[1].split("</ul>")[0]

    hidden_parent = errors("t-new-1,t-other-c,某网格,网格\n")
    missing_parent = errors("t-new-1,t-nowhere-c,某网格,网格\n")
    assert hidden_parent.replace("t-other-c", "X") == missing_parent.replace("t-nowhere-c", "X")
    taken = errors("t-other-c,t-a,某网格,网格\n")
    assert "别的" not in taken and "scope" not in taken
