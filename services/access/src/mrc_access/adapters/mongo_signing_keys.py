"""Signing keys in the document store: the private half encrypted at rest (PKCS#8, with a key derived from
the configured secret)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mongoengine import BooleanField, DateTimeField, DictField, Document, ListField, StringField

from mrc_access.domain.signing_key import SigningKey
from mrc_kernel import claims
from mrc_kernel.events import Event
from mrc_plumbing.store import DocumentStore
from mrc_plumbing.store.schema import collection_of, indexes_of


class SigningKeyDocument(Document):  # type: ignore[misc]
    """A key and, until the outbox relay has published it, the audit event of its creation."""

    meta = {
        "collection": "signing_keys",
        "indexes": [{"fields": ["-created_at"], "name": "newest_first"}],
    }
    id = StringField(primary_key=True)  # the key id (RFC 7638 thumbprint)
    algorithm = StringField(required=True)
    encrypted_private_key = StringField(required=True)  # PEM, "ENCRYPTED PRIVATE KEY"
    created_at = DateTimeField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def encrypt_private_key(key: ec.EllipticCurvePrivateKey, secret: bytes) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    ).decode()


def decrypt_private_key(pem: str, secret: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=secret)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("stored signing key is not an EC key")
    return key


class StoredSigningKeys:
    def __init__(self, store: DocumentStore, encryption_secret: str) -> None:
        self._keys = store.collection(collection_of(SigningKeyDocument))
        self._secret = encryption_secret.encode()
        # Keys never change once stored; decrypt each one once per process.
        self._decrypted: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    def ensure_indexes(self) -> None:
        self._keys.ensure_indexes(indexes_of(SigningKeyDocument))

    def add(self, key: SigningKey, *, audit: Sequence[Event] = ()) -> None:
        doc = SigningKeyDocument(
            id=key.kid,
            algorithm=claims.ALGORITHM,
            encrypted_private_key=encrypt_private_key(key.private_key, self._secret),
            created_at=key.created_at,
        )
        doc.validate()
        self._keys.insert(doc.to_mongo().to_dict(), events=audit)

    def newest_first(self) -> Iterator[SigningKey]:
        for doc in self._keys.find({}, sort=[("created_at", -1), ("_id", -1)], exclude=["outbox"]):
            yield self._key(doc)

    def _key(self, doc: dict[str, Any]) -> SigningKey:
        with self._lock:
            if (known := self._decrypted.get(doc["_id"])) is not None:
                return known
        created_at: datetime = doc["created_at"]
        key = SigningKey(
            kid=doc["_id"],
            private_key=decrypt_private_key(doc["encrypted_private_key"], self._secret),
            created_at=created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC),
        )
        with self._lock:
            self._decrypted[key.kid] = key
        return key
