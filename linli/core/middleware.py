"""Request logging and the remembered display preferences (language, large type)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("linli.request")

LARGE_TYPE_COOKIE = "linli_large"


class RequestLogMiddleware:
    """One structured log line per request: method, path, status, duration, user id.

    Query strings are left out: they may carry a phone number someone searched for.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex[:16]
        response = self.get_response(request)
        user = getattr(request, "user", None)
        logger.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round((time.monotonic() - started) * 1000, 1),
                "user_id": getattr(user, "pk", None),
            },
        )
        response["X-Request-ID"] = request_id
        return response


class PreferencesMiddleware:
    """Reads the large-type preference from its cookie (set by ``/prefs/``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.large_type = request.COOKIES.get(LARGE_TYPE_COOKIE) == "1"  # type: ignore[attr-defined]
        return self.get_response(request)


def remember(response: HttpResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax", httponly=False)
