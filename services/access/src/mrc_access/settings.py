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

    # The token endpoint (see `entrypoints/token_limits.py`). Rates are shared by every replica (0: no limit).
    token_rate_per_address_per_second: float = Field(default=20.0, ge=0)
    token_burst_per_address: int = Field(default=200, ge=1)
    # (A client needs a token every few minutes; guessing is stopped by the lockout below, so this only
    # catches a runaway integration.)
    token_rate_per_client_per_second: float = Field(default=10.0, ge=0)
    token_burst_per_client: int = Field(default=100, ge=1)
    # This many wrong secrets for one client id within the window lock that client id for `lock_seconds`...
    client_lockout_failures: int = Field(default=10, ge=1)
    client_lockout_window_seconds: float = Field(default=900.0, gt=0)
    client_lockout_seconds: float = Field(default=900.0, gt=0)
    # ...and this many from one source address (whatever the client ids) lock the address.
    address_lockout_failures: int = Field(default=50, ge=1)
    address_lockout_window_seconds: float = Field(default=900.0, gt=0)
    address_lockout_seconds: float = Field(default=900.0, gt=0)
    # Token requests worked on at once: per source address, and in all; more are refused at once.
    token_requests_in_flight: int = Field(default=64, ge=1)
    token_requests_in_flight_per_address: int = Field(default=8, ge=1)
    # Threads that check secrets (scrypt, CPU-bound): about the cores the process may use.
    token_workers: int = Field(default=4, ge=1, le=64)

    # Audit listings: how long one page may search, and how many may run at once (per caller, in all).
    # On MongoDB a page is an index walk of milliseconds; the embedded FerretDB sorts the whole trail for
    # each page, so the budget must exceed that for a listing to make progress there.
    audit_listing_time_budget_seconds: float = Field(default=3.0, gt=0, le=30)
    audit_listings_in_flight: int = Field(default=2, ge=1)
    audit_listings_in_flight_per_caller: int = Field(default=1, ge=1)

    @property
    def key_grace_seconds(self) -> int:
        return self.token_ttl_seconds + KEY_GRACE_MARGIN_SECONDS
