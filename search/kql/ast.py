"""The query as plain objects: what the compiler walks, built from lark's parse tree.

Every node knows where it came from (`line`, `column`, `token`) so that an error
found while compiling points at the text that caused it.
"""

import datetime as dt
import json
import re

from lark import Token, Transformer, v_args
from lark.exceptions import VisitError

from .errors import KqlError


class Node:
    line = 1
    column = 1
    token = ""

    def at(self, line, column, token):
        self.line, self.column, self.token = line, column, token
        return self

    def error(self, message):
        return KqlError(message, self.line, self.column, self.token)


# Scalar expressions -------------------------------------------------------------------


class Literal(Node):
    def __init__(self, value, type):
        self.value, self.type = value, type


class Column(Node):
    def __init__(self, name):
        self.name = name


class Star(Node):
    pass


class Call(Node):
    def __init__(self, name, args):
        self.name, self.args = name, args


class Binary(Node):
    """`and`, `or`, comparisons, string operators and arithmetic."""

    def __init__(self, op, left, right):
        self.op, self.left, self.right = op, left, right


class InList(Node):
    """`in`, `!in`, `in~`, `!in~`, `has_any`, `has_all` with their list."""

    def __init__(self, op, left, items):
        self.op, self.left, self.items = op, left, items


class Between(Node):
    def __init__(self, negated, left, low, high):
        self.negated, self.left, self.low, self.high = negated, left, low, high


class Neg(Node):
    def __init__(self, operand):
        self.operand = operand


class Member(Node):
    """`a.b` and `a["b"]` on a dynamic value."""

    def __init__(self, target, key):
        self.target, self.key = target, key


class Index(Node):
    def __init__(self, target, index):
        self.target, self.index = target, index


# Tabular operators --------------------------------------------------------------------


class ColumnDef(Node):
    def __init__(self, name, expr):
        self.name, self.expr = name, expr


class SortKey(Node):
    def __init__(self, expr, descending, nulls_first):
        self.expr, self.descending, self.nulls_first = expr, descending, nulls_first


class Operator(Node):
    """One `| operator ...` of the pipeline; `kind` is its keyword."""

    def __init__(self, kind, **args):
        self.kind = kind
        self.__dict__.update(args)


class Let(Node):
    def __init__(self, name, expr):
        self.name, self.expr = name, expr


class Query(Node):
    def __init__(self, lets, table, operators):
        self.lets, self.table, self.operators = lets, table, operators


# From the parse tree --------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_TIMESPAN = re.compile(r"(\d+(?:\.\d+)?)([a-z]+)")
_UNITS = {
    "d": 86400, "day": 86400, "days": 86400,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "ms": 1e-3, "milli": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
    "micro": 1e-6, "microsecond": 1e-6, "microseconds": 1e-6,
    "tick": 1e-7, "ticks": 1e-7,
}


def unescape(body, token):
    def replace(match):
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        if code in _ESCAPES:
            return _ESCAPES[code]
        raise KqlError(f"unknown escape sequence '\\{code}' in a string", token.line,
                       token.column, str(token))
    return _ESCAPE.sub(replace, body)


def string_value(token):
    text = str(token)
    if text[0] in "hH":
        text = text[1:]
    if text[0] == "@":
        quote = text[1]
        return text[2:-1].replace(quote * 2, quote)
    return unescape(text[1:-1], token)


def timespan_value(text):
    number, unit = _TIMESPAN.fullmatch(text).groups()
    return dt.timedelta(seconds=float(number) * _UNITS[unit])


def parse_datetime(text):
    """A Kusto datetime literal's content as an aware UTC datetime (None for null)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    if text == "null":
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?\.\d+(Z|[+-]\d{2}:?\d{2})?", text):
        # Kusto keeps 7 fractional digits, Python 6.
        head, frac = text.split(".", 1)
        digits = re.match(r"\d+", frac).group(0)
        text = f"{head}.{digits[:6].ljust(6, '0')}{frac[len(digits):]}"
    try:
        value = dt.datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 else text)
    except ValueError:
        return ValueError
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


LONG_MIN, LONG_MAX = -2**63, 2**63 - 1


def _long(token):
    """An integer literal, which must fit Kusto's long (64 bits)."""
    value = int(token)
    if not LONG_MIN <= value <= LONG_MAX:
        raise KqlError(f"the number {token} is too large for a long (64 bits)", token.line,
                       token.column, str(token))
    return value


def _pos(node, meta_or_token, token=None):
    if isinstance(meta_or_token, Token):
        return node.at(meta_or_token.line, meta_or_token.column, token or str(meta_or_token))
    return node.at(getattr(meta_or_token, "line", 1), getattr(meta_or_token, "column", 1),
                   token or "")


class _Name(str):
    """An identifier with its position."""

    line = column = 1


_meta = v_args(meta=True, inline=True)


