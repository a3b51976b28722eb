"""Kusto's scalar functions, each compiled to SQL (or folded when its arguments are constant)."""

import datetime as dt
import json

from . import folding as py
from .sqltext import Expr, Frag, sql
from .valuetypes import check_regex, family, kusto_text

# Aggregations are compiled by search.kql.aggregates, inside summarize only.
AGGREGATES = {
    "count", "countif", "dcount", "dcountif", "sum", "sumif", "avg", "avgif", "min", "minif",
    "max", "maxif", "make_set", "makeset", "make_list", "makelist", "arg_max", "arg_min",
    "percentile", "percentiles",
}
DATETIME_PARTS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second",
                  "millisecond", "microsecond", "nanosecond")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def arity(node, args, low, high=None):
    high = low if high is None else high
    if not low <= len(args) <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise node.error(f"{node.name}() takes {expected} argument{'s' if high != 1 else ''}, "
                         f"got {len(args)}")


def common_type(c, node, values):
    """Branches of iff()/case() in one type (a null constant takes the others' type)."""
    types = {v.type for v in values if not (v.is_const and v.value is None)}
    if not types:
        return values
    if len(types) == 1:
        target = types.pop()
    elif all(family(t) == "number" for t in types):
        target = "real" if "real" in types else "long"
    else:
        raise node.error(f"{node.name}() branches have different types: "
                         f"{', '.join(sorted(types))}")
    return [c.cast(v, target, node) if v.type != target or v.is_const else v for v in values]


def _null_test(c, node, args, negate=False, empty=False):
    arity(node, args, 1)
    e = c.compile(args[0])
    if e.type == "string":
        if not empty:
            return c.const(negate, "bool")
        test = sql("({} <> '')" if negate else "({} = '')", e, type="bool")
        return test
    return sql("({} IS NOT NULL)" if negate else "({} IS NULL)", e, type="bool")


def _iff(c, node, args):
    arity(node, args, 3)
    condition = c.boolean(args[0])
    then, otherwise = common_type(c, node, [c.compile(args[1]), c.compile(args[2])])
    return sql("(CASE WHEN {} THEN {} ELSE {} END)", condition, then, otherwise, type=then.type)


def _case(c, node, args):
    if len(args) < 3 or len(args) % 2 == 0:
        raise node.error("case() takes pairs of condition and value, then a default value")
    conditions = [c.boolean(a) for a in args[0:-1:2]]
    values = common_type(c, node, [c.compile(a) for a in args[1::2]] + [c.compile(args[-1])])
    parts = []
    for condition, value in zip(conditions, values, strict=False):
        parts += [condition, value]
    template = "(CASE " + "WHEN {} THEN {} " * len(conditions) + "ELSE {} END)"
    return sql(template, *parts, values[-1], type=values[-1].type)


def _strcat(c, node, args):
    arity(node, args, 1, 64)
    values = [c.string(a) for a in args]
    if all(v.is_const for v in values):
        return c.const("".join(v.value for v in values), "string")
    return sql("(" + " || ".join("{}" for _ in values) + ")", *values, type="string")


def _case_change(method, python):
    def compile_(c, node, args):
        arity(node, args, 1)
        e = c.string(args[0])
        if e.is_const:
            return c.const(python(e.value), "string")
        return getattr(c.d, method)(e)
    return compile_


def _strlen(c, node, args):
    arity(node, args, 1)
    return c.d.length(c.string(args[0]))


def _substring(c, node, args):
    arity(node, args, 2, 3)
    text = c.string(args[0])
    start = c.cast(c.compile(args[1]), "long", args[1])
    length = c.cast(c.compile(args[2]), "long", args[2]) if len(args) == 3 else None
    return c.d.substring(text, start, length)


def _trim(c, node, args):
    arity(node, args, 2)
    pattern = c.const_string(args[0], "trim()'s regular expression")
    check_regex(pattern, args[0])
    return c.d.trim(pattern, c.string(args[1]))


def _extract(c, node, args):
    arity(node, args, 3)
    pattern = c.const_string(args[0], "extract()'s regular expression")
    check_regex(pattern, args[0])
    group = c.const_int(args[1], "extract()'s capture group")
    if group < 0:
        raise args[1].error("the capture group must be 0 or more")
    return c.d.extract(pattern, group, c.string(args[2]))


def _split(c, node, args):
    arity(node, args, 2, 3)
    parts = c.d.split(c.string(args[0]), c.string(args[1]))
    if len(args) == 3:
        return c.d.element(parts, c.const_int(args[2], "split()'s index"))
    return parts


def _convert(type):
    def compile_(c, node, args):
        arity(node, args, 1)
        return c.cast(c.compile(args[0]), type, args[0])
    return compile_


def _parse_json(c, node, args):
    arity(node, args, 1)
    e = c.compile(args[0])
    if e.type == "dynamic":
        return e
    if e.type != "string":
        return c.cast(e, "dynamic", args[0])
    if e.is_const:
        try:
            return c.const(json.loads(e.value), "dynamic")
        except ValueError:
            return c.const(e.value, "dynamic")
    return c.d.parse_json(e)


def _array_length(c, node, args):
    arity(node, args, 1)
    e = c.compile(args[0])
    if e.type != "dynamic":
        raise args[0].error(f"array_length() needs a dynamic array, found {e.type}")
    if e.is_const:
        return c.const(len(e.value) if isinstance(e.value, list) else None, "long")
    return c.d.array_length(e)


def _bin(c, node, args):
    arity(node, args, 2)
    value, size = c.compile(args[0]), c.compile(args[1])
    if not size.is_const or size.value is None:
        raise args[1].error(f"{node.name}()'s bin size must be a constant")
    if value.type == "datetime":
        if size.type != "timespan" or size.value <= dt.timedelta(0):
            raise args[1].error("a datetime is binned by a positive timespan, such as 1h")
        seconds = size.value.total_seconds()
        if value.is_const:
            if value.value is None:
                return value
            micros = (value.value - _EPOCH) // dt.timedelta(microseconds=1)
            step = round(seconds * 1_000_000)
            return c.const(_EPOCH + (micros - micros % step) * dt.timedelta(microseconds=1),
                           "datetime")
        return c.d.datetime_bin(value, Frag("%s", [seconds]))
    if family(value.type) == "number" or value.type == "timespan":
        if value.type == "timespan" and size.type != "timespan" or \
                value.type != "timespan" and family(size.type) != "number":
            raise args[1].error(f"cannot bin {value.type} by {size.type}")
        step = size.value.total_seconds() if size.type == "timespan" else size.value
        if step <= 0:
            raise args[1].error("the bin size must be positive")
        binned = sql("(FLOOR({} / {}) * {})", value, Frag("%s", [float(step)]),
                     Frag("%s", [float(step)]), type="real")
        if value.type in ("int", "long") and isinstance(step, int):
            return c.cast(binned, "long", node)
        return Expr(binned.text, binned.params, "timespan" if value.type == "timespan"
                    else "real")
    raise args[0].error(f"cannot bin a {value.type}")


def _ago(c, node, args):
    arity(node, args, 1)
    span = c.compile(args[0])
    if span.type != "timespan":
        raise args[0].error(f"ago() takes a timespan, found {span.type}")
    if span.is_const:
        return c.const(None if span.value is None else c.ctx.now - span.value, "datetime")
    return c.d.datetime_add(c.const(c.ctx.now, "datetime"), sql("(-{})", span))


def _now(c, node, args):
    arity(node, args, 0, 1)
    now = c.const(c.ctx.now, "datetime")
    if not args:
        return now
    span = c.compile(args[0])
    if span.type != "timespan":
        raise args[0].error(f"now() takes a timespan, found {span.type}")
    return c.arithmetic(node, "+", now, span)


def _startofday(c, node, args):
    arity(node, args, 1, 2)
    value = c.cast(c.compile(args[0]), "datetime", args[0])
    offset = c.const_int(args[1], "startofday()'s offset") if len(args) == 2 else 0
    if value.is_const:
        if value.value is None:
            return value
        day = dt.datetime.combine(value.value.date(), dt.time(), tzinfo=dt.UTC)
        return c.const(day + dt.timedelta(days=offset), "datetime")
    day = c.d.start_of_day(value)
    if offset:
        day = c.d.datetime_add(day, Frag("%s", [offset * 86400.0]))
    return day


def _datetime_diff(c, node, args):
    arity(node, args, 3)
    part = c.const_string(args[0], "datetime_diff()'s part").lower()
    if part not in DATETIME_PARTS:
        raise args[0].error(f"unknown datetime part '{part}' (one of {', '.join(DATETIME_PARTS)})")
    first = c.cast(c.compile(args[1]), "datetime", args[1])
    second = c.cast(c.compile(args[2]), "datetime", args[2])
    if first.is_const and second.is_const:
        if first.value is None or second.value is None:
            return c.const(None, "long")
        values = [py.format_datetime(v.value.astimezone(dt.UTC).replace(tzinfo=None))
                  for v in (first, second)]
        return c.const(py.datetime_diff(part, *values), "long")
    return c.d.datetime_diff(part, first, second)


def _not(c, node, args):
    arity(node, args, 1)
    return sql("(NOT {})", c.boolean(args[0]), type="bool")


def _tostring(c, node, args):
    arity(node, args, 1)
    e = c.compile(args[0])
    if e.is_const:
        return c.const(kusto_text(e.value, e.type), "string")
    return c.cast(e, "string", args[0])


def _typed_literal(type):
    """int(null), long(5), real(1.5), bool(true): a constant of that type."""
    def compile_(c, node, args):
        arity(node, args, 1)
        e = c.compile(args[0])
        if not e.is_const:
            raise args[0].error(f"{node.name}() takes a literal")
        return c.cast(e, type, args[0])
    return compile_


FUNCTIONS = {
    "isnull": lambda c, n, a: _null_test(c, n, a),
    "isnotnull": lambda c, n, a: _null_test(c, n, a, negate=True),
    "isempty": lambda c, n, a: _null_test(c, n, a, empty=True),
    "isnotempty": lambda c, n, a: _null_test(c, n, a, negate=True, empty=True),
    "iff": _iff,
    "iif": _iff,
    "case": _case,
    "strcat": _strcat,
    "tolower": _case_change("lower", str.lower),
    "toupper": _case_change("upper", str.upper),
    "strlen": _strlen,
    "substring": _substring,
    "trim": _trim,
    "extract": _extract,
    "split": _split,
    "tostring": _tostring,
    "toint": _convert("int"),
    "tolong": _convert("long"),
    "toreal": _convert("real"),
    "todouble": _convert("real"),
    "tobool": _convert("bool"),
    "toboolean": _convert("bool"),
    "todatetime": _convert("datetime"),
    "parse_json": _parse_json,
    "todynamic": _parse_json,
    "array_length": _array_length,
    "bin": _bin,
    "floor": _bin,
    "ago": _ago,
    "now": _now,
    "startofday": _startofday,
    "datetime_diff": _datetime_diff,
    "not": _not,
    "int": _typed_literal("int"),
    "long": _typed_literal("long"),
    "real": _typed_literal("real"),
    "double": _typed_literal("real"),
    "bool": _typed_literal("bool"),
    "boolean": _typed_literal("bool"),
}
