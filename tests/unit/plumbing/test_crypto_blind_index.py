from __future__ import annotations

import os
import re

import pytest

from mrc_plumbing.crypto import BlindIndexer, CryptoConfigError, last4

PHONE = "+919812345678"


@pytest.fixture
def indexer() -> BlindIndexer:
    return BlindIndexer(os.urandom(32))


def test_deterministic_per_kind(indexer: BlindIndexer) -> None:
    assert indexer.index("phone", PHONE) == indexer.index("phone", PHONE)
    # Another process with the same secret (another state's cluster) computes the same index.
    secret = os.urandom(32)
    assert BlindIndexer(secret).index("phone", PHONE) == BlindIndexer(secret).index("phone", PHONE)


def test_differs_across_kinds_values_and_secrets(indexer: BlindIndexer) -> None:
    assert indexer.index("phone", PHONE) != indexer.index("aadhaar", PHONE)
    assert indexer.index("phone", PHONE) != indexer.index("phone", "+919812345679")
    assert indexer.index("phone", PHONE) != BlindIndexer(os.urandom(32)).index("phone", PHONE)


def test_shape_and_never_the_plaintext(indexer: BlindIndexer) -> None:
    for kind, value in [("phone", PHONE), ("aadhaar", "123412341234"), ("name", "Ramesh Kumar")]:
        index = indexer.index(kind, value)
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", index)
        assert index != value
        assert value.lstrip("+") not in index


def test_matches_the_documented_construction() -> None:
    import base64
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    secret = bytes(range(32))
    subkey = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"phone").derive(secret)
    expected = base64.urlsafe_b64encode(hmac.new(subkey, PHONE.encode(), hashlib.sha256).digest()).decode()[:32]
    assert BlindIndexer(secret).index("phone", PHONE) == expected


def test_empty_values_and_kinds_are_refused(indexer: BlindIndexer) -> None:
    with pytest.raises(ValueError, match="empty"):
        indexer.index("phone", "")
    with pytest.raises(ValueError, match="kind"):
        indexer.index("", PHONE)


def test_short_secret_is_refused() -> None:
    with pytest.raises(CryptoConfigError):
        BlindIndexer(os.urandom(16))


def test_repr_hides_the_secret() -> None:
    secret = os.urandom(32)
    assert secret.hex() not in repr(BlindIndexer(secret))


def test_last4() -> None:
    assert last4("1234 5678 9012") == "9012"
    assert last4("123456789012") == "9012"
    with pytest.raises(ValueError, match="four digits"):
        last4("12-3")
