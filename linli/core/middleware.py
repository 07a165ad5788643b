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


_JSON_NUL = (b"\x00", b"\\u0000", b"\\U0000")


class RejectBadInputMiddleware:
    """Answers 400 for a NUL character anywhere in the path, the query string, a form field
    or a JSON body: PostgreSQL cannot store one, so it would otherwise surface as a 500 deep
    inside some view. Uploaded files are left alone (images contain NUL bytes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            from django.utils.translation import gettext_lazy

            from linli.core.errors import error_response

            return error_response(request, 400, gettext_lazy("请求中含有无效字符(NUL)。"))
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        from urllib.parse import unquote_to_bytes

        if "\x00" in request.path or b"\x00" in unquote_to_bytes(request.META.get("PATH_INFO", "")):
            return True
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query or b"\x00" in unquote_to_bytes(query.replace("+", " ")):
            return True
        if request.method not in ("POST", "PUT", "PATCH"):
            return False
        content_type = request.META.get("CONTENT_TYPE", "")
        if "json" in content_type:
            body = request.body
            return any(marker in body for marker in _JSON_NUL)
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            try:
                fields = request.POST
            except Exception:  # a malformed body: the view reports it
                return False
            return any("\x00" in key or any("\x00" in v for v in fields.getlist(key)) for key in fields)
        return False


class NoStoreMiddleware:
    """Every answer to a signed-in person or a registered client carries personal data or
    may: no browser, proxy or CDN may keep a copy (``Cache-Control: no-store, private``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)  # DRF copies a key-authenticated user back here
        session = getattr(request, "session", None)
        signed_in = session is not None and "_auth_user_id" in session  # a session DRF ignored (Open311)
        if (user is not None and user.is_authenticated) or signed_in:
            response["Cache-Control"] = "no-store, private"
            response.headers.pop("Expires", None)
            vary = response.get("Vary", "")
            if "cookie" not in vary.lower():
                response["Vary"] = f"{vary}, Cookie" if vary else "Cookie"
        return response


class AdminStylesMiddleware:
    """The site's policy allows no inline styles; Django's admin (system admins only, behind
    the second factor) has a few, so its pages alone may use them. Listed after the CSP
    middleware, so that it marks the response before that middleware writes the header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            response._csp_update = {"style-src": ["'unsafe-inline'"]}  # type: ignore[attr-defined]
        return response


class ErrorPageMiddleware:
    """A bare error answer on a page (Django's empty 405 from ``require_POST``, an empty 403 or
    404 a library returned) becomes the site's own page in the reader's language, with the way
    back; the ``Allow`` header of a 405 is kept, and a view's own short message is kept as the
    page's message. Pages the views rendered themselves (a form with its errors), htmx
    fragments, JSON and the API's and Open311's answers are left as they are."""

    _STATUSES = (400, 403, 404, 405)
    _NOT_PAGES = ("/api/", "/open311/", "/static/", "/media/", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code not in self._STATUSES or request.path.startswith(self._NOT_PAGES):
            return response
        if getattr(response, "streaming", False) or request.headers.get("HX-Request"):
            return response  # a file, or a fragment htmx puts in the page it asked from
        kind = response.get("Content-Type", "")
        if response.content and not kind.startswith(("text/html", "text/plain")):
            return response  # JSON for the offline page's script, or another format asked for
        if b"<html" in response.content[:2000].lower():
            return response  # a page the view rendered (a form with its errors)
        from linli.core import errors

        text = response.content.decode(response.charset or "utf-8", "replace").strip()
        page: HttpResponse
        if text and len(text) <= 500:  # a view's own short message, kept in the site's page
            page = errors.error_response(request, response.status_code, text)
        elif response.status_code == 405:
            page = errors.method_not_allowed(request)
        elif response.status_code == 403:
            page = errors.permission_denied(request)
        elif response.status_code == 404:
            page = errors.page_not_found(request)
        else:
            page = errors.bad_request(request)
        if "Allow" in response:
            page["Allow"] = response["Allow"]
        return page
