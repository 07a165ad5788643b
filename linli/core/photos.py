"""Photos anyone uploads (a need's, a visit's, a site log's): JPEG, PNG or HEIC (converted to
JPEG), size-capped, re-encoded so that EXIF metadata, and with it the camera's GPS location,
never reaches storage."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_SIDE = 2048
_heif_registered = False


@dataclass(frozen=True)
class PhotoUpload:
    name: str
    content: bytes


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def clean_photo(upload: PhotoUpload) -> tuple[bytes, str, int, int]:
    """Validate and re-encode one photo; returns (bytes, extension, width, height)."""
    if len(upload.content) > MAX_PHOTO_BYTES:
        raise ValidationError({"photos": [_("照片过大(最大 %(size)s MB)") % {"size": MAX_PHOTO_BYTES // 1024 // 1024}]})
    _register_heif()
    try:
        image: Any = Image.open(io.BytesIO(upload.content))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError({"photos": [_("无法识别的图片")]}) from exc
    fmt = image.format
    if fmt not in ("JPEG", "PNG", "HEIF", "MPO"):
        raise ValidationError({"photos": [_("只支持JPEG、PNG、HEIC照片")]})
    image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant, then drop EXIF
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, format="PNG", optimize=True)
        ext = "png"
    else:
        image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
        ext = "jpg"
    return out.getvalue(), ext, image.width, image.height
