"""The search API: workspaces, event ingestion, and the Log Analytics query API."""

import json

import pytest
from django.test import override_settings

from inventory.roles import Scope
from search.models import QueryRun
from tests.conftest import FIXTURES, make_token
from tests.search.factories import default_workspace, ingest, stored_events


@pytest.fixture
def token(p):
    return make_token(p.sub, user=p.analyst)


@pytest.fixture
def ws(p):
    return default_workspace(p.sub)


def query(client, token, ws, text, timespan=None, **headers):
    body = {"query": text}
    if timespan:
        body["timespan"] = timespan
    return client.post(f"/api/v1/workspaces/{ws.workspace_id}/query", data=json.dumps(body),
                       content_type="application/json", **token.header, **headers)


def test_it_lists_the_workspaces_a_token_may_see(client, p, token, ws):
    p.other.workspaces.create(name="theirs", workspace_id="2d1f5a0c-58a2-4e0e-9c43-6b1f0c2a9d11")
    response = client.get("/api/v1/workspaces", **token.header)
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["workspace_id"] == str(ws.workspace_id)
    assert item["is_default"] is True and item["retention_days"] == 90
    assert "SecurityEvent" in item["tables"]


def test_it_ingests_ndjson_events_with_per_line_results(client, ws, token):
    body = (FIXTURES / "windows-events.jsonl").read_bytes() + b"\n{broken\n"
    response = client.post(f"/api/v1/workspaces/{ws.workspace_id}/events?table=SecurityEvent",
                           data=body, content_type="application/x-ndjson", **token.header)
    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (21, 1)
    assert answer["results"][-1]["error"]["code"] == "invalid_json"
    assert len(stored_events(ws)) == 21


def test_the_workspace_may_be_named_by_its_id_too(client, ws, token):
    response = client.post(f"/api/v1/workspaces/{ws.pk}/events?table=Syslog",
                           data=b'[{"SyslogMessage": "x"}]', content_type="application/json",
                           **token.header)
    assert response.status_code == 200


@pytest.mark.parametrize("body,status", [(b"[{", 400), (b"", 400)])
def test_an_unreadable_body_stores_nothing(client, ws, token, body, status):
    response = client.post(f"/api/v1/workspaces/{ws.workspace_id}/events?table=Syslog",
                           data=body, content_type="application/json", **token.header)
    assert response.status_code == status
    assert response.json()["error"]["code"] == "bad_body"
    assert stored_events(ws) == []


def test_a_bad_table_is_a_400(client, ws, token):
    response = client.post(f"/api/v1/workspaces/{ws.workspace_id}/events?table=x;drop",
                           data=b"[]", content_type="application/json", **token.header)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "table"


@override_settings(INGEST_MAX_BYTES=1024)
def test_a_body_over_the_limit_is_a_413(client, ws, token):
    response = client.post(f"/api/v1/workspaces/{ws.workspace_id}/events?table=Syslog",
                           data=b"[" + b'{"a": 1},' * 200 + b"{}]",
                           content_type="application/json", **token.header)
    assert response.status_code == 413
    assert stored_events(ws) == []


def test_a_read_only_token_may_not_ingest(client, p, ws):
    reader = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    response = client.post(f"/api/v1/workspaces/{ws.workspace_id}/events?table=Syslog",
                           data=b"[{}]", content_type="application/json", **reader.header)
    assert response.status_code == 403


def test_another_subscriptions_workspace_is_a_404(client, p, token):
    theirs = default_workspace(p.other)
    response = client.post(f"/api/v1/workspaces/{theirs.workspace_id}/events?table=Syslog",
                           data=b"[{}]", content_type="application/json", **token.header)
    assert response.status_code == 404
    response = query(client, token, theirs, "Syslog | take 1")
    assert response.status_code == 404


def test_it_answers_a_query_as_log_analytics_does(client, ws, token):
    ingest(ws, "SecurityEvent", [
        {"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4625, "Account": "CONTOSO\\a",
         "IpAddress": "203.0.113.87", "Computer": "web"},
        {"TimeGenerated": "2026-11-28T10:00:01Z", "EventID": 4625, "Account": "CONTOSO\\a",
         "IpAddress": "203.0.113.87", "Computer": "web"},
        {"TimeGenerated": "2026-11-28T10:00:02Z", "EventID": 4624, "Account": "CONTOSO\\b",
         "IpAddress": "10.0.0.1", "Computer": "web"}])
    response = query(client, token, ws, "SecurityEvent | where EventID == 4625 "
                     "| summarize n = count(), last = max(TimeGenerated) by Account")
    assert response.status_code == 200, response.content
    [table] = response.json()["tables"]
    assert table["name"] == "PrimaryResult"
    assert table["columns"] == [{"name": "Account", "type": "string"},
                                {"name": "n", "type": "long"},
                                {"name": "last", "type": "datetime"}]
    assert table["rows"] == [["CONTOSO\\a", 2, "2026-11-28T10:00:01Z"]]
    assert "statistics" not in response.json()
    run = QueryRun.objects.get()
    assert (run.state, run.token_id) == (QueryRun.State.DONE, token.token.pk)


def test_statistics_come_when_preferred(client, ws, token):
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-28T10:00:00Z"}])
    response = query(client, token, ws, "Syslog | count",
                     HTTP_PREFER="include-statistics=true")
    stats = response.json()["statistics"]
    assert stats["rows"] == 1 and stats["truncated"] is False
    assert stats["query"]["executionTime"] >= 0


def test_a_timespan_limits_the_time_range(client, ws, token):
    from django.utils import timezone
    now = timezone.now()
    ingest(ws, "Syslog", [{"TimeGenerated": now.isoformat()},
                          {"TimeGenerated": "2020-01-01T00:00:00Z"}])
    assert query(client, token, ws, "Syslog | count", "PT1H").json()["tables"][0]["rows"] == \
        [[1]]
    assert query(client, token, ws, "Syslog | count").json()["tables"][0]["rows"] == [[2]]


def test_a_bad_query_answers_400_with_its_position(client, ws, token):
    response = query(client, token, ws, "SecurityEvent\n| where Acount == 'x'")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadArgumentError"
    assert "Acount" in error["message"]
    assert error["innererror"]["line"] == 2


@pytest.mark.parametrize("body", [{"query": ""}, {"query": "Syslog", "timespan": "yesterday"},
                                  {"query": "Syslog", "workspaces": ["x"]}, {}])
def test_bad_requests_are_400(client, ws, token, body):
    response = client.post(f"/api/v1/workspaces/{ws.workspace_id}/query", data=json.dumps(body),
                           content_type="application/json", **token.header)
    assert response.status_code == 400


def test_an_ingest_only_token_may_not_query(client, p, ws):
    ingester = make_token(p.sub, scopes=[Scope.INGEST])
    assert query(client, ingester, ws, "Syslog | take 1").status_code == 403


def test_dynamic_values_are_json_text_as_in_log_analytics(client, ws, token):
    ingest(ws, "SuricataEve", [{"timestamp": "2026-11-28T10:00:00Z", "event_type": "alert",
                                "alert": {"signature": "ET SCAN"}}])
    response = query(client, token, ws, "SuricataEve | project Alert")
    assert response.json()["tables"][0]["rows"] == [['{"signature": "ET SCAN"}']]
