"""Ingestion storing events in the events engine: the report, the refusals, and a 503
when the engine is down."""

import datetime as dt
import json

import pytest
from django.test import override_settings

from search import engine
from search.engine import Tenant
from search.models import Event, EventDay, RejectedEvent
from tests.conftest import make_token

from .factories import default_workspace, ingest

# The engine's TTL reads the real clock: the tests' times follow it.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
AN_HOUR_AGO = (NOW - dt.timedelta(hours=1)).isoformat()
EARLIER = (NOW - dt.timedelta(days=21)).isoformat()


pytestmark = pytest.mark.usefixtures("events_engine")


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
        {"TimeGenerated": AN_HOUR_AGO, "Computer": "vm1", "EventID": 4625,
         "Account": "CONTOSO\\jürgen", "LogonType": 3, "CommandLine": "cmd /c whoami",
         "Activity": "Échec"},
        {"TimeGenerated": NOW.isoformat(), "Computer": "vm1", "EventID": "x"},
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
    assert sum(EventDay.objects.filter(workspace=ws).values_list("events", flat=True)) == 2
    assert RejectedEvent.objects.get().code == "not_an_object"


def test_it_refuses_only_the_event_the_engine_refuses(p, poison):
    ws = default_workspace(p.sub)
    report = ingest(ws, "Syslog", [
        {"TimeGenerated": AN_HOUR_AGO, "Computer": name}
        for name in ("vm1", "poison", "vm2")], now=NOW)

    assert [r.status for r in report.results] == ["created", "rejected", "created"]
    assert report.results[1].error["code"] == "engine_refused"
    assert [row[0] for row in stored(ws)] == ["vm1", "vm2"]
    assert EventDay.objects.get(workspace=ws).events == 2
    assert RejectedEvent.objects.get().computer == "poison"


def test_it_answers_503_and_keeps_nothing_when_the_engine_is_down(client, p):
    token = make_token(p.sub, user=p.analyst)
    ws = default_workspace(p.sub)
    events = [{"TimeGenerated": AN_HOUR_AGO, "Computer": f"vm{i}"} for i in range(3)]

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


def test_retention_applies_a_workspaces_new_retention_in_the_engine(p):
    from inventory.activity import Actor
    from inventory.models import Activity
    from inventory.subscriptions import set_retention
    from search.retention import apply_retention

    ws = default_workspace(p.sub)
    other = default_workspace(p.other)
    ingest(ws, "Syslog", [{"TimeGenerated": EARLIER}] * 3, now=NOW - dt.timedelta(days=20))
    ingest(ws, "Syslog", [{"TimeGenerated": "2020-10-19T03:30:41Z"}], now=NOW)
    ingest(other, "Syslog", [{"TimeGenerated": EARLIER}], now=NOW - dt.timedelta(days=20))
    assert apply_retention(now=NOW)["deleted_events"] == 0

    set_retention(ws, 7, actor=Actor.of_system("tests"))
    result = apply_retention(now=NOW)

    assert result == {"dropped_days": 1, "deleted_events": 3, "deleted_runs": 0}
    assert len(stored(ws)) == 1  # the 2020 sample, ingested today
    assert len(stored(other)) == 1
    assert list(EventDay.objects.filter(workspace=ws).values_list("day", flat=True)) == [
        dt.date(2020, 10, 19)]
    audit = Activity.objects.get(verb="events.retention")
    assert audit.after == {"deleted_events": 3, "retention_days": 7}
