"""One call to get a service's crypto from its database and the environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from mrc_plumbing.crypto.blind_index import BlindIndexer
from mrc_plumbing.crypto.field_cipher import FieldCipher
from mrc_plumbing.crypto.key_store import MongoDataKeyStore
from mrc_plumbing.crypto.keyring import KeyRing
from mrc_plumbing.crypto.master_keys import MasterKeys
from mrc_plumbing.crypto.settings import CryptoSettings


@dataclass(frozen=True)
class Crypto:
    keyring: KeyRing
    cipher: FieldCipher
    blind_indexer: BlindIndexer


def build_crypto(db: Database[Any], settings: CryptoSettings | None = None) -> Crypto:
    """Data keys in `db["data_keys"]`, master and blind index keys from `MRC_*` (see `CryptoSettings`)."""
    settings = settings or CryptoSettings()
    keyring = KeyRing(
        MongoDataKeyStore(db), MasterKeys.from_settings(settings), refresh_seconds=settings.data_key_refresh_seconds
    )
    return Crypto(keyring=keyring, cipher=FieldCipher(keyring), blind_indexer=BlindIndexer.from_settings(settings))
