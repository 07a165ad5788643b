"""Response headers: no caching of personal data (finding 14) and a strict content security
policy (20)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.core.access import SYSTEM
from tests.security.conftest import sign_in_staff

pytestmark = pytest.mark.django_db


def test_f14_authenticated_answers_are_never_cached(world: Any) -> None:
    from linli.accounts.api_keys import api_client_register

    staff = Client()
    sign_in_staff(staff, "grid_worker")
    resident = Client()
    resident.force_login(world.users["resident"])
    _, key = api_client_register(actor=SYSTEM, name="probe", user=world.users["community_staff"])
    for client, url in (
        (staff, reverse("people:person", args=[world.resident_a.pk])),
        (staff, "/api/people/"),
        (staff, reverse("home")),
        (resident, reverse("people:profile")),
        (Client(), f"/open311/v2/requests.json?api_key={key}"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        cache = response.get("Cache-Control", "")
        assert "no-store" in cache and "private" in cache, (url, cache)


def test_f20_the_content_security_policy_is_strict(client: Client) -> None:
    response = client.get(reverse("account_login"))
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        policy[name] = value
    assert "'unsafe-inline'" not in policy.get("style-src", policy.get("default-src", ""))
    assert "'unsafe-inline'" not in policy.get("script-src", "")
    assert policy.get("form-action") == "'self'"
    assert policy.get("base-uri") in ("'self'", "'none'")
    assert policy.get("frame-ancestors") == "'none'"
