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

# Written apart from ``redact_text`` (which scans character by character): here the text is
# normalised first (every script's digits to ASCII, Chinese numerals in runs of eleven or
# more, marks and invisible format characters dropped, an O between digits read as 0), then
# digit groups joined by up to six non-word characters are tried stretch by stretch. Commas
# and colons do not join groups here (JSON lists, times of day).
_GAP = r"(?:(?![:,])[\W_])"
_GROUPS = re.compile(rf"(?<![A-Za-z0-9*])\+?\d+[Xx]?(?:{_GAP}{{1,6}}\d+[Xx]?)*(?![A-Za-z0-9*])")
_DIGITS = re.compile(r"\d+[Xx]?")
_CHINESE = "〇零○◯一幺壹二两贰三叁四肆五伍六陆七柒八捌九玖"
_CHINESE_VALUE = {c: str("0000111222334455667788899"[i]) for i, c in enumerate(_CHINESE)}
_CHINESE_RUN = re.compile(f"[{_CHINESE}]{{11,}}")
_DIGITS_AND_OS = re.compile(r"[\dOo]+")
PHONE_RE = re.compile(r"^(?:\+?86|0)?1[3-9]\d{9}$")
ID_RE = re.compile(r"^[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]$")
MASKED_ID_RE = re.compile(r"(?<![\d*])\d{6}\*{8}\d{3}[\dX](?![\d*])")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _CHINESE_RUN.sub(lambda m: "".join(_CHINESE_VALUE[c] for c in m.group(0)), text)
    text = "".join(
        str(unicodedata.digit(c)) if c.isdigit() else c
        for c in text
        if unicodedata.category(c)[0] != "M" and unicodedata.category(c) != "Cf"
    )
    return _DIGITS_AND_OS.sub(
        lambda m: re.sub("[Oo]", "0", m.group(0)) if re.search(r"\d", m.group(0)) else m.group(0), text
    )


def find_leaks(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for run in _GROUPS.finditer(_plain(text)):
        groups = _DIGITS.findall(run.group(0))
        plus = "+" if run.group(0).startswith("+") else ""
        i = 0
        while i < len(groups):
            hit: tuple[int, str, str] | None = None
            digits = plus if i == 0 else ""
            for j in range(i, len(groups)):
                digits += groups[j]
                if len(digits) > 19:
                    break
                if PHONE_RE.match(digits):
                    hit = (j, "phone", digits)
                elif ID_RE.match(digits):
                    hit = (j, "id_number", digits.upper())
            if hit is None:
                i += 1
                continue
            found.append((hit[1], hit[2]))
            i = hit[0] + 1
    return found


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
        if born is None:
            continue
        if any(form in text for form in _date_forms(born)):
            found.append(("birth_date_beside_masked_id", f"{mask} {born.isoformat()}"))
    return found


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
