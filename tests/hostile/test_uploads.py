"""Every image upload (avatar, challenge evidence, reward picture, program logo) under
hostile files: polyglots, decompression bombs, SVG, files over the limit, content that
does not match its name.

A refused file gets a clear message, stores no file and writes no row. An accepted file
is stored re-encoded: it decodes as the raster format its name says, and none of the
appended payload (HTML, script, zip) survives.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from tests.hostile.harness import changed, table_counts
from tests.hostile.payloads import HOSTILE_FILES, PAYLOAD, png_bytes
from tests.hostile.tally import tried

pytestmark = pytest.mark.django_db

# What a refusal says (advocates/images.py), or Django's own "empty file".
REASONS = ("Upload a JPEG, PNG or WebP image.", "too many pixels", "too large", "is empty")
SMALL_LIMIT = 200_000  # bytes: the "over the limit" case needs no 5 MB body


@dataclass
class Upload:
    role: str
    url: Callable[[dict], str]
    field: str
    data: Callable[[dict], dict]


def _challenge(ctx: dict) -> str:
    from challenges.models import Challenge
    from tests.challenges.factories import ChallengeFactory

    challenge = ChallengeFactory(kind=Challenge.Kind.UPLOAD, auto_approve=False)
    ctx["prefix"] = f"c{challenge.pk}-"  # the card's form is prefixed by the challenge
    return reverse("challenges:submit", kwargs={"pk": challenge.pk})


UPLOADS = {
    "avatar": Upload(
        "advocate",
        lambda ctx: reverse("advocates:profile"),
        "avatar_upload",
        lambda ctx: {"title": "CTO", "seniority": "", "reference_max_calls_per_90d": "2"},
    ),
    "challenge image": Upload("advocate", _challenge, "image", lambda ctx: {}),
    "reward image": Upload(
        "manager",
        lambda ctx: reverse("rewards:create"),
        "image_upload",
        lambda ctx: {
            "name": "Mug",
            "description": "A mug",
            "kind": "swag",
            "points_cost": "100",
            "is_active": "on",
        },
    ),
    "program logo": Upload(
        "manager",
        lambda ctx: reverse("core:settings"),
        "logo_upload",
        lambda ctx: {
            "name": "Vouch",
            "primary_color": "#4338ca",
            "fatigue_cap_per_week": "3",
            "max_deal_amount": "100000000",
            "max_points_per_event": "1000000",
        },
    ),
}


@pytest.fixture
def clients(advocate, manager) -> dict[str, Client]:
    made = {}
    for role, user in (("advocate", advocate.user), ("manager", manager)):
        made[role] = Client()
        made[role].force_login(user)
    return made


def _media() -> set[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _post(clients, name: str, filename: str, content: bytes, content_type: str):
    tried("uploads")
    upload = UPLOADS[name]
    ctx: dict = {}
    url = upload.url(ctx)
    before_files, before_rows = _media(), table_counts()
    data = upload.data(ctx) | {
        ctx.get("prefix", "") + upload.field: SimpleUploadedFile(
            filename, content, content_type=content_type
        )
    }
    # Followed: the challenge card's no-JS path redirects with its message.
    response = clients[upload.role].post(url, data=data, follow=True)
    assert response.status_code < 500
    return response, _media() - before_files, before_rows


def _assert_reencoded(files: set[Path]) -> None:
    assert files, "nothing was stored"
    for path in files:
        raw = path.read_bytes()
        for marker in (PAYLOAD, b"<script", b"<svg", b"PK\x03\x04", b"<html"):
            assert marker not in raw, f"{path.name} keeps {marker!r}"
        with Image.open(io.BytesIO(raw)) as image:
            expected = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[path.suffix.lstrip(".")]
            assert image.format == expected
            image.load()
        # The image ends where its format says: nothing appended after the last chunk.
        assert raw.endswith((b"IEND\xaeB`\x82", b"\xff\xd9")) or path.suffix == ".webp"


@pytest.mark.parametrize("name", UPLOADS)
def test_a_real_image_is_stored_reencoded(clients, name) -> None:
    response, files, _ = _post(clients, name, "ok.png", png_bytes(), "image/png")
    assert response.redirect_chain, response.content.decode()[:2000]
    _assert_reencoded(files)


@pytest.mark.parametrize("name", UPLOADS)
@pytest.mark.parametrize("hostile", HOSTILE_FILES, ids=list(HOSTILE_FILES))
def test_hostile_files_are_refused_or_stored_reencoded(clients, name, hostile) -> None:
    filename, make, content_type = HOSTILE_FILES[hostile]
    response, files, before_rows = _post(clients, name, filename, make(), content_type)
    if files:
        _assert_reencoded(files)  # e.g. a JPEG with HTML appended: only the pixels remain
        return
    assert not changed(before_rows, table_counts())
    page = response.content.decode()
    assert any(reason in page for reason in REASONS), page[:3000]


@pytest.mark.parametrize("name", UPLOADS)
def test_svg_is_never_stored(clients, name) -> None:
    for filename in ("logo.svg", "logo.png", "logo.jpg"):
        response, files, _ = _post(
            clients, name, filename, HOSTILE_FILES["svg with script"][1](), "image/svg+xml"
        )
        assert not files
        assert "Upload a JPEG, PNG or WebP image." in response.content.decode()


@pytest.mark.parametrize("name", UPLOADS)
def test_a_file_over_the_limit_is_refused_clearly(clients, name, settings) -> None:
    settings.AVATAR_MAX_BYTES = SMALL_LIMIT
    noise = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert out.tell() > SMALL_LIMIT
    response, files, before_rows = _post(clients, name, "big.png", out.getvalue(), "image/png")
    assert "too large" in response.content.decode()
    assert not files
    assert not changed(before_rows, table_counts())


@pytest.mark.parametrize("name", UPLOADS)
def test_an_image_over_the_pixel_limit_is_refused(clients, name, settings) -> None:
    settings.IMAGE_MAX_PIXELS = 10_000
    response, files, before_rows = _post(
        clients, name, "wide.png", png_bytes(200, 100), "image/png"
    )
    assert "too many pixels" in response.content.decode()
    assert not files
    assert not changed(before_rows, table_counts())
