"""Photos of needs, stored through the shared photo kit (``core.photos``: validated,
re-encoded, EXIF and GPS stripped)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from linli.core.access import Actor, user_of
from linli.core.photos import PhotoUpload, clean_photo
from linli.needs.models import Need, NeedPhoto, PhotoStage

__all__ = ["MAX_PHOTOS", "PhotoUpload", "clean_photo", "photos_attach"]

MAX_PHOTOS = 6


def photos_attach(
    *, need: Need, uploads: Sequence[PhotoUpload], actor: Actor, stage: str = PhotoStage.INTAKE
) -> list[NeedPhoto]:
    """Store the photos of a need (called inside the writing service's transaction)."""
    if len(uploads) + need.photos.filter(stage=stage).count() > MAX_PHOTOS:
        raise ValidationError({"photos": [_("最多%(MAX_PHOTOS)s张照片") % {"MAX_PHOTOS": MAX_PHOTOS}]})
    cleaned = [clean_photo(u) for u in uploads]  # all validated before any is stored
    stored = []
    for data, ext, width, height in cleaned:
        photo = NeedPhoto(
            need=need,
            stage=stage,
            width=width,
            height=height,
            uploaded_by=user_of(actor),
        )
        photo.image.save(f"need-{need.pk}.{ext}", ContentFile(data), save=False)
        photo.save()
        stored.append(photo)
    return stored
