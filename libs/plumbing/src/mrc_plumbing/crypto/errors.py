"""Errors of the crypto package.

None of them is a `DomainError`: a value that does not decrypt is the platform's fault (lost key,
corrupted or tampered data), never the caller's, so entrypoints map them to an internal error.
Messages name the field, state and key version at most; never key material, plaintext or tokens.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error raised by `mrc_plumbing.crypto`."""


class CryptoConfigError(CryptoError):
    """Master keys or the blind index key are missing or malformed."""


class UnknownMasterKey(CryptoError):
    """A data key is wrapped with a master key that is not configured in this process."""


class DecryptionError(CryptoError):
    """A token cannot be decrypted: not a token, tampered, moved to another field, or unknown key."""


class UnknownDataKey(DecryptionError):
    """A token names a (state, key version) for which the key store holds no data key."""
