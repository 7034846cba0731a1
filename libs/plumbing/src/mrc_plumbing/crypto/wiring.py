"""One call to get a service's crypto from its database and the environment."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mrc_kernel.idempotency import IdDeriver
from mrc_plumbing.crypto._b64 import b64_decode_secret
from mrc_plumbing.crypto.blind_index import BlindIndexer
from mrc_plumbing.crypto.errors import CryptoConfigError
from mrc_plumbing.crypto.field_cipher import FieldCipher
from mrc_plumbing.crypto.key_store import StoreDataKeyStore
from mrc_plumbing.crypto.keyring import KeyRing
from mrc_plumbing.crypto.master_keys import MasterKeys
from mrc_plumbing.crypto.settings import CryptoSettings
from mrc_plumbing.store import DocumentStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Crypto:
    keyring: KeyRing
    cipher: FieldCipher
    blind_indexer: BlindIndexer
    ids: IdDeriver


def build_crypto(store: DocumentStore, settings: CryptoSettings | None = None) -> Crypto:
    """Data keys in the store's `data_keys` collection; master and blind index keys from `MRC_*` (`CryptoSettings`)."""
    settings = settings or CryptoSettings()
    keyring = KeyRing(
        StoreDataKeyStore(store), MasterKeys.from_settings(settings), refresh_seconds=settings.data_key_refresh_seconds
    )
    return Crypto(
        keyring=keyring,
        cipher=FieldCipher(keyring),
        blind_indexer=BlindIndexer.from_settings(settings),
        ids=id_deriver(settings),
    )


def id_deriver(settings: CryptoSettings) -> IdDeriver:
    if settings.uses_dev_id_derivation_key():
        if settings.crypto_require_configured_keys:
            raise CryptoConfigError("MRC_ID_DERIVATION_KEY is not set and configured keys are required")
        log.warning("INSECURE: using the public development id derivation key; set MRC_ID_DERIVATION_KEY")
    try:
        return IdDeriver(b64_decode_secret(settings.id_derivation_key.get_secret_value()))
    except ValueError:
        raise CryptoConfigError("MRC_ID_DERIVATION_KEY is not valid base64 of at least 16 bytes") from None
