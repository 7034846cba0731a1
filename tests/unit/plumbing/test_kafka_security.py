import datetime as dt
import ssl
from pathlib import Path

import faust
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from faust.types.auth import AuthProtocol, SASLMechanism
from pydantic import SecretStr, ValidationError

from mrc_plumbing.faust_app import broker_credentials, create_faust_app
from mrc_plumbing.kafka_security import KafkaSecuritySettings
from mrc_plumbing.settings import InfraSettings


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    """A self-signed CA certificate, as Strimzi's `<cluster>-cluster-ca-cert` holds one."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mrc-test-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _clear_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECURITY_PROTOCOL", "SASL_USERNAME", "SASL_PASSWORD", "SSL_CAFILE", "SSL_CERTFILE", "SSL_KEYFILE"):
        monkeypatch.delenv(f"MRC_KAFKA_{name}", raising=False)


def test_default_is_plaintext_so_the_dev_stack_keeps_working(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_env(monkeypatch)
    security = InfraSettings().kafka_security
    assert security.security_protocol == "PLAINTEXT"
    assert security.kafka_python_kwargs() == {"security_protocol": "PLAINTEXT"}
    assert security.ssl_context() is None
    assert broker_credentials(security) is None


def test_sasl_ssl_from_the_environment(monkeypatch: pytest.MonkeyPatch, ca_file: Path) -> None:
    _clear_env(monkeypatch)
    monkeypatch.setenv("MRC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("MRC_KAFKA_SASL_USERNAME", "mrc-registry")
    monkeypatch.setenv("MRC_KAFKA_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("MRC_KAFKA_SSL_CAFILE", str(ca_file))
    security = InfraSettings().kafka_security
    assert "s3cret" not in repr(security)

    kwargs = security.kafka_python_kwargs()
    context = kwargs.pop("ssl_context")
    assert kwargs == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "mrc-registry",
        "sasl_plain_password": "s3cret",
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "mrc-test-ca"),),)]

    credentials = broker_credentials(security)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol is AuthProtocol.SASL_SSL
    assert credentials.mechanism is SASLMechanism.SCRAM_SHA_512
    assert (credentials.username, credentials.password) == ("mrc-registry", "s3cret")
    # What faust hands to aiokafka's consumer, producer and topic admin.
    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert auth["sasl_plain_username"] == "mrc-registry"
    assert auth["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_the_faust_app_gets_the_credentials(monkeypatch: pytest.MonkeyPatch, ca_file: Path) -> None:
    _clear_env(monkeypatch)
    security = KafkaSecuritySettings(
        security_protocol="SASL_SSL",
        sasl_username="mrc-access-worker",
        sasl_password=SecretStr("pw"),
        ssl_cafile=str(ca_file),
    )
    infra = InfraSettings(kafka_bootstrap_servers="kafka:9092", kafka_security=security)
    app = create_faust_app("mrc-test-security", infra)
    assert isinstance(app.conf.broker_credentials, faust.SASLCredentials)
    assert app.conf.broker_credentials.username == "mrc-access-worker"


def test_tls_without_sasl(ca_file: Path) -> None:
    security = KafkaSecuritySettings(security_protocol="SSL", ssl_cafile=str(ca_file))
    kwargs = security.kafka_python_kwargs()
    assert set(kwargs) == {"security_protocol", "ssl_context"}
    assert kwargs["security_protocol"] == "SSL"
    credentials = broker_credentials(security)
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials_to_aiokafka_auth(credentials)["security_protocol"] == "SSL"


@pytest.mark.parametrize(
    "values",
    [
        {"security_protocol": "SASL_SSL", "sasl_username": "mrc-registry"},  # no password
        {"security_protocol": "SASL_SSL", "sasl_password": "pw"},  # no user
        {"security_protocol": "PLAINTEXT", "sasl_username": "u", "sasl_password": "pw"},  # would go unused
        {"security_protocol": "SSL", "sasl_username": "u", "sasl_password": "pw"},  # SSL has no SASL
        {"security_protocol": "PLAINTEXT", "ssl_cafile": "/ca.crt"},
        {"security_protocol": "SSL", "ssl_certfile": "/client.crt"},  # a certificate needs its key
        {"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u", "sasl_password": "pw"},  # never in clear
        {"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "sasl_username": "u", "sasl_password": "pw"},
    ],
)
def test_inconsistent_settings_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        KafkaSecuritySettings(**values)  # type: ignore[arg-type]
