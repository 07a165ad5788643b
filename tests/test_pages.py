"""Pages: bad input gets a 4xx with a clear message and writes nothing; roles see what they should."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from linli.people.models import Membership
from linli.places.models import Place
from linli.testing import sign_in

pytestmark = pytest.mark.django_db


def test_import_page(client: Any, world: Any) -> None:
    sign_in(client, world.users["grid_worker"])
    assert client.get("/places/import/").status_code == 403
    sign_in(client, world.users["street_official"])
    assert client.get("/places/import/").status_code == 200
    good = SimpleUploadedFile("p.csv", "code,parent_code,name,kind\nt-a-g2,t-a,第二网格,网格\n".encode())
    response = client.post("/places/import/", {"file": good})
    assert response.status_code == 200 and "新增 1" in response.content.decode()
    bad = SimpleUploadedFile("p.csv", "code,parent_code,name,kind\nt-a-g3,t-x,第三网格,网格\n".encode())
    response = client.post("/places/import/", {"file": bad})
    assert response.status_code == 400
    assert "第 2 行：上级编码 t-x 不存在" in response.content.decode()
    assert not Place.objects.filter(code="t-a-g3").exists()
    wrong = SimpleUploadedFile("p.pdf", b"%PDF")
    assert client.post("/places/import/", {"file": wrong}).status_code == 400
    with override_settings(IMPORT_MAX_BYTES=10):
        big = SimpleUploadedFile("p.csv", b"x" * 100)
        response = client.post("/places/import/", {"file": big})
    assert response.status_code == 400 and "文件过大" in response.content.decode()


def test_export_downloads_xlsx(client: Any, world: Any) -> None:
    sign_in(client, world.users["street_official"])
    response = client.get(f"/places/{world.street.code}/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content[:2] == b"PK"


def test_unmask_without_reason_is_400_and_not_logged(client: Any, world: Any) -> None:
    sign_in(client, world.users["grid_worker"])
    url = f"/people/{world.resident_a.pk}/unmask/"
    response = client.post(url, {"field": "phone", "reason": ""})
    assert response.status_code == 400
    assert client.post(url, {"field": "passport", "reason": "回访"}).status_code == 400
    assert not AuditEntry.objects.filter(action="unmask").exists()
    assert client.get(url).status_code == 405


def test_grant_page(client: Any, world: Any) -> None:
    sign_in(client, world.users["secretary"])
    page = client.get(f"/places/{world.community_a.code}/memberships/")
    assert page.status_code == 200 and "授予角色" in page.content.decode()
    person = world.resident_a
    response = client.post(
        f"/places/{world.grid_a.code}/memberships/", {"person": person.pk, "role": "building_leader", "reason": "推选"}
    )
    assert response.status_code == 302
    assert Membership.objects.filter(person=person, role="building_leader", ended_at__isnull=True).exists()
    too_high = client.post(f"/places/{world.grid_a.code}/memberships/", {"person": person.pk, "role": "secretary"})
    assert too_high.status_code == 403 and "不能授予" in too_high.content.decode()
    junk = client.post(f"/places/{world.grid_a.code}/memberships/", {"person": "x", "role": "nope"})
    assert junk.status_code == 400
    other = client.post(
        f"/places/{world.grid_a.code}/memberships/", {"person": world.resident_b.pk, "role": "volunteer"}
    )
    assert other.status_code == 404


def test_building_leader_sees_masked_household_without_unmask(client: Any, world: Any) -> None:
    from linli.visits.services import care_assign

    sign_in(client, world.users["building_leader"])
    page = client.get(f"/households/{world.household_a.pk}/").content.decode()
    assert "张建国" in page and "138****8000" in page
    assert "独居老人" not in page  # the building is not theirs to know: only the households they care for
    care_assign(actor=SYSTEM, household=world.household_a, carer=world.users["building_leader"].person)
    sign_in(client, world.users["building_leader"])
    assert "独居老人" in client.get(f"/households/{world.household_a.pk}/").content.decode()
    assert "unmask-form" not in client.get(f"/people/{world.resident_a.pk}/").content.decode()


def test_street_official_does_not_see_sensitive_flags(client: Any, world: Any) -> None:
    sign_in(client, world.users["street_official"])
    page = client.get(f"/people/{world.resident_a.pk}/").content.decode()
    assert "张建国" in page and "独居老人" not in page


@pytest.mark.parametrize("lang", ["zh-hans", "zh-hant", "en"])
def test_every_page_renders_in_every_language(client: Any, world: Any, lang: str) -> None:
    client.cookies["linli_lang"] = lang
    sign_in(client, world.users["secretary"])
    for path in (
        "/",
        "/places/",
        f"/places/{world.grid_a.code}/",
        "/people/?q=张",
        f"/people/{world.resident_a.pk}/",
        f"/households/{world.household_a.pk}/",
        "/me/",
        "/audit/",
        f"/places/{world.community_a.code}/memberships/",
    ):
        response = client.get(path)
        assert response.status_code == 200, (lang, path)
        assert f'lang="{lang}"' in response.content.decode()


def test_reserved_place_codes(world: Any) -> None:
    from django.core.exceptions import ValidationError

    from linli.places.services import place_create

    with pytest.raises(ValidationError, match="为系统保留"):
        place_create(actor=SYSTEM, parent=world.community_a, code="import", name="导入", kind="grid")


def test_home_per_role(client: Any, world: Any) -> None:
    sign_in(client, world.users["resident"])
    page = client.get("/").content.decode()
    assert 'id="my-household"' in page and "查找居民" not in page and "audit-link" not in page
    sign_in(client, world.users["grid_worker"])
    page = client.get("/").content.decode()
    assert "查找居民" in page and "audit-link" not in page
    sign_in(client, world.users["secretary"])
    assert "audit-link" in client.get("/").content.decode()
