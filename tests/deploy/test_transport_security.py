"""Transport and credential hardening of deploy/ and docker-compose.yml, checked offline.

Kafka: TLS listeners only, a SCRAM-SHA-512 user per process (Strimzi KafkaUser; the compose broker's
users), ACLs that grant each process what the code needs and nothing more (tests/deploy/kafka_access.py),
the same in the clusters and in compose. MongoDB: TLS required, one user per service limited to its own
database, each Deployment's MRC_MONGO_URI built from its own Secret. The compose helper scripts
(deploy/compose/) are run here against stand-ins for Kafka's tools, mongosh and the containers' paths.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import textwrap
import threading
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mrc_plumbing.kafka_security import KafkaSecuritySettings
from tests.deploy import kafka_access
from tests.deploy.kafka_access import Acl
from tests.deploy.test_manifests import (
    DEPLOY,
    FAUST_APP_IDS,
    REPO,
    SERVICES,
    WORKERS,
    app_services,
    base_config,
    base_objects,
    code_topics,
    component_config,
    compose,
    containers,
    env_of,
    objects_in,
    of_kind,
    rendered,
    secret_refs,
    validate_custom_resource,
)

Doc = dict[str, Any]
PROCESSES = {*SERVICES, *WORKERS}
COMPOSE_DIR = DEPLOY / "compose"
# The Secret each MongoDB component's CA comes from (deploy/components/mongodb-*).
MONGO_CA_SECRET = {"mongodb-community": "mrc-mongodb-ca", "mongodb-percona": "mrc-psmdb-ssl"}
STATE_MONGO_COMPONENT = {"bihar": "mongodb-community", "kerala": "mongodb-percona"}
STRIMZI_CA_SECRET = "mrc-kafka-cluster-ca-cert"


def mongo_database(service: str) -> str:
    """The service's database: `mongo_database` in its settings."""
    text = (REPO / "services" / service / "src" / f"mrc_{service}" / "settings.py").read_text(encoding="utf-8")
    match = re.search(r'^\s+mongo_database: str = "([^"]+)"$', text, re.M)
    assert match, f"{service}: no mongo_database default"
    return match.group(1)


def probe_topics() -> set[str]:
    return kafka_access.probe_topics(code_topics(), set(SERVICES), FAUST_APP_IDS)


# ---------------------------------------------------------------- Strimzi


def strimzi_kafka() -> Doc:
    (kafka,) = of_kind(objects_in("kafka-strimzi"), "Kafka")
    return kafka


def strimzi_users() -> list[Doc]:
    return of_kind(objects_in("kafka-strimzi"), "KafkaUser")


def acls_of_kafka_users(users: list[Doc]) -> set[Acl]:
    acls: set[Acl] = set()
    for user in users:
        for rule in user["spec"]["authorization"]["acls"]:
            assert rule.get("type", "allow") == "allow", f"{user['metadata']['name']}: deny rules are not used"
            assert rule.get("host", "*") == "*"
            resource = rule["resource"]
            name = resource.get("name", kafka_access.CLUSTER)
            for op in rule["operations"]:
                acls.add(
                    Acl(user["metadata"]["name"], resource["type"], resource.get("patternType", "literal"), name, op)
                )
    return acls


