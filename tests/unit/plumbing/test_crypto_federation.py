from __future__ import annotations

import base64
import logging
import os

import pytest

from mrc_plumbing.crypto import (
    CryptoConfigError,
    CryptoSettings,
    DecryptionError,
    FederationCipher,
    FieldCipher,
    InMemoryDataKeyStore,
    KeyRing,
    MasterKeys,
    UnknownFederationKey,
    federation_key_id,
    is_federation_token,
)
from mrc_plumbing.crypto._b64 import b64url_decode, b64url_encode

KEY_A = os.urandom(32)
KEY_B = os.urandom(32)
NAME = "सुनीता देवी"
FIELD = "worker.full_name/w-1"


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.fixture
def cipher() -> FederationCipher:
    return FederationCipher({"fed-a": KEY_A}, "fed-a")


def test_round_trip_across_processes_holding_the_same_key(cipher: FederationCipher) -> None:
    token = cipher.seal(FIELD, NAME)
    assert is_federation_token(token)
    assert token.startswith("fed:v1:fed-a:")
    assert NAME not in token
    # Another state's process, configured with the same key, opens it.
    kerala = FederationCipher.from_settings(CryptoSettings(federation_keys=f"fed-a:{b64(KEY_A)}"))  # type: ignore[arg-type]
    assert kerala.open(FIELD, token) == NAME
    assert cipher.seal(FIELD, NAME) != token, "a fresh nonce per token"


def test_absent_stays_absent(cipher: FederationCipher) -> None:
    assert cipher.seal(FIELD, "") == ""
    assert cipher.open(FIELD, "") == ""


def test_a_token_opens_only_in_the_field_and_record_it_was_sealed_for(cipher: FederationCipher) -> None:
    token = cipher.seal(FIELD, NAME)
    for other in ("worker.father_or_spouse_name/w-1", "worker.full_name/w-2", "grievance.account/w-1"):
        with pytest.raises(DecryptionError, match="does not open") as raised:
            cipher.open(other, token)
        assert NAME not in str(raised.value)


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
def test_tampered_payload_does_not_open(cipher: FederationCipher, position: int) -> None:
    token = cipher.seal(FIELD, NAME)
    prefix, payload = token.rsplit(":", 1)
    blob = bytearray(b64url_decode(payload))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.open(FIELD, f"{prefix}:{b64url_encode(bytes(blob))}")


def test_an_edited_header_does_not_open() -> None:
    # Two keys under one process: moving a token to the other key id fails, as does an unknown id.
    both = FederationCipher({"fed-a": KEY_A, "fed-b": KEY_B}, "fed-a")
    token = both.seal(FIELD, NAME)
    with pytest.raises(DecryptionError):
        both.open(FIELD, token.replace("fed:v1:fed-a:", "fed:v1:fed-b:"))
    with pytest.raises(UnknownFederationKey):
        both.open(FIELD, token.replace("fed:v1:fed-a:", "fed:v1:fed-z:"))


@pytest.mark.parametrize(
    "value",
    [NAME, "fed:v1:", "fed:v1:fed-a", "fed:v1:fed a:AAAA", "fed:v1:fed-a:not base64!", "fed:v1:fed-a:AAAA", "enc:v1:x"],
)
def test_malformed_tokens_are_refused_without_echoing_them(cipher: FederationCipher, value: str) -> None:
    with pytest.raises(DecryptionError) as raised:
        cipher.open(FIELD, value)
    assert NAME not in str(raised.value)


def test_the_state_field_cipher_and_the_federation_cipher_do_not_mix(cipher: FederationCipher) -> None:
    state = FieldCipher(KeyRing(InMemoryDataKeyStore(), MasterKeys({"m": os.urandom(32)}, "m")))
    with pytest.raises(DecryptionError):
        cipher.open(FIELD, state.encrypt("10", FIELD, NAME))
    with pytest.raises(DecryptionError):
        state.decrypt(FIELD, cipher.seal(FIELD, NAME))


