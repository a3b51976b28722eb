"""docker-compose.yml through docker-compose itself: valid with and without the cluster
profile, the app on a ClickHouse server as its own user. Run by .ci/run, which installs
docker-compose (`.venv/bin/pytest -p no:django .ci/test_compose.py`); the files' own
checks, which need no binary, are in tests/socconsole/test_compose.py."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {"SECRET_KEY": "test", "POSTGRES_PASSWORD": "test", "CLICKHOUSE_PASSWORD": "test",
           "CLICKHOUSE_APP_PASSWORD": "app-test", "CLICKHOUSE_CLUSTER_SECRET": "test"}
APP = ("migrate", "web", "worker", "beat")

def compose(*args, env=SECRETS):
    return subprocess.run(["docker-compose", *args], cwd=ROOT, capture_output=True, text=True,  # noqa: S603, S607
                          env={"PATH": os.environ["PATH"], **env}, timeout=60)


def config(*profile):
    done = compose(*profile, "config")
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


@pytest.mark.parametrize("profile", [(), ("--profile", "cluster")])
def test_it_validates(profile):
    done = compose(*profile, "config", "-q")
    assert done.returncode == 0, done.stderr


def test_it_refuses_to_start_without_the_clickhouse_passwords():
    done = compose("config", "-q", env={**SECRETS, "CLICKHOUSE_APP_PASSWORD": ""})
    assert done.returncode != 0
    assert "CLICKHOUSE_APP_PASSWORD" in done.stderr


def test_the_app_uses_the_clickhouse_server_as_its_own_user():
    services = config()
    for name in APP:
        env = services[name]["environment"]
        user = "soc" if name == "migrate" else "soc_app"
        password = "test" if name == "migrate" else "app-test"
        assert env["EVENTS_URL"] == f"clickhouse://{user}:{password}@clickhouse:8123/soc_events"
        assert not env["EVENTS_CLUSTER"]
        assert services[name]["depends_on"]["clickhouse"] == {"condition": "service_healthy"}
    assert "manage.py create_events_tables" in services["migrate"]["command"][-1]
    assert "profiles" not in services["clickhouse"]
    assert services["clickhouse"]["scale"] == 1
    for name in ("clickhouse-keeper", "clickhouse-s1", "clickhouse-s2"):
        assert services[name]["profiles"] == ["cluster"]
    assert "healthcheck" in services["clickhouse"]


def test_the_cluster_profile_points_the_app_at_a_node_of_the_soc_cluster():
    services = config("--profile", "cluster")
    nodes = {"clickhouse-s1": "macros-s1.xml", "clickhouse-s2": "macros-s2.xml"}
    for node, macros in nodes.items():
        mounts = " ".join(services[node]["volumes"])
        assert f"deploy/clickhouse/cluster/{macros}:" in mounts
        assert "deploy/clickhouse/cluster/remote_servers.xml:" in mounts
        assert services[node]["depends_on"]["clickhouse-keeper"] == {
            "condition": "service_healthy"}
    done = compose("--profile", "cluster", "config",
                   env={**SECRETS, "EVENTS_HOST": "clickhouse-s1", "EVENTS_CLUSTER": "soc",
                        "CLICKHOUSE_SINGLE_SERVER": "0"})
    services = yaml.safe_load(done.stdout)["services"]
    env = services["web"]["environment"]
    assert env["EVENTS_URL"] == "clickhouse://soc_app:app-test@clickhouse-s1:8123/soc_events"
    assert env["EVENTS_CLUSTER"] == "soc"
    scales = {name: services[name]["scale"] for name in ("clickhouse", *nodes)}
    assert scales == {"clickhouse": 0, "clickhouse-s1": 1, "clickhouse-s2": 1}
