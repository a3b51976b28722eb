"""A tabular stage: a relation with known column names and types, as one SELECT.

Each operator of the pipeline turns a Relation into the next. While it can, an
operator edits the current SELECT (flat SQL: a `where` on the table stays a WHERE on
the events table, so the engine uses its primary and skip indexes); when the SELECT is *sealed* (it
aggregates, is DISTINCT, or has a LIMIT) the operator first wraps it as a subquery.
That subquery with named columns is also what join, union and tabular `let` will
take as input.

Output columns are aliased c0, c1, ... and sort keys carried through a subquery
o0, o1, ...: no name from the query text is ever written into SQL.
"""

from .sqltext import Expr, Frag, join, sql

# Typed columns of the events table that are never null.
NOT_NULL = {"time_generated", "ingested_at"}

# Kusto types the catalog may hold that the compiler reads as another.
_READ_AS = {"guid": "string", "decimal": "real"}


class Column:
    __slots__ = ("name", "expr", "limit")

    def __init__(self, name, expr, limit=None):
        # limit: make_set(x, N)'s N, applied when the row is converted.
        self.name, self.expr, self.limit = name, expr, limit

    @property
    def type(self):
        return self.expr.type


class SortKey:
    __slots__ = ("expr", "descending", "nulls_first")

    def __init__(self, expr, descending, nulls_first):
        self.expr, self.descending, self.nulls_first = expr, descending, nulls_first


class Relation:
    def __init__(self, ctx, source, columns):
        self.ctx = ctx
        self.source = source
        self.columns = columns
        self.where = []
        self.group_count = None  # aggregated: the first group_count columns are the keys
        self.distinct = False
        self.order = []
        self.limit = None

    @classmethod
    def table(cls, ctx, table, catalog_columns, workspace_ids, time_range=None):
        """The events of `table` in `workspace_ids`: the first stage of every query."""
        d = ctx.dialect
        hot = d.hot_columns(table)
        columns = []
        for name, kind in catalog_columns.items():
            kind = _READ_AS.get(kind, kind)
            if name == "Type":
                expr = Expr("table_name", [], "string")
            elif name in hot:
                expr = Expr(hot[name], [], d.hot_storage[hot[name]])
            else:
                expr = d.field(name, kind)
            columns.append(Column(name, expr))
        relation = cls(ctx, Frag(d.table), columns)
        ids = [int(i) for i in workspace_ids]
        if len(ids) == 1:
            # Equality, not IN: ClickHouse takes only `=` as fixing the sort key's first
            # column, and so reads in order for `sort by TimeGenerated | take n`.
            relation.where.append(Frag("workspace_id = %s", ids))
        elif ids:
            relation.where.append(Frag("workspace_id IN (" + ", ".join("%s" for _ in ids) + ")",
                                       ids))
        else:
            relation.where.append(Frag("1 = 0"))
        relation.where.append(Frag("table_name = %s", [table]))
        if time_range is not None:
            start, end = (d.const(t, "datetime") for t in time_range)
            relation.where.append(sql("time_generated >= {}", start))
            relation.where.append(sql("time_generated <= {}", end))
        return relation

    @property
    def sealed(self):
        return self.group_count is not None or self.distinct or self.limit is not None

    def scope(self):
        return {column.name: column.expr for column in self.columns}

    def names(self):
        return [column.name for column in self.columns]

    def column(self, node):
        for column in self.columns:
            if column.name == node.name:
                return column
        raise node.error(f"unknown column '{node.name}'")

    def order_fragments(self, keys):
        d = self.ctx.dialect
        parts = []
        for key in keys:
            expr = d.order_text(key.expr) if key.expr.type == "string" else key.expr
            direction = " DESC" if key.descending else " ASC"
            nulls = " NULLS FIRST" if key.nulls_first else " NULLS LAST"
            if key.expr.text in NOT_NULL:
                # No nulls to place: without the clause a DESC sort can walk the
                # (workspace, table, time) index backwards instead of sorting.
                nulls = ""
            parts.append(sql("{}" + direction + nulls, expr))
        return parts

    def select(self, limit=None, nested=False):
        """This stage as one SELECT; `nested` keeps the sort keys as columns o0, o1, ..."""
        items = [sql(f"{{}} AS c{i}", column.expr) for i, column in enumerate(self.columns)]
        if nested:
            items += [sql(f"{{}} AS o{i}", key.expr) for i, key in enumerate(self.order)]
        head = "SELECT DISTINCT " if self.distinct else "SELECT "
        parts = [Frag(head), join(items, ", "), Frag(" FROM "), self.source]
        if self.where:
            parts += [Frag(" WHERE "), join(self.where, " AND ")]
        if self.group_count:
            parts.append(Frag(" GROUP BY " + ", ".join(str(i + 1)
                                                       for i in range(self.group_count))))
        limits = [n for n in (self.limit, limit) if n is not None]
        if self.order and (limits or not nested):
            # Inside a subquery, ORDER BY matters only to pick the rows a LIMIT keeps.
            parts += [Frag(" ORDER BY "), join(self.order_fragments(self.order), ", ")]
        if limits:
            parts.append(Frag(f" LIMIT {int(min(limits))}"))
        return join(parts, "")

    def wrap(self):
        """This stage as the subquery that the next one reads."""
        alias = self.ctx.alias()
        inner = self.select(nested=True)
        outer = Relation(self.ctx, Frag(f"({inner.text}) AS {alias}", inner.params), [
            Column(c.name, Expr(f"{alias}.c{i}", [], c.type), c.limit)
            for i, c in enumerate(self.columns)])
        outer.order = [SortKey(Expr(f"{alias}.o{i}", [], key.expr.type), key.descending,
                               key.nulls_first) for i, key in enumerate(self.order)]
        return outer
