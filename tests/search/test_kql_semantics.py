"""Queries run over inserted events in the events engine: Kusto's answers."""

import datetime as dt

import pytest

from search.kql import KqlError
from tests.search.factories import default_workspace
from tests.search.kql_factories import NOW, ago, make_events, rows_of, run, sql_rows

pytestmark = pytest.mark.usefixtures("events_engine")

DUMP = r"rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 624 C:\temp\lsass.dmp full"


@pytest.fixture
def data(p):
    ws = default_workspace(p.sub)
    other = default_workspace(p.other)
    security = []
    for i in range(8):
        security.append({"TimeGenerated": ago(hours=1, minutes=i), "EventID": 4625,
                         "Computer": "vm-web-01", "Account": "CONTOSO\\alice",
                         "IpAddress": "203.0.113.50", "LogonType": 3, "Task": "12544"})
    for i in range(3):
        security.append({"TimeGenerated": ago(hours=2, minutes=i), "EventID": 4625,
                         "Computer": "vm-web-01", "Account": "CONTOSO\\bob",
                         "IpAddress": "198.51.100.7", "LogonType": 10, "Task": 12544})
    security += [
        {"TimeGenerated": ago(days=3), "EventID": 4625, "Computer": "vm-web-01",
         "Account": "CONTOSO\\alice", "IpAddress": "203.0.113.50", "Task": "12544"},
        {"TimeGenerated": ago(minutes=50), "EventID": 4624, "Computer": "vm-web-01",
         "Account": "CONTOSO\\alice", "IpAddress": "203.0.113.50", "LogonType": 3,
         "Task": "12544"},
        {"TimeGenerated": ago(minutes=40), "EventID": 4688, "Computer": "vm-web-01",
         "Account": "CONTOSO\\alice", "CommandLine": DUMP, "Task": "13312",
         "NewProcessName": "C:\\Windows\\System32\\rundll32.exe"},
        {"TimeGenerated": ago(minutes=30), "EventID": 4688, "Computer": "vm-db-01",
         "Account": "CONTOSO\\carol", "CommandLine": "notcomsvcs.dllx --help", "Task": 13312},
        {"TimeGenerated": ago(minutes=20), "EventID": 4688, "Computer": "VM-DB-01",
         "Account": "CONTOSO\\dave", "CommandLine": "COMSVCS.DLL MiniDump", "Task": "garbage"},
        {"TimeGenerated": ago(minutes=10), "EventID": 4688, "Computer": "vm-db-01",
         "Account": "", "CommandLine": "cmd.exe /c whoami"},
    ]
    make_events(ws, "SecurityEvent", security)
    make_events(ws, "Syslog", [
        {"TimeGenerated": dt.datetime(2026, 11, 27, 9, 5, tzinfo=dt.UTC), "Computer": "lin-01",
         "Facility": "authpriv", "SyslogMessage": "sudo: alice : TTY=pts/0 ; COMMAND=/bin/sh"},
        {"TimeGenerated": dt.datetime(2026, 11, 27, 9, 55, tzinfo=dt.UTC), "Computer": "lin-01",
         "Facility": "authpriv", "SyslogMessage": "SUDO session opened"},
        {"TimeGenerated": dt.datetime(2026, 11, 27, 10, 15, tzinfo=dt.UTC), "Computer": "lin-01",
         "Facility": "authpriv", "SyslogMessage": "pam_unix(sudo:session): closed"},
        {"TimeGenerated": dt.datetime(2026, 11, 27, 10, 20, tzinfo=dt.UTC), "Computer": "lin-02",
         "Facility": "authpriv", "SyslogMessage": "sshd accepted"},
        {"TimeGenerated": dt.datetime(2026, 11, 27, 10, 25, tzinfo=dt.UTC), "Computer": "lin-02",
         "Facility": "kern", "SyslogMessage": "sudo is not a kernel thing"},
    ])
    # Another subscription's events, shaped the same: never in any answer.
    make_events(other, "SecurityEvent", [
        {"TimeGenerated": ago(minutes=5 + i), "EventID": 4625, "Computer": "fab-01",
         "Account": "CONTOSO\\alice", "IpAddress": "203.0.113.50", "CommandLine": DUMP}
        for i in range(10)])
    return [ws]


