"""Photos of needs: JPEG, PNG and HEIC accepted, EXIF (and the camera's location) stripped,
size-capped, anything else refused with nothing written."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from linli.core.photos import MAX_PHOTO_BYTES, PhotoUpload
from linli.needs.models import Need, NeedPhoto
from linli.needs.services import need_create
from linli.testing import sign_in

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def jpeg_with_location() -> bytes:
    image = Image.new("RGB", (64, 48), "blue")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[GPS_IFD] = {1: "N", 2: (30.0, 35.0, 20.0), 3: "E", 4: (114.0, 14.0, 49.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture really has a location
    return data


def heic() -> bytes:
    from pillow_heif import from_pillow

    out = io.BytesIO()
    from_pillow(Image.new("RGB", (32, 32), "green")).save(out, quality=60)
    return out.getvalue()


def _create(nw: Any, *uploads: PhotoUpload) -> Need:
    return need_create(actor=nw.users["resident"], text="楼道灯坏了", place=nw.household_place_a, photos=uploads)


def test_exif_and_location_are_stripped(nw: Any) -> None:
    need = _create(nw, PhotoUpload("p.jpg", jpeg_with_location()))
    [photo] = need.photos.all()
    stored = Image.open(photo.image.open("rb"))
    assert stored.format == "JPEG" and (photo.width, photo.height) == (64, 48)
    assert not stored.getexif().get_ifd(GPS_IFD) and 0x010F not in stored.getexif()


def test_heic_becomes_jpeg_and_png_stays_png(nw: Any) -> None:
    png = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 128)).save(png, format="PNG")
    need = _create(nw, PhotoUpload("a.heic", heic()), PhotoUpload("b.png", png.getvalue()))
    formats = sorted(Image.open(p.image.open("rb")).format for p in need.photos.all())
    assert formats == ["JPEG", "PNG"]


@pytest.mark.parametrize(
    "upload",
    [
        PhotoUpload("x.jpg", b"not an image at all"),
        PhotoUpload("x.gif", b"GIF89a" + b"\x00" * 20),
        PhotoUpload("big.jpg", b"\xff\xd8" + b"0" * MAX_PHOTO_BYTES),
    ],
    ids=["garbage", "gif", "too-big"],
)
def test_bad_photos_write_nothing(nw: Any, upload: PhotoUpload) -> None:
    with pytest.raises(ValidationError) as info:
        _create(nw, upload)
    assert "photos" in info.value.message_dict
    assert not Need.objects.exists() and not NeedPhoto.objects.exists()


def test_at_most_six_photos(nw: Any) -> None:
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, format="PNG")
    with pytest.raises(ValidationError):
        _create(nw, *[PhotoUpload(f"{i}.png", png.getvalue()) for i in range(7)])
    assert not Need.objects.exists()


def test_photo_page_is_for_those_who_may_see_the_need(nw: Any, client: Any) -> None:
    need = _create(nw, PhotoUpload("p.jpg", jpeg_with_location()))
    photo = need.photos.get()
    sign_in(client, nw.users["resident"])
    response = client.get(f"/needs/{need.pk}/photos/{photo.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    sign_in(client, nw.users["grid_worker_b"])
    assert client.get(f"/needs/{need.pk}/photos/{photo.pk}/").status_code == 404
