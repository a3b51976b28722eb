"""SQL functions the compiled queries call on SQLite, twins of migration 0003's.

Each one behaves as its PostgreSQL namesake on the same input, so that a query gives
the same answer on both databases. None raises: a value that does not convert is
NULL, as in Kusto.
"""

import datetime as dt
import decimal
import json
import math
import re

_REAL = re.compile(r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*")
_DATE = re.compile(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH = dt.datetime(1970, 1, 1)
_MICRO = dt.timedelta(microseconds=1)


def tolong(value):
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and abs(value) < 9.2e18 else None
    text = str(value)
    if not _REAL.fullmatch(text):
        return None
    number = decimal.Decimal(text.strip())
    return int(number) if abs(number) < decimal.Decimal("9.2e18") else None


def toreal(value):
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    if not _REAL.fullmatch(text):
        return None
    number = decimal.Decimal(text.strip())
    if number != 0 and not (decimal.Decimal("1e-300") <= abs(number) <= decimal.Decimal("1e300")):
        return None
    return float(number)


def tobool(value):
    if value is None:
        return None
    text = str(value).strip().lower()
    return {"true": 1, "1": 1, "false": 0, "0": 0}.get(text)


def parse_datetime(value):
    """Stored SQLite datetime text (naive UTC) -> naive datetime."""
    return dt.datetime.fromisoformat(value)


def format_datetime(value):
    return str(value)


def todatetime(value):
    if value is None or not _DATE.match(str(value)):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return format_datetime(parsed)


def real_text(value):
    """As PostgreSQL prints a double: shortest form, exponent from 1e15 and below 1e-4."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0" if math.copysign(1, value) > 0 else "-0"
    exponent = math.floor(math.log10(abs(value)))
    if exponent < -4 or exponent >= 15:
        text = format(decimal.Decimal(repr(value)).normalize(), "e")
        mantissa, exp = text.split("e")
        return f"{mantissa}e{exp[0]}{abs(int(exp)):02d}"
    text = repr(value)
    if "e" in text:
        text = format(decimal.Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


def datetime_text(value):
    """Kusto's text for a datetime: ISO 8601 UTC with 7 fractional digits when not whole."""
    if value is None:
        return None
    parsed = parse_datetime(value)
    text = parsed.strftime("%Y-%m-%dT%H:%M:%S")
    if parsed.microsecond:
        text += f".{parsed.microsecond:06d}0"
    return text + "Z"


def to_json(value):
    return None if value is None else json.dumps(value)


def json_text(value):
    """A JSON document's text as Kusto's tostring() gives it (strings unquoted)."""
    if value is None:
        return None
    parsed = json.loads(value)
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, bool):
        return "true" if parsed else "false"
    if isinstance(parsed, (dict, list)):
        return json.dumps(parsed, separators=(", ", ": "))
    if parsed is None:
        return None
    return value


def trunc(value):
    return None if value is None else math.trunc(value)


def split(text, delimiter):
    if text is None or delimiter is None:
        return None
    if text == "":
        return '[""]'
    parts = list(text) if delimiter == "" else text.split(delimiter)
    return json.dumps(parts)


def extract(pattern, group, text):
    if text is None:
        return ""
    try:
        match = re.search(pattern, text)
    except re.error:
        return ""
    if not match or group > (match.re.groups or 0):
        return ""
    return match.group(group) or ""


def trim(pattern, text):
    if text is None:
        return None
    return re.sub(f"^({pattern})+|({pattern})+$", "", text)


def datetime_add(value, seconds):
    if value is None or seconds is None:
        return None
    try:
        return format_datetime(parse_datetime(value) + dt.timedelta(seconds=seconds))
    except (OverflowError, ValueError):
        return None


def datetime_sub(a, b):
    if a is None or b is None:
        return None
    return (parse_datetime(a) - parse_datetime(b)) / dt.timedelta(seconds=1)


def datetime_bin(value, seconds):
    if value is None or not seconds:
        return None
    micros = (parse_datetime(value) - _EPOCH) // _MICRO
    step = round(seconds * 1_000_000)
    return format_datetime(_EPOCH + (micros - micros % step) * _MICRO)


_UNIT_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1,
                 "millisecond": 1e-3, "microsecond": 1e-6, "nanosecond": 1e-9}


def datetime_diff(part, a, b):
    if a is None or b is None:
        return None
    first, second = parse_datetime(a), parse_datetime(b)
    if part == "year":
        return first.year - second.year
    if part == "quarter":
        return (first.year * 4 + (first.month - 1) // 3) - (second.year * 4
                                                              + (second.month - 1) // 3)
    if part == "month":
        return (first.year * 12 + first.month) - (second.year * 12 + second.month)
    if part == "week":
        # Weeks start on Sunday; 1969-12-28 was one, 4 days before the epoch.
        return ((first - _EPOCH).days + 4) // 7 - ((second - _EPOCH).days + 4) // 7
    micros = {"day": 86_400_000_000, "hour": 3_600_000_000, "minute": 60_000_000,
              "second": 1_000_000, "millisecond": 1000, "microsecond": 1}
    if part == "nanosecond":
        return ((first - _EPOCH) // _MICRO - (second - _EPOCH) // _MICRO) * 1000
    unit = micros[part]
    return (first - _EPOCH) // _MICRO // unit - (second - _EPOCH) // _MICRO // unit


FUNCTIONS = {
    "kql_tolong": (1, tolong),
    "kql_toreal": (1, toreal),
    "kql_tobool": (1, tobool),
    "kql_todatetime": (1, todatetime),
    "kql_real_text": (1, real_text),
    "kql_datetime_text": (1, datetime_text),
    "kql_to_json": (1, to_json),
    "kql_json_text": (1, json_text),
    "kql_trunc": (1, trunc),
    "kql_split": (2, split),
    "kql_extract": (3, extract),
    "kql_trim": (2, trim),
    "kql_datetime_add": (2, datetime_add),
    "kql_datetime_sub": (2, datetime_sub),
    "kql_datetime_bin": (2, datetime_bin),
    "kql_datetime_diff": (3, datetime_diff),
}


class Percentile:
    """kql_percentile(value, percent): the nearest rank, as PostgreSQL's percentile_disc."""

    def __init__(self):
        self.values, self.percent = [], 0.0

    def step(self, value, percent):
        self.percent = percent
        if value is not None:
            self.values.append(value)

    def finalize(self):
        if not self.values:
            return None
        self.values.sort()
        rank = max(math.ceil(self.percent * len(self.values) / 100), 1)
        return self.values[rank - 1]


def register(connection):
    """Give a new SQLite connection the kql_* functions."""
    for name, (arity, function) in FUNCTIONS.items():
        connection.create_function(name, arity, function, deterministic=True)
    connection.create_aggregate("kql_percentile", 2, Percentile)


def on_connection_created(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        register(connection.connection)
