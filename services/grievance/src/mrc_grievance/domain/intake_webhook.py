"""IVR and SMS gateways: how their deliveries are verified, and what they carry. Pure: time is passed in.

The scheme is Standard Webhooks' symmetric one (standardwebhooks.com, spec 1.0), which most gateways can
be configured for or wrapped in:

    POST /v1/intake/messages
    webhook-id:        msg_2KWPBgLlAfxdpx2AI54pPJ85f4W   (the gateway's message id; letters, digits, _ and -)
    webhook-timestamp: 1767225600                        (Unix seconds when the gateway sent it)
    webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{raw body}">
    content-type:      application/json

The HMAC covers the timestamp and the body (and the id, so a replayed body cannot be passed off under a
new id). The shared secret is at least 24 random bytes per gateway; the header may carry several
signatures separated by spaces, and several secrets may be configured, so a secret is rotated without
downtime. A delivery is refused (401, one answer for every reason, so a prober learns nothing) when the
signature does not match, or its timestamp is more than `TOLERANCE` (5 minutes) away from now. A delivery
whose id was already accepted is refused as a replay (409): the service remembers each accepted id until
its timestamp leaves the tolerance window (`replay_record`), after which the timestamp alone refuses it.

The body (UTF-8 JSON, at most 64 KiB):

    {
      "message_id":    "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",  // the same as webhook-id
      "kind":          "ivr" | "sms",
      "caller_number": "+919876543210",                   // as the network gave it, 6-15 digits
      "language":      "hi",                              // ISO 639-1/-3 of the message or IVR menu
      "text":          "...",                             // the SMS, or the IVR transcription if any
      "recording_ref": "rec/2026/01/01/abc.wav",          // IVR: where the gateway keeps the recording
      "received_at":   "2026-01-01T00:00:00Z",            // when the gateway received it (RFC 3339)
      "state_code":    "10", "district_code": "212"       // optional: from the IVR menu or the line's district
    }

At least one of `text` and `recording_ref` is needed. The caller number, the text and the recording
reference are sealed by the service layer before a case is opened; none is ever published or logged.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mrc_grievance.domain.vocabulary import IntakeChannel
from mrc_kernel.errors import AlreadyExists, FieldViolation, InvalidArgument, Unauthenticated
from mrc_kernel.place import Place

SIGNATURE_VERSION = "v1"
TOLERANCE = timedelta(minutes=5)
MAX_BODY_BYTES = 64 * 1024
MIN_SECRET_BYTES = 24
MAX_TEXT_LENGTH = 4000
MAX_REFERENCE_LENGTH = 500

_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_CALLER_NUMBER = re.compile(r"^\+?[0-9]{6,15}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class RefusalReason(enum.StrEnum):
    """Why a delivery was refused: for the service's logs and metrics, never for the caller."""

    MALFORMED_HEADERS = "malformed_headers"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"
    TOO_LARGE = "too_large"


class DeliveryRefused(Unauthenticated):
    def __init__(self, reason: RefusalReason) -> None:
        super().__init__("the delivery's signature could not be verified")
        self.reason = reason


class DeliveryReplayed(AlreadyExists):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"message {message_id} was already received")
        self.message_id = message_id


@dataclass(frozen=True)
class VerifiedDelivery:
    message_id: str
    sent_at: datetime


