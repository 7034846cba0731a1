import base64
import hashlib
import json

import jwt

from mrc_access.domain.signing_key import SigningKey, key_id, published_keys
from tests.unit.access.fakes import GRACE, OPERATOR, START, Platform


def test_jwk_is_a_p256_signature_key_named_by_its_thumbprint() -> None:
    key = SigningKey.generate(START)
    jwk = key.public_jwk()
    assert set(jwk) == {"kid", "kty", "crv", "x", "y", "use", "alg"}
    assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("EC", "P-256", "sig", "ES256")
    thumbprint_input = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = base64.urlsafe_b64encode(hashlib.sha256(thumbprint_input.encode()).digest()).decode().rstrip("=")
    assert jwk["kid"] == digest == key_id(key.public_key)
    assert jwt.PyJWK(jwk).key_id == key.kid  # PyJWT (and so other services) can load it


def test_a_fresh_ring_makes_its_first_key() -> None:
    platform = Platform()
    assert len(platform.key_store.keys) == 1
    assert platform.key_ring.public_jwks()["keys"][0]["kid"] == platform.key_store.keys[0].kid


def test_rotation_keeps_the_old_key_published_for_the_grace_period() -> None:
    platform = Platform()
    old = platform.key_ring.signing_key()
    old_token = platform.operator_token()
    platform.clock.advance(60)
    new = platform.key_ring.rotate(OPERATOR)
    assert platform.key_ring.signing_key().kid == new.kid
    assert [k["kid"] for k in platform.key_ring.public_jwks()["keys"]] == [new.kid, old.kid]
    assert jwt.get_unverified_header(platform.operator_token())["kid"] == new.kid
    platform.verifier.verify(old_token)  # still verifies: its key is still published
    platform.clock.advance(GRACE.total_seconds() - 10)
    assert [k["kid"] for k in platform.key_ring.public_jwks()["keys"]] == [new.kid, old.kid]
    platform.clock.advance(10)
    assert [k["kid"] for k in platform.key_ring.public_jwks()["keys"]] == [new.kid]


def test_grace_counts_from_the_successor_not_from_the_key_itself() -> None:
    keys = [SigningKey.generate(START), SigningKey.generate(START + GRACE), SigningKey.generate(START + 2 * GRACE)]
    newest_first = list(reversed(keys))
    assert published_keys(newest_first, now=START + 2 * GRACE, grace=GRACE) == [keys[2], keys[1]]
    assert published_keys(newest_first, now=START + 3 * GRACE, grace=GRACE) == [keys[2]]
    assert published_keys([], now=START, grace=GRACE) == []


def test_keys_are_read_from_the_store_at_most_every_five_seconds() -> None:
    platform = Platform()
    platform.key_ring.public_jwks()
    reads = platform.key_store.reads
    platform.clock.advance(4.9)
    platform.key_ring.public_jwks()
    assert platform.key_store.reads == reads
    # Another replica rotates: this one notices within the cache period.
    platform.key_store.add(SigningKey.generate(platform.clock()))
    platform.clock.advance(0.1)
    assert len(platform.key_ring.public_jwks()["keys"]) == 2
    assert platform.key_store.reads == reads + 1


def test_a_key_rotated_elsewhere_verifies_before_the_cache_expires() -> None:
    platform = Platform()
    platform.key_ring.published()
    other = SigningKey.generate(platform.clock())
    platform.key_store.add(other)
    platform.clock.advance(1)
    assert platform.key_ring.verification_key(other.kid) is not None
    reads = platform.key_store.reads
    platform.key_ring.verification_key("made-up")  # an unknown kid reloads at most once a second
    platform.key_ring.verification_key("made-up")
    assert platform.key_store.reads == reads
