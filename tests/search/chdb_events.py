"""Events in an embedded ClickHouse (chDB) for the compiler's tests.

One session per test process on a temporary path (chDB holds one path per process);
`reset()` empties the table between tests. The engine module's fixture replaces this.
"""

import atexit
import datetime as dt
import json
import shutil
import tempfile

from clickhouse_connect.driver.binding import format_bind_value

from search.engine import ddl
from search.kql import sqlite as py

_state = {}


def session():
    if "session" not in _state:
        from chdb.session import Session

        path = tempfile.mkdtemp(prefix="kql-chdb-")
        _state["session"] = Session(path)
        _state["session"].query(ddl.CREATE_TABLE)
        atexit.register(_close, path)
    return _state["session"]


def _close(path):
    _state.pop("session").close()
    shutil.rmtree(path, ignore_errors=True)


def reset():
    session().query(f"TRUNCATE TABLE {ddl.TABLE}")


def _text(value):
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _time(value):
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def insert(workspace, table, rows):
    """Insert `rows` ({Kusto column: value}) as ingestion stores them: hot columns typed."""
    hot = ddl.hot_columns(table)
    lines = []
    for row in rows:
        row = dict(row)
        record = {"subscription_id": workspace.subscription_id, "workspace_id": workspace.pk,
                  "table_name": table, "retention_days": 3650, "raw": json.dumps(row,
                                                                                 default=str)}
        for column, storage in hot.items():
            if column not in row:
                continue
            value = row.pop(column)
            if ddl.HOT_STORAGE[storage] == "datetime":
                value = _time(value)
            elif ddl.HOT_STORAGE[storage] == "int":
                value = py.tolong(value)
            elif value is not None:
                value = _text(value)
            record[storage] = value
        record["ingested_at"] = record["time_generated"]
        record["fields"] = ddl.encode_fields(row)
        lines.append(json.dumps(record, ensure_ascii=False))
    session().query(f"INSERT INTO {ddl.TABLE} FORMAT JSONEachRow\n" + "\n".join(lines))


def fetch(sql, params):
    """The rows of a compiled statement, as lists of Python values."""
    # chDB reads parameters as escaped text (a backslash starts an escape), as the HTTP
    # interface does: clickhouse-connect's own escaping serves both.
    params = {name: format_bind_value(value) for name, value in params.items()}
    result = session().query(sql, "ArrowTable", params=params)
    columns = [column.to_pylist() for column in result.columns]
    return [list(row) for row in zip(*columns, strict=True)]
