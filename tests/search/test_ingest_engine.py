"""Ingestion storing events in the events engine (EVENTS_IN_ENGINE): the same report and
refusals as in the database, and a 503 when the engine is down."""

import datetime as dt
import json

import pytest
from django.test import override_settings

from search import engine
from search.engine import Tenant
from search.models import Event, EventDay, RejectedEvent
from tests.conftest import make_token

from .factories import default_workspace, ingest

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _in_engine(settings, events_engine):
    settings.EVENTS_IN_ENGINE = True


def stored(workspace, columns="computer, event_id, account, logon_type, command_line, fields"):
    return engine.query(f"SELECT {columns} FROM events ORDER BY time_generated",  # noqa: S608
                        tenant=Tenant(workspace.subscription_id, (workspace.pk,))).rows


@pytest.fixture
def poison():
    """A constraint the engine checks on insert: a row for computer `poison` is refused."""
    engine.engine().command("ALTER TABLE events ADD CONSTRAINT no_poison "
                            "CHECK computer != 'poison'")
    yield
    engine.engine().command("ALTER TABLE events DROP CONSTRAINT no_poison")


def test_it_stores_accepted_events_in_the_engine(p):
    ws = default_workspace(p.sub)
    report = ingest(ws, "SecurityEvent", [
        {"TimeGenerated": "2026-12-01T10:00:00Z", "Computer": "vm1", "EventID": 4625,
         "Account": "CONTOSO\\jürgen", "LogonType": 3, "CommandLine": "cmd /c whoami",
         "Activity": "Échec"},
        {"TimeGenerated": "2026-12-01T10:00:01Z", "Computer": "vm1", "EventID": "x"},
        "not an object"], now=NOW)

    assert (report.accepted, report.rejected) == (2, 1)
    assert stored(ws) == [
        ("vm1", 4625, "CONTOSO\\jürgen", 3, "cmd /c whoami", {"Activity": '"Échec"'}),
        ("vm1", None, "", None, "", {"EventID_raw": '"x"'})]
    raw, retention, resource = stored(ws, "raw, retention_days, resource_id")[0]
    assert json.loads(raw)["Activity"] == "Échec"
    assert retention == ws.retention_days
    assert resource == p.sub.resources.get(name="vm1").pk
    assert not Event.objects.exists()
    assert EventDay.objects.get(workspace=ws).events == 2
    assert RejectedEvent.objects.get().code == "not_an_object"


def test_it_refuses_only_the_event_the_engine_refuses(p, poison):
    ws = default_workspace(p.sub)
    report = ingest(ws, "Syslog", [
        {"TimeGenerated": "2026-12-01T10:00:00Z", "Computer": name}
        for name in ("vm1", "poison", "vm2")], now=NOW)

    assert [r.status for r in report.results] == ["created", "rejected", "created"]
    assert report.results[1].error["code"] == "engine_refused"
    assert [row[0] for row in stored(ws)] == ["vm1", "vm2"]
    assert EventDay.objects.get(workspace=ws).events == 2
    assert RejectedEvent.objects.get().computer == "poison"


def test_it_answers_503_and_keeps_nothing_when_the_engine_is_down(client, p):
    token = make_token(p.sub, user=p.analyst)
    ws = default_workspace(p.sub)
    events = [{"TimeGenerated": "2026-12-01T10:00:00Z", "Computer": f"vm{i}"} for i in range(3)]

    # Nothing listens on port 1: the engine is a server that cannot be reached.
    with override_settings(EVENTS_URL="clickhouse://default:secret@127.0.0.1:1/default"):
        response = client.post(f"/api/v1/workspaces/{ws.workspace_id}/events?table=Syslog",
                               data=json.dumps([*events, 7]),
                               content_type="application/json", **token.header)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert "Nothing was stored" in response.json()["error"]["message"]
    assert not EventDay.objects.exists()
    assert not RejectedEvent.objects.exists()  # the refused one too: the client sends again
