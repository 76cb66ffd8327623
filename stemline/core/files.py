"""Documents that travel through the API (vendor invoices, proofs of delivery): how they are
decoded from a request and checked by their content, shared by purchasing and sales."""

import base64
import binascii
import io
from typing import Any

from PIL import Image

from .errors import Invalid

MAX_FILE_BYTES = 20 * 1024 * 1024  # the reference's 20 MB for file-in-bytes uploads (§1.5)
PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}


class TooLarge(Invalid):
    """The file is over MAX_FILE_BYTES; the API answers it with 413."""

    code = "too_large"


def _byte(value) -> int:
    number = int(str(value).strip())
    if not -128 <= number <= 255:
        raise ValueError(number)
    return number % 256  # Java's signed bytes: -30 is 226


def decode(value: Any, field: str) -> bytes:
    """The file as Komet sends it (a byte array: JSON numbers or their comma-separated text,
    signed or not) or as base64 text (a data: URL too)."""
    if value is None or value == "" or value == []:
        raise Invalid("the file is required (empty or missing)", field=field)
    if isinstance(value, list):
        numbers = value
    elif isinstance(value, str) and value.startswith("data:"):
        value = value.partition(",")[2]
        numbers = None
    elif isinstance(value, str) and "," in value[:20]:
        numbers = value.split(",")
    else:
        numbers = None
    if numbers is not None:
        if len(numbers) > MAX_FILE_BYTES:
            raise TooLarge("the file is larger than 20 MB", field=field)
        try:
            return bytes(_byte(n) for n in numbers)
        except (ValueError, TypeError):
            raise Invalid("must be a byte array (numbers from -128 to 255)", field=field) from None
    if not isinstance(value, str):
        raise Invalid("must be a byte array or base64 text", field=field)
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("must be a byte array or base64 text", field=field) from None


def from_request(request, value: Any, field: str) -> bytes:
    """The file of a request: a multipart part named `field`, else the parameter's value."""
    upload = request.FILES.get(field) if request is not None else None
    if upload is not None:
        if upload.size > MAX_FILE_BYTES:
            raise TooLarge("the file is larger than 20 MB", field=field)
        data = upload.read()
    else:
        data = decode(value, field)
    if not data:
        raise Invalid("the file is empty", field=field)
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge("the file is larger than 20 MB", field=field)
    return data


def sniff(data: bytes, field: str = "attachment") -> str:
    """The file's type by its content, never by its name: PDF, PNG or JPEG, images checked to
    decode."""
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise Invalid("the PDF is truncated (no %%EOF marker)", field=field)
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG
    elif data.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    else:
        raise Invalid("must be a PDF, PNG or JPEG file (checked by its content)", field=field)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception as exc:  # Pillow raises many kinds for a broken file
        raise Invalid(f"the image cannot be read: {exc}", field=field) from exc
    return kind
