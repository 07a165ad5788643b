"""Test-only middleware: every response body is scanned for personal data shown in clear.

It finds phone and identity numbers however they are written (spaces, hyphens, dots,
full-width digits), inside pages, JSON, XML and the sheets of XLSX downloads, and a full
birth date shown beside a masked identity number (which rebuilds the number). Its scanner
is written independently of ``people.identity.redact_text``, so that a gap in the masking
is not a gap in the check. A response to an audited unmask is marked
(``response.linli_unmasked``) and skipped. A hit is recorded; the test suite's autouse
fixture fails the test that produced it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

#: (path, kind, value) of every leak seen since the list was last cleared.
LEAKS: list[tuple[str, str, str]] = []
#: how many responses were scanned (so the suite can show the guard was really on)
SCANNED = [0]

_BETWEEN_DIGITS = re.compile(r"(?<=\d)[ \u00a0\u2009\u202f\u3000\-\u2010-\u2015\u2212.\u00b7\u30fb](?=\d)")
# not inside a longer run of letters and digits (a token, a hash), which would be noise
PHONE_RE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")
ID_RE = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
MASKED_ID_RE = re.compile(r"(?<![\d*])\d{6}\*{8}\d{3}[\dX](?![\d*])")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(text: str) -> str:
    """Full-width digits made ASCII, and the separators between digits dropped."""
    return _BETWEEN_DIGITS.sub("", unicodedata.normalize("NFKC", text))


def _date_forms(day: dt.date) -> list[str]:
    return [
        day.isoformat(),
        day.strftime("%Y%m%d"),
        day.strftime("%Y/%m/%d"),
        day.strftime("%Y.%m.%d"),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}-{day.month}-{day.day}",
    ]


def _birth_dates_beside_masks(text: str) -> list[tuple[str, str]]:
    masks = set(MASKED_ID_RE.findall(text))
    if not masks:
        return []
    from linli.people.models import Person

    try:
        rows = list(
            Person.objects.filter(id_number_masked__in=masks, birth_date__isnull=False).values_list(
                "id_number_masked", "birth_date"
            )
        )
    except RuntimeError:  # a test without a database (pytest-django refuses the query): no people
        return []
    found = []
    for mask, born in rows:
        if any(form in text for form in _date_forms(born)):
            found.append(("birth_date_beside_masked_id", f"{mask} {born.isoformat()}"))
    return found


def find_leaks(text: str) -> list[tuple[str, str]]:
    plain = _plain(text)
    return [("phone", m.group(0)) for m in PHONE_RE.finditer(plain)] + [
        ("id_number", m.group(0)) for m in ID_RE.finditer(plain)
    ]


def _xlsx_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return " ".join(
                book.read(name).decode("utf-8", errors="replace")
                for name in book.namelist()
                if name.endswith(".xml") and ("worksheets/" in name or "sharedStrings" in name)
            )
    except zipfile.BadZipFile:
        return ""


class LeakGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(response, "linli_unmasked", False):
            return response
        content_type = response.get("Content-Type", "")
        is_xlsx = content_type.startswith(XLSX)
        if not (is_xlsx or any(t in content_type for t in ("text/", "json", "xml", "javascript"))):
            return response
        if getattr(response, "streaming", False):  # read it, and hand the same bytes on
            data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
            response.streaming_content = [data]  # type: ignore[attr-defined]
        else:
            data = response.content
        text = _xlsx_text(data) if is_xlsx else data.decode("utf-8", errors="replace")
        SCANNED[0] += 1
        for kind, value in [*find_leaks(text), *_birth_dates_beside_masks(text)]:
            LEAKS.append((request.path, kind, value))
        return response
