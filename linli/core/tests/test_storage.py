"""Uploads on a real folder: a whole file or nothing, even when the disk fills half-way; and
the database's own full disk is told apart from its absence."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.files.base import ContentFile, File
from django.db import OperationalError

from linli.core.outage import is_disk_full, is_outage
from linli.core.storage import WholeFileStorage


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_file_is_written_whole_and_never_over_another(tmp_path: Path) -> None:
    storage = WholeFileStorage(location=tmp_path)
    first = storage.save("needs/2026/lamp.jpg", ContentFile(b"\xff\xd8" + b"a" * 100_000))
    second = storage.save("needs/2026/lamp.jpg", ContentFile(b"other"))
    assert first == "needs/2026/lamp.jpg" and second != first and second.startswith("needs/2026/lamp")
    assert (tmp_path / first).read_bytes() == b"\xff\xd8" + b"a" * 100_000
    assert (tmp_path / second).read_bytes() == b"other"
    assert _files(tmp_path) == sorted([first, second])  # no temporary file left


class _FillsTheDisk(File):  # type: ignore[type-arg]
    """An upload whose second chunk meets a full disk."""

    def __init__(self) -> None:
        super().__init__(None, name="big.jpg")

    def chunks(self, chunk_size: int | None = None) -> Any:
        yield b"x" * 65536
        raise OSError(errno.ENOSPC, "No space left on device")

    def seek(self, offset: int) -> None:
        pass


def test_a_disk_that_fills_half_way_leaves_nothing(tmp_path: Path) -> None:
    storage = WholeFileStorage(location=tmp_path)
    with pytest.raises(OSError) as raised:
        storage.save("needs/2026/big.jpg", _FillsTheDisk())
    assert is_disk_full(raised.value)
    assert _files(tmp_path) == []  # neither part of the photo nor the temporary file


def test_the_databases_full_disk_is_a_full_disk_not_an_outage_only() -> None:
    try:
        try:
            raise psycopg.errors.DiskFull("could not extend file: No space left on device")
        except psycopg.Error as cause:
            raise OperationalError(str(cause)) from cause
    except OperationalError as wrapped:
        assert is_disk_full(wrapped) and is_outage(wrapped)  # the middleware asks is_disk_full first
    assert not is_disk_full(OperationalError("the database system is shutting down"))
