"""Scalar expressions: Kusto semantics for comparisons, string operators, arithmetic.

An expression compiles against the columns of the relation it reads (name -> Expr)
to an Expr. Constants are folded in Python (`ago(1d)` is one datetime parameter),
so that a filter on a typed column stays a plain, indexable comparison.
"""

import math

from . import ast
from . import folding as py
from .clickhouse import like_escape, regex_escape
from .sqltext import Expr, Frag, sql
from .valuetypes import NUMERIC, check_regex, family, kusto_text, python_type

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=", "=~", "!~")
ARITHMETIC = ("+", "-", "*", "/", "%")
_TERM_START = "(^|[^A-Za-z0-9])"
_TERM_END = "($|[^A-Za-z0-9])"
_TRUE = Frag("(1 = 1)")
_FALSE = Frag("(1 = 0)")


def convert_const(value, source, target):
    """A constant of type `source` as `target`, in Python; ValueError when impossible."""
    if value is None or source == target:
        return value
    if target == "string":
        return kusto_text(value, source)
    if source == "dynamic" and isinstance(value, (dict, list)):
        raise ValueError
    if target in ("int", "long"):
        if source == "timespan":
            raise ValueError
        return py.tolong(value if source != "bool" else int(value))
    if target == "real":
        if source == "timespan":
            raise ValueError
        return py.toreal(value if source != "bool" else int(value))
    if target == "bool":
        return None if py.tobool(value) is None else bool(py.tobool(value))
    if target == "datetime" and source in ("string", "dynamic"):
        parsed = ast.parse_datetime(str(value))
        if parsed is ValueError:
            return None
        return parsed
    if target == "dynamic":
        return value
    raise ValueError


