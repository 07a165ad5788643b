"""Personal data: nothing shown beside a mask rebuilds it (finding 2), numbers typed into free
text are masked however they are written (6), health and social flags only for a carer's own
households (9), exports masked unless unmasked with a reason (12), and a department's liaison
sees the building, not the flat (19)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from tests.security.conftest import body_of, sign_in_by_code, sign_in_staff

pytestmark = pytest.mark.django_db

FULL_DATE = re.compile(r"(?:19|20)\d{2}[-/年.]?(?:0?[1-9]|1[0-2])[-/月.]?(?:0?[1-9]|[12]\d|3[01])日?")


def _signed_in(username: str) -> Client:
    client = Client()
    sign_in_staff(client, username)
    return client


# --- 2: a birth date is part of the identity number ---------------------------------------------


def test_f02_no_full_birth_date_beside_a_masked_identity_number(world: Any) -> None:
    person = world.resident_a
    born = person.birth_date
    assert person.id_number_masked and born
    street = _signed_in("street_official")
    listing = street.get("/api/people/", {"page_size": 200}).json()["results"]
    shown = next(p for p in listing if p["id"] == person.pk)
    assert shown["id_number_masked"] == person.id_number_masked
    assert born.isoformat() not in str(listing), "a birth date beside the masked id rebuilds it"
    assert shown.get("birth_year") == born.year
    detail = street.get(f"/api/people/{person.pk}/").json()
    assert born.isoformat() not in str(detail)
    # pages too, for a role that may unmask but has not: only the year
    grid = _signed_in("grid_worker")
    page = grid.get(reverse("people:person", args=[person.pk])).content.decode()
    assert person.id_number_masked in page
    assert born.strftime("%Y-%m-%d") not in page and str(born.year) in page
    # unmasking the identity number, with a reason, is how the full date is seen (audited)
    unmasked = grid.post(
        reverse("people:person_unmask", args=[person.pk]), {"field": "id_number", "reason": "办理高龄补贴"}
    )
    assert unmasked.status_code == 200
    assert AuditEntry.objects.filter(action="unmask", target_id=str(person.pk), field="id_number").exists()


# --- 6: numbers typed into free text, however they are written ----------------------------------

WRITTEN = [
    ("138 0013 8001", "13800138001"),
    ("139-1234-5678", "13912345678"),
    ("137.1234.5678", "13712345678"),
    ("１３６１２３４５６７８", "13612345678"),
    ("+86 135 1234 5678", "13512345678"),
    ("４２０１０６ １９９０ ０１０１ １２３４", "420106199001011234"),
    ("420106-19900101-1234", "420106199001011234"),
    # found by the probe after the first fix
    ("138 - 0013 - 8011", "13800138011"),
    ("138  0013  8012", "13800138012"),
    ("138/0013/8014", "13800138014"),
    ("138_0013_8015", "13800138015"),
    ("138\t0013\t8016", "13800138016"),
    ("138，0013，8019", "13800138019"),
    ("420103 - 19840314 - 2767", "420103198403142767"),
    ("138～0013～8026", "13800138026"),
    ("138*0013*8029", "13800138029"),
    ("138\n0013\n8031", "13800138031"),
    ("𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟑𝟐", "13800138032"),
    ("١٣٨٠٠١٣٨٠٣٣", "13800138033"),
]


def _digits(text: str) -> str:
    import unicodedata

    return "".join(str(unicodedata.digit(c)) for c in text if c.isdigit())


def test_f06_numbers_in_free_text_are_masked_however_written(world: Any) -> None:
    from linli.needs.services import need_create
    from linli.needs.tests.conftest import make_categories

    make_categories()
    text = "楼道灯坏了，请联系 " + "，或 ".join(w for w, _ in WRITTEN)
    need = need_create(actor=world.users["resident"], text=text, place=world.household_place_a)
    grid = _signed_in("grid_worker")
    bodies = [
        grid.get(reverse("needs:detail", args=[need.pk])).content.decode(),
        grid.get(f"/api/needs/{need.pk}/").content.decode(),
        grid.get("/api/needs/").content.decode(),
    ]
    for body in bodies:
        visible = _digits(body)
        for written, digits in WRITTEN:
            assert written not in body, written
            assert digits not in visible, f"{written} shown in full"
    # the original is kept, and unmasking it needs a reason and is audited
    refused = grid.post(f"/api/needs/{need.pk}/unmask/", {"reason": ""}, content_type="application/json")
    assert refused.status_code == 400
    shown = grid.post(f"/api/needs/{need.pk}/unmask/", {"reason": "回电核实"}, content_type="application/json")
    assert shown.status_code == 200 and shown.json()["text"] == text
    assert AuditEntry.objects.filter(action="unmask", target_id=str(need.pk), reason="回电核实").exists()


# --- 9: health and social flags ----------------------------------------------------------------


def test_f09_a_carer_sees_flags_only_of_the_households_assigned_to_them(world: Any) -> None:
    from linli.visits.services import care_assign

    flagged = world.resident_a  # elderly living alone, in building 1 of community A
    household = world.household_a
    api = APIClient()
    sign_in_by_code(api, world.users["central_household"].phone)
    assert api.get(f"/api/people/{flagged.pk}/").json()["vulnerabilities"] is None
    page = api.get(reverse("people:household", args=[household.pk])).content.decode()
    assert "独居老人" not in page
    care_assign(actor=SYSTEM, household=household, carer=world.users["central_household"].person)
    assert api.get(f"/api/people/{flagged.pk}/").json()["vulnerabilities"] == ["elderly_alone"]
    assert "独居老人" in api.get(reverse("people:household", args=[household.pk])).content.decode()
    # the building leader of the same building, not assigned: still nothing
    other = APIClient()
    sign_in_by_code(other, world.users["building_leader"].phone)
    assert other.get(f"/api/people/{flagged.pk}/").json()["vulnerabilities"] is None


# --- 12: exports with personal data ------------------------------------------------------------


def _cells(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row)


def test_f12_exports_are_masked_unless_unmasked_with_a_reason(world: Any) -> None:
    from linli.people.services import person_update
    from linli.visits.services import care_assign

    carer = world.users["central_household"].person
    person_update(actor=SYSTEM, person=carer, phone="13700137000")
    care_assign(actor=SYSTEM, household=world.household_a, carer=carer)
    secretary = _signed_in("secretary")  # may unmask
    url = reverse("visits:care_export", args=[world.community_a.code])
    masked = _cells(body_of(secretary.get(url)))
    assert "13700137000" not in masked and "137****7000" in masked
    assert secretary.get(url, {"full": "1"}).status_code == 400  # no reason
    full = secretary.get(url, {"full": "1", "reason": "核对包保名单"})
    assert full.status_code == 200 and "13700137000" in _cells(body_of(full))
    assert AuditEntry.objects.filter(action="export", reason="核对包保名单").exists()
    # a role that may not unmask cannot ask for the full file
    assert _signed_in("street_official").get(url, {"full": "1", "reason": "看看"}).status_code == 403


# --- 19: a department sees the building ---------------------------------------------------------


def test_f19_a_liaison_sees_the_building_not_the_reporters_flat(world: Any) -> None:
    from linli.needs.services import need_create, need_whistle
    from linli.needs.tests.conftest import make_categories

    make_categories()
    need = need_create(actor=world.users["resident"], text="家里停水了", place=world.household_place_a)
    need_whistle(actor=world.users["grid_worker"], need=need, departments=[world.department])
    liaison = _signed_in("department_liaison")
    flat = world.household_place_a.name
    for url in (reverse("needs:dispatches"), reverse("needs:detail", args=[need.pk]), f"/api/needs/{need.pk}/"):
        body = liaison.get(url).content.decode()
        assert flat not in body and world.household_place_a.code not in body, url
    assert world.building_a.name in liaison.get(reverse("needs:detail", args=[need.pk])).content.decode()


# --- found by the probe after the first round of fixes ----------------------------------------


def test_f02_the_duplicate_check_is_no_oracle_for_identity_numbers(world: Any, settings: Any) -> None:
    """Whether an identity number is registered somewhere is personal data: an editor cannot
    learn it without writing (the other fields are checked first), every try counts, and a
    clash is audited where the number's holder lives."""
    from linli.people.models import Person
    from linli.testing import make_id_number

    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "id_number_entry_user": "3/h"}
    target = world.resident_b  # in community B: community A's staff may not see them
    full = target.id_number()
    mine = world.resident_a
    staff = APIClient()
    sign_in_staff(staff, "community_staff")
    assert staff.get(f"/api/people/{target.pk}/").status_code == 404
    # a probe with a bad field beside the number learns nothing about the number
    probe = staff.patch(f"/api/people/{mine.pk}/", {"id_number": full, "party_kind": "bogus"}, format="json")
    assert probe.status_code == 400 and "id_number" not in probe.json()
    # with every other field valid the clash is refused, and audited at the holder's place
    clash = staff.patch(f"/api/people/{mine.pk}/", {"id_number": full}, format="json")
    assert clash.status_code == 400 and "id_number" in clash.json()
    entry = AuditEntry.objects.get(action="conflict")
    assert entry.target_id == str(target.pk) and entry.place_path.startswith(world.community_b.path)
    secretary_b = Client()
    sign_in_staff(secretary_b, "secretary_b")
    assert "证件号码重复录入" in secretary_b.get(reverse("people:audit")).content.decode()
    # every number entered counts (the clash was the first of the hour): the fourth is refused
    codes = [
        staff.patch(f"/api/people/{mine.pk}/", {"id_number": make_id_number(birth=f"1970010{n}")}, format="json")
        for n in (1, 2, 3)
    ]
    assert [c.status_code for c in codes] == [200, 200, 400] and "id_number" in codes[2].json()
    assert Person.objects.get(pk=target.pk).id_number() == full


