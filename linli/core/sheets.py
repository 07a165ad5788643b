"""What every spreadsheet shares: its media type, cells that never run as formulas, and the
checks that refuse a spreadsheet bomb before anything parses it."""

from __future__ import annotations

import io
import re
import zipfile

from defusedxml import DefusedXmlException, ElementTree  # the file is untrusted: no entity expansion, no DTDs

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: str) -> str:
    """Spreadsheets run a cell that starts like a formula: keep it text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def unguard_cell(value: str) -> str:
    """What ``safe_cell`` wrote, read back: the guarding apostrophe dropped, so that an export
    imports again unchanged."""
    return value[1:] if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r") else value


class SheetRefused(Exception):
    """A spreadsheet refused before it is parsed (too big, too many rows, not a workbook)."""


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f}"


def check_sheet(data: bytes, filename: str) -> None:
    """Refuse, before parsing, a file larger than ``IMPORT_MAX_BYTES`` or a workbook that
    unpacks to more than ``IMPORT_MAX_UNPACKED_BYTES`` (the sizes its zip directory declares,
    which the zip reader never exceeds): a 2 MB file of 200,000 rows must not tie up a web
    worker."""
    from django.conf import settings

    if len(data) > settings.IMPORT_MAX_BYTES:
        size = _mb(settings.IMPORT_MAX_BYTES)
        raise SheetRefused(f"文件过大(上限 {size} MB) / The file is larger than {size} MB")
    if not filename.lower().endswith(".xlsx"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            unpacked = sum(info.file_size for info in book.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise SheetRefused("不是有效的 Excel 文件 / Not a valid .xlsx file") from exc
    if unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
        size = _mb(settings.IMPORT_MAX_UNPACKED_BYTES)
        raise SheetRefused(
            f"文件解压后超过 {size} MB，请分成几个文件导入 / The workbook unpacks to more than {size} MB: "
            "split it into several files"
        )


def too_many_rows(limit: int) -> SheetRefused:
    return SheetRefused(
        f"文件超过 {limit:,} 行，请分成几个文件导入 / The file has more than {limit:,} rows: split it into several files"
    )


def count_rows(data: bytes, filename: str, *, up_to: int) -> int:
    """How many rows the file has, reading no further than ``up_to`` rows (a workbook's first
    sheet is read as a stream, so a huge one costs no more than a small one); a workbook that
    declares more than ``IMPORT_MAX_ROWS`` is refused at once. Call ``check_sheet`` first."""
    from django.conf import settings

    if filename.lower().endswith(".csv"):
        return min(data.count(b"\n") + (0 if data.endswith(b"\n") else 1), up_to)
    counted = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book, book.open(_first_sheet(book)) as sheet:
            for _event, element in ElementTree.iterparse(sheet, events=("start",)):
                tag = element.tag.rsplit("}", 1)[-1]
                if tag == "dimension":
                    last = re.findall(r"\d+", (element.get("ref") or "").rsplit(":", 1)[-1])
                    if last and int(last[0]) > settings.IMPORT_MAX_ROWS + 1:  # the header, then the rows
                        raise too_many_rows(settings.IMPORT_MAX_ROWS)
                elif tag == "row":
                    counted += 1
                    if counted >= up_to:
                        break
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, DefusedXmlException) as exc:
        raise SheetRefused("不是有效的 Excel 文件 / Not a valid .xlsx file") from exc
    return counted


_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _first_sheet(book: zipfile.ZipFile) -> str:
    """The zip entry of a workbook's first sheet (as Excel and openpyxl find it)."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    first = next((e for e in workbook.iter() if e.tag.endswith("}sheet")), None)
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {e.get("Id"): e.get("Target", "") for e in rels.iter() if e.tag.endswith("}Relationship")}
    target = targets.get(first.get(_RELS)) if first is not None else None
    if not target:
        raise KeyError("no first sheet")
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
