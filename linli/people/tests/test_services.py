from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from linli.core.access import SYSTEM, Role
from linli.core.models import AuditEntry
from linli.people.models import Membership, Person
from linli.people.services import membership_grant, membership_revoke, person_create, person_unmask, person_update
from linli.testing import make_id_number

pytestmark = pytest.mark.django_db


def test_person_create_derives_birth_and_sex_and_encrypts(world: Any) -> None:
    number = make_id_number(birth="19520304", male=False)
    person = person_create(
        actor=world.users["grid_worker"],
        place=world.household_place_a,
        name="王桂兰",
        phone="138 0013 8001",
        id_number=number,
    )
    assert person.birth_date.isoformat() == "1952-03-04"
    assert person.sex == "F"
    assert person.phone == "+8613800138001"
    assert person.id_number_masked == number[:6] + "********" + number[-4:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_encrypted, id_number_digest FROM people_person WHERE id = %s", [person.pk])
        encrypted, digest = cursor.fetchone()
    assert number not in encrypted and number not in digest
    assert person.id_number() == number
    entry = AuditEntry.objects.get(target_type="people.person", target_id=str(person.pk), action="create")
    assert entry.actor == world.users["grid_worker"]
    assert entry.place_path == world.household_place_a.path


def test_invalid_id_writes_nothing(world: Any) -> None:
    before = Person.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ValidationError) as info:
        person_create(actor=SYSTEM, place=world.household_place_a, name="张三", id_number="420106199001011235")
    assert "id_number" in info.value.message_dict
    assert (Person.objects.count(), AuditEntry.objects.count()) == before


def test_duplicate_id_is_refused(world: Any) -> None:
    number = make_id_number()
    person_create(actor=SYSTEM, place=world.household_place_a, name="甲", id_number=number)
    with pytest.raises(ValidationError) as info:
        person_create(actor=SYSTEM, place=world.household_place_b, name="乙", id_number=number.lower())
    assert "已登记" in info.value.message_dict["id_number"][0]


def test_id_must_agree_with_given_birth_date(world: Any) -> None:
    import datetime as dt

    with pytest.raises(ValidationError) as info:
        person_create(
            actor=SYSTEM,
            place=world.household_place_a,
            name="甲",
            id_number=make_id_number("19800101"),
            birth_date=dt.date(1981, 1, 1),
        )
    assert "birth_date" in info.value.message_dict


def test_garbled_name_is_refused(world: Any) -> None:
    with pytest.raises(ValidationError):
        person_create(actor=SYSTEM, place=world.household_place_a, name="辦好?!?/p>")


def test_paired_unit_needs_a_unit(world: Any) -> None:
    with pytest.raises(ValidationError):
        person_create(actor=SYSTEM, place=world.community_a, name="甲", party_kind="paired_unit")
    person = person_create(
        actor=SYSTEM, place=world.community_a, name="甲", party_kind="paired_unit", party_unit="阳新县财政局"
    )
    assert person.is_party_member


def test_editing_outside_scope_is_refused(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        person_update(actor=world.users["grid_worker"], person=world.resident_b, name="改名")
    with pytest.raises(PermissionDenied):
        person_update(actor=world.users["volunteer"], person=world.resident_a, name="改名")


def test_update_audits_field_names_not_values(world: Any) -> None:
    person_update(actor=world.users["grid_worker"], person=world.resident_a, phone="13900000001", reason="换号")
    entry = AuditEntry.objects.filter(action="update").latest("id")
    assert entry.changes == {"fields": ["phone"]}
    assert "13900000001" not in str(entry.changes) and entry.reason == "换号"


def test_unmask_needs_role_reason_and_is_logged(world: Any) -> None:
    with pytest.raises(ValidationError):
        person_unmask(actor=world.users["grid_worker"], person=world.resident_a, field="phone", reason=" ")
    with pytest.raises(PermissionDenied):
        person_unmask(actor=world.users["building_leader"], person=world.resident_a, field="phone", reason="回访")
    with pytest.raises(PermissionDenied):
        person_unmask(actor=world.users["grid_worker"], person=world.resident_b, field="phone", reason="回访")
    value = person_unmask(
        actor=world.users["grid_worker"], person=world.resident_a, field="id_number", reason="养老金认证"
    )
    assert value == world.resident_a.id_number()
    entry = AuditEntry.objects.get(action="unmask")
    assert (entry.field, entry.reason, entry.actor) == ("id_number", "养老金认证", world.users["grid_worker"])


def test_audit_entries_are_append_only(world: Any) -> None:
    from django.db import ProgrammingError, transaction

    entry = AuditEntry.objects.first()
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="tampered")
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_grant_respects_scope_and_rank(world: Any) -> None:
    secretary = world.users["secretary"]
    volunteer_b = person_create(actor=SYSTEM, place=world.community_b, name="志愿者乙")
    with pytest.raises(PermissionDenied):
        membership_grant(actor=secretary, person=volunteer_b, place=world.community_b, role=Role.VOLUNTEER)
    helper = person_create(actor=SYSTEM, place=world.community_a, name="新网格员")
    with pytest.raises(PermissionDenied):
        membership_grant(actor=secretary, person=helper, place=world.community_a, role=Role.SECRETARY)
    with pytest.raises(PermissionDenied):
        membership_grant(actor=world.users["grid_worker"], person=helper, place=world.grid_a, role=Role.VOLUNTEER)
    granted = membership_grant(
        actor=secretary, person=helper, place=world.grid_a, role=Role.GRID_WORKER, reason="新入职"
    )
    again = membership_grant(actor=secretary, person=helper, place=world.grid_a, role=Role.GRID_WORKER, reason="重复")
    assert granted.pk == again.pk
    assert AuditEntry.objects.filter(action="grant", target_id=str(granted.pk)).count() == 1
    membership_revoke(actor=secretary, membership=granted, reason="调岗")
    granted.refresh_from_db()
    assert granted.ended_at is not None
    assert not Membership.objects.filter(pk=granted.pk, ended_at__isnull=True).exists()


def test_liaison_needs_department(world: Any) -> None:
    person = person_create(actor=SYSTEM, place=world.district, name="联络员")
    with pytest.raises(ValidationError):
        membership_grant(actor=SYSTEM, person=person, place=world.district, role=Role.LIAISON)
    with pytest.raises(ValidationError):
        membership_grant(
            actor=SYSTEM, person=person, place=world.district, role=Role.VOLUNTEER, department=world.department
        )


def test_pghistory_tracks_bulk_updates(world: Any) -> None:
    """Writes that bypass services (bulk updates, raw SQL) still leave row history."""
    Person.objects.filter(pk=world.resident_a.pk).update(is_volunteer=True)
    events = world.resident_a.events.order_by("pgh_id")
    assert events.last().is_volunteer is True
