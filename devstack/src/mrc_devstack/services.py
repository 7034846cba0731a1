"""The services the dev stack runs: one declarative entry per process.

Adding a service is one ``ServiceSpec`` line in ``SERVICES``. Every service runs as
``python -m <module>`` with the workspace's interpreter and gets, besides the shared variables
(``MRC_KAFKA_BOOTSTRAP_SERVERS``, ``MRC_MONGO_URI``, ``MRC_LOG_FORMAT``), ``MRC_<PREFIX>_HTTP_PORT``
and ``MRC_<PREFIX>_GRPC_PORT`` for the ports it serves, and ``web_port_env`` for a worker's web port.
All ports are shifted by the stack's port offset.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # component name used on the command line and for log/pid files
    module: str  # run as ``python -m <module>``
    env_prefix: str  # MRC_<env_prefix>_HTTP_PORT / _GRPC_PORT
    http_port: int | None = None  # REST API; health: GET /healthz == 200, then GET /readyz == 200
    grpc_port: int | None = None
    web_port: int | None = None  # a worker's web port; health: it answers, or the process lives 5 s
    web_port_env: str | None = None
    # gRPC services it calls: (variable, base port), set to 127.0.0.1:<port + offset>.
    peers: tuple[tuple[str, int], ...] = ()

    def env(self, offset: int) -> dict[str, str]:
        env: dict[str, str] = {}
        if self.http_port is not None:
            env[f"MRC_{self.env_prefix}_HTTP_PORT"] = str(self.http_port + offset)
        if self.grpc_port is not None:
            env[f"MRC_{self.env_prefix}_GRPC_PORT"] = str(self.grpc_port + offset)
        if self.web_port is not None and self.web_port_env is not None:
            env[self.web_port_env] = str(self.web_port + offset)
        for variable, port in self.peers:
            env[variable] = f"127.0.0.1:{port + offset}"
        return env


ACCESS_HTTP_PORT = 8105
DEV_OPERATOR_CLIENT_ID = "mrc-operator"
DEV_OPERATOR_CLIENT_SECRET = "dev-operator-secret"  # noqa: S105 - a local development credential, printed by `up`

# Started in this order: access first, since every other service verifies tokens with its keys.
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("access", "mrc_access", "ACCESS", http_port=ACCESS_HTTP_PORT, grpc_port=9105),
    ServiceSpec(
        "access-worker", "mrc_access.worker", "ACCESS", web_port=6067, web_port_env="MRC_ACCESS_WORKER_WEB_PORT"
    ),
    ServiceSpec("registry", "mrc_registry", "REGISTRY", http_port=8101, grpc_port=9101),
    ServiceSpec("entitlements", "mrc_entitlements", "ENTITLEMENTS", http_port=8102, grpc_port=9102),
    ServiceSpec(
        "entitlements-worker",
        "mrc_entitlements.worker",
        "ENTITLEMENTS",
        web_port=6066,
        web_port_env="MRC_ENTITLEMENTS_WORKER_WEB_PORT",
    ),
    ServiceSpec(
        "grievance",
        "mrc_grievance",
        "GRIEVANCE",
        http_port=8103,
        grpc_port=9103,
        peers=(("MRC_GRIEVANCE_REGISTRY_GRPC_TARGET", 9101), ("MRC_GRIEVANCE_EMPLOYER_GRPC_TARGET", 9104)),
    ),
    ServiceSpec(
        "grievance-worker",
        "mrc_grievance.worker",
        "GRIEVANCE",
        web_port=6068,
        web_port_env="MRC_GRIEVANCE_WORKER_WEB_PORT",
    ),
    ServiceSpec("employer", "mrc_employer", "EMPLOYER", http_port=8104, grpc_port=9104),
    ServiceSpec(
        "employer-worker", "mrc_employer.worker", "EMPLOYER", web_port=6069, web_port_env="MRC_EMPLOYER_WORKER_WEB_PORT"
    ),
)

SERVICES_BY_NAME: dict[str, ServiceSpec] = {spec.name: spec for spec in SERVICES}

# Infrastructure ports (before the offset).
KAFKA_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
MONGO_PORT = 27017
