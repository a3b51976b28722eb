"""How to keep an event's other fields in the engine: a Map of JSON texts, ClickHouse's JSON
type, or the whole object as one String — measured on the same rows.

    .venv/bin/python bench/event_storage.py [--events 2000000] [--runs 5]

The events table keeps the columns analysts filter on as typed columns and every other
field of an event in `fields`. This builds three copies of one table on chDB in a
scratch directory, identical but for `fields`:

- map:    Map(LowCardinality(String), String), a field's JSON text per key (what ships);
- json:   JSON, ClickHouse's typed semi-structured column (a subcolumn per path);
- string: String, the whole object's JSON text, read with JSONExtract*.

The rows are SecurityEvent-shaped (25 other fields, a few repeating, some unique per
event: process ids, logon ids, GUIDs) and generated in the engine from `numbers()`, so
the three copies hold the same values. It reports bytes on disk per event, and the
median of --runs runs of the reads the compiler makes of `fields`: a filter on one
field, a count by a field, and 50 rows projecting three fields. Never run by the tests.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import machine  # noqa: E402

# (field, ClickHouse expression over `number` giving its value as text, JSON kind)
FIELDS = (
    ("SubjectUserName", "concat('user', toString(number % 5000))", "string"),
    ("SubjectDomainName", "'CONTOSO'", "string"),
    ("SubjectLogonId", "concat('0x', hex(cityHash64(number) % 100000000))", "string"),
    ("TargetUserName", "concat('user', toString(cityHash64(number, 1) % 5000))", "string"),
    ("TargetDomainName", "if(number % 7 = 0, 'WORKGROUP', 'CONTOSO')", "string"),
    ("TargetLogonId", "concat('0x', hex(cityHash64(number, 2) % 1000000000))", "string"),
    ("LogonProcessName", "['NtLmSsp', 'Kerberos', 'User32', 'Advapi'][number % 4 + 1]",
     "string"),
    ("AuthenticationPackageName", "['NTLM', 'Kerberos', 'Negotiate'][number % 3 + 1]",
     "string"),
    ("WorkstationName", "concat('WS-', toString(number % 800))", "string"),
    ("LogonGuid", "toString(generateUUIDv4(number))", "string"),
    ("TransmittedServices", "'-'", "string"),
    ("LmPackageName", "if(number % 3 = 0, 'NTLM V2', '-')", "string"),
    ("KeyLength", "toString(if(number % 3 = 0, 128, 0))", "number"),
    ("ProcessId", "toString(cityHash64(number, 3) % 65536)", "number"),
    ("ProcessName", "['C:\\\\Windows\\\\System32\\\\svchost.exe', "
                    "'C:\\\\Windows\\\\System32\\\\lsass.exe', '-'][number % 3 + 1]", "string"),
    ("IpPort", "toString(cityHash64(number, 4) % 65536)", "number"),
    ("ImpersonationLevel", "'%%1833'", "string"),
    ("RestrictedAdminMode", "'-'", "string"),
    ("TargetOutboundUserName", "'-'", "string"),
    ("VirtualAccount", "'%%1843'", "string"),
    ("ElevatedToken", "'%%1842'", "string"),
    ("Status", "if(number % 16 = 0, '0xc000006d', '0x0')", "string"),
    ("SubStatus", "if(number % 16 = 0, '0xc000006a', '0x0')", "string"),
    ("Activity", "if(number % 16 = 0, '4625 - An account failed to log on.', "
                 "'4624 - An account was successfully logged on.')", "string"),
    ("EventData", "concat('<EventData><Data Name=\"SubjectUserSid\">S-1-5-21-', "
                  "toString(cityHash64(number, 5) % 1000000000), '</Data></EventData>')",
     "string"),
)
FIELDS_TYPE = {"map": "Map(LowCardinality(String), String)", "json": "JSON", "string": "String"}
BASE = """(workspace_id UInt64, table_name LowCardinality(String),
  time_generated DateTime64(6, 'UTC'), computer LowCardinality(String),
  event_id Nullable(Int32), fields {fields})
ENGINE = MergeTree PARTITION BY toYYYYMMDD(time_generated)
ORDER BY (workspace_id, table_name, time_generated)"""


def value_text(expression, kind):
    """A field's value as JSON text: a string quoted and escaped, a number as is."""
    return f"toJSONString({expression})" if kind == "string" else expression


def map_expression():
    pairs = ", ".join(f"'{name}', {value_text(e, k)}" for name, e, k in FIELDS)
    return f"map({pairs})"


def object_expression():
    parts = ", ',', ".join(f"'\"{name}\":', {value_text(e, k)}" for name, e, k in FIELDS)
    return f"concat('{{', {parts}, '}}')"


