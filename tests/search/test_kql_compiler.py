"""The compiler without a database: the SQL it writes, the names and types, its errors."""

import datetime as dt
import re
import time

import pytest

from search.kql import KqlError, compile_query
from search.schema import DOCUMENTED_COLUMNS, seeded_columns

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
PLACEHOLDER = re.compile(r"\{(p[0-9]+):[A-Za-z0-9(), ']+\}")


class StubCatalog:
    """The seeded columns of the documented tables, plus a few extra ones."""

    extra = {"SecurityEvent": {"Props": "dynamic", "Score": "real", "Flag": "bool",
                               "Seen": "datetime"}}

    def columns(self, table):
        if table not in DOCUMENTED_COLUMNS:
            return None
        return {**seeded_columns(table), **self.extra.get(table, {})}

    def tables(self):
        return sorted(DOCUMENTED_COLUMNS)


def compile_(text, **kwargs):
    kwargs.setdefault("workspace_ids", [7, 8])
    kwargs.setdefault("now", NOW)
    return compile_query(text, catalog=StubCatalog(), **kwargs)


def placeholders_match(compiled):
    """Every parameter has its placeholder, and nothing else looks like one."""
    names = set(PLACEHOLDER.findall(compiled.sql))
    return names == set(compiled.params) and "%s" not in compiled.sql


def error_of(text):
    with pytest.raises(KqlError) as error:
        compile_(text)
    return error.value


def test_it_fetches_one_row_more_than_the_limit():
    assert compile_("SecurityEvent", row_limit=100).sql.endswith("LIMIT 101")
    assert compile_("SecurityEvent | take 5", row_limit=100).sql.endswith("LIMIT 5")


def test_it_applies_the_time_range_unless_a_where_reads_time_generated():
    window = (NOW - dt.timedelta(hours=1), NOW)
    compiled = compile_("SecurityEvent | where EventID == 1", time_range=window)
    assert "time_generated >= {" in compiled.sql and "time_generated <= {" in compiled.sql
    compiled = compile_("SecurityEvent | where TimeGenerated > ago(2h)", time_range=window)
    assert "time_generated >= {" not in compiled.sql


@pytest.mark.parametrize("text, columns", [
    ("SecurityEvent | summarize count() by Account",
     [("Account", "string"), ("count_", "long")]),
    ("SecurityEvent | summarize dcount(Account), countif(EventID == 1), sum(EventID), "
     "avg(EventID), min(TimeGenerated), max(Account), make_set(Computer), "
     "make_list(EventID), makeset(Account), makelist(Account), dcountif(Account, true), "
     "sumif(Score, Flag)",
     [("dcount_Account", "long"), ("countif_", "long"), ("sum_EventID", "long"),
      ("avg_EventID", "real"), ("min_TimeGenerated", "datetime"), ("max_Account", "string"),
      ("set_Computer", "dynamic"), ("list_EventID", "dynamic"), ("set_Account", "dynamic"),
      ("list_Account", "dynamic"), ("dcountif_Account", "long"), ("sumif_Score", "real")]),
    ("SecurityEvent | summarize count(), count() by bin(TimeGenerated, 1h), Computer",
     [("TimeGenerated", "datetime"), ("Computer", "string"), ("count_", "long"),
      ("count_1", "long")]),
    ("SecurityEvent | summarize arg_max(TimeGenerated, Account, EventID) by Computer",
     [("Computer", "string"), ("TimeGenerated", "datetime"), ("Account", "string"),
      ("EventID", "int")]),
    ("SecurityEvent | summarize percentile(EventID, 95), percentiles(Score, 5, 99.9), "
     "p = percentile(TimeGenerated, 50) by Computer",
     [("Computer", "string"), ("percentile_EventID_95", "int"), ("percentile_Score_5", "real"),
      ("percentile_Score_99_9", "real"), ("p", "datetime")]),
    ("SecurityEvent | count", [("Count", "long")]),
    ("SecurityEvent | project Account, strlen(Account), Props.a, x = 1",
     [("Account", "string"), ("Column1", "long"), ("Props_a", "dynamic"), ("x", "long")]),
    ("SecurityEvent | extend Score = 1.5 | project-rename S = Score | project S",
     [("S", "real")]),
    ("SecurityEvent | project a = now() - TimeGenerated, b = Flag, c = Seen",
     [("a", "timespan"), ("b", "bool"), ("c", "datetime")]),
])
def test_it_names_and_types_columns_as_kusto_does(text, columns):
    assert compile_(text).columns == columns


def test_it_returns_every_column_of_the_table_by_default():
    compiled = compile_("Syslog")
    names = [name for name, _ in compiled.columns]
    assert names[:3] == ["TimeGenerated", "Computer", "Type"]
    assert "SyslogMessage" in names and ("ProcessID", "long") in compiled.columns