def test_strimzi_kafka_has_no_plaintext_listener_and_enforces_acls() -> None:
    kafka = strimzi_kafka()["spec"]
    listeners = kafka["kafka"]["listeners"]
    assert listeners
    for listener in listeners:
        assert listener["tls"] is True, f"listener {listener['name']} is not TLS"
        assert listener.get("authentication", {}).get("type") in ("scram-sha-512", "tls"), listener["name"]
        assert listener["type"] == "internal", "clients are inside the cluster"
        assert listener["networkPolicyPeers"], "only the platform's pods reach the brokers"
    assert kafka["kafka"]["authorization"]["type"] == "simple"
    assert not kafka["kafka"]["authorization"].get("superUsers"), "no super users besides the operator's"
    assert "userOperator" in kafka["entityOperator"], "the User Operator manages the KafkaUsers"
    bootstrap = component_config("kafka-strimzi")["MRC_KAFKA_BOOTSTRAP_SERVERS"]
    (scram,) = [lis for lis in listeners if lis["authentication"]["type"] == "scram-sha-512"]
    assert bootstrap.endswith(f":{scram['port']}"), "the services use the SCRAM listener"
    config = base_config()
    assert config["MRC_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["MRC_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    egress = {
        port.get("port")
        for p in of_kind(base_objects(), "NetworkPolicy")
        for rule in p["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }
    assert scram["port"] in egress


def test_every_process_has_its_own_kafka_user() -> None:
    users = strimzi_users()
    cluster = strimzi_kafka()["metadata"]["name"]
    names = [u["metadata"]["name"] for u in users]
    assert sorted(names) == sorted(f"mrc-{p}" for p in PROCESSES), "one KafkaUser per API and per worker"
    for user in users:
        name = user["metadata"]["name"]
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == cluster, name
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}, f"{name}: generated SCRAM password"
        assert user["spec"]["authorization"]["type"] == "simple", name
        assert not validate_custom_resource(user)


def test_strimzi_acls_grant_each_process_what_it_needs_and_no_more() -> None:
    acls = acls_of_kafka_users(strimzi_users())
    problems = kafka_access.hygiene(acls, PROCESSES)
    problems += kafka_access.mismatches(acls, PROCESSES, probe_topics(), FAUST_APP_IDS)
    assert not problems, "\n".join(problems)


def test_acl_checks_catch_too_much_and_too_little() -> None:
    """Guards the checks themselves: a foreign write prefix and a missing grant are both reported."""
    acls = acls_of_kafka_users(strimzi_users())
    foreign = acls | {Acl("mrc-registry", "topic", "prefix", "mrc.entitlements.", "Write")}
    assert any("writes a prefix other than its own" in p for p in kafka_access.hygiene(foreign, PROCESSES))
    assert any(
        "mrc-registry may Write topic mrc.entitlements.eligibility.v1" in p
        for p in kafka_access.mismatches(foreign, PROCESSES, probe_topics(), FAUST_APP_IDS)
    )
    missing = {a for a in acls if not (a.principal == "mrc-access-worker" and a.resource_type == "group")}
    assert "mrc-access-worker needs Read on group mrc-access" in kafka_access.mismatches(
        missing, PROCESSES, probe_topics(), FAUST_APP_IDS
    )
    wildcard = acls | {Acl("mrc-employer", "topic", "literal", "*", "Read")}
    assert any("too broad" in p for p in kafka_access.hygiene(wildcard, PROCESSES))


def test_kafka_user_schema_rejects_an_unknown_operation() -> None:
    (user, *_) = strimzi_users()
    broken = {
        **user,
        "spec": {
            **user["spec"],
            "authorization": {
                "type": "simple",
                "acls": [{"resource": {"type": "topic", "name": "x"}, "operations": ["Wirte"]}],
            },
        },
    }
    assert validate_custom_resource(broken)


# ---------------------------------------------------------------- Deployments


def _mounts(deployment: Doc, container: Doc) -> dict[str, Doc]:
    """mountPath -> the volume mounted there."""
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes", [])}
    return {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])}


def _ca_volume_for(deployment: Doc, container: Doc, ca_file: str) -> Doc:
    path = PurePosixPath(ca_file)
    volume = _mounts(deployment, container).get(str(path.parent))
    assert volume is not None, f"{deployment['metadata']['name']}: nothing mounted at {path.parent}"
    assert {"key": "ca.crt", "path": path.name} in volume["secret"].get("items", []), volume
    return volume


def _deployments() -> list[Doc]:
    return of_kind(base_objects(), "Deployment")


def test_each_deployment_connects_to_kafka_as_its_own_user(monkeypatch: pytest.MonkeyPatch) -> None:
    config = base_config()
    users: set[str] = set()
    for d in _deployments():
        name = d["metadata"]["name"]
        (c,) = containers(d)
        env, refs = env_of(c), secret_refs(c)
        user = env["MRC_KAFKA_SASL_USERNAME"]
        assert user == f"mrc-{name}", "the KafkaUser named after the Deployment"
        assert refs["MRC_KAFKA_SASL_PASSWORD"] == {"name": user, "key": "password"}, "the KafkaUser's own Secret"
        users.add(user)
        # The variables are the ones the code reads, and consistent.
        for key, value in {**config, **env}.items():
            if key.startswith("MRC_KAFKA_"):
                monkeypatch.setenv(key, value)
        monkeypatch.setenv("MRC_KAFKA_SASL_PASSWORD", "from-the-secret")
        security = KafkaSecuritySettings()
        assert security.uses_sasl and security.sasl_mechanism == "SCRAM-SHA-512"
        volume = _ca_volume_for(d, c, security.ssl_cafile)
        assert volume["name"] == "kafka-ca"
    assert users == {u["metadata"]["name"] for u in strimzi_users()}