def signed_content(message_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + body


def sign(body: bytes, message_id: str, timestamp: int, secret: bytes) -> str:
    """The `webhook-signature` value a gateway sends (also what tests and the gateway set-up guide use)."""
    digest = hmac.new(secret, signed_content(message_id, str(timestamp), body), hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def _presented_signatures(header: str) -> list[bytes]:
    found = []
    for item in header.split():
        version, _, value = item.partition(",")
        if version != SIGNATURE_VERSION:
            continue  # another scheme (e.g. v1a, asymmetric) we do not use
        try:
            found.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify_delivery(
    *,
    body: bytes,
    message_id: str,
    timestamp: str,
    signature: str,
    secrets: Sequence[bytes],
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> VerifiedDelivery:
    """Check a delivery's signature and freshness; raises `DeliveryRefused` (401) when either fails."""
    if not secrets or any(len(secret) < MIN_SECRET_BYTES for secret in secrets):
        raise ValueError(f"each intake secret must be at least {MIN_SECRET_BYTES} bytes")
    if len(body) > MAX_BODY_BYTES:
        raise DeliveryRefused(RefusalReason.TOO_LARGE)
    if not _MESSAGE_ID.match(message_id) or not _TIMESTAMP.match(timestamp):
        raise DeliveryRefused(RefusalReason.MALFORMED_HEADERS)
    presented = _presented_signatures(signature)
    content = signed_content(message_id, timestamp, body)
    expected = [hmac.new(secret, content, hashlib.sha256).digest() for secret in secrets]
    # Every pair is compared (no early exit), each in constant time.
    matched = [hmac.compare_digest(e, p) for e in expected for p in presented]
    if not any(matched):
        raise DeliveryRefused(RefusalReason.BAD_SIGNATURE)
    sent_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - sent_at) > tolerance:
        raise DeliveryRefused(RefusalReason.STALE)
    return VerifiedDelivery(message_id, sent_at)


@dataclass(frozen=True)
class ReplayRecord:
    """What the service must remember to refuse a replay: insert `key` once (a second insert is the replay),
    and it may forget it after `forget_after`, when the timestamp check alone refuses the delivery."""

    key: str
    forget_after: datetime


def replay_record(delivery: VerifiedDelivery, tolerance: timedelta = TOLERANCE) -> ReplayRecord:
    return ReplayRecord(f"intake-message:{delivery.message_id}", delivery.sent_at + tolerance)


def refuse_replay(delivery: VerifiedDelivery, *, already_seen: bool) -> None:
    if already_seen:
        raise DeliveryReplayed(delivery.message_id)


# --- the payload ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeMessage:
    message_id: str
    channel: IntakeChannel  # IVR or SMS
    caller_number: str
    language: str
    text: str
    recording_ref: str
    received_at: datetime
    place: Place | None  # None: the service uses the line's own district


def _string(payload: dict[str, Any], name: str, problems: list[FieldViolation]) -> str:
    value = payload.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(FieldViolation(name, "must be a string"))
        return ""
    return value.strip()


def parse_intake_message(body: bytes, delivery: VerifiedDelivery) -> IntakeMessage:
    """The verified body as a message; raises InvalidArgument naming every bad field."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidArgument.for_field("body", "must be a UTF-8 JSON object") from error
    if not isinstance(payload, dict):
        raise InvalidArgument.for_field("body", "must be a UTF-8 JSON object")
    problems: list[FieldViolation] = []
    message_id = _string(payload, "message_id", problems)
    if message_id != delivery.message_id:
        problems.append(FieldViolation("message_id", "must be the webhook-id the delivery was signed with"))
    kind = _string(payload, "kind", problems)
    channel = {"ivr": IntakeChannel.IVR, "sms": IntakeChannel.SMS}.get(kind)
    if channel is None:
        problems.append(FieldViolation("kind", "must be 'ivr' or 'sms'"))
    caller_number = _string(payload, "caller_number", problems).replace(" ", "")
    if not _CALLER_NUMBER.match(caller_number):
        problems.append(FieldViolation("caller_number", "must be 6 to 15 digits, optionally after a +"))
    language = _string(payload, "language", problems).lower()
    if not _LANGUAGE.match(language):
        problems.append(FieldViolation("language", "an ISO 639 code such as 'hi', 'bho', 'mai'"))
    text = _string(payload, "text", problems)
    recording_ref = _string(payload, "recording_ref", problems)
    if not text and not recording_ref:
        problems.append(FieldViolation("text", "a text or a recording_ref is needed"))
    if len(text) > MAX_TEXT_LENGTH:
        problems.append(FieldViolation("text", f"must be at most {MAX_TEXT_LENGTH} characters"))
    if len(recording_ref) > MAX_REFERENCE_LENGTH:
        problems.append(FieldViolation("recording_ref", f"must be at most {MAX_REFERENCE_LENGTH} characters"))
    received_at = _received_at(_string(payload, "received_at", problems), problems)
    state_code = _string(payload, "state_code", problems)
    district_code = _string(payload, "district_code", problems)
    place = Place(state_code, district_code) if state_code or district_code else None
    if place is not None:
        problems.extend(
            FieldViolation(v.field.removeprefix("place."), v.description) for v in place.violations("place")
        )
    if problems or channel is None or received_at is None:
        raise InvalidArgument(problems)
    return IntakeMessage(message_id, channel, caller_number, language, text, recording_ref, received_at, place)


def _received_at(text: str, problems: list[FieldViolation]) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        problems.append(FieldViolation("received_at", "must be an RFC 3339 date-time with its offset"))
        return None
    if value.tzinfo is None:
        problems.append(FieldViolation("received_at", "must carry its UTC offset"))
        return None
    return value.astimezone(UTC)
