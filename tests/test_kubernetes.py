"""deploy/k8s rendered with kustomize (`kubectl kustomize`; skipped without kubectl).

The base (deploy/k8s → base/):
- every component: probes, requests and limits from the load benchmark, non-root, an
  autoscaler on CPU, replicas spread over nodes and zones, /metrics on a port the Service
  does not expose; its settings come from the ConfigMap and only its own Secret, mounted
  as files (no envFrom of a Secret anywhere);
- who may reach whom, evaluated from the NetworkPolicies themselves, table-driven;
- the migration Job: hooks for Argo CD, Helm and Flux, a name per release, the admin and
  owner passwords and each runtime role's password only;
- images are full references.
The overlay overlays/ha: CloudNativePG Cluster (3 instances) and Pooler (transaction mode),
the components pointed at the pooler with no session state, the connection budget, NATS
JetStream and Redis, the database reachable only from the platform.
Core kinds are validated strictly with kubernetes-validate (schemas of Kubernetes 1.37
bundled, offline); the CloudNativePG objects against the 1.30.0 CRD schemas shipped in
tests/fixtures/crds (source and version in its README).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from gateway.config import SERVICE_NAMES
from platformctl.components import COMPONENTS
from platformctl.supervisor import SERVICE_PORTS
from platformctl.testing import check_component_settings, component_settings, memory_bytes
from shared.settings import async_database_url

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
HA = K8S / "overlays" / "ha"
CRDS = Path(__file__).resolve().parent / "fixtures" / "crds"
RESULTS = REPO / "benchmarks" / "RESULTS.md"
NAMES = [c.name for c in COMPONENTS]
KUBERNETES_VERSION = "1.37.0"
SECRETS_MOUNT = "/run/secrets/civic"
METRICS_PORT = 9090
TEST_SECRET = base64.b64encode(bytes(range(32))).decode()


# --- rendering and reading ----------------------------------------------------------------


def render(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH: install it to render deploy/k8s with kustomize")
    done = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return render(K8S)


@pytest.fixture(scope="module")
def rendered_ha() -> list[dict[str, Any]]:
    return render(HA)


def objects(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = objects(docs, kind).values()
    return found


def pod_spec(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = objects(docs, kind)[name]["spec"]["template"]["spec"]
    return spec


def secret_values(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    secret = objects(docs, "Secret")[name]
    values = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    string_data: dict[str, str] = secret.get("stringData", {})
    return values | string_data


def pod_environment(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """What a container's process sees in its environment: envFrom ConfigMaps, then env."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert "secretRef" not in source, "no Secret through envFrom: each gets its own, as files"
        env |= objects(docs, "ConfigMap")[source["configMapRef"]["name"]]["data"]
    env |= {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}
    return env


def mounted_secrets(
    docs: list[dict[str, Any]], pod: dict[str, Any], container: dict[str, Any]
) -> dict[str, str]:
    """The files a container finds under SECRETS_MOUNT: name → value (from the rendered Secrets;
    a Secret the operator makes, such as CloudNativePG's superuser Secret, reads as '<made by the
    operator>')."""
    (mount,) = [m for m in container.get("volumeMounts", []) if m["mountPath"] == SECRETS_MOUNT]
    assert mount.get("readOnly") is True
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    sources = (
        [s["secret"] for s in volume["projected"]["sources"]]
        if "projected" in volume
        else [{"name": volume["secret"]["secretName"]}]
    )
    files: dict[str, str] = {}
    known = objects(docs, "Secret")
    for source in sources:
        values = secret_values(docs, source["name"]) if source["name"] in known else {}
        if "items" in source:
            for item in source["items"]:
                files[item["path"]] = values.get(item["key"], "<made by the operator>")
        else:
            files |= values
    return files


def settings_files(files: dict[str, str]) -> dict[str, str]:
    # The Secrets ship placeholders (CHANGE-ME); the shapes around them must work.
    return {key: value.replace("CHANGE-ME", TEST_SECRET) for key, value in files.items()}


