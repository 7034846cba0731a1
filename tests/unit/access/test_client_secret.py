import pytest

from mrc_access.domain import client_secret
from mrc_access.domain.client_secret import client_secret_matches, hash_client_secret, new_client_secret


def test_secrets_are_long_and_unique() -> None:
    secrets = {new_client_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) >= 43 for s in secrets)  # 32 random bytes, base64url


def test_hash_is_salted_scrypt_at_the_recommended_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_secret, "SCRYPT_N", 2**14)
    first, second = hash_client_secret("s3cret"), hash_client_secret("s3cret")
    assert first != second  # a fresh salt each time
    scheme, n, r, p, _salt, _digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert "s3cret" not in first
    assert client_secret_matches("s3cret", first) and client_secret_matches("s3cret", second)


def test_wrong_or_malformed_never_matches() -> None:
    stored = hash_client_secret("right")
    assert not client_secret_matches("wrong", stored)
    assert not client_secret_matches("", stored)
    for broken in ("", "plain", "pbkdf2$1$2$3$abc$def", stored.rsplit("$", 1)[0], "scrypt$x$8$1$abc$def"):
        assert not client_secret_matches("right", broken)


def test_cost_parameters_are_read_from_the_stored_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    old = hash_client_secret("s")
    monkeypatch.setattr(client_secret, "SCRYPT_N", 2**9)
    assert client_secret_matches("s", old)
