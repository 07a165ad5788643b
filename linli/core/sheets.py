"""What every spreadsheet export shares: its media type, and cells that never run as formulas."""

from __future__ import annotations

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: str) -> str:
    """Spreadsheets run a cell that starts like a formula: keep it text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
