"""deploy/ agrees with the code: variables, values, ports, probe paths and commands.

Docker and Kubernetes do not run on our machines, so these files are checked here,
against ``service.settings.Settings`` and the ``claimwatch`` command line.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.cli.main import COMMAND_MODULES, build_parser
from service.settings import PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
SETTING_VARIABLES = {PREFIX + f.name.upper() for f in fields(Settings)}
WEB_PORT = Settings().web_port
# Subcommands the deploy files name before their module is written; skipped (not
# passed) until service/cli/<name>.py exists, then checked like the others.
PENDING_COMMANDS = {"worker"}


def load_yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def k8s_object(kind: str) -> dict[str, Any]:
    found = [
        doc for path in sorted(K8S.glob("*.yaml")) for doc in load_yaml_documents(path)
        if doc.get("kind") == kind
    ]  # fmt: skip
    assert len(found) == 1, f"expected one {kind} in deploy/k8s, found {len(found)}"
    return found[0]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def worker_container() -> dict[str, Any]:
    containers: list[dict[str, Any]] = k8s_object("Deployment")["spec"]["template"]["spec"][
        "containers"
    ]
    (container,) = containers
    return container


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [ln for ln in DOCKERFILE.read_text().splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            for item in shlex.split(arguments):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def dockerfile_exec_form(name: str) -> list[str]:
    (arguments,) = [a for i, a in dockerfile_instructions() if i == name]
    value: list[str] = json.loads(arguments)
    return value


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {k: str(v) for k, v in environment.items()}


def deployed_environments() -> dict[str, dict[str, str]]:
    """Every set of CLAIMWATCH_* variables deploy/ gives a process, by where it is set."""
    envs = {"Dockerfile": dockerfile_env()}
    for name, service in compose()["services"].items():
        envs[f"compose.yaml:{name}"] = compose_env(service)
    envs["k8s ConfigMap"] = {k: str(v) for k, v in k8s_object("ConfigMap")["data"].items()}
    envs["k8s Deployment env"] = {
        e["name"]: str(e.get("value", "")) for e in worker_container().get("env", [])
    }
    return envs


def claimwatch_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after ``claimwatch``) for every command the deploy files run."""
    assert dockerfile_exec_form("ENTRYPOINT") == ["claimwatch"]
    commands = [("Dockerfile CMD", dockerfile_exec_form("CMD"))]
    for name, service in compose()["services"].items():
        if service.get("image", "").startswith("claimwatch") or "build" in service:
            command = service["command"]
            argv = shlex.split(command) if isinstance(command, str) else list(command)
            commands.append((f"compose.yaml:{name}", argv))
    commands.append(("k8s Deployment", list(worker_container()["args"])))
    return commands


def test_every_claimwatch_variable_is_a_setting() -> None:
    files = [
        DOCKERFILE,
        COMPOSE,
        *sorted(K8S.glob("*.yaml")),
        DEPLOY / "prometheus" / "prometheus.yml",
    ]
    docs = ROOT / "README.md"
    if docs.exists():
        files.append(docs)
    for path in files:
        named = set(re.findall(rf"\b{PREFIX}[A-Z0-9_]*[A-Z0-9]", path.read_text()))
        unknown = named - SETTING_VARIABLES
        assert not unknown, f"{path.relative_to(ROOT)} names variables Settings lacks: {unknown}"


@pytest.mark.parametrize("where", sorted(deployed_environments()))
def test_deployed_values_are_valid_settings(where: str) -> None:
    env = deployed_environments()[where]
    claimwatch = {k: v for k, v in env.items() if k.startswith(PREFIX)}
    assert set(claimwatch) <= SETTING_VARIABLES
    literal = {k: v for k, v in claimwatch.items() if "${" not in v}  # compose interpolation
    settings = Settings.from_env(literal)  # parses every value and runs Settings.check()
    assert settings.web_port == WEB_PORT


