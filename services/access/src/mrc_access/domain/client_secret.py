"""Client secrets: generated once, handed out once, kept only as a salted scrypt hash."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets

SECRET_BYTES = 32
SALT_BYTES = 16
HASH_BYTES = 32
# scrypt parameters (RFC 7914) as OWASP recommends for interactive logins; stored with each hash
# so they can be raised later without invalidating existing secrets.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCHEME = "scrypt"


def new_client_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_client_secret(secret: str) -> str:
    """`scrypt$n$r$p$salt$hash`, base64url without padding."""
    salt = os.urandom(SALT_BYTES)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES)
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def client_secret_matches(secret: str, stored_hash: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored_hash.split("$")
        if scheme != SCHEME:
            return False
        digest = hashlib.scrypt(
            secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(expected))
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, _unb64(expected))


@functools.cache
def _decoy_hash() -> str:
    return hash_client_secret(new_client_secret())


def spend_equal_time() -> None:
    """Do the work of a secret check for a client that does not exist, so timing does not reveal client ids."""
    client_secret_matches("", _decoy_hash())
