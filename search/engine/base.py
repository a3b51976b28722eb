"""What both transports share: errors, limits, results, and the wire formats.

A query's parameters travel as text (ClickHouse's escaped format) and its result comes
back as JSONCompact, which both chDB and a server produce byte for byte alike: one
converter turns it into Python values, so a transport changes nothing a caller sees.
"""

import datetime as dt
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from socconsole.lib.transient import RETRY_AFTER_SECONDS

from . import ddl


class EngineError(Exception):
    """Something the events engine could not do; the message is fit for a user."""


class EngineUnavailable(EngineError):
    """The engine is down or refused the work: nothing of it was stored. The API answers
    503 with Retry-After."""

    retry_after = RETRY_AFTER_SECONDS


class InsertRefused(EngineUnavailable):
    """The engine refused a batch for its data (a value it cannot parse): nothing of the
    batch is stored; `index` is the offending row when known."""

    def __init__(self, message, index=None):
        super().__init__(message)
        self.index = index


class EngineInUse(EngineUnavailable, ImproperlyConfigured):
    """An embedded engine's path is held by another process (or was opened before a fork)."""


class QueryError(EngineError):
    """The engine could not run a query (an unknown column, a type mismatch, ...)."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class QueryLimitExceeded(QueryError):
    """A query run went past one of its limits; `limit` names which."""

    def __init__(self, message, code=None, limit=None):
        super().__init__(message, code)
        self.limit = limit


@dataclass(frozen=True)
class Limits:
    """The limits of one query run; None leaves a limit off."""

    max_execution_time: float | None = 30
    max_result_rows: int | None = None
    # "throw" ends the query with QueryLimitExceeded; "break" returns the rows so far.
    result_overflow_mode: str = "throw"
    max_bytes_to_read: int | None = None
    readonly: bool = True

    def settings(self):
        settings = {}
        if self.readonly:
            settings["readonly"] = 1
        if self.max_execution_time is not None:
            settings.update(max_execution_time=self.max_execution_time,
                            timeout_overflow_mode="throw")
        if self.max_result_rows is not None:
            settings.update(max_result_rows=self.max_result_rows,
                            result_overflow_mode=self.result_overflow_mode)
        if self.max_bytes_to_read is not None:
            settings.update(max_bytes_to_read=self.max_bytes_to_read,
                            read_overflow_mode="throw")
        return settings


@dataclass(frozen=True)
class Tenant:
    """Whose rows a query may read: one subscription's workspaces."""

    subscription_id: int
    workspace_ids: tuple

    def filter(self):
        """The row filter the engine applies to every read of the events table."""
        workspaces = ", ".join(str(int(w)) for w in self.workspace_ids) or "NULL"
        return (f"subscription_id = {int(self.subscription_id)} "
                f"AND workspace_id IN ({workspaces})")


@dataclass
class Result:
    """A query's answer: [(name, ClickHouse type)] and rows of Python values."""

    columns: list
    rows: list
    # True when result_overflow_mode="break" cut the rows at max_result_rows.
    truncated: bool = False
    statistics: dict = field(default_factory=dict)


# Settings every statement runs with, whatever the transport.
QUERY_SETTINGS = {"output_format_json_quote_64bit_integers": 0,
                  "output_format_json_quote_decimals": 0, "session_timezone": "UTC"}
# One block per insert: a batch is parsed whole before anything is written.
INSERT_SETTINGS = {"input_format_parallel_parsing": 0, "input_format_allow_errors_num": 0,
                   "date_time_input_format": "basic"}

_LIMITS_BY_CODE = {159: "max_execution_time", 396: "max_result_rows",
                   307: "max_bytes_to_read", 164: "readonly"}
_LIMIT_MESSAGES = {
    "max_execution_time": "The query ran longer than its time limit ({value} s) and was "
                          "stopped. Narrow the time range or filter earlier.",
    "max_result_rows": "The query returned more than {value} rows. Summarize, filter or "
                       "add `take`.",
    "max_bytes_to_read": "The query would read more than {value} bytes. Narrow the time "
                         "range or filter on typed columns.",
    "readonly": "Searches only read: the query tried to change something.",
}
# A mutation returns once done on every replica (and, ON CLUSTER, on every shard).
_MUTATION_SYNC = {"lightweight_deletes_sync": 2, "mutations_sync": 2}
_CODE = re.compile(r"Code: (\d+)\.")
_AT_ROW = re.compile(r"\bat row (\d+)")


