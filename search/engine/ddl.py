"""The events table in ClickHouse: its columns, how an event's fields are stored.

One wide table for every log table (`table_name` says which), as `search_event` is
in PostgreSQL today: the compiler reads the same storage columns from either. The
sort key (workspace, table, time) makes every compiled query a range of the
primary index; the partitions are days; each row carries its retention, so the
TTL drops what a workspace no longer keeps. Retention counts from ingestion, as it
always has here: a 2020 sample ingested today is kept its workspace's 90 days.

The typed (*hot*) columns are those analysts filter on; every other field is in
`fields`, a map from the Sentinel column name to the field's JSON text (a string
as "quoted" JSON, a number as 12, an object as {...}); JSON null is left out.
The long text columns (command lines, messages) have a token bloom filter so
`has` over weeks reads only the granules that can hold the term.
"""

import json

TABLE = "events"

# Storage column -> Kusto type, for the typed columns.
HOT_STORAGE = {
    "time_generated": "datetime",
    "computer": "string",
    "event_id": "int",
    "account": "string",
    "ip_address": "string",
    "logon_type": "int",
    "process": "string",
    "command_line": "string",
    "message": "string",
}

# Kusto column -> storage column, per table; other tables use DEFAULT_HOT.
DEFAULT_HOT = {"TimeGenerated": "time_generated", "Computer": "computer"}
HOT_COLUMNS = {
    "SecurityEvent": {**DEFAULT_HOT, "EventID": "event_id", "Account": "account",
                      "IpAddress": "ip_address", "LogonType": "logon_type",
                      "NewProcessName": "process", "CommandLine": "command_line"},
    "Syslog": {**DEFAULT_HOT, "HostIP": "ip_address", "ProcessName": "process",
               "SyslogMessage": "message"},
    "CommonSecurityLog": {**DEFAULT_HOT, "SourceIP": "ip_address",
                          "SourceUserName": "account", "Message": "message"},
    "SigninLogs": {**DEFAULT_HOT, "UserPrincipalName": "account", "IPAddress": "ip_address"},
    "SuricataEve": {**DEFAULT_HOT, "SrcIp": "ip_address"},
}

# Storage column -> ClickHouse type, in the insert's column order (see `row()`).
COLUMN_TYPES = (
    ("subscription_id", "UInt64"),
    ("workspace_id", "UInt64"),
    ("table_name", "LowCardinality(String)"),
    ("time_generated", "DateTime64(6, 'UTC')"),
    ("ingested_at", "DateTime64(6, 'UTC')"),
    ("computer", "LowCardinality(String)"),
    ("event_id", "Nullable(Int32)"),
    ("account", "LowCardinality(String)"),
    ("ip_address", "String"),
    ("logon_type", "Nullable(Int32)"),
    ("process", "LowCardinality(String)"),
    ("command_line", "String"),
    ("message", "String"),
    ("resource_id", "Nullable(UInt64)"),
    ("fields", "Map(LowCardinality(String), String)"),
    ("raw", "String CODEC(ZSTD(3))"),
    ("retention_days", "UInt16"),
)
COLUMNS = tuple(name for name, _ in COLUMN_TYPES)

# When a row expires (the TTL, and search.engine's drop_expired and set_retention).
EXPIRES = "toDateTime(ingested_at) + toIntervalDay(retention_days)"

INDEXES = (
    "INDEX command_line_tokens lower(command_line) TYPE tokenbf_v1(8192, 3, 0) GRANULARITY 1",
    "INDEX message_tokens lower(message) TYPE tokenbf_v1(8192, 3, 0) GRANULARITY 1",
)

# What follows ENGINE = ... for the table that stores the rows (one server, or each shard).
STORAGE_CLAUSES = (
    "PARTITION BY toYYYYMMDD(time_generated)",
    "ORDER BY (workspace_id, table_name, time_generated)",
    f"TTL {EXPIRES}",
)

# The cluster's tables: each shard stores its rows in LOCAL_TABLE, replicated through
# Keeper; TABLE is a Distributed table over them, so queries and inserts name TABLE as
# on one server. Rows go to a shard by workspace: a workspace's events stay together.
LOCAL_TABLE = f"{TABLE}_local"
REPLICATED_ENGINE = (f"ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{LOCAL_TABLE}', "
                     "'{replica}')")
SHARDING_KEY = "cityHash64(workspace_id)"


def create_table(name, engine, *, on_cluster=None, indexes=INDEXES, clauses=STORAGE_CLAUSES):
    """CREATE TABLE IF NOT EXISTS for `name` with the events' columns and `engine`."""
    elements = [f"{column} {type_}" for column, type_ in COLUMN_TYPES] + list(indexes)
    body = ",\n".join(f"    {element}" for element in elements)
    cluster = f" ON CLUSTER {on_cluster}" if on_cluster else ""
    tail = "".join(f"{clause}\n" for clause in clauses)
    return f"\nCREATE TABLE IF NOT EXISTS {name}{cluster} (\n{body}\n) ENGINE = {engine}\n{tail}"


CREATE_TABLE = create_table(TABLE, "MergeTree")


def cluster_ddl(cluster):
    """The statements creating the events tables on `cluster`, in order.

    `events_local` on every node (ReplicatedMergeTree: a shard's replicas share its rows
    through Keeper), then `events` on every node, a Distributed table over them sharded
    by workspace. Each is created ON CLUSTER, so it runs on one node for all.
    """
    distributed = (f"Distributed({cluster}, currentDatabase(), {LOCAL_TABLE}, "
                   f"{SHARDING_KEY})")
    return [
        create_table(LOCAL_TABLE, REPLICATED_ENGINE, on_cluster=cluster),
        # Columns spelled out rather than `AS events_local`: an ON CLUSTER `AS` has been
        # resolved in the wrong database on the other nodes (ClickHouse issue 37318).
        create_table(TABLE, distributed, on_cluster=cluster, indexes=(), clauses=()),
    ]


def hot_columns(table):
    """{Kusto column: storage column} for the typed columns of `table`."""
    return HOT_COLUMNS.get(table, DEFAULT_HOT)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# What the encoder writes for a string, called directly: most fields are strings, and
# this skips json.dumps' per-call set-up (a fifth of ingestion's time went there).
_ENCODE_STRING = json.encoder.encode_basestring


def encode_fields(columns):
    """An event's other fields as the `fields` map: name -> JSON text, nulls left out."""
    string, encode = _ENCODE_STRING, _ENCODER.encode
    return {name: string(value) if type(value) is str else encode(value)
            for name, value in columns.items() if value is not None}
