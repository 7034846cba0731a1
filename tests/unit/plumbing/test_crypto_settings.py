from __future__ import annotations

import base64
import logging
import os

import pytest

from mrc_plumbing.crypto import (
    BlindIndexer,
    CryptoConfigError,
    CryptoSettings,
    FieldCipher,
    InMemoryDataKeyStore,
    KeyRing,
    MasterKeys,
)

KEY_A = base64.b64encode(os.urandom(32)).decode()
KEY_B = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def test_master_keys_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRC_MASTER_KEYS", f"k2026a:{KEY_A}, k2026b:{KEY_B}")
    monkeypatch.setenv("MRC_MASTER_KEY_ACTIVE", "k2026b")
    keys = MasterKeys.from_settings(CryptoSettings())
    assert keys.ids == {"k2026a", "k2026b"}
    assert keys.active_id == "k2026b"
    assert KEY_A not in repr(CryptoSettings())


def test_single_master_key_is_active_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRC_MASTER_KEYS", f"only:{KEY_A}")
    monkeypatch.delenv("MRC_MASTER_KEY_ACTIVE", raising=False)
    assert MasterKeys.from_settings(CryptoSettings()).active_id == "only"


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        (f"a:{KEY_A},b:{KEY_B}", "", "MRC_MASTER_KEY_ACTIVE must be set"),
        (f"a:{KEY_A}", "b", "not among"),
        (f"a:{KEY_A},a:{KEY_B}", "a", "twice"),
        (KEY_A, "", "id:base64key"),
        ("a:" + base64.b64encode(b"short").decode(), "a", "32 bytes"),
        ("a:not base64!", "a", "not valid base64"),
        (f"a b:{KEY_A}", "a b", "must match"),
    ],
)
def test_bad_master_key_configuration_fails_without_leaking(keys: str, active: str, message: str) -> None:
    with pytest.raises(CryptoConfigError, match=message) as raised:
        MasterKeys.from_settings(CryptoSettings(master_keys=keys, master_key_active=active))  # type: ignore[arg-type]
    assert KEY_A not in str(raised.value) and KEY_B not in str(raised.value)


def test_dev_defaults_work_and_warn(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MRC_MASTER_KEYS", "MRC_MASTER_KEY_ACTIVE", "MRC_BLIND_INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = CryptoSettings()
    with caplog.at_level(logging.WARNING):
        master = MasterKeys.from_settings(settings)
        indexer = BlindIndexer.from_settings(settings)
    assert sum("INSECURE" in r.getMessage() for r in caplog.records) == 2
    cipher = FieldCipher(KeyRing(InMemoryDataKeyStore(), master))
    assert cipher.decrypt("phone", cipher.encrypt("09", "phone", "+919812345678")) == "+919812345678"
    assert len(indexer.index("phone", "+919812345678")) == 32


def test_dev_defaults_refused_when_configured_keys_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MRC_MASTER_KEYS", "MRC_MASTER_KEY_ACTIVE", "MRC_BLIND_INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS", "true")
    with pytest.raises(CryptoConfigError, match="MRC_MASTER_KEYS"):
        MasterKeys.from_settings(CryptoSettings())
    with pytest.raises(CryptoConfigError, match="MRC_BLIND_INDEX_KEY"):
        BlindIndexer.from_settings(CryptoSettings())


def test_configured_keys_do_not_warn(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRC_MASTER_KEYS", f"k1:{KEY_A}")
    monkeypatch.setenv("MRC_BLIND_INDEX_KEY", KEY_B)
    monkeypatch.setenv("MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS", "true")
    monkeypatch.setenv("MRC_DATA_KEY_REFRESH_SECONDS", "5")
    settings = CryptoSettings()
    assert settings.data_key_refresh_seconds == 5
    with caplog.at_level(logging.WARNING):
        MasterKeys.from_settings(settings)
        BlindIndexer.from_settings(settings)
    assert not [r for r in caplog.records if "INSECURE" in r.getMessage()]
