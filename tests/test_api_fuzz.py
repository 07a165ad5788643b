"""Random input from the OpenAPI schema (schemathesis + hypothesis) never makes the API
answer 5xx, and every 2xx answer matches the schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient

from tests.schema import assert_matches_schema, openapi

pytestmark = pytest.mark.django_db


def operations() -> list[Any]:
    schema = schemathesis.openapi.from_dict(openapi())
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", operations(), ids=lambda op: f"{op.method.upper()} {op.path}")
def test_random_requests_never_fail_with_5xx(operation: Any, world: Any) -> None:
    client = APIClient()
    client.force_authenticate(world.users["secretary"])

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        path = case.formatted_path
        kwargs: dict[str, Any] = {"data": case.query or None}
        if case.method.upper() in ("POST", "PUT", "PATCH"):
            body = case.body if not isinstance(case.body, type(None)) else {}
            response = client.generic(
                case.method.upper(),
                path + _query(case.query),
                json.dumps(body, default=str),
                content_type="application/json",
            )
        else:
            response = client.generic(case.method.upper(), path + _query(case.query), **{})
            kwargs.clear()
        assert response.status_code < 500, (case.method, path, case.query, case.body, response.content[:300])
        if 200 <= response.status_code < 300 and response.content and "json" in response.get("Content-Type", ""):
            assert_matches_schema(case.method, path, response.status_code, response.json())

    check()


def _query(query: dict[str, Any] | None) -> str:
    if not query:
        return ""
    from urllib.parse import urlencode

    return "?" + urlencode(query, doseq=True)
