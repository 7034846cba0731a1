"""What each process may do on Kafka: the ACLs of deploy/ and docker-compose.yml against what the code needs.

The ACLs are evaluated the way Kafka's authorizer does (literal and prefixed patterns, Describe implied by
Read/Write/Delete/Alter, no deny rules) over probe resources: every topic the code declares, topics a
service may add later, faust's internal topics, consumer groups and the cluster. What a process needs is
read from the code (which topics its worker subscribes to, whether it relays an outbox or verifies tokens),
so a new consumer or a new writer shows up as a mismatch here, and so does any permission nobody needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AUDIT_TOPIC = "mrc.audit.v1"
CLIENTS_TOPIC = "mrc.access.clients.v1"
RESOURCE_TYPES = ("topic", "group", "cluster")
PATTERNS = ("literal", "prefix")
CLUSTER = "kafka-cluster"
# Operations checked on each resource type (a permission outside these is reported by `hygiene`).
TOPIC_OPS: tuple[str, ...] = (
    "Read",
    "Write",
    "Create",
    "Describe",
    "Delete",
    "Alter",
    "DescribeConfigs",
    "AlterConfigs",
)
GROUP_OPS: tuple[str, ...] = ("Read", "Describe", "Delete")
CLUSTER_OPS: tuple[str, ...] = (
    "IdempotentWrite",
    "Create",
    "Alter",
    "AlterConfigs",
    "ClusterAction",
    "Describe",
    "DescribeConfigs",
)
IMPLY_DESCRIBE = {"Read", "Write", "Delete", "Alter"}


@dataclass(frozen=True)
class Acl:
    principal: str
    resource_type: str  # topic | group | cluster
    pattern: str  # literal | prefix
    name: str  # CLUSTER for the cluster resource
    operation: str  # as Strimzi spells it: Read, Write, IdempotentWrite...


def allowed(acls: set[Acl], principal: str, resource_type: str, name: str, operation: str) -> bool:
    for acl in acls:
        if acl.principal != principal or acl.resource_type != resource_type:
            continue
        if resource_type != "cluster":
            if acl.pattern == "literal" and acl.name != name:
                continue
            if acl.pattern == "prefix" and not name.startswith(acl.name):
                continue
        if acl.operation in (operation, "All"):
            return True
        if operation == "Describe" and acl.operation in IMPLY_DESCRIBE:
            return True
        if operation == "DescribeConfigs" and acl.operation == "AlterConfigs":
            return True
    return False


# ---------------------------------------------------------------- what the code needs


def service_of(process: str) -> str:
    return process.removesuffix("-worker")


def is_worker(process: str) -> bool:
    return process.endswith("-worker")


def _consumer_source(process: str) -> str:
    service = service_of(process)
    return (REPO / "services" / service / "src" / f"mrc_{service}" / "entrypoints" / "consumer.py").read_text()


def _constant(service: str, name: str) -> str:
    pattern = re.compile(rf'^{name} = "([^"]+)"', re.M)
    for path in (REPO / "services" / service / "src").rglob("*.py"):
        if match := pattern.search(path.read_text(encoding="utf-8")):
            return match.group(1)
    raise AssertionError(f"{name} is not a string constant of services/{service}")


def app_id(process: str) -> str:
    return _constant(service_of(process), "CONSUMER_APP_ID")


def consumed_topics(process: str) -> set[str]:
    """The topics a faust worker subscribes to (`subscribe(app, TOPIC, ...)` in its consumer.py)."""
    if not is_worker(process):
        return set()
    names = re.findall(r"subscribe\(\s*app,\s*([A-Z_]+)", _consumer_source(process))
    assert names, f"{process}: no subscribe(app, TOPIC...) found"
    return {_constant(service_of(process), n) for n in names}


def uses_service_runtime(process: str) -> bool:
    """APIs, and workers that call service_runtime.connect: idempotent producers, and the audit topic declared."""
    return not is_worker(process) or re.search(r"\bconnect\(\s*settings", _consumer_source(process)) is not None


def relays_outbox(process: str) -> bool:
    """It publishes its service's events (and the audit events stored with them) from an outbox."""
    if not is_worker(process):
        return True
    return uses_service_runtime(process) and "outbox_collections=[]" not in _consumer_source(process)


