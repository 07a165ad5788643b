"""The spreadsheet kit every import and export goes through.

- Reading (``read_rows``): XLSX or CSV (UTF-8 or GB18030), refused before parsing when it is a
  spreadsheet bomb (``check_sheet``: file size, unpacked size, declared rows), header cells
  mapped to canonical column names, the file's own line numbers, formula guards read back.
  An importer gathers every row's errors (``RowError``) and raises ``ImportFailed`` with all
  of them before writing anything: an import is all or nothing.
- Writing (``xlsx_bytes``, ``xlsx_file``, ``csv_lines``): every text cell is kept text
  (``safe_cell``: a cell that starts like a formula would run in the reader's spreadsheet).
- The audit entry of an import or export is written by ``core.audit.audit_import`` and
  ``audit_export``, from the service that reads or writes the file.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DefusedXmlException, ElementTree  # the file is untrusted: no entity expansion, no DTDs
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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


def check_upload(filename: str, size: int) -> None:
    """Refuse an upload before it is read: a file that is not XLSX or CSV, or larger than
    ``IMPORT_MAX_BYTES`` (the same limits ``check_sheet`` holds the contents to)."""
    from django.conf import settings

    if not filename.lower().endswith((".xlsx", ".csv")):
        raise SheetRefused(_("只支持 .xlsx 或 .csv 文件"))
    if size > settings.IMPORT_MAX_BYTES:
        raise SheetRefused(_("文件过大(上限 %(size)s MB)。") % {"size": _mb(settings.IMPORT_MAX_BYTES)})


def check_sheet(data: bytes, filename: str) -> None:
    """Refuse, before parsing, a file larger than ``IMPORT_MAX_BYTES`` or a workbook that
    unpacks to more than ``IMPORT_MAX_UNPACKED_BYTES`` (the sizes its zip directory declares,
    which the zip reader never exceeds): a 2 MB file of 200,000 rows must not tie up a web
    worker."""
    from django.conf import settings

    if len(data) > settings.IMPORT_MAX_BYTES:
        size = _mb(settings.IMPORT_MAX_BYTES)
        raise SheetRefused(_("文件过大(上限 %(size)s MB)。") % {"size": size})
    if not filename.lower().endswith(".xlsx"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            unpacked = sum(info.file_size for info in book.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise SheetRefused(_("不是有效的 Excel 文件。")) from exc
    if unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
        size = _mb(settings.IMPORT_MAX_UNPACKED_BYTES)
        raise SheetRefused(_("文件解压后超过 %(size)s MB，请分成几个文件导入。") % {"size": size})


def too_many_rows(limit: int) -> SheetRefused:
    return SheetRefused(_("文件超过 %(limit)s 行，请分成几个文件导入。") % {"limit": f"{limit:,}"})


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
        raise SheetRefused(_("不是有效的 Excel 文件。")) from exc
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


# --- reading ------------------------------------------------------------------------------------------


_LABELS: dict[Any, dict[str, str]] = {}


def _labels_of(choices: Any) -> dict[str, str]:
    if choices in _LABELS:
        return _LABELS[choices]
    from django.conf import settings
    from django.utils import translation

    aliases = {str(value).lower(): str(value) for value in choices.values}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            aliases.update({str(label).lower(): str(value) for value, label in choices.choices})
    _LABELS[choices] = aliases
    return aliases


def choice_value(choices: type[Any], cell: str, *, extra: dict[str, str] | None = None) -> str | None:
    """The value of a ``TextChoices`` that a spreadsheet cell names: the value itself or its
    label in any of the site's languages, in any case (the file's language is not the
    reader's). ``None`` when it names none."""
    text = cell.strip().lower()
    if extra and text in extra:
        return extra[text]
    return _labels_of(choices).get(text)


@dataclass
class RowError:
    """The errors of one row of a file (``line`` 0: of the file as a whole)."""

    line: int
    messages: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = _("；").join(str(m) for m in self.messages)
        if self.line == 0:
            return text
        return _("第 %(line)s 行：%(errors)s") % {"line": self.line, "errors": text}


