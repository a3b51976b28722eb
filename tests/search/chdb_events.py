"""Events in the test process's events engine (embedded chDB) for the compiler's tests:
`reset()` empties the table between tests."""

import datetime as dt
import json

from search import engine
from search.engine import ddl
from search.kql import folding as py


def session():
    """The test process's events engine, with its table (see tests/conftest.py)."""
    engine.ensure_schema()
    return engine.engine()


def reset():
    session().truncate()


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
    session().command(f"INSERT INTO {ddl.TABLE} FORMAT JSONEachRow\n" + "\n".join(lines))


def fetch(sql, params):
    """The rows of a compiled statement, as lists of Python values, read as the console
    reads them (search.engine.query), without a tenant: the tests' own workspaces."""
    return [list(row) for row in session().query(sql, params, tenant=None).rows]
