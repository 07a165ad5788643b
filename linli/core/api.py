"""Shared API pieces: pagination, and an exception handler that never lets a 500 through
for a bad request (validation errors from services become 400 with a clear message)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from linli.core.errors import Conflict


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def validation_detail(exc: ValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {"detail": " ".join(str(m) for m in exc.messages)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ValidationError):
        return Response(validation_detail(exc), status=400)
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=409)
    if isinstance(exc, IntegrityError):
        return Response({"detail": "与已有记录冲突 / Conflicts with an existing record"}, status=409)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("未找到 / Not found")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "没有权限 / Permission denied")
    return drf_exception_handler(exc, context)
