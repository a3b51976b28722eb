"""Random queries and hostile literals: a clean KqlError or SQL that stays in its workspaces."""

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.kql import KqlError
from search.models import EventDay
from tests.search import chdb_events
from tests.search.factories import default_workspace
from tests.search.kql_factories import NOW, compile_for, execute, make_events, rows_of
from tests.search.test_kql_compiler import StubCatalog, compile_, placeholders_match

TOKENS = [
    "SecurityEvent", "Syslog", "Nope", "|", "where", "project", "extend", "summarize", "by",
    "sort", "order", "take", "limit", "top", "count", "distinct", "project-away",
    "project-rename", "let", "x", "=", ";", ",", "(", ")", "[", "]", ".", "..", "==", "!=",
    "=~", "<", ">=", "and", "or", "not", "has", "!has", "contains", "startswith", "in", "!in~",
    "between", "matches", "regex", "EventID", "Account", "TimeGenerated", "Computer",
    "CommandLine", "Props", "Score", "Flag", "count()", "dcount", "arg_max", "*", "1", "4625",
    "-", "+", "/", "%", "1h", "ago(1d)", "now()", "datetime(2026-01-01)", "'a'", '"b"',
    '@"c\\d"', "dynamic([1, 'a'])", "strcat", "tostring", "iff", "bin", "split", "parse_json",
    "asc", "desc", "nulls", "first", "true", "null", "// comment\n", "\n", "join", "mv-expand",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25))
def test_it_compiles_random_token_soup_or_refuses_it_cleanly(tokens):
    try:
        compiled = compile_(" ".join(tokens))
    except KqlError as error:
        assert error.line >= 1 and error.column >= 1 and error.message
        return
    assert placeholders_match(compiled)
    assert re.search(r"workspace_id IN \(\{p[0-9]+:Int64\}, \{p[0-9]+:Int64\}\)", compiled.sql)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_it_compiles_random_text_or_refuses_it_cleanly(text):
    try:
        compile_("SecurityEvent | where " + text)
    except KqlError:
        pass


# Structured random pipelines, run on the events engine ---------------------------------------

COLUMNS = ["EventID", "Account", "Computer", "TimeGenerated", "LogonType", "CommandLine"]
FILTERS = [
    "EventID == 4625", "EventID != 4624", "Account has 'alice'", "Computer startswith 'vm'",
    "LogonType > 2", "TimeGenerated > ago(1d)", "isnotempty(CommandLine)",
    "Account in~ ('contoso\\\\alice', 'x')", "strlen(Computer) > 3", "not(LogonType == 3)",
    "Computer contains '-' or EventID between (4600 .. 4700)",
]
STAGES = st.one_of(
    st.sampled_from(FILTERS).map(lambda f: f"where {f}"),
    st.sampled_from(["take 5", "top 3 by TimeGenerated", "sort by EventID asc",
                     "extend L = strlen(Account)", "project-away CommandLine",
                     "distinct Computer, Account, EventID, TimeGenerated",
                     "summarize arg_max(TimeGenerated, *) by Computer"]),
)
FINALS = ["summarize n = count() by Computer", "project Computer, Account",
          "distinct Computer", "summarize make_set(Account)", "count",
          "summarize arg_min(TimeGenerated, Computer) by Account"]


@pytest.fixture
def two_workspaces(p, events_engine):
    ours, theirs = default_workspace(p.sub), default_workspace(p.other)
    rows = []
    for i in range(6):
        rows.append({"TimeGenerated": NOW - dt.timedelta(hours=i), "EventID": 4624 + i % 2,
                     "Computer": f"vm-{i % 3}", "Account": "CONTOSO\\alice" if i % 2 else "bob",
                     "LogonType": i, "CommandLine": "cmd.exe" if i % 2 else ""})
    make_events(ours, "SecurityEvent", rows)
    make_events(theirs, "SecurityEvent", [
        {**row, "Computer": "INTRUDER-" + row["Computer"], "Account": "INTRUDER"}
        for row in rows])
    return ours, theirs