def test_aadhaar_never_crosses_a_border(cipher: FederationCipher) -> None:
    with pytest.raises(ValueError, match="blind index"):
        cipher.seal("worker.aadhaar/w-1", "123412341234")


def test_rotation_keeps_old_tokens_readable_until_the_old_key_is_dropped() -> None:
    # Step 1: the new key is added everywhere, the old one still active.
    before = FederationCipher({"fed-a": KEY_A}, "fed-a")
    old = before.seal(FIELD, NAME)
    # Step 2: the new key is active: new tokens use it, old ones still open and can be resealed.
    during = FederationCipher({"fed-a": KEY_A, "fed-b": KEY_B}, "fed-b")
    new = during.seal(FIELD, NAME)
    assert federation_key_id(new) == "fed-b"
    assert during.open(FIELD, old) == NAME
    assert during.needs_reseal(old) and not during.needs_reseal(new)
    resealed = during.reseal(FIELD, old)
    assert federation_key_id(resealed) == "fed-b" and during.open(FIELD, resealed) == NAME
    assert during.reseal(FIELD, new) == new
    # A process still on step 1 cannot open tokens of the new key: roll step 1 out everywhere first.
    with pytest.raises(UnknownFederationKey, match="fed-b"):
        before.open(FIELD, new)
    # Step 3: the old key is dropped; anything left under it is refused, and says which key it needs.
    after = FederationCipher({"fed-b": KEY_B}, "fed-b")
    assert after.open(FIELD, resealed) == NAME
    with pytest.raises(UnknownFederationKey, match="fed-a"):
        after.open(FIELD, old)


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRC_FEDERATION_KEYS", f"fed-2026a:{b64(KEY_A)}, fed-2026b:{b64(KEY_B)}")
    monkeypatch.setenv("MRC_FEDERATION_KEY_ACTIVE", "fed-2026b")
    cipher = FederationCipher.from_settings()
    assert cipher.ids == {"fed-2026a", "fed-2026b"}
    assert cipher.active_id == "fed-2026b"
    assert b64(KEY_A) not in repr(cipher) and b64(KEY_A) not in repr(CryptoSettings())


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        (f"a:{b64(KEY_A)},b:{b64(KEY_B)}", "", "MRC_FEDERATION_KEY_ACTIVE must be set"),
        (f"a:{b64(KEY_A)}", "b", "not among"),
        (f"a:{b64(KEY_A)},a:{b64(KEY_B)}", "a", "twice"),
        (b64(KEY_A), "", "id:base64key"),
        ("a:" + b64(b"short"), "a", "32 bytes"),
        ("a:not base64!", "a", "not valid base64"),
        (f"a b:{b64(KEY_A)}", "a b", "must match"),
        ("", "", "no federation key"),
    ],
)
def test_bad_configuration_fails_without_leaking(keys: str, active: str, message: str) -> None:
    settings = CryptoSettings(federation_keys=keys, federation_key_active=active)  # type: ignore[arg-type]
    with pytest.raises(CryptoConfigError, match=message) as raised:
        FederationCipher.from_settings(settings)
    assert b64(KEY_A) not in str(raised.value) and b64(KEY_B) not in str(raised.value)


def test_the_dev_key_works_warns_and_is_refused_where_keys_are_required(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MRC_FEDERATION_KEYS", "MRC_FEDERATION_KEY_ACTIVE", "MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS"):
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level(logging.WARNING):
        cipher = FederationCipher.from_settings()
    assert cipher.active_id == "dev-insecure"
    assert cipher.open(FIELD, cipher.seal(FIELD, NAME)) == NAME
    assert "INSECURE" in caplog.text and "MRC_FEDERATION_KEYS" in caplog.text
    with pytest.raises(CryptoConfigError, match="MRC_FEDERATION_KEYS is not set"):
        FederationCipher.from_settings(CryptoSettings(crypto_require_configured_keys=True))
