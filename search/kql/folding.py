"""Kusto's conversions in Python, for the constants the compiler folds: each reads and
prints a value as the compiled SQL does in the engine (search.kql.clickhouse), so a
folded constant and a computed value agree. None raises: a value that does not convert
is None, as in Kusto.
"""

import datetime as dt
import decimal
import json
import math
import re

_REAL = re.compile(r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*")
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
    """Datetime text (naive UTC, as format_datetime writes it) -> naive datetime."""
    return dt.datetime.fromisoformat(value)

def format_datetime(value):
    return str(value)

def real_text(value):
    """A real's text: shortest form, exponent from 1e15 and below 1e-4."""
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