def error_code(text):
    match = _CODE.search(text)
    return int(match.group(1)) if match else None


def query_error(text, limits):
    """The QueryError (or QueryLimitExceeded) for a ClickHouse error message."""
    code = error_code(text)
    limit = _LIMITS_BY_CODE.get(code)
    first = text.strip().splitlines()[0] if text.strip() else text
    if limit:
        value = getattr(limits, limit, None) if limits else None
        return QueryLimitExceeded(_LIMIT_MESSAGES[limit].format(value=value), code, limit)
    return QueryError(f"The events engine could not run this query: {first}", code)


def with_settings(sql, settings):
    """`sql` with a trailing SETTINGS clause (chDB takes settings only in the statement)."""
    if not settings:
        return sql
    return f"{sql.rstrip().rstrip(';')}\nSETTINGS {', '.join(_setting(k, v) for k, v in settings.items())}"  # noqa: E501


def _setting(name, value):
    if isinstance(value, dict):  # additional_table_filters
        pairs = ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in value.items())
        return f"{name} = {{{pairs}}}"
    if isinstance(value, str):
        return f"{name} = {_quote(value)}"
    return f"{name} = {value}"


# --- parameters ---------------------------------------------------------------------

def param_text(value):
    """A query parameter's text: a scalar before transport escaping (see `escaped`), an
    array or map as its literal, which the engine reads as it stands."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot pass {type(value).__name__} as a query parameter")


def _literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return _quote(param_text(value))
    return param_text(value)


def _quote(text):
    return "'" + text.translate(_ESCAPES).replace("'", "\\'") + "'"


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def escaped(value):
    """A parameter's text as sent: a scalar in ClickHouse's escaped (TSV) format."""
    text = param_text(value)
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return text
    return text.translate(_ESCAPES)


def _datetime(value):
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


# --- inserts ------------------------------------------------------------------------

def insert_body(rows):
    """The rows (tuples in ddl.COLUMNS order) as JSONEachRow bytes; InsertRefused names
    the first row that cannot be sent."""
    width = len(ddl.COLUMNS)
    names, encode, date = ddl.COLUMNS, _ROW_ENCODER.encode, dt.date
    lines = []
    for index, row in enumerate(rows):
        if len(row) != width:
            raise InsertRefused(f"Row {index} has {len(row)} values, not {width}.", index)
        record = {name: _wire(value) if isinstance(value, date) else value
                  for name, value in zip(names, row, strict=True)}
        try:
            lines.append(encode(record))
        except (TypeError, ValueError) as exc:
            raise InsertRefused(f"Row {index} cannot be stored: {exc}", index) from None
    try:
        return ("\n".join(lines) + "\n").encode()
    except UnicodeEncodeError:  # a lone surrogate: find its row
        for index, line in enumerate(lines):
            try:
                line.encode()
            except UnicodeEncodeError as exc:
                raise InsertRefused(f"Row {index} cannot be stored: {exc}", index) from None
        raise


# One encoder for every row: json.dumps with options builds a new one per call.
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _wire(value):
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --- results ------------------------------------------------------------------------

def decode_result(data, *, max_rows=None):
    """A JSONCompact answer as a Result. chDB may prefix the answer with what a failed
    query before it left behind, so the last document is the answer."""
    text = data.decode() if isinstance(data, (bytes, bytearray)) else data
    if not text.strip():
        return Result([], [])
    document = _last_document(text)
    columns = [(c["name"], c["type"]) for c in document["meta"]]
    converters = [_converter(t) for _, t in columns]
    rows = [tuple(conv(v) for conv, v in zip(converters, row, strict=True))
            for row in document["data"]]
    truncated = max_rows is not None and len(rows) > max_rows
    if max_rows is not None:
        rows = rows[:max_rows]
    return Result(columns, rows, truncated, document.get("statistics", {}))


def _last_document(text):
    decoder = json.JSONDecoder()
    position, document = 0, None
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return document
        document, position = decoder.raw_decode(text, position)


def _strip(kind):
    for wrapper in ("Nullable(", "LowCardinality("):
        while kind.startswith(wrapper):
            kind = kind[len(wrapper):-1]
    return kind


def _split_args(inner):
    """Top-level comma-separated type arguments."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    return parts


def _nullable(function):
    return lambda v: None if v is None else function(v)


