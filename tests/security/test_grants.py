"""Granting roles (finding 3): only capabilities the granter holds at that place, never to
oneself, and a role that can unmask only with a reason the secretary sees in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from linli.core.access import SYSTEM
from linli.core.models import AuditEntry
from linli.people.models import Membership
from linli.people.services import person_create
from tests.security.conftest import sign_in_staff

pytestmark = pytest.mark.django_db


def _api(username: str) -> APIClient:
    client = APIClient()
    sign_in_staff(client, username)
    return client


def _grant(client: APIClient, person: Any, place: Any, role: str, reason: str = "") -> Any:
    body = {"person": person.pk, "place": place.code, "role": role, "reason": reason}
    return client.post("/api/memberships/", body, format="json")


def test_f03_an_official_cannot_grant_itself_a_role(world: Any) -> None:
    street = _api("street_official")
    me = world.users["street_official"].person
    answer = _grant(street, me, world.community_a, "community_staff", reason="我来处理")
    assert answer.status_code == 403
    assert not Membership.objects.filter(person=me, role="community_staff").exists()
    # nor a lesser role: never to oneself
    assert _grant(street, me, world.community_a, "mediator", reason="兼任").status_code == 403


def test_f03_a_grant_gives_only_capabilities_the_granter_holds_there(world: Any) -> None:
    street = _api("street_official")
    newcomer = person_create(actor=SYSTEM, place=world.community_a, name="王新来")
    # a street official may not unmask, edit people or log visits: it cannot hand that out
    for role in ("community_staff", "grid_worker"):
        assert _grant(street, newcomer, world.community_a, role, reason="新同事").status_code == 403, role
    assert not Membership.objects.filter(person=newcomer).exists()
    # what it does hold, it may give (a mediator sees places only)
    assert _grant(street, newcomer, world.community_a, "mediator").status_code == 201


def test_f03_granting_a_role_that_can_unmask_needs_a_reason_the_secretary_sees(world: Any) -> None:
    secretary = _api("secretary")
    newcomer = person_create(actor=SYSTEM, place=world.community_a, name="赵网格")
    assert _grant(secretary, newcomer, world.grid_a, "grid_worker").status_code == 400
    granted = _grant(secretary, newcomer, world.grid_a, "grid_worker", reason="接替离职网格员")
    assert granted.status_code == 201
    entry = AuditEntry.objects.get(action="grant", target_id=str(granted.json()["id"]))
    assert entry.reason == "接替离职网格员" and entry.changes.get("unmask") is True
    audit = secretary.get(reverse("people:audit")).content.decode()
    assert "接替离职网格员" in audit
