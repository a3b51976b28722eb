"""The SQL dialect of the compiled queries: Kusto's semantics in ClickHouse's SQL, over the
`events` table of search.engine.

Representations:
- string: String, never NULL ('' for a missing value);
- int, long: Nullable(Int64) (the typed columns are Int32); real, timespan (seconds):
  Nullable(Float64); bool: comparisons' UInt8 or Nullable(Bool); datetime:
  DateTime64(6, 'UTC');
- dynamic: JSON text in a Nullable(String), as the `fields` map stores every other field
  (see ddl.encode_fields); NULL is Kusto's null.
Safe casts never raise on a bad value: they are ClickHouse's own *OrNull functions behind
the checks search.kql.folding makes when it folds a constant, so a value reads as the
same number (or null) whether the engine or the compiler converts it.

Parameters are ClickHouse's typed `{p0:Int64}` placeholders: `finish()` turns the
compiler's positional `%s` into them, so the statement text holds nothing from the query.
"""

import datetime as dt
import json
import re

from search.engine import ddl

from .sqltext import Expr, Frag, sql

_NUMERIC = ("int", "long", "real")
# A number as folding.toreal reads it (ClickHouse's parsers also take hex, inf, nan).
_NUMBER = r"^\\s*[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]{1,3})?\\s*$"
_DATE = r"^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}"
_EPOCH = "toDateTime64(0, 6, 'UTC')"
_PLACEHOLDER = re.compile(r"%[s%]")
# The tokens of an ASCII needle as hasToken splits text: runs of letters and digits.
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_MICROS = {"day": 86_400_000_000, "hour": 3_600_000_000, "minute": 60_000_000,
           "second": 1_000_000, "millisecond": 1000, "microsecond": 1}


def like_escape(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def regex_escape(text):
    """Escape for both ClickHouse's re2 and Python's re: backslash every ASCII symbol."""
    return "".join("\\" + ch if ch.isascii() and not ch.isalnum() and ch != "_" else ch
                   for ch in text)


def param_type(value):
    """The ClickHouse type of a parameter's Python value."""
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int64" if -2**63 <= value < 2**63 else "Int128"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, dt.datetime):
        return "DateTime64(6, 'UTC')"
    return "String"


def param_value(value):
    if isinstance(value, dt.datetime):
        # The drivers take DateTime64 parameters as text without an offset.
        return str(value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" "))
    return value


def _floor_div(e, unit):
    return sql(f"intDiv({{}} - positiveModulo({{}}, {unit}), {unit})", e, e)