def container_of(docs: list[dict[str, Any]], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = pod_spec(docs, "Deployment", name)
    (container,) = pod["containers"]
    return pod, container


# --- the base -----------------------------------------------------------------------------


def test_k8s_renders_namespace_settings_and_every_component(rendered: list[dict[str, Any]]) -> None:
    namespace = one(rendered, "Namespace")["metadata"]["name"]
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]
    deployments, services = objects(rendered, "Deployment"), objects(rendered, "Service")
    assert set(deployments) == set(NAMES)
    assert set(services) == set(NAMES), "each component is reached by its name"
    for name in NAMES:
        service, pod = services[name], deployments[name]["spec"]["template"]
        selector = service["spec"]["selector"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert selector.items() <= deployments[name]["spec"]["selector"]["matchLabels"].items()
        (port,) = service["spec"]["ports"]  # the metrics port is not on the Service
        assert port["port"] == SERVICE_PORTS[name]
        (container,) = pod["spec"]["containers"]
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert named[port["targetPort"]] == SERVICE_PORTS[name]
        assert named["metrics"] == METRICS_PORT


@pytest.mark.parametrize("name", NAMES)
def test_k8s_deployment_has_probes_limits_and_runs_as_non_root(
    name: str, rendered: list[dict[str, Any]]
) -> None:
    pod, container = container_of(rendered, name)
    assert pod.get("enableServiceLinks") is False, f"links would set {name.upper()}_PORT=tcp://…"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"].get("runAsUser", 1) != 0
    assert container["args"] == [name]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports.get(get["port"], get["port"]) == SERVICE_PORTS[name], probe
    resources = container["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), kind
    assert memory_bytes(resources["requests"]["memory"]) <= memory_bytes(resources["limits"]["memory"])
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context.get("runAsNonRoot", True) is True
    assert context["capabilities"]["drop"] == ["ALL"]
    env = pod_environment(rendered, container)
    assert env.get("MIGRATE_ON_START", "0") == "0"
    assert env[f"{name.upper()}_METRICS_PORT"] == str(METRICS_PORT)
    (init,) = pod["initContainers"]
    assert init["args"] == ["wait-for-migrations", name]
    assert "limits" in init["resources"]
    # the init container reads the schema's revision as the component's own role
    assert mounted_secrets(rendered, pod, init) == mounted_secrets(rendered, pod, container)


# What each component's pods may read; nothing else (no other component's keys or passwords).
COMPONENT_SECRETS = {
    "gateway": {"GATEWAY_DATABASE_PASSWORD", "BOOTSTRAP_ADMIN_PASSWORD"},
    "appraisal": {"APPRAISAL_DATABASE_PASSWORD"},
    "welfare": {"WELFARE_DATABASE_PASSWORD", "WELFARE_CITIZEN_ID_KEY", "WELFARE_CITIZEN_ID_LOOKUP_KEY"},
    "eldercare": {
        "ELDERCARE_DATABASE_PASSWORD",
        "ELDERCARE_CITIZEN_ID_KEY",
        "ELDERCARE_CITIZEN_ID_LOOKUP_KEY",
    },
    "renewal": {"RENEWAL_DATABASE_PASSWORD"},
}


@pytest.mark.parametrize("overlay", ["base", "ha"])
@pytest.mark.parametrize("name", NAMES)
def test_k8s_each_component_gets_only_its_own_secrets(
    name: str, overlay: str, rendered: list[dict[str, Any]], rendered_ha: list[dict[str, Any]]
) -> None:
    docs = rendered if overlay == "base" else rendered_ha
    pod, container = container_of(docs, name)
    assert set(mounted_secrets(docs, pod, container)) == COMPONENT_SECRETS[name]
    # no secret reaches it through its environment
    for container_ in [*pod.get("initContainers", []), *pod["containers"]]:
        assert not [s for s in container_.get("envFrom", []) if "secretRef" in s]
        assert not [e for e in container_.get("env", []) if "valueFrom" in e]
    env = pod_environment(docs, container)
    assert not [key for key in env if re.search("PASSWORD|_KEY$", key)], "secrets are files"
    assert env["CIVIC_SECRETS_DIR"] == SECRETS_MOUNT
    # the Secrets are readable by the pod's group only
    (volume,) = [v for v in pod["volumes"] if v["name"] == "secrets"]
    mode = (volume.get("projected") or volume.get("secret"))["defaultMode"]
    assert mode & 0o007 == 0, "not world-readable"
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]


@pytest.mark.parametrize("overlay", ["base", "ha"])
@pytest.mark.parametrize("name", NAMES)
def test_k8s_gives_each_component_every_setting_it_needs(
    name: str,
    overlay: str,
    rendered: list[dict[str, Any]],
    rendered_ha: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = rendered if overlay == "base" else rendered_ha
    pod, container = container_of(docs, name)
    env = pod_environment(docs, container)
    files = settings_files(mounted_secrets(docs, pod, container))
    settings = check_component_settings(name, env, files)
    url = settings.database_url
    assert url.startswith(f"postgresql+asyncpg://civic_{name}:")  # its own role, with its password
    assert settings.metrics_port == METRICS_PORT
    assert settings.db_transaction_pooler is (overlay == "ha")
    if overlay == "ha":
        assert "@civic-db-pooler-rw:5432/civic" in url


def test_k8s_migration_job_migrates_every_component_as_admin_then_owners(
    rendered: list[dict[str, Any]],
) -> None:
    job = one(rendered, "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in {"Never", "OnFailure"}
    assert job["spec"].get("backoffLimit", 6) > 0
    (container,) = pod["containers"]
    action, *components = container["args"]
    assert action == "migrate"
    assert components == NAMES, "the Job migrates every component"
    deployment_image = pod_spec(rendered, "Deployment", "gateway")["containers"][0]["image"]
    assert container["image"] == deployment_image
    env = pod_environment(rendered, container)
    assert env["MIGRATIONS_DATABASE_URL"].startswith("postgresql://postgres@")
    files = mounted_secrets(rendered, pod, container)
    assert set(files) == {
        "MIGRATIONS_DATABASE_PASSWORD",
        *(f"{n.upper()}_DATABASE_OWNER_PASSWORD" for n in NAMES),
        *(f"{n.upper()}_DATABASE_PASSWORD" for n in NAMES),  # set when the role is created
    }, "no citizen-ID key, no admin password"
    assert "limits" in container["resources"]
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_k8s_migration_job_needs_no_hand_work_on_upgrade(rendered: list[dict[str, Any]]) -> None:
    job = one(rendered, "Job")
    annotations = job["metadata"]["annotations"]
    # Argo CD: a PreSync hook, the previous one deleted before the new one is created
    assert annotations["argocd.argoproj.io/hook"] == "PreSync"
    assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    # Helm (the manifests in a chart) and Flux (recreated when the template changes)
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation"
    assert annotations["kustomize.toolkit.fluxcd.io/force"] == "enabled"
    # plain kubectl apply: the name carries the release, which follows the image tag
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    (release,) = [g for g in kustomization["configMapGenerator"] if g["name"] == "civic-release"]
    assert release["literals"] == [f"release={image['newTag']}"], "raise the release with the image tag"
    assert job["metadata"]["name"] == f"civic-migrate-{image['newTag']}"
    assert job["metadata"]["labels"]["app.kubernetes.io/version"] == image["newTag"]
    assert len(job["metadata"]["name"]) <= 63
    assert job["spec"]["ttlSecondsAfterFinished"] > 0, "finished Jobs go away by themselves"


def test_k8s_images_are_full_references(
    rendered: list[dict[str, Any]], rendered_ha: list[dict[str, Any]]
) -> None:
    full = re.compile(r"^[a-z0-9.-]+\.[a-z]+(:\d+)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$")
    images = set()
    for docs in (rendered, rendered_ha):
        for doc in docs:
            spec = doc.get("spec", {})
            template = spec.get("template", {}).get("spec", {})
            for container in [*template.get("initContainers", []), *template.get("containers", [])]:
                images.add(container["image"])
            if doc["kind"] == "Cluster":
                images.add(spec["imageName"])
    assert images
    for image in images:
        assert full.match(image), f"{image}: registry/repository with a tag or a digest"
        assert not image.endswith(":latest")


@pytest.mark.parametrize("name", NAMES)
def test_k8s_autoscales_on_cpu_and_spreads_replicas(name: str, rendered: list[dict[str, Any]]) -> None:
    deployment = objects(rendered, "Deployment")[name]
    assert "replicas" not in deployment["spec"], "the autoscaler owns the count; an apply must not reset it"
    hpa = objects(rendered, "HorizontalPodAutoscaler")[name]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert 50 <= metric["resource"]["target"]["averageUtilization"] <= 80
    _, container = container_of(rendered, name)
    assert container["resources"]["requests"]["cpu"], "utilization is a share of the CPU request"
    pdb = objects(rendered, "PodDisruptionBudget")[name]
    assert pdb["spec"]["maxUnavailable"] == 1
    spread = {
        c["topologyKey"]: c for c in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    }
    assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
    for constraint in spread.values():
        assert constraint["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        assert constraint["matchLabelKeys"] == ["pod-template-hash"], "counted per revision"


def resource_table() -> dict[str, dict[str, str]]:
    """benchmarks/RESULTS.md, section "Resources for Kubernetes": the figures per component."""
    text = RESULTS.read_text()
    section = text[text.index("## Resources for Kubernetes") :]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| component |"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        if not re.fullmatch(r"\|[-| ]+\|", line):  # not the separator row
            rows.append(line)
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    table = {}
    for row in rows[1:]:
        cells = [cell.strip().strip("`") for cell in row.strip("|").split("|")]
        table[cells[0]] = dict(zip(header, cells, strict=True))
    return table


@pytest.mark.parametrize("name", NAMES)
def test_k8s_resources_are_the_load_benchmark_figures(name: str, rendered: list[dict[str, Any]]) -> None:
    figures = resource_table()[name]
    _, container = container_of(rendered, name)
    resources = container["resources"]
    assert resources["requests"]["cpu"] == figures["CPU request"]
    assert resources["limits"]["cpu"] == figures["CPU limit"]
    assert resources["requests"]["memory"] == figures["memory request"]
    assert resources["limits"]["memory"] == figures["memory limit"]
    assert (
        str(objects(rendered, "HorizontalPodAutoscaler")[name]["spec"]["maxReplicas"])
        == figures["max replicas"]
    )
    # the limit leaves room above the peak measured under load
    peak = memory_bytes(figures["peak RSS"].replace(" ", ""))
    assert memory_bytes(resources["limits"]["memory"]) >= 1.5 * peak
    assert memory_bytes(resources["requests"]["memory"]) >= peak


# --- who may reach whom (NetworkPolicy) ----------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """A pod (or a client outside any pod) as NetworkPolicies see it."""

    namespace: str
    labels: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)  # named container ports

    @property
    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace}


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"the evaluator reads matchLabels only: {selector}"
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return wanted.items() <= labels.items()


def peers(docs: list[dict[str, Any]]) -> dict[str, Peer]:
    """Every pod the manifests make, plus CloudNativePG's pods (as the operator labels them,
    pkg/specs/pods.go and pkg/specs/pgbouncer/deployments.go in 1.30) and clients elsewhere."""
    namespace = one(docs, "Namespace")["metadata"]["name"]
    found = {}
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
            template = doc["spec"]["template"]
            ports = {
                p["name"]: p["containerPort"]
                for c in template["spec"]["containers"]
                for p in c.get("ports", [])
            }
            name = doc["metadata"]["labels"].get("app.kubernetes.io/name", doc["metadata"]["name"])
            found[name] = Peer(namespace, template["metadata"]["labels"], ports)
    for cluster in objects(docs, "Cluster"):
        found["database"] = Peer(
            namespace,
            {"cnpg.io/cluster": cluster, "cnpg.io/podRole": "instance"},
            {"postgresql": 5432, "status": 8000},
        )
    for name, pooler in objects(docs, "Pooler").items():
        labels = {
            "cnpg.io/poolerName": name,
            "cnpg.io/cluster": pooler["spec"]["cluster"]["name"],
            "cnpg.io/podRole": "pooler",
        }
        found["pooler"] = Peer(namespace, labels, {"pgbouncer": 5432})
    found["internet"] = Peer("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    found["monitoring"] = Peer("monitoring", {"app.kubernetes.io/name": "prometheus"})
    found["cnpg-operator"] = Peer("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"})
    found["stranger"] = Peer(namespace, {"app.kubernetes.io/name": "debug-shell"})  # a pod run by hand
    return found


def reachable(docs: list[dict[str, Any]], source: Peer, target: Peer, port: int) -> bool:
    """Whether the NetworkPolicies let ``source`` open ``port`` on ``target`` (ingress)."""
    selecting = [
        policy
        for policy in objects(docs, "NetworkPolicy").values()
        if policy["metadata"]["namespace"] == target.namespace
        and "Ingress" in policy["spec"]["policyTypes"]
        and matches(policy["spec"]["podSelector"], target.labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports") or [{"port": port}]
            if not any(p["port"] == port or target.ports.get(str(p["port"])) == port for p in ports):
                continue
            sources = rule.get("from")
            if not sources:
                return True
            for peer in sources:
                if "namespaceSelector" in peer:
                    namespace_ok = matches(peer["namespaceSelector"], source.namespace_labels)
                else:
                    namespace_ok = source.namespace == policy["metadata"]["namespace"]
                if namespace_ok and matches(peer.get("podSelector", {}), source.labels):
                    return True
    return False


GATEWAY, METRICS = SERVICE_PORTS["gateway"], METRICS_PORT
BASE_REACH = [
    ("internet", "gateway", GATEWAY, True),
    ("internet", "gateway", METRICS, False),
    *[("internet", s, SERVICE_PORTS[s], False) for s in SERVICE_NAMES],
    *[("gateway", s, SERVICE_PORTS[s], True) for s in SERVICE_NAMES],
    *[("gateway", s, METRICS, False) for s in SERVICE_NAMES],
    *[("stranger", s, SERVICE_PORTS[s], False) for s in SERVICE_NAMES],
    ("eldercare", "welfare", SERVICE_PORTS["welfare"], True),
    ("welfare", "eldercare", SERVICE_PORTS["eldercare"], False),
    ("appraisal", "welfare", SERVICE_PORTS["welfare"], False),
    ("renewal", "appraisal", SERVICE_PORTS["appraisal"], False),
    ("welfare", "gateway", GATEWAY, True),  # the JWKS, like any client
    *[("monitoring", n, METRICS, True) for n in NAMES],
    *[("monitoring", s, SERVICE_PORTS[s], False) for s in SERVICE_NAMES],
    ("stranger", "welfare", METRICS, False),
    ("internet", "civic-migrate", 8000, False),
]
HA_REACH = [
    *BASE_REACH,
    *[(n, "pooler", 5432, True) for n in NAMES],
    ("internet", "pooler", 5432, False),
    ("stranger", "pooler", 5432, False),
    ("pooler", "database", 5432, True),
    ("civic-migrate", "database", 5432, True),  # migrations go straight to the primary
    ("database", "database", 5432, True),  # replication
    ("cnpg-operator", "database", 8000, True),
    ("cnpg-operator", "database", 5432, True),
    *[(n, "database", 5432, False) for n in NAMES],  # only through the pooler
    ("stranger", "database", 5432, False),
    ("internet", "database", 5432, False),
    ("pooler", "database", 8000, False),
    ("gateway", "civic-redis", 6379, True),
    *[(s, "civic-redis", 6379, False) for s in SERVICE_NAMES],
    *[(n, "civic-nats", 4222, True) for n in NAMES],
    ("stranger", "civic-nats", 4222, False),
    ("civic-nats", "civic-nats", 6222, True),
    ("welfare", "civic-nats", 6222, False),
]


@pytest.mark.parametrize(("source", "target", "port", "allowed"), BASE_REACH)
def test_k8s_network_policies_base(
    source: str, target: str, port: int, allowed: bool, rendered: list[dict[str, Any]]
) -> None:
    found = peers(rendered)
    assert reachable(rendered, found[source], found[target], port) is allowed


@pytest.mark.parametrize(("source", "target", "port", "allowed"), HA_REACH)
def test_k8s_network_policies_ha(
    source: str, target: str, port: int, allowed: bool, rendered_ha: list[dict[str, Any]]
) -> None:
    found = peers(rendered_ha)
    assert reachable(rendered_ha, found[source], found[target], port) is allowed


def test_k8s_every_pod_is_behind_a_policy(
    rendered: list[dict[str, Any]], rendered_ha: list[dict[str, Any]]
) -> None:
    for docs in (rendered, rendered_ha):
        deny = objects(docs, "NetworkPolicy")["default-deny-ingress"]["spec"]
        assert deny["podSelector"] == {}
        assert deny["policyTypes"] == ["Ingress"]
        assert "ingress" not in deny


# --- strict validation, offline -----------------------------------------------------------


def test_k8s_core_objects_validate_strictly(
    rendered: list[dict[str, Any]], rendered_ha: list[dict[str, Any]]
) -> None:
    crd_kinds = {"Cluster", "Pooler"}
    checked = 0
    for docs in (rendered, rendered_ha):
        for doc in docs:
            if doc["kind"] in crd_kinds:
                continue
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            checked += 1
    assert checked >= 60
    # the validation is strict: a misspelt field and a wrong type both fail
    deployment = copy.deepcopy(objects(rendered, "Deployment")["welfare"])
    deployment["spec"]["template"]["spec"]["containers"][0]["resource"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    hpa = copy.deepcopy(objects(rendered, "HorizontalPodAutoscaler")["welfare"])
    hpa["spec"]["minReplicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, KUBERNETES_VERSION, strict=True)


def closed(schema: Any) -> Any:
    """The schema with every object closed to unknown fields unless it says otherwise."""
    if isinstance(schema, dict):
        schema = {key: closed(value) for key, value in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(value) for value in schema]
    return schema


@pytest.fixture(scope="module")
def crd_validators() -> dict[str, jsonschema.Draft7Validator]:
    validators = {}
    for kind in ("Cluster", "Pooler"):
        schema = json.loads((CRDS / f"postgresql.cnpg.io_{kind.lower()}_v1.json").read_text())
        validators[kind] = jsonschema.Draft7Validator(closed(schema))
    return validators


def crd_errors(validators: dict[str, jsonschema.Draft7Validator], doc: dict[str, Any]) -> list[str]:
    assert doc["apiVersion"] == "postgresql.cnpg.io/v1"
    return [f"{e.json_path}: {e.message}" for e in validators[doc["kind"]].iter_errors(doc)]


def test_ha_cloudnativepg_objects_follow_their_crds(
    rendered_ha: list[dict[str, Any]], crd_validators: dict[str, jsonschema.Draft7Validator]
) -> None:
    cluster, pooler = one(rendered_ha, "Cluster"), one(rendered_ha, "Pooler")
    assert crd_errors(crd_validators, cluster) == []
    assert crd_errors(crd_validators, pooler) == []
    # and the check would see mistakes: a wrong value, a misspelt field
    wrong = copy.deepcopy(pooler)
    wrong["spec"]["pgbouncer"]["poolMode"] = "transactions"
    assert any("poolMode" in e for e in crd_errors(crd_validators, wrong))
    wrong = copy.deepcopy(pooler)
    wrong["spec"]["pgbouncer"]["poolSize"] = 10
    assert any("poolSize" in e for e in crd_errors(crd_validators, wrong))
    wrong = copy.deepcopy(cluster)
    wrong["spec"]["instance"] = 3
    assert any("instance" in e for e in crd_errors(crd_validators, wrong))


# --- the ha overlay -----------------------------------------------------------------------


def test_ha_runs_postgresql_on_three_instances_behind_a_transaction_pooler(
    rendered_ha: list[dict[str, Any]],
) -> None:
    cluster, pooler = one(rendered_ha, "Cluster"), one(rendered_ha, "Pooler")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["affinity"]["topologyKey"] == "kubernetes.io/hostname"
    assert cluster["spec"]["affinity"]["podAntiAffinityType"] == "required"
    assert pooler["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert pooler["metadata"]["name"] != cluster["metadata"]["name"]
    assert pooler["spec"]["type"] == "rw"
    assert pooler["spec"]["pgbouncer"]["poolMode"] == "transaction"
    assert pooler["spec"]["instances"] >= 2
    assert "max_prepared_statements" in pooler["spec"]["pgbouncer"]["parameters"]
    settings = one_config(rendered_ha)
    for name in NAMES:
        url = settings[f"{name.upper()}_DATABASE_URL"]
        assert f"@{pooler['metadata']['name']}:5432/" in url, name
        assert settings[f"{name.upper()}_DB_TRANSACTION_POOLER"] == "true"
    # migrations need a session: straight to the primary's service, not the pooler
    assert f"@{cluster['metadata']['name']}-rw:5432/" in settings["MIGRATIONS_DATABASE_URL"]


def one_config(docs: list[dict[str, Any]]) -> dict[str, str]:
    (config,) = [c for name, c in objects(docs, "ConfigMap").items() if name.startswith("civic-settings")]
    data: dict[str, str] = config["data"]
    return data


def test_ha_roles_and_their_secrets(rendered_ha: list[dict[str, Any]]) -> None:
    cluster = one(rendered_ha, "Cluster")
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    assert set(roles) == {f"civic_{n}" for n in NAMES} | {f"civic_{n}_owner" for n in NAMES}
    secrets = objects(rendered_ha, "Secret")
    for name, role in roles.items():
        assert role["login"] is True
        assert role.get("superuser", False) is False
        secret = secrets[role["passwordSecret"]["name"]]
        assert secret["type"] == "kubernetes.io/basic-auth"
        assert secret_values(rendered_ha, secret["metadata"]["name"])["username"] == name
        assert secret["metadata"]["labels"]["cnpg.io/reload"] == "true"
    assert cluster["spec"]["enableSuperuserAccess"] is True  # the migration Job's grants
    # the Job: the superuser's password and the owners', never a runtime role's
    job = one(rendered_ha, "Job")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert set(mounted_secrets(rendered_ha, pod, container)) == {
        "MIGRATIONS_DATABASE_PASSWORD",
        *(f"{n.upper()}_DATABASE_OWNER_PASSWORD" for n in NAMES),
    }
    sources = {
        s["secret"]["name"] for v in pod["volumes"] if "projected" in v for s in v["projected"]["sources"]
    }
    assert f"{cluster['metadata']['name']}-superuser" in sources
    assert not [name for name in secrets if name.startswith("civic-migrate")], "the base's Secret is not used"


def test_ha_connection_budget_fits(
    rendered_ha: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server connections: pooler pods × runtime roles × default_pool_size (pools are per
    user and database) under max_connections, with room for the Job, replication and the
    operator; client connections: every replica at its autoscaler maximum with a full pool
    (pool size + overflow) under one pooler's max_client_conn."""
    cluster, pooler = one(rendered_ha, "Cluster"), one(rendered_ha, "Pooler")
    parameters = pooler["spec"]["pgbouncer"]["parameters"]
    server = pooler["spec"]["instances"] * len(NAMES) * int(parameters["default_pool_size"])
    assert server + 20 <= int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    clients = 0
    for name in NAMES:
        pod, container = container_of(rendered_ha, name)
        env = pod_environment(rendered_ha, container)
        settings = component_settings(name, env, settings_files(mounted_secrets(rendered_ha, pod, container)))
        per_pod = settings.db_pool_size + settings.db_max_overflow
        clients += objects(rendered_ha, "HorizontalPodAutoscaler")[name]["spec"]["maxReplicas"] * per_pod
    assert clients <= int(parameters["max_client_conn"])


def test_ha_has_its_own_nats_and_redis(
    rendered_ha: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    nats = objects(rendered_ha, "StatefulSet")["civic-nats"]
    assert nats["spec"]["replicas"] == 3
    config = objects(rendered_ha, "ConfigMap")["civic-nats"]["data"]["nats.conf"]
    assert "jetstream" in config
    assert config.count("nats://civic-nats-") == 3, "every server routes to the other two"
    services = objects(rendered_ha, "Service")
    settings = one_config(rendered_ha)
    assert settings["NATS_URL"] == "nats://civic-nats:4222"
    assert "civic-nats" in services
    assert settings["REDIS_URL"] == "redis://civic-redis:6379/0"
    assert "civic-redis" in services
    pod, container = container_of(rendered_ha, "gateway")
    gateway = component_settings(
        "gateway",
        pod_environment(rendered_ha, container),
        settings_files(mounted_secrets(rendered_ha, pod, container)),
    )
    assert gateway.redis_url == settings["REDIS_URL"]
    assert async_database_url(settings["GATEWAY_DATABASE_URL"]).startswith(
        "postgresql+asyncpg://civic_gateway@"
    )
