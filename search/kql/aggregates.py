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
NOT_WINDOWED = {"dcount", "dcountif", "make_set", "makeset", "make_list", "makelist",
                "percentile", "percentiles"}
ALIASES = {"makeset": "make_set", "makelist": "make_list"}
MAKE = {"make_set": True, "makeset": True, "make_list": False, "makelist": False}


def percentile_name(column, percent):
    """percentile_Duration_95, percentile_Duration_99_9: Kusto's name for one percentile."""
    text = repr(percent) if isinstance(percent, float) and not percent.is_integer() \
        else str(int(percent))
    return f"percentile_{column}_{text.replace('.', '_')}"


def expand_percentiles(node):
    """percentiles(x, 50, 95) as [(name, percentile(x, 50)), ...]; None for other calls."""
    if not (isinstance(node, ast.Call) and node.name == "percentiles"):
        return None
    if len(node.args) < 2:
        raise node.error("percentiles() takes the expression and one or more percentages")
    value, *percents = node.args
    column = value.name if isinstance(value, ast.Column) else "Column"
    calls = []
    for percent in percents:
        if not isinstance(percent, ast.Literal) or percent.type not in ("long", "int", "real"):
            raise percent.error("a percentage must be a number")
        call = ast.Call("percentile", [value, percent]).at(node.line, node.column, node.token)
        calls.append((percentile_name(column, percent.value), call))
    return calls


def default_name(node):
    """The column name Kusto gives an aggregation, or None when it makes one up."""
    if isinstance(node, ast.Call) and node.name == "percentile" and len(node.args) == 2 \
            and isinstance(node.args[1], ast.Literal) and node.args[1].type in ("long", "real"):
        column = node.args[0].name if isinstance(node.args[0], ast.Column) else "Column"
        return percentile_name(column, node.args[1].value)
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
        return self._over(c.d.aggregate("SUM") + "({})%OVER%", e, type=_sum_type(e.type))

    def _sumif(self, c, node, args):
        arity(node, args, 2)
        e, condition = self._numeric(c, node, args[0]), c.boolean(args[1])
        return self._over(c.d.aggregate("SUM") + "(CASE WHEN {} THEN {} END)%OVER%", condition, e,
                          type=_sum_type(e.type))

    def _avg(self, c, node, args):
        arity(node, args, 1)
        e = c.cast(self._numeric(c, node, args[0]), "real", args[0])
        return self._over(c.d.aggregate("AVG") + "({})%OVER%", e, type="real")

    def _avgif(self, c, node, args):
        arity(node, args, 2)
        e = c.cast(self._numeric(c, node, args[0]), "real", args[0])
        return self._over(c.d.aggregate("AVG") + "(CASE WHEN {} THEN {} END)%OVER%",
                          c.boolean(args[1]), e,
                          type="real")

    def _extreme(self, c, node, function, value, condition=None):
        function = c.d.aggregate(function)
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

    def _percentile(self, c, node, args):
        arity(node, args, 2)
        e = c.compile(args[0])
        if family(e.type) != "number" and e.type not in ("datetime", "timespan"):
            if e.type not in ("string", "dynamic"):
                raise args[0].error(f"percentile() needs numbers or datetimes, found {e.type}")
            e = c.cast(e, "real", args[0])
        percent = c.compile(args[1])
        if not percent.is_const or family(percent.type) != "number" or percent.value is None \
                or not 0 <= percent.value <= 100:
            raise args[1].error("the percentage must be a constant from 0 to 100")
        return c.d.percentile(e, float(percent.value))

    def _percentiles(self, c, node, args):
        raise node.error("percentiles() makes a column per percentage: use it unnamed, "
                         "as a whole aggregation of summarize")

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