class ImportFailed(ValidationError):
    """Raised with every row error; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.row_errors = errors
        super().__init__([str(e) for e in errors])


def import_failed(line: int, message: str) -> ImportFailed:
    return ImportFailed([RowError(line, [message])])


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def read_rows(
    data: bytes,
    filename: str,
    *,
    aliases: dict[str, str],
    required: Iterable[str] = (),
    max_rows: int | None = None,
    progress: Callable[..., None] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of an XLSX or CSV file as dicts keyed by the canonical column names (``aliases``
    maps header cells, in any case, to them), with the file's own line numbers (the header is
    line 1). Blank rows are skipped; more than ``max_rows`` (``IMPORT_MAX_ROWS``) is refused."""
    from django.conf import settings

    limit = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    try:
        check_sheet(data, filename)  # a spreadsheet bomb is refused before it is parsed
    except SheetRefused as exc:
        raise import_failed(0, str(exc)) from exc
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif lower.endswith(".csv"):
        rows = _csv_rows(data)
    else:
        raise import_failed(0, _("只支持 .xlsx 或 .csv 文件。"))
    header: list[str] | None = None
    for line, raw in enumerate(rows, start=1):
        if line > limit + 1:  # the header, then at most ``limit`` rows
            raise import_failed(0, str(too_many_rows(limit)))
        if progress is not None and line % 1000 == 0:
            progress(line, 0, "reading")
        cells = ["" if c is None else unguard_cell(str(c).strip()) for c in raw]
        if header is None:
            header = [aliases.get(c.strip().lower(), aliases.get(c.strip(), "")) for c in cells]
            missing = set(required) - set(header)
            if missing:
                raise import_failed(1, _("缺少列：%(columns)s") % {"columns": ", ".join(sorted(missing))})
            continue
        if not any(cells):
            continue
        yield line, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}


def _csv_rows(data: bytes) -> Iterable[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise import_failed(0, _("无法识别文件编码，请另存为 UTF-8。")) from exc
    return csv.reader(io.StringIO(text))


def _xlsx_rows(data: bytes) -> Iterable[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise import_failed(0, _("不是有效的 Excel 文件。")) from exc
    return (list(row) for row in workbook.worksheets[0].iter_rows(values_only=True))


# --- writing ------------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One sheet of a file to write. ``header`` (may be empty) is written bold; the other
    options lay out a report (the visits ledger): column ``widths``, ``wrap`` (1-based column
    numbers whose text wraps), ``bold_rows`` (0-based indices of ``rows``), and a printed page
    title (landscape A4, the header repeated on every page)."""

    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = ()
    wrap: Sequence[int] = ()
    bold_rows: Sequence[int] = ()
    print_title: str = ""

    @property
    def laid_out(self) -> bool:
        return bool(self.widths or self.wrap or self.bold_rows or self.print_title)


def guarded(cells: Sequence[Any]) -> list[Any]:
    """A CSV row as written: text cells that start like a formula kept text."""
    return [safe_cell(c) if isinstance(c, str) else c for c in cells]


def _xlsx_cells(cells: Sequence[Any]) -> list[Any]:
    """A workbook row as written: a text cell is a string cell, which no spreadsheet runs, except
    that openpyxl writes a text starting with ``=`` as a formula: that one is guarded."""
    return [safe_cell(c) if isinstance(c, str) and c.startswith("=") else c for c in cells]


def _workbook(sheets: Sequence[Sheet]) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    laid_out = any(s.laid_out for s in sheets)
    workbook = Workbook(write_only=not laid_out)
    if laid_out:
        workbook.remove(workbook.worksheets[0])
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title)
        if spec.header:
            sheet.append(_xlsx_cells(spec.header))
        bold_rows = set(spec.bold_rows)
        for index, row in enumerate(spec.rows):
            sheet.append(_xlsx_cells(row))
            if laid_out and index in bold_rows:
                for cell in sheet[sheet.max_row]:
                    cell.font = bold
        if not laid_out:
            continue
        if spec.header:
            for cell in sheet[1]:
                cell.font = bold
            sheet.freeze_panes = "A2"
            sheet.print_title_rows = "1:1"
        for n, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[get_column_letter(n)].width = width
        for column in spec.wrap:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.alignment = wrap
        if spec.print_title:
            sheet.page_setup.orientation = "landscape"
            sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
            if sheet.oddHeader is not None and sheet.oddFooter is not None:
                sheet.oddHeader.center.text = spec.print_title
                sheet.oddFooter.center.text = "&P / &N"
    return workbook


def xlsx_bytes(*sheets: Sheet) -> bytes:
    """The sheets as an XLSX workbook."""
    buffer = io.BytesIO()
    _workbook(sheets).save(buffer)
    return buffer.getvalue()


def xlsx_file(*sheets: Sheet) -> Any:
    """The sheets as an XLSX workbook in a temporary file, ready to stream (``FileResponse``
    closes it)."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the response)
    _workbook(sheets).save(handle)
    handle.seek(0)
    return handle


class _Echo:
    """A file-like object whose ``write`` hands the line back (Django's streaming CSV recipe)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(sheet: Sheet) -> Iterator[str]:
    """The sheet as CSV lines to stream, with a BOM (so Excel reads UTF-8)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(guarded(sheet.header))
    for row in sheet.rows:
        yield writer.writerow(["" if c is None else c for c in guarded(row)])