def test_containers_listen_on_all_interfaces() -> None:
    assert dockerfile_env()["CLAIMWATCH_WEB_HOST"] == "0.0.0.0"
    assert k8s_object("ConfigMap")["data"]["CLAIMWATCH_WEB_HOST"] == "0.0.0.0"
    assert compose_env(compose()["services"]["review"])["CLAIMWATCH_REVIEW_HOST"] == "0.0.0.0"


def test_probes_use_the_web_port_and_the_health_paths() -> None:
    container = worker_container()
    liveness = container["livenessProbe"]["httpGet"]
    readiness = container["readinessProbe"]["httpGet"]
    assert (liveness["path"], liveness["port"]) == ("/healthz", WEB_PORT)
    assert (readiness["path"], readiness["port"]) == ("/readyz", WEB_PORT)
    assert [p["containerPort"] for p in container["ports"]] == [WEB_PORT]
    assert "requests" in container["resources"] and "limits" in container["resources"]


def test_service_and_scrape_config_use_the_web_port() -> None:
    service = k8s_object("Service")
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [
        (WEB_PORT, WEB_PORT)
    ]
    pod_labels = k8s_object("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    annotations = k8s_object("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(WEB_PORT)
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "claimwatch"]
    assert job["dns_sd_configs"][0]["port"] == WEB_PORT
    assert job["dns_sd_configs"][0]["names"] == ["worker"]  # the compose service
    assert compose()["services"]["worker"]["expose"] == [str(WEB_PORT)]


def test_dockerfile_exposes_and_checks_the_web_port() -> None:
    instructions = dockerfile_instructions()
    assert ("EXPOSE", str(WEB_PORT)) in instructions
    (healthcheck,) = [a for i, a in instructions if i == "HEALTHCHECK"]
    assert f"127.0.0.1:{WEB_PORT}/healthz" in healthcheck


def test_review_app_port_matches_its_setting() -> None:
    review = compose()["services"]["review"]
    port = int(compose_env(review)["CLAIMWATCH_REVIEW_PORT"])
    assert port == Settings().review_port
    assert review["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/healthz" in " ".join(review["healthcheck"]["test"])


def test_deployment_reads_the_configmap() -> None:
    sources = worker_container()["envFrom"]
    names = [s["configMapRef"]["name"] for s in sources if "configMapRef" in s]
    assert names == [k8s_object("ConfigMap")["metadata"]["name"]]


def test_dockerfile_copies_what_pip_install_needs() -> None:
    # pyproject.toml names README.md as the readme: without it `pip install .` fails.
    instructions = dockerfile_instructions()
    sources = [
        source
        for instruction, arguments in instructions
        if instruction == "COPY"
        for source in arguments.split()[:-1]
        if not source.startswith("--")
    ]
    assert {"pyproject.toml", "README.md", "service", "models"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), f"deploy/Dockerfile copies {source}, which is missing"
    assert ("RUN", "pip install . && rm -rf /src") in instructions


def test_compose_mounts_files_that_exist() -> None:
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"compose.yaml:{name} mounts missing {source}"


def test_compose_kafka_matches_the_local_launcher_version() -> None:
    pom = (DEPLOY / "kafka" / "pom.xml").read_text()
    (version,) = re.findall(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    assert compose()["services"]["kafka"]["image"] == f"apache/kafka:{version}"


@pytest.mark.parametrize(("where", "argv"), claimwatch_commands())
def test_deploy_commands_are_real_subcommands(where: str, argv: list[str]) -> None:
    name = argv[0]
    if name in PENDING_COMMANDS and not (ROOT / "service" / "cli" / f"{name}.py").exists():
        pytest.skip(f"{where}: `claimwatch {name}` is not written yet (service/cli/{name}.py)")
    assert name in COMMAND_MODULES, f"{where}: `claimwatch {name}` is not a subcommand"
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: `claimwatch {' '.join(argv)}` does not parse")