# Each read, as the compiler writes it for each storage of `fields`.
READS = {
    "one field equals (TargetUserName), all days": {
        "map": "SELECT count() FROM ev_map WHERE fields['TargetUserName'] = '\"user42\"'",
        "json": "SELECT count() FROM ev_json WHERE fields.TargetUserName::String = 'user42'",
        "string": "SELECT count() FROM ev_string "
                  "WHERE JSONExtractString(fields, 'TargetUserName') = 'user42'",
    },
    "count by a field (LogonProcessName), last 7 days": {
        "map": "SELECT fields['LogonProcessName'] AS v, count() FROM ev_map "
               "WHERE time_generated > {since:DateTime64(6, 'UTC')} GROUP BY v ORDER BY v",
        "json": "SELECT toString(fields.LogonProcessName) AS v, count() FROM ev_json "
                "WHERE time_generated > {since:DateTime64(6, 'UTC')} GROUP BY v ORDER BY v",
        "string": "SELECT JSONExtractRaw(fields, 'LogonProcessName') AS v, count() "
                  "FROM ev_string WHERE time_generated > {since:DateTime64(6, 'UTC')} "
                  "GROUP BY v ORDER BY v",
    },
    "50 newest failed logons, three fields, last day": {
        "map": "SELECT time_generated, fields['TargetUserName'], fields['IpPort'], "
               "fields['Status'] FROM ev_map WHERE event_id = 4625 AND "
               "time_generated > {day:DateTime64(6, 'UTC')} ORDER BY time_generated DESC "
               "LIMIT 50",
        "json": "SELECT time_generated, fields.TargetUserName, fields.IpPort, fields.Status "
                "FROM ev_json WHERE event_id = 4625 AND "
                "time_generated > {day:DateTime64(6, 'UTC')} ORDER BY time_generated DESC "
                "LIMIT 50",
        "string": "SELECT time_generated, JSONExtractRaw(fields, 'TargetUserName'), "
                  "JSONExtractRaw(fields, 'IpPort'), JSONExtractRaw(fields, 'Status') "
                  "FROM ev_string WHERE event_id = 4625 AND "
                  "time_generated > {day:DateTime64(6, 'UTC')} ORDER BY time_generated DESC "
                  "LIMIT 50",
    },
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from chdb import session

    path = Path(tempfile.mkdtemp(prefix="soc-evstore-"))
    sess = session.Session(str(path))
    try:
        run(sess, args.events, args.runs)
    finally:
        sess.close()
        shutil.rmtree(path, ignore_errors=True)


def run(sess, n, runs):
    print(f"machine: {machine()}; {n:,} events; median of {runs} runs")
    now = "toDateTime64('2026-12-01 00:00:00', 6, 'UTC')"
    common = (f"7 AS workspace_id, 'SecurityEvent' AS table_name, "
              f"{now} - toIntervalSecond(intDiv(number * 2592000, {n})) AS time_generated, "
              "concat('host-', toString(number % 200)) AS computer, "
              "toInt32([4624, 4625, 4688, 4672][number % 4 + 1]) AS event_id")
    loads = {}
    for kind in FIELDS_TYPE:
        sess.query(f"DROP TABLE IF EXISTS ev_{kind}")
        sess.query(f"CREATE TABLE ev_{kind} {BASE.format(fields=FIELDS_TYPE[kind])}")
        value = map_expression() if kind == "map" else object_expression()
        started = time.perf_counter()
        sess.query(f"INSERT INTO ev_{kind} SELECT {common}, {value} AS fields "  # noqa: S608
                   f"FROM numbers({n}) SETTINGS max_insert_threads = 2")
        loads[kind] = time.perf_counter() - started
        sess.query(f"OPTIMIZE TABLE ev_{kind} FINAL")
    print("\n| fields stored as | load s | bytes on disk / event |")
    print("| --- | ---: | ---: |")
    for kind in FIELDS_TYPE:
        total = int(sess.query(
            f"SELECT sum(bytes_on_disk) FROM system.parts WHERE active "  # noqa: S608
            f"AND table = 'ev_{kind}'", "CSV").bytes().decode())
        print(f"| {kind} `{FIELDS_TYPE[kind]}` | {loads[kind]:.1f} | {total / n:.1f} |")
    params = {"since": "2026-11-24 00:00:00", "day": "2026-11-30 00:00:00"}
    print("\n| read | " + " | ".join(f"{kind} ms" for kind in FIELDS_TYPE) + " |")
    print("| --- | " + " | ".join("---:" for _ in FIELDS_TYPE) + " |")
    for name, sqls in READS.items():
        answers, times = {}, {}
        for kind in FIELDS_TYPE:
            sql = sqls[kind]
            answers[kind] = sess.query(sql, "CSV", params=params).bytes()
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                sess.query(sql, "CSV", params=params)
                samples.append((time.perf_counter() - started) * 1000)
            times[kind] = statistics.median(samples)
        same = len({answers[k].replace(b'"', b"").replace(b"\\", b"") for k in answers}) == 1
        print(f"| {name}{'' if same else ' (answers differ!)'} | "
              + " | ".join(f"{times[kind]:.1f}" for kind in FIELDS_TYPE) + " |")


if __name__ == "__main__":
    main()
