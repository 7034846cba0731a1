"""Offline checks of the deployment files: docker-compose.yml, Dockerfile/.dockerignore and deploy/ (Kustomize).

Custom resources (Strimzi, Percona, MongoDB Community) are validated against the openAPIV3Schema of their
CRDs in ../shared/schemas; Kubernetes' own kinds against the invariants the platform relies on. No network,
no cluster. If `kustomize` or `kubectl` is on PATH the overlays are also rendered (locally) and re-checked.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from mrc_plumbing.auth.client_address import parse_networks

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = REPO / "docker-compose.yml"
SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "schemas"

# (HTTP port, gRPC port) of each service's API process.
SERVICES = {
    "registry": (8101, 9101),
    "entitlements": (8102, 9102),
    "grievance": (8103, 9103),
    "employer": (8104, 9104),
    "access": (8105, 9105),
}
# faust consumers: Deployment/compose name -> (service, faust web port). Each runs `python -m mrc_<service>.worker`.
WORKERS = {
    "entitlements-worker": ("entitlements", 6066),
    "access-worker": ("access", 6067),
    "grievance-worker": ("grievance", 6068),
    "employer-worker": ("employer", 6069),
}
# faust app ids (= consumer groups); each has a dead-letter topic `<app id>.dlq`.
FAUST_APP_IDS = {"mrc-entitlements", "mrc-grievance", "mrc-access", "mrc-employer"}
# LGD state codes of the per-state overlays.
STATE_CODES = {"bihar": "10", "kerala": "32"}
# The national cluster's overlay: aggregates from every state (tests/deploy/test_federation.py).
NATIONAL = "national"
JWKS_PATH = "/.well-known/jwks.json"
# Field-encryption keys every Deployment reads from Secrets (never literal values).
CRYPTO_ENV = ("MRC_MASTER_KEYS", "MRC_MASTER_KEY_ACTIVE", "MRC_BLIND_INDEX_KEY")
CUSTOM_GROUPS = {"kafka.strimzi.io", "core.strimzi.io", "psmdb.percona.com", "mongodbcommunity.mongodb.com"}
PART_OF = {"app.kubernetes.io/part-of": "mrc"}

Doc = dict[str, Any]


# ---------------------------------------------------------------- what the code declares


def _code_files() -> list[Path]:
    return sorted(p for root in ("services", "libs") for p in (REPO / root).glob("*/src/**/*.py"))


def _constants(suffix: str) -> set[str]:
    """String values of module constants `<NAME><suffix> = "..."` in the services' and libraries' code."""
    pattern = re.compile(rf'^[A-Z_]*{suffix} = "([^"]+)"', re.M)
    return {m for path in _code_files() for m in pattern.findall(path.read_text(encoding="utf-8"))}


@functools.cache
def code_topics() -> set[str]:
    return _constants("TOPIC")


@functools.cache
def expected_topics() -> set[str]:
    return code_topics() | {f"{app_id}.dlq" for app_id in FAUST_APP_IDS}


def _settings_default(service: str, field: str) -> int | None:
    text = (REPO / "services" / service / "src" / f"mrc_{service}" / "settings.py").read_text(encoding="utf-8")
    match = re.search(rf"^\s+{field}: int = (\d+)$", text, re.M)
    return int(match.group(1)) if match else None


def test_code_declares_what_the_deployment_knows() -> None:
    assert {"mrc.audit.v1", "mrc.access.clients.v1", "mrc.registry.households.v1"} <= code_topics()
    assert _constants("CONSUMER_APP_ID") == FAUST_APP_IDS, "a new faust app needs its worker and DLQ topic here"
    for service, (http, grpc) in SERVICES.items():
        assert (_settings_default(service, "http_port"), _settings_default(service, "grpc_port")) == (http, grpc)
    for name, (service, web_port) in WORKERS.items():
        assert (REPO / "services" / service / "src" / f"mrc_{service}" / "worker.py").is_file(), name
        assert _settings_default(service, "worker_web_port") == web_port, name


# ---------------------------------------------------------------- loading


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


# libyaml when present: the CRD files are megabytes of YAML.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_docs(path: Path) -> list[Doc]:
    with path.open(encoding="utf-8") as f:
        return [d for d in yaml.load_all(f, Loader=_LOADER) if d is not None]


def deploy_yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def kustomization_files() -> list[Path]:
    return sorted(DEPLOY.rglob("kustomization.yaml"))


def _entries(kustomization: Doc, key: str) -> list[str]:
    out: list[str] = []
    for item in kustomization.get(key) or []:
        out.append(item if isinstance(item, str) else item["path"])
    return out


def resource_files() -> list[Path]:
    """Files listed under `resources:` somewhere: complete objects, unlike patches."""
    files: list[Path] = []
    for k in kustomization_files():
        for entry in _entries(load_docs(k)[0], "resources"):
            path = (k.parent / entry).resolve()
            if path.is_file():
                files.append(path)
    return sorted(set(files))


def patch_files() -> list[Path]:
    files: list[Path] = []
    for k in kustomization_files():
        files += [(k.parent / e).resolve() for e in _entries(load_docs(k)[0], "patches")]
    return sorted(set(files))


def json_patch_files() -> list[Path]:
    """Patches given as JSON 6902 operations (a YAML list, applied to the kustomization entry's `target`)."""
    return [f for f in patch_files() if any(isinstance(d, list) for d in load_docs(f))]


def base_objects() -> list[Doc]:
    return [d for f in resource_files() if DEPLOY / "base" in f.parents for d in load_docs(f)]


def base_config() -> dict[str, str]:
    """Literals of the base's mrc-config generator."""
    k = load_docs(DEPLOY / "base" / "kustomization.yaml")[0]
    (gen,) = [g for g in k["configMapGenerator"] if g["name"] == "mrc-config"]
    return dict(lit.split("=", 1) for lit in gen["literals"])


def component_config(component: str) -> dict[str, str]:
    k = load_docs(DEPLOY / "components" / component / "kustomization.yaml")[0]
    out: dict[str, str] = {}
    for gen in k.get("configMapGenerator") or []:
        if gen["name"] == "mrc-config":
            assert gen.get("behavior") == "merge", f"{component}: mrc-config must be merged, not replaced"
            out.update(lit.split("=", 1) for lit in gen["literals"])
    return out


def objects_in(component: str) -> list[Doc]:
    folder = DEPLOY / "components" / component
    return [d for f in resource_files() if folder in f.parents for d in load_docs(f)]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d.get("kind") == kind]