def test_it_counts_failed_logons_by_account(data):
    columns, rows = run(
        "SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) "
        "| summarize FailedLogons = count() by Account, IpAddress "
        "| where FailedLogons > 5 | sort by FailedLogons", data)
    assert columns == ["Account", "IpAddress", "FailedLogons"]
    assert rows == [["CONTOSO\\alice", "203.0.113.50", 8]]


def test_it_finds_the_dumping_command_line_by_term(data):
    columns, rows = run(
        'SecurityEvent | where EventID == 4688 and CommandLine has "comsvcs.dll" '
        "| project TimeGenerated, Computer, Account, CommandLine | take 50", data)
    assert columns == ["TimeGenerated", "Computer", "Account", "CommandLine"]
    assert sorted(r[3] for r in rows) == ["COMSVCS.DLL MiniDump", DUMP]
    assert all(r[0].tzinfo == dt.UTC for r in rows)


def test_it_counts_sudo_by_hour_and_computer(data):
    columns, rows = run(
        'Syslog | where Facility == "authpriv" and SyslogMessage contains "sudo" '
        "| summarize count() by bin(TimeGenerated, 1h), Computer", data)
    assert columns == ["TimeGenerated", "Computer", "count_"]
    assert sorted(rows) == [
        [dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC), "lin-01", 2],
        [dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC), "lin-01", 1],
    ]


def test_it_matches_the_hand_written_sql(data):
    ws = data[0]
    since = ago(days=1)
    expected = sql_rows(
        "SELECT account, ip_address, count() FROM events WHERE workspace_id = {ws:UInt64} "
        "AND table_name = 'SecurityEvent' AND event_id = 4625 "
        "AND time_generated > {since:DateTime64(6, 'UTC')} "
        "GROUP BY account, ip_address ORDER BY 3 DESC",
        {"ws": ws.pk, "since": str(since.replace(tzinfo=None))})
    rows = rows_of("SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) "
                   "| summarize count() by Account, IpAddress | sort by count_", data)
    assert rows == expected


def test_it_reads_numbers_sent_as_strings_as_numbers(data):
    rows = rows_of("SecurityEvent | where Task == 13312 | project Account", data)
    assert sorted(r[0] for r in rows) == ["CONTOSO\\alice", "CONTOSO\\carol"]
    rows = rows_of("SecurityEvent | where Task > 13000 | count", data)
    assert rows == [[2]]
    # A value that is not a number reads as null and never fails the query.
    rows = rows_of("SecurityEvent | where isnull(Task) | project Account", data)
    assert sorted(r[0] for r in rows) == ["", "CONTOSO\\dave"]


def test_it_reads_a_missing_string_as_empty(data):
    rows = rows_of('SecurityEvent | where EventID == 4624 | project CommandLine, '
                   'e = isempty(CommandLine), n = isnull(CommandLine)', data)
    assert rows == [["", True, False]]


def test_it_compares_strings_case_sensitively_with_equals(data):
    assert rows_of('SecurityEvent | where Computer == "vm-db-01" | count', data) == [[2]]
    assert rows_of('SecurityEvent | where Computer =~ "vm-db-01" | count', data) == [[3]]
    assert rows_of('SecurityEvent | where Computer !~ "VM-DB-01" | count', data) == [[14]]


def test_it_matches_has_on_whole_terms_only(data):
    assert rows_of('SecurityEvent | where CommandLine has "comsvcs" | count', data) == [[2]]
    assert rows_of('SecurityEvent | where CommandLine contains "comsvcs" | count',
                   data) == [[3]]
    assert rows_of('SecurityEvent | where CommandLine has_cs "comsvcs" | count', data) == [[1]]
    assert rows_of('SecurityEvent | where CommandLine !has "comsvcs" | count', data) == [[15]]
    assert rows_of('SecurityEvent | where CommandLine hasprefix "who" | count', data) == [[1]]
    assert rows_of('SecurityEvent | where CommandLine hassuffix "dump" | count', data) == [[2]]