def test_it_removes_columns_by_pattern():
    compiled = compile_("Syslog | project-away Sys*, Host*, _ResourceId")
    names = [name for name, _ in compiled.columns]
    assert "SyslogMessage" not in names and "HostIP" not in names
    assert "_ResourceId" not in names and "Facility" in names


EXPRESSIONS = [
    'Account == "a"', 'Account != "a"', 'Account =~ "a"', 'Account !~ "a"',
    'Account < "m"', 'Account >= "m"', "EventID > 1", "EventID <= 1", "Score < 1.5",
    'Account in ("a", "b")', 'Account !in ("a")', 'Account in~ ("A")', 'Account !in~ ("é")',
    "EventID in (1, 2)", "EventID between (1 .. 5)", "EventID !between (1 .. 5)",
    "TimeGenerated between (ago(1d) .. now())", "TimeGenerated between (ago(2d) .. 1d)",
    'Account has "x"', 'Account !has "x"', 'Account has_cs "x"', 'Account hasprefix "x"',
    'Account hassuffix "x"', 'Account has_any ("x", "y")', 'Account has_all ("x", "y")',
    'Account contains "x"', 'Account !contains "x"', 'Account contains_cs "x"',
    'Account startswith "x"', 'Account !startswith "x"', 'Account startswith_cs "x"',
    'Account endswith "x"', 'Account !endswith "x"', 'Account endswith_cs "x"',
    'Account contains Computer', 'Account startswith Computer', 'Account endswith_cs Computer',
    'Account matches regex "^a.*b$"', "not(EventID == 1)", "EventID == 1 or EventID == 2",
    "isnull(EventID)", "isnotnull(EventID)", "isempty(Account)", "isnotempty(Account)",
    'iff(EventID == 1, "a", "b") == "a"', 'iif(Flag, 1, 2.5) > 1',
    'case(EventID == 1, "a", EventID == 2, "b", "c") == "b"',
    'strcat(Account, "-", EventID, Flag, Seen) != ""', 'tolower(Account) == "a"',
    'toupper(Account) == "A"', "strlen(Account) > 2", 'substring(Account, 1, 2) == "b"',
    'substring(Account, 1) == "b"', 'trim(@"\\s+", Account) == "a"',
    'extract("(\\\\d+)", 1, Account) == "1"', 'split(Account, "\\\\")[1] == "alice"',
    'split(Account, "\\\\", 0) == "x"', 'tostring(EventID) == "1"', 'toint("5") == 5',
    'tolong(Account) > 1', 'toreal(Account) > 1.5', 'todouble(Account) > 1.5',
    'tobool("true")', 'todatetime(Account) > ago(1d)', 'parse_json(Account).a == "x"',
    'todynamic(Account)["a"][0] == 1', "array_length(Props) > 1", "Props.a.b == 1",
    "bin(EventID, 10) == 10", "floor(Score, 0.5) == 1.0", "bin(TimeGenerated, 1d) > ago(2d)",
    "startofday(TimeGenerated) == startofday(now())", "startofday(TimeGenerated, -1) < now()",
    'datetime_diff("day", now(), TimeGenerated) > 1', "now(-1h) > TimeGenerated",
    "TimeGenerated > datetime(2026-01-01)", "TimeGenerated - Seen > 1h",
    "Seen + 1d > TimeGenerated", "(EventID + 1) * 2 / 3 % 2 == 1", "-EventID < 0",
    "Score / 2 > 0.1", "Flag", "Flag == true", "Props == dynamic(null)",
    'Props.a == "x"', "Props.n > 2", 'Account in (dynamic(["a", "b"]))',
    "EventID == int(null)", "Score > real(1.5)", "long(3) == EventID",
    'isnotempty(tostring(Props))', "Seen > ago(1h)", "Seen == datetime(null)",
    "EventID == \"4625\"", "Account == 5", "Flag == \"true\"",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_it_compiles_every_operator_and_function(expression):
    compiled = compile_(f"SecurityEvent | where {expression} | take 1")
    assert placeholders_match(compiled)


def test_it_compiles_every_tabular_operator():
    compiled = compile_(
        "let threshold = 2;\nSecurityEvent | where EventID > threshold "
        "| extend n = strlen(Account) "
        "| project Account, n, TimeGenerated | project-rename who = Account | project-away n "
        "| sort by who asc nulls last | take 100 | top 10 by TimeGenerated | distinct who "
        "| summarize c = count() by who | where c > 1 | order by c | count")
    assert compiled.columns == [("Count", "long")]
    assert placeholders_match(compiled)


@pytest.mark.parametrize("text, message, column, token", [
    ("SecurityEvent | where Nope == 1", "unknown column 'Nope'", 23, "Nope"),
    ("SecurityEvent | project Account | where EventID == 1", "unknown column 'EventID'", 41,
     "EventID"),
    ("Nope | take 1", "unknown table 'Nope'", 1, "Nope"),
    ("SecurityEvent | where frob(Account)", "unknown function 'frob'", 23, "frob"),
    ("SecurityEvent | where count() > 1", "'count()' is an aggregation: use it in summarize", 23,
     "count"),
    ("SecurityEvent | where EventID", "expected a boolean expression, found int", 23,
     "EventID"),
    ("SecurityEvent | take -1", "the number of rows cannot be negative", 22, "-"),
    ("SecurityEvent | take Account", "the number of rows must be a constant integer", 22,
     "Account"),
    ("SecurityEvent | summarize Account", "summarize needs an aggregation such as count()", 27,
     "Account"),
    ("SecurityEvent | where Account has Computer",
     "the right side of 'has' must be a constant string", 31, "has"),
    ("SecurityEvent | where strlen(Account, 1) > 1",
     "strlen() takes 1 argument, got 2", 23, "strlen"),
    ("SecurityEvent | where Account matches regex '('", None, 45, "'('"),
    ("SecurityEvent | where TimeGenerated > 1h", "cannot compare datetime with timespan", 37,
     ">"),
    ("SecurityEvent | where Account.a == 1", None, 31, "a"),
    ("SecurityEvent | project a = 1, a = 2", "the column 'a' is projected twice", 32, "a"),
    ("SecurityEvent | extend x = arg_max(TimeGenerated, *)",
     "'arg_max()' is an aggregation: use it in summarize", 28, "arg_max"),
    ("SecurityEvent | summarize arg_max(TimeGenerated, *), dcount(Account) by Computer",
     "dcount() cannot be combined with arg_max() or arg_min() in one summarize", 54,
     "dcount"),
    ("SecurityEvent | where datetime_diff('fortnight', now(), TimeGenerated) > 1", None, 37,
     "'fortnight'"),
    ("SecurityEvent | summarize percentile(EventID, 101)",
     "the percentage must be a constant from 0 to 100", 47, "101"),
    ("SecurityEvent | summarize percentile(Account == 'a', 5)",
     "percentile() needs numbers or datetimes, found bool", 46, "=="),
])
def test_it_says_what_is_wrong_and_where(text, message, column, token):
    error = error_of(text)
    if message is not None:
        assert error.message == message
    assert (error.line, error.column, error.token) == (1, column, token)


def test_it_refuses_an_empty_query():
    assert error_of("   ").message == "the query is empty"


def test_it_folds_constants_into_parameters():
    compiled = compile_("SecurityEvent | where TimeGenerated between (datetime(2026-11-01) "
                        ".. datetime(2026-11-01) + 1d + 12h)")
    assert "2026-11-02 12:00:00" in compiled.params.values()


def test_it_parses_and_compiles_in_under_5_ms():
    queries = [
        "SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) | summarize "
        "FailedLogons = count() by Account, IpAddress | where FailedLogons > 5 "
        "| sort by FailedLogons",
        'SecurityEvent | where EventID == 4688 and CommandLine has "comsvcs.dll" '
        "| project TimeGenerated, Computer, Account, CommandLine | take 50",
        'Syslog | where Facility == "authpriv" and SyslogMessage contains "sudo" '
        "| summarize count() by bin(TimeGenerated, 1h), Computer",
    ]
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(20):
            for query in queries:
                compile_(query)
        best = min(best, (time.perf_counter() - start) / 60)
    assert best < 0.005


# -- SQL shapes the benchmark showed matter ------------------------------------------------------

def test_a_sort_on_time_leaves_out_the_nulls_clause_so_the_index_serves_it():
    compiled = compile_("SecurityEvent | where EventID == 4688 | project TimeGenerated "
                        "| sort by TimeGenerated desc | take 100")
    assert "ORDER BY time_generated DESC LIMIT" in compiled.sql
    # A column that may be null keeps Kusto's placement of nulls.
    assert "NULLS LAST" in compile_("SecurityEvent | sort by EventID").sql


@pytest.mark.parametrize("text", [
    "SecurityEvent | where EventID == 99999999999999999999",
    "SecurityEvent | where TimeGenerated > ago(99999999999999d)",
    "SecurityEvent | where TimeGenerated > now() + 9999999999d",
    "SecurityEvent | where TimeGenerated > datetime(2026-01-01) - 3000000d",
    "SecurityEvent | where Account in (dynamic([99999999999999999999]))",
])
def test_values_out_of_range_are_refused_not_crashed_on(text):
    assert "out of range" in error_of(text).message or "too large" in error_of(text).message


# -- ClickHouse ---------------------------------------------------------------------------------

def test_clickhouse_reads_the_events_table_with_typed_parameters():
    compiled = compile_("SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) "
                        "and LogonType == 10 | count", workspace_ids=[3, 4])
    assert " FROM events WHERE workspace_id IN ({p0:Int64}, {p1:Int64}) " \
           "AND table_name = {p2:String}" in compiled.sql
    assert "(event_id = {p3:Int64})" in compiled.sql
    assert "(time_generated > {p4:DateTime64(6, 'UTC')})" in compiled.sql
    # LogonType is a typed column of the events table.
    assert "(logon_type = {p5:Int64})" in compiled.sql
    assert compiled.params == {"p0": 3, "p1": 4, "p2": "SecurityEvent", "p3": 4625,
                               "p4": "2026-11-26 12:00:00", "p5": 10}
    assert "1 = 0" in compile_("SecurityEvent", workspace_ids=[]).sql


def test_clickhouse_parameters_keep_percent_signs_and_braces_out_of_the_sql():
    compiled = compile_('SecurityEvent | where Account contains "50%s {p0:String}" '
                        '| extend t = tostring(TimeGenerated) | project t')
    assert "50%s" not in compiled.sql and "{p0:String}\"" not in compiled.sql
    assert "50%s {p0:String}" in compiled.params.values()
    assert "'%Y-%m-%dT%H:%i:%SZ'" in compiled.sql  # the %% of the dialect's own text
    assert placeholders_match(compiled)


@pytest.mark.parametrize("text, fragments", [
    ('SecurityEvent | where CommandLine has "comsvcs"',
     ["hasTokenCaseInsensitive(command_line, {p3:String})"]),
    # The token index holds lower(command_line): has_cs reads it through the insensitive test.
    ('SecurityEvent | where CommandLine has_cs "MiniDump"',
     ["(hasTokenCaseInsensitive(command_line, {p3:String}) AND hasToken(command_line, {p3:"]),
    # A needle with separators: each of its tokens, then the exact term test.
    ('SecurityEvent | where CommandLine has "comsvcs.dll"',
     ["hasTokenCaseInsensitive(command_line, {p3:String}) AND "
      "hasTokenCaseInsensitive(command_line, {p4:String}) AND match(command_line, "]),
    ('SecurityEvent | where CommandLine has_any ("lsass", "procdump")',
     ["hasTokenCaseInsensitive(command_line, {p3:String})) OR "
      "(hasTokenCaseInsensitive(command_line, {p4:String})"]),
    ('SecurityEvent | where CommandLine has "ümlaut"', ["positionCaseInsensitiveUTF8(", "match("]),
    ('SecurityEvent | where CommandLine contains "LSASS"',
     ["positionCaseInsensitiveUTF8(command_line, {p3:String}) > 0"]),
    ("SecurityEvent | summarize count() by bin(TimeGenerated, 1h)",
     ["toStartOfInterval(time_generated, toIntervalMicrosecond({p3:Int64}), "
      "toDateTime64(0, 6, 'UTC'))"]),
    ("SecurityEvent | summarize dcount(Account)", ["uniqExact(account)"]),
    ("SecurityEvent | where toint(Task) > 1", ["toInt64OrNull(", "fields[{p3:String}]"]),
    ("SecurityEvent | where EventID / 2 > 1", ["intDiv(event_id, NULLIF({p3:Int64}, 0))"]),
])
def test_clickhouse_maps_kusto_to_its_own_functions(text, fragments):
    compiled = compile_(text + " | count")
    shape = re.sub(r"\{p[0-9]+:", "{", compiled.sql)
    for fragment in fragments:
        assert re.sub(r"\{p[0-9]+:", "{", fragment) in shape
    assert placeholders_match(compiled)


def test_clickhouse_splits_a_dotted_needle_into_its_tokens():
    compiled = compile_('SecurityEvent | where CommandLine has "comsvcs.dll"')
    assert [v for v in compiled.params.values() if isinstance(v, str)][-3:] == [
        "comsvcs", "dll", r"(?i)(^|[^A-Za-z0-9])comsvcs\.dll($|[^A-Za-z0-9])"]


def test_clickhouse_refuses_too_many_parameters():
    from search.kql.clickhouse import ClickHouseDialect

    with pytest.raises(ValueError):
        ClickHouseDialect().finish("SELECT %s", [1, 2])
    assert ClickHouseDialect().finish("SELECT %s, %%", [None]) == ("SELECT NULL, %", {})
