"""The admin site speaks the reader's language: every section and every list on its index is
named in Chinese by default (third-party apps included)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from linli.testing import sign_in

pytestmark = pytest.mark.django_db

_HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_admin_index_names_everything_in_chinese(client: Client, world: Any) -> None:
    admin = world.users["system_admin"]
    admin.is_superuser = admin.is_staff = True
    admin.save(update_fields=["is_superuser", "is_staff"])
    sign_in(client, admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    sections = re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>(.*?)</a>', html, re.S)
    models = re.findall(r'<th scope="row"[^>]*>\s*(?:<a [^>]*>)?(.*?)(?:</a>)?\s*</th>', html, re.S)
    assert len(sections) >= 8 and len(models) >= 10, (sections, models)
    english = [name.strip() for name in sections + models if not _HAN.search(name)]
    assert not english, english
