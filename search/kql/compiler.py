"""From query text to one parameterised ClickHouse statement over the events table."""

import datetime as dt
import json

from django.utils import timezone

from . import ast
from .clickhouse import ClickHouseDialect
from .errors import KqlError
from .expressions import Scalar
from .grammar import parse_tree
from .relation import Relation
from .tabular import apply
from .valuetypes import format_timespan


class Context:
    """What every stage of one compilation shares."""

    def __init__(self, dialect, now):
        self.dialect = dialect
        self.now = now
        self.lets = {}
        self._aliases = 0

    def alias(self):
        self._aliases += 1
        return f"r{self._aliases}"


class Compiled:
    """The SQL of a query, its result columns, and how to turn its rows into JSON values."""

    def __init__(self, sql, params, columns, converters, row_limit):
        self.sql = sql
        self.params = params
        self.columns = columns
        self.row_limit = row_limit
        self._converters = converters

    def convert_row(self, row):
        return [convert(value) for convert, value in zip(self._converters, row, strict=True)]

    def __repr__(self):
        return f"Compiled({self.sql!r}, {self.params!r})"


def parse(text):
    """The query as an ast.Query (KqlError for a syntax error)."""
    return ast.to_ast(parse_tree(text), text)


def compile_query(text, *, catalog, workspace_ids, time_range=None, row_limit=10000,
                  now=None):
    """Compile Kusto query `text` to SQL reading only the events of `workspace_ids`.

    `time_range` (start, end) applies to TimeGenerated unless a `where` of the query
    filters TimeGenerated itself. The SQL fetches at most `row_limit` + 1 rows, so the
    caller can tell that the limit cut the result.
    """
    if not isinstance(text, str) or not text.strip():
        raise KqlError("the query is empty", 1, 1, "")
    query = parse(text)
    ctx = Context(ClickHouseDialect(), now or timezone.now())
    try:
        for let in query.lets:
            ctx.lets[let.name] = Scalar(ctx, {}).compile(let.expr)
        columns = catalog.columns(query.table)
        if columns is None:
            raise query.error(f"unknown table '{query.table}'")
        if time_range is not None and _filters_time(query):
            time_range = None
        relation = Relation.table(ctx, query.table, columns, workspace_ids, time_range)
        for op in query.operators:
            relation = apply(relation, op)
    except (OverflowError, ValueError) as exc:
        # Constant folding past what a datetime or number can hold (a date minus 3,000,000
        # days): refused like any other mistake, never a crash.
        raise KqlError(f"a value is out of range ({exc})", 1, 1, "") from None
    statement = relation.select(limit=row_limit + 1)
    text, params = ctx.dialect.finish(statement.text, statement.params)
    return Compiled(text, params,
                    [(c.name, c.type) for c in relation.columns],
                    [_converter(c.type, c.limit) for c in relation.columns], row_limit)


def _filters_time(query):
    return any(op.kind == "where" and _mentions(op.expr, "TimeGenerated")
               for op in query.operators)


def _mentions(node, name):
    if isinstance(node, ast.Column):
        return node.name == name
    if isinstance(node, ast.Node):
        return any(_mentions(child, name) for child in vars(node).values())
    if isinstance(node, list):
        return any(_mentions(child, name) for child in node)
    return False


def _string(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _int(value):
    return None if value is None else int(value)


def _real(value):
    return None if value is None else float(value)


def _bool(value):
    return None if value is None else bool(value)


def _datetime(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _timespan(value):
    return None if value is None else format_timespan(float(value))


def _dynamic(limit):
    def convert(value):
        if isinstance(value, (str, bytes)):
            value = json.loads(value)
        if limit is not None and isinstance(value, list):
            value = value[:limit]
        return value
    return convert


def _converter(type, limit):
    return {"string": _string, "int": _int, "long": _int, "real": _real, "bool": _bool,
            "datetime": _datetime, "timespan": _timespan}.get(type) or _dynamic(limit)
