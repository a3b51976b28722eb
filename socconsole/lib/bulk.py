"""Bulk writes: COPY on PostgreSQL, the ORM's bulk operations elsewhere.

The ORM's bulk_create spends most of its time building one huge INSERT; for
ingestion, where a batch writes thousands of rows into six tables, PostgreSQL's
COPY with ids taken from the sequence first is several times faster. SQLite,
the embedded default, gets the same rows through bulk_create.
"""

import datetime
import decimal
import json
import uuid

from django.db import connection
from django.utils import timezone

_JSON = ("JSONField",)


class Json(str):
    """A JSON document already serialised, written by COPY as it is."""


# json.dumps(value, ensure_ascii=False), without building an encoder per call (half the
# time of a small document); documents decoded from JSON hold no cycles to check for.
dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def _json_text(value):
    return value if isinstance(value, Json) else dumps(value)


_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _escape(text):
    # Looking for the four characters first is ten times faster than translating a text
    # that holds none of them, as almost all do.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def _copy_text(value):
    """One value in COPY's text format (JSON values as `Json`, or dicts and lists)."""
    encode = _COPY_TEXT.get(type(value))
    if encode is not None:
        return encode(value)
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))  # an IntegerChoices member as its number
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _escape(dumps(value))
    if isinstance(value, float | decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be written by COPY as text")


_COPY_TEXT = {str: _escape, Json: _escape,
              datetime.datetime: datetime.datetime.isoformat, bool: lambda v: "t" if v else "f",
              int: str, type(None): lambda v: "\\N"}


class Encoded:
    """Consecutive values of a row already in COPY's text format, encoded where it costs
    nothing to wait for (before a lock is taken, say): `bulk_insert` writes them as they
    are. JSON values among them are given as `Json` (or dicts and lists)."""

    __slots__ = ("text", "values")

    def __init__(self, values):
        self.values = tuple(values)
        self.text = "\t".join(map(_copy_text, self.values))


def _flat(row):
    out = []
    for value in row:
        if isinstance(value, Encoded):
            out.extend(value.values)
        else:
            out.append(value)
    return tuple(out)


def _columns(model, fields):
    meta = model._meta
    return [meta.get_field(name) for name in fields]


def bulk_insert(model, fields, rows, explicit_pk=False, on_conflict=None, update=()):
    """Insert `rows` (tuples of values for `fields`, FKs by attname); returns the new ids
    in order. JSON values are Python objects (or `Json`, already serialised). With
    `explicit_pk` nothing is returned: the fields include the primary key (e.g. a
    one-to-one), or leave it to the database's default. With `on_conflict` (the
    columns of a unique constraint) rows that would break it are skipped, or update the
    `update` fields of the existing row; nothing is returned."""
    rows = list(rows)
    if not rows:
        return []
    encoded = any(isinstance(v, Encoded) for v in rows[0])
    if encoded and (on_conflict or connection.vendor != "postgresql"):
        rows, encoded = [_flat(row) for row in rows], False
    # COPY and raw INSERTs do not know Django's defaults: fill the fields not given.
    named = set(fields)
    defaults = [f for f in model._meta.concrete_fields if not f.primary_key
                and f.attname not in named and f.name not in named
                and (f.has_default() or getattr(f, "auto_now_add", False)
                     or getattr(f, "auto_now", False))]
    if defaults:
        now = timezone.now()
        fields = (*fields, *(f.attname for f in defaults))
        extra = tuple(f.get_default() if f.has_default() else now for f in defaults)
        rows = [(*row, *extra) for row in rows]
    columns = _columns(model, fields)
    if on_conflict:
        _insert_on_conflict(model, columns, rows, on_conflict, update)
        return None
    if connection.vendor != "postgresql":
        rows = [tuple(json.loads(v) if isinstance(v, Json) else v for v in row) for row in rows]
        objs = model.objects.bulk_create(
            [model(**{c.attname: v for c, v in zip(columns, row, strict=True)})
             for row in rows], batch_size=500)
        return None if explicit_pk else [o.pk for o in objs]
    table = connection.ops.quote_name(model._meta.db_table)
    json_at = [i for i, c in enumerate(columns) if c.get_internal_type() in _JSON]
    names = ", ".join(connection.ops.quote_name(c.column) for c in columns)
    binary = _binary_types(columns)
    with connection.cursor() as cursor:
        if explicit_pk:
            ids, prefix = None, ""
            keyed = ((None, row) for row in rows)
        else:
            ids = _take_ids(cursor, model._meta.db_table, len(rows))
            prefix = "id, "
            keyed = zip(ids, rows, strict=True)
            if binary:
                binary = ["int8", *binary]
        options = " (FORMAT BINARY)" if binary else ""
        # The raw driver cursor's errors become Django's (IntegrityError, DataError…).
        with connection.wrap_database_errors, cursor.cursor.copy(
                f"COPY {table} ({prefix}{names}) FROM STDIN{options}") as copy:
            if binary:
                copy.set_types(binary)
            if encoded:
                _write_text(copy, keyed, explicit_pk, columns, rows[0])
                return ids
            for pk, row in keyed:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        if row[i] is not None:
                            row[i] = _json_text(row[i])
                copy.write_row(row if explicit_pk else (pk, *row))
    return ids


def _write_text(copy, keyed, explicit_pk, columns, first):
    """Rows holding `Encoded` spans, written as COPY text: only the other values are
    encoded here (the shape of `first` is every row's)."""
    kinds, at = [], 0  # per value of a row: None for a span, else whether it is JSON
    for value in first:
        if isinstance(value, Encoded):
            kinds.append(None)
            at += len(value.values)
        else:
            kinds.append(columns[at].get_internal_type() in _JSON)
            at += 1
    lines = []
    for pk, row in keyed:
        parts = [] if explicit_pk else [str(pk)]
        for value, kind in zip(row, kinds, strict=True):
            if kind is None:
                parts.append(value.text)
            else:
                parts.append(_copy_text(_json_text(value) if kind and value is not None
                                        else value))
        lines.append("\t".join(parts))
    copy.write("\n".join(lines) + "\n")


# Column types COPY can send in binary; bytea is sent so (in text it doubles in size and is
# escaped byte by byte), other tables as text, where psycopg is as fast.
_BINARY = {"bigint": "int8", "integer": "int4", "smallint": "int2", "boolean": "bool",
           "bytea": "bytea", "text": "text", "timestamp with time zone": "timestamptz"}


def _binary_types(columns):
    types = [c.db_type(connection) for c in columns]
    if "bytea" not in types:
        return None
    types = [_BINARY.get("text" if t.startswith("varchar") else t) for t in types]
    return None if None in types else types


_SEQUENCES = {}


def _take_ids(cursor, table, count):
    """`count` new ids from the table's sequence, in one round trip."""
    key = (connection.settings_dict["NAME"], table)
    sequence = _SEQUENCES.get(key)
    if sequence is None:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = _SEQUENCES[key] = cursor.fetchone()[0]
    # The sequence's name is looked up once: called per row inside nextval(), the lookup
    # costs several times the nextval itself. One array comes back instead of `count` rows.
    cursor.execute("SELECT array_agg(nextval(%s::regclass)) FROM generate_series(1, %s)",
                   [sequence, count])
    return cursor.fetchone()[0]


def bulk_update(model, fields, rows):
    """Update rows given as (pk, *values for fields) in one statement."""
    rows = list(rows)
    if not rows:
        return
    columns = _columns(model, fields)
    if connection.vendor != "postgresql":
        objs = [model(pk=row[0], **{c.attname: v for c, v in zip(columns, row[1:], strict=True)})
                for row in rows]
        model.objects.bulk_update(objs, [c.name for c in columns], batch_size=500)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(c.column)} = v.c{i}"
                     for i, c in enumerate(columns))
    select, param = json_rows([model._meta.pk, *columns], rows)
    aliases = ", ".join(["id"] + [f"c{i}" for i in range(len(columns))])
    # Names come from the model's meta, values are parameters. The ids again as an array
    # let the planner find the rows by primary key rather than hash the whole table.
    sql = (f"UPDATE {table} AS t SET {sets} FROM (SELECT {select} FROM "  # noqa: S608
           f"jsonb_array_elements(%s::jsonb) AS r) AS v({aliases}) "
           "WHERE t.id = v.id AND t.id = ANY(%s::bigint[])")
    with connection.cursor() as cursor:
        cursor.execute(sql, [param, [row[0] for row in rows]])


def _insert_on_conflict(model, columns, rows, conflict, update):
    if connection.vendor != "postgresql":
        options = ({"update_conflicts": True, "unique_fields": conflict,
                    "update_fields": update} if update else {"ignore_conflicts": True})
        model.objects.bulk_create(
            [model(**{c.attname: v for c, v in zip(columns, row, strict=True)}) for row in rows],
            batch_size=500, **options)
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c.column) for c in columns)
    target = ", ".join(quote(model._meta.get_field(f).column) for f in conflict)
    values, param = json_rows(columns, rows)
    # Names come from the model's meta, values are parameters.
    action = "DO NOTHING"
    if update:
        action = "DO UPDATE SET " + ", ".join(
            f"{quote(model._meta.get_field(f).column)} = EXCLUDED."
            f"{quote(model._meta.get_field(f).column)}" for f in update)
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608
           f"SELECT {values} FROM jsonb_array_elements(%s::jsonb) AS r "
           f"ON CONFLICT ({target}) {action}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])


def array_literal(values):
    """A PostgreSQL array literal of `values` (text, or ints), for `= ANY(%s::text[])`.

    Django binds parameters on the client, where psycopg quotes a list parameter element
    by element in Python; this costs one string join, and the query's planner still sees
    a constant array."""
    return "{" + ",".join(
        str(v) if isinstance(v, int) else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values) + "}"


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


def json_rows(columns, rows):
    """Rows as one JSON parameter read by `jsonb_array_elements(%s::jsonb) AS r`, and the
    select list that turns each element back into typed values (columns: model fields).

    Django binds parameters on the client: psycopg quotes an array parameter element by
    element in Python, several times slower than encoding one JSON document."""
    select, documents = [], []
    for i, c in enumerate(columns):
        db_type = c.db_type(connection)
        if c.get_internal_type() in _JSON:
            select.append(f"r->{i}")
            documents.append(i)
        elif db_type == "bytea":
            raise ValueError("binary values cannot be sent as JSON")
        else:
            # A length limit is checked by the assignment (an explicit cast would truncate).
            cast = "text" if db_type.startswith("varchar") else db_type
            select.append(f"(r->>{i})::{cast}")
    if documents:  # a document already serialised is nested as the document it is
        rows = [list(row) for row in rows]
        for row in rows:
            for i in documents:
                if isinstance(row[i], Json):
                    row[i] = json.loads(row[i])
    return ", ".join(select), json.dumps(rows, ensure_ascii=False, default=_plain)