def test_it_never_returns_another_workspaces_events(data):
    rows = rows_of("SecurityEvent | where Computer == 'fab-01' | count", data)
    assert rows == [[0]]
    rows = rows_of("SecurityEvent | summarize dcount(Computer)", data)
    assert rows == [[3]]


def test_it_applies_the_time_range_unless_the_query_filters_time(data):
    window = (ago(hours=1, minutes=30), NOW)
    assert rows_of("SecurityEvent | where EventID == 4625 | count", data,
                   time_range=window) == [[8]]
    assert rows_of("SecurityEvent | where EventID == 4625 and TimeGenerated > ago(7d) "
                   "| count", data, time_range=window) == [[12]]


def test_it_fetches_one_row_more_than_the_limit(data):
    rows = rows_of("SecurityEvent", data, row_limit=5)
    assert len(rows) == 6
    rows = rows_of("SecurityEvent | take 3", data, row_limit=5)
    assert len(rows) == 3


def test_it_takes_the_latest_row_per_group_with_arg_max(data):
    columns, rows = run("SecurityEvent | where EventID == 4625 "
                        "| summarize arg_max(TimeGenerated, *) by Account "
                        "| project Account, TimeGenerated, IpAddress, LogonType", data)
    assert columns == ["Account", "TimeGenerated", "IpAddress", "LogonType"]
    assert sorted(rows) == [
        ["CONTOSO\\alice", ago(hours=1), "203.0.113.50", 3],
        ["CONTOSO\\bob", ago(hours=2), "198.51.100.7", 10],
    ]


def test_it_returns_chosen_columns_with_arg_min_and_window_aggregates(data):
    columns, rows = run("SecurityEvent | where EventID == 4625 "
                        "| summarize arg_min(TimeGenerated, IpAddress), n = count() by Account",
                        data)
    assert columns == ["Account", "TimeGenerated", "IpAddress", "n"]
    assert sorted(rows) == [
        ["CONTOSO\\alice", ago(days=3), "203.0.113.50", 9],
        ["CONTOSO\\bob", ago(hours=2, minutes=2), "198.51.100.7", 3],
    ]


def test_it_aggregates_as_kusto_names_them(data):
    columns, rows = run(
        "SecurityEvent | where EventID == 4625 | summarize count(), dcount(IpAddress), "
        "countif(LogonType == 3), sum(LogonType), avg(LogonType), min(Account), "
        "max(TimeGenerated), make_set(IpAddress), dcountif(Account, LogonType == 10), "
        "sumif(LogonType, LogonType > 3)", data)
    assert columns == ["count_", "dcount_IpAddress", "countif_", "sum_LogonType",
                       "avg_LogonType", "min_Account", "max_TimeGenerated", "set_IpAddress",
                       "dcountif_Account", "sumif_LogonType"]
    row = rows[0]
    assert row[:5] == [12, 2, 8, 54, 54 / 11]
    assert row[5:7] == ["CONTOSO\\alice", ago(hours=1)]
    assert sorted(row[7]) == ["198.51.100.7", "203.0.113.50"]
    assert row[8:] == [1, 30]


def test_it_makes_lists_with_a_maximum_size(data):
    rows = rows_of("SecurityEvent | where EventID == 4625 "
                   "| summarize make_list(Account, 2), makeset(LogonType)", data)
    assert len(rows[0][0]) == 2
    assert sorted(rows[0][1]) == [3, 10]


def test_it_bins_counts_and_sorts(data):
    rows = rows_of("SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) "
                   "| summarize n = count() by bin(TimeGenerated, 1h) | sort by TimeGenerated asc",
                   data)
    assert rows == [[ago(hours=3), 2], [ago(hours=2), 8], [ago(hours=1), 1]]


def test_it_sorts_takes_and_projects_in_order(data):
    rows = rows_of("SecurityEvent | sort by TimeGenerated desc | take 3 "
                   "| project Computer, Account", data)
    assert rows == [["vm-db-01", ""], ["VM-DB-01", "CONTOSO\\dave"],
                    ["vm-db-01", "CONTOSO\\carol"]]
    rows = rows_of("SecurityEvent | top 2 by TimeGenerated asc | project EventID", data)
    assert rows == [[4625], [4625]]


