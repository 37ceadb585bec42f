"""Image uploads: decoded by Pillow, never trusted by name or declared type.

An upload is accepted only if Pillow decodes it fully as JPEG, PNG or WebP within
the size and pixel limits; it is then re-encoded (dropping EXIF and any other
metadata or trailing bytes) and a thumbnail is made.
"""

from __future__ import annotations

import io
import uuid
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
NOT_AN_IMAGE = gettext_lazy("Upload a JPEG, PNG or WebP image.")


def decode_image(upload: UploadedFile, *, max_bytes: int) -> Image.Image:
    """Decode an upload into a Pillow image, or raise ValidationError with a clear reason."""
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            _("The image is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {"size": f"{upload.size / 1_048_576:.1f}", "limit": f"{max_bytes / 1_048_576:.0f}"}
        )
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(
            _("The image is too large; the limit is %(limit)s MB.")
            % {"limit": f"{max_bytes / 1_048_576:.0f}"}
        )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse it all.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ALLOWED_FORMATS:
                raise ValidationError(NOT_AN_IMAGE)
            if probe.width * probe.height > settings.IMAGE_MAX_PIXELS:
                raise ValidationError(_("The image has too many pixels. Use a smaller image."))
            probe.verify()  # checks the structure; the image must be reopened after it
            image = Image.open(io.BytesIO(data))
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_("The image has too many pixels. Use a smaller image.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(NOT_AN_IMAGE) from None
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=88)
    return out.getvalue()


def _decoded_for_web(upload: UploadedFile, *, max_side: int) -> tuple[Image.Image, str]:
    image = decode_image(upload, max_bytes=settings.AVATAR_MAX_BYTES)
    fmt = image.format or "PNG"
    image = ImageOps.exif_transpose(image)  # keep the orientation, then drop the EXIF
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.thumbnail((max_side, max_side))
    return image, fmt


def reencode_image(upload: UploadedFile, *, max_side: int) -> ContentFile:
    """An uploaded image decoded, scaled to ``max_side`` and re-encoded under a random name.

    Used for every image a user uploads (challenge evidence, reward pictures): only the
    pixels survive, never EXIF, comments or bytes appended to the file.
    """
    image, fmt = _decoded_for_web(upload, max_side=max_side)
    return ContentFile(_encode(image, fmt), name=f"{uuid.uuid4().hex}.{ALLOWED_FORMATS[fmt]}")


def process_avatar(upload: UploadedFile) -> tuple[ContentFile, ContentFile]:
    """The re-encoded avatar (at most 512 px) and its 96 px square thumbnail."""
    image, fmt = _decoded_for_web(upload, max_side=512)
    thumb = ImageOps.fit(image, (96, 96))
    stem = uuid.uuid4().hex
    ext = ALLOWED_FORMATS[fmt]
    return (
        ContentFile(_encode(image, fmt), name=f"{stem}.{ext}"),
        ContentFile(_encode(thumb, fmt), name=f"{stem}_96.{ext}"),
    )