def test_each_deployment_uses_its_services_mongodb_user_from_its_own_secret() -> None:
    config = base_config()
    secret_of_service: dict[str, str] = {}
    for d in _deployments():
        name = d["metadata"]["name"]
        service = d["metadata"]["labels"]["app.kubernetes.io/name"]
        (c,) = containers(d)
        env, refs = env_of(c), secret_refs(c)
        assert env["MRC_MONGO_USER"] == f"mrc-{service}", name
        ref = refs["MRC_MONGO_PASSWORD"]
        assert ref == {"name": f"mrc-mongodb-{service}", "key": "password"}, name
        assert secret_of_service.setdefault(service, ref["name"]) == ref["name"], "a worker shares its API's user"
        uri = env["MRC_MONGO_URI"]
        assert uri.startswith("mongodb://$(MRC_MONGO_USER):$(MRC_MONGO_PASSWORD)@$(MRC_MONGO_HOSTS)/?"), name
        assert "MRC_MONGO_USER" not in config, "the user is the Deployment's own, not shared configuration"
    assert len(set(secret_of_service.values())) == len(SERVICES)
    # TLS with the CA of the `mongodb-ca` volume, in the base and in every component.
    for component in ("mongodb-community", "mongodb-percona"):
        options = parse_qs({**config, **component_config(component)}["MRC_MONGO_OPTIONS"])
        assert options["tls"] == ["true"], component
        for d in _deployments():
            (c,) = containers(d)
            assert _ca_volume_for(d, c, options["tlsCAFile"][0])["name"] == "mongodb-ca"


@pytest.mark.parametrize("component", ["mongodb-community", "mongodb-percona"])
def test_mongodb_users_are_one_per_service_limited_to_its_database(component: str) -> None:
    (db,) = [d for d in objects_in(component) if d["kind"] in ("MongoDBCommunity", "PerconaServerMongoDB")]
    users = {u["name"]: u for u in db["spec"]["users"]}
    assert set(users) == {f"mrc-{s}" for s in SERVICES}
    for service in SERVICES:
        user = users[f"mrc-{service}"]
        assert user["roles"] == [{"name": "readWrite", "db": mongo_database(service)}], user["name"]
        assert user["passwordSecretRef"] == {"name": f"mrc-mongodb-{service}", "key": "password"}
    security = db["spec"].get("security", {})
    if db["kind"] == "MongoDBCommunity":
        tls = security["tls"]
        assert tls["enabled"] is True and tls["optional"] is False, "TLS required"
        assert tls["certificateKeySecretRef"]["name"]
        assert tls["caCertificateSecretRef"]["name"] == MONGO_CA_SECRET[component]
        scram = [u["scramCredentialsSecretName"] for u in users.values()]
        assert len(set(scram)) == len(scram), "the operator needs one SCRAM Secret per user"
    else:
        assert db["spec"]["tls"]["mode"] == "requireTLS"
        assert db["spec"]["secrets"]["ssl"] == MONGO_CA_SECRET[component]


