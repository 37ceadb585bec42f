"""Hostile values for form fields, JSON bodies and files (Hypothesis strategies)."""

from __future__ import annotations

import io
import os
import zipfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Reproducible in CI: the same inputs every run (derandomize), no example database,
# no per-example deadline (a shared 2-core machine is slow at times). Raise the
# number of examples locally with HOSTILE_EXAMPLES=200 for a deeper search.
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "12"))


def hostile_settings(max_examples: int = EXAMPLES) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # each example rolls back its writes
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
]
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(1)", '=HYPERLINK("http://evil")']
REDIRECTS = ["//evil.com", "https://evil.com", "/\\evil.com", "javascript:alert(1)"]

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n\r\n",
    "\u202e\u0000\ufeff",
    "🙂" * 50,
    "A" * 100_000,
    "é" * 20_000,
    "0",
    "-1",
    "-0",
    "1e309",
    "NaN",
    "Infinity",
    "-9223372036854775809",
    "9223372036854775808",
    str(2**64),
    "9" * 5000,
    "0.0000000001",
    "1,000",
    "0x10",
    "true",
    "on",
    "null",
    "[]",
    "{}",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "2026-13-01",
    "-1-01-01",
    "9999-12-31T23:59:59+14:00",
    "1970-01-01T00:00:00",
    "../../../etc/passwd",
    "%00",
    "%s%s%n",
    "{{ request }}",
    *XSS,
    *FORMULAS,
    *REDIRECTS,
]

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
)
scalar = st.one_of(st.sampled_from(SPECIAL), text, numbers, dates)


def field_value(options: list[str]) -> st.SearchStrategy:
    """A value for one field: one of its own options (to get past the first check) or
    anything, and now and then several values where one is expected."""
    one = st.one_of(st.sampled_from(options), scalar) if options else scalar
    return st.one_of(one, one, st.lists(one, min_size=0, max_size=3))


# --- files -------------------------------------------------------------------------------


def png_bytes(width: int = 8, height: int = 8, fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def jpeg_bytes(width: int = 8, height: int = 8) -> bytes:
    return png_bytes(width, height, "JPEG")


PAYLOAD = b"<html><script>alert(document.cookie)</script></html>"


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("Evil.class", b"\xca\xfe\xba\xbe" + b"\x00" * 32)
    return out.getvalue()


def png_bomb() -> bytes:
    """A tiny PNG whose header claims 100,000 x 100,000 pixels (no pixel data)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)

# (name, bytes, content type) — every one must be refused or stored re-encoded.
HOSTILE_FILES = {
    "jpeg+html polyglot": ("photo.jpg", lambda: jpeg_bytes() + PAYLOAD, "image/jpeg"),
    "png+zip (gifar-like)": ("photo.png", lambda: png_bytes() + zip_bytes(), "image/png"),
    "html named .png": ("photo.png", lambda: PAYLOAD, "image/png"),
    "svg with script": ("logo.svg", lambda: SVG, "image/svg+xml"),
    "svg named .png": ("logo.png", lambda: SVG, "image/png"),
    "png bomb 100k x 100k": ("bomb.png", png_bomb, "image/png"),
    "zip named .jpg": ("photo.jpg", zip_bytes, "image/jpeg"),
    "empty file": ("empty.png", lambda: b"", "image/png"),
    "truncated png": ("cut.png", lambda: png_bytes(64, 64)[:60], "image/png"),
    "gif (not allowed)": ("anim.gif", lambda: png_bytes(8, 8, "GIF"), "image/gif"),
    "png named .html": ("page.html", png_bytes, "text/html"),
    "path traversal in the name": ("../../../../tmp/evil.png", png_bytes, "image/png"),
}

file_bytes = st.one_of(
    st.binary(max_size=2048),
    st.sampled_from([v[1] for v in HOSTILE_FILES.values()]).map(lambda make: make()),
    st.just(png_bytes()),
)
