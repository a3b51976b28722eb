"""docker-compose.yml: valid with and without the cluster profile; the app on a server."""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {"SECRET_KEY": "test", "POSTGRES_PASSWORD": "test", "CLICKHOUSE_PASSWORD": "test",
           "CLICKHOUSE_APP_PASSWORD": "app-test", "CLICKHOUSE_CLUSTER_SECRET": "test"}
APP = ("migrate", "web", "worker", "beat")

needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (CI installs it: .ci/run)")


def compose(*args, env=SECRETS):
    return subprocess.run(["docker-compose", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], **env}, timeout=60)


def config(*profile):
    done = compose(*profile, "config")
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


@needs_compose
@pytest.mark.parametrize("profile", [(), ("--profile", "cluster")])
def test_it_validates(profile):
    done = compose(*profile, "config", "-q")
    assert done.returncode == 0, done.stderr


@needs_compose
def test_it_refuses_to_start_without_the_clickhouse_passwords():
    done = compose("config", "-q", env={**SECRETS, "CLICKHOUSE_APP_PASSWORD": ""})
    assert done.returncode != 0
    assert "CLICKHOUSE_APP_PASSWORD" in done.stderr


@needs_compose
def test_the_app_uses_the_clickhouse_server_as_its_own_user():
    services = config()
    for name in APP:
        env = services[name]["environment"]
        user = "soc" if name == "migrate" else "soc_app"
        password = "test" if name == "migrate" else "app-test"
        assert env["EVENTS_URL"] == f"clickhouse://{user}:{password}@clickhouse:8123/soc_events"
        assert not env["EVENTS_CLUSTER"]
        assert services[name]["depends_on"]["clickhouse"] == {"condition": "service_healthy"}
    assert "profiles" not in services["clickhouse"]
    for name in ("clickhouse-keeper", "clickhouse-s1", "clickhouse-s2"):
        assert services[name]["profiles"] == ["cluster"]
    assert "healthcheck" in services["clickhouse"]


@needs_compose
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
                   env={**SECRETS, "EVENTS_HOST": "clickhouse-s1", "EVENTS_CLUSTER": "soc"})
    env = yaml.safe_load(done.stdout)["services"]["web"]["environment"]
    assert env["EVENTS_URL"] == "clickhouse://soc_app:app-test@clickhouse-s1:8123/soc_events"
    assert env["EVENTS_CLUSTER"] == "soc"


def test_the_clickhouse_config_files_are_xml_with_the_soc_cluster():
    files = sorted((ROOT / "deploy" / "clickhouse").rglob("*.xml"))
    assert files
    roots = {path.name: ET.parse(path).getroot() for path in files}
    assert {root.tag for root in roots.values()} == {"clickhouse"}
    shards = roots["remote_servers.xml"].findall("remote_servers/soc/shard")
    assert [s.findtext("replica/host") for s in shards] == ["clickhouse-s1", "clickhouse-s2"]
    assert {s.findtext("internal_replication") for s in shards} == {"true"}
    assert roots["zookeeper.xml"].findtext("zookeeper/node/host") == "clickhouse-keeper"
    grants = [q.text for q in roots["soc_app.xml"].findall("users/soc_app/grants/query")]
    assert "GRANT SELECT, INSERT ON soc_events.*" in grants
    assert not [g for g in grants if any(w in g for w in ("ALL", "CREATE", "DROP", "TRUNCATE"))]
