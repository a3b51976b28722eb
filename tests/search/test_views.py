"""The search page: run a query, poll it, see the result or the error, cancel, download."""

import csv
import io

import pytest

from search.models import QueryRun
from tests.factories import make_query_run
from tests.search.factories import default_workspace, ingest

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ws(p):
    return default_workspace(p.sub)


def url(p, tail=""):
    return f"/s/{p.sub.pk}/search/{tail}"


def run(client, p, ws, query, **extra):
    return client.post(url(p, "run/"), {"workspace": ws.pk, "range": "query",
                                        "query": query}, **extra)


def test_the_page_shows_the_query_box_and_the_workspaces(p, ws, as_user):
    response = as_user(p.analyst).get(url(p))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="query"' in page and ws.name in page
    assert "Search events" in page


def test_an_admin_may_search_too(p, as_user):
    assert as_user(p.admin).get(url(p)).status_code == 200


def test_running_a_query_shows_its_rows(p, ws, as_user):
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4625,
                                  "Account": "CONTOSO\\svc-backup", "Computer": "web"}] * 3)
    client = as_user(p.analyst)
    response = run(client, p, ws, "SecurityEvent | summarize count() by Account")
    assert response.status_code == 302
    saved = QueryRun.objects.get()
    assert response["Location"].endswith(f"?run={saved.pk}")
    assert saved.state == QueryRun.State.DONE and saved.rows == [["CONTOSO\\svc-backup", 3]]
    page = client.get(response["Location"]).content.decode()
    assert "CONTOSO\\svc-backup" in page and "count_" in page and "1</strong> row" in page


def test_htmx_gets_the_status_fragment_and_the_url_to_push(p, ws, as_user):
    response = run(as_user(p.analyst), p, ws, "Syslog | count", **HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="run-status"')
    assert response["HX-Push-Url"].endswith(f"?run={QueryRun.objects.get().pk}")


def test_a_bad_query_shows_where_it_is_wrong(p, ws, as_user):
    client = as_user(p.analyst)
    response = run(client, p, ws, "SecurityEvent\n| where Acount == 1")
    saved = QueryRun.objects.get()
    assert saved.state == QueryRun.State.FAILED and saved.error["line"] == 2
    page = client.get(response["Location"]).content.decode()
    assert "line 2" in page and "Acount" in page
    assert "| where Acount == 1\n" in page and "^</pre>" in page


def test_an_empty_query_is_a_form_error(p, ws, as_user):
    response = run(as_user(p.analyst), p, ws, "")
    assert response.status_code == 400
    assert not QueryRun.objects.exists()


def test_a_custom_range_needs_both_ends(p, ws, as_user):
    response = as_user(p.analyst).post(url(p, "run/"), {"workspace": ws.pk, "range": "custom",
                                                        "query": "Syslog"})
    assert response.status_code == 400
    assert b"needs a start and an end" in response.content


def test_another_subscriptions_workspace_cannot_be_chosen(p, as_user):
    theirs = default_workspace(p.other)
    response = run(as_user(p.analyst), p, theirs, "Syslog | take 1")
    assert response.status_code == 400
    assert not QueryRun.objects.exists()


def test_polling_stops_with_286_once_finished(p, as_user):
    done = make_query_run(p.sub)
    client = as_user(p.analyst)
    response = client.get(url(p, f"runs/{done.pk}/"), HTTP_HX_TRIGGER="run-poll", **HTMX)
    assert response.status_code == 286
    queued = make_query_run(p.sub, state=QueryRun.State.QUEUED)
    response = client.get(url(p, f"runs/{queued.pk}/"), HTTP_HX_TRIGGER="run-poll", **HTMX)
    assert response.status_code == 200 and b'hx-trigger="every 500ms"' in response.content


def test_a_run_can_be_cancelled(p, as_user):
    queued = make_query_run(p.sub, state=QueryRun.State.QUEUED)
    response = as_user(p.analyst).post(url(p, f"runs/{queued.pk}/cancel/"), **HTMX)
    assert response.status_code == 200 and b"Cancelled" in response.content
    queued.refresh_from_db()
    assert queued.state == QueryRun.State.CANCELLED


def test_cancelling_a_finished_run_changes_nothing(p, as_user):
    done = make_query_run(p.sub)
    as_user(p.analyst).post(url(p, f"runs/{done.pk}/cancel/"))
    done.refresh_from_db()
    assert done.state == QueryRun.State.DONE


def test_csv_neutralises_formulas(p, as_user):
    done = make_query_run(p.sub, columns=[{"name": "=cmd", "type": "string"},
                                          {"name": "v", "type": "dynamic"}],
                          rows=[["=HYPERLINK(\"http://x\")", {"a": 1}], ["-2+3", None],
                                ["@SUM(A1)", ["x"]], ["plain", "+1"]])
    response = as_user(p.analyst).get(url(p, f"runs/{done.pk}/results.csv"))
    assert response["Content-Disposition"] == f'attachment; filename="search-{done.pk}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["'=cmd", "v"], ["'=HYPERLINK(\"http://x\")", '{"a": 1}'], ["'-2+3", ""],
                    ["'@SUM(A1)", '["x"]'], ["plain", "'+1"]]


def test_json_download_keeps_types(p, as_user):
    done = make_query_run(p.sub, columns=[{"name": "n", "type": "long"},
                                          {"name": "d", "type": "dynamic"}],
                          rows=[[1, {"a": [1]}]])
    response = as_user(p.analyst).get(url(p, f"runs/{done.pk}/results.json"))
    assert response.json()["rows"] == [{"n": 1, "d": {"a": [1]}}]


def test_an_unknown_download_format_is_a_404(p, as_user):
    done = make_query_run(p.sub)
    assert as_user(p.analyst).get(url(p, f"runs/{done.pk}/results.xlsx")).status_code == 404


def test_attacker_text_in_results_is_escaped(p, ws, as_user):
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4688,
                                  "CommandLine": "<script>alert(1)</script>"}])
    client = as_user(p.analyst)
    response = run(client, p, ws, "SecurityEvent | project CommandLine")
    page = client.get(response["Location"]).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_page_prefills_a_query_from_the_url(p, ws, as_user):
    response = as_user(p.analyst).get(url(p) + "?query=Syslog%20%7C%20take%205")
    assert "Syslog | take 5</textarea>" in response.content.decode()


def test_wrong_methods_are_refused(p, as_user):
    client = as_user(p.analyst)
    assert client.get(url(p, "run/")).status_code == 405
    assert client.post(url(p)).status_code == 405


def test_run_now_answers_small_queries_directly(p, ws):
    from search.runs import run_now

    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4624,
                                  "Account": "CONTOSO\\a"}] * 3)
    columns, rows, truncated = run_now(ws, "SecurityEvent | project Account", row_limit=2)
    assert columns == [{"name": "Account", "type": "string"}]
    assert rows == [["CONTOSO\\a"], ["CONTOSO\\a"]] and truncated is True
    assert not QueryRun.objects.exists()


def test_columns_empty_in_every_row_are_not_shown(p, as_user):
    done = make_query_run(p.sub, columns=[{"name": "Shown", "type": "string"},
                                          {"name": "Blank", "type": "string"},
                                          {"name": "Nulls", "type": "long"}],
                          rows=[["a", "", None], ["", "", None]], row_count=2)
    page = as_user(p.analyst).get(url(p) + f"?run={done.pk}").content.decode()
    assert "Shown" in page and "Blank" not in page and "Nulls" not in page
    assert "2 columns empty in every row are not shown" in page
