"""Validate API responses against the project's own OpenAPI schema (Zulip's habit)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jsonschema
from drf_spectacular.generators import SchemaGenerator


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` (still emitted by DRF's pagination) as JSON Schema."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@lru_cache(maxsize=1)
def openapi() -> dict[str, Any]:
    return _nullable(SchemaGenerator().get_schema(request=None, public=True))


def _match(path: str) -> str:
    if path in openapi()["paths"]:  # a literal path beats a template (/needs/triage/ vs /needs/{id}/)
        return path
    for template in openapi()["paths"]:
        regex = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"
        if re.match(regex, path):
            return template
    raise AssertionError(f"{path} is not in the OpenAPI schema")


def assert_matches_schema(method: str, path: str, status: int, body: Any) -> None:
    operation = openapi()["paths"][_match(path)][method.lower()]
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {path}: status {status} not documented ({list(responses)})"
    content = responses[str(status)].get("content", {})
    if not content:
        return
    schema = content["application/json"]["schema"]
    document = {**schema, "components": openapi()["components"]}
    jsonschema.validate(body, document, cls=jsonschema.Draft202012Validator)


def client_for(user: Any) -> Any:
    """An API client signed in as ``user`` (staff have TOTP in the test world)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def ok(response: Any, method: str, path: str, code: int = 200) -> Any:
    """The response's JSON, after checking its status and that it matches the OpenAPI schema."""
    assert response.status_code == code, (path, response.status_code, response.content[:400])
    assert_matches_schema(method, path, code, response.json())
    return response.json()