def test_it_extends_renames_and_removes_columns(data):
    columns, rows = run(
        'SecurityEvent | where EventID == 4688 and Account != "" '
        '| extend Exe = tolower(split(CommandLine, " ")[0]), Len = strlen(Account) '
        "| project-rename Who = Account | project-away Len "
        "| project Who, Exe | sort by Who asc", data)
    assert columns == ["Who", "Exe"]
    assert rows == [["CONTOSO\\alice", "rundll32.exe"], ["CONTOSO\\carol", "notcomsvcs.dllx"],
                    ["CONTOSO\\dave", "comsvcs.dll"]]


def test_it_reads_distinct_values(data):
    rows = rows_of("SecurityEvent | distinct Computer | sort by Computer asc", data)
    assert rows == [["VM-DB-01"], ["vm-db-01"], ["vm-web-01"]]


def test_it_uses_let_values_and_dynamic_lists(data):
    rows = rows_of('let accounts = dynamic(["contoso\\\\ALICE", "CONTOSO\\\\bob"]); '
                   "let since = ago(1d);\n"
                   "SecurityEvent | where TimeGenerated > since and Account in~ (accounts) "
                   "| summarize count() by Account | sort by Account asc", data)
    assert rows == [["CONTOSO\\alice", 10], ["CONTOSO\\bob", 3]]
    rows = rows_of('SecurityEvent | where Account in ("CONTOSO\\\\bob") | count', data)
    assert rows == [[3]]
    rows = rows_of('SecurityEvent | where Account !in ("CONTOSO\\\\bob", "") | count', data)
    assert rows == [[13]]


def test_it_reads_json_members(data):
    rows = rows_of('SecurityEvent | where EventID == 4688 and Account != "" '
                   '| extend j = parse_json(strcat(\'{"who": {"name": "\', Computer, \'"}}\')) '
                   '| project a = tostring(j.who.name), b = tostring(j["who"]["name"]), '
                   "c = j.missing | sort by a asc", data)
    assert rows == [["VM-DB-01", "VM-DB-01", None], ["vm-db-01", "vm-db-01", None],
                    ["vm-web-01", "vm-web-01", None]]


def test_it_compares_with_between_and_case_functions(data):
    rows = rows_of("SecurityEvent | where LogonType between (3 .. 5) | count", data)
    assert rows == [[9]]
    rows = rows_of("SecurityEvent | where TimeGenerated !between (ago(1h) .. now()) | count",
                   data)
    assert rows == [[11]]
    rows = rows_of('SecurityEvent | where EventID == 4625 | extend k = case(LogonType == 3, '
                   '"net", LogonType == 10, "rdp", "other") | summarize count() by k '
                   "| sort by k asc", data)
    assert rows == [["net", 8], ["other", 1], ["rdp", 3]]


def test_it_refuses_unknown_columns_and_tables(data):
    with pytest.raises(KqlError) as error:
        run("SecurityEvent | where NoSuchColumn == 1", data)
    assert error.value.message == "unknown column 'NoSuchColumn'"
    assert (error.value.line, error.value.column) == (1, 23)
    with pytest.raises(KqlError) as error:
        run("NoSuchTable | take 1", data)
    assert error.value.message == "unknown table 'NoSuchTable'"


def test_it_takes_percentiles_by_nearest_rank(data):
    columns, rows = run("SecurityEvent | where EventID == 4625 "
                        "| summarize percentile(LogonType, 50), percentiles(LogonType, 0, 90, 100),"
                        " late = percentile(TimeGenerated, 75), "
                        "none = percentile(toint(Account), 50)", data)
    assert columns == ["percentile_LogonType_50", "percentile_LogonType_0",
                       "percentile_LogonType_90", "percentile_LogonType_100", "late", "none"]
    # 11 values: eight 3s, three 10s (one event has none); the 75th is the 9th of 12 times.
    assert rows == [[3, 3, 10, 10, ago(hours=1, minutes=3), None]]
