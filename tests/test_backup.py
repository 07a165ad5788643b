"""``linli backup`` and ``linli restore`` round trip: after a restore, no row of any table
differs from the moment of the backup, and the photos are back byte for byte; a damaged
backup is refused before anything is touched."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from PIL import Image

from linli.core.backup import MANIFEST, backup, restore, table_counts
from linli.core.photos import PhotoUpload
from linli.needs.models import Need, NeedPhoto
from linli.needs.services import need_create
from linli.needs.tests.conftest import make_categories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("backup")]


def _fingerprints() -> dict[str, str]:
    """Every table's rows, as one digest per table."""
    found = {}
    with connection.cursor() as cursor:
        for table in table_counts():
            cursor.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: S608
            )
            found[table] = cursor.fetchone()[0]
    return found


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(out, format="JPEG")
    return out.getvalue()


def test_a_backup_restores_every_row_and_every_photo(world: Any, tmp_path: Path) -> None:
    media = tmp_path / "media"
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(MEDIA_ROOT=str(media), STORAGES=storages):
        make_categories()
        need = need_create(
            actor=world.users["resident"],
            text="楼道灯坏了",
            place=world.household_place_a,
            photos=[PhotoUpload(name="lamp.jpg", content=_jpeg())],
        )
        photo = Path(NeedPhoto.objects.get(need=need).image.path)
        original = photo.read_bytes()
        before = _fingerprints()
        out = io.StringIO()
        call_command("backup", "--to", str(tmp_path / "backups"), stdout=out)
        [folder] = (tmp_path / "backups").iterdir()
        assert (folder / MANIFEST).exists() and "linli-backup-" in folder.name

        # what happens after the backup: another need, a photo lost on disk
        need_create(actor=world.users["resident"], text="电梯坏了", place=world.household_place_a)
        photo.unlink()
        assert _fingerprints() != before

        with pytest.raises(CommandError, match="--yes"):
            call_command("restore", str(folder), stdout=io.StringIO())
        call_command("restore", str(folder), "--yes", stdout=io.StringIO())
        assert _fingerprints() == before  # 0 rows differ, in every table
        assert Need.objects.count() == 1 and photo.read_bytes() == original


def test_a_damaged_backup_is_refused_before_anything_is_touched(world: Any, tmp_path: Path) -> None:
    done = backup(tmp_path)
    before = _fingerprints()
    dump = done.folder / "database.dump"
    dump.write_bytes(dump.read_bytes()[:-100])  # cut short
    with pytest.raises(Exception, match="已损坏或不完整"):
        restore(done.folder)
    assert _fingerprints() == before
    with pytest.raises(CommandError, match="不是 Linli 的备份"):
        call_command("restore", str(tmp_path), "--yes", stdout=io.StringIO())
