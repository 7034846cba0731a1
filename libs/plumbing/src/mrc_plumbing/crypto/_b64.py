"""Base64 helpers shared by the package."""

from __future__ import annotations

import base64
import binascii


def b64url_encode(data: bytes) -> str:
    """URL-safe base64 without padding: fits in tokens, ids and Kafka keys unescaped."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of `b64url_encode`; raises `ValueError` on anything that is not strict base64url."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError("not base64url") from exc
    padded = raw + b"=" * (-len(raw) % 4)
    try:
        data = base64.b64decode(padded, altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def b64_decode_secret(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional, as operators paste keys into configuration."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc
