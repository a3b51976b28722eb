"""The grammar: every operator parses, and a bad query says what and where."""

import datetime as dt

import pytest

from search.kql import KqlError, ast, parse


def ops(text):
    return [op.kind for op in parse(text).operators]


@pytest.mark.parametrize("text, kinds", [
    ("T | where a == 1", ["where"]),
    ("T | filter a == 1", ["where"]),
    ("T | project a, b = c + 1", ["project"]),
    ("T | project-away a, Ev*", ["project-away"]),
    ("T | project-rename x = a, y = b", ["project-rename"]),
    ("T | extend x = 1, y = strlen(a)", ["extend"]),
    ("T | summarize count() by a, bin(t, 1h)", ["summarize"]),
    ("T | summarize by a", ["summarize"]),
    ("T | summarize n = count()", ["summarize"]),
    ("T | sort by a asc nulls last, b", ["sort"]),
    ("T | order by a desc", ["sort"]),
    ("T | take 5 | limit 2", ["take", "take"]),
    ("T | top 3 by a asc", ["top"]),
    ("T | count", ["count"]),
    ("T | distinct a, b | distinct *", ["distinct", "distinct"]),
])
def test_it_parses_every_operator(text, kinds):
    assert ops(text) == kinds


def test_it_parses_lets_comments_and_a_trailing_semicolon():
    query = parse("// failed logons\nlet n = 5; // threshold\nlet since = ago(1d);\n"
                  "SecurityEvent // the table\n| where EventID == 4625;")
    assert [let.name for let in query.lets] == ["n", "since"]
    assert query.table == "SecurityEvent"
    assert query.operators[0].kind == "where"


def test_it_reads_literals():
    where = parse('T | where a == "x\\"y\\n" and b == \'s\' and c == @"C:\\temp" '
                  "and d == 12 and e == 1.5 and f == 2h and g == datetime(2026-11-27 10:00) "
                  'and h == dynamic(["a", 1, {"k": null}, true, -2])').operators[0].expr
    literals = []

    def walk(node):
        if isinstance(node, ast.Literal):
            literals.append(node.value)
        for child in vars(node).values():
            if isinstance(child, ast.Node):
                walk(child)
    walk(where)
    assert literals == ['x"y\n', "s", "C:\\temp", 12, 1.5, dt.timedelta(hours=2),
                        dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC),
                        ["a", 1, {"k": None}, True, -2]]


@pytest.mark.parametrize("text, seconds", [
    ("1d", 86400), ("2h", 7200), ("30m", 1800), ("10s", 10), ("100ms", 0.1),
    ("1.5h", 5400), ("5min", 300), ("2days", 172800),
])
def test_it_reads_timespans(text, seconds):
    literal = parse(f"T | where a > {text}").operators[0].expr.right
    assert literal.value == dt.timedelta(seconds=seconds)


def test_it_reads_bracketed_names_members_and_indexes():
    query = parse("['My Table'] | project x = ['odd name'], y = d.a[\"b\"][0]")
    assert query.table == "My Table"
    first, second = query.operators[0].columns
    assert first.expr.name == "odd name"
    assert isinstance(second.expr, ast.Index)
    assert isinstance(second.expr.target.target, ast.Member)


def test_it_keeps_precedence():
    expr = parse("T | where a == 1 or b == 2 and c + 2 * 3 > 4").operators[0].expr
    assert expr.op == "or"
    assert expr.right.op == "and"
    assert expr.right.right.left.op == "+"
    assert expr.right.right.left.right.op == "*"


def test_it_reads_columns_named_like_operators():
    query = parse("T | where count > 1 | project distinct = count")
    assert query.operators[0].expr.left.name == "count"


@pytest.mark.parametrize("text, line, column, token, message", [
    ("T | where a == ", 1, 15, "", "the query ends too early"),
    ("T |\n  where a === 1", 2, 13, "=", "syntax error: unexpected '='"),
    ("T | frobnicate", 1, 5, "frobnicate", "unknown operator 'frobnicate'"),
    ("T | join (U) on a", 1, 5, "join", "the operator 'join' is not supported"),
    ("T\n| union U", 2, 3, "union", "the operator 'union' is not supported"),
    ("T | parse a with * 'x' b", 1, 5, "parse", "the operator 'parse' is not supported"),
    ("T | mv-expand a", 1, 5, "mv-expand", "the operator 'mv-expand' is not supported"),
    ("T | make-series count() on t step 1h", 1, 5, "make-series",
     "the operator 'make-series' is not supported"),
    ("T | where a == 'unterminated", 1, 16, "'", "syntax error: unexpected '''"),
    ("T | where a == datetime(yesterday)", 1, 16, "datetime(yesterday)",
     "invalid datetime literal 'yesterday'"),
])
def test_it_says_where_a_query_goes_wrong(text, line, column, token, message):
    with pytest.raises(KqlError) as error:
        parse(text)
    assert (error.value.message, error.value.line, error.value.column, error.value.token) == (
        message, line, column, token)
    assert str(error.value) == f"line {line}, column {column}: {message}"


def test_it_refuses_a_tabular_let():
    with pytest.raises(KqlError) as error:
        parse("let x = T | take 1; x")
    assert error.value.token == "|"
