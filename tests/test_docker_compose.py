"""Static checks of docker-compose.yaml (the deployment stack; never started in tests).

`compose_problems` returns every problem it finds; the file must have none,
and each mutation below must be caught, so the checks cannot pass vacuously.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"

AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
AIRFLOW_SERVICES = {"airflow-init", *AIRFLOW_COMMANDS}
REQUIRED_SERVICES = {
    "postgres-airflow",
    "postgres-warehouse",
    "redis",
    "metabase",
    "reporting-api",
    *AIRFLOW_SERVICES,
}
ONE_OFF_SERVICES = {"airflow-init", "metabase-provision"}
DEPENDS_CONDITIONS = {
    "service_started",
    "service_healthy",
    "service_completed_successfully",
}
PRODUCT_ENV = {
    "AIRFLOW__CORE__DAGS_FOLDER": "/opt/ads-elt/dags",
    "AIRFLOW__CORE__PLUGINS_FOLDER": "/opt/ads-elt/plugins",
    "PYTHONPATH": "/opt/ads-elt:/opt/ads-elt/plugins",
    "ADS_ELT_REGISTRY": "/opt/ads-elt/config/workspaces.yml",
    "ADS_ELT_LAKE_ROOT": "file:///opt/ads-elt-lake",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
}

SUBST = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_KEY = re.compile(
    r"PASSWORD|PASSWD|_PASS$|SECRET|TOKEN|FERNET|_AUTH$|API_KEY|PRIVATE_KEY",
    re.IGNORECASE,
)
URL_USERINFO = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*://(?P<user>[^/\s:@]*):(?P<password>[^@\s/]*)@"
)
PLACEHOLDER = "\x00SUBST\x00"


# --------------------------------------------------------------------------- helpers


def load_compose(path: Path = COMPOSE) -> dict:
    return yaml.safe_load(path.read_text())


def env_dict(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def volume_sources(service: dict) -> list[tuple[str, str]]:
    """(source, target) of each mount of a service."""
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            out.append((str(v.get("source", "")), str(v.get("target", ""))))
        else:
            parts = SUBST.sub(lambda m: "$" + m.group(1), str(v)).split(":")
            out.append((parts[0], parts[1]) if len(parts) > 1 else ("", parts[0]))
    return out


def is_named_volume(source: str) -> bool:
    return bool(source) and not source.startswith((".", "/", "~", "$"))


def walk_strings(node, where: str = ""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk_strings(v, f"{where}.{k}" if where else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_strings(v, f"{where}[{i}]")
    elif isinstance(node, str):
        yield where, node


def only_substitution(value: str) -> bool:
    """True if the value is made only of ${VAR}, ${VAR:?msg} or ${VAR:-} (no literal default)."""
    if not value.strip():
        return True  # empty: nothing secret in the file
    rest = value
    for m in SUBST.finditer(value):
        if m.group(2) in ("-", ":-") and m.group(3):
            return False  # a literal fallback is a secret in the file
        rest = rest.replace(m.group(0), "", 1)
    return rest.strip() == "" and SUBST.search(value) is not None


def literal_default_secrets(value: str) -> list[str]:
    return [
        m.group(1)
        for m in SUBST.finditer(value)
        if m.group(2) in ("-", ":-") and m.group(3)
    ]


def compose_problems(doc: dict, env_example: str | None = None) -> list[str]:
    problems: list[str] = []
    services: dict = doc.get("services") or {}
    declared_volumes = set((doc.get("volumes") or {}).keys())

    missing = REQUIRED_SERVICES - set(services)
    if missing:
        problems.append(f"services missing: {sorted(missing)}")

    for name, svc in services.items():
        svc = svc or {}
        if not svc.get("image") and not svc.get("build"):
            problems.append(f"{name}: neither image nor build")
        deps = svc.get("depends_on") or {}
        dep_items = (
            {d: {"condition": "service_started"} for d in deps}
            if isinstance(deps, list)
            else deps
        )
        for dep, spec in dep_items.items():
            if dep not in services:
                problems.append(f"{name}: depends_on undefined service {dep!r}")
                continue
            condition = (spec or {}).get("condition", "service_started")
            if condition not in DEPENDS_CONDITIONS:
                problems.append(
                    f"{name}: depends_on {dep} has unknown condition {condition!r}"
                )
            if condition == "service_healthy" and not (services[dep] or {}).get(
                "healthcheck"
            ):
                problems.append(
                    f"{name}: waits for {dep} to be healthy but {dep} has no healthcheck"
                )
        for source, _ in volume_sources(svc):
            if is_named_volume(source) and source not in declared_volumes:
                problems.append(
                    f"{name}: named volume {source!r} is not declared under top-level volumes"
                )
            if source.startswith("./") and not (REPO / source).exists():
                problems.append(
                    f"{name}: bind mount source {source!r} does not exist in the repository"
                )
        if name not in ONE_OFF_SERVICES and not svc.get("healthcheck"):
            problems.append(f"{name}: no healthcheck")
        build = svc.get("build")
        dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
        if dockerfile and not (REPO / build.get("context", ".") / dockerfile).exists():
            problems.append(f"{name}: Dockerfile {dockerfile!r} does not exist")

    problems += secret_problems(doc)
    problems += airflow_problems(doc)
    if env_example is not None:
        problems += env_example_problems(doc, env_example)
    return problems


def secret_problems(doc: dict) -> list[str]:
    problems = []
    for name, svc in (doc.get("services") or {}).items():
        for key, value in env_dict(svc or {}).items():
            if SECRET_KEY.search(key) and not only_substitution(value):
                problems.append(
                    f"{name}: {key} holds a literal secret (use a ${{VAR:?}} substitution)"
                )
            if key.startswith("AIRFLOW_CONN_") and value.lstrip().startswith("{"):
                try:
                    conn = json.loads(value)
                except json.JSONDecodeError:
                    problems.append(f"{name}: {key} is not valid JSON")
                    continue
                for field in ("password", "extra"):
                    v = conn.get(field)
                    if isinstance(v, str) and v and not only_substitution(v):
                        problems.append(f"{name}: {key}.{field} holds a literal secret")
    for where, text in walk_strings(doc):
        names = literal_default_secrets(text)
        for var in names:
            if SECRET_KEY.search(var):
                problems.append(
                    f"{where}: ${{{var}:-...}} has a literal default for a secret"
                )
        normalised = SUBST.sub(PLACEHOLDER, text)
        for m in URL_USERINFO.finditer(normalised):
            if m.group("password") not in ("", PLACEHOLDER):
                problems.append(f"{where}: URL with a literal password")
    return problems


def airflow_problems(doc: dict) -> list[str]:
    problems = []
    services = doc.get("services") or {}
    common = doc.get("x-airflow-common") or {}
    common_env = env_dict(common)
    if not common:
        return ["x-airflow-common is missing"]
    for key, expected in PRODUCT_ENV.items():
        if common_env.get(key) != expected:
            problems.append(
                f"x-airflow-common: {key} should be {expected!r}, is {common_env.get(key)!r}"
            )
    images = {}
    for name in sorted(AIRFLOW_SERVICES & set(services)):
        svc = services[name] or {}
        images[name] = json.dumps([svc.get("image"), svc.get("build")], sort_keys=True)
        env = env_dict(svc)
        for key, value in common_env.items():
            if env.get(key) != value:
                problems.append(
                    f"{name}: environment {key} differs from x-airflow-common"
                )
        if env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
            problems.append(f"{name}: executor is not CeleryExecutor")
        if name in AIRFLOW_COMMANDS and svc.get("command") != AIRFLOW_COMMANDS[name]:
            problems.append(f"{name}: command should be {AIRFLOW_COMMANDS[name]!r}")
        targets = {t for _, t in volume_sources(svc)}
        for target in ("/opt/ads-elt", "/opt/ads-elt-lake"):
            if target not in targets:
                problems.append(f"{name}: nothing mounted at {target}")
    if len(set(images.values())) > 1:
        problems.append(f"Airflow services do not share one image: {images}")
    if common.get("image") and "3.3.2" not in str(common.get("image")) + json.dumps(
        common.get("build")
    ):
        problems.append("Airflow image is not 3.3.2")

    broker = common_env.get("AIRFLOW__CELERY__BROKER_URL", "")
    m = re.match(
        r"redis://[^@/]*@?(?P<host>[A-Za-z0-9_.\-]+)(?::\d+)?/", SUBST.sub("x", broker)
    )
    if not m:
        problems.append(f"Celery broker is not a redis:// URL: {broker!r}")
    else:
        host = m.group("host")
        broker_svc = services.get(host)
        if not broker_svc or not str(broker_svc.get("image", "")).startswith("redis"):
            problems.append(
                f"Celery broker host {host!r} is not a redis service in this file"
            )
    lake_volume = [s for s, t in volume_sources(common) if t == "/opt/ads-elt-lake"]
    if not lake_volume or not is_named_volume(lake_volume[0]):
        problems.append("the lake (/opt/ads-elt-lake) is not on a named volume")
    # Every worker process and container of the host shares one request spacing per platform.
    pacing_dir = common_env.get("ADS_ELT_RATE_LIMIT_DIR")
    pacing_volume = [s for s, t in volume_sources(common) if t == pacing_dir]
    if not pacing_dir or not pacing_volume or not is_named_volume(pacing_volume[0]):
        problems.append(f"ADS_ELT_RATE_LIMIT_DIR ({pacing_dir!r}) is not on a named volume the workers share")
    return problems


def env_example_problems(doc: dict, env_example: str) -> list[str]:
    defined = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", env_example, re.MULTILINE))
    required = {
        m.group(1)
        for _, s in walk_strings(doc)
        for m in SUBST.finditer(s)
        if m.group(2) in ("?", ":?")
    }
    missing = required - defined
    return (
        [f".env.example lacks required variables: {sorted(missing)}"] if missing else []
    )


# --------------------------------------------------------------------------- the file as written


def test_compose_file_has_no_problems():
    assert compose_problems(load_compose(), ENV_EXAMPLE.read_text()) == []


def test_airflow_services_use_the_common_anchor():
    """Each Airflow service merges the very `x-airflow-common` node (not a copy)."""
    root = yaml.compose(COMPOSE.read_text())
    top = {k.value: v for k, v in root.value}
    common = top["x-airflow-common"]
    services = {k.value: v for k, v in top["services"].value}
    for name in AIRFLOW_SERVICES:
        merges = [
            v
            for k, v in services[name].value
            if k.tag.endswith("merge") or k.value == "<<"
        ]
        assert merges and merges[0] is common, name


def test_the_stack_parses_the_dbt_project_before_the_dag_is_rendered():
    """airflow-init writes dbt's manifest where the DAG reads it, so the server stack renders one task per
    dbt model (dags/ads_daily.py: MANIFEST = ADS_ELT_DBT_DIR/target/manifest.json) as the local one does."""
    doc = load_compose()
    init = doc["services"]["airflow-init"]
    script = "\n".join(init["command"])
    assert 'dbt parse --project-dir "${ADS_ELT_DBT_DIR}" --profiles-dir "${DBT_PROFILES_DIR}"' in script.replace("$$", "$")
    assert script.index("dbt parse") < script.index("exec /entrypoint")
    env = init["environment"]
    assert env["ADS_ELT_DBT_DIR"] == env["DBT_PROFILES_DIR"] == "/opt/ads-elt/dbt_project"
    dag_file = (REPO / "dags" / "ads_daily.py").read_text()
    assert 'MANIFEST = DBT_DIR / "target" / "manifest.json"' in dag_file
    for name in ("airflow-scheduler", "airflow-dag-processor", "airflow-worker"):
        assert doc["services"][name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully", name


def test_services_and_ports():
    doc = load_compose()
    services = doc["services"]
    assert "3000:3000" in services["metabase"]["ports"]
    assert "8080:8080" in services["airflow-apiserver"]["ports"]
    conn = json.loads(env_dict(services["airflow-worker"])["AIRFLOW_CONN_WAREHOUSE"])
    assert conn["conn_type"] == "postgres" and conn["host"] == "postgres-warehouse"
    init = services["airflow-init"]
    assert (
        env_dict(init)["_AIRFLOW_DB_MIGRATE"] == "true"
        and env_dict(init)["_AIRFLOW_WWW_USER_CREATE"] == "true"
    )
    for name in AIRFLOW_COMMANDS:
        assert (
            services[name]["depends_on"]["airflow-init"]["condition"]
            == "service_completed_successfully"
        )


def test_the_reporting_service_runs_beside_airflow_as_the_api_role():
    services = load_compose()["services"]
    api = services["reporting-api"]
    assert api["command"][:4] == ["python", "-m", "api", "serve"] and "8765:8765" in api["ports"]
    env = env_dict(api)
    role = json.loads(SUBST.sub("x", env["AIRFLOW_CONN_WAREHOUSE_API"]))
    assert role["login"] == "ads_api" and role["host"] == "postgres-warehouse"
    assert json.loads(SUBST.sub("x", env["AIRFLOW_CONN_AIRFLOW_API"]))["host"] == "http://airflow-apiserver:8080"
    # the DAG creates the role and signs alert links: its services know the same Connections
    worker = env_dict(services["airflow-worker"])
    assert worker["AIRFLOW_CONN_WAREHOUSE_API"] == env["AIRFLOW_CONN_WAREHOUSE_API"]
    assert worker["AIRFLOW_CONN_REPORTING_API"] == env["AIRFLOW_CONN_REPORTING_API"]
    assert api["depends_on"]["postgres-warehouse"]["condition"] == "service_healthy"
    dockerfile = (REPO / "docker" / "airflow.Dockerfile").read_text()
    assert "npm ci" in dockerfile and "ADS_API_VENDOR_DIR" in dockerfile


def test_metabase_is_provisioned_as_code_once_it_is_healthy():
    services = load_compose()["services"]
    job = services["metabase-provision"]
    assert job["command"] == ["python", "-m", "metabase.provision"] and job["restart"] == "no"
    assert job["depends_on"]["metabase"]["condition"] == "service_healthy"
    env = env_dict(job)
    assert env["METABASE_URL"] == "http://metabase:3000" and env["METABASE_READER_USER"].startswith("${METABASE_READER_USER")


def test_dockerfile_installs_the_pinned_requirements():
    text = (REPO / "docker" / "airflow.Dockerfile").read_text()
    assert "apache/airflow:3.3.2-python3.11" in text
    assert re.search(r"-r \S*requirements\.txt", text) and re.search(
        r"-c \S*constraints\.txt", text
    )
    # The image carries the runtime only: the test and lint tools are in requirements-dev.txt.
    assert "requirements-dev" not in text
    runtime = {re.split(r"[<>=~\[ ]", line)[0].lower() for line in (REPO / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")}
    assert not runtime & {"pytest", "pytest-xdist", "ruff", "playwright", "great-expectations"}, runtime
    dev = (REPO / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev and all(tool in dev for tool in ("pytest", "pytest-xdist", "ruff", "playwright"))


# --------------------------------------------------------------------------- the checks catch mistakes


def _svc(doc, name):
    return doc["services"][name]


def _set_env(svc, key, value):
    env = env_dict(svc)
    env[key] = value
    svc["environment"] = env


MUTATIONS = {
    "undefined dependency": (
        lambda d: d["services"].pop("redis"),
        "depends_on undefined service 'redis'",
    ),
    "undeclared volume": (
        lambda d: (
            _svc(d, "metabase")
            .setdefault("volumes", [])
            .append("metabase-plugins:/plugins")
        ),
        "named volume 'metabase-plugins' is not declared",
    ),
    "no image": (
        lambda d: _svc(d, "postgres-warehouse").pop("image"),
        "neither image nor build",
    ),
    "literal password": (
        lambda d: _set_env(_svc(d, "postgres-airflow"), "POSTGRES_PASSWORD", "airflow"),
        "POSTGRES_PASSWORD holds a literal secret",
    ),
    "literal default for a secret": (
        lambda d: _set_env(
            _svc(d, "postgres-warehouse"),
            "POSTGRES_PASSWORD",
            "${WAREHOUSE_PASSWORD:-hunter2}",
        ),
        "literal default for a secret",
    ),
    "password in a URL": (
        lambda d: _set_env(
            _svc(d, "airflow-scheduler"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "postgresql+psycopg2://airflow:airflow@postgres-airflow/airflow",
        ),
        "URL with a literal password",
    ),
    "password in a Connection": (
        lambda d: _set_env(
            _svc(d, "airflow-worker"),
            "AIRFLOW_CONN_WAREHOUSE",
            json.dumps({"conn_type": "postgres", "host": "h", "password": "s3cret"}),
        ),
        "AIRFLOW_CONN_WAREHOUSE.password holds a literal secret",
    ),
    "other executor": (
        lambda d: _set_env(
            _svc(d, "airflow-triggerer"), "AIRFLOW__CORE__EXECUTOR", "LocalExecutor"
        ),
        "airflow-triggerer: executor is not CeleryExecutor",
    ),
    "different image": (
        lambda d: _svc(d, "airflow-worker").update(image="apache/airflow:2.10.0"),
        "do not share one image",
    ),
    "broker not redis": (
        lambda d: d["x-airflow-common"]["environment"].update(
            AIRFLOW__CELERY__BROKER_URL="amqp://rabbit:5672/"
        ),
        "not a redis:// URL",
    ),
    "healthy without healthcheck": (
        lambda d: _svc(d, "redis").pop("healthcheck"),
        "redis has no healthcheck",
    ),
    "unshared request spacing": (
        lambda d: d["x-airflow-common"]["environment"].pop("ADS_ELT_RATE_LIMIT_DIR"),
        "ADS_ELT_RATE_LIMIT_DIR (None) is not on a named volume",
    ),
    "missing service": (
        lambda d: d["services"].pop("metabase"),
        "services missing: ['metabase']",
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_checks_catch_a_broken_copy(mutation):
    mutate, expected = MUTATIONS[mutation]
    doc = copy.deepcopy(load_compose())
    mutate(doc)
    problems = compose_problems(doc, ENV_EXAMPLE.read_text())
    assert any(expected in p for p in problems), problems


def test_env_example_check_catches_a_missing_variable():
    text = re.sub(
        r"^REDIS_PASSWORD=.*$", "", ENV_EXAMPLE.read_text(), flags=re.MULTILINE
    )
    assert compose_problems(load_compose(), text) == [
        ".env.example lacks required variables: ['REDIS_PASSWORD']"
    ]
