"""Tabular operators: each takes the current Relation and returns the next one."""

import fnmatch

from . import ast
from .aggregates import Aggregator, default_name, expand_percentiles, size_limit
from .expressions import Scalar
from .relation import Column, SortKey
from .sqltext import Expr, Frag, join, sql


def apply(relation, op):
    return OPERATORS[op.kind](relation, op)


class _Names:
    """Kusto's made-up names (Column1, Column2, ...) and its suffixes for duplicates."""

    def __init__(self, taken=()):
        self.taken = set(taken)
        self.counter = 0

    def made_up(self):
        while True:
            self.counter += 1
            name = f"Column{self.counter}"
            if name not in self.taken:
                return name

    def unique(self, name):
        if name not in self.taken:
            self.taken.add(name)
            return name
        n = 1
        while f"{name}{n}" in self.taken:
            n += 1
        self.taken.add(f"{name}{n}")
        return f"{name}{n}"


def expression_name(node):
    """The name Kusto gives an unnamed expression's column, or None (Column1, ...)."""
    if isinstance(node, ast.Column):
        return node.name
    if isinstance(node, ast.Member):
        head = expression_name(node.target)
        return f"{head}_{node.key}" if head else None
    if isinstance(node, ast.Index) and isinstance(node.index, ast.Literal) \
            and node.index.type == "string":
        head = expression_name(node.target)
        return f"{head}_{node.index.value}" if head else None
    if isinstance(node, ast.Call) and node.name in ("bin", "floor") and node.args:
        return expression_name(node.args[0])
    return None


def _where(relation, op):
    if relation.sealed:
        relation = relation.wrap()
    relation.where.append(Scalar(relation.ctx, relation.scope()).boolean(op.expr))
    return relation


def _unsealed_rows(relation):
    """Before changing columns: aggregated or DISTINCT rows must be computed first."""
    if relation.distinct or relation.group_count is not None:
        return relation.wrap()
    return relation


def _project(relation, op):
    relation = _unsealed_rows(relation)
    scalar = Scalar(relation.ctx, relation.scope())
    names = _Names(relation.names())
    columns, seen = [], set()
    for definition in op.columns:
        expr = scalar.compile(definition.expr)
        name = definition.name or expression_name(definition.expr) or names.made_up()
        if name in seen:
            where = definition if definition.name else definition.expr
            raise where.error(f"the column '{name}' is projected twice")
        seen.add(name)
        limit = None
        if isinstance(definition.expr, ast.Column) and definition.expr.name in relation.names():
            limit = relation.column(definition.expr).limit
        columns.append(Column(name, expr, limit))
    relation.columns = columns
    return relation


def _extend(relation, op):
    relation = _unsealed_rows(relation)
    names = _Names(relation.names())
    for definition in op.columns:
        expr = Scalar(relation.ctx, relation.scope()).compile(definition.expr)
        name = definition.name or expression_name(definition.expr) or names.made_up()
        for i, column in enumerate(relation.columns):
            if column.name == name:
                relation.columns[i] = Column(name, expr)
                break
        else:
            relation.columns.append(Column(name, expr))
    return relation


def _project_away(relation, op):
    drop = set()
    for pattern in op.patterns:
        if "*" in pattern.name:
            drop.update(n for n in relation.names() if fnmatch.fnmatchcase(n, pattern.name))
        else:
            drop.add(relation.column(pattern).name)
    relation.columns = [c for c in relation.columns if c.name not in drop]
    if not relation.columns:
        raise op.error("project-away removed every column")
    return relation


def _project_rename(relation, op):
    for new, old in op.pairs:
        column = relation.column(ast.Column(str(old)).at(old.line, old.column, str(old)))
        if new != column.name and new in relation.names():
            raise ast.Column(new).at(new.line, new.column, str(new)).error(
                f"the column '{new}' already exists")
        column.name = str(new)
    return relation


def _summarize(relation, op):
    if relation.sealed:
        relation = relation.wrap()
    for definition in op.aggregates:
        if isinstance(definition.expr, ast.Call) and definition.expr.name in ("arg_max",
                                                                             "arg_min"):
            return _summarize_arg(relation, op)
    scope = relation.scope()
    keys = [Scalar(relation.ctx, scope).compile(d.expr) for d in op.by]
    names = _Names()
    columns = []
    for definition, expr in zip(op.by, keys, strict=True):
        name = definition.name or expression_name(definition.expr) or names.made_up()
        columns.append(Column(names.unique(name), expr))
    aggregates = []
    for definition in op.aggregates:
        expanded = expand_percentiles(definition.expr)
        if expanded is not None and not definition.name:
            aggregates += expanded
        else:
            aggregates.append((definition.name, definition.expr))
    for given, node in aggregates:
        aggregator = Aggregator()
        scalar = Scalar(relation.ctx, scope, aggregate=aggregator)
        aggregator.scalar = scalar
        expr = scalar.compile(node)
        if not aggregator.used:
            raise node.error("summarize needs an aggregation such as count()")
        name = given or default_name(node) or names.made_up()
        columns.append(Column(names.unique(name), expr, size_limit(scalar, node)))
    if not columns:
        raise op.error("summarize needs an aggregation or a 'by' column")
    relation.columns = columns
    relation.group_count = len(keys)
    relation.order = []
    return relation


