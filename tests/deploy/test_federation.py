"""Cross-state federation in deploy/: MirrorMaker 2 between the state clusters and into the national one.

Each state publishes what it addresses to a peer on that peer's own topics (`mrc.federation.<kind>.<peer's
LGD code>.v1`, the overlay's federation-topics.yaml). Each state overlay runs a KafkaMirrorMaker2 that pulls,
from every other state, only the topics addressed to it into its own cluster (`<state>.mrc.federation.<kind>.
<own code>.v1`), and holds the KafkaUsers of every MirrorMaker that touches its cluster: its own (target side)
and those of the other states and of the national cluster (source side, through the `federation` listener).
The national overlay pulls only the aggregates. Checked offline: the resources against each other and the CRD
schemas, every MirrorMaker user's ACLs against what its KafkaMirrorMaker2 needs (tests/deploy/kafka_access.py),
in both directions, and the registry's federation grants against the topics and group its code uses.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from mrc_devstack.mirror_maker import AGGREGATES_TOPIC, federation_topics, state_topics
from mrc_entitlements.settings import FEDERATION_DEAD_LETTER_TOPIC as ENTITLEMENTS_DEAD_LETTER_TOPIC
from mrc_grievance.settings import FEDERATION_DEAD_LETTER_TOPIC as GRIEVANCE_DEAD_LETTER_TOPIC
from mrc_registry.adapters.federation_mapping import HOUSEHOLDS, WORKERS, federation_topic, mirrored_topics
from mrc_registry.entrypoints.federation_consumer import CONSUMER_GROUP, DEAD_LETTER_TOPIC
from tests.deploy import kafka_access
from tests.deploy.kafka_access import Acl, MirrorMakerTarget
from tests.deploy.test_manifests import (
    DEPLOY,
    FAUST_APP_IDS,
    NATIONAL,
    REPO,
    SERVICES,
    STATE_CODES,
    _entries,
    base_config,
    code_topics,
    component_config,
    load_docs,
    objects_in,
    of_kind,
    rendered,
    validate_custom_resource,
)
from tests.deploy.test_transport_security import acls_of_kafka_users

Doc = dict[str, Any]
CLUSTERS = (*sorted(STATE_CODES), NATIONAL)
FEDERATION_PORT = 9094
FEDERATION_CA_SECRET = "mrc-federation-ca"
LISTENER_CERT_SECRET = "mrc-kafka-federation-tls"
MM2_LABELS = {"app.kubernetes.io/part-of": "mrc", "app.kubernetes.io/name": "mirrormaker2"}
# Every state of these overlays, and one more a federation may add (its topics must never be let through).
ALL_STATE_CODES = (*STATE_CODES.values(), "33")
# Every federation topic any state of the federation may have.
FEDERATION_TOPICS = frozenset(federation_topics(ALL_STATE_CODES))


def peer_codes(state: str) -> list[str]:
    return [code for name, code in STATE_CODES.items() if name != state]


# ---------------------------------------------------------------- loading


def overlay_files(cluster: str, key: str) -> list[Any]:
    folder = DEPLOY / "overlays" / cluster
    kustomization = load_docs(folder / "kustomization.yaml")[0]
    return [(folder / e).resolve() for e in _entries(kustomization, key) if (folder / e).resolve().is_file()]


def overlay_objects(cluster: str) -> list[Doc]:
    """The objects an overlay defines itself (not those of the base and components it uses)."""
    return [d for f in overlay_files(cluster, "resources") for d in load_docs(f)]


def components_of(cluster: str) -> list[str]:
    kustomization = load_docs(DEPLOY / "overlays" / cluster / "kustomization.yaml")[0]
    return [e.rsplit("/", 1)[-1] for e in _entries(kustomization, "components")]


def apply_json_patch(obj: Doc, operations: list[Doc]) -> Doc:
    """JSON Patch (RFC 6902) add/replace/remove, as kustomize applies a patch file to its target."""
    out = copy.deepcopy(obj)
    for op in operations:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node: Any = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if op["op"] == "add" and isinstance(node, list):
            node.insert(len(node) if last == "-" else int(last), op["value"])
        elif op["op"] in ("add", "replace"):
            node[int(last) if isinstance(node, list) else last] = op["value"]
        elif op["op"] == "remove":
            del node[int(last) if isinstance(node, list) else last]
        else:
            raise AssertionError(f"unsupported JSON patch op {op['op']}")
    return out


def state_kafka(state: str) -> Doc:
    """The state's Kafka as rendered: the component's, with the overlay's JSON patches applied (offline)."""
    (kafka,) = of_kind(objects_in("kafka-strimzi"), "Kafka")
    kustomization = load_docs(DEPLOY / "overlays" / state / "kustomization.yaml")[0]
    for entry in kustomization.get("patches") or []:
        target = entry.get("target", {})
        if target.get("kind") == "Kafka" and target.get("name") == kafka["metadata"]["name"]:
            operations: Any = load_docs(DEPLOY / "overlays" / state / entry["path"])[0]
            kafka = apply_json_patch(kafka, operations)
    return kafka


