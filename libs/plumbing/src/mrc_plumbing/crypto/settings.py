"""Keys read from the environment with the `MRC_` prefix.

    MRC_MASTER_KEYS="k2026a:<base64 of 32 bytes>,k2026b:<base64 of 32 bytes>"
    MRC_MASTER_KEY_ACTIVE=k2026b
    MRC_BLIND_INDEX_KEY=<base64 of at least 32 bytes>
    MRC_ID_DERIVATION_KEY=<base64 of at least 32 bytes>
    MRC_FEDERATION_KEYS="fed-2026a:<base64 of 32 bytes>"   (the same in every state cluster)
    MRC_FEDERATION_KEY_ACTIVE=fed-2026a

Several master keys may be listed so that a rotation needs no downtime: data keys are wrapped with
the active one, and data keys wrapped with any listed one still unwrap. Left unset, the values
below are public, INSECURE development keys: they let a laptop or CI run the platform, log a
warning wherever they are used, and are refused when `MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS=true`
(set it in every real cluster).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# INSECURE development defaults: published in the source, they protect nothing.
DEV_MASTER_KEY_ID = "dev-insecure"
DEV_MASTER_KEYS = "dev-insecure:TVJDLURFVi1JTlNFQ1VSRS1NQVNURVItS0VZLTAwMDE="  # b"MRC-DEV-INSECURE-MASTER-KEY-0001"
DEV_BLIND_INDEX_KEY = "TVJDLURFVi1JTlNFQ1VSRS1CTElORC1JTkRFWC1LRVk="  # b"MRC-DEV-INSECURE-BLIND-INDEX-KEY"
DEV_ID_DERIVATION_KEY = "TVJDLURFVi1JTlNFQ1VSRS1JRC1ERVJJVkFUSU9OLUtF"  # b"MRC-DEV-INSECURE-ID-DERIVATION-KE"
DEV_FEDERATION_KEYS = "dev-insecure:TVJDLURFVi1JTlNFQ1VSRS1GRURFUkFUSU9OLTAwMDE="  # b"MRC-DEV-INSECURE-FEDERATION-0001"


class CryptoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_", extra="ignore")

    # Comma-separated `id:base64key` pairs; each key is 32 random bytes (AES-256).
    master_keys: SecretStr = SecretStr(DEV_MASTER_KEYS)
    # Id of the master key that wraps new data keys; may be left empty when only one key is listed.
    master_key_active: str = ""
    # Secret of the blind indexes (base64, at least 32 bytes); the same in every state cluster.
    blind_index_key: SecretStr = SecretStr(DEV_BLIND_INDEX_KEY)
    # Secret of ids derived from idempotency keys (base64, at least 32 bytes): a retry maps to the same
    # record, yet nobody without it can compute another partner's ids. The same on every replica, for good.
    id_derivation_key: SecretStr = SecretStr(DEV_ID_DERIVATION_KEY)
    # Keys of the tokens that cross state borders (mrc_plumbing.crypto.federation): comma-separated
    # `id:base64key` pairs of 32 random bytes, the SAME in every state cluster; rotatable like the master keys.
    federation_keys: SecretStr = SecretStr(DEV_FEDERATION_KEYS)
    # Id of the federation key that seals new tokens; may be left empty when only one key is listed.
    federation_key_active: str = ""
    # How often each replica re-reads the active data key version, so replicas converge after a rotation.
    data_key_refresh_seconds: float = Field(default=60.0, gt=0)
    # Refuse to start with the development keys above; true in every real cluster.
    crypto_require_configured_keys: bool = False

    def uses_dev_master_keys(self) -> bool:
        return self.master_keys.get_secret_value() == DEV_MASTER_KEYS

    def uses_dev_id_derivation_key(self) -> bool:
        return self.id_derivation_key.get_secret_value() == DEV_ID_DERIVATION_KEY

    def uses_dev_blind_index_key(self) -> bool:
        return self.blind_index_key.get_secret_value() == DEV_BLIND_INDEX_KEY

    def uses_dev_federation_keys(self) -> bool:
        return self.federation_keys.get_secret_value() == DEV_FEDERATION_KEYS
