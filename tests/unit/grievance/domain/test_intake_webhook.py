from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from mrc_grievance.domain.intake_webhook import (
    TOLERANCE,
    DeliveryRefused,
    DeliveryReplayed,
    RefusalReason,
    VerifiedDelivery,
    parse_intake_message,
    refuse_replay,
    replay_record,
    sign,
    verify_delivery,
)
from mrc_grievance.domain.vocabulary import IntakeChannel
from mrc_kernel.errors import ErrorCode, InvalidArgument
from mrc_kernel.place import Place

from .builders import NOW

SECRET = b"gateway-secret-0123456789abcdef"
OLD_SECRET = b"old-gateway-secret-0123456789ab"
MESSAGE_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
SENT = int(NOW.timestamp())


def body(**overrides: Any) -> bytes:
    payload: dict[str, Any] = {
        "message_id": MESSAGE_ID,
        "kind": "sms",
        "caller_number": "+91 98765 43210",
        "language": "hi",
        "text": "Thekedar ne teen mahine se paise nahi diye",
        "received_at": "2026-01-05T08:59:58Z",
    }
    payload.update(overrides)
    return json.dumps({k: v for k, v in payload.items() if v is not ...}).encode()


def verify(raw: bytes, *, signature: str | None = None, timestamp: int = SENT, **overrides: Any) -> VerifiedDelivery:
    arguments: dict[str, Any] = {
        "body": raw,
        "message_id": MESSAGE_ID,
        "timestamp": str(timestamp),
        "signature": signature if signature is not None else sign(raw, MESSAGE_ID, timestamp, SECRET),
        "secrets": [SECRET],
        "now": NOW,
    }
    arguments.update(overrides)
    return verify_delivery(**arguments)


def refused(reason: RefusalReason, raw: bytes, **overrides: Any) -> None:
    with pytest.raises(DeliveryRefused) as caught:
        verify(raw, **overrides)
    assert caught.value.reason is reason
    assert caught.value.code is ErrorCode.UNAUTHENTICATED
    # One answer for every reason: a prober learns nothing.
    assert caught.value.detail == "the delivery's signature could not be verified"


# --- signatures ---------------------------------------------------------------------------------------------


def test_a_well_signed_fresh_delivery_is_accepted() -> None:
    delivery = verify(body())

    assert delivery == VerifiedDelivery(MESSAGE_ID, NOW)


def test_the_signature_is_hmac_sha256_over_id_timestamp_and_body() -> None:
    import base64
    import hashlib
    import hmac

    raw = body()
    expected = hmac.new(SECRET, f"{MESSAGE_ID}.{SENT}.".encode() + raw, hashlib.sha256).digest()

    assert sign(raw, MESSAGE_ID, SENT, SECRET) == "v1," + base64.b64encode(expected).decode()


def test_a_bad_signature_is_refused() -> None:
    raw = body()
    refused(RefusalReason.BAD_SIGNATURE, raw, signature=sign(raw, MESSAGE_ID, SENT, b"x" * 32))
    refused(RefusalReason.BAD_SIGNATURE, raw, signature="v1,bm90IGEgc2lnbmF0dXJl")
    refused(RefusalReason.BAD_SIGNATURE, raw, signature="v1,***")
    refused(RefusalReason.BAD_SIGNATURE, raw, signature="")


def test_a_tampered_body_timestamp_or_id_breaks_the_signature() -> None:
    raw = body()
    signature = sign(raw, MESSAGE_ID, SENT, SECRET)

    refused(RefusalReason.BAD_SIGNATURE, body(text="changed"), signature=signature)
    refused(RefusalReason.BAD_SIGNATURE, raw, signature=signature, timestamp=SENT + 1)
    refused(RefusalReason.BAD_SIGNATURE, raw, signature=signature, message_id="msg_other")


@pytest.mark.parametrize(
    "age", [TOLERANCE + timedelta(seconds=1), -TOLERANCE - timedelta(seconds=1)], ids=["old", "ahead"]
)
def test_a_stale_delivery_is_refused_even_when_well_signed(age: timedelta) -> None:
    sent = int((NOW - age).timestamp())

    refused(RefusalReason.STALE, body(), timestamp=sent)


def test_a_delivery_just_inside_the_tolerance_is_accepted() -> None:
    sent = int((NOW - TOLERANCE).timestamp())

    assert verify(body(), timestamp=sent).sent_at == NOW - TOLERANCE