def _cells(rows):
    for row in rows:
        for cell in row:
            if isinstance(cell, list):
                yield from cell
            else:
                yield cell


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(STAGES, max_size=4), st.sampled_from(FINALS))
def test_it_never_reads_another_workspace(two_workspaces, stages, final):
    ours, _ = two_workspaces
    query = " | ".join(["SecurityEvent", *stages, final])
    try:
        rows = rows_of(query, [ours])
    except KqlError:
        return  # e.g. a column projected away, then used: refused, never run
    assert not any(isinstance(c, str) and "INTRUDER" in c for c in _cells(rows)), query
    if final == "count":
        assert rows[0][0] <= 6


# Injection: hostile text in every literal position -----------------------------------------

PAYLOADS = [
    "'; DROP TABLE events; --",
    "\" OR 1=1 --",
    "x') OR ('1'='1",
    "%s %% %(x)s {} {0}",
    "\\'; SELECT pg_sleep(10); --",
    "$$; DELETE FROM events; $$",
    "*/ OR 1=1 /*",
]


def _kql_string(text, quote='"'):
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def _bracketed(name):
    return "['" + name.replace("\\", "\\\\").replace("'", "\\'") + "']"


def _positions(payload):
    double, single = _kql_string(payload), _kql_string(payload, "'")
    verbatim = '@"' + payload.replace('"', '""') + '"'
    bracketed = _bracketed(payload)
    return [
        f"SecurityEvent | where Account == {double}",
        f"SecurityEvent | where Account == {single}",
        f"SecurityEvent | where CommandLine has {verbatim}",
        f"SecurityEvent | where Account in ({double}, {single})",
        f"SecurityEvent | where Account has_any (dynamic([{double}]))",
        f"SecurityEvent | where Account contains {double} or Account startswith {single}",
        f"SecurityEvent | where Account matches regex {_kql_string(re.escape(payload))}",
        f"SecurityEvent | extend {bracketed} = {double} | take 1",
        f"SecurityEvent | project-rename {bracketed} = Account | take 1",
        f"SecurityEvent | summarize {bracketed} = count() by Account",
        f"let v = {double}; SecurityEvent | where Account == v",
        f"SecurityEvent | where Account == strcat({double}, Computer)",
        f"SecurityEvent | where parse_json(CommandLine)[{double}] == {single}",
        f"SecurityEvent | where tostring(todatetime({double})) == ''",
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_keeps_hostile_literals_out_of_the_sql(payload):
    for query in _positions(payload):
        compiled = compile_(query)
        assert payload not in compiled.sql, query
        assert "DROP" not in compiled.sql and "DELETE" not in compiled.sql


@pytest.mark.parametrize("text", [
    "SecurityEvent | where ['Account\\'; DROP TABLE events; --'] == 1",
    "['SecurityEvent; DROP TABLE search_event'] | take 1",
    "SecurityEvent | where TimeGenerated > datetime('; DROP TABLE events; --')",
    "SecurityEvent | where Account in (dynamic([\"a\", 'b); DROP TABLE x; --]))",
])
def test_it_refuses_hostile_names_and_literals(text):
    with pytest.raises(KqlError):
        compile_(text)


def _stored():
    """Events in the engine the queries ran on, and the database's count of them."""
    return (chdb_events.fetch("SELECT count() FROM events", {}),
            list(EventDay.objects.values_list("day", "events")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_runs_hostile_literals_as_plain_values(two_workspaces, payload):
    ours, _ = two_workspaces
    make_events(ours, "SecurityEvent", [{"TimeGenerated": NOW, "EventID": 1,
                                         "Account": payload, "CommandLine": payload}])
    before = _stored()
    for query in _positions(payload):
        execute(compile_for(query, [ours]))
    assert _stored() == before
    assert rows_of(f"SecurityEvent | where Account == {_kql_string(payload)} "
                   "| project CommandLine", [ours]) == [[payload]]
    columns = compile_for(f"SecurityEvent | extend {_bracketed(payload)} = 1 "
                          "| take 1", [ours]).columns
    assert columns[-1][0] == payload


def test_the_stub_catalog_knows_no_other_table():
    assert StubCatalog().columns("Nope") is None
