"""A real GeoReport v2 client from PyPI (``georeport``) against a live server, in JSON and in
XML, reading without a key as it does."""

from __future__ import annotations

from typing import Any

import pytest
from georeport import GeoReport

from linli.needs.services import need_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_services_and_requests(live_server: Any, nw: Any, fmt: str) -> None:
    need = need_create(
        actor=nw.users["community_staff"],
        text="李秀英说2栋楼道灯不亮",
        place=nw.places["building_a"],
        category_code="lighting",
    )
    client = GeoReport(f"{live_server.url}/open311/v2", output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "lighting" in codes
    definition = client.get_service_definition("lighting")
    assert definition["service_code"] == "lighting"
    requests = client.get_service_requests(status="open")
    rows = requests if isinstance(requests, list) else [requests]
    assert str(need.pk) in [str(r["service_request_id"]) for r in rows]
    one = client.get_service_request(str(need.pk))
    assert str(one["service_request_id"]) == str(need.pk)
    assert one["description"].startswith("李**说2栋楼道灯不亮")
    assert one["status"] == "open"
