"""The ClickHouse files docker-compose.yml mounts: the cluster's XML, the app user's grants.
docker-compose.yml itself is checked through docker-compose by .ci/test_compose.py."""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.chdb_process import in_chdb

ROOT = Path(__file__).resolve().parents[2]


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
