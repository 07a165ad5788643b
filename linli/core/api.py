"""Shared API pieces: pagination, and an exception handler that never lets a 500 through
for a bad request (validation errors from services become 400 with a clear message)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, pagination, serializers, throttling
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from linli.core import ratelimit
from linli.core.errors import Conflict
from linli.core.models import IdempotencyRecord


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def validation_detail(exc: ValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {"detail": " ".join(str(m) for m in exc.messages)}


class TextUnmaskIn(serializers.Serializer[Any]):
    """Asking for free text as written (the numbers in it unmasked): a reason, audited."""

    reason = serializers.CharField(max_length=500, allow_blank=True, help_text="why the full text is needed (audited)")


class RateLimitThrottle(throttling.BaseThrottle):
    """DRF throttling through ``core.ratelimit`` (shared by every process): a request counts
    against ``<scope>_key`` for a registered client (``api_key``), else ``<scope>_user`` for a
    signed-in person, and always against ``<scope>_ip`` for its address."""

    scope = ""

    def __init__(self) -> None:
        self.verdict = ratelimit.ALLOWED

    def allow_request(self, request: Any, view: Any) -> bool:
        limits: list[tuple[str, object]] = [(f"{self.scope}_ip", ratelimit.client_ip(request))]
        client = getattr(request, "auth", None)
        if client is not None and getattr(client, "pk", None) is not None:
            limits.append((f"{self.scope}_key", client.pk))
        elif request.user is not None and request.user.is_authenticated:
            limits.append((f"{self.scope}_user", request.user.pk))
        self.verdict = ratelimit.hit_all(*limits)
        return self.verdict.allowed

    def wait(self) -> float | None:
        return float(self.verdict.retry_after) if not self.verdict.allowed else None


def rate_limited(scope: str) -> type[RateLimitThrottle]:
    """A throttle class for the limits named ``<scope>_key``, ``_user`` and ``_ip``."""
    return type(f"RateLimit_{scope}", (RateLimitThrottle,), {"scope": scope})


class _Throttled:
    """ "Too many requests", translated when shown (Open311 shows it in both languages)."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds

    def __str__(self) -> str:
        return _("请求太频繁，请 %(seconds)s 秒后再试。") % {"seconds": self.seconds}


def throttled_message(wait: float | None) -> Any:
    return _Throttled(max(1, int(wait or 1)))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None)
        exc = exceptions.Throttled(detail=str(throttled_message(wait)))  # DRF would append English
        exc.wait = max(1, int(wait or 1))  # type: ignore[attr-defined]  # → Retry-After
    if isinstance(exc, ValidationError):
        return Response(validation_detail(exc), status=400)
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=409)
    if isinstance(exc, IntegrityError):
        return Response({"detail": _("与已有记录冲突")}, status=409)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到"))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or _("没有权限"))
    return drf_exception_handler(exc, context)


#: The header of a retry-safe write, for the OpenAPI schema of the actions ``idempotent`` wraps.
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="retry-safe writes: the same key returns the first answer instead of writing again",
)


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Make a DRF write replayable: with an ``Idempotency-Key`` header, the first request's
    answer is stored in the same transaction as the write, and a retry with the same key gets
    that answer again (same status, same body) without writing twice. Reusing a key for a
    different request is a 422. Without the header the write runs as usual."""

    @wraps(view_method)
    def wrapper(self: Any, request: Any, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view_method(self, request, *args, **kwargs)
        if len(key) > 100:
            raise exceptions.ValidationError({"Idempotency-Key": [_("最长100个字符")]})
        fingerprint = hashlib.sha256(
            json.dumps(request.data, sort_keys=True, default=str).encode() + request.path.encode()
        ).hexdigest()
        with transaction.atomic():
            record, created = IdempotencyRecord.objects.select_for_update().get_or_create(
                user=request.user,
                key=key,
                defaults={"method": request.method, "path": request.path, "fingerprint": fingerprint},
            )
            if not created:
                if record.fingerprint != fingerprint or record.method != request.method:
                    return Response(
                        {"detail": _("该 Idempotency-Key 已用于另一个请求")},
                        status=422,
                    )
                return Response(record.body, status=record.status, headers={"Idempotent-Replayed": "true"})
            response = view_method(self, request, *args, **kwargs)
            record.status, record.body = response.status_code, response.data
            record.save(update_fields=["status", "body"])
            return response

    return wrapper
