"""The federation's MirrorMaker 2 configuration and port plan, checked without starting anything."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mrc_devstack import kafka_broker, mirror_maker
from mrc_devstack.federation import Federation, parse_states, stack_ports
from mrc_devstack.mirror_maker import (
    AGGREGATES_PATTERN,
    AGGREGATES_TOPIC,
    Cluster,
    federation_topics,
    state_topics,
    state_topics_pattern,
)
from mrc_devstack.paths import KAFKA_POM, MIRROR_POM
from mrc_devstack.stack import StackError
from tests.federation.conftest import FEDERATION_TEST_PORT_OFFSET

POM = {"m": "http://maven.apache.org/POM/4.0.0"}
LOCAL_TOPICS = (
    "mrc.registry.workers.v1",
    "mrc.audit.v1",
    "mrc.access.clients.v1",
    "mrc-entitlements.dlq",
    "heartbeats",
)


def pom_kafka_version(pom: Path) -> str:
    version = ET.parse(pom).getroot().find("m:properties/m:kafka.version", POM)
    assert version is not None and version.text
    return version.text


def test_mirror_maker_comes_from_the_brokers_kafka_release() -> None:
    assert pom_kafka_version(MIRROR_POM) == pom_kafka_version(KAFKA_POM) == kafka_broker.KAFKA_VERSION
    assert mirror_maker.KAFKA_VERSION == kafka_broker.KAFKA_VERSION
    artifacts = {
        a.text for a in ET.parse(MIRROR_POM).getroot().iterfind("m:dependencies/m:dependency/m:artifactId", POM)
    }
    assert "connect-mirror" in artifacts


def test_topic_patterns_select_the_topics_addressed_to_the_destination_only() -> None:
    # MirrorMaker's topic filter matches whole names (java.util.regex.Matcher.matches), like re.fullmatch.
    into_kerala = state_topics_pattern("32")
    assert state_topics("32") == (
        "mrc.federation.workers.32.v1",
        "mrc.federation.households.32.v1",
        "mrc.federation.entitlements.32.v1",
        "mrc.federation.grievances.32.v1",
    )
    for topic in state_topics("32"):
        assert re.fullmatch(into_kerala, topic)
        assert not re.fullmatch(AGGREGATES_PATTERN, topic)
    assert re.fullmatch(AGGREGATES_PATTERN, AGGREGATES_TOPIC)
    assert not re.fullmatch(into_kerala, AGGREGATES_TOPIC)
    # What a state addresses to another state (or to itself) never enters Kerala's cluster.
    others = (*state_topics("33"), *state_topics("10"), *state_topics("3"), *state_topics("320"))
    for topic in (*LOCAL_TOPICS, *others, "bihar.mrc.federation.workers.32.v1", "mrc.federation.workers.32.v2"):
        assert not re.fullmatch(into_kerala, topic), topic
        assert not re.fullmatch(AGGREGATES_PATTERN, topic)
    assert federation_topics(["33", "32"]) == (*state_topics("32"), *state_topics("33"), AGGREGATES_TOPIC)
    with pytest.raises(ValueError, match="not an LGD state code"):
        state_topics_pattern(".*")


def properties_of(text: str) -> dict[str, str]:
    lines = (line.split(" = ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in lines}


def test_flows_between_states_and_to_national_with_exactly_once() -> None:
    clusters = [Cluster("bihar", "127.0.0.1:1"), Cluster("kerala", "127.0.0.1:2"), Cluster("national", "127.0.0.1:3")]
    flows = mirror_maker.federation_flows({"bihar": "10", "kerala": "32"}, "national")
    props = properties_of(mirror_maker.properties(clusters, flows, 8083))
    enabled = {key.removesuffix(".enabled") for key, value in props.items() if key.endswith(".enabled") and "->" in key}
    assert enabled == {"bihar->kerala", "kerala->bihar", "bihar->national", "kerala->national"}
    assert props["bihar->kerala.topics"] == state_topics_pattern("32"), "only what Bihar addresses to Kerala"
    assert props["kerala->bihar.topics"] == state_topics_pattern("10")
    assert props["bihar->national.topics"] == props["kerala->national.topics"] == AGGREGATES_PATTERN
    assert "national->bihar.enabled" not in props, "nothing flows out of the national cluster"
    assert props["replication.policy.class"].endswith(".DefaultReplicationPolicy")
    for alias in ("bihar", "kerala", "national"):
        assert props[f"{alias}.exactly.once.source.support"] == "enabled"
        assert props[f"{alias}.plugin.discovery"] == "service_load"
    for source in ("bihar", "kerala"):
        assert props[f"{source}.consumer.isolation.level"] == "read_committed"
    assert props["dedicated.mode.enable.internal.rest"] == "true"
    assert props["listeners"] == "http://127.0.0.1:8083", "loopback only"
    # No heartbeats, checkpoints, offset syncs or ACL sync: nothing but the selected topics moves.
    for key in ("emit.heartbeats.enabled", "emit.checkpoints.enabled", "emit.offset-syncs.enabled"):
        assert props[key] == "false"
    assert props["sync.topic.acls.enabled"] == "false"


def test_states_are_named_by_lgd_state_and_get_their_codes() -> None:
    states = parse_states("bihar:26000, Kerala:28000,tamil_nadu:30000")
    assert [(s.name, s.code, s.port_offset) for s in states] == [
        ("bihar", "10", 26000),
        ("kerala", "32", 28000),
        ("tamil_nadu", "33", 30000),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bihar:26000", "at least two"),
        ("bihar:26000,bihar:28000", "twice"),
        ("bihar:26000,narnia:28000", "not the name of an Indian state"),
        ("bihar,kerala", "expected <name>:<port offset>"),
        ("bihar:26000,national:28000", "national"),
    ],
)
def test_bad_state_lists_are_refused(text: str, message: str) -> None:
    with pytest.raises(StackError, match=message):
        parse_states(text)


def test_colliding_or_out_of_range_ports_are_refused(tmp_path: Path) -> None:
    # Offsets 1000 apart put one state's REST ports on the other's gRPC ports (8101 + 1000 = 9101).
    with pytest.raises(StackError, match="would both use port 21105"):
        Federation(tmp_path, parse_states("bihar:12000,kerala:13000"))
    with pytest.raises(StackError, match="pick a smaller offset"):
        Federation(tmp_path, parse_states("bihar:26000,kerala:40000"))  # FerretDB at 27017 + 40000
    with pytest.raises(StackError, match="national kafka"):
        Federation(tmp_path, parse_states("bihar:26000,kerala:28000"), national_offset=26000)


def test_the_test_federation_stays_clear_of_the_other_test_stacks(tmp_path: Path) -> None:
    offset = FEDERATION_TEST_PORT_OFFSET
    federation = Federation(
        tmp_path, parse_states(f"bihar:{offset},kerala:{offset + 2000}"), national_offset=offset + 4000
    )
    ours = {federation.mirror_maker_port}
    for spec in federation.states:
        ours |= set(stack_ports(spec.port_offset).values())
    ours |= set(stack_ports(offset + 4000, kafka_only=True).values())
    # Below Linux's ephemeral ports (32768-60999 by default): a client connection may hold any port in that range.
    assert max(ours) < 32768
    # `make up` (0), the README's local federation (2000, 4000, 6000), the main suite (10000), the engineers'
    # test stacks (12000-20000) and the benchmarks (24000).
    for other in (0, 2000, 4000, 10000, 12000, 14000, 16000, 18000, 20000, 24000):
        assert not ours & set(stack_ports(other).values()), f"collides with the stack at offset {other}"
    assert not ours & set(stack_ports(6000, kafka_only=True).values())


def test_each_state_s_services_know_their_state_and_peers(tmp_path: Path) -> None:
    federation = Federation(tmp_path, parse_states("bihar:26000,kerala:28000"), national_offset=30000)
    assert federation.stacks["bihar"].service_env == {
        "MRC_STATE_CODE": "10",
        "MRC_FEDERATION_CLUSTER_ALIAS": "bihar",
        "MRC_FEDERATION_PEERS": "kerala",
    }
    assert federation.stacks["kerala"].service_env["MRC_FEDERATION_PEERS"] == "bihar"
    assert [c.alias for c in federation.clusters] == ["bihar", "kerala", "national"]


def test_unknown_services_are_refused_before_anything_starts(tmp_path: Path) -> None:
    federation = Federation(tmp_path, parse_states("bihar:26000,kerala:28000"))
    with pytest.raises(StackError, match="unknown service regsitry"):
        federation.start(services=["access", "regsitry"])
    assert not (tmp_path / "federation.json").exists(), "nothing was started or recorded"
