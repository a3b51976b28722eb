"""What differs between PostgreSQL and SQLite, behind one interface.

Representations, identical in meaning on both databases:
- string: text, never NULL ('' for a missing value);
- int, long, real, bool: native, NULL when missing;
- datetime: timestamptz on PostgreSQL; on SQLite the text Django stores
  ('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC), whose text order is time order;
- timespan: seconds, double precision;
- dynamic: jsonb on PostgreSQL, JSON text on SQLite.
Safe casts (kql_tolong, ...) never raise on a bad value: PostgreSQL's come from
migration 0003, SQLite's are Python functions registered in search.kql.sqlite.
"""

import datetime as dt
import json
from abc import ABC, abstractmethod

from search import schema

from .sqltext import Expr, Frag, sql

_NUMERIC = ("int", "long", "real")


def like_escape(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def regex_escape(text):
    """Escape for both PostgreSQL's ARE and Python's re: backslash every ASCII symbol."""
    return "".join("\\" + ch if ch.isascii() and not ch.isalnum() and ch != "_" else ch
                   for ch in text)


class Dialect(ABC):
    vendor = ""
    # The events table and its typed columns ({storage column: Kusto type}).
    table = "search_event"
    hot_storage = schema.HOT_STORAGE
    first_value = "FIRST_VALUE"

    def hot_columns(self, table):
        """{Kusto column: storage column} for the typed columns of `table`."""
        return schema.hot_columns(table)

    def aggregate(self, name):
        """SUM, AVG, MIN, MAX: the aggregate that is NULL over no values."""
        return name

    def finish(self, text, params):
        """The statement as the driver takes it: `%s` placeholders, a list of parameters."""
        return text, params

    # -- constants -----------------------------------------------------------------------
    def const(self, value, type):
        """A constant as an Expr (its value as a parameter, never as SQL text)."""
        if value is None and type == "string":
            value = ""  # a Kusto string is never null: tostring(int(null)) is ""
        if value is None:
            return Expr(self.null(type), [], type, None)
        if type == "datetime":
            return Expr(self.datetime_param_sql, [self.datetime_param(value)], type, value)
        if type == "timespan":
            return Expr(self.real_param_sql, [value.total_seconds()], type, value)
        if type == "dynamic":
            return Expr(self.dynamic_param_sql, [json.dumps(value)], type, value)
        if type == "real":
            return Expr(self.real_param_sql, [float(value)], type, value)
        if type in ("int", "long"):
            return Expr(self.long_param_sql, [int(value)], type, value)
        if type == "bool":
            return Expr(self.bool_param_sql, [bool(value)], type, value)
        return Expr(self.text_param_sql, [str(value)], type, value)

    def null(self, type):
        return f"CAST(NULL AS {self.sql_type(type)})"

    # -- reading the base table ----------------------------------------------------------
    def field(self, name, type):
        """The column `name` of the `fields` document, cast safely to `type`."""
        raw = self.field_text(name)
        if type == "string":
            return sql("COALESCE({}, '')", raw, type="string")
        if type == "dynamic":
            return self.field_json(name)
        return self.from_text(raw, type)

    def from_text(self, text, type):
        """Text -> `type`, NULL when it does not read as one (never an error)."""
        functions = {"int": "kql_tolong", "long": "kql_tolong", "real": "kql_toreal",
                     "bool": "kql_tobool", "datetime": "kql_todatetime",
                     "timespan": "kql_toreal"}
        if type not in functions:
            return Expr(text.text, text.params, type)
        return sql(functions[type] + "({})", text, type=type)

    # -- conversions ---------------------------------------------------------------------
    def to_string(self, e):
        if e.type == "string":
            return e
        if e.type in ("int", "long"):
            return sql("COALESCE(CAST({} AS TEXT), '')", e, type="string")
        if e.type in ("real", "timespan"):
            return sql("COALESCE(" + self.real_text + "({}), '')", e, type="string")
        if e.type == "bool":
            return sql("(CASE WHEN {} THEN 'true' WHEN NOT {} THEN 'false' ELSE '' END)", e, e,
                       type="string")
        if e.type == "datetime":
            return sql("COALESCE(" + self.datetime_text + "({}), '')", e, type="string")
        return sql("COALESCE({}, '')", self.dynamic_text(e), type="string")

    def to_number(self, e, type):
        """`e` as int/long/real (or bool, datetime: from strings and dynamic values)."""
        if e.type == type or (e.type in ("int", "long") and type in ("int", "long")):
            return Expr(e.text, e.params, type)
        if e.type in _NUMERIC and type in _NUMERIC:
            if type == "real":
                return sql("CAST({} AS " + self.sql_type("real") + ")", e, type=type)
            return sql("CAST(" + self.trunc + "({}) AS " + self.sql_type("long") + ")", e,
                       type=type)
        if e.type == "bool" and type in _NUMERIC:
            return sql("(CASE WHEN {} THEN 1 WHEN NOT {} THEN 0 END)", e, e, type=type)
        if e.type == "string":
            return self.from_text(e, type)
        if e.type == "dynamic":
            return self.from_text(self.dynamic_text(e), type)
        if e.type == "timespan" and type in _NUMERIC:
            return self.to_number(Expr(e.text, e.params, "real"), type)
        return None

    def to_dynamic(self, e):
        if e.type == "dynamic":
            return e
        if e.type == "datetime":
            e = self.to_string(e)
        return sql(self.to_json + "({})", e, type="dynamic")

    # -- strings -------------------------------------------------------------------------
    def lower(self, e):
        return sql("LOWER({})", e, type="string")

    def upper(self, e):
        return sql("UPPER({})", e, type="string")

    def length(self, e):
        return sql("LENGTH({})", e, type="long")

    def int_div(self, a, b, type):
        return sql("({} / {})", a, b, type=type)

    def ends_with(self, e, suffix):
        """`e` ends with the expression `suffix` (both already folded for case)."""
        return sql("(SUBSTR({}, {}) = {})", e,
                   self.greatest(sql("LENGTH({}) - LENGTH({}) + 1", e, suffix), Frag("1")),
                   suffix)

    def term(self, e, needle, case_sensitive):
        """`e` has the whole term `needle`, in the engine's own way; None: use the regex."""
        return None

    @abstractmethod
    def ilike(self, e, pattern):
        """`e` LIKE `pattern`, ignoring case."""

    @abstractmethod
    def like_cs(self, e, pattern):
        """`e` LIKE `pattern`, case-sensitive."""

    @abstractmethod
    def regex(self, e, pattern, insensitive=False):
        """`e` matches the regular expression `pattern`."""

    def position(self, haystack, needle):
        return sql(self.strpos + "({}, {})", haystack, needle)

    def contains_ci(self, e, needle):
        """`e` contains the constant `needle`, ignoring case."""
        return self.ilike(e, "%" + like_escape(needle) + "%")


class PostgresDialect(Dialect):
    vendor = "postgresql"
    datetime_param_sql = "%s::timestamptz"
    real_param_sql = "%s::double precision"
    long_param_sql = "%s::bigint"
    bool_param_sql = "%s::boolean"
    text_param_sql = "%s::text"
    dynamic_param_sql = "%s::jsonb"
    real_text = "kql_real_text"
    datetime_text = "kql_datetime_text"
    to_json = "to_jsonb"
    trunc = "TRUNC"
    strpos = "STRPOS"

    def sql_type(self, type):
        return {"string": "TEXT", "int": "INTEGER", "long": "BIGINT",
                "real": "DOUBLE PRECISION", "bool": "BOOLEAN", "datetime": "TIMESTAMPTZ",
                "timespan": "DOUBLE PRECISION", "dynamic": "JSONB"}.get(type, "TEXT")

    def datetime_param(self, value):
        return value

    def field_text(self, name):
        return Frag("(fields ->> %s)", [name])

    def field_json(self, name):
        return Expr("(fields -> %s)", [name], "dynamic")

    def dynamic_text(self, e):
        # ->> on a one-element array unquotes a JSON string and prints anything else.
        return sql("(jsonb_build_array({}) ->> 0)", e, type="string")

    # A JSON null member or element is null, as in Kusto (isnull(d.a) when "a": null).
    def member(self, e, key):
        return sql("NULLIF({} -> {}, 'null'::jsonb)", e, Frag("%s::text", [key]),
                   type="dynamic")

    def element(self, e, index):
        # Only an array has elements (jsonb -> 0 would give a scalar itself).
        return sql("(CASE WHEN jsonb_typeof({}) = 'array' THEN "
                   "NULLIF({} -> {}, 'null'::jsonb) END)", e, e, Frag("%s::integer", [index]),
                   type="dynamic")

    def parse_json(self, e):
        return sql("kql_parse_json({})", e, type="dynamic")

    def array_length(self, e):
        return sql("(CASE WHEN jsonb_typeof({}) = 'array' THEN jsonb_array_length({}) END)",
                   e, e, type="long")

    def ilike(self, e, pattern):
        return sql("({} ILIKE {})", e, Frag("%s", [pattern]))

    def contains_ci(self, e, needle):
        # STRPOS over LOWER runs about twice as fast as ILIKE '%...%'; ASCII needles only,
        # so that Python's and the database's case folding cannot disagree.
        if needle.isascii():
            return sql("(STRPOS(LOWER({}), {}) > 0)", e, Frag("%s", [needle.lower()]))
        return super().contains_ci(e, needle)

    def like_cs(self, e, pattern):
        return sql("({} LIKE {})", e, Frag("%s", [pattern]))

    def regex(self, e, pattern, insensitive=False):
        op = "~*" if insensitive else "~"
        return sql("({} " + op + " {})", e, pattern if isinstance(pattern, Frag)
                   else Frag("%s", [pattern]))

    def starts_cs(self, e, prefix):
        return self.like_cs(e, like_escape(prefix) + "%")

    def ends_cs(self, e, suffix):
        return self.like_cs(e, "%" + like_escape(suffix))

    def order_text(self, e):
        return sql('({} COLLATE "C")', e)

    def compare_text(self, left, op, right):
        return sql('({} COLLATE "C" ' + op + " {})", left, right)

    def greatest(self, a, b):
        return sql("GREATEST({}, {})", a, b)

    def substring(self, s, start, length):
        # substr() takes integers; Kusto's positions are longs, clamped to what fits.
        first = sql("CAST(LEAST(GREATEST({}, 0), 2147483646) + 1 AS INTEGER)", start)
        if length is None:
            return sql("SUBSTR({}, {})", s, first, type="string")
        count = sql("CAST(LEAST(GREATEST({}, 0), 2147483647) AS INTEGER)", length)
        return sql("SUBSTR({}, {}, {})", s, first, count, type="string")

    def split(self, s, delimiter):
        return sql("(CASE WHEN {} = '' THEN '[\"\"]'::jsonb "
                   "ELSE to_jsonb(string_to_array({}, {})) END)", s, s, delimiter,
                   type="dynamic")

    def extract(self, pattern, group, s):
        # An outer group makes group 0 (the whole match) addressable as group 1.
        return sql("COALESCE((regexp_match({}, {}))[{}], '')", s, Frag("%s", [f"({pattern})"]),
                   Frag("%s", [group + 1]), type="string")

    def trim(self, pattern, s):
        return sql("regexp_replace({}, {}, '', 'g')", s,
                   Frag("%s", [f"^({pattern})+|({pattern})+$"]), type="string")

    # -- time ----------------------------------------------------------------------------
    def datetime_add(self, d, seconds):
        return sql("({} + {} * INTERVAL '1 second')", d, seconds, type="datetime")

    def datetime_sub(self, a, b):
        return sql("CAST(EXTRACT(EPOCH FROM ({} - {})) AS DOUBLE PRECISION)", a, b,
                   type="timespan")

    def datetime_bin(self, d, seconds):
        return sql("date_bin({} * INTERVAL '1 second', {}, "
                   "TIMESTAMPTZ '1970-01-01 00:00:00+00')", seconds, d, type="datetime")

    def start_of_day(self, d):
        return sql("date_trunc('day', {}, 'UTC')", d, type="datetime")

    def datetime_diff(self, part, a, b):
        return sql("kql_datetime_diff({}, {}, {})", Frag("%s::text", [part]), a, b, type="long")

    # -- aggregation ---------------------------------------------------------------------
    def make_set(self, e, distinct):
        keyword = "DISTINCT " if distinct else ""
        return sql("COALESCE(jsonb_agg(" + keyword + "{}) FILTER (WHERE {} IS NOT NULL), "
                   "'[]'::jsonb)", self.to_dynamic(e), e, type="dynamic")

    def count_distinct(self, e):
        return sql("COUNT(DISTINCT {})", e, type="long")

    def percentile(self, e, percent):
        # percentile_disc is the nearest rank: the first value with percent of them at or below.
        return sql("percentile_disc({}) WITHIN GROUP (ORDER BY {})",
                   Frag("%s::double precision", [percent / 100]), e, type=e.type)


class SqliteDialect(Dialect):
    vendor = "sqlite"
    datetime_param_sql = "%s"
    real_param_sql = "CAST(%s AS REAL)"
    long_param_sql = "%s"
    bool_param_sql = "%s"
    text_param_sql = "%s"
    dynamic_param_sql = "json(%s)"
    real_text = "kql_real_text"
    datetime_text = "kql_datetime_text"
    to_json = "kql_to_json"
    trunc = "kql_trunc"
    strpos = "INSTR"

    def sql_type(self, type):
        return {"string": "TEXT", "int": "INTEGER", "long": "INTEGER", "real": "REAL",
                "bool": "INTEGER", "datetime": "TEXT", "timespan": "REAL",
                "dynamic": "TEXT"}.get(type, "TEXT")

    def datetime_param(self, value):
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))

    @staticmethod
    def _path(name):
        return '$."' + name.replace('"', '\\"') + '"'

    def field_text(self, name):
        return Frag("CAST(fields ->> %s AS TEXT)", [self._path(name)])

    def field_json(self, name):
        return Expr("(fields -> %s)", [self._path(name)], "dynamic")

    def dynamic_text(self, e):
        return sql("kql_json_text({})", e, type="string")

    def member(self, e, key):
        return sql("NULLIF({} -> {}, 'null')", e, Frag("%s", [self._path(key)]),
                   type="dynamic")

    def element(self, e, index):
        path = f"$[{index}]" if index >= 0 else f"$[#{index}]"
        return sql("NULLIF({} -> {}, 'null')", e, Frag("%s", [path]), type="dynamic")

    def parse_json(self, e):
        return sql("(CASE WHEN json_valid({}) THEN json({}) ELSE json_quote({}) END)", e, e, e,
                   type="dynamic")

    def array_length(self, e):
        return sql("(CASE WHEN json_type({}) = 'array' THEN json_array_length({}) END)", e, e,
                   type="long")

    def ilike(self, e, pattern):
        if not pattern.isascii():
            # SQLite's LIKE folds ASCII only; a regular expression folds like PostgreSQL.
            return self.regex(e, _like_to_regex(pattern), insensitive=True)
        return sql("({} LIKE {} ESCAPE '\\')", e, Frag("%s", [pattern]))

    def like_cs(self, e, pattern):
        return self.regex(e, _like_to_regex(pattern))

    def regex(self, e, pattern, insensitive=False):
        if isinstance(pattern, Frag):
            pattern = sql("'(?i)' || {}", pattern) if insensitive else pattern
            return sql("({} REGEXP {})", e, pattern)
        return sql("({} REGEXP {})", e, Frag("%s", [("(?i)" if insensitive else "") + pattern]))

    def starts_cs(self, e, prefix):
        return sql("(SUBSTR({}, 1, {}) = {})", e, Frag("%s", [len(prefix)]),
                   Frag("%s", [prefix]))

    def ends_cs(self, e, suffix):
        if not suffix:
            return Frag("1 = 1")
        return sql("(SUBSTR({}, {}) = {})", e, Frag("%s", [-len(suffix)]), Frag("%s", [suffix]))

    def order_text(self, e):
        return sql("{}", e)

    def compare_text(self, left, op, right):
        return sql("({} " + op + " {})", left, right)

    def greatest(self, a, b):
        return sql("MAX({}, {})", a, b)

    def substring(self, s, start, length):
        if length is None:
            return sql("SUBSTR({}, MAX({}, 0) + 1)", s, start, type="string")
        return sql("SUBSTR({}, MAX({}, 0) + 1, MAX({}, 0))", s, start, length, type="string")

    def split(self, s, delimiter):
        return sql("kql_split({}, {})", s, delimiter, type="dynamic")

    def extract(self, pattern, group, s):
        return sql("kql_extract({}, {}, {})", Frag("%s", [pattern]), Frag("%s", [group]), s,
                   type="string")

    def trim(self, pattern, s):
        return sql("kql_trim({}, {})", Frag("%s", [pattern]), s, type="string")

    def datetime_add(self, d, seconds):
        return sql("kql_datetime_add({}, {})", d, seconds, type="datetime")

    def datetime_sub(self, a, b):
        return sql("kql_datetime_sub({}, {})", a, b, type="timespan")

    def datetime_bin(self, d, seconds):
        return sql("kql_datetime_bin({}, {})", d, seconds, type="datetime")

    def start_of_day(self, d):
        return sql("kql_datetime_bin({}, 86400)", d, type="datetime")

    def datetime_diff(self, part, a, b):
        return sql("kql_datetime_diff({}, {}, {})", Frag("%s", [part]), a, b, type="long")

    def make_set(self, e, distinct):
        keyword = "DISTINCT " if distinct else ""
        value = sql("json({})", e) if e.type == "dynamic" else self.to_dynamic_scalar(e)
        return sql("json_group_array(" + keyword + "{}) FILTER (WHERE {} IS NOT NULL)", value, e,
                   type="dynamic")

    def to_dynamic_scalar(self, e):
        if e.type == "datetime":
            return self.to_string(e)
        if e.type == "bool":
            return sql("(CASE WHEN {} THEN json('true') ELSE json('false') END)", e)
        return e

    def count_distinct(self, e):
        return sql("COUNT(DISTINCT {})", e, type="long")

    def percentile(self, e, percent):
        return sql("kql_percentile({}, {})", e, Frag("%s", [percent]), type=e.type)


def _like_to_regex(pattern):
    """A LIKE pattern of like_escape()d text with % wildcards, as an anchored regex."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(regex_escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else regex_escape(ch))
        i += 1
    return "^" + "".join(out) + "$"


def dialect_for(vendor):
    if vendor == "clickhouse":
        from .clickhouse import ClickHouseDialect

        return ClickHouseDialect()
    if vendor == "postgresql":
        return PostgresDialect()
    if vendor == "sqlite":
        return SqliteDialect()
    raise ValueError(f"no query dialect for {vendor!r}")
