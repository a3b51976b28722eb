"""docker-compose.yml: valid with and without the cluster profile; the app on a server."""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.chdb_process import in_chdb

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
    assert "manage.py create_events_tables" in services["migrate"]["command"][-1]
    assert "profiles" not in services["clickhouse"]
    assert services["clickhouse"]["scale"] == 1
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
                   env={**SECRETS, "EVENTS_HOST": "clickhouse-s1", "EVENTS_CLUSTER": "soc",
                        "CLICKHOUSE_SINGLE_SERVER": "0"})
    services = yaml.safe_load(done.stdout)["services"]
    env = services["web"]["environment"]
    assert env["EVENTS_URL"] == "clickhouse://soc_app:app-test@clickhouse-s1:8123/soc_events"
    assert env["EVENTS_CLUSTER"] == "soc"
    scales = {name: services[name]["scale"] for name in ("clickhouse", *nodes)}
    assert scales == {"clickhouse": 0, "clickhouse-s1": 1, "clickhouse-s2": 1}


def test_the_clickhouse_config_files_are_xml_with_the_soc_cluster():
    files = sorted((ROOT / "deploy" / "clickhouse").rglob("*.xml"))
    assert files
    roots = {path.name: ET.parse(path).getroot() for path in files}
    assert {root.tag for root in roots.values()} == {"clickhouse"}
    shards = roots["remote_servers.xml"].findall("remote_servers/soc/shard")
    assert [s.findtext("replica/host") for s in shards] == ["clickhouse-s1", "clickhouse-s2"]
    assert {s.findtext("internal_replication") for s in shards} == {"true"}
    assert roots["zookeeper.xml"].findtext("zookeeper/node/host") == "clickhouse-keeper"


def test_the_app_user_may_read_and_write_events_and_nothing_else(tmp_path):
    # The users file loaded by the engine itself, as the server loads its users.d.
    (tmp_path / "users.d").mkdir()
    shutil.copy(ROOT / "deploy/clickhouse/users.d/soc_app.xml", tmp_path / "users.d")
    (tmp_path / "users.xml").write_text(
        "<clickhouse><profiles><default/></profiles><quotas><default/></quotas><users>"
        "<default><password/><networks><ip>::/0</ip></networks><profile>default</profile>"
        "<quota>default</quota><access_management>1</access_management></default>"
        "</users></clickhouse>")
    (tmp_path / "config.xml").write_text(
        f"<clickhouse><users_config>{tmp_path / 'users.xml'}</users_config></clickhouse>")
    found = in_chdb([], {
        "grants": "SHOW GRANTS FOR soc_app",
        "profile": "SHOW CREATE SETTINGS PROFILE soc_app",
        "auth": "SELECT auth_type FROM system.users WHERE name = 'soc_app'",
    }, config=tmp_path / "config.xml", env={"CLICKHOUSE_APP_PASSWORD": "app-test"})

    assert sorted(row[0] for row in found["grants"]) == [
        "GRANT ALTER UPDATE(retention_days) ON soc_events.events TO soc_app",
        "GRANT ALTER UPDATE(retention_days) ON soc_events.events_local TO soc_app",
        "GRANT CLUSTER ON *.* TO soc_app",
        "GRANT SELECT, INSERT, ALTER DELETE ON soc_events.* TO soc_app",
    ]
    profile = found["profile"][0][0]
    assert "distributed_foreground_insert = true" in profile
    assert "readonly" not in profile
    assert "no_password" not in str(found["auth"]) and "password" in str(found["auth"])
