"""Program settings and single-tenant branding: the console page, /brand.css, the header
and the emails, and the colours derived from the one a manager picks."""

from __future__ import annotations

import io
import re
import struct
import zlib
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from core import branding
from core.models import AuditEntry, ProgramSettings

URL = reverse("core:settings")
CSS = reverse("core:brand_css")


def _png(size: tuple[int, int] = (900, 300), *, with_exif: bool = True) -> bytes:
    image = Image.new("RGBA", size, (10, 120, 200, 255))
    image.paste((0, 0, 0, 0), (0, 0, 60, 60))  # a transparent corner to keep
    out = io.BytesIO()
    extra = {}
    if with_exif:
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}
        extra["exif"] = exif.tobytes()
    image.save(out, "PNG", **extra)
    return out.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _data(**extra: object) -> dict:
    return {
        "name": "Acme Champions",
        "primary_color": "#0f766e",
        "fatigue_cap_per_week": "3",
        "max_deal_amount": "100000000.00",
        "max_points_per_event": "1000000",
    } | extra


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- The page -------------------------------------------------------------------------


def test_the_page_shows_the_current_settings(manager_client) -> None:
    ProgramSettings(pk=1, name="Friends of Acme", primary_color="#be123c").save()
    body = manager_client.get(URL).content.decode()
    assert 'value="Friends of Acme"' in body
    assert 'type="color"' in body
    assert 'value="#be123c"' in body
    assert 'value="2"' in body  # the default fatigue cap


