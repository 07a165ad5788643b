"""The downloads the apps register (``core.registry.register_export``) are listed on a place's
page for the readers who may take them, and every link listed answers with a file."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from linli.core.models import AuditEntry
from linli.core.registry import exports_for
from linli.needs.tests.conftest import make_categories
from linli.testing import sign_in

pytestmark = pytest.mark.django_db


def _listed(html: str) -> dict[str, str]:
    return {
        key: url.replace("&amp;", "&") for url, key in re.findall(r'<a href="([^"]+)" data-export="([\w-]+)"', html)
    }


@pytest.mark.parametrize(
    ("who", "place", "expected"),
    [
        ("secretary", "community_a", {"rates", "care", "ledger"}),
        ("street_official", "community_a", {"places", "rates", "care"}),
        ("grid_worker", "grid_a", {"care"}),
        ("mediator", "community_a", set()),
    ],
)
def test_a_place_page_lists_the_downloads_its_reader_may_take(
    client: Client, world: Any, who: str, place: str, expected: set[str]
) -> None:
    make_categories()
    target = getattr(world, place)
    sign_in(client, world.users[who])
    page = client.get(f"/places/{target.code}/")
    assert page.status_code == 200
    listed = _listed(page.content.decode())
    assert set(listed) == expected == {e.key for e in exports_for(world.users[who], target)}
    before = AuditEntry.objects.count()
    for key, url in listed.items():
        response = client.get(url)
        assert response.status_code == 200, (key, url, response.content[:300])
        assert response["Content-Disposition"].startswith("attachment"), key
    assert AuditEntry.objects.count() >= before + len(listed)  # every download is audited
