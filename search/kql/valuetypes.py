"""Kusto's types of values, shared by the expressions and the functions that compile
against them: a type's family, a Python constant's type, a constant's text."""

import datetime as dt
import re

from . import folding as py
from .errors import KqlError

NUMERIC = ("int", "long", "real")


def family(type):
    return "number" if type in NUMERIC else type


def python_type(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.timedelta):
        return "timespan"
    return "dynamic"


def kusto_text(value, type):
    """Kusto's tostring() of a constant."""
    if value is None:
        return ""
    if type == "bool":
        return "true" if value else "false"
    if type == "real":
        return py.real_text(value)
    if type == "datetime":
        return py.datetime_text(py.format_datetime(value.astimezone(dt.UTC).replace(tzinfo=None)))
    if type == "timespan":
        return format_timespan(value.total_seconds())
    if type == "dynamic":
        return value if isinstance(value, str) else py.json_text(py.to_json(value))
    return str(value)


def format_timespan(seconds):
    """Kusto's text for a timespan: [-][d.]hh:mm:ss[.fffffff]."""
    sign = "-" if seconds < 0 else ""
    ticks = round(abs(seconds) * 10_000_000)
    whole, fraction = divmod(ticks, 10_000_000)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{f'{days}.' if days else ''}{hours:02d}:{minutes:02d}:{secs:02d}"
    return text + (f".{fraction:07d}" if fraction else "")


def check_regex(pattern, node):
    try:
        re.compile(pattern)
    except re.error as exc:
        raise KqlError(f"invalid regular expression: {exc}", node.line, node.column,
                       node.token) from None
