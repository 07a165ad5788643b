"""The uploads' storage: whole files or none.

Django's ``FileSystemStorage`` writes an upload straight to its final name, so a disk that
fills half-way leaves part of a photo behind, named like a real one. Here a file is written
to a hidden temporary name in the same folder, flushed to disk, and only then linked to its
final name (never over an existing file); whatever happens, the temporary name is removed.
A full disk therefore leaves nothing, and the ``OSError`` goes up to the view, whose
transaction rolls back and whose answer is the 507 of ``core.outage``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from django.core.files.storage import FileSystemStorage


class WholeFileStorage(FileSystemStorage):
    def _save(self, name: str, content: Any) -> str:
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        if self.directory_permissions_mode is not None:
            old_umask = os.umask(0o777 & ~self.directory_permissions_mode)
            try:
                os.makedirs(directory, self.directory_permissions_mode, exist_ok=True)
            finally:
                os.umask(old_umask)
        else:
            os.makedirs(directory, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    out.write(chunk.encode() if isinstance(chunk, str) else chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, self.file_permissions_mode if self.file_permissions_mode is not None else 0o644)
            while True:
                try:
                    os.link(temporary, full_path)  # fails rather than replace a file of that name
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
                    full_path = self.path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        return str(name).replace("\\", "/")
