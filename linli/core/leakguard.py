"""Test-only middleware: every response body is scanned for clear phone and identity numbers.

A hit outside an unmask action is recorded; the test suite's autouse fixture fails the test
that produced it. This is how the suite proves that pages and API answers stay masked.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from linli.people.identity import TEXT_ID_RE as ID_RE
from linli.people.identity import TEXT_PHONE_RE as PHONE_RE

#: (path, kind, value) of every leak seen since the list was last cleared.
LEAKS: list[tuple[str, str, str]] = []
#: how many responses were scanned (so the suite can show the guard was really on)
SCANNED = [0]

_ALLOWED_URL_NAMES = {"person_unmask", "person-unmask"}


def find_leaks(text: str) -> list[tuple[str, str]]:
    return [("phone", m.group(0)) for m in PHONE_RE.finditer(text)] + [
        ("id_number", m.group(0)) for m in ID_RE.finditer(text)
    ]


class LeakGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name in _ALLOWED_URL_NAMES:
            return response
        if getattr(response, "streaming", False):
            return response
        content_type = response.get("Content-Type", "")
        if not any(t in content_type for t in ("text/", "json", "xml", "javascript")):
            return response
        SCANNED[0] += 1
        text = response.content.decode("utf-8", errors="replace")
        for kind, value in find_leaks(text):
            LEAKS.append((request.path, kind, value))
        return response
