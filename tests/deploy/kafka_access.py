"""What each process may do on Kafka: the ACLs of deploy/ and docker-compose.yml against what the code needs.

The ACLs are evaluated the way Kafka's authorizer does (literal and prefixed patterns, Describe implied by
Read/Write/Delete/Alter, no deny rules) over probe resources: every topic the code declares, topics a
service may add later, faust's internal topics, consumer groups and the cluster. What a process needs is
read from the code (which topics its worker subscribes to, whether it relays an outbox or verifies tokens),
so a new consumer or a new writer shows up as a mismatch here, and so does any permission nobody needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AUDIT_TOPIC = "mrc.audit.v1"
CLIENTS_TOPIC = "mrc.access.clients.v1"
RESOURCE_TYPES = ("topic", "group", "cluster", "transactionalId")
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
TRANSACTIONAL_ID_OPS: tuple[str, ...] = ("Write", "Describe")
IMPLY_DESCRIBE = {"Read", "Write", "Delete", "Alter"}


@dataclass(frozen=True)
class Acl:
    principal: str
    resource_type: str  # topic | group | cluster | transactionalId
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


# ---------------------------------------------------------------- MirrorMaker 2 (cross-state federation)
#
# What a KafkaMirrorMaker2 needs follows from its resource (and from Kafka 3.9's connect-mirror and Connect
# runtime): on its TARGET cluster, the Connect worker joins its group, reads and writes its config, offset
# and status topics (creating them, checking their cleanup policy), and with exactly-once support uses the
# transactional ids `connect-cluster-<group>` (the leader) and `<group>-<connector>-<task>` (the tasks); the
# MirrorSourceConnector describes, creates and writes the remote topics `<source alias>.<topic>`, adds
# partitions (Alter) and follows the source's topic configs (AlterConfigs). On each SOURCE cluster it lists and
# describes the selected topics, reads their configs (DescribeConfigs) and reads them without a consumer group.
# Heartbeats, checkpoints, offset syncs and ACL sync are off, so nothing else is needed on either side.

# DescribeConfigs comes with AlterConfigs in Kafka's authorizer.
REMOTE_TOPIC_OPS = frozenset({"Write", "Create", "Describe", "Alter", "AlterConfigs", "DescribeConfigs"})
STORAGE_TOPIC_OPS = frozenset({"Read", "Write", "Create", "Describe", "DescribeConfigs"})
SOURCE_TOPIC_OPS = frozenset({"Read", "Describe", "DescribeConfigs"})


@dataclass(frozen=True)
class MirrorMakerTarget:
    """A KafkaMirrorMaker2 as seen from its target cluster."""

    group_id: str
    storage_topics: frozenset[str]
    remote_topics: frozenset[str]  # `<source alias>.<topic>` for every topic it mirrors in


def mirror_maker_target_needs(mm: MirrorMakerTarget, resource_type: str, name: str) -> set[str]:
    if resource_type == "cluster":
        return {"IdempotentWrite"}
    if resource_type == "group":
        return {"Read", "Describe"} if name == mm.group_id else set()
    if resource_type == "transactionalId":
        leader, tasks = f"connect-cluster-{mm.group_id}", f"{mm.group_id}-"
        return set(TRANSACTIONAL_ID_OPS) if name == leader or name.startswith(tasks) else set()
    if name in mm.remote_topics:
        return set(REMOTE_TOPIC_OPS)
    if name in mm.storage_topics:
        return set(STORAGE_TOPIC_OPS)
    return set()


def mirror_maker_source_needs(topics: frozenset[str], resource_type: str, name: str) -> set[str]:
    return set(SOURCE_TOPIC_OPS) if resource_type == "topic" and name in topics else set()


def grant_mismatches(
    acls: set[Acl], user: str, needs: Callable[[str, str], set[str]], probes: Sequence[tuple[str, str]]
) -> list[str]:
    """Every (resource, operation) among the probes where `user`'s grants differ from `needs(type, name)`."""
    operations = {
        "topic": TOPIC_OPS,
        "group": GROUP_OPS,
        "cluster": CLUSTER_OPS,
        "transactionalId": TRANSACTIONAL_ID_OPS,
    }
    problems: list[str] = []
    for resource_type, name in probes:
        needed = needs(resource_type, name)
        for op in operations[resource_type]:
            granted = allowed(acls, user, resource_type, name, op)
            if granted and op not in needed:
                problems.append(f"{user} may {op} {resource_type} {name} but does not need to")
            elif op in needed and not granted:
                problems.append(f"{user} needs {op} on {resource_type} {name}")
    return problems


def mirror_maker_probes(
    aliases: set[str], federation_topics: set[str], local_topics: set[str], group_ids: set[str]
) -> list[tuple[str, str]]:
    """Resources a MirrorMaker 2 user might be granted by mistake, and those it needs."""
    names = {*aliases, "other"}
    topics = set(federation_topics) | set(local_topics) | {"__consumer_offsets", "__transaction_state", "heartbeats"}
    topics |= {f"{a}.{t}" for a in names for t in (*federation_topics, "mrc.registry.workers.v1", "heartbeats")}
    topics |= {f"mm2-offset-syncs.{a}.internal" for a in names} | {f"{a}.checkpoints.internal" for a in names}
    topics |= {f"{g}-{kind}" for g in (*group_ids, "other") for kind in ("configs", "offsets", "status")}
    groups = {*group_ids, "other-mm2", "console-consumer-1", "mrc-registry"}
    transactional = {f"connect-cluster-{g}" for g in (*group_ids, "other")}
    transactional |= {f"{g}-{a}->{b}.MirrorSourceConnector-0" for g in group_ids for a in names for b in names}
    transactional |= {"other-MirrorSourceConnector-0", "mrc-registry-outbox"}
    return [
        *(("topic", t) for t in sorted(topics)),
        *(("group", g) for g in sorted(groups)),
        *(("transactionalId", t) for t in sorted(transactional)),
        ("cluster", CLUSTER),
    ]


def mirror_maker_hygiene(acls: set[Acl], user: str, group_id: str | None) -> list[str]:
    """No wildcard, no `All`; prefixes only for the tasks' transactional ids (their names are generated)."""
    problems: list[str] = []
    for acl in sorted((a for a in acls if a.principal == user), key=repr):
        where = f"{user}: {acl.operation} on {acl.resource_type} {acl.pattern} {acl.name!r}"
        if acl.operation == "All" or acl.name in ("*", ""):
            problems.append(f"{where}: too broad")
        if acl.pattern == "prefix" and not (acl.resource_type == "transactionalId" and acl.name == f"{group_id}-"):
            problems.append(f"{where}: only the tasks' transactional ids are granted by prefix")
    return problems
