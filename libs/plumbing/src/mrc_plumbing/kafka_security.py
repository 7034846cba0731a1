"""How every Kafka client of the platform encrypts and authenticates, read from `MRC_KAFKA_*`.

| variable | meaning |
|---|---|
| `MRC_KAFKA_SECURITY_PROTOCOL` | `PLAINTEXT` (the default: the local dev stack), `SSL` or `SASL_SSL` |
| `MRC_KAFKA_SASL_MECHANISM` | `SCRAM-SHA-512` (the only one offered) |
| `MRC_KAFKA_SASL_USERNAME`, `MRC_KAFKA_SASL_PASSWORD` | this process's Kafka user (`SASL_SSL` only) |
| `MRC_KAFKA_SSL_CAFILE` | PEM file of the CA that signed the brokers' certificates; empty: the system's CAs |
| `MRC_KAFKA_SSL_CERTFILE`, `MRC_KAFKA_SSL_KEYFILE` | optional client certificate and key (mutual TLS) |

Brokers' certificates are always verified, host name included: there is no switch to turn that off.
SASL is offered over TLS only, so a password never crosses the network in clear. Settings that would
be silently ignored (credentials or certificates with `PLAINTEXT`) are refused rather than dropped.
The same `ssl.SSLContext` serves kafka-python (`kafka_python_kwargs`) and faust/aiokafka
(`mrc_plumbing.faust_app.broker_credentials`).
"""

from __future__ import annotations

import ssl
from typing import Any, Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512"]


class KafkaSecuritySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_KAFKA_", extra="ignore")

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        has_credentials = bool(self.sasl_username or self.sasl_password.get_secret_value())
        has_tls_files = bool(self.ssl_cafile or self.ssl_certfile or self.ssl_keyfile)
        if self.security_protocol == "SASL_SSL":
            if not (self.sasl_username and self.sasl_password.get_secret_value()):
                raise ValueError("MRC_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs MRC_KAFKA_SASL_USERNAME and _PASSWORD")
        elif has_credentials:
            raise ValueError(f"SASL credentials are set but MRC_KAFKA_SECURITY_PROTOCOL={self.security_protocol}")
        if self.security_protocol == "PLAINTEXT" and has_tls_files:
            raise ValueError("TLS files are set but MRC_KAFKA_SECURITY_PROTOCOL=PLAINTEXT")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("MRC_KAFKA_SSL_CERTFILE and MRC_KAFKA_SSL_KEYFILE go together")
        return self

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol != "PLAINTEXT"

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol == "SASL_SSL"

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context that verifies the broker (CA and host name); None for PLAINTEXT."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ssl_cafile or None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def kafka_python_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        kwargs: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.uses_tls:
            kwargs["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password.get_secret_value()
        return kwargs