def test_secrets_rotate_without_downtime() -> None:
    raw = body()
    both = f"{sign(raw, MESSAGE_ID, SENT, OLD_SECRET)} {sign(raw, MESSAGE_ID, SENT, SECRET)}"

    # The gateway signs with both while the service still knows only the old one, and then the other way round.
    assert verify(raw, signature=both, secrets=[OLD_SECRET])
    assert verify(raw, signature=sign(raw, MESSAGE_ID, SENT, OLD_SECRET), secrets=[SECRET, OLD_SECRET])


def test_other_signature_schemes_in_the_header_are_ignored() -> None:
    raw = body()

    assert verify(raw, signature=f"v1a,c29tZXRoaW5n {sign(raw, MESSAGE_ID, SENT, SECRET)}")
    refused(RefusalReason.BAD_SIGNATURE, raw, signature="v1a,c29tZXRoaW5n")


@pytest.mark.parametrize(
    ("message_id", "timestamp"), [("msg.with.dots", str(SENT)), (MESSAGE_ID, "12e9"), ("", str(SENT))]
)
def test_malformed_headers_are_refused(message_id: str, timestamp: str) -> None:
    raw = body()
    with pytest.raises(DeliveryRefused) as caught:
        verify_delivery(
            body=raw, message_id=message_id, timestamp=timestamp, signature="v1,AAAA", secrets=[SECRET], now=NOW
        )
    assert caught.value.reason is RefusalReason.MALFORMED_HEADERS


def test_an_oversized_body_is_refused_before_any_work() -> None:
    refused(RefusalReason.TOO_LARGE, b"x" * (64 * 1024 + 1))


def test_a_short_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="at least 24 bytes"):
        verify(body(), secrets=[b"short"])
    with pytest.raises(ValueError, match="at least 24 bytes"):
        verify(body(), secrets=[])


# --- replays ------------------------------------------------------------------------------------------------


def test_the_domain_says_what_to_remember_and_for_how_long() -> None:
    delivery = verify(body())

    record = replay_record(delivery)

    assert record.key == f"intake-message:{MESSAGE_ID}"
    assert record.forget_after == NOW + TOLERANCE


def test_a_replayed_delivery_is_refused_as_a_conflict() -> None:
    delivery = verify(body())
    remembered: set[str] = set()

    # First delivery: not seen, remembered.
    refuse_replay(delivery, already_seen=replay_record(delivery).key in remembered)
    remembered.add(replay_record(delivery).key)

    # The same signed request again, within the window.
    again = verify(body())
    with pytest.raises(DeliveryReplayed) as caught:
        refuse_replay(again, already_seen=replay_record(again).key in remembered)
    assert caught.value.code is ErrorCode.ALREADY_EXISTS


def test_a_replay_after_the_window_is_refused_by_its_timestamp_alone() -> None:
    raw = body()
    delivery = verify(raw)
    later = replay_record(delivery).forget_after + timedelta(seconds=1)

    refused(RefusalReason.STALE, raw, now=later)


# --- the payload --------------------------------------------------------------------------------------------


def test_the_documented_payload_becomes_a_message() -> None:
    raw = body(kind="ivr", text="", recording_ref="rec/2026/01/05/abc.wav", state_code="10", district_code="212")

    message = parse_intake_message(raw, verify(raw))

    assert message.channel is IntakeChannel.IVR
    assert (message.caller_number, message.language) == ("+919876543210", "hi")
    assert (message.text, message.recording_ref) == ("", "rec/2026/01/05/abc.wav")
    assert message.received_at == NOW - timedelta(seconds=2)
    assert message.place == Place("10", "212")


def test_a_message_without_a_place_leaves_it_to_the_line() -> None:
    raw = body()

    assert parse_intake_message(raw, verify(raw)).place is None


def test_every_bad_field_is_named() -> None:
    raw = body(
        message_id="msg_other",
        kind="fax",
        caller_number="call me",
        language="Hindi",
        text="",
        received_at="yesterday",
        state_code="10",
        district_code="568",
    )

    with pytest.raises(InvalidArgument) as caught:
        parse_intake_message(raw, verify(raw))

    assert [v.field for v in caught.value.violations] == [
        "message_id",
        "kind",
        "caller_number",
        "language",
        "text",
        "received_at",
        "district_code",
    ]


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"[1, 2]", b"{not json"])
def test_a_body_that_is_not_a_json_object_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidArgument, match="JSON object"):
        parse_intake_message(raw, VerifiedDelivery(MESSAGE_ID, NOW))


def test_a_time_without_offset_is_refused() -> None:
    raw = body(received_at="2026-01-05T08:59:58")

    with pytest.raises(InvalidArgument) as caught:
        parse_intake_message(raw, verify(raw))

    assert [v.field for v in caught.value.violations] == ["received_at"]
