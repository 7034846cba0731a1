from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from mrc_geography.lgd import lgd
from mrc_plumbing.settings import ServiceSettings

WORKERS_TOPIC = "mrc.registry.workers.v1"
EVENT_SOURCE = "/mrc/registry"


class FederationSettings(BaseSettings):
    """Cross-state federation, shared by every service of a state cluster (`MRC_FEDERATION_*`).

    `MRC_FEDERATION_PEERS` lists the other states' cluster aliases (their names: `kerala,tamil_nadu`, which
    prefix their topics here); each is mapped to its LGD code by name, or given as `alias=code`. Empty: this
    cluster exchanges records with no other state (nothing is published to or read from other states).
    """

    model_config = SettingsConfigDict(env_prefix="MRC_FEDERATION_", extra="ignore")

    cluster_alias: str = ""
    peers: str = ""

    def peer_codes(self) -> dict[str, str]:
        """Peer alias -> LGD state code; ValueError naming an alias that is no state's name."""
        codes: dict[str, str] = {}
        for entry in self.peers.split(","):
            alias, _, code = entry.strip().partition("=")
            alias = alias.strip().lower()
            if not alias:
                continue
            codes[alias] = code.strip() or state_code_of(alias)
        return codes


def state_code_of(name: str) -> str:
    """`kerala` -> `32`, `tamil_nadu` -> `33` (LGD state names)."""
    wanted = name.replace("_", " ").replace("-", " ").strip().lower()
    for state in lgd().states.values():
        if state.name.lower() == wanted:
            return state.code
    raise ValueError(f"MRC_FEDERATION_PEERS: {name!r} is not the name of a state in the LGD; write alias=code")


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_REGISTRY_", extra="ignore")

    service_name: str = "registry"
    http_port: int = 8101
    grpc_port: int = 9101
    mongo_database: str = "mrc_registry"
    # An SMS gateway for one-time codes (JSON over HTTPS, see adapters/text_messages.py); empty: messages
    # are kept in the local `sms_outbox` collection instead (the embedded default).
    sms_gateway_url: str = ""
    sms_gateway_token: SecretStr = SecretStr("")
    # How often consents that reached their expiry are looked for (and announced with ConsentChanged).
    consent_expiry_sweep_seconds: float = Field(default=30.0, gt=0)
    federation: FederationSettings = Field(default_factory=FederationSettings)
    # How often this state's k-anonymous counts go to the national cluster (AggregatesPublished).
    federation_aggregates_interval_seconds: float = Field(default=3600.0, gt=0)
    # How soon copies of the peers' topics that MirrorMaker 2 creates here are found and read.
    federation_topic_refresh_seconds: float = Field(default=10.0, gt=0)
