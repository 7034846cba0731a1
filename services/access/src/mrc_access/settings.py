from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mrc_kernel import claims
from mrc_plumbing.settings import ServiceSettings

PARTNERS_TOPIC = "mrc.access.partners.v1"
CLIENTS_TOPIC = "mrc.access.clients.v1"
# Produced by every service that serves personal data; stored here.
AUDIT_TOPIC = "mrc.audit.v1"
EVENT_SOURCE = "/mrc/access"
# Also the Kafka consumer group of the audit worker; its dead-letter topic is `mrc-access.dlq`.
CONSUMER_APP_ID = "mrc-access"

DEV_KEY_ENCRYPTION_SECRET = "mrc-dev-only-key-encryption-secret"  # noqa: S105 - a published dev default
# A key that stopped signing stays published this much longer than the longest-lived token it signed.
KEY_GRACE_MARGIN_SECONDS = 600


class AccessSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_ACCESS_", extra="ignore")

    service_name: str = "access"
    http_port: int = 8105
    grpc_port: int = 9105
    worker_web_port: int = 6067
    mongo_database: str = "mrc_access"
    token_ttl_seconds: int = Field(default=claims.DEFAULT_TOKEN_TTL_SECONDS, ge=60, le=86_400)
    # Encrypts the signing keys' private halves at rest; set a long random value outside development.
    key_encryption_secret: SecretStr = SecretStr(DEV_KEY_ENCRYPTION_SECRET)
    # Replicas re-read the key set this often, so a rotation on one is seen by all within seconds.
    key_cache_seconds: float = Field(default=5.0, ge=0)
    # The first operator's credentials; both set or the bootstrap is skipped.
    bootstrap_client_id: str = ""
    bootstrap_client_secret: SecretStr = SecretStr("")

    @property
    def key_grace_seconds(self) -> int:
        return self.token_ttl_seconds + KEY_GRACE_MARGIN_SECONDS
