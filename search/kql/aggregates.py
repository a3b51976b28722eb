"""Aggregation functions of summarize, and the names Kusto gives their columns."""

from . import ast
from .functions import arity
from .sqltext import Frag, sql
from .valuetypes import family

# Kusto's default column name: prefix + the aggregated column's name (count_, dcount_X).
PREFIXES = {
    "count": "count_", "countif": "countif_", "dcount": "dcount_", "dcountif": "dcountif_",
    "sum": "sum_", "sumif": "sumif_", "avg": "avg_", "avgif": "avgif_", "min": "min_",
    "minif": "minif_", "max": "max_", "maxif": "maxif_", "make_set": "set_",
    "makeset": "set_", "make_list": "list_", "makelist": "list_",
}
# Those that have no windowed form (DISTINCT inside a window function is not SQL).
NOT_WINDOWED = {"dcount", "dcountif", "make_set", "makeset", "make_list", "makelist"}
ALIASES = {"makeset": "make_set", "makelist": "make_list"}
MAKE = {"make_set": True, "makeset": True, "make_list": False, "makelist": False}


def default_name(node):
    """The column name Kusto gives an aggregation, or None when it makes one up."""
    if not isinstance(node, ast.Call) or node.name not in PREFIXES:
        return None
    prefix = PREFIXES[node.name]
    if node.name in ("count", "countif"):
        return prefix
    if node.args and isinstance(node.args[0], ast.Column):
        return prefix + node.args[0].name
    return prefix


def size_limit(c, node):
    """make_set(x, N) / make_list(x, N): the most elements kept, or None."""
    if isinstance(node, ast.Call) and node.name in MAKE and len(node.args) == 2:
        limit = c.const_int(node.args[1], f"{node.name}()'s maximum size")
        if limit < 1:
            raise node.args[1].error("the maximum size must be 1 or more")
        return limit
    return None


class Aggregator:
    """The `aggregate` hook of a Scalar compiler inside summarize.

    With `over` (a window clause), aggregations are compiled as window functions, for
    summarize with arg_max()/arg_min().
    """

    def __init__(self, over=None):
        self.over = over
        self.used = False
        self.scalar = None

    def __call__(self, node):
        c = self.scalar
        name = node.name
        if name in ("arg_max", "arg_min"):
            raise node.error(f"{name}() must be a whole aggregation of summarize, "
                             f"not part of an expression")
        if self.over is not None and name in NOT_WINDOWED:
            raise node.error(f"{name}() cannot be combined with arg_max() or arg_min() "
                             f"in one summarize")
        self.used = True
        inner = type(c)(c.ctx, c.columns)  # aggregations do not nest
        return getattr(self, "_" + ALIASES.get(name, name))(inner, node, node.args)

    def _over(self, template, *parts, type):
        over = self.over if self.over is not None else Frag("")
        return sql(template.replace("%OVER%", "{}"), *_interleave(template, parts, over),
                   type=type)

    def _count(self, c, node, args):
        arity(node, args, 0, 1)
        if args:
            return self._over("COUNT({})%OVER%", c.compile(args[0]), type="long")
        return self._over("COUNT(*)%OVER%", type="long")

    def _countif(self, c, node, args):
        arity(node, args, 1)
        return self._over("COUNT(CASE WHEN {} THEN 1 END)%OVER%", c.boolean(args[0]),
                          type="long")

    def _dcount(self, c, node, args):
        arity(node, args, 1, 2)
        return c.d.count_distinct(c.compile(args[0]))

    def _dcountif(self, c, node, args):
        arity(node, args, 2, 3)
        value, condition = c.compile(args[0]), c.boolean(args[1])
        return c.d.count_distinct(sql("CASE WHEN {} THEN {} END", condition, value))

    def _numeric(self, c, node, arg):
        e = c.compile(arg)
        if e.type == "dynamic" or e.type == "string":
            e = c.cast(e, "real", arg)
        if family(e.type) != "number" and e.type != "timespan":
            raise arg.error(f"{node.name}() needs numbers, found {e.type}")
        return e

    def _sum(self, c, node, args):
        arity(node, args, 1)
        e = self._numeric(c, node, args[0])
        return self._over("SUM({})%OVER%", e, type=_sum_type(e.type))

    def _sumif(self, c, node, args):
        arity(node, args, 2)
        e, condition = self._numeric(c, node, args[0]), c.boolean(args[1])
        return self._over("SUM(CASE WHEN {} THEN {} END)%OVER%", condition, e,
                          type=_sum_type(e.type))

    def _avg(self, c, node, args):
        arity(node, args, 1)
        e = c.cast(self._numeric(c, node, args[0]), "real", args[0])
        return self._over("AVG({})%OVER%", e, type="real")

    def _avgif(self, c, node, args):
        arity(node, args, 2)
        e = c.cast(self._numeric(c, node, args[0]), "real", args[0])
        return self._over("AVG(CASE WHEN {} THEN {} END)%OVER%", c.boolean(args[1]), e,
                          type="real")

    def _extreme(self, c, node, function, value, condition=None):
        e = c.compile(value)
        if e.type == "dynamic":
            raise value.error(f"{node.name}() cannot compare dynamic values")
        if condition is not None:
            e = sql("(CASE WHEN {} THEN {} END)", c.boolean(condition), e, type=e.type)
        if e.type == "string":
            # Kusto skips empty strings; its ordering is ordinal, not the locale's.
            ordered = c.d.order_text(sql("NULLIF({}, '')", e))
            return self._over("COALESCE(" + function + "({})%OVER%, '')", ordered,
                              type="string")
        return self._over(function + "({})%OVER%", e, type=e.type)

    def _min(self, c, node, args):
        arity(node, args, 1)
        return self._extreme(c, node, "MIN", args[0])

    def _max(self, c, node, args):
        arity(node, args, 1)
        return self._extreme(c, node, "MAX", args[0])

    def _minif(self, c, node, args):
        arity(node, args, 2)
        return self._extreme(c, node, "MIN", args[0], args[1])

    def _maxif(self, c, node, args):
        arity(node, args, 2)
        return self._extreme(c, node, "MAX", args[0], args[1])

    def _make_set(self, c, node, args):
        arity(node, args, 1, 2)
        return c.d.make_set(c.compile(args[0]), distinct=MAKE[node.name])

    _make_list = _make_set


def _sum_type(type):
    return {"int": "long", "long": "long"}.get(type, type)


def _interleave(template, parts, over):
    """Parts for sql(): each %OVER% marker gets the window clause, in textual order."""
    out, remaining = [], list(parts)
    i = 0
    while i < len(template):
        if template.startswith("{}", i):
            out.append(remaining.pop(0))
            i += 2
        elif template.startswith("%OVER%", i):
            out.append(over)
            i += 6
        else:
            i += 1
    return out