class ClickHouseDialect:
    """How each Kusto operation is written in ClickHouse's SQL; the compiler's stages ask
    it for every expression (one instance per compilation)."""

    # The events table and its typed columns ({storage column: Kusto type}).
    table = ddl.TABLE
    hot_storage = ddl.HOT_STORAGE
    # first_value skips nulls in ClickHouse; Kusto's arg_max returns the row's value.
    first_value = "first_value_respect_nulls"

    def hot_columns(self, table):
        """{Kusto column: storage column} for the typed columns of `table`."""
        return ddl.hot_columns(table)

    def aggregate(self, name):
        # ClickHouse's sum and min of no values are 0 (and 1970 for a datetime): OrNull is
        # NULL, as in SQL.
        return name.lower() + "OrNull"

    def finish(self, text, params):
        """`%s` -> `{pN:Type}`, `%%` -> `%`; returns (text, {name: value})."""
        values, named, names = iter(params), {}, {}

        def replace(match):
            if match.group() == "%%":
                return "%"
            value = next(values)
            if value is None:
                return "NULL"
            kind = param_type(value)
            # A value used twice (a field's name read three times) is one parameter.
            name = names.setdefault((kind, value), f"p{len(names)}")
            named[name] = param_value(value)
            return "{" + name + ":" + kind + "}"

        text = _PLACEHOLDER.sub(replace, text)
        if next(values, _PLACEHOLDER) is not _PLACEHOLDER:
            raise ValueError("more parameters than placeholders")
        return text, named

    # -- constants -----------------------------------------------------------------------
    def const(self, value, type):
        """A constant as an Expr (its value as a parameter, never as SQL text)."""
        if value is None and type == "string":
            value = ""  # a Kusto string is never null: tostring(int(null)) is ""
        if value is None:
            return Expr(self.null(type), [], type, None)
        if type == "timespan":
            param = value.total_seconds()
        elif type == "dynamic":
            param = json.dumps(value)
        elif type == "real":
            param = float(value)
        elif type in ("int", "long"):
            param = int(value)
        elif type == "bool":
            param = bool(value)
        elif type == "datetime":
            param = value
        else:
            param = str(value)
        return Expr("%s", [param], type, value)

    def null(self, type):
        return f"CAST(NULL AS {self.sql_type(type)})"

    def sql_type(self, type):
        inner = {"string": "String", "int": "Int64", "long": "Int64", "real": "Float64",
                 "bool": "Bool", "datetime": "DateTime64(6, 'UTC')", "timespan": "Float64",
                 "dynamic": "String"}.get(type, "String")
        return f"Nullable({inner})"

    # -- reading the base table ----------------------------------------------------------
    def field(self, name, type):
        """The column `name` of the `fields` map, cast safely to `type`."""
        raw = self.field_text(name)
        if type == "string":
            return sql("COALESCE({}, '')", raw, type="string")
        if type == "dynamic":
            return self.field_json(name)
        return self.from_text(raw, type)

    @staticmethod
    def _raw(name):
        return Frag("fields[%s]", [name])

    def field_text(self, name):
        # A JSON string is unquoted, anything else read as its JSON text.
        raw = self._raw(name)
        return sql("if(startsWith({}, '\"'), JSONExtractString({}), nullIf({}, ''))",
                   raw, raw, raw)

    def field_json(self, name):
        return sql("nullIf({}, '')", self._raw(name), type="dynamic")

    def from_text(self, text, type):
        """Text -> `type`, NULL when it does not read as one (never an error)."""
        t = sql("trimBoth({})", text)
        if type in ("int", "long"):
            number = sql("if(match({}, '" + _NUMBER + "'), toFloat64OrNull({}), NULL)", t, t)
            return sql("coalesce(toInt64OrNull({}), if(abs({}) < 9.2e18, toInt64(trunc({})), "
                       "NULL))", t, number, number, type=type)
        if type in ("real", "timespan"):
            return sql("if(match({}, '" + _NUMBER + "'), toFloat64OrNull({}), NULL)", t, t,
                       type=type)
        if type == "bool":
            return sql("multiIf(lowerUTF8({}) IN ('true', '1'), CAST(true AS Nullable(Bool)), "
                       "lowerUTF8({}) IN ('false', '0'), CAST(false AS Nullable(Bool)), NULL)",
                       t, t, type=type)
        if type == "datetime":
            return sql("if(match({}, '" + _DATE + "'), "
                       "parseDateTime64BestEffortOrNull({}, 6, 'UTC'), NULL)", t, t, type=type)
        return Expr(text.text, text.params, type)

    # -- conversions ---------------------------------------------------------------------
    def to_string(self, e):
        if e.type == "string":
            return e
        if e.type in ("int", "long", "real", "timespan"):
            return sql("ifNull(toString({}), '')", e, type="string")
        if e.type == "datetime":
            # Kusto's text: ISO 8601 UTC, 7 fractional digits when the time is not whole.
            return sql("ifNull(if(toUnixTimestamp64Micro({}) %% 1000000 = 0, "
                       "formatDateTime({}, '%%Y-%%m-%%dT%%H:%%i:%%SZ'), "
                       "formatDateTime({}, '%%Y-%%m-%%dT%%H:%%i:%%S.%%f0Z')), '')", e, e, e,
                       type="string")
        if e.type == "bool":
            return sql("(CASE WHEN {} THEN 'true' WHEN NOT {} THEN 'false' ELSE '' END)", e, e,
                       type="string")
        return sql("COALESCE({}, '')", self.dynamic_text(e), type="string")

    def to_number(self, e, type):
        """`e` as int/long/real (or bool, datetime: from strings and dynamic values)."""
        if e.type == type or (e.type in ("int", "long") and type in ("int", "long")):
            return Expr(e.text, e.params, type)
        if e.type in _NUMERIC and type in _NUMERIC:
            if type == "real":
                return sql("CAST({} AS " + self.sql_type("real") + ")", e, type=type)
            return sql("CAST(trunc({}) AS " + self.sql_type("long") + ")", e, type=type)
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
        if e.type == "bool":
            return sql("multiIf({}, 'true', NOT {}, 'false', NULL)", e, e, type="dynamic")
        return sql("toJSONString({})", e, type="dynamic")

    def dynamic_text(self, e):
        return sql("if(startsWith({}, '\"'), JSONExtractString({}), nullIf({}, 'null'))",
                   e, e, e, type="string")

    def member(self, e, key):
        return sql("nullIf(nullIf(JSONExtractRaw({}, {}), ''), 'null')", e,
                   Frag("%s", [key]), type="dynamic")

    def element(self, e, index):
        # JSON paths count from 1 (and from -1 at the end).
        position = index + 1 if index >= 0 else index
        # Only an array has elements: ClickHouse would give an object's n-th member.
        return sql("if(JSONType({}) = 'Array', nullIf(nullIf(JSONExtractRaw({}, {}), ''), "
                   "'null'), NULL)", e, e, Frag("%s", [position]), type="dynamic")

    def parse_json(self, e):
        return sql("if(isValidJSON({}), {}, toJSONString({}))", e, e, e, type="dynamic")

    def array_length(self, e):
        return sql("if(JSONType({}) = 'Array', toInt64(JSONLength({})), NULL)", e, e,
                   type="long")

    # -- strings -------------------------------------------------------------------------
    def lower(self, e):
        return sql("lowerUTF8({})", e, type="string")

    def upper(self, e):
        return sql("upperUTF8({})", e, type="string")

    def length(self, e):
        return sql("toInt64(lengthUTF8({}))", e, type="long")

    def int_div(self, a, b, type):
        return sql("intDiv({}, {})", a, b, type=type)

    def ends_with(self, e, suffix):
        """`e` ends with the expression `suffix` (both already folded for case)."""
        return sql("endsWith({}, {})", e, suffix)

    def ilike(self, e, pattern):
        """`e` LIKE `pattern`, ignoring case."""
        return sql("ilike({}, {})", e, Frag("%s", [pattern]))

    def like_cs(self, e, pattern):
        """`e` LIKE `pattern`, case-sensitive."""
        return sql("like({}, {})", e, Frag("%s", [pattern]))

    def regex(self, e, pattern, insensitive=False):
        """`e` matches the regular expression `pattern`."""
        if not isinstance(pattern, Frag):
            pattern = Frag("%s", [("(?i)" if insensitive else "") + pattern])
        elif insensitive:
            pattern = sql("concat('(?i)', {})", pattern)
        return sql("match({}, {})", e, pattern)

    def position(self, haystack, needle):
        return sql("positionUTF8({}, {})", haystack, needle)

    def contains_ci(self, e, needle):
        """`e` contains the constant `needle`, ignoring case."""
        return sql("(positionCaseInsensitiveUTF8({}, {}) > 0)", e, Frag("%s", [needle]))

    def term(self, e, needle, case_sensitive):
        """`e` has the whole term `needle` through the token index; None: use the regex."""
        # hasToken reads the token bloom filter; it takes one token (no separators), so a
        # needle of several ("comsvcs.dll") needs each of its tokens, then the exact test.
        if not needle.isascii():
            return None
        tokens = _TOKEN.findall(needle)
        if not tokens:
            return None
        # The bloom filters index lower(column): the case-insensitive test is what reads
        # them, so has_cs asks it first.
        tests = [sql("hasTokenCaseInsensitive({}, {})", e, Frag("%s", [t])) for t in tokens]
        if case_sensitive:
            tests += [sql("hasToken({}, {})", e, Frag("%s", [t])) for t in tokens]
        if tokens != [needle]:
            head = "(^|[^A-Za-z0-9])" if needle[0].isalnum() else ""
            tail = "($|[^A-Za-z0-9])" if needle[-1].isalnum() else ""
            tests.append(self.regex(e, head + regex_escape(needle) + tail,
                                    insensitive=not case_sensitive))
        frag = tests[0]
        for test in tests[1:]:
            frag = sql("{} AND {}", frag, test)
        return sql("({})", frag)

    def starts_cs(self, e, prefix):
        return sql("startsWith({}, {})", e, Frag("%s", [prefix]))

    def ends_cs(self, e, suffix):
        return sql("endsWith({}, {})", e, Frag("%s", [suffix]))

    def order_text(self, e):
        return sql("{}", e)  # ClickHouse orders strings by their bytes already

    def compare_text(self, left, op, right):
        return sql("({} " + op + " {})", left, right)

    def greatest(self, a, b):
        return sql("greatest({}, {})", a, b)

    def substring(self, s, start, length):
        first = sql("(greatest({}, 0) + 1)", start)
        if length is None:
            return sql("substringUTF8({}, {})", s, first, type="string")
        return sql("substringUTF8({}, {}, greatest({}, 0))", s, first, length, type="string")

    def split(self, s, delimiter):
        # Kusto splits an empty string into one empty string, whatever the delimiter.
        return sql("if({} = '', '[\"\"]', toJSONString(splitByString({}, {})))", s, delimiter,
                   s, type="dynamic")

    def extract(self, pattern, group, s):
        if group > re.compile(pattern).groups:
            return Expr("''", [], "string")
        return sql("regexpExtract({}, {}, {})", s, Frag("%s", [pattern]), Frag("%s", [group]),
                   type="string")

    def trim(self, pattern, s):
        return sql("replaceRegexpAll({}, {}, '')", s,
                   Frag("%s", [f"^({pattern})+|({pattern})+$"]), type="string")

    # -- time ----------------------------------------------------------------------------
    def datetime_add(self, d, seconds):
        return sql("addMicroseconds({}, toInt64(round({} * 1000000)))", d, seconds,
                   type="datetime")

    def datetime_sub(self, a, b):
        return sql("((toUnixTimestamp64Micro({}) - toUnixTimestamp64Micro({})) / 1000000)",
                   a, b, type="timespan")

    def datetime_bin(self, d, seconds):
        # Bins counted from the epoch, as Kusto's: a 5h bin does not restart at midnight.
        step = round(seconds.params[0] * 1_000_000)
        return sql("toStartOfInterval({}, toIntervalMicrosecond({}), " + _EPOCH + ")", d,
                   Frag("%s", [step]), type="datetime")

    def start_of_day(self, d):
        return sql("toStartOfInterval({}, toIntervalDay(1), " + _EPOCH + ")", d,
                   type="datetime")

    def datetime_diff(self, part, a, b):
        if part == "year":
            return sql("(toInt64(toYear({})) - toYear({}))", a, b, type="long")
        if part == "quarter":
            return sql("((toInt64(toYear({})) * 4 + toQuarter({})) - "
                       "(toInt64(toYear({})) * 4 + toQuarter({})))", a, a, b, b, type="long")
        if part == "month":
            return sql("((toInt64(toYear({})) * 12 + toMonth({})) - "
                       "(toInt64(toYear({})) * 12 + toMonth({})))", a, a, b, b, type="long")
        ta, tb = (sql("toUnixTimestamp64Micro({})", x) for x in (a, b))
        if part == "week":
            # Weeks start on Sunday; 1969-12-28 was one, 4 days before the epoch.
            wa, wb = (_floor_div(sql("({} + 4)", _floor_div(t, _MICROS["day"])), 7)
                      for t in (ta, tb))
            return sql("({} - {})", wa, wb, type="long")
        if part == "nanosecond":
            return sql("(({} - {}) * 1000)", ta, tb, type="long")
        unit = _MICROS[part]
        return sql("({} - {})", _floor_div(ta, unit), _floor_div(tb, unit), type="long")

    # -- aggregation ---------------------------------------------------------------------
    def make_set(self, e, distinct):
        function = "groupUniqArrayIf" if distinct else "groupArrayIf"
        # Nulls are left out (a datetime's text is '' for null, so test the value itself).
        return sql("concat('[', arrayStringConcat(" + function + "({}, {} IS NOT NULL), ','), "
                   "']')", self.to_dynamic(e), e, type="dynamic")

    def percentile(self, e, percent):
        # The nearest rank, exactly: the ceil(percent * n / 100)-th of the sorted values.
        return sql("if(count({}) = 0, NULL, arrayElement(arraySort(groupArray({})), "
                   "toUInt64(greatest(ceil({} * count({}) / 100), 1))))", e, e,
                   Frag("%s", [percent]), e, type=e.type)

    def count_distinct(self, e):
        return sql("toInt64(uniqExact({}))", e, type="long")