def test_saving_changes_name_colour_and_cap_everywhere_and_audits_it(
    manager, manager_client, advocate_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(URL, _data(), follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Program settings saved." in response.content.decode()

    program = ProgramSettings.load()
    assert (program.name, program.primary_color, program.fatigue_cap_per_week) == (
        "Acme Champions",
        "#0f766e",
        3,
    )
    assert program.updated_by == manager
    entry = AuditEntry.objects.get(action="settings.change")
    assert entry.actor == manager
    assert entry.target_type == "core.programsettings"
    assert entry.target_id == "1"
    assert entry.detail == {
        "name": {"from": "", "to": "Acme Champions"},
        "primary_color": {"from": "#4338ca", "to": "#0f766e"},
        "fatigue_cap_per_week": {"from": 2, "to": 3},
    }

    # An advocate's page: the name in the header and title, the colour via the stylesheet.
    page = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert '<span class="brand__name">Acme Champions</span>' in page
    assert "· Acme Champions</title>" in page
    link = re.search(r'<link rel="stylesheet" href="(/brand\.css\?v=\d+)">', page)
    assert link, "base.html links the brand stylesheet"
    assert "#0f766e" not in page.replace('content="#0f766e"', ""), "no inline colour"
    css = advocate_client.get(link.group(1)).content.decode()
    assert "--brand:#0f766e;" in css


def test_saving_nothing_new_writes_no_audit_entry(manager_client) -> None:
    manager_client.post(URL, _data())
    manager_client.post(URL, _data())
    assert AuditEntry.objects.filter(action="settings.change").count() == 1


@pytest.mark.parametrize(
    "colour", ["red", "#12345", "#1234567", "#gggggg", "4338ca", "#4338ca;}body{x:y", ""]
)
def test_a_bad_colour_is_a_form_error_and_changes_nothing(manager_client, colour: str) -> None:
    response = manager_client.post(URL, _data(primary_color=colour))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing was saved" in body
    assert "Use a hex colour such as #4338ca." in body or "This field is required." in body
    program = ProgramSettings.load()
    assert (program.name, program.primary_color) == ("", "#4338ca")
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("cap", ["-1", "51", "two", ""])
def test_a_bad_fatigue_cap_is_a_form_error(manager_client, cap: str) -> None:
    response = manager_client.post(URL, _data(fatigue_cap_per_week=cap))
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert ProgramSettings.load().fatigue_cap_per_week == 2


def test_a_manager_sets_the_reward_limits(manager_client) -> None:
    body = manager_client.get(URL).content.decode()
    assert "Maximum deal amount" in body
    assert "Maximum points per event" in body
    response = manager_client.post(
        URL, _data(max_deal_amount="2500000.50", max_points_per_event="5000")
    )
    assert response.status_code == 302
    program = ProgramSettings.load()
    assert (program.max_deal_amount, program.max_points_per_event) == (Decimal("2500000.50"), 5000)
    change = AuditEntry.objects.get(action="settings.change").detail
    assert change["max_deal_amount"] == {"from": "100000000.00", "to": "2500000.50"}
    assert change["max_points_per_event"] == {"from": 1000000, "to": 5000}


def test_a_manager_sets_the_points_for_an_accepted_answer(manager_client) -> None:
    assert "Points for an accepted answer" in manager_client.get(URL).content.decode()
    assert manager_client.post(URL, _data(accepted_answer_points="40")).status_code == 302
    assert ProgramSettings.load().accepted_answer_points == 40
    # Left empty, it stays as it is; a negative number is refused.
    manager_client.post(URL, _data())
    assert ProgramSettings.load().accepted_answer_points == 40
    response = manager_client.post(URL, _data(accepted_answer_points="-1"))
    assert response.status_code == 200
    assert ProgramSettings.load().accepted_answer_points == 40


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_deal_amount", "0", "Ensure this value is greater than or equal to 1."),
        ("max_deal_amount", "1000000000.01", "less than or equal to 1000000000.00"),
        ("max_deal_amount", "lots", "Enter a number."),
        ("max_deal_amount", "", "This field is required."),
        ("max_points_per_event", "0", "Ensure this value is greater than or equal to 1."),
        ("max_points_per_event", "10000001", "less than or equal to 10000000"),
        ("max_points_per_event", "1.5", "Enter a whole number."),
    ],
)
def test_a_bad_reward_limit_is_a_form_error_and_changes_nothing(
    manager_client, field: str, value: str, message: str
) -> None:
    response = manager_client.post(URL, _data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    program = ProgramSettings.load()
    assert (program.max_deal_amount, program.max_points_per_event) == (
        Decimal("100000000.00"),
        1_000_000,
    )
    assert program.name == ""
    assert not AuditEntry.objects.exists()


def test_the_service_refuses_bad_reward_limits_even_without_the_form(manager) -> None:
    for limits in ({"max_deal_amount": Decimal("NaN")}, {"max_points_per_event": 2**31}):
        with pytest.raises(ValidationError):
            branding.program_settings_update(
                actor=manager, name="x", primary_color="#0f766e", fatigue_cap_per_week=2, **limits
            )
    assert ProgramSettings.load().name == ""


def test_the_service_refuses_a_bad_colour_even_without_the_form(manager) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        branding.program_settings_update(
            actor=manager, name="x", primary_color="url(evil)", fatigue_cap_per_week=2
        )
    assert ProgramSettings.load().name == ""


# --- The logo -------------------------------------------------------------------------


def test_a_logo_is_reencoded_without_metadata_and_shown_in_header_and_emails(
    manager_client, advocate_client
) -> None:
    original = _png()
    assert Image.open(io.BytesIO(original)).getexif()  # the EXIF is there before
    upload = SimpleUploadedFile("logo.png", original, "image/png")
    assert manager_client.post(URL, _data(logo_upload=upload)).status_code == 302

    program = ProgramSettings.load()
    assert program.logo.name.startswith("branding/")
    assert program.logo.name.endswith(".png")
    with Image.open(program.logo.path) as stored:
        assert stored.format == "PNG"
        assert stored.size == (400, 133)  # at most 400 px, aspect ratio kept
        assert not stored.getexif()
        assert stored.convert("RGBA").getpixel((0, 0))[3] == 0  # transparency kept
    assert Path(program.logo.path).read_bytes() != original
    entry = AuditEntry.objects.get(action="settings.change")
    assert entry.detail["logo"] == {"from": "", "to": program.logo.name}

    page = advocate_client.get(reverse("advocates:hub")).content.decode()
    assert f'<img class="brand__logo" src="{program.logo.url}"' in page

    # Emails carry the logo as an absolute URL, the name and the colour.
    from core.mail import send_templated

    send_templated(
        to="x@example.com",
        template="invitation",
        context={
            "invitation": SimpleNamespace(first_name="Nia"),
            "inviter": None,
            "url": "http://t/j",
            "expires_days": 7,
            "welcome_points": 50,
        },
    )
    html = mail.outbox[-1].alternatives[0][0]
    assert f'src="{settings.SITE_URL}{program.logo.url}"' in html
    assert "Acme Champions" in html
    assert "Acme Champions" in mail.outbox[-1].body
    assert "#0f766e" in html
    assert "#4338ca" not in html


def test_a_new_logo_replaces_the_old_file_and_remove_clears_it(
    manager_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(URL, _data(logo_upload=SimpleUploadedFile("a.png", _png())))
    first = Path(ProgramSettings.load().logo.path)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(
            URL, _data(logo_upload=SimpleUploadedFile("b.png", _png(with_exif=False)))
        )
    assert not first.exists()
    assert len(_stored_files()) == 1
    page = manager_client.get(URL).content.decode()
    assert "Remove the current logo" in page
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(URL, _data(remove_logo="on"))
    assert not ProgramSettings.load().logo
    assert _stored_files() == []


def _svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("logo.svg", _svg, "Upload a JPEG, PNG or WebP image."),
        ("logo.png", _svg, "Upload a JPEG, PNG or WebP image."),  # SVG renamed .png
        ("logo.gif", _gif, "Upload a JPEG, PNG or WebP image."),
        ("notes.png", lambda: b"plain text " * 50, "Upload a JPEG, PNG or WebP image."),
        ("bomb.png", lambda: _png_declaring(50_000, 50_000), "too many pixels"),
        ("broken.png", lambda: _png()[:300], "Upload a JPEG, PNG or WebP image."),
    ],
    ids=["svg", "svg-as-png", "gif", "text", "bomb", "truncated"],
)
def test_a_bad_logo_is_a_clear_error_and_changes_nothing(
    manager_client, name: str, make, message: str
) -> None:
    response = manager_client.post(
        URL, _data(logo_upload=SimpleUploadedFile(name, make(), "image/png"))
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "Nothing was saved" in body
    program = ProgramSettings.load()
    assert (program.name, program.primary_color, program.logo.name) == ("", "#4338ca", "")
    assert _stored_files() == []
    assert not AuditEntry.objects.exists()


def test_a_logo_over_the_size_limit_is_refused(manager_client, settings) -> None:
    settings.AVATAR_MAX_BYTES = 1000
    response = manager_client.post(URL, _data(logo_upload=SimpleUploadedFile("l.png", _png())))
    assert "The image is too large" in response.content.decode()
    assert not ProgramSettings.load().logo


# --- /brand.css -----------------------------------------------------------------------


def test_brand_css_is_public_cached_and_revalidated(client, manager) -> None:
    response = client.get(CSS)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert response.content.decode().startswith(":root{--brand:#4338ca;--brand-ink:#ffffff;")
    assert response["Cache-Control"] == "public, max-age=300"
    etag, modified = response["ETag"], response["Last-Modified"]
    assert client.get(CSS, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(CSS, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304

    branding.program_settings_update(
        actor=manager, name="", primary_color="#facc15", fatigue_cap_per_week=2
    )
    changed = client.get(CSS, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    # Yellow: dark text on it, and links use a darker shade than the colour itself.
    css = changed.content.decode()
    assert "--brand:#facc15;--brand-ink:#111827;" in css
    assert "--brand-text:#facc15" not in css


def test_the_versioned_url_is_cached_for_long(db, client) -> None:
    from core.branding import brand_version

    version = brand_version(ProgramSettings.load())
    response = client.get(CSS, {"v": version})
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.post(CSS).status_code == 405


def test_pages_read_the_branding_from_the_cache_not_the_database(advocate_client) -> None:
    url = reverse("advocates:profile")
    advocate_client.get(url)  # the first request caches the settings row
    with CaptureQueriesContext(connection) as queries:
        advocate_client.get(url)
    assert not [q for q in queries if "campaigns_programsettings" in q["sql"]]


# --- Colours: readable whatever a manager picks ---------------------------------------

colours = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06x}")


@given(colours)
def test_every_derived_colour_keeps_text_readable(colour: str) -> None:
    p = branding.palette(colour)
    assert p.ink in {branding.WHITE, branding.NEAR_BLACK, branding.BLACK}
    assert branding.contrast(p.brand, p.ink) >= 4.5  # button text
    assert branding.contrast(p.gradient_end, p.ink) >= 4.5  # the hero card's far end
    assert branding.contrast(p.strong, p.soft) >= 4.5  # selected tab, badges
    assert branding.contrast(p.strong, branding.WHITE) >= 4.5  # hover: white on strong
    assert branding.contrast(p.text, branding.PAGE_BG) >= 4.5  # links
    assert branding.contrast(p.text, branding.WHITE) >= 4.5


@pytest.mark.parametrize(
    ("colour", "ink"),
    [
        ("#4338ca", "#ffffff"),  # the default indigo
        ("#000000", "#ffffff"),
        ("#ffffff", "#111827"),
        ("#facc15", "#111827"),  # yellow
        ("#ff0000", "#000000"),  # pure red: near-black falls just short, black does not
    ],
)
def test_text_on_the_brand_colour_is_white_or_near_black(colour: str, ink: str) -> None:
    assert branding.ink_on(colour) == ink


def test_contrast_matches_the_wcag_reference_values() -> None:
    assert branding.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert branding.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert branding.contrast("#4338ca", "#4338ca") == pytest.approx(1.0)