def _summarize_arg(relation, op):
    """summarize with arg_max()/arg_min(): one row per group, picked by a window function.

    The first arg_max/arg_min orders ROW_NUMBER() within each group; the row numbered
    1 gives its columns. Further arg_* take FIRST_VALUE() in their own order, and
    other aggregations become window aggregates over the group.
    """
    ctx = relation.ctx
    scope = relation.scope()
    keys = [Scalar(ctx, scope).compile(k.expr) for k in op.by]
    partition = join(keys, ", ")
    partition_by = [Frag("PARTITION BY "), partition] if keys else []
    names = _Names()
    columns = []
    for definition, expr in zip(op.by, keys, strict=True):
        name = definition.name or expression_name(definition.expr) or names.made_up()
        columns.append(Column(names.unique(name), expr))
    key_names = {n.name for n in op.by if isinstance(n.expr, ast.Column) and not n.name}
    first_order = None
    for definition in op.aggregates:
        call = definition.expr
        if not (isinstance(call, ast.Call) and call.name in ("arg_max", "arg_min")):
            aggregator = Aggregator(over=join([Frag(" OVER (")] + partition_by + [Frag(")")],
                                              ""))
            scalar = Scalar(ctx, scope, aggregate=aggregator)
            aggregator.scalar = scalar
            expr = scalar.compile(call)
            if not aggregator.used:
                raise call.error("summarize needs an aggregation such as count()")
            name = definition.name or default_name(call) or names.made_up()
            columns.append(Column(names.unique(name), expr))
            continue
        if len(call.args) < 2:
            raise call.error(f"{call.name}() takes the expression to maximize and the columns "
                             f"to return (or *)")
        scalar = Scalar(ctx, scope)
        target = scalar.compile(call.args[0])
        if target.type == "dynamic":
            raise call.args[0].error(f"{call.name}() cannot order dynamic values")
        descending = call.name == "arg_max"
        order = relation.order_fragments([SortKey(target, descending, False)])[0]
        window = join([Frag(" OVER (")] + partition_by + [Frag(" ORDER BY " if keys
                                                                else "ORDER BY "), order,
                                                         Frag(")")], "")
        returned = [(expression_name(call.args[0]) or definition.name
                     or ("max_" if descending else "min_") + names.made_up(), call.args[0])]
        for arg in call.args[1:]:
            if isinstance(arg, ast.Star):
                returned += [(c.name, ast.Column(c.name).at(arg.line, arg.column, "*"))
                             for c in relation.columns
                             if c.name not in key_names and c.name != returned[0][0]]
            else:
                returned.append((expression_name(arg) or names.made_up(), arg))
        for name, node in returned:
            expr = target if node is call.args[0] else scalar.compile(node)
            if first_order is not None:
                expr = sql(ctx.dialect.first_value + "({}){}", expr, window, type=expr.type)
            columns.append(Column(names.unique(name), expr))
        if first_order is None:
            first_order = window
    rank = sql("ROW_NUMBER(){}", first_order, type="long")
    relation.columns = columns + [Column("\0rank", rank)]
    relation.order = []
    outer = relation.wrap()
    outer.where.append(sql("{} = 1", outer.columns[-1].expr))
    outer.columns = outer.columns[:-1]
    return outer


def _sort_keys(relation, keys):
    scalar = Scalar(relation.ctx, relation.scope())
    result = []
    for key in keys:
        expr = scalar.compile(key.expr)
        result.append(SortKey(expr, key.descending, key.nulls_first))
    return result


def _sort(relation, op):
    if relation.sealed:
        relation = relation.wrap()
    relation.order = _sort_keys(relation, op.keys)
    return relation


def _count_of(relation, node):
    scalar = Scalar(relation.ctx, relation.scope())
    count = scalar.const_int(node, "the number of rows")
    if count < 0:
        raise node.error("the number of rows cannot be negative")
    return count


def _take(relation, op):
    count = _count_of(relation, op.count)
    relation.limit = count if relation.limit is None else min(relation.limit, count)
    return relation


def _top(relation, op):
    count = _count_of(relation, op.count)
    if relation.sealed:
        relation = relation.wrap()
    relation.order = _sort_keys(relation, [op.key])
    relation.limit = count
    return relation


def _count(relation, op):
    if relation.sealed:
        relation = relation.wrap()
    relation.columns = [Column("Count", Expr("COUNT(*)", [], "long"))]
    relation.group_count = 0
    relation.order = []
    return relation


def _distinct(relation, op):
    if relation.sealed:
        relation = relation.wrap()
    if op.columns is not None:
        relation.columns = [relation.column(node) for node in op.columns]
        if len({c.name for c in relation.columns}) != len(relation.columns):
            raise op.error("a column is listed twice")
    relation.distinct = True
    relation.order = []
    return relation


OPERATORS = {
    "where": _where,
    "project": _project,
    "extend": _extend,
    "project-away": _project_away,
    "project-rename": _project_rename,
    "summarize": _summarize,
    "sort": _sort,
    "take": _take,
    "top": _top,
    "count": _count,
    "distinct": _distinct,
}
