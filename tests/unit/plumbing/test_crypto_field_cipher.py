from __future__ import annotations

import os

import pytest

from mrc_plumbing.crypto import (
    DecryptionError,
    FieldCipher,
    InMemoryDataKeyStore,
    KeyRing,
    MasterKeys,
    UnknownDataKey,
    is_token,
    token_info,
)
from mrc_plumbing.crypto._b64 import b64url_decode, b64url_encode

PHONE = "+919812345678"
NOTE = "Reported by Sunita: contractor in Surat holds 14 workers' papers, पैसा नहीं दिया"


def make_cipher(store: InMemoryDataKeyStore | None = None) -> FieldCipher:
    master = MasterKeys({"m1": os.urandom(32)}, "m1")
    return FieldCipher(KeyRing(store or InMemoryDataKeyStore(), master))


@pytest.fixture
def cipher() -> FieldCipher:
    return make_cipher()


def test_round_trip(cipher: FieldCipher) -> None:
    for field, value in [("phone", PHONE), ("case_note", NOTE), ("reporter_name", "x")]:
        token = cipher.encrypt("09", field, value)
        assert is_token(token)
        assert token.startswith("enc:v1:09:1:")
        assert cipher.decrypt(field, token) == value


def test_none_and_empty_pass_through(cipher: FieldCipher) -> None:
    assert cipher.encrypt("09", "phone", None) is None
    assert cipher.encrypt("09", "phone", "") == ""
    assert cipher.decrypt("phone", None) is None
    assert cipher.decrypt("phone", "") == ""
    assert cipher.reencrypt("phone", None) is None


def test_tokens_never_contain_the_plaintext_and_differ_each_time(cipher: FieldCipher) -> None:
    first = cipher.encrypt("09", "phone", PHONE)
    second = cipher.encrypt("09", "phone", PHONE)
    assert first != second  # random nonce: equal values are not linkable through their tokens
    for token in (first, second):
        assert PHONE not in token
        assert "9812345678" not in token
        assert "98123" not in token
    assert "Sunita" not in cipher.encrypt("09", "case_note", NOTE)


def test_token_describes_state_and_version_only(cipher: FieldCipher) -> None:
    info = token_info(cipher.encrypt("27", "phone", PHONE))
    assert (info.state_code, info.key_version) == ("27", 1)


def test_tampered_ciphertext_fails(cipher: FieldCipher) -> None:
    token = cipher.encrypt("09", "phone", PHONE)
    head, payload = token.rsplit(":", 1)
    blob = bytearray(b64url_decode(payload))
    for position in (0, 15, len(blob) - 1):  # nonce, ciphertext, tag
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionError, match="does not decrypt"):
            cipher.decrypt("phone", f"{head}:{b64url_encode(bytes(tampered))}")
    with pytest.raises(DecryptionError):
        cipher.decrypt("phone", f"{head}:{b64url_encode(bytes(blob[:-1]))}")


def test_value_moved_to_another_field_fails(cipher: FieldCipher) -> None:
    token = cipher.encrypt("09", "phone", PHONE)
    with pytest.raises(DecryptionError, match="'case_note'"):
        cipher.decrypt("case_note", token)


def test_token_relabelled_to_another_state_fails() -> None:
    store = InMemoryDataKeyStore()
    cipher = make_cipher(store)
    token = cipher.encrypt("09", "phone", PHONE)
    cipher.encrypt("27", "phone", PHONE)  # state 27 gets its own data key
    with pytest.raises(DecryptionError, match="27:1"):
        cipher.decrypt("phone", token.replace("enc:v1:09:", "enc:v1:27:"))


def test_other_deployment_keys_cannot_decrypt(cipher: FieldCipher) -> None:
    token = cipher.encrypt("09", "phone", PHONE)
    stranger = make_cipher()
    stranger.encrypt("09", "phone", "+911111111111")  # its own state 09 key
    with pytest.raises(DecryptionError):
        stranger.decrypt("phone", token)


def test_unknown_key_version_fails(cipher: FieldCipher) -> None:
    token = cipher.encrypt("09", "phone", PHONE)
    with pytest.raises(UnknownDataKey):
        cipher.decrypt("phone", token.replace("enc:v1:09:1:", "enc:v1:09:7:"))


@pytest.mark.parametrize(
    "value",
    [
        PHONE,  # plaintext stored by mistake must not pass through as if decrypted
        "enc:v2:09:1:AAAA",
        "enc:v1:09:1",
        "enc:v1:09:01:" + "A" * 40,
        "enc:v1:09:x:" + "A" * 40,
        "enc:v1:0 9:1:" + "A" * 40,
        "enc:v1:09:1:***",
        "enc:v1:09:1:AAAA",
    ],
)
def test_malformed_tokens_fail_without_echoing_them(cipher: FieldCipher, value: str) -> None:
    with pytest.raises(DecryptionError) as raised:
        cipher.decrypt("phone", value)
    assert PHONE not in str(raised.value)


def test_aadhaar_is_never_encrypted_for_storage(cipher: FieldCipher) -> None:
    with pytest.raises(ValueError, match="Aadhaar"):
        cipher.encrypt("09", "aadhaar", "123412341234")
    with pytest.raises(ValueError, match="Aadhaar"):
        cipher.encrypt("09", "Aadhaar_Number", "123412341234")


def test_bad_state_code_and_empty_field_are_refused(cipher: FieldCipher) -> None:
    with pytest.raises(ValueError, match="state code"):
        cipher.encrypt("09:2", "phone", PHONE)
    with pytest.raises(ValueError, match="field"):
        cipher.encrypt("09", "", PHONE)