def _converter(kind):
    kind = _strip(kind)
    if kind.startswith("DateTime"):
        return _nullable(_parse_datetime)
    if kind.startswith("Date"):
        return _nullable(dt.date.fromisoformat)
    if kind.startswith("Array("):
        item = _converter(kind[6:-1])
        return _nullable(lambda v: [item(x) for x in v])
    if kind.startswith("Map("):
        _, value_kind = _split_args(kind[4:-1])
        value = _converter(value_kind)
        return _nullable(lambda v: {k: value(x) for k, x in v.items()})
    if kind.startswith("Tuple("):
        items = [_converter(_named(a)) for a in _split_args(kind[6:-1])]
        # A named tuple comes as a JSON object, in its elements' order.
        return _nullable(lambda v: tuple(c(x) for c, x in zip(
            items, v.values() if isinstance(v, dict) else v, strict=True)))
    return lambda v: v


def _named(argument):
    # Tuple(a String, b UInt8) names its elements; the type is the last word group.
    head, _, rest = argument.partition(" ")
    return rest if rest and "(" not in head and head[:1].islower() and rest[:1].isupper() \
        else argument


def _parse_datetime(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# --- the engine ---------------------------------------------------------------------

# Errors that say the engine, not the batch, is at fault: too many parts, memory, disk,
# a read-only replica, timeouts, a shutting-down server, lost Keeper sessions.
_ENGINE_FAULTS = {159, 164, 202, 209, 210, 241, 242, 243, 252, 285, 319, 394, 425, 999}


class Engine(ABC):
    """The events engine of this process; a transport implements `_run` and `_insert`."""

    url = ""
    # The EVENTS_URL it was opened for (search.engine.engine() compares it).
    configured_url = ""
    @property
    def cluster(self):
        """The ClickHouse cluster the tables live on (EVENTS_CLUSTER), "" on one server."""
        return settings.EVENTS_CLUSTER

    def schema_statements(self):
        """The statements that create the events tables: one table, or on a cluster the
        shards' local tables and the Distributed table over them."""
        return ddl.cluster_ddl(self.cluster) if self.cluster else [ddl.CREATE_TABLE]

    def ensure_schema(self):
        """Create the events tables where they do not exist; returns the statements."""
        statements = self.schema_statements()
        for statement in statements:
            self.command(statement)
        return statements

    def _stored_in(self):
        """The table a mutation (ALTER UPDATE, DELETE, TRUNCATE) names: the rows' own
        table. On a cluster that is every shard's local table, ON CLUSTER: a Distributed
        table stores nothing and refuses mutations."""
        if self.cluster:
            return f"{ddl.LOCAL_TABLE} ON CLUSTER {self.cluster}"
        return ddl.TABLE

    def delete(self, where, params=None):
        """Delete the rows matching `where` (SQL over the events' columns with `{name:Type}`
        parameters) and wait until they are gone, on every shard of a cluster."""
        self.command(f"DELETE FROM {self._stored_in()} WHERE {where}", params,  # noqa: S608
                     _MUTATION_SYNC)

    def insert(self, rows):
        """Store `rows` (tuples in ddl.COLUMNS order, see `row()`) in one INSERT: all of
        them are durable when this returns, or none is stored and it raises
        EngineUnavailable (InsertRefused when the data is at fault). Returns the count."""
        rows = list(rows)
        if not rows:
            return 0
        settings = {**INSERT_SETTINGS, "max_insert_block_size": max(len(rows), 1_048_576),
                    "min_insert_block_size_rows": 0, "min_insert_block_size_bytes": 0}
        try:
            self._insert_rows(rows, settings)
        except TransportError as exc:
            code = error_code(exc.text)
            if exc.unavailable or code in _ENGINE_FAULTS:
                raise EngineUnavailable(f"The events engine did not store the batch: "
                                        f"{_first_line(exc.text)}") from None
            at = _AT_ROW.search(exc.text)
            raise InsertRefused(f"The events engine refused the batch (nothing of it is "
                                f"stored): {_first_line(exc.text)}",
                                int(at.group(1)) - 1 if at else None) from None
        return len(rows)

    def query(self, sql, params=None, *, tenant, limits=None):
        """Run one SELECT and return its Result.

        `params` fill the `{name:Type}` placeholders of `sql`. `tenant` (a Tenant) makes
        the engine filter every read of the events table to that subscription's
        workspaces; None is for the console's own accounting only. `limits` (Limits)
        bound the run; going past one raises QueryLimitExceeded."""
        settings = dict(QUERY_SETTINGS)
        if limits is not None:
            settings.update(limits.settings())
        if tenant is not None:
            # Every read of the events: the table itself and, on a cluster, what each
            # shard reads under the Distributed table (the settings travel with the query).
            settings["additional_table_filters"] = {
                table: tenant.filter() for table in (ddl.TABLE, ddl.LOCAL_TABLE)}
        try:
            text = self._run(sql, params or {}, settings)
        except TransportError as exc:
            if exc.unavailable:
                raise EngineUnavailable(f"The events engine is unavailable: "
                                        f"{_first_line(exc.text)}") from None
            raise query_error(exc.text, limits) from None
        cut = limits.max_result_rows if limits and limits.result_overflow_mode == "break" \
            else None
        return decode_result(text, max_rows=cut)

    def command(self, sql, params=None, settings=None):
        """Run a statement that returns nothing (DDL, mutations); QueryError on failure."""
        try:
            self._run(sql, params or {}, dict(settings or {}))
        except TransportError as exc:
            if exc.unavailable:
                raise EngineUnavailable(f"The events engine is unavailable: "
                                        f"{_first_line(exc.text)}") from None
            raise query_error(exc.text, None) from None

    def truncate(self):
        """Empty the events table (tests)."""
        self.command(f"TRUNCATE TABLE IF EXISTS {self._stored_in()}")

    def set_retention(self, workspace_id, days, now=None):
        """Give a workspace's stored events a new retention, and return how many of them
        it expires. The mutation is waited for; rewriting the rows applies the TTL, so
        the expired ones are gone when this returns."""
        params = {"days": int(days), "ws": int(workspace_id),
                  "now": now or dt.datetime.now(dt.UTC)}
        expiring = self.query(
            f"SELECT count() FROM {ddl.TABLE} WHERE workspace_id = {{ws:UInt64}} "  # noqa: S608
            "AND toDateTime(ingested_at) + toIntervalDay({days:UInt16}) "
            "< {now:DateTime64(6, 'UTC')}", params, tenant=None).rows[0][0]
        self.command(f"ALTER TABLE {self._stored_in()} UPDATE retention_days = {{days:UInt16}} "
                     "WHERE workspace_id = {ws:UInt64} AND retention_days != {days:UInt16}",
                     params, {"mutations_sync": 2})
        if expiring:  # the TTL works on rows it rewrote; what it has not, this drops
            self.delete("workspace_id = {ws:UInt64} AND toDateTime(ingested_at) + "
                        "toIntervalDay({days:UInt16}) < {now:DateTime64(6, 'UTC')}", params)
        return int(expiring)

    def drop_expired(self, now=None):
        """Delete the rows past their retention now (the TTL does it lazily, at merges);
        returns {workspace_id: rows deleted}."""
        now = now or dt.datetime.now(dt.UTC)
        expired = f"{ddl.EXPIRES} < {{now:DateTime64(6, 'UTC')}}"
        counts = self.query(f"SELECT workspace_id, count() FROM {ddl.TABLE} "  # noqa: S608
                            f"WHERE {expired} GROUP BY workspace_id", {"now": now},
                            tenant=None)
        deleted = {int(ws): int(n) for ws, n in counts.rows}
        if deleted:
            self.delete(expired, {"now": now})
        return deleted

    @abstractmethod
    def close(self):
        """Release the engine (the embedded one frees its path for another process)."""

    @abstractmethod
    def _run(self, sql, params, settings):
        """Run one statement; its answer's bytes (TransportError on failure)."""

    def _insert_rows(self, rows, settings):
        """Send `rows` as one INSERT: as JSONEachRow here; a transport with a faster way
        overrides it (InsertRefused before sending for a row that cannot be encoded)."""
        self._insert(insert_body(rows), settings)

    @abstractmethod
    def _insert(self, body, settings):
        """Insert a JSONEachRow body into the events table (TransportError on failure)."""


class TransportError(Exception):
    """A transport's failure: the engine's message, and whether it is unreachable."""

    def __init__(self, text, unavailable=False):
        super().__init__(text)
        self.text = text
        self.unavailable = unavailable


def _first_line(text):
    text = text.strip()
    return text.splitlines()[0][:500] if text else "no reason given"
