"""Field encryption for data that could expose a migrant worker: envelope encryption, blind indexes.

- `MasterKeys` (from `MRC_MASTER_KEYS`) wrap data keys and nothing else.
- `KeyRing` keeps one active AES-256 data key per state, stored wrapped in `data_keys`.
- `FieldCipher` turns a field value into a token `enc:v1:<state>:<version>:...` and back.
- `BlindIndexer` gives keyed hashes for matching without decryption (same key in every state).
- `FederationCipher` (from `MRC_FEDERATION_KEYS`) seals names and case text that cross to another state's
  cluster as tokens `fed:v1:<key id>:...` (same key in every state).

Aadhaar numbers are never stored: only `BlindIndexer.index("aadhaar", ...)` and `last4(...)`.
"""

from mrc_plumbing.crypto.blind_index import BlindIndexer, last4
from mrc_plumbing.crypto.errors import CryptoConfigError, CryptoError, DecryptionError, UnknownDataKey, UnknownMasterKey
from mrc_plumbing.crypto.federation import (
    FEDERATION_TOKEN_PREFIX,
    FederationCipher,
    UnknownFederationKey,
    federation_key_id,
    is_federation_token,
)
from mrc_plumbing.crypto.field_cipher import TOKEN_PREFIX, FieldCipher, TokenInfo, is_token, token_info
from mrc_plumbing.crypto.key_store import (
    DATA_KEYS_COLLECTION,
    DataKeyExists,
    DataKeyRecord,
    DataKeyStore,
    InMemoryDataKeyStore,
    StoreDataKeyStore,
)
from mrc_plumbing.crypto.keyring import KeyRing
from mrc_plumbing.crypto.master_keys import MasterKeys
from mrc_plumbing.crypto.settings import CryptoSettings
from mrc_plumbing.crypto.wiring import Crypto, build_crypto

__all__ = [
    "DATA_KEYS_COLLECTION",
    "FEDERATION_TOKEN_PREFIX",
    "TOKEN_PREFIX",
    "BlindIndexer",
    "Crypto",
    "CryptoConfigError",
    "CryptoError",
    "CryptoSettings",
    "DataKeyExists",
    "DataKeyRecord",
    "DataKeyStore",
    "DecryptionError",
    "FederationCipher",
    "FieldCipher",
    "InMemoryDataKeyStore",
    "KeyRing",
    "MasterKeys",
    "StoreDataKeyStore",
    "TokenInfo",
    "UnknownDataKey",
    "UnknownFederationKey",
    "UnknownMasterKey",
    "build_crypto",
    "federation_key_id",
    "is_federation_token",
    "is_token",
    "last4",
    "token_info",
]
