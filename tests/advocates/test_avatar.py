"""Avatar uploads on the profile page: decoded by Pillow, re-encoded, nothing else stored."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from advocates.models import Advocate

PROFILE = reverse("advocates:profile")


def _image(fmt: str, size: tuple[int, int] = (800, 600), *, gps: bool = True, **save) -> bytes:
    image = Image.new("RGB", size, (200, 80, 40))
    for x in range(0, size[0], 7):  # some detail, so the encoders have work to do
        image.putpixel((x, x % size[1]), (0, 0, 255))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "Editor 1.0"  # Software
    if gps:
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes(), **save)
    return out.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header claims width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _profile_data(**extra: object) -> dict:
    data = {
        "title": "Head of Data",
        "seniority": "vp",
        "industry": "Retail",
        "bio": "I like dashboards.",
        "linkedin_url": "",
        "reference_max_calls_per_90d": "3",
    }
    return data | extra


def _post(client, content: bytes, name: str, content_type: str = "image/png", **extra):
    upload = SimpleUploadedFile(name, content, content_type)
    return client.post(PROFILE, _profile_data(avatar_upload=upload, **extra))


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _assert_nothing_stored(advocate: Advocate) -> None:
    assert _stored_files() == []
    advocate.refresh_from_db()
    assert not advocate.avatar
    assert not advocate.avatar_thumbnail
    # The other fields posted with the bad image are not saved either.
    assert advocate.title == "Director of Operations"
    assert advocate.industry == "Software"
    assert advocate.bio == ""


@pytest.mark.parametrize(
    ("fmt", "content_type", "ext"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")],
)
def test_a_real_image_is_reencoded_without_metadata_and_thumbnailed(
    advocate, advocate_client, fmt: str, content_type: str, ext: str
) -> None:
    original = _image(fmt)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the GPS is there

    response = _post(advocate_client, original, f"me.{ext}", content_type)
    assert response.status_code == 302

    advocate.refresh_from_db()
    assert advocate.title == "Head of Data"
    assert advocate.avatar.name.endswith(f".{ext}")
    assert advocate.avatar_thumbnail.name.endswith(f"_96.{ext}")
    with Image.open(advocate.avatar.path) as stored:
        assert stored.format == fmt
        assert max(stored.size) <= 512
        assert stored.size == (512, 384)  # the aspect ratio is kept
        assert not stored.getexif()  # no GPS, camera or software left
        assert "exif" not in stored.info
    with Image.open(advocate.avatar_thumbnail.path) as thumb:
        assert thumb.size == (96, 96)
        assert not thumb.getexif()
    assert Path(advocate.avatar.path).read_bytes() != original
    assert len(_stored_files()) == 2

    # The thumbnail is what the pages show.
    body = advocate_client.get(PROFILE).content.decode()
    assert advocate.avatar_thumbnail.url in body


def test_exif_orientation_is_applied_before_it_is_dropped(advocate, advocate_client) -> None:
    image = Image.new("RGB", (300, 100), (10, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    assert _post(advocate_client, out.getvalue(), "p.jpg", "image/jpeg").status_code == 302
    advocate.refresh_from_db()
    with Image.open(advocate.avatar.path) as stored:
        assert stored.size == (100, 300)
        assert not stored.getexif()


def test_a_transparent_palette_png_keeps_its_transparency(advocate, advocate_client) -> None:
    image = Image.new("P", (64, 64), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (16, 16, 48, 48))
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    assert _post(advocate_client, out.getvalue(), "logo.png").status_code == 302
    advocate.refresh_from_db()
    with Image.open(advocate.avatar.path) as stored:
        assert stored.convert("RGBA").getpixel((0, 0))[3] == 0


def test_a_new_avatar_replaces_the_old_files(
    advocate, advocate_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _post(advocate_client, _image("PNG"), "one.png")
    advocate.refresh_from_db()
    first = Path(advocate.avatar.path)
    with django_capture_on_commit_callbacks(execute=True):
        _post(advocate_client, _image("JPEG"), "two.jpg", "image/jpeg")
    advocate.refresh_from_db()
    assert not first.exists()
    assert len(_stored_files()) == 2


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("notes.png", b"just some text, honestly\n" * 20, "image/png"),
        ("anim.gif", None, "image/gif"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b"<script>alert(1)</script></svg>",
            "image/svg+xml",
        ),
        ("logo.png", None, "image/png"),  # an SVG renamed .png
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),  # a broken PNG
        ("photo.jpg", None, "image/jpeg"),  # a truncated JPEG
        ("bitmap.png", None, "image/png"),  # a BMP renamed .png
        ("empty.png", b"", "image/png"),
    ],
    ids=["text", "gif", "svg", "svg-as-png", "broken-png", "truncated-jpeg", "bmp", "empty"],
)
def test_anything_but_a_jpeg_png_or_webp_is_a_form_error_and_stores_nothing(
    advocate, advocate_client, name: str, content: bytes | None, content_type: str
) -> None:
    if name == "anim.gif":
        content = _gif()
    elif name == "logo.png":
        content = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>'
    elif name == "photo.jpg":
        content = _image("JPEG", gps=False)[:600]
    elif name == "bitmap.png":
        out = io.BytesIO()
        Image.new("RGB", (20, 20)).save(out, "BMP")
        content = out.getvalue()
    response = _post(advocate_client, content, name, content_type)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="errorlist' in body
    assert "Upload a JPEG, PNG or WebP image." in body or "The submitted file is empty." in body
    _assert_nothing_stored(advocate)


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "GIF")
    return out.getvalue()


def test_a_decompression_bomb_declared_in_the_header_is_refused(advocate, advocate_client) -> None:
    # 200,000 x 200,000 pixels declared in a file of about 100 bytes.
    bomb = _png_declaring(200_000, 200_000)
    assert len(bomb) < 200
    response = _post(advocate_client, bomb, "small.png")
    assert response.status_code == 200
    assert "The image has too many pixels." in response.content.decode()
    _assert_nothing_stored(advocate)


def test_an_image_over_the_pixel_limit_is_refused(advocate, advocate_client, settings) -> None:
    """A real, highly compressible image: small on disk, big in memory."""
    settings.IMAGE_MAX_PIXELS = 1_000_000
    out = io.BytesIO()
    Image.new("L", (1200, 1000)).save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 20_000
    response = _post(advocate_client, out.getvalue(), "flat.png")
    assert response.status_code == 200
    assert "The image has too many pixels." in response.content.decode()
    _assert_nothing_stored(advocate)


def test_an_oversize_file_is_refused(advocate, advocate_client, settings) -> None:
    content = _image("PNG", (400, 400))
    settings.AVATAR_MAX_BYTES = len(content) - 1
    response = _post(advocate_client, content, "big.png")
    assert response.status_code == 200
    assert "The image is too large" in response.content.decode()
    _assert_nothing_stored(advocate)


def test_an_oversize_file_over_the_memory_limit_is_refused(
    advocate, advocate_client, settings
) -> None:
    """A file Django spools to a temporary file on disk is refused the same way."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.AVATAR_MAX_BYTES = 50_000
    content = _image("PNG", (200, 200)) + b"\x00" * 60_000
    response = _post(advocate_client, content, "big.png")
    assert response.status_code == 200
    assert "The image is too large" in response.content.decode()
    _assert_nothing_stored(advocate)


def test_files_written_for_a_save_that_fails_are_removed(advocate, monkeypatch) -> None:
    from django.db import DatabaseError

    from advocates import services

    def broken_save(self, *args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(Advocate, "save", broken_save)
    upload = SimpleUploadedFile("me.png", _image("PNG"), "image/png")
    with pytest.raises(DatabaseError):
        services.advocate_profile_update(advocate=advocate, data={"title": "New"}, avatar=upload)
    assert _stored_files() == []


def test_the_service_refuses_a_bad_image_whoever_calls_it(advocate) -> None:
    from django.core.exceptions import ValidationError

    from advocates import services

    upload = SimpleUploadedFile("x.png", b"GIF89a not really", "image/png")
    with pytest.raises(ValidationError):
        services.advocate_profile_update(advocate=advocate, data={"title": "New"}, avatar=upload)
    advocate.refresh_from_db()
    assert advocate.title == "Director of Operations"
    assert _stored_files() == []