def verifies_tokens(process: str) -> bool:
    """It serves requests, so it follows the clients topic for revocations (service_runtime.run_service)."""
    return not is_worker(process) or "run_service(" in _consumer_source(process)


def expected(process: str, resource_type: str, name: str) -> set[str]:
    """The operations `process` needs on one resource (Describe included wherever it is needed)."""
    service = service_of(process)
    own_prefix = f"mrc.{service}."
    ops: set[str] = set()
    if resource_type == "cluster":
        return {"IdempotentWrite"} if uses_service_runtime(process) else set()
    if resource_type == "group":
        return {"Read", "Describe"} if is_worker(process) and name.startswith(app_id(process)) else set()
    if relays_outbox(process) and name.startswith(own_prefix):
        ops |= {"Write", "Create"}
    if relays_outbox(process) and name == AUDIT_TOPIC:
        ops.add("Write")
    if verifies_tokens(process) and name == CLIENTS_TOPIC:
        ops.add("Read")
    if name in consumed_topics(process):
        ops.add("Read")
    if is_worker(process):
        if name == f"{app_id(process)}.dlq":
            ops.add("Write")
        if name.startswith(f"{app_id(process)}-"):  # faust's internal topics: leader, changelogs, repartitions
            ops |= {"Read", "Write", "Create"}
    # kafka_wiring.ensure_topics lists only topics it may describe, and service_runtime declares the audit topic.
    if ops or (uses_service_runtime(process) and name == AUDIT_TOPIC):
        ops.add("Describe")
    return ops


def probe_topics(code_topics: set[str], services: set[str], app_ids: set[str]) -> set[str]:
    topics = set(code_topics) | {f"{a}.dlq" for a in app_ids}
    topics |= {f"mrc.{s}.added-later.v1" for s in services}  # topics a service adds later
    topics |= {f"{a}-__assignor-__leader" for a in app_ids} | {f"{a}-table-changelog" for a in app_ids}
    topics |= {"mrc.audit.v2", "mrc.federation.transfers.v1", "__consumer_offsets"}
    return topics


def mismatches(acls: set[Acl], processes: set[str], topics: set[str], app_ids: set[str]) -> list[str]:
    """Every (process, resource, operation) where the ACLs allow other than what the code needs."""
    probes = [("topic", t, TOPIC_OPS) for t in sorted(topics)]
    probes += [("group", g, GROUP_OPS) for g in sorted({*app_ids, "mrc-other", "console-consumer-1"})]
    probes += [("cluster", CLUSTER, CLUSTER_OPS)]
    problems: list[str] = []
    for process in sorted(processes):
        user = f"mrc-{process}"
        for resource_type, name, operations in probes:
            needed = expected(process, resource_type, name)
            for op in operations:
                granted = allowed(acls, user, resource_type, name, op)
                if granted and op not in needed:
                    problems.append(f"{user} may {op} {resource_type} {name} but does not need to")
                elif op in needed and not granted:
                    problems.append(f"{user} needs {op} on {resource_type} {name}")
    return problems


def hygiene(acls: set[Acl], processes: set[str]) -> list[str]:
    """No wildcards, no `All`, no foreign write prefixes, and only the platform's own principals."""
    problems: list[str] = []
    principals = {f"mrc-{p}": p for p in processes}
    for acl in sorted(acls, key=repr):
        where = f"{acl.principal}: {acl.operation} on {acl.resource_type} {acl.pattern} {acl.name!r}"
        process = principals.get(acl.principal)
        if process is None:
            problems.append(f"{where}: not a platform process")
            continue
        if acl.resource_type not in RESOURCE_TYPES or acl.pattern not in PATTERNS:
            problems.append(f"{where}: unexpected resource type or pattern")
        if acl.operation == "All" or acl.name in ("*", "") or (acl.pattern == "prefix" and len(acl.name) < 5):
            problems.append(f"{where}: too broad")
        if acl.resource_type == "topic" and acl.operation in ("Write", "Create") and acl.pattern == "prefix":
            own = {f"mrc.{service_of(process)}."}
            if is_worker(process):
                own.add(f"{app_id(process)}-")
            if acl.name not in own:
                problems.append(f"{where}: writes a prefix other than its own {sorted(own)}")
    return problems