class Scalar:
    """Compiles scalar expressions against `columns` ({name: Expr})."""

    def __init__(self, ctx, columns, aggregate=None):
        self.ctx, self.d, self.columns, self.aggregate = ctx, ctx.dialect, columns, aggregate

    def compile(self, node):
        return getattr(self, "_" + type(node).__name__.lower())(node)

    def const(self, value, type):
        return self.d.const(value, type)

    # -- leaves -----------------------------------------------------------------------------
    def _literal(self, node):
        return self.const(node.value, node.type)

    def _column(self, node):
        column = self.columns.get(node.name)
        if column is not None:
            return Expr(column.text, list(column.params), column.type, column.value)
        if node.name in self.ctx.lets:
            value = self.ctx.lets[node.name]
            return Expr(value.text, list(value.params), value.type, value.value)
        if node.name in ("true", "false"):
            return self.const(node.name == "true", "bool")
        if node.name == "null":
            return self.const(None, "dynamic")
        raise node.error(f"unknown column '{node.name}'")

    def _star(self, node):
        raise node.error("'*' is only allowed in arg_max(), arg_min() and distinct")

    def _call(self, node):
        from .functions import AGGREGATES, FUNCTIONS

        if node.name in AGGREGATES:
            if self.aggregate is None:
                raise node.error(f"'{node.name}()' is an aggregation: use it in summarize")
            return self.aggregate(node)
        handler = FUNCTIONS.get(node.name)
        if handler is None:
            raise node.error(f"unknown function '{node.name}'")
        return handler(self, node, node.args)

    # -- conversions ------------------------------------------------------------------------
    def boolean(self, node):
        e = self.compile(node)
        if e.type == "bool":
            return e
        if e.type == "dynamic":
            return self.cast(e, "bool", node)
        raise node.error(f"expected a boolean expression, found {e.type}")

    def cast(self, e, type, node):
        """`e` as `type`: Kusto's conversion, NULL (or '') where a value does not convert."""
        if e.type == type or (family(e.type) == "number" and e.type != "real"
                              and type in ("int", "long")):
            return Expr(e.text, e.params, type, e.value)
        if e.is_const:
            try:
                return self.const(convert_const(e.value, e.type, type), type)
            except ValueError:
                raise node.error(f"cannot convert {e.type} to {type}") from None
        if type == "string":
            return self.d.to_string(e)
        if type == "dynamic":
            return self.d.to_dynamic(e)
        converted = self.d.to_number(e, type)
        if converted is None:
            raise node.error(f"cannot convert {e.type} to {type}")
        return converted

    def string(self, node):
        return self.cast(self.compile(node), "string", node)

    def const_string(self, node, what):
        e = self.compile(node)
        if not e.is_const or e.type not in ("string", "long", "int", "real"):
            raise node.error(f"{what} must be a constant string")
        return kusto_text(e.value, e.type)

    def const_int(self, node, what):
        e = self.compile(node)
        if not e.is_const or e.type not in ("int", "long") or e.value is None:
            raise node.error(f"{what} must be a constant integer")
        return e.value

    def unify(self, node, left, right):
        """Both sides of a comparison in one comparable type."""
        if family(left.type) == family(right.type):
            return left, right
        if left.type == "dynamic":
            return self.cast(left, right.type, node), right
        if right.type == "dynamic":
            return left, self.cast(right, left.type, node)
        if right.is_const and right.type in ("string", "dynamic") or (
                right.is_const and family(left.type) == "string"):
            return left, self.cast(right, left.type, node)
        if left.is_const and left.type in ("string", "dynamic") or (
                left.is_const and family(right.type) == "string"):
            return self.cast(left, right.type, node), right
        if left.type == "string" and family(right.type) in ("number", "bool", "datetime"):
            return self.cast(left, right.type, node), right
        if right.type == "string" and family(left.type) in ("number", "bool", "datetime"):
            return left, self.cast(right, left.type, node)
        if {left.type, right.type} <= {"bool", "int", "long", "real"}:
            return self.cast(left, "long", node), self.cast(right, "long", node)
        raise node.error(f"cannot compare {left.type} with {right.type}")

    # -- operators ---------------------------------------------------------------------------
    def _binary(self, node):
        op = node.op
        if op in ("and", "or"):
            left, right = self.boolean(node.left), self.boolean(node.right)
            return sql("({} " + op.upper() + " {})", left, right, type="bool")
        if op in ARITHMETIC:
            return self.arithmetic(node, op, self.compile(node.left), self.compile(node.right))
        if op in COMPARISONS:
            return self.compare(node, op, self.compile(node.left), self.compile(node.right))
        if op == "matches regex":
            pattern = self.const_string(node.right, "the regular expression")
            check_regex(pattern, node.right)
            return Expr(*_parts(self.d.regex(self.string(node.left), pattern)), "bool")
        return self.string_operator(node, op)

    def compare(self, node, op, left, right):
        if op in ("=~", "!~"):
            left, right = self.cast(left, "string", node), self.cast(right, "string", node)
            if right.is_const or left.is_const:
                column, needle = (left, right) if right.is_const else (right, left)
                condition = self.d.ilike(column, like_escape(needle.value))
            else:
                condition = sql("({} = {})", self.d.lower(left), self.d.lower(right))
            return _bool(condition if op == "=~" else sql("(NOT {})", condition))
        for a, b in ((left, right), (right, left)):
            if b.is_const and b.value is None and op in ("==", "!="):
                test = "IS NULL" if op == "==" else "IS NOT NULL"
                if a.type == "string":
                    return _bool(_FALSE if op == "==" else _TRUE)
                return sql("({} " + test + ")", a, type="bool")
        left, right = self.unify(node, left, right)
        sql_op = {"==": "=", "!=": "<>"}.get(op, op)
        if left.type == "string" and op not in ("==", "!="):
            return _bool(self.d.compare_text(left, sql_op, right))
        return sql("({} " + sql_op + " {})", left, right, type="bool")

    def string_operator(self, node, op):
        negated, base = op.startswith("!"), op.lstrip("!")
        left = self.string(node.left)
        right = self.compile(node.right)
        if base in ("has", "has_cs", "hasprefix", "hasprefix_cs", "hassuffix",
                    "hassuffix_cs") and not right.is_const:
            raise node.error(f"the right side of '{op}' must be a constant string")
        if not right.is_const:
            condition = self.dynamic_string_test(base, left, self.cast(right, "string", node))
        else:
            needle = kusto_text(right.value, right.type)
            condition = self.string_test(base, left, needle)
        return _bool(sql("(NOT {})", condition) if negated else condition)

    def string_test(self, base, left, needle):
        d = self.d
        cs = base.endswith("_cs")
        base = base.removesuffix("_cs")
        if base in ("has", "hasprefix", "hassuffix"):
            return self.has(left, [needle], cs, start=base != "hassuffix",
                            end=base != "hasprefix")
        if base == "contains":
            if cs:
                return sql("({} > 0)", d.position(left, Frag("%s", [needle])))
            return d.contains_ci(left, needle)
        if base == "startswith":
            return d.starts_cs(left, needle) if cs else d.ilike(left, like_escape(needle) + "%")
        return d.ends_cs(left, needle) if cs else d.ilike(left, "%" + like_escape(needle))

    def dynamic_string_test(self, base, left, right):
        if not base.endswith("_cs"):
            left, right = self.d.lower(left), self.d.lower(right)
        base = base.removesuffix("_cs")
        if base == "contains":
            return sql("({} > 0)", self.d.position(left, right))
        if base == "startswith":
            return sql("({} = 1)", self.d.position(left, right))
        return self.d.ends_with(left, right)

    def has(self, left, needles, case_sensitive, start=True, end=True, every=False):
        """Kusto's term match: the needle bounded by non-alphanumerics (or the ends)."""
        needles = [n for n in needles if n]
        if not needles:
            return _TRUE
        if start and end and not every:
            terms = [self.d.term(left, n, case_sensitive) for n in needles]
            if None not in terms:
                return terms[0] if len(terms) == 1 else _parts_frag(" OR ".join, terms)
        patterns = []
        for needle in needles:
            head = _TERM_START if start and needle[0].isascii() and needle[0].isalnum() else ""
            tail = _TERM_END if end and needle[-1].isascii() and needle[-1].isalnum() else ""
            patterns.append(head + regex_escape(needle) + tail)
        if every:
            return _parts_frag(" AND ".join, [self.has(left, [n], case_sensitive, start, end)
                                               for n in needles])
        regex = self.d.regex(left, patterns[0] if len(patterns) == 1
                             else "(?:" + ")|(?:".join(patterns) + ")",
                             insensitive=not case_sensitive)
        if len(needles) > 1:
            return regex
        # A cheap substring test first: the regular expression runs on candidates only.
        needle = needles[0]
        if case_sensitive:
            prefilter = sql("({} > 0)", self.d.position(left, Frag("%s", [needle])))
        else:
            prefilter = self.d.contains_ci(left, needle)
        return sql("({} AND {})", prefilter, regex)

    def _inlist(self, node):
        op = node.op
        left = self.compile(node.left)
        items = []
        for item_node in node.items:
            item = self.compile(item_node)
            if item.type == "dynamic" and item.is_const and isinstance(item.value, list):
                items.extend((self.const(v, python_type(v)), item_node) for v in item.value)
            else:
                items.append((item, item_node))
        if op in ("has_any", "has_all"):
            left = self.cast(left, "string", node)
            needles = []
            for item, item_node in items:
                if not item.is_const:
                    raise item_node.error(f"the values of '{op}' must be constants")
                needles.append(kusto_text(item.value, item.type))
            if not needles:
                return _bool(_FALSE)
            return _bool(self.has(left, needles, False, every=op == "has_all"))
        negated, insensitive = op.startswith("!"), op.endswith("~")
        if not items:
            return _bool(_TRUE if negated else _FALSE)
        if insensitive:
            left = self.cast(left, "string", node)
            values = [self.cast(i, "string", n) for i, n in items]
            if all(v.is_const and v.value.isascii() for v in values):
                values = [self.const(v.value.lower(), "string") for v in values]
                condition = _in(self.d.lower(left), values)
            else:
                tests = [self.compare(node, "=~", left, v) for v in values]
                condition = _parts_frag(" OR ".join, tests)
        else:
            values = []
            for item, item_node in items:
                left, item = self.unify(item_node, left, item)
                if not (item.is_const and item.value is None):
                    # A null (or 'a' read as a number) matches nothing; in SQL it would
                    # make a non-match null instead of false, differently per engine.
                    values.append(item)
            condition = _in(left, values) if values else _FALSE
        return _bool(sql("(NOT {})", condition) if negated else condition)

    def _between(self, node):
        left, low, high = (self.compile(n) for n in (node.left, node.low, node.high))
        if left.type == "datetime" and high.type == "timespan":
            high = self.arithmetic(node, "+", low, high)
        left, low = self.unify(node.low, left, low)
        left, high = self.unify(node.high, left, high)
        if left.type == "string":
            condition = sql("({} AND {})", self.d.compare_text(left, ">=", low),
                            self.d.compare_text(left, "<=", high))
        else:
            condition = sql("({} BETWEEN {} AND {})", left, low, high)
        return _bool(sql("(NOT {})", condition) if node.negated else condition)

    def arithmetic(self, node, op, left, right):
        lt, rt = left.type, right.type
        if left.is_const and right.is_const and left.value is not None \
                and right.value is not None:
            folded = fold(op, left, right)
            if folded is not NotImplemented:
                return self.const(*folded)
        d = self.d
        if lt == "datetime" and rt == "datetime" and op == "-":
            return d.datetime_sub(left, right)
        if lt == "datetime" and rt == "timespan" and op in "+-":
            seconds = right if op == "+" else sql("(-{})", right)
            return d.datetime_add(left, seconds)
        if lt == "timespan" and rt == "datetime" and op == "+":
            return d.datetime_add(right, left)
        if lt == "timespan" and rt == "timespan" and op in "+-/":
            return sql("({} " + op + " {})", left, _nonzero(right) if op == "/" else right,
                       type="real" if op == "/" else "timespan")
        if lt == "timespan" and family(rt) == "number" and op in "*/":
            return sql("({} " + op + " {})", left, _nonzero(right) if op == "/" else right,
                       type="timespan")
        if family(lt) == "number" and rt == "timespan" and op == "*":
            return sql("({} * {})", left, right, type="timespan")
        for e in (left, right):
            if e.type == "dynamic":
                converted = self.cast(e, "real", node)
                return self.arithmetic(node, op, *(converted if x is e else x
                                                  for x in (left, right)))
        if family(lt) != "number" or family(rt) != "number":
            raise node.error(f"cannot apply '{op}' to {lt} and {rt}")
        type = "real" if "real" in (lt, rt) else ("int" if lt == rt == "int" else "long")
        if op == "%":
            if type == "real":
                raise node.error("'%' needs integers")
            return sql("({} %% {})", left, _nonzero(right), type=type)
        if op == "/":
            if type == "real":
                return sql("({} / {})", left, _nonzero(right), type=type)
            return self.d.int_div(left, _nonzero(right), type)
        return sql("({} " + op + " {})", left, right, type=type)

    def _neg(self, node):
        e = self.compile(node.operand)
        if e.type not in NUMERIC + ("timespan",):
            raise node.error(f"cannot negate {e.type}")
        if e.is_const:
            return self.const(None if e.value is None else -e.value, e.type)
        return sql("(-{})", e, type=e.type)

    def _member(self, node):
        return self.member(node, self.compile(node.target), node.key)

    def member(self, node, target, key):
        if target.type != "dynamic":
            raise node.error(f"'{key}' is a member access: the value must be dynamic "
                             f"(use parse_json()), found {target.type}")
        if target.is_const:
            value = target.value.get(key) if isinstance(target.value, dict) else None
            return self.const(value, "dynamic")
        return self.d.member(target, key)

    def _index(self, node):
        target = self.compile(node.target)
        index = self.compile(node.index)
        if not index.is_const or index.type not in ("int", "long", "string"):
            raise node.index.error("an index must be a constant integer or string")
        if index.type == "string":
            return self.member(node, target, index.value)
        if target.type != "dynamic":
            raise node.error(f"only dynamic values can be indexed, found {target.type}")
        if target.is_const:
            value = target.value if isinstance(target.value, list) else []
            inside = -len(value) <= index.value < len(value)
            return self.const(value[index.value] if inside else None, "dynamic")
        return self.d.element(target, index.value)


