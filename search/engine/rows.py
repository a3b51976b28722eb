"""Building the insert tuple of one event, in ddl.COLUMNS order."""

import json

from . import ddl

_INT_COLUMNS = {"event_id", "logon_type"}


def row(*, subscription_id, workspace_id, table, ingested_at, time_generated, columns,
        raw=b"", retention_days, resource_id=None, computer="", event_id=None, account="",
        ip_address=""):
    """One event as an insert tuple: the hot values search.ingest.store's `_row` reads
    (time, computer, event id, account, address), then the table's other typed columns
    taken out of `columns`, and what remains of `columns` as the `fields` map.

    A typed integer that is not one is kept in `fields` as `<Column>_raw` (as EventID's
    is at ingestion) and reads as null."""
    columns = dict(columns)
    values = {"time_generated": time_generated, "computer": computer or "",
              "event_id": event_id, "account": account or "", "ip_address": ip_address or "",
              "logon_type": None, "process": "", "command_line": "", "message": ""}
    for column, storage in ddl.hot_columns(table).items():
        if storage in ("time_generated", "computer", "event_id", "account", "ip_address") \
                or column not in columns:
            continue
        value = columns.pop(column)
        if storage in _INT_COLUMNS:
            values[storage] = _integer(value)
            if values[storage] is None and value is not None:
                columns[f"{column}_raw"] = value
        else:
            values[storage] = _text(value)
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw).decode("utf-8", "replace")
    return (int(subscription_id), int(workspace_id), table, time_generated, ingested_at,
            values["computer"], values["event_id"], values["account"], values["ip_address"],
            values["logon_type"], values["process"], values["command_line"],
            values["message"], resource_id, ddl.encode_fields(columns), raw,
            int(retention_days))


def _integer(value):
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -2**31 <= number < 2**31 else None


def _text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