def cluster_kafka(cluster: str) -> Doc:
    if cluster == NATIONAL:
        (kafka,) = of_kind(overlay_objects(NATIONAL), "Kafka")
        return kafka
    return state_kafka(cluster)


def mirror_maker(cluster: str) -> Doc:
    (mm,) = of_kind(overlay_objects(cluster), "KafkaMirrorMaker2")
    return mm


def cluster_users(cluster: str) -> list[Doc]:
    """The KafkaUsers of the MirrorMakers on a cluster (the platform's own users live in kafka-strimzi)."""
    return of_kind(overlay_objects(cluster), "KafkaUser")


def selected(pattern: str, topics: set[str]) -> set[str]:
    """Topics a MirrorMaker 2 topic pattern selects (Java's Matcher.matches: the whole name)."""
    return {t for t in topics if re.fullmatch(pattern, t)}


def candidate_topics() -> set[str]:
    """Federation topics and every local topic a cluster has, to see what a pattern lets through."""
    return {*FEDERATION_TOPICS, *code_topics(), *(f"{a}.dlq" for a in FAUST_APP_IDS), "heartbeats"}


def federation_listener(kafka: Doc) -> Doc:
    (listener,) = [lis for lis in kafka["spec"]["kafka"]["listeners"] if lis["name"] == "federation"]
    return dict(listener)


# ---------------------------------------------------------------- topics and overlays


