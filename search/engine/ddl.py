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

# The insert's column order (see `row()`).
COLUMNS = ("subscription_id", "workspace_id", "table_name", "time_generated", "ingested_at",
           "computer", "event_id", "account", "ip_address", "logon_type", "process",
           "command_line", "message", "resource_id", "fields", "raw", "retention_days")

# When a row expires (the TTL, and search.engine's drop_expired and set_retention).
EXPIRES = "toDateTime(ingested_at) + toIntervalDay(retention_days)"

CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    subscription_id UInt64,
    workspace_id UInt64,
    table_name LowCardinality(String),
    time_generated DateTime64(6, 'UTC'),
    ingested_at DateTime64(6, 'UTC'),
    computer LowCardinality(String),
    event_id Nullable(Int32),
    account LowCardinality(String),
    ip_address String,
    logon_type Nullable(Int32),
    process LowCardinality(String),
    command_line String,
    message String,
    resource_id Nullable(UInt64),
    fields Map(LowCardinality(String), String),
    raw String CODEC(ZSTD(3)),
    retention_days UInt16,
    INDEX command_line_tokens lower(command_line) TYPE tokenbf_v1(8192, 3, 0) GRANULARITY 1,
    INDEX message_tokens lower(message) TYPE tokenbf_v1(8192, 3, 0) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(time_generated)
ORDER BY (workspace_id, table_name, time_generated)
TTL {EXPIRES}
"""


def hot_columns(table):
    """{Kusto column: storage column} for the typed columns of `table`."""
    return HOT_COLUMNS.get(table, DEFAULT_HOT)


def encode_fields(columns):
    """An event's other fields as the `fields` map: name -> JSON text, nulls left out."""
    return {name: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            for name, value in columns.items() if value is not None}
