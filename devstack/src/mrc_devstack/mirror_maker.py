"""Apache Kafka MirrorMaker 2 (the same 3.9.1 release as the broker) between the state clusters.

One dedicated MirrorMaker 2 process (``org.apache.kafka.connect.mirror.MirrorMaker``) runs every
replication flow of a local federation: state <-> state for the federation topics, and each state ->
national for the aggregates. Its jars come from Maven Central (``devstack/kafka/mirror/pom.xml``, a
classpath of its own) into the shared cache; its configuration (``mm2.properties``) is generated from
the clusters it connects.

Choices, all in :func:`properties`:

- DefaultReplicationPolicy: state A's ``mrc.federation.workers.v1`` arrives in B as
  ``<A alias>.mrc.federation.workers.v1``; headers and keys are copied as they are.
- Exactly-once source support (KIP-618, dedicated MM2 since Kafka 3.5): every target's
  ``exactly.once.source.support=enabled``, the internal REST server MM2 needs for it, and sources read
  with ``isolation.level=read_committed``. Records and MM2's source offsets are committed in one
  transaction on the target, so a crash neither loses nor repeats what a read_committed consumer sees.
  Consumers still apply each ``ce_id`` once: a read_uncommitted consumer sees aborted retries, and a
  producer in the source state may itself publish twice.
- No heartbeats, checkpoints or offset syncs: consumers in the destination read the mirrored topics
  under their own groups (there is no consumer fail-over to translate offsets for), and a ``heartbeats``
  topic would be replicated whatever the topic filter says. Fewer topics, fewer grants in deploy/.
- No ACL sync (each cluster's ACLs are its own ``KafkaUser`` resources); topic configs are synced.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mrc_devstack.paths import MIRROR_POM, Layout
from mrc_devstack.tools import Echo, InstallError, digest, locked, read_stripped, require, run_visible

KAFKA_VERSION = "3.9.1"
MAIN_CLASS = "org.apache.kafka.connect.mirror.MirrorMaker"
HEAP = "-Xmx256m"

#: What state clusters publish for each other, and what the national cluster gets.
STATE_TOPICS: tuple[str, ...] = (
    "mrc.federation.workers.v1",
    "mrc.federation.households.v1",
    "mrc.federation.entitlements.v1",
    "mrc.federation.grievances.v1",
)
AGGREGATES_TOPIC = "mrc.federation.aggregates.v1"
FEDERATION_TOPICS: tuple[str, ...] = (*STATE_TOPICS, AGGREGATES_TOPIC)
STATE_TOPICS_PATTERN = r"mrc\.federation\.(workers|households|entitlements|grievances)\.v1"
AGGREGATES_PATTERN = r"mrc\.federation\.aggregates\.v1"
#: Aliases are cluster names in topic names (``bihar.mrc...``): lower-case, no dots.
ALIAS = re.compile(r"^[a-z][a-z0-9_]{1,30}$")

# Settings of the Connect worker (herder) of each flow, given per target cluster: dedicated MirrorMaker 2
# builds each herder's worker from `<target alias>.*` only. The defaults suit clusters of many workers on
# big machines; a dev MM2 is one process on a small one.
_WORKER_SETTINGS = {
    # Each herder would otherwise scan the classpath for plugins (seconds each, on 2 cores).
    "plugin.discovery": "service_load",
    # After a kill -9 the new process would wait up to the rebalance timeout (60 s) for the dead member to
    # leave the group, then up to scheduled.rebalance.max.delay.ms (5 min) to reassign its tasks.
    "session.timeout.ms": "6000",
    "heartbeat.interval.ms": "2000",
    "rebalance.timeout.ms": "10000",
    "scheduled.rebalance.max.delay.ms": "5000",
    # A killed task's open transaction holds back read_committed readers, the restarted worker's reading
    # of its own offsets included, until it times out (default 60 s). Transactions here last one poll.
    "producer.transaction.timeout.ms": "10000",
}

_LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
log4j.logger.org.apache.kafka.connect.runtime.isolation=WARN
log4j.logger.org.reflections=ERROR
log4j.logger.org.eclipse.jetty=WARN
log4j.logger.org.apache.kafka.common.telemetry=WARN
# "refreshing topics took 12 ms", per flow every few seconds.
log4j.logger.org.apache.kafka.connect.mirror.Scheduler=WARN
"""


@dataclass(frozen=True)
class Cluster:
    alias: str
    bootstrap: str

    def __post_init__(self) -> None:
        if not ALIAS.match(self.alias):
            raise ValueError(f"cluster alias {self.alias!r} must match {ALIAS.pattern}")


@dataclass(frozen=True)
class Flow:
    """A replication flow: topics of ``source`` matching ``topics`` (a regex) into ``target``."""

    source: str
    target: str
    topics: str

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"