@pytest.mark.parametrize("state", sorted(STATE_MONGO_COMPONENT))
def test_rendered_overlay_trusts_the_operators_cas(state: str) -> None:
    objects = rendered(state)
    (config,) = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("mrc-config")]
    assert config["data"]["MRC_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert parse_qs(config["data"]["MRC_MONGO_OPTIONS"])["tls"] == ["true"]
    # Besides these, the MirrorMaker 2 users of the federation (tests/deploy/test_federation.py).
    users = {u["metadata"]["name"] for u in of_kind(objects, "KafkaUser")}
    assert {u for u in users if not u.startswith("mrc-mirrormaker2")} == {f"mrc-{p}" for p in PROCESSES}
    for d in of_kind(objects, "Deployment"):
        volumes = {v["name"]: v["secret"] for v in d["spec"]["template"]["spec"]["volumes"] if "secret" in v}
        assert volumes["kafka-ca"]["secretName"] == STRIMZI_CA_SECRET, d["metadata"]["name"]
        assert volumes["mongodb-ca"]["secretName"] == MONGO_CA_SECRET[STATE_MONGO_COMPONENT[state]]
        for v in ("kafka-ca", "mongodb-ca"):
            assert volumes[v]["items"] == [{"key": "ca.crt", "path": "ca.crt"}], "only the CA certificate"


# ---------------------------------------------------------------- compose: Kafka


def _fake_bin(tmp_path: Path, scripts: dict[str, str]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text("#!/usr/bin/env bash\n" + textwrap.dedent(body))
        path.chmod(0o755)
    return bin_dir


def _run(script: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("bash") is None:
        pytest.skip("bash not on PATH")
    full_env = {"PATH": os.environ["PATH"], "HOME": str(cwd), **env}
    return subprocess.run(
        ["bash", str(script)], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _compose_env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose()["services"][service]["environment"].items()}


def _kafka_start(tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    """Runs deploy/compose/kafka-start.sh with stand-ins for Kafka's tools: (server.properties, format args)."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "kafka.p12.password").write_text("keystore-pw\n")
    (secrets / "admin.password").write_text("admin-pw\n")
    bin_dir = _fake_bin(
        tmp_path,
        {
            "kafka-storage.sh": f'printf "%s\\n" "$@" > {tmp_path}/format.args\n',
            "kafka-server-start.sh": f'cp "$1" {tmp_path}/started.properties\n',
        },
    )
    env = {
        **_compose_env("kafka"),
        "MRC_KAFKA_SECRETS": str(secrets),
        "KAFKA_BIN": str(bin_dir),
        "MRC_KAFKA_CONFIG": str(tmp_path / "config" / "server.properties"),
        "KAFKA_HEAP_OPTS": "-Xmx1g",
    }
    result = _run(COMPOSE_DIR / "kafka-start.sh", env, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "started.properties").read_text().splitlines()
    properties = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return properties, (tmp_path / "format.args").read_text().splitlines()


@pytest.fixture(scope="module")
def kafka_start(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], list[str]]:
    return _kafka_start(tmp_path_factory.mktemp("kafka-start"))


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for item in value.split(","):
        name, _, address = item.partition("://")
        host, _, port = address.rpartition(":")
        out[name] = (host, int(port))
    return out


def test_compose_kafka_takes_clients_over_tls_with_scram_only(kafka_start: tuple[dict[str, str], list[str]]) -> None:
    properties, _ = kafka_start
    protocols = dict(item.split(":") for item in properties["listener.security.protocol.map"].split(","))
    listeners = _listeners(properties["listeners"])
    assert set(protocols) == set(listeners)
    for name, (host, _port) in listeners.items():
        if protocols[name] != "SASL_SSL":
            # The controller and replication listeners stay on the container's loopback.
            assert host == "127.0.0.1", f"{name} ({protocols[name]}) must not listen beyond loopback"
            assert protocols[name] == "PLAINTEXT"
    for name, (host, _port) in _listeners(properties["advertised.listeners"]).items():
        assert protocols[name] == "SASL_SSL" or host == "127.0.0.1", name
    assert properties["inter.broker.listener.name"] == "REPLICATION"
    assert properties["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    for name in (n for n, p in protocols.items() if p == "SASL_SSL"):
        assert properties[f"listener.name.{name.lower()}.scram-sha-512.sasl.jaas.config"].startswith(
            "org.apache.kafka.common.security.scram.ScramLoginModule required"
        )
    assert properties["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert set(properties["super.users"].split(";")) == {"User:admin", "User:ANONYMOUS"}
    assert properties["ssl.keystore.password"] == "keystore-pw", "from the generated file"
    assert properties["ssl.keystore.location"].endswith("/kafka.p12")
    assert properties["auto.create.topics.enable"] == "false"
    assert not any(k.startswith(("mrc.", "heap")) or "opts" in k for k in properties), "only KAFKA_* become properties"
    # The services' advertised address is the one they bootstrap from.
    apps = app_services()
    (client,) = [n for n, (h, _) in _listeners(properties["advertised.listeners"]).items() if h == "kafka"]
    assert {str(s["environment"]["MRC_KAFKA_BOOTSTRAP_SERVERS"]) for s in apps.values()} == {
        "kafka:{}".format(_listeners(properties["advertised.listeners"])[client][1])
    }


def test_compose_kafka_users_are_the_processes_with_their_own_passwords(
    kafka_start: tuple[dict[str, str], list[str]],
) -> None:
    _, args = kafka_start
    assert "--ignore-formatted" in args, "the first start formats; later starts keep the data"
    scram = [args[i + 1] for i, a in enumerate(args) if a == "--add-scram"]
    credentials: dict[str, str] = {}
    for item in scram:
        match = re.fullmatch(r"SCRAM-SHA-512=\[name=([^,]+),password=([^\]]+)\]", item)
        assert match, item
        credentials[match.group(1)] = match.group(2)
    assert credentials.pop("admin") == "admin-pw", "the super user's password is the generated one"
    apps = app_services()
    expected = {
        str(s["environment"]["MRC_KAFKA_SASL_USERNAME"]): str(s["environment"]["MRC_KAFKA_SASL_PASSWORD"])
        for s in apps.values()
    }
    assert credentials == expected
    assert set(expected) == {f"mrc-{name}" for name in apps}, "each app connects as itself"
    assert len(set(expected.values())) == len(expected), "no two processes share a password"
    assert all(p.startswith("local-dev-") for p in expected.values()), "obviously local placeholders"


# Kafka ends the header line with a space.
ACL_LISTING = (
    "Current ACLs for resource `ResourcePattern(resourceType={type}, name={name}, patternType={pattern})`: \n{lines}\n"
)


def _upper(operation: str) -> str:
    """IdempotentWrite -> IDEMPOTENT_WRITE, as Kafka prints operations."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", operation).upper()


def _kafka_listing(acls: set[Acl]) -> str:
    """`kafka-acls.sh --list` output, in Kafka 3.9's format."""
    by_resource: dict[tuple[str, str, str], list[Acl]] = {}
    for a in sorted(acls, key=repr):
        by_resource.setdefault((a.resource_type, a.name, a.pattern), []).append(a)
    blocks = []
    for (rtype, name, pattern), items in by_resource.items():
        lines = "\n".join(
            f" \t(principal=User:{a.principal}, host=*, operation={_upper(a.operation)}, permissionType=ALLOW)"
            for a in items
        )
        pattern_name = "PREFIXED" if pattern == "prefix" else "LITERAL"
        blocks.append(ACL_LISTING.format(type=rtype.upper(), name=name, pattern=pattern_name, lines=lines))
    return "\n".join(blocks)


def _run_kafka_init(tmp_path: Path, topics_listing: str, acl_listing: str) -> tuple[list[list[str]], list[list[str]]]:
    """Runs deploy/compose/kafka-init.sh against stand-ins: (kafka-topics.sh calls, kafka-acls.sh calls)."""
    (tmp_path / "topics.txt").write_text(topics_listing)
    (tmp_path / "acls.txt").write_text(acl_listing)
    record = 'printf "%s\\x1f" "$@" >> {log}; echo >> {log}\n'
    bin_dir = _fake_bin(
        tmp_path,
        {
            "kafka-topics.sh": record.format(log=tmp_path / "topics.log")
            + f'[[ " $* " == *" --list "* ]] && cat {tmp_path}/topics.txt\ntrue\n',
            "kafka-acls.sh": record.format(log=tmp_path / "acls.log")
            + f'[[ " $* " == *" --list "* ]] && cat {tmp_path}/acls.txt\ntrue\n',
        },
    )
    env = {**_compose_env("kafka-init"), "KAFKA_BIN": str(bin_dir), "MRC_KAFKA_SECRETS": "/etc/kafka/mrc"}
    result = _run(COMPOSE_DIR / "kafka-init.sh", env, tmp_path)
    assert result.returncode == 0, result.stderr

    def calls(log: str) -> list[list[str]]:
        path = tmp_path / log
        text = path.read_text() if path.exists() else ""
        return [line.rstrip("\x1f").split("\x1f") for line in text.splitlines() if line]

    return calls("topics.log"), calls("acls.log")


def _acls_from_calls(calls: list[list[str]]) -> set[Acl]:
    acls: set[Acl] = set()
    for args in calls:
        if "--add" not in args:
            continue
        assert args[args.index("--command-config") + 1].endswith("admin.properties"), "as admin"
        user = args[args.index("--allow-principal") + 1].removeprefix("User:")
        pattern = {"literal": "literal", "prefixed": "prefix"}[args[args.index("--resource-pattern-type") + 1]]
        if "--cluster" in args:
            rtype, name = "cluster", kafka_access.CLUSTER
        else:
            rtype = "topic" if "--topic" in args else "group"
            name = args[args.index(f"--{rtype}") + 1]
        for i, a in enumerate(args):
            if a == "--operation":
                acls.add(Acl(user, rtype, pattern, name, args[i + 1]))
    return acls


def test_compose_kafka_init_creates_the_clusters_topics_and_acls(tmp_path: Path) -> None:
    topic_calls, acl_calls = _run_kafka_init(tmp_path, "", "")
    created = {
        args[args.index("--topic") + 1]: dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "--config")
        for args in topic_calls
        if "--create" in args
    }
    strimzi = {t["metadata"]["name"]: t["spec"]["config"] for t in of_kind(objects_in("kafka-strimzi"), "KafkaTopic")}
    assert set(created) == set(strimzi), "the same topics as the clusters"
    for name, config in created.items():
        for key in ("retention.ms", "cleanup.policy"):
            assert config.get(key) == (str(strimzi[name][key]) if key in strimzi[name] else None), (name, key)
    partitions = {args[args.index("--partitions") + 1] for args in topic_calls if "--create" in args}
    assert partitions == {str(s["environment"]["MRC_KAFKA_TOPIC_PARTITIONS"]) for s in app_services().values()}
    compose_acls = _acls_from_calls(acl_calls)
    assert compose_acls == acls_of_kafka_users(strimzi_users()), "the same ACLs as the clusters"
    problems = kafka_access.mismatches(compose_acls, PROCESSES, probe_topics(), FAUST_APP_IDS)
    assert not problems, "\n".join(problems)


def test_compose_kafka_init_leaves_what_exists_alone(tmp_path: Path) -> None:
    topics = "\n".join(t["metadata"]["name"] for t in of_kind(objects_in("kafka-strimzi"), "KafkaTopic"))
    everything = acls_of_kafka_users(strimzi_users())
    topic_calls, acl_calls = _run_kafka_init(tmp_path, topics + "\n", _kafka_listing(everything))
    assert [c for c in topic_calls if "--list" not in c] == []
    assert [c for c in acl_calls if "--list" not in c] == []
    # One ACL missing: exactly that one is added back.
    (tmp_path / "bin").rename(tmp_path / "bin-first")
    for log in ("topics.log", "acls.log"):
        (tmp_path / log).unlink(missing_ok=True)
    lost = Acl("mrc-access-worker", "group", "prefix", "mrc-access", "Read")
    _, acl_calls = _run_kafka_init(tmp_path, topics + "\n", _kafka_listing(everything - {lost}))
    assert _acls_from_calls(acl_calls) == {lost}


# ---------------------------------------------------------------- compose: apps, MongoDB, generated secrets


def test_compose_apps_connect_with_their_own_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    apps = app_services()
    mongo_init = _compose_env("mongo-init")
    for name, svc in apps.items():
        env = {k: str(v) for k, v in svc["environment"].items()}
        service = svc["build"]["args"]["SERVICE"]
        for key, value in env.items():
            if key.startswith("MRC_KAFKA_"):
                monkeypatch.setenv(key, value)
        security = KafkaSecuritySettings()
        assert security.uses_sasl and security.sasl_username == f"mrc-{name}", name
        mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in svc["volumes"]}
        ca_dir = str(PurePosixPath(security.ssl_cafile).parent)
        assert mounts.get(ca_dir) == "mrc-ca", f"{name}: the CA volume is mounted at {ca_dir}"
        uri = urlsplit(env["MRC_MONGO_URI"])
        query = parse_qs(uri.query)
        assert uri.username == f"mrc-{service}" and uri.password, name
        assert query["tls"] == ["true"] and query["authSource"] == ["admin"], name
        assert str(PurePosixPath(query["tlsCAFile"][0]).parent) == ca_dir
        assert mongo_init[f"MRC_MONGO_URI_{service.upper()}"] == env["MRC_MONGO_URI"], "mongo-init creates that user"
    passwords = {urlsplit(str(s["environment"]["MRC_MONGO_URI"])).password for s in apps.values()}
    assert len(passwords) == len(SERVICES), "one MongoDB user (and password) per service"


def test_compose_mongo_requires_tls_and_authentication() -> None:
    services = compose()["services"]
    mongo = services["mongo"]
    command = mongo["command"]

    def arg(flag: str) -> str:
        return str(command[command.index(flag) + 1])

    assert arg("--tlsMode") == "requireTLS"
    secrets_dir = next(str(v).split(":")[1] for v in mongo["volumes"] if str(v).startswith("mongo-secrets:"))
    for flag in ("--keyFile", "--tlsCertificateKeyFile", "--tlsCAFile"):
        assert arg(flag).startswith(secrets_dir + "/"), f"{flag} comes from the generated secrets"
    env = mongo["environment"]
    assert "MONGO_INITDB_ROOT_PASSWORD" not in env, "the root password is generated, never in the file"
    assert env["MONGO_INITDB_ROOT_PASSWORD_FILE"].startswith(secrets_dir + "/")
    assert "tls=true" in " ".join(mongo["healthcheck"]["test"])
    for name in ("mongo", "kafka"):
        assert all(str(v).endswith(":ro") for v in services[name]["volumes"] if "secrets" in str(v)), name


def test_compose_secrets_are_generated_not_committed() -> None:
    services = compose()["services"]
    certs = services["certs"]
    assert certs["network_mode"] == "none"
    for name in ("kafka", "mongo"):
        assert services[name]["depends_on"]["certs"]["condition"] == "service_completed_successfully"
    for path in [REPO / "docker-compose.yml", *DEPLOY.rglob("*")]:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "PRIVATE KEY-----" not in text, f"{path}: key material in the repository"
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    for password in re.findall(r"local-dev-(?:kafka|mongo)-[a-z-]+", text):
        assert password.startswith("local-dev-")
    assert "LOCAL DEVELOPMENT ONLY" in text.split("x-kafka-passwords")[0]


def test_compose_mongo_init_creates_each_service_user_on_its_database(tmp_path: Path) -> None:
    """Runs deploy/compose/mongo-init.js in node with a stand-in for mongosh's connect()."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not on PATH: mongo-init.js not run")
    (tmp_path / "root.password").write_text("root-pw\n")
    harness = tmp_path / "harness.js"
    harness.write_text(
        textwrap.dedent(
            """
            const calls = [];
            globalThis.print = () => {};
            globalThis.connect = (url) => {
              calls.push(['connect', url]);
              return {
                getUser: (u) => (u === 'mrc-registry' ? { user: u } : null),
                createUser: (spec) => calls.push(['create', spec]),
                updateUser: (u, spec) => calls.push(['update', { user: u, ...spec }]),
              };
            };
            require(process.argv[2]);
            console.log(JSON.stringify(calls));
            """
        )
    )
    env = {**_compose_env("mongo-init"), "MRC_MONGO_SECRETS": str(tmp_path), "PATH": os.environ["PATH"]}
    result = subprocess.run(
        [node, str(harness), str(COMPOSE_DIR / "mongo-init.js")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    (connect,) = [c[1] for c in calls if c[0] == "connect"]
    assert connect.startswith("mongodb://root:root-pw@mongo:27017/admin?") and "tls=true" in connect
    users = {c[1]["user"]: c[1] for c in calls if c[0] in ("create", "update")}
    assert set(users) == {f"mrc-{s}" for s in SERVICES}
    for service in SERVICES:
        user = users[f"mrc-{service}"]
        assert user["roles"] == [{"role": "readWrite", "db": mongo_database(service)}]
        assert user["pwd"] == urlsplit(str(app_services()[service]["environment"]["MRC_MONGO_URI"])).password


def test_compose_mongo_healthcheck_initiates_the_replica_set_as_root() -> None:
    """Runs the healthcheck's script in node with stand-ins for mongosh's connect() and quit()."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not on PATH: the mongo healthcheck script not run")
    test = compose()["services"]["mongo"]["healthcheck"]["test"]
    script = test[test.index("--eval") + 1]
    harness = textwrap.dedent(
        """
        const calls = [];
        const fakeRequire = (name) => ({ readFileSync: (path) => { calls.push(['read', path]); return 'pw\\n'; } });
        const connect = (url) => {
          calls.push(['connect', url]);
          return {
            adminCommand: (cmd) => {
              calls.push(['command', Object.keys(cmd)[0]]);
              if (cmd.replSetGetStatus) { throw new Error('no replset config has been received'); }
              return { ok: 1 };
            },
            hello: () => ({ isWritablePrimary: true }),
          };
        };
        const quit = (code) => calls.push(['quit', code]);
        new Function('require', 'connect', 'quit', process.argv[1])(fakeRequire, connect, quit);
        console.log(JSON.stringify(calls));
        """
    )
    result = subprocess.run([node, "-e", harness, script], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    (url,) = [c[1] for c in calls if c[0] == "connect"]
    assert url.startswith("mongodb://root:pw@localhost:27017/admin?") and "tls=true" in url
    assert [c[1] for c in calls if c[0] == "command"] == ["replSetGetStatus", "replSetInitiate"]
    assert not [c for c in calls if c[0] == "quit"], "healthy once primary"


def _tls_handshake(server_pem: Path, client: ssl.SSLContext, hostname: str) -> None:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(server_pem)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with server.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client.wrap_socket(raw, server_hostname=hostname) as tls,
        ):
            tls.sendall(b"x")
        thread.join(5)