@pytest.mark.parametrize("state", sorted(STATE_CODES))
def test_each_state_declares_the_topics_it_addresses_to_each_peer_and_the_aggregates(state: str) -> None:
    shared = of_kind(objects_in("federation"), "KafkaTopic")
    own = of_kind(overlay_objects(state), "KafkaTopic")
    dead_letters = {DEAD_LETTER_TOPIC, *SERVICE_DEAD_LETTER_TOPICS}
    assert {t["metadata"]["name"] for t in shared} == {AGGREGATES_TOPIC, *dead_letters}
    names = [t["metadata"]["name"] for t in [*shared, *own]]
    assert len(names) == len(set(names)), "a topic is declared twice"
    assert set(names) == {*federation_topics(peer_codes(state)), *dead_letters}
    assert not set(names) & set(state_topics(STATE_CODES[state])), "nothing is addressed to the state itself"
    config = base_config()
    for topic in [*shared, *own]:
        spec = topic["spec"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "mrc-kafka"
        assert spec["partitions"] == int(config["MRC_KAFKA_TOPIC_PARTITIONS"])
        assert spec["replicas"] == int(config["MRC_KAFKA_TOPIC_REPLICATION_FACTOR"])
        assert int(spec["config"]["min.insync.replicas"]) < spec["replicas"]
        # Shared summaries leave every cluster within a week (mirrored copies follow the source's configs).
        if topic["metadata"]["name"] not in dead_letters:
            assert int(spec["config"]["retention.ms"]) <= 7 * 24 * 3600 * 1000
        assert not validate_custom_resource(topic)


def test_the_contract_documents_the_per_destination_topics() -> None:
    proto = (REPO / "protos" / "mrc" / "federation" / "v1" / "events.proto").read_text(encoding="utf-8")
    documented = set(re.findall(r"^//\s+(mrc\.federation\.[a-z]+(?:\.<to>)?\.v1)\s", proto, re.M))
    assert {t.replace(".32.", ".<to>.") for t in federation_topics(["32"])} == documented


def test_states_use_the_federation_component_and_national_runs_kafka_and_mirror_maker_only() -> None:
    for state in STATE_CODES:
        assert "federation" in components_of(state)
    assert components_of(NATIONAL) == []
    kustomization = load_docs(DEPLOY / "overlays" / NATIONAL / "kustomization.yaml")[0]
    assert kustomization["namespace"] == f"mrc-{NATIONAL}"
    assert "../../base" not in _entries(kustomization, "resources"), "no platform service in the national cluster"
    kinds = {d["kind"] for d in overlay_objects(NATIONAL)}
    assert kinds == {"Namespace", "Kafka", "KafkaNodePool", "KafkaUser", "KafkaMirrorMaker2", "NetworkPolicy"}
    for obj in overlay_objects(NATIONAL):
        if obj["kind"] not in ("Namespace", "NetworkPolicy"):
            assert not validate_custom_resource(obj), obj["metadata"]["name"]
    for state in STATE_CODES:
        kustomization = load_docs(DEPLOY / "overlays" / state / "kustomization.yaml")[0]
        (gen,) = [g for g in kustomization["configMapGenerator"] if g["name"] == "mrc-config"]
        literals = dict(lit.split("=", 1) for lit in gen["literals"])
        assert literals["MRC_FEDERATION_CLUSTER_ALIAS"] == state
        assert set(literals["MRC_FEDERATION_PEERS"].split(",")) == set(STATE_CODES) - {state}


# ---------------------------------------------------------------- listeners and MirrorMaker 2 resources


@pytest.mark.parametrize("state", sorted(STATE_CODES))
def test_a_state_exposes_one_federation_listener_tls_and_scram_only(state: str) -> None:
    kafka = state_kafka(state)
    assert not validate_custom_resource(kafka)
    listeners = {lis["name"]: lis for lis in kafka["spec"]["kafka"]["listeners"]}
    (component_kafka,) = of_kind(objects_in("kafka-strimzi"), "Kafka")
    (internal,) = component_kafka["spec"]["kafka"]["listeners"]
    assert listeners == {internal["name"]: internal, "federation": listeners["federation"]}, "the rest unchanged"
    listener = listeners["federation"]
    assert listener["port"] == FEDERATION_PORT and listener["tls"] is True
    assert listener["authentication"] == {"type": "scram-sha-512"}
    configuration = listener["configuration"]
    # A certificate of the platform's federation CA, which every MirrorMaker trusts (not the per-cluster CA).
    assert configuration["brokerCertChainAndKey"]["secretName"] == LISTENER_CERT_SECRET
    assert configuration["loadBalancerSourceRanges"], "only the peers may connect"
    assert f"kafka-federation.{state}.mrc.example" in configuration["bootstrap"]["alternativeNames"]
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"


def test_national_kafka_has_no_listener_outside_its_cluster() -> None:
    kafka = cluster_kafka(NATIONAL)
    for listener in kafka["spec"]["kafka"]["listeners"]:
        assert listener["type"] == "internal" and listener["tls"] is True
        assert listener["authentication"]["type"] == "scram-sha-512"
        assert listener["networkPolicyPeers"]
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert not kafka["spec"]["kafka"]["authorization"].get("superUsers")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_mirror_maker_pulls_what_the_federation_allows_into_its_own_cluster(cluster: str) -> None:
    mm = mirror_maker(cluster)
    assert not validate_custom_resource(mm)
    spec = mm["spec"]
    target = spec["target"]
    assert target["alias"] == cluster
    bootstrap = "mrc-kafka-kafka-bootstrap:9093"
    if cluster != NATIONAL:
        assert component_config("kafka-strimzi")["MRC_KAFKA_BOOTSTRAP_SERVERS"] == bootstrap
    assert target["bootstrapServers"] == bootstrap, "its own cluster's internal TLS listener"
    assert target["tls"]["trustedCertificates"] == [
        {"secretName": "mrc-kafka-cluster-ca-cert", "certificate": "ca.crt"}
    ]
    assert target["authentication"] == {
        "type": "scram-sha-512",
        "username": "mrc-mirrormaker2",
        "passwordSecret": {"secretName": "mrc-mirrormaker2", "password": "password"},  # the User Operator's
    }
    assert target["config"]["exactly.once.source.support"] == "enabled"

    sources = {m["source"]["alias"]: m for m in spec["mirrors"]}
    expected_sources = set(STATE_CODES) if cluster == NATIONAL else set(STATE_CODES) - {cluster}
    assert set(sources) == expected_sources
    for source, mirror in sources.items():
        # Into a state: only what the source addresses to it, nothing addressed elsewhere.
        wanted = {AGGREGATES_TOPIC} if cluster == NATIONAL else set(state_topics(STATE_CODES[cluster]))
        assert selected(mirror["topicsPattern"], candidate_topics()) == wanted, f"{source} -> {cluster}"
        assert "checkpointConnector" not in mirror and "groupsPattern" not in mirror, "no offset translation"
        config = mirror["sourceConnector"]["config"]
        assert config["replication.policy.class"].endswith(".DefaultReplicationPolicy")
        assert config["sync.topic.acls.enabled"] == "false"
        assert config["emit.offset-syncs.enabled"] == "false"
        assert config["consumer.isolation.level"] == "read_committed"
        assert config["exactly.once.support"] == "required"
        # Over the source's federation listener, trusting the federation CA, as the source's user for us.
        host, _, port = mirror["source"]["bootstrapServers"].rpartition(":")
        listener = federation_listener(cluster_kafka(source))
        assert int(port) == listener["port"] and host in listener["configuration"]["bootstrap"]["alternativeNames"]
        assert mirror["source"]["tls"]["trustedCertificates"] == [
            {"secretName": FEDERATION_CA_SECRET, "certificate": "ca.crt"}
        ]
        auth = mirror["source"]["authentication"]
        assert auth["type"] == "scram-sha-512" and auth["username"] == f"mrc-mirrormaker2-{cluster}"
        (user,) = [u for u in cluster_users(source) if u["metadata"]["name"] == auth["username"]]
        # The password: one Secret, the same value in both namespaces, named for reader and source.
        secret = user["spec"]["authentication"]["password"]["valueFrom"]["secretKeyRef"]
        assert secret == {"name": f"mrc-mirrormaker2-{cluster}-at-{source}", "key": "password"}
        assert auth["passwordSecret"] == {"secretName": secret["name"], "password": secret["key"]}
    labels = spec["template"]["pod"]["metadata"]["labels"]
    assert labels.items() >= MM2_LABELS.items(), "the platform's network policies apply to MirrorMaker's pods"


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_mirror_maker_pods_may_reach_their_brokers_and_the_peers_federation_listeners_only(cluster: str) -> None:
    if cluster == NATIONAL:
        policies = of_kind(overlay_objects(NATIONAL), "NetworkPolicy")
    else:
        base = [d for f in (DEPLOY / "base").glob("network-policies.yaml") for d in load_docs(f)]
        policies = of_kind(base, "NetworkPolicy") + of_kind(objects_in("federation"), "NetworkPolicy")
    applying = [p for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= MM2_LABELS.items()]
    assert any(
        set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"} and not p["spec"].get("egress") for p in applying
    ), "default deny"
    ports = {port["port"] for p in applying for rule in p["spec"].get("egress", []) for port in rule.get("ports", [])}
    assert {53, 9093, FEDERATION_PORT} <= ports
    assert 9092 not in ports


# ---------------------------------------------------------------- ACLs of the MirrorMaker users


def target_of(mm: Doc) -> MirrorMakerTarget:
    target = mm["spec"]["target"]
    remote = {
        f"{m['source']['alias']}.{topic}"
        for m in mm["spec"]["mirrors"]
        for topic in selected(m["topicsPattern"], candidate_topics())
    }
    storage = {target[k] for k in ("configStorageTopic", "offsetStorageTopic", "statusStorageTopic")}
    return MirrorMakerTarget(target["groupId"], frozenset(storage), frozenset(remote))


def readers_of(cluster: str) -> dict[str, frozenset[str]]:
    """User on `cluster` -> the topics the MirrorMaker of another cluster reads from it with that user."""
    readers: dict[str, frozenset[str]] = {}
    for other in CLUSTERS:
        for mirror in mirror_maker(other)["spec"]["mirrors"] if other != cluster else []:
            if mirror["source"]["alias"] == cluster:
                topics = selected(mirror["topicsPattern"], candidate_topics())
                readers[mirror["source"]["authentication"]["username"]] = frozenset(topics)
    return readers


def mirror_maker_problems(cluster: str, acls: set[Acl]) -> list[str]:
    mm = target_of(mirror_maker(cluster))
    readers = readers_of(cluster)
    probes = kafka_access.mirror_maker_probes(
        set(CLUSTERS),
        set(FEDERATION_TOPICS),
        set(kafka_access.probe_topics(code_topics(), set(SERVICES), FAUST_APP_IDS)),
        {mm.group_id},
    )
    problems = kafka_access.grant_mismatches(
        acls, "mrc-mirrormaker2", lambda kind, name: kafka_access.mirror_maker_target_needs(mm, kind, name), probes
    )
    problems += kafka_access.mirror_maker_hygiene(acls, "mrc-mirrormaker2", mm.group_id)
    for user, topics in readers.items():
        problems += kafka_access.grant_mismatches(
            acls,
            user,
            lambda kind, name, topics=topics: kafka_access.mirror_maker_source_needs(topics, kind, name),  # type: ignore[misc]
            probes,
        )
        problems += kafka_access.mirror_maker_hygiene(acls, user, None)
    return problems


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_mirror_maker_users_are_granted_what_mirror_maker_needs_and_no_more(cluster: str) -> None:
    users = cluster_users(cluster)
    names = {u["metadata"]["name"] for u in users}
    # Its own MirrorMaker, and one user per MirrorMaker reading from it: no other.
    assert names == {"mrc-mirrormaker2", *readers_of(cluster)}
    for user in users:
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == "mrc-kafka"
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert not validate_custom_resource(user)
    problems = mirror_maker_problems(cluster, acls_of_kafka_users(users))
    assert not problems, "\n".join(problems)


def test_mirror_maker_acl_checks_catch_too_much_and_too_little() -> None:
    """Guards the checks themselves."""
    acls = acls_of_kafka_users(cluster_users("bihar"))
    local = acls | {Acl("mrc-mirrormaker2-kerala", "topic", "literal", "mrc.registry.workers.v1", "Read")}
    assert "mrc-mirrormaker2-kerala may Read topic mrc.registry.workers.v1 but does not need to" in (
        mirror_maker_problems("bihar", local)
    )
    aggregates = acls | {Acl("mrc-mirrormaker2-kerala", "topic", "literal", AGGREGATES_TOPIC, "Read")}
    assert any(f"may Read topic {AGGREGATES_TOPIC}" in p for p in mirror_maker_problems("bihar", aggregates))
    writes_prefix = acls | {Acl("mrc-mirrormaker2", "topic", "prefix", "kerala.", "Write")}
    assert any("only the tasks' transactional ids" in p for p in mirror_maker_problems("bihar", writes_prefix))
    no_transactions = {a for a in acls if a.resource_type != "transactionalId"}
    assert "mrc-mirrormaker2 needs Write on transactionalId connect-cluster-mrc-mirrormaker2" in (
        mirror_maker_problems("bihar", no_transactions)
    )


# ---------------------------------------------------------------- rendered (needs kustomize/kubectl)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_rendered_federation_resources(cluster: str) -> None:
    objects = rendered(cluster)
    namespace = f"mrc-{cluster}"
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, f"{obj['kind']}/{obj['metadata']['name']}"
    errors = [
        e for o in objects if o["apiVersion"].startswith("kafka.strimzi.io/") for e in validate_custom_resource(o)
    ]
    assert not errors, "\n".join(errors)
    (mm,) = of_kind(objects, "KafkaMirrorMaker2")
    assert mm["spec"] == mirror_maker(cluster)["spec"]
    (kafka,) = of_kind(objects, "Kafka")
    assert kafka["spec"] == cluster_kafka(cluster)["spec"], "the offline JSON patch matches kustomize's"
    users = {
        u["metadata"]["name"] for u in of_kind(objects, "KafkaUser") if u["metadata"]["name"].startswith("mrc-mirror")
    }
    assert users == {u["metadata"]["name"] for u in cluster_users(cluster)}
    topics = {t["metadata"]["name"] for t in of_kind(objects, "KafkaTopic")}
    if cluster == NATIONAL:
        assert not topics and not of_kind(objects, "Deployment")
    else:
        assert set(federation_topics(peer_codes(cluster))) <= topics


# ---------------------------------------------------------------- the registry's federation grants


def registry_user(state: str) -> Doc:
    """The registry's KafkaUser of a state as rendered: the component's, with the overlay's JSON patch (offline)."""
    (user,) = [u for u in of_kind(objects_in("kafka-strimzi"), "KafkaUser") if u["metadata"]["name"] == "mrc-registry"]
    kustomization = load_docs(DEPLOY / "overlays" / state / "kustomization.yaml")[0]
    for entry in kustomization.get("patches") or []:
        target = entry.get("target", {})
        if target.get("kind") == "KafkaUser" and target.get("name") == "mrc-registry":
            user = apply_json_patch(user, load_docs(DEPLOY / "overlays" / state / entry["path"])[0])
    return user


@pytest.mark.parametrize("state", sorted(STATE_CODES))
def test_the_registry_may_publish_for_its_peers_and_read_what_they_address_to_it_and_no_more(state: str) -> None:
    (component,) = [
        u for u in of_kind(objects_in("kafka-strimzi"), "KafkaUser") if u["metadata"]["name"] == "mrc-registry"
    ]
    user = registry_user(state)
    assert not validate_custom_resource(user)
    federation = acls_of_kafka_users([user]) - acls_of_kafka_users([component])
    own, peers = STATE_CODES[state], {name: code for name, code in STATE_CODES.items() if name != state}
    writes = {federation_topic(kind, code) for code in peers.values() for kind in (WORKERS, HOUSEHOLDS)}
    reads = {f"{alias}.{federation_topic(kind, own)}" for alias in peers for kind in (WORKERS, HOUSEHOLDS)}
    expected = {
        *(Acl("mrc-registry", "topic", "literal", t, op) for t in writes | {AGGREGATES_TOPIC} for op in WRITE_OPS),
        *(Acl("mrc-registry", "topic", "literal", t, op) for t in reads for op in ("Read", "Describe")),
        Acl("mrc-registry", "group", "literal", CONSUMER_GROUP, "Read"),
    }
    assert federation == expected
    # What it reads is what its consumer subscribes to, and nothing addressed to another state.
    assert set(mirrored_topics(peers, own, (WORKERS, HOUSEHOLDS))) == reads
    # Its dead-letter topic for records it cannot apply is under its own prefix, already granted.
    assert DEAD_LETTER_TOPIC.startswith("mrc.registry.")


WRITE_OPS = ("Write", "Describe", "Create")
# The entitlements' and grievance services' topics for records from other states they cannot apply.
SERVICE_DEAD_LETTER_TOPICS = (ENTITLEMENTS_DEAD_LETTER_TOPIC, GRIEVANCE_DEAD_LETTER_TOPIC)


# ---------------------------------------------------------------- the entitlements' and grievance services' grants


def patched_user(state: str, name: str) -> Doc:
    """A service's KafkaUser of a state as rendered: the component's, with the overlay's JSON patches (offline)."""
    (user,) = [u for u in of_kind(objects_in("kafka-strimzi"), "KafkaUser") if u["metadata"]["name"] == name]
    kustomization = load_docs(DEPLOY / "overlays" / state / "kustomization.yaml")[0]
    for entry in kustomization.get("patches") or []:
        target = entry.get("target", {})
        if target.get("kind") == "KafkaUser" and target.get("name") == name:
            user = apply_json_patch(user, load_docs(DEPLOY / "overlays" / state / entry["path"])[0])
    return user


@pytest.mark.parametrize("state", sorted(STATE_CODES))
def test_entitlements_and_grievance_may_publish_for_their_peers_and_read_what_is_addressed_to_them_only(
    state: str,
) -> None:
    from mrc_entitlements.adapters.federation_mapping import ENTITLEMENTS
    from mrc_entitlements.settings import FEDERATION_CONSUMER_GROUP as ENTITLEMENTS_GROUP
    from mrc_entitlements.settings import FEDERATION_DEAD_LETTER_TOPIC as ENTITLEMENTS_DLQ
    from mrc_grievance.adapters.federation import GRIEVANCES
    from mrc_grievance.settings import FEDERATION_CONSUMER_GROUP as GRIEVANCE_GROUP
    from mrc_grievance.settings import FEDERATION_DEAD_LETTER_TOPIC as GRIEVANCE_DLQ
    from mrc_plumbing.federation import mirrored_topics as mirrored

    own, peers = STATE_CODES[state], {name: code for name, code in STATE_CODES.items() if name != state}

    def added(name: str) -> set[Acl]:
        (component,) = [u for u in of_kind(objects_in("kafka-strimzi"), "KafkaUser") if u["metadata"]["name"] == name]
        user = patched_user(state, name)
        assert not validate_custom_resource(user)
        return acls_of_kafka_users([user]) - acls_of_kafka_users([component])

    def writes(user: str, kind: str) -> set[Acl]:
        return {
            Acl(user, "topic", "literal", federation_topic(kind, c), op) for c in peers.values() for op in WRITE_OPS
        }

    def reads(user: str, kind: str) -> set[Acl]:
        return {Acl(user, "topic", "literal", t, op) for t in mirrored(peers, own, kind) for op in ("Read", "Describe")}

    assert added("mrc-entitlements") == writes("mrc-entitlements", ENTITLEMENTS)
    national = {Acl("mrc-entitlements-worker", "topic", "literal", AGGREGATES_TOPIC, op) for op in WRITE_OPS}
    assert (
        added("mrc-entitlements-worker")
        == writes("mrc-entitlements-worker", ENTITLEMENTS) | reads("mrc-entitlements-worker", ENTITLEMENTS) | national
    )
    assert added("mrc-grievance") == writes("mrc-grievance", GRIEVANCES) | reads("mrc-grievance", GRIEVANCES) | {
        Acl("mrc-grievance", "group", "literal", GRIEVANCE_GROUP, "Read"),
        *(Acl("mrc-grievance", "topic", "literal", AGGREGATES_TOPIC, op) for op in WRITE_OPS),
    }
    # Their consumer group and dead-letter topics fall under what the component grants already.
    assert ENTITLEMENTS_GROUP.startswith("mrc-entitlements") and ENTITLEMENTS_DLQ.startswith("mrc.entitlements.")
    assert GRIEVANCE_DLQ.startswith("mrc.grievance.")