def test_f06_the_numbers_of_the_probe_are_masked_in_open311_too(nw: Any) -> None:
    from linli.accounts.api_keys import api_client_register
    from linli.needs.services import need_create

    text = "电话 " + "，或 ".join(w for w, _ in WRITTEN)
    need = need_create(actor=nw.users["resident"], text=text, place=nw.household_place_a)
    _, key = api_client_register(actor=SYSTEM, name="probe", user=nw.users["community_staff"])
    body = Client().get(f"/open311/v2/requests/{need.pk}.json", {"api_key": key}).content.decode()
    visible = _digits(body.encode().decode("unicode_escape") if "\\u" in body else body)
    for written, digits in WRITTEN:
        assert digits not in visible, written


def test_f02_a_clash_is_counted_and_audited_inside_an_idempotent_write(world: Any, settings: Any) -> None:
    """``Idempotency-Key`` makes the API write one transaction: a clash still leaves its
    audit entry and its count behind when that transaction rolls back."""
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "id_number_entry_user": "2/h"}
    full = world.resident_b.id_number()
    grid = APIClient()
    sign_in_staff(grid, "grid_worker")
    body = {"place": world.household_place_a.code, "name": "测试人", "id_number": full}
    answers = [
        grid.post("/api/people/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"k-{n}").json()["id_number"][0]
        for n in range(3)
    ]
    assert "已登记" in answers[0] and "已登记" in answers[1] and "频繁" in answers[2]
    assert AuditEntry.objects.filter(action="conflict", target_id=str(world.resident_b.pk)).count() == 2


def test_f02_a_care_import_names_nobody_outside_the_importers_reach(world: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    outside = world.resident_b  # community B
    rows = (
        "住户编码,包保人编号,包保人手机\n"
        f"{world.household_place_a.code},{outside.pk},\n"
        f"{world.household_place_a.code},999999,\n"
        f"{world.household_place_a.code},,{outside.phone[3:]}\n"
        f"{world.household_place_a.code},,13912345670\n"
    )
    grid = Client()
    sign_in_staff(grid, "grid_worker")
    url = reverse("visits:care_import", args=[world.grid_a.code])
    grid.post(url, {"file": SimpleUploadedFile("care.csv", rows.encode())})
    page = grid.get(reverse("visits:care", args=[world.grid_a.code])).content.decode()
    assert outside.name not in page
    assert page.count("没有编号为") == 2 and page.count("没有手机号为") == 2