def fold(op, left, right):
    """`left op right` for two constants: (value, type), or NotImplemented."""
    a, b, lt, rt = left.value, right.value, left.type, right.type
    if lt == "datetime" and rt == "timespan" and op in "+-":
        return (a + b if op == "+" else a - b), "datetime"
    if lt == "timespan" and rt == "datetime" and op == "+":
        return a + b, "datetime"
    if lt == rt == "datetime" and op == "-":
        return a - b, "timespan"
    if lt == rt == "timespan" and op in "+-":
        return (a + b if op == "+" else a - b), "timespan"
    if lt == "timespan" and family(rt) == "number" and op in "*/":
        if op == "/" and not b:
            return None, "timespan"
        return (a * b if op == "*" else a / b), "timespan"
    if family(lt) == family(rt) == "number":
        if "real" in (lt, rt):
            if op in "/%" and not b:
                return None, "real"
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None,
                    "%": math.fmod(a, b) if b else None}[op], "real"
        if op in "/%" and not b:
            return None, "long"
        if op == "/":
            quotient = abs(a) // abs(b)
            return (quotient if (a >= 0) == (b >= 0) else -quotient), "long"
        if op == "%":
            return int(math.fmod(a, b)), "long"
        return {"+": a + b, "-": a - b, "*": a * b}[op], "long"
    return NotImplemented


def _bool(frag):
    return Expr(frag.text, frag.params, "bool")


def _parts(frag):
    return frag.text, frag.params


def _parts_frag(joiner, frags):
    return Frag("(" + joiner(f.text for f in frags) + ")", [p for f in frags for p in f.params])


def _in(left, values):
    return sql("({} IN (" + ", ".join("{}" for _ in values) + "))", left, *values)


def _nonzero(e):
    return sql("NULLIF({}, 0)", e)