# ---------------------------------------------------------------- CRD schemas


def _strict(node: Any) -> Any:
    """Kubernetes prunes (or, with strict field validation, rejects) unknown fields; make typos fail here."""
    if isinstance(node, dict):
        node = {k: _strict(v) for k, v in node.items()}
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        if (
            node.get("type") == "object"
            and "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


@functools.cache
def crd_versions() -> dict[tuple[str, str], dict[str, Doc]]:
    """(group, kind) -> version name -> that version's entry (served, storage, deprecated, schema)."""
    if not SCHEMAS.is_dir():
        pytest.skip(f"CRD schemas not found at {SCHEMAS} (the shared/schemas folder beside the repository)")
    out: dict[tuple[str, str], dict[str, Doc]] = {}
    for path in sorted(SCHEMAS.rglob("*.yaml")):
        for doc in load_docs(path):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            out[(spec["group"], spec["names"]["kind"])] = {v["name"]: v for v in spec["versions"]}
    return out


def crd_version_for(obj: Doc) -> Doc:
    group, _, version = obj["apiVersion"].partition("/")
    versions = crd_versions().get((group, obj["kind"]))
    assert versions is not None, f"no CRD for {obj['kind']} in group {group} under {SCHEMAS}"
    assert version in versions, f"{obj['kind']}: {version} is not a version of its CRD ({sorted(versions)})"
    return versions[version]


def validate_custom_resource(obj: Doc, *, partial: bool = False) -> list[str]:
    entry = crd_version_for(obj)
    schema = _strict(entry["schema"]["openAPIV3Schema"])
    if partial:
        schema = _without_required(schema)
    validator = jsonschema.Draft7Validator(schema)
    where = f"{obj['kind']}/{obj.get('metadata', {}).get('name')}"
    return [
        f"{where} at {'.'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in validator.iter_errors(obj)
    ]


def is_custom(obj: Doc) -> bool:
    return obj.get("apiVersion", "").split("/")[0] in CUSTOM_GROUPS


# ---------------------------------------------------------------- rendering (optional)


def _kustomize_command() -> list[str] | None:
    if exe := shutil.which("kustomize"):
        return [exe, "build"]
    if exe := shutil.which("kubectl"):
        return [exe, "kustomize"]
    return None


@functools.cache
def rendered(overlay: str) -> list[Doc]:
    command = _kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl on PATH: rendered overlays not checked (raw files were)")
    result = subprocess.run(
        [*command, str(DEPLOY / "overlays" / overlay)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"kustomize build of overlays/{overlay} failed:\n{result.stderr}"
    return [d for d in yaml.load_all(result.stdout, Loader=_LOADER) if d is not None]


# ---------------------------------------------------------------- built-in kinds


def containers(deployment: Doc) -> list[Doc]:
    return list(deployment["spec"]["template"]["spec"]["containers"])


def container_ports(deployment: Doc) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for c in containers(deployment) for p in c.get("ports", [])}


def env_of(container: Doc) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def secret_refs(container: Doc) -> dict[str, Doc]:
    """env name -> its secretKeyRef."""
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def jwks_url_problem(url: str, namespace: str | None = None) -> str | None:
    """The access Service's JWKS: `access` in the pod's namespace, or fully qualified in `namespace`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    hosts = {"access"}
    if namespace:
        hosts |= {f"access.{namespace}", f"access.{namespace}.svc", f"access.{namespace}.svc.cluster.local"}
    if parts.scheme != "http" or host not in hosts:
        return f"MRC_AUTH_JWKS_URL {url!r}: host is not one of {sorted(hosts)}"
    if parts.port != SERVICES["access"][0] or parts.path != JWKS_PATH:
        return f"MRC_AUTH_JWKS_URL {url!r} is not on access:{SERVICES['access'][0]}{JWKS_PATH}"
    return None


def check_secrets_and_jwks(deployment: Doc, config: dict[str, str], namespace: str | None = None) -> list[str]:
    """Crypto keys from Secrets (required ones), and the JWKS URL of the access Service."""
    name = deployment["metadata"]["name"]
    problems: list[str] = []
    for c in containers(deployment):
        refs, literals = secret_refs(c), env_of(c)
        for var in CRYPTO_ENV:
            ref = refs.get(var)
            if ref is None:
                problems.append(f"{name}: {var} is not read from a Secret")
            elif ref.get("optional"):
                problems.append(f"{name}: {var} must not be optional")
        jwks = literals.get("MRC_AUTH_JWKS_URL") or config.get("MRC_AUTH_JWKS_URL", "")
        if problem := jwks_url_problem(jwks, namespace):
            problems.append(f"{name}: {problem}")
    return problems


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def check_deployment_hardening(deployment: Doc) -> list[str]:
    name = deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]["spec"]
    problems: list[str] = []
    if pod.get("automountServiceAccountToken") is not False:
        problems.append(f"{name}: automountServiceAccountToken must be false")
    pod_sc = pod.get("securityContext", {})
    for c in containers(deployment):
        where = f"{name}/{c['name']}"
        sc = c.get("securityContext", {})
        for probe in ("livenessProbe", "readinessProbe"):
            if probe not in c:
                problems.append(f"{where}: no {probe}")
        resources = c.get("resources", {})
        for key in ("cpu", "memory"):
            if key not in resources.get("requests", {}):
                problems.append(f"{where}: no {key} request")
        if "memory" not in resources.get("limits", {}):
            problems.append(f"{where}: no memory limit")
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            problems.append(f"{where}: runAsNonRoot is not true")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            problems.append(f"{where}: capabilities are not all dropped")
        if ":latest" in c["image"]:
            problems.append(f"{where}: image uses :latest")
    return problems


def check_api_deployment(deployment: Doc) -> list[str]:
    """Probes on the right ports and env that agrees with the container ports."""
    service = deployment["metadata"]["labels"]["app.kubernetes.io/name"]
    http, grpc = SERVICES[service]
    ports = container_ports(deployment)
    problems: list[str] = []
    if ports != {"http": http, "grpc": grpc}:
        problems.append(f"{service}: container ports {ports} != http {http}, grpc {grpc}")
    (c,) = containers(deployment)
    for probe in ("startupProbe", "livenessProbe"):
        if c.get(probe, {}).get("grpc", {}).get("port") != grpc:
            problems.append(f"{service}: {probe} is not a gRPC health check on {grpc}")
    ready = c.get("readinessProbe", {}).get("httpGet", {})
    if ready.get("path") != "/readyz" or ready.get("port") not in ("http", http):
        problems.append(f"{service}: readinessProbe is not GET /readyz on the http port")
    env = env_of(c)
    upper = service.upper()
    expected = {f"MRC_{upper}_BIND_HOST": "0.0.0.0", f"MRC_{upper}_HTTP_PORT": str(http)}
    expected[f"MRC_{upper}_GRPC_PORT"] = str(grpc)
    for key, value in expected.items():
        if env.get(key) != value:
            problems.append(f"{service}: env {key}={env.get(key)!r}, expected {value!r}")
    return problems


def check_services(objects: list[Doc]) -> list[str]:
    deployments = of_kind(objects, "Deployment")
    problems: list[str] = []
    for svc in of_kind(objects, "Service"):
        name = svc["metadata"]["name"]
        selector = svc["spec"].get("selector", {})
        targets = [d for d in deployments if labels_match(selector, d["spec"]["template"]["metadata"]["labels"])]
        if not targets:
            problems.append(f"Service {name}: selector {selector} matches no Deployment")
        for d in targets:
            ports = container_ports(d)
            for p in svc["spec"]["ports"]:
                target = p.get("targetPort", p["port"])
                if target not in ports and target not in ports.values():
                    problems.append(f"Service {name}: targetPort {target} not a port of {d['metadata']['name']}")
    return problems


def check_env_references(deployment: Doc, config: dict[str, str]) -> list[str]:
    """`$(VAR)` left unresolved is passed on literally by the kubelet, so every one must be defined."""
    problems: list[str] = []
    for c in containers(deployment):
        defined = set(config)
        for e in c.get("env", []):
            for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", e.get("value", "")):
                if ref not in defined:
                    problems.append(f"{deployment['metadata']['name']}: {e['name']} uses undefined $({ref})")
            defined.add(e["name"])
        refs = [src["configMapRef"]["name"] for src in c.get("envFrom", []) if "configMapRef" in src]
        if not any(r.startswith("mrc-config") for r in refs):
            problems.append(f"{deployment['metadata']['name']}: does not load mrc-config")
    return problems


def _selects(selector: Doc | None, labels: dict[str, str]) -> bool:
    """matchLabels only (the platform uses nothing else); an empty selector selects everything."""
    return labels_match((selector or {}).get("matchLabels", {}), labels)


def _port_allowed(rule: Doc, port: int, dst: Doc) -> bool:
    names = container_ports(dst)
    allowed = rule.get("ports")
    if not allowed:
        return True
    for p in allowed:
        if p.get("protocol", "TCP") == "TCP" and (p.get("port") == port or names.get(str(p.get("port"))) == port):
            return True
    return False


def _peer_selects(peer: Doc, labels: dict[str, str]) -> bool:
    """Same namespace only; a bare `namespaceSelector: {}` is every pod of every namespace."""
    if "namespaceSelector" in peer:
        if peer["namespaceSelector"] and peer["namespaceSelector"].get("matchLabels"):
            return False  # other namespaces by label: not assumed to include our own
        return _selects(peer.get("podSelector"), labels)
    return "podSelector" in peer and _selects(peer["podSelector"], labels)


def network_allows(policies: list[Doc], src: Doc, dst: Doc, port: int) -> list[str]:
    """Why traffic from src's pods to dst's pods on `port` is refused by the policies (empty if allowed)."""
    src_labels = src["spec"]["template"]["metadata"]["labels"]
    dst_labels = dst["spec"]["template"]["metadata"]["labels"]
    problems: list[str] = []
    for direction, own, peer_labels, key, peers in (
        ("Egress", src_labels, dst_labels, "egress", "to"),
        ("Ingress", dst_labels, src_labels, "ingress", "from"),
    ):
        applying = [
            p
            for p in policies
            if direction in p["spec"].get("policyTypes", []) and _selects(p["spec"]["podSelector"], own)
        ]
        if not applying:
            continue  # not isolated in this direction
        if not any(
            _port_allowed(rule, port, dst)
            and (peers not in rule or any(_peer_selects(peer, peer_labels) for peer in rule[peers]))
            for p in applying
            for rule in p["spec"].get(key, [])
        ):
            problems.append(f"{direction} {src['metadata']['name']} -> {dst['metadata']['name']}:{port} is denied")
    return problems


# ---------------------------------------------------------------- every file parses


@pytest.mark.parametrize("path", [*deploy_yaml_files(), COMPOSE_FILE], ids=_rel)
def test_yaml_parses(path: Path) -> None:
    docs = load_docs(path)
    assert docs, f"{_rel(path)} is empty"
    if path in json_patch_files():
        operations: Any = docs[0]
        for op in operations:
            assert op.get("op") in ("add", "replace", "remove", "test") and str(op.get("path", "")).startswith("/")
        return
    for doc in docs:
        assert isinstance(doc, dict), f"{_rel(path)}: a document is not a mapping"
        if path.name != "kustomization.yaml" and path != COMPOSE_FILE:
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), f"{_rel(path)}: not a Kubernetes object"


def test_deploy_tree_has_base_components_and_overlays() -> None:
    assert (DEPLOY / "base" / "kustomization.yaml").is_file()
    components = {p.parent.name for p in (DEPLOY / "components").glob("*/kustomization.yaml")}
    assert {"kafka-strimzi", "mongodb-community", "mongodb-percona"} <= components
    overlays = {p.parent.name for p in (DEPLOY / "overlays").glob("*/kustomization.yaml")}
    assert overlays == {*STATE_CODES, NATIONAL}


# ---------------------------------------------------------------- custom resources vs. CRDs


def _custom_resources(files: list[Path]) -> Iterator[Any]:
    for path in files:
        for i, doc in enumerate(load_docs(path)):
            if isinstance(doc, dict) and is_custom(doc):
                yield pytest.param(doc, id=f"{_rel(path)}#{i}:{doc['kind']}/{doc['metadata']['name']}")


@pytest.mark.parametrize("obj", list(_custom_resources(resource_files())))
def test_custom_resource_matches_crd_schema(obj: Doc) -> None:
    errors = validate_custom_resource(obj)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("obj", list(_custom_resources(patch_files())))
def test_custom_resource_patch_matches_crd_schema(obj: Doc) -> None:
    # A patch is partial: same schema, nothing required.
    errors = validate_custom_resource(obj, partial=True)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("obj", list(_custom_resources([*resource_files(), *patch_files()])))
def test_custom_resource_uses_current_api_version(obj: Doc) -> None:
    entry = crd_version_for(obj)
    assert entry.get("served"), f"{obj['apiVersion']} {obj['kind']} is not served"
    assert entry.get("storage"), f"{obj['apiVersion']} {obj['kind']} is not the storage version"
    assert not entry.get("deprecated"), f"{obj['apiVersion']} {obj['kind']} is deprecated"


def test_schemas_cover_every_custom_kind_used() -> None:
    kinds = {(d["apiVersion"].split("/")[0], d["kind"]) for f in resource_files() for d in load_docs(f)}
    custom = {k for k in kinds if k[0] in CUSTOM_GROUPS}
    assert {k for k, _ in custom} >= {"kafka.strimzi.io", "psmdb.percona.com", "mongodbcommunity.mongodb.com"}
    missing = custom - crd_versions().keys()
    assert not missing, f"no CRD schema for {missing}"


def test_strictness_catches_unknown_fields() -> None:
    """Guards the validator itself: a misspelt field must be reported."""
    (kafka,) = of_kind(objects_in("kafka-strimzi"), "Kafka")
    broken = copy.deepcopy(kafka)
    broken["spec"]["kafka"]["listners"] = broken["spec"]["kafka"].pop("listeners")
    assert validate_custom_resource(broken)


# ---------------------------------------------------------------- kustomizations


@pytest.mark.parametrize("path", kustomization_files(), ids=_rel)
def test_kustomization_references_exist(path: Path) -> None:
    k = load_docs(path)[0]
    is_component = path.parent.parent.name == "components"
    expected_kind = "Component" if is_component else "Kustomization"
    assert k.get("kind") == expected_kind, f"{_rel(path)}: kind {k.get('kind')}, expected {expected_kind}"
    for key in ("resources", "components", "patches"):
        for entry in _entries(k, key):
            assert "://" not in entry, f"remote reference {entry}"
            assert not entry.startswith("github.com"), f"remote reference {entry}"
            target = (path.parent / entry).resolve()
            assert DEPLOY in target.parents, f"{_rel(path)}: {entry} points outside deploy/"
            if key == "resources":
                assert target.is_file() or (target / "kustomization.yaml").is_file(), f"missing {entry}"
            elif key == "components":
                comp = target / "kustomization.yaml"
                assert comp.is_file(), f"{_rel(path)}: missing component {entry}"
                assert load_docs(comp)[0].get("kind") == "Component", f"{entry} is not a Component"
            else:
                assert target.is_file(), f"{_rel(path)}: missing patch {entry}"
    # Every YAML file beside a kustomization is used by it (a forgotten file is a silent no-op).
    used = {(path.parent / e).resolve() for key in ("resources", "patches") for e in _entries(k, key)}
    for sibling in path.parent.glob("*.yaml"):
        if sibling.name != "kustomization.yaml":
            assert sibling.resolve() in used, f"{_rel(sibling)} is not referenced by its kustomization"


@pytest.mark.parametrize("state", sorted(STATE_CODES))
def test_overlay_sets_state(state: str) -> None:
    folder = DEPLOY / "overlays" / state
    k = load_docs(folder / "kustomization.yaml")[0]
    namespace = f"mrc-{state}"
    assert k.get("namespace") == namespace
    ns_objects = [d for e in _entries(k, "resources") if (folder / e).is_file() for d in load_docs(folder / e)]
    assert any(d["kind"] == "Namespace" and d["metadata"]["name"] == namespace for d in ns_objects)
    literals = [lit for g in k.get("configMapGenerator", []) if g["name"] == "mrc-config" for lit in g["literals"]]
    assert f"MRC_STATE_CODE={STATE_CODES[state]}" in literals
    assert "MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS=true" in literals, "a real cluster refuses the dev keys"
    proxies = [lit.partition("=")[2] for lit in literals if lit.startswith("MRC_AUTH_TRUSTED_PROXIES=")]
    assert proxies and parse_networks(proxies[0]), "behind an ingress, the trusted proxies must be named"
    # Renaming would break the JWKS URL (access Service) and the Secret names shared by every state.
    assert not k.get("namePrefix") and not k.get("nameSuffix"), "overlays must not rename objects"
    pairs = {key: v for label in k.get("labels", []) for key, v in label["pairs"].items()}
    assert pairs.get("mrc-platform/state-code") == STATE_CODES[state]
    assert all(label.get("includeSelectors") is False for label in k.get("labels", []))
    components = [Path(c).name for c in _entries(k, "components")]
    assert sum(c.startswith("kafka-") for c in components) == 1, "exactly one Kafka component"
    assert sum(c.startswith("mongodb-") for c in components) == 1, "exactly one MongoDB component"
    assert "../../base" in _entries(k, "resources")
    images = {i["name"] for i in k.get("images", [])}
    assert images == {f"mrc/{s}" for s in SERVICES}, "every service image gets a tag"
    deployments = {d["metadata"]["name"] for d in of_kind(base_objects(), "Deployment")}
    assert {r["name"] for r in k.get("replicas", [])} <= deployments


# ---------------------------------------------------------------- base: built-in kinds


def test_base_deployments_are_hardened() -> None:
    deployments = of_kind(base_objects(), "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {*SERVICES, *WORKERS}
    problems = [p for d in deployments for p in check_deployment_hardening(d)]
    assert not problems, "\n".join(problems)


def test_base_api_deployments_probe_and_configure_their_ports() -> None:
    apis = [
        d
        for d in of_kind(base_objects(), "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "api"
    ]
    assert len(apis) == len(SERVICES)
    problems = [p for d in apis for p in check_api_deployment(d)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_base_worker_runs_the_faust_agent(name: str) -> None:
    service, web_port = WORKERS[name]
    (worker,) = [d for d in of_kind(base_objects(), "Deployment") if d["metadata"]["name"] == name]
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == service
    assert labels["app.kubernetes.io/component"] == "worker", "not selected by the API's Service or PDB"
    assert worker["spec"]["template"]["spec"]["serviceAccountName"] == service
    (c,) = containers(worker)
    assert c["image"] == f"mrc/{service}", "same image as its API"
    assert c["command"] == ["python", "-m", f"mrc_{service}.worker"]
    assert not c.get("ports"), "a worker serves no traffic"
    # faust writes its data directory under the working directory: it must be a writable volume.
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    assert c.get("workingDir") in mounts
    env = env_of(c)
    assert env[f"MRC_{service.upper()}_WORKER_WEB_PORT"] == str(web_port)
    # faust's web server stays on loopback; the probes run inside the container.
    assert f"MRC_{service.upper()}_BIND_HOST" not in env
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        command = " ".join(c[probe]["exec"]["command"])
        assert f'("127.0.0.1", {web_port})' in command, f"{name}: {probe} does not check port {web_port}"


def test_base_deployments_read_keys_from_secrets_and_the_jwks_of_access() -> None:
    config = base_config()
    deployments = of_kind(base_objects(), "Deployment")
    problems = [p for d in deployments for p in check_secrets_and_jwks(d, config)]
    assert not problems, "\n".join(problems)
    # One Secret name everywhere: the blind-index key is shared by every state (deploy/README.md).
    blind = {secret_refs(c)["MRC_BLIND_INDEX_KEY"]["name"] for d in deployments for c in containers(d)}
    assert len(blind) == 1, blind
    masters = {secret_refs(c)["MRC_MASTER_KEYS"]["name"] for d in deployments for c in containers(d)}
    assert len(masters) == 1 and masters != blind, "master keys are per state, in their own Secret"
    assert config["MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS"] == "true"
    (access,) = [s for s in of_kind(base_objects(), "Service") if s["metadata"]["name"] == "access"]
    assert SERVICES["access"][0] in {p["port"] for p in access["spec"]["ports"]}


def test_base_access_keys_and_bootstrap_come_from_secrets() -> None:
    (access,) = [d for d in of_kind(base_objects(), "Deployment") if d["metadata"]["name"] == "access"]
    (c,) = containers(access)
    refs = secret_refs(c)
    assert not refs["MRC_ACCESS_KEY_ENCRYPTION_SECRET"].get("optional")
    # First-time setup only: optional, so operators delete the Secret once real operator clients exist.
    for var in ("MRC_ACCESS_BOOTSTRAP_CLIENT_ID", "MRC_ACCESS_BOOTSTRAP_CLIENT_SECRET"):
        assert refs[var].get("optional") is True, var
    assert refs["MRC_ACCESS_BOOTSTRAP_CLIENT_ID"]["name"] == refs["MRC_ACCESS_BOOTSTRAP_CLIENT_SECRET"]["name"]
    assert refs["MRC_ACCESS_BOOTSTRAP_CLIENT_ID"]["name"] != refs["MRC_ACCESS_KEY_ENCRYPTION_SECRET"]["name"]
    # Only access holds these.
    for d in of_kind(base_objects(), "Deployment"):
        if d["metadata"]["name"] != "access":
            assert not any(
                n.startswith("MRC_ACCESS_BOOTSTRAP") or n.endswith("KEY_ENCRYPTION_SECRET")
                for c2 in containers(d)
                for n in secret_refs(c2)
            ), d["metadata"]["name"]


def test_base_services_target_existing_container_ports() -> None:
    objects = base_objects()
    problems = check_services(objects)
    assert not problems, "\n".join(problems)
    assert {s["metadata"]["name"] for s in of_kind(objects, "Service")} == set(SERVICES)


def test_base_env_references_are_defined() -> None:
    config = base_config()
    problems = [p for d in of_kind(base_objects(), "Deployment") for p in check_env_references(d, config)]
    assert not problems, "\n".join(problems)
    assert config["MRC_KAFKA_TOPIC_REPLICATION_FACTOR"] == "3"
    assert config["MRC_LOG_FORMAT"] == "json"


def test_base_network_policies_default_deny_then_allow() -> None:
    objects = base_objects()
    policies = of_kind(objects, "NetworkPolicy")
    deny = [
        p
        for p in policies
        if set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "no default-deny NetworkPolicy"
    for p in deny:
        assert labels_match(p["spec"]["podSelector"].get("matchLabels", {}), PART_OF)
    # Every platform pod is covered by the default deny.
    for d in of_kind(objects, "Deployment"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert any(labels_match(p["spec"]["podSelector"]["matchLabels"], labels) for p in deny)
    # Named ports in rules must exist on the platform's containers.
    names = {n for d in of_kind(objects, "Deployment") for n in container_ports(d)}
    for p in policies:
        for rule in [*p["spec"].get("ingress", []), *p["spec"].get("egress", [])]:
            for port in rule.get("ports", []):
                if isinstance(port.get("port"), str):
                    assert port["port"] in names, f"{p['metadata']['name']}: unknown named port {port['port']}"
    egress_ports = {
        port.get("port") for p in policies for r in p["spec"].get("egress", []) for port in r.get("ports", [])
    }
    kafka_port = int(base_config()["MRC_KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    assert {53, kafka_port, 27017} <= egress_ports, "DNS, Kafka and MongoDB egress must be allowed"
    assert 9092 not in egress_ports, "Kafka is reached on its TLS listener only"
    # Every pod, workers included, may fetch the JWKS from access.
    (access,) = [d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "access"]
    problems = [
        p for d in of_kind(objects, "Deployment") for p in network_allows(policies, d, access, SERVICES["access"][0])
    ]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- components


def test_strimzi_component_is_consistent() -> None:
    objects = objects_in("kafka-strimzi")
    (kafka,) = of_kind(objects, "Kafka")
    cluster = kafka["metadata"]["name"]
    pools = of_kind(objects, "KafkaNodePool")
    topics = of_kind(objects, "KafkaTopic")
    for obj in [*pools, *topics]:
        assert obj["metadata"]["labels"]["strimzi.io/cluster"] == cluster, obj["metadata"]["name"]
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    assert controllers % 2 == 1, "KRaft needs an odd number of controllers"
    assert brokers >= 3
    config = base_config()
    names = [t["metadata"]["name"] for t in topics]
    assert len(names) == len(set(names)), "a topic is listed twice"
    # The federation's topics are declared by its component and the state overlays (tests/deploy/test_federation.py).
    federation = {t["metadata"]["name"] for t in of_kind(objects_in("federation"), "KafkaTopic")}
    assert set(names) == expected_topics() - federation, "KafkaTopics: the topics the code declares plus the DLQs"
    by_name = {t["metadata"]["name"]: t["spec"]["config"] for t in topics}
    # The audit trail is kept over a year; the clients topic is read from the beginning (revocations).
    assert int(by_name["mrc.audit.v1"]["retention.ms"]) >= 400 * 24 * 3600 * 1000
    assert by_name["mrc.access.clients.v1"]["cleanup.policy"] == "compact"
    for t in topics:
        spec = t["spec"]
        assert spec["partitions"] == int(config["MRC_KAFKA_TOPIC_PARTITIONS"]), t["metadata"]["name"]
        assert spec["replicas"] == int(config["MRC_KAFKA_TOPIC_REPLICATION_FACTOR"]) <= brokers
        assert int(spec["config"]["min.insync.replicas"]) < spec["replicas"]
    # The clients' listener: TLS with SCRAM users (tests/deploy/test_transport_security.py checks the rest).
    (client,) = kafka["spec"]["kafka"]["listeners"]
    bootstrap = component_config("kafka-strimzi")["MRC_KAFKA_BOOTSTRAP_SERVERS"]
    assert bootstrap == f"{cluster}-kafka-bootstrap:{client['port']}"
    assert kafka["spec"]["kafka"]["config"]["min.insync.replicas"] < brokers


@pytest.mark.parametrize("component", ["mongodb-community", "mongodb-percona"])
def test_mongodb_component_matches_what_services_use(component: str) -> None:
    # Users, their databases and TLS: tests/deploy/test_transport_security.py.
    objects = objects_in(component)
    (db,) = [d for d in objects if d["kind"] in ("MongoDBCommunity", "PerconaServerMongoDB")]
    config = {**base_config(), **component_config(component)}
    options = dict(o.split("=", 1) for o in config["MRC_MONGO_OPTIONS"].split("&"))
    assert {u["db"] for u in db["spec"]["users"]} == {options["authSource"]}
    if db["kind"] == "MongoDBCommunity":
        assert db["spec"]["members"] == 3
        assert options["replicaSet"] == db["metadata"]["name"]
        assert config["MRC_MONGO_HOSTS"] == f"{db['metadata']['name']}-svc:27017"
    else:
        (rs,) = db["spec"]["replsets"]
        assert rs["size"] == 3
        assert options["replicaSet"] == rs["name"]
        assert config["MRC_MONGO_HOSTS"] == f"{db['metadata']['name']}-{rs['name']}:27017"


# ---------------------------------------------------------------- rendered overlays (needs kustomize/kubectl)


@pytest.mark.parametrize("state", sorted(STATE_CODES))
def test_rendered_overlay(state: str) -> None:
    objects = rendered(state)
    namespace = f"mrc-{state}"
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, f"{obj['kind']}/{obj['metadata']['name']}"
        labels = obj["metadata"].get("labels", {})
        assert labels.get("mrc-platform/state-code") == STATE_CODES[state], obj["metadata"]["name"]
    (config,) = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("mrc-config")]
    assert config["data"]["MRC_STATE_CODE"] == STATE_CODES[state]
    assert config["data"]["MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS"] == "true"
    deployments = of_kind(objects, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {*SERVICES, *WORKERS}
    assert "access" in {s["metadata"]["name"] for s in of_kind(objects, "Service")}
    problems = [p for d in deployments for p in check_deployment_hardening(d)]
    problems += [p for d in deployments for p in check_env_references(d, config["data"])]
    problems += [p for d in deployments for p in check_secrets_and_jwks(d, config["data"], namespace)]
    problems += check_services(objects)
    assert not problems, "\n".join(problems)
    for d in deployments:
        (c,) = containers(d)
        # Pinned by the overlay: a tag or a digest (overlays may also point newName at a registry).
        assert re.search(r"(:[\w.-]+|@sha256:[0-9a-f]{64})$", c["image"]), f"{d['metadata']['name']}: {c['image']}"
        refs = [s["configMapRef"]["name"] for s in c["envFrom"]]
        assert refs == [config["metadata"]["name"]], "envFrom must follow the generated (hashed) ConfigMap"
        for key in ("MRC_KAFKA_BOOTSTRAP_SERVERS", "MRC_MONGO_HOSTS"):
            assert config["data"][key] != base_config()[key], f"{key} still the base placeholder"


def test_rendered_overlays_share_the_blind_index_secret() -> None:
    # Same Secret name in every state's namespace (its value is the same too: deploy/README.md).
    names = {
        secret_refs(c)["MRC_BLIND_INDEX_KEY"]["name"]
        for state in STATE_CODES
        for d in of_kind(rendered(state), "Deployment")
        for c in containers(d)
    }
    assert len(names) == 1, names


@pytest.mark.parametrize("state", sorted(STATE_CODES))
def test_rendered_overlay_custom_resources(state: str) -> None:
    # After patches and transformers (namespace, labels) the operators' resources must still be valid.
    objects = rendered(state)
    assert {o["kind"] for o in objects if is_custom(o)} >= {"Kafka", "KafkaNodePool", "KafkaTopic"}
    errors = [e for obj in objects if is_custom(obj) for e in validate_custom_resource(obj)]
    assert not errors, "\n".join(errors)


# ---------------------------------------------------------------- docker-compose.yml


@functools.cache
def compose() -> Doc:
    return load_docs(COMPOSE_FILE)[0]


def app_services() -> dict[str, Doc]:
    return {n: s for n, s in compose()["services"].items() if "build" in s}


def test_compose_infrastructure() -> None:
    services = compose()["services"]
    kafka, mongo = services["kafka"], services["mongo"]
    assert kafka["image"] == "apache/kafka:3.9.1"
    assert mongo["image"] == "mongo:7.0"
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft, single node"
    command = mongo["command"]
    assert command[command.index("--replSet") + 1] == "rs0"
    mongo_check = " ".join(mongo["healthcheck"]["test"])
    # The replica set is initiated idempotently by the healthcheck.
    assert "replSetInitiate" in mongo_check
    assert "replSetGetStatus" in mongo_check
    for svc in (kafka, mongo):
        assert svc["healthcheck"]["test"], "infra needs a healthcheck"
        assert svc.get("volumes"), "infra keeps its data in volumes"


def test_compose_apps_wait_for_healthy_infrastructure() -> None:
    apps = app_services()
    assert {s["build"]["args"]["SERVICE"] for s in apps.values()} == set(SERVICES)
    assert set(apps) == {*SERVICES, *WORKERS}, "every API and every worker"
    for name, svc in apps.items():
        for infra in ("kafka", "mongo"):
            assert svc["depends_on"][infra]["condition"] == "service_healthy", f"{name} -> {infra}"
        # Topics, ACLs and database users exist before any application starts.
        for init in ("kafka-init", "mongo-init"):
            assert svc["depends_on"][init]["condition"] == "service_completed_successfully", f"{name} -> {init}"
        service = svc["build"]["args"]["SERVICE"]
        assert (REPO / "services" / service).is_dir()
        assert svc["build"]["context"] == "."
        env = svc["environment"]
        assert env["MRC_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        mongo_uri = urlsplit(env["MRC_MONGO_URI"])
        assert (mongo_uri.scheme, mongo_uri.hostname, mongo_uri.port) == ("mongodb", "mongo", 27017)
        assert "replicaSet=rs0" in mongo_uri.query.split("&")
        assert env["MRC_LOG_FORMAT"] == "json"
        assert str(env["MRC_KAFKA_TOPIC_REPLICATION_FACTOR"]) == "1"
        assert env["MRC_AUTH_JWKS_URL"] == f"http://access:{SERVICES['access'][0]}{JWKS_PATH}"
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        if name in WORKERS:
            web_port = WORKERS[name][1]
            assert svc["command"] == ["python", "-m", f"mrc_{service}.worker"]
            assert str(env[f"MRC_{service.upper()}_WORKER_WEB_PORT"]) == str(web_port)
            assert f"MRC_{service.upper()}_BIND_HOST" not in env, "faust's web server stays on loopback"
            assert f"'127.0.0.1', {web_port})" in " ".join(svc["healthcheck"]["test"])
            assert svc["working_dir"] in {str(m).split(":", 1)[0] for m in svc["tmpfs"]}, "faust needs a writable dir"
            continue
        assert "command" not in svc
        assert env[f"MRC_{service.upper()}_BIND_HOST"] == "0.0.0.0"
        http, grpc = SERVICES[service]
        assert str(env[f"MRC_{service.upper()}_HTTP_PORT"]) == str(http)
        assert str(env[f"MRC_{service.upper()}_GRPC_PORT"]) == str(grpc)
        assert f"127.0.0.1:{http}:{http}" in svc["ports"]
        assert f"127.0.0.1:{grpc}:{grpc}" in svc["ports"]
        assert f"{http}/readyz" in " ".join(svc["healthcheck"]["test"])


def test_compose_keys_are_configured_local_dev_values() -> None:
    from mrc_access.settings import DEV_KEY_ENCRYPTION_SECRET
    from mrc_plumbing.crypto.blind_index import BlindIndexer
    from mrc_plumbing.crypto.master_keys import MasterKeys
    from mrc_plumbing.crypto.settings import CryptoSettings

    apps = app_services()
    for name, svc in apps.items():
        env = {k: str(v) for k, v in svc["environment"].items()}
        assert env["MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS"] == "true", name
        crypto = CryptoSettings(
            master_keys=env["MRC_MASTER_KEYS"],
            master_key_active=env["MRC_MASTER_KEY_ACTIVE"],
            blind_index_key=env["MRC_BLIND_INDEX_KEY"],
            crypto_require_configured_keys=True,
        )
        # Parsed exactly as the services do (valid ids, 32-byte master keys, blind-index key >= 32 bytes).
        assert MasterKeys.from_settings(crypto).active_id == env["MRC_MASTER_KEY_ACTIVE"]
        BlindIndexer.from_settings(crypto)
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "LOCAL DEVELOPMENT ONLY" in text, "compose's keys must be labelled as local dev values"
    access = apps["access"]["environment"]
    assert access["MRC_ACCESS_KEY_ENCRYPTION_SECRET"] not in ("", DEV_KEY_ENCRYPTION_SECRET)
    assert access["MRC_ACCESS_BOOTSTRAP_CLIENT_ID"] and access["MRC_ACCESS_BOOTSTRAP_CLIENT_SECRET"]


def test_compose_publishes_ports_on_loopback_only() -> None:
    for name, svc in compose()["services"].items():
        for port in svc.get("ports", []):
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port} is not bound to 127.0.0.1"


def test_compose_named_volumes_are_declared() -> None:
    declared = set(compose().get("volumes") or {})
    used: set[str] = set()
    for svc in compose()["services"].values():
        for volume in svc.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else str(volume).split(":", 1)[0]
            if not source.startswith((".", "/", "~")):
                used.add(source)
    assert used
    assert used == declared


def test_compose_config_with_docker_if_available() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker CLI not on PATH")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        pytest.skip("docker compose plugin not installed")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- Dockerfile and .dockerignore


def _workspace_members() -> list[Path]:
    with (REPO / "pyproject.toml").open("rb") as f:
        members = tomllib.load(f)["tool"]["uv"]["workspace"]["members"]
    return sorted(p for pattern in members for p in REPO.glob(pattern) if (p / "pyproject.toml").is_file())


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.lstrip("!").strip("/")
        if any(
            fnmatch.fnmatchcase(c, pattern) or fnmatch.fnmatchcase(c, pattern.removeprefix("**/")) for c in candidates
        ):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_what_the_build_needs() -> None:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    needed = ["pyproject.toml", "uv.lock"]
    for member in _workspace_members():
        needed.append(_rel(member / "pyproject.toml"))
        if member.parent.name in ("libs", "services"):
            needed += [_rel(p) for p in (member / "src").rglob("*.py") if "__pycache__" not in p.parts][:20]
    kept_out = [p for p in needed if _dockerignored(p, patterns)]
    assert not kept_out, f".dockerignore excludes files the image needs: {kept_out}"
    for path in (".venv/bin/python", "tests/__init__.py", "deploy/base/kustomization.yaml", ".git/HEAD"):
        assert _dockerignored(path, patterns), f"{path} should stay out of the build context"


def test_dockerfile_builds_any_service_as_non_root() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG SERVICE$", text, re.M)
    assert "uv sync --frozen --no-dev" in text
    assert '--package "mrc-${SERVICE}"' in text
    (accepted,) = re.findall(r"^\s+([a-z|]+)\) ;; \\$", text, re.M)
    assert set(accepted.split("|")) == set(SERVICES) == {p.name for p in (REPO / "services").iterdir() if p.is_dir()}
    stages = re.findall(r"^FROM \S+ AS (\S+)$", text, re.M)
    assert len(stages) >= 2, "multi-stage build"
    runtime = text.split(f"AS {stages[-1]}", 1)[1]
    user = re.findall(r"^USER (\S+)$", runtime, re.M)
    assert user, "the runtime stage sets no USER"
    assert user[-1].split(":")[0] not in ("root", "0"), "the runtime stage must not run as root"
    assert "10001" in user[-1], "uid must match runAsUser in deploy/base"
    for d in of_kind(base_objects(), "Deployment"):
        assert d["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001