@v_args(inline=True)
class ToAst(Transformer):
    def __init__(self, text):
        super().__init__()
        self.text = text

    def _text(self, meta):
        return self.text[meta.start_pos:meta.end_pos] if not meta.empty else ""

    # statements
    @_meta
    def start(self, meta, *items):
        *lets, query = items
        query.lets = lets
        return query

    @_meta
    def let_stmt(self, meta, name, expr):
        return _pos(Let(str(name), expr), name, str(name))

    @_meta
    def query(self, meta, table, *operators):
        return _pos(Query([], str(table), list(operators)), table, str(table))

    @_meta
    def name(self, meta, token):
        name = _Name(string_value(token) if token.type == "STRING" else str(token))
        name.line, name.column = token.line, token.column
        return name

    # operators
    def _op(self, meta, kind, **args):
        token = self.text[meta.start_pos:meta.end_pos].split(None, 1)[0]
        return _pos(Operator(kind, **args), meta, token)

    @_meta
    def where_op(self, meta, expr):
        return self._op(meta, "where", expr=expr)

    @_meta
    def project_op(self, meta, *defs):
        return self._op(meta, "project", columns=list(defs))

    @_meta
    def extend_op(self, meta, *defs):
        return self._op(meta, "extend", columns=list(defs))

    @_meta
    def project_away_op(self, meta, *patterns):
        return self._op(meta, "project-away", patterns=[self._located(p) for p in patterns])

    @_meta
    def project_rename_op(self, meta, *pairs):
        return self._op(meta, "project-rename", pairs=list(pairs))

    def rename(self, new, old):
        return (new, old)

    @_meta
    def summarize_op(self, meta, aggregates, by):
        return self._op(meta, "summarize", aggregates=aggregates or [], by=by or [])

    def aggregates(self, *defs):
        return list(defs)

    by_clause = aggregates

    @_meta
    def sort_op(self, meta, *keys):
        return self._op(meta, "sort", keys=list(keys))

    @_meta
    def take_op(self, meta, count):
        return self._op(meta, "take", count=count)

    @_meta
    def top_op(self, meta, count, key):
        return self._op(meta, "top", count=count, key=key)

    @_meta
    def count_op(self, meta):
        return self._op(meta, "count")

    @_meta
    def distinct_op(self, meta, *names):
        columns = None if names and isinstance(names[0], Token) and names[0].type == "STAR" \
            else [self._located(n) for n in names]
        return self._op(meta, "distinct", columns=columns)

    @_meta
    def column_def(self, meta, name, expr):
        node = ColumnDef(str(name) if name is not None else None, expr)
        return _pos(node, name if name is not None else meta, str(name or ""))

    @_meta
    def sort_key(self, meta, expr, direction, nulls):
        descending = direction is None or str(direction) == "desc"
        nulls_first = (not descending) if nulls is None else nulls == "first"
        return _pos(SortKey(expr, descending, nulls_first), meta, self._text(meta))

    def nulls_clause(self, position):
        return str(position)

    def _located(self, name):
        return _pos(Column(str(name)), name, str(name))

    # expressions
    @_meta
    def or_(self, meta, left, right):
        return _pos(Binary("or", left, right), meta, "or")

    @_meta
    def and_(self, meta, left, right):
        return _pos(Binary("and", left, right), meta, "and")

    def compare(self, left, op, right):
        op_text = "!=" if str(op) == "<>" else str(op)
        return _pos(Binary(op_text, left, right), op, str(op))

    string_op = arith = compare

    def in_op(self, left, op, *items):
        return _pos(InList(str(op), left, list(items)), op)

    has_list = in_op

    def between(self, left, op, low, high):
        return _pos(Between(str(op).startswith("!"), left, low, high), op)

    @_meta
    def matches(self, meta, left, pattern):
        return _pos(Binary("matches regex", left, pattern), meta, "matches")

    @_meta
    def neg(self, meta, operand):
        return _pos(Neg(operand), meta, "-")

    @_meta
    def member(self, meta, target, name):
        return _pos(Member(target, str(name)), name, str(name))

    @_meta
    def index(self, meta, target, index):
        return _pos(Index(target, index), meta, self._text(meta))

    def column(self, name):
        return self._located(name)

    def call(self, name, *args):
        items = [_pos(Star(), a) if isinstance(a, Token) else a for a in args if a is not None]
        return _pos(Call(str(name), items), name)

    # literals
    def string(self, token):
        return _pos(Literal(string_value(token), "string"), token)

    verbatim = string

    def int_(self, token):
        return _pos(Literal(_long(token), "long"), token)

    def real(self, token):
        return _pos(Literal(float(token), "real"), token)

    def timespan(self, token):
        return _pos(Literal(timespan_value(str(token)), "timespan"), token)

    def datetime(self, token):
        inner = str(token)[str(token).index("(") + 1:-1]
        value = parse_datetime(inner)
        if value is ValueError:
            raise KqlError(f"invalid datetime literal '{inner.strip()}'", token.line,
                           token.column, str(token))
        return _pos(Literal(value, "datetime"), token)

    @_meta
    def dynamic(self, meta, value):
        return _pos(Literal(value, "dynamic"), meta, "dynamic")

    def dyn_list(self, *items):
        return [] if items == (None,) else list(items)

    def dyn_dict(self, *pairs):
        return {} if pairs == (None,) else dict(pairs)

    def dyn_pair(self, key, value):
        return (string_value(key), value)

    def dyn_string(self, token):
        return string_value(token)

    def dyn_int(self, token):
        return _long(token)

    def dyn_neg_int(self, token):
        return -_long(token)

    def dyn_real(self, token):
        return float(token)

    def dyn_neg_real(self, token):
        return -float(token)

    def dyn_word(self, token):
        words = {"true": True, "false": False, "null": None}
        if str(token) not in words:
            raise KqlError(f"unexpected '{token}' in a dynamic literal", token.line,
                           token.column, str(token))
        return words[str(token)]


def to_ast(tree, text):
    try:
        return ToAst(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, KqlError):
            raise exc.orig_exc from None
        if isinstance(exc.orig_exc, (OverflowError, ValueError)):
            # A literal Python cannot hold (a timespan of 10^14 days): the rule's token says
            # where.
            token = next((t for t in getattr(exc.obj, "children", ()) if isinstance(t, Token)),
                         None)
            line, column = (token.line, token.column) if token is not None else (1, 1)
            raise KqlError(f"the value is out of range ({exc.orig_exc})", line, column,
                           str(token or "")) from None
        raise


def dumps_dynamic(value):
    return json.dumps(value, separators=(",", ":"))