def federation_flows(states: Sequence[str], national: str | None) -> list[Flow]:
    """Every state to every other state (federation topics); every state to national (aggregates only)."""
    flows = [Flow(a, b, STATE_TOPICS_PATTERN) for a in states for b in states if a != b]
    if national is not None:
        flows += [Flow(state, national, AGGREGATES_PATTERN) for state in states]
    return flows


def remote_topic(source_alias: str, topic: str) -> str:
    """The name ``topic`` of cluster ``source_alias`` has in the other clusters (DefaultReplicationPolicy)."""
    return f"{source_alias}.{topic}"


def status_topic(source_alias: str) -> str:
    """The Connect status topic of the flows from ``source_alias``, on each of their targets."""
    return f"mm2-status.{source_alias}.internal"


def properties(clusters: Sequence[Cluster], flows: Sequence[Flow], rest_port: int, *, exactly_once: bool = True) -> str:
    """``mm2.properties`` for a single-node dedicated MirrorMaker 2 on a dev machine (replication factor 1)."""
    aliases = [c.alias for c in clusters]
    if len(set(aliases)) != len(aliases):
        raise ValueError(f"cluster aliases must be unique: {aliases}")
    for flow in flows:
        if flow.source not in aliases or flow.target not in aliases:
            raise ValueError(f"flow {flow.name} names an unknown cluster")
    lines = [
        "# Generated by mrc-dev (devstack/src/mrc_devstack/mirror_maker.py); edit that file instead.",
        f"clusters = {', '.join(aliases)}",
        *(f"{c.alias}.bootstrap.servers = {c.bootstrap}" for c in clusters),
        "",
        "# Replication flows: only these herders run (heartbeats are off, so no others are implied).",
    ]
    for flow in flows:
        lines += [f"{flow.name}.enabled = true", f"{flow.name}.topics = {flow.topics}"]
    lines += [
        "",
        "replication.policy.class = org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
        "# Kafka's own plugins declare themselves: no classpath scan at start (seconds on a small machine).",
        "plugin.discovery = service_load",
        "# One broker per local cluster.",
        "replication.factor = 1",
        "config.storage.replication.factor = 1",
        "offset.storage.replication.factor = 1",
        "status.storage.replication.factor = 1",
        "# Consumers in the destination read the mirrored topics under their own groups: no offset",
        "# translation, hence no heartbeats, checkpoints or offset syncs.",
        "emit.heartbeats.enabled = false",
        "emit.checkpoints.enabled = false",
        "emit.offset-syncs.enabled = false",
        "sync.group.offsets.enabled = false",
        "refresh.groups.enabled = false",
        "# Each cluster's ACLs are its own; topic configs follow the source.",
        "sync.topic.acls.enabled = false",
        "sync.topic.configs.enabled = true",
        "# New federation topics are picked up within seconds (the default is 10 minutes).",
        "refresh.topics.interval.seconds = 5",
        "# The heartbeat connector creates its (empty) topic on each target even with heartbeats off.",
        "heartbeats.topic.replication.factor = 1",
        "# Each flow's Connect worker, set per target: no plugin scan, and a restart after a crash resumes in",
        "# seconds, not minutes (see _WORKER_SETTINGS).",
        *(f"{c.alias}.{key} = {value}" for c in clusters for key, value in _WORKER_SETTINGS.items()),
    ]
    if exactly_once:
        targets = sorted({flow.target for flow in flows})
        sources = sorted({flow.source for flow in flows})
        lines += [
            "",
            "# Exactly-once source support (KIP-618): records and source offsets in one transaction per poll.",
            *(f"{alias}.exactly.once.source.support = enabled" for alias in targets),
            *(f"{alias}.consumer.isolation.level = read_committed" for alias in sources),
            "# Needed by exactly-once support in dedicated mode (KIP-710); loopback only.",
            "dedicated.mode.enable.internal.rest = true",
            f"listeners = http://127.0.0.1:{rest_port}",
        ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------- install and run


def install_libs(layout: Layout, echo: Echo) -> Path:
    """Fetch connect-mirror and its dependencies once into ``<cache>/kafka/mirror-libs``."""
    libs = layout.mirror_libs
    stamp = libs.with_name("mirror-libs.sha256")
    wanted = digest([MIRROR_POM])
    with locked(layout.cache / "install.lock"):
        if libs.is_dir() and any(libs.glob("connect-mirror-*.jar")) and read_stripped(stamp) == wanted:
            return libs
        mvn = require("mvn", "download the MirrorMaker 2 jars")
        require("java", "run MirrorMaker 2")
        echo(f"Fetching Kafka {KAFKA_VERSION} MirrorMaker 2 jars with Maven into {libs} (first run only)...")
        partial = libs.with_name("mirror-libs.partial")
        shutil.rmtree(partial, ignore_errors=True)
        run_visible(
            [mvn, "-B", "-f", str(MIRROR_POM), "dependency:copy-dependencies", f"-DoutputDirectory={partial}"],
            cwd=MIRROR_POM.parent,
            env=None,
            echo=echo,
            prefix="  [mvn] ",
            heartbeat="still downloading",
        )
        if not any(partial.glob(f"connect-mirror-{KAFKA_VERSION}.jar")):
            raise InstallError(f"Maven finished but no connect-mirror-{KAFKA_VERSION}.jar is in {partial}")
        shutil.rmtree(libs, ignore_errors=True)
        partial.rename(libs)
        stamp.write_text(wanted + "\n")
        echo(f"MirrorMaker 2 jars ready: {sum(1 for _ in libs.glob('*.jar'))} jars in {libs}")
    return libs


def prepare(layout: Layout, config_dir: Path, mm2_properties: str) -> list[str]:
    """Write ``mm2.properties`` and the log configuration into ``config_dir``; return the command."""
    java = require("java", "run MirrorMaker 2")
    if not any(layout.mirror_libs.glob("connect-mirror-*.jar")):
        raise InstallError(f"{layout.mirror_libs} has no MirrorMaker 2 jars; run the federation install first")
    config_dir.mkdir(parents=True, exist_ok=True)
    props = config_dir / "mm2.properties"
    props.write_text(mm2_properties)
    log4j = config_dir / "log4j.properties"
    log4j.write_text(_LOG4J)
    return [
        java,
        HEAP,
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        f"-Dlog4j.configuration=file:{log4j}",
        "-cp",
        f"{layout.mirror_libs}/*",
        MAIN_CLASS,
        str(props),
    ]


# ------------------------------------------------------------------------- health


def connector_states(bootstrap: str, source_alias: str, timeout: float = 5.0) -> dict[str, tuple[str, float]]:
    """Latest Connect status, and when it was written (epoch seconds), per connector and task of the flows
    from ``source_alias`` into the cluster at ``bootstrap``.

    Reads ``mm2-status.<source>.internal`` (compacted, a few records) from the beginning: keys are
    ``status-connector-<name>`` / ``status-task-<name>-<n>``, values JSON with a ``state`` (RUNNING, FAILED...).
    """
    from kafka import KafkaConsumer, TopicPartition

    topic = status_topic(source_alias)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="mrc-dev-mm2-health",
        enable_auto_commit=False,
        request_timeout_ms=int(timeout * 1000) + 1000,
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            return {}
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end = consumer.end_offsets(assigned)
        states: dict[str, tuple[str, float]] = {}
        while any(consumer.position(tp) < end[tp] for tp in assigned):
            batches = consumer.poll(timeout_ms=int(timeout * 1000))
            if not batches:
                break
            for records in batches.values():
                for record in records:
                    key = record.key.decode() if record.key else ""
                    if record.value is None:
                        states.pop(key, None)
                        continue
                    try:
                        states[key] = (str(json.loads(record.value)["state"]), record.timestamp / 1000)
                    except (ValueError, KeyError, TypeError):
                        continue
        return states
    finally:
        consumer.close()


def flows_running(flows: Iterable[Flow], bootstrap_of: dict[str, str], since: float = 0.0) -> tuple[bool, list[str]]:
    """True when, for every flow, its MirrorSourceConnector and each of its tasks reported RUNNING at or
    after ``since`` (epoch seconds: statuses of an earlier, crashed process do not count); else what is not."""
    problems: list[str] = []
    by_source: dict[tuple[str, str], dict[str, tuple[str, float]]] = {}
    for flow in flows:
        key = (flow.target, flow.source)
        if key not in by_source:
            try:
                by_source[key] = connector_states(bootstrap_of[flow.target], flow.source)
            except Exception as e:  # a cluster not answering is a health answer, not a crash of mrc-dev
                by_source[key] = {}
                problems.append(f"{flow.name}: status unreadable ({type(e).__name__})")
                continue
        states = by_source[key]
        state, at = states.get("status-connector-MirrorSourceConnector", ("not started", 0.0))
        if state != "RUNNING" or at < since:
            problems.append(f"{flow.name}: MirrorSourceConnector {state if at >= since else 'not started yet'}")
        for name, (task_state, task_at) in sorted(states.items()):
            if name.startswith("status-task-MirrorSourceConnector") and task_state != "RUNNING" and task_at >= since:
                problems.append(f"{flow.name}: task {name.removeprefix('status-task-')} {task_state}")
    return not problems, problems