def test_compose_certificates_are_generated_and_verify(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not on PATH: make-certs.sh not run")
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

    out = {"OUT_CA": tmp_path / "ca", "OUT_KAFKA": tmp_path / "kafka", "OUT_MONGO": tmp_path / "mongo"}
    env = {k: str(v) for k, v in out.items()} | {"KAFKA_UID": str(os.getuid()), "MONGO_UID": str(os.getuid())}
    env |= {"KAFKA_SECRETS_MOUNT": "/etc/kafka/mrc"}
    first = _run(COMPOSE_DIR / "make-certs.sh", env, tmp_path)
    assert first.returncode == 0, first.stderr
    files = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in tmp_path.rglob("*") if p.is_file()}
    for name in (
        "kafka/kafka.p12",
        "kafka/admin.password",
        "kafka/admin.properties",
        "mongo/mongo.pem",
        "mongo/keyfile",
    ):
        assert files[name] == 0o400, f"{name} is readable by its server's user only"
    assert files["ca/ca.crt"] == 0o444
    ca = out["OUT_CA"] / "ca.crt"
    client = KafkaSecuritySettings(security_protocol="SSL", ssl_cafile=str(ca)).ssl_context()
    assert client is not None
    _tls_handshake(out["OUT_MONGO"] / "mongo.pem", client, "mongo")
    # The broker's key store opens with its generated password and holds a certificate for `kafka`.
    password = (out["OUT_KAFKA"] / "kafka.p12.password").read_bytes().strip()
    key, cert, _ = pkcs12.load_key_and_certificates((out["OUT_KAFKA"] / "kafka.p12").read_bytes(), password)
    assert key is not None and cert is not None
    kafka_pem = tmp_path / "kafka.pem"
    kafka_pem.write_bytes(
        cert.public_bytes(Encoding.PEM) + key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    _tls_handshake(kafka_pem, client, "kafka")
    assert cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    admin = (out["OUT_KAFKA"] / "admin.properties").read_text()
    assert "security.protocol=SASL_SSL" in admin and "ssl.truststore.location=/etc/kafka/mrc/ca.crt" in admin
    # A second run keeps everything (the data volumes were made with these passwords).
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".properties"}
    second = _run(COMPOSE_DIR / "make-certs.sh", env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "certificates present" in second.stdout
    assert {p: p.read_bytes() for p in before} == before
