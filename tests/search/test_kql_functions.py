"""Scalar functions and operators evaluated by the events engine: Kusto's values."""

import datetime as dt

import pytest

from tests.search.factories import default_workspace
from tests.search.kql_factories import NOW, make_events, rows_of
from tests.search.test_kql_compiler import EXPRESSIONS

pytestmark = pytest.mark.usefixtures("events_engine")

SEEN = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def one(p):
    ws = default_workspace(p.sub)
    make_events(ws, "SecurityEvent", [{
        "TimeGenerated": NOW - dt.timedelta(hours=1), "EventID": 4625, "Computer": "vm-01",
        "Account": "CONTOSO\\alice", "IpAddress": "203.0.113.50",
        "Props": {"a": "x", "n": 3, "b": {"c": 1}, "list": [1, 2, 3]}, "Score": 2.5,
        "Flag": True, "Seen": "2026-11-27T10:00:00Z", "Task": " 42 ",
        "CommandLine": "  padded value\t", "Json": '{"k": [10, 20], "s": "v"}',
    }], types={"Seen": "datetime"})
    return [ws]


def value(expression, data):
    return rows_of(f"SecurityEvent | project v = {expression}", data)[0][0]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_it_runs_every_operator_and_function(one, expression):
    # Each compiles and runs; the values are checked below.
    rows_of(f"SecurityEvent | where {expression} | take 1", one)


@pytest.mark.parametrize("expression, expected", [
    ("strcat(Account, '/', EventID, '/', Flag)", "CONTOSO\\alice/4625/true"),
    ("tolower(Computer)", "vm-01"), ("toupper(Computer)", "VM-01"),
    ("strlen(Account)", 13), ("substring(Account, 8, 5)", "alice"),
    ("substring(Account, 8)", "alice"), ("substring(Account, 20, 2)", ""),
    ("trim(@'\\s+', CommandLine)", "padded value"),
    ("extract(@'(\\d+)\\.(\\d+)', 2, IpAddress)", "0"),
    ("extract(@'(\\d+)\\.(\\d+)', 0, IpAddress)", "203.0"),
    ("extract(@'zzz(\\d)', 1, IpAddress)", ""),
    ("split(IpAddress, '.')", ["203", "0", "113", "50"]),
    ("split(IpAddress, '.')[3]", "50"), ("split(IpAddress, '.')[-1]", "50"),
    ("split(IpAddress, '.', 1)", "0"), ("split(IpAddress, '.')[9]", None),
    ("tostring(EventID)", "4625"), ("tostring(Score)", "2.5"), ("tostring(Flag)", "true"),
    ("tostring(Seen)", "2026-11-27T10:00:00Z"), ("tostring(Props.a)", "x"),
    ("tostring(Props.n)", "3"), ("toint(Task)", 42), ("tolong('12')", 12),
    ("toreal(Task)", 42.0), ("todouble('2.5e1')", 25.0), ("toint('abc')", None),
    ("tobool('TRUE')", True), ("todatetime('2026-11-27 10:00')", SEEN),
    ("todatetime('not a date')", None), ("parse_json(Json).k[1]", 20),
    ("todynamic(Json)['s']", "v"), ("parse_json('nope')", "nope"),
    ("array_length(Props.list)", 3), ("array_length(Props.a)", None),
    ("Props.b.c", 1), ("Props['b']['c']", 1), ("Props.missing", None),
    ("isnull(Props.missing)", True), ("isempty(Account)", False),
    ("isnotempty(IpAddress)", True), ("isnotnull(EventID)", True),
    ("iff(EventID == 4625, 'failed', 'other')", "failed"), ("iif(Flag, 1, 2)", 1),
    ("case(EventID == 1, 'a', EventID == 4625, 'b', 'c')", "b"),
    ("not(Flag)", False), ("EventID / 2", 2312), ("EventID % 7", 4625 % 7),
    ("EventID * 2 + 1", 9251), ("Score * 2", 5.0), ("EventID / 0", None),
    ("-EventID", -4625), ("bin(EventID, 100)", 4600), ("floor(Score, 1)", 2.0),
    ("bin(TimeGenerated, 1d)", dt.datetime(2026, 11, 27, tzinfo=dt.UTC)),
    ("bin(TimeGenerated, 15m)", dt.datetime(2026, 11, 27, 11, tzinfo=dt.UTC)),
    ("startofday(TimeGenerated)", dt.datetime(2026, 11, 27, tzinfo=dt.UTC)),
    ("startofday(TimeGenerated, 1)", dt.datetime(2026, 11, 28, tzinfo=dt.UTC)),
    ("datetime_diff('hour', TimeGenerated, Seen)", 1),
    ("datetime_diff('minute', Seen, TimeGenerated)", -60),
    ("datetime_diff('day', now(), datetime(2026-11-01))", 26),
    ("datetime_diff('month', TimeGenerated, datetime(2025-12-31))", 11),
    ("datetime_diff('year', TimeGenerated, datetime(2025-12-31))", 1),
    ("datetime_diff('week', datetime(2026-11-29), datetime(2026-11-28))", 1),
    ("ago(1h)", NOW - dt.timedelta(hours=1)), ("now()", NOW),
    ("now(-2d)", NOW - dt.timedelta(days=2)), ("TimeGenerated - Seen", "01:00:00"),
    ("TimeGenerated + 1d", NOW + dt.timedelta(hours=23)),
    ("TimeGenerated - 30m", NOW - dt.timedelta(minutes=90)),
    ("(now() - TimeGenerated) / 1m", 60.0), ("1d + 2h", "1.02:00:00"),
    ("datetime(2026-11-27 10:00:00.5)", SEEN + dt.timedelta(milliseconds=500)),
    ("dynamic(['a', 1])", ["a", 1]), ("Score > 2", True), ("Task == 42", True),
    ("Account has 'alice'", True), ("Account has 'ali'", False),
    ("Account contains 'ALI'", True), ("Account contains_cs 'ALI'", False),
    ("Account startswith 'contoso'", True), ("Account startswith_cs 'contoso'", False),
    ("Account endswith 'ALICE'", True), ("Account endswith_cs 'ALICE'", False),
    ("Account has_any ('bob', 'ALICE')", True), ("Account has_all ('bob', 'alice')", False),
    ("Account matches regex @'^CONTOSO\\\\a'", True),
    ("IpAddress in ('203.0.113.50', 'x')", True), ("Computer in~ ('VM-01')", True),
    ("EventID between (4600 .. 4700)", True),
    ("Seen between (datetime(2026-11-27) .. 12h)", True),
    ("Account == 'contoso\\\\alice'", False), ("Account =~ 'contoso\\\\alice'", True),
    ("Account < 'D'", True), ("Account > 'c'", False),
    # A null constant read as a string is "", and a null list item matches nothing.
    ("int(null) =~ 'a'", False), ("strcat('x', int(null))", "x"), ("tolower(int(null))", ""),
    ("EventID in ('a', 4625)", True),
    ("EventID in ('a', 1)", False), ("EventID !in (int(null))", True),
])
def test_it_computes_kusto_values(one, expression, expected):
    assert value(expression, one) == expected
