"""Uploads in an S3-compatible bucket, so several web hosts share them.

The bucket is moto's S3 server on loopback (the S3 REST API as boto3 speaks it to AWS:
the same signed requests, the same XML answers), standing in for AWS S3, MinIO or R2.
"""

from __future__ import annotations

import html
import io
import json
import re
import urllib.request

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image

from tests.integration.processes import free_port
from tests.settings_process import settings_process

BUCKET = "vouch-media-test"
KEY_ID, SECRET = "test-key-id", "test-secret-key"


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_media(settings, s3_endpoint):
    settings.STORAGES = settings.STORAGES | {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": KEY_ID,
                "secret_key": SECRET,
                "location": "media",
                "querystring_auth": True,
                "file_overwrite": False,
                "default_acl": None,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        }
    }
    return s3_endpoint


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.django_db
def test_an_avatar_is_stored_in_the_bucket_and_served_from_it(
    s3_media, advocate, advocate_client
) -> None:
    upload = SimpleUploadedFile("me.png", _png(), "image/png")
    response = advocate_client.post(
        reverse("advocates:profile"),
        {
            "title": "Head of Data",
            "seniority": "vp",
            "industry": "Retail",
            "bio": "",
            "linkedin_url": "",
            "reference_max_calls_per_90d": "3",
            "avatar_upload": upload,
        },
    )
    assert response.status_code == 302
    advocate.refresh_from_db()
    listed = boto3.client(
        "s3",
        endpoint_url=s3_media,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    ).list_objects_v2(Bucket=BUCKET, Prefix="media/avatars/")
    keys = {item["Key"] for item in listed.get("Contents", [])}
    assert f"media/{advocate.avatar.name}" in keys
    assert f"media/{advocate.avatar_thumbnail.name}" in keys
    # Nothing on this host's disk: another web host serves the same picture.
    assert not (django_settings.MEDIA_ROOT / advocate.avatar.name).exists()

    page = advocate_client.get(reverse("advocates:hub")).content.decode()
    # The page's own link (signed when the page was drawn; its signature has a timestamp).
    src = re.search(r'<img class="avatar[^"]*" src="([^"]+)"', page)
    assert src is not None, "the hub shows no avatar"
    url = html.unescape(src[1])
    assert url.startswith(f"{s3_media}/{BUCKET}/media/avatars/thumbs/")
    assert "X-Amz-Signature=" in url  # signed: evidence and avatars are not public
    with urllib.request.urlopen(url, timeout=10) as fetched:  # noqa: S310 - loopback
        image = Image.open(io.BytesIO(fetched.read()))
    assert image.format == "PNG"
    assert max(image.size) <= 192


def _settings_value(code: str, **env: str) -> str:
    result = settings_process(code, DEBUG="true", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "origins"),
    [
        ({"S3_ENDPOINT_URL": "https://minio.internal:9000"}, ["https://minio.internal:9000"]),
        ({"S3_CUSTOM_DOMAIN": "media.example.com"}, ["https://media.example.com"]),
        (
            {"S3_REGION": "eu-west-1"},
            ["https://b.s3.amazonaws.com", "https://b.s3.eu-west-1.amazonaws.com"],
        ),
    ],
)
def test_pages_may_show_images_from_the_bucket_and_nowhere_else(env, origins) -> None:
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    )
    img_src = json.loads(_settings_value(code, MEDIA_STORAGE="s3", S3_BUCKET="b", **env))
    assert img_src == ["'self'", "data:", *origins]


def test_an_unknown_media_storage_is_refused() -> None:
    result = settings_process("", DEBUG="true", MEDIA_STORAGE="ftp")
    assert result.returncode != 0
    assert "MEDIA_STORAGE='ftp': use file or s3." in result.stderr
