"""Event ingest when the database fails for reasons of its own: tried again, or 503."""

import json

import pytest
from django.db import connection

from tests.conftest import make_token
from tests.faults import database_fault
from tests.search.factories import stored_events

pytestmark = pytest.mark.django_db(transaction=True)


def post(client, token, body, url):
    return client.post(url, data=json.dumps(body), content_type="application/json",
                       **token.header)


def test_the_events_api_answers_503_and_stores_nothing_when_every_try_fails(client, p):
    token = make_token(p.sub, user=p.analyst)
    ws = p.sub.workspaces.get(is_default=True)
    events = [{"TimeGenerated": "2026-12-01T10:00:00Z", "Computer": f"vm{i}"} for i in range(3)]
    url = f"/api/v1/workspaces/{ws.workspace_id}/events?table=Syslog"
    # PostgreSQL: as the day's count is written; SQLite: as the transaction begins.
    at = "search_eventday" if connection.vendor == "postgresql" else None

    with database_fault(times=99, statement=at).active() as fault:
        response = post(client, token, events, url)

    assert fault.failed == 3
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert stored_events(ws) == []

    with database_fault(times=1, statement=at).active():
        response = post(client, token, events, url)
    assert response.status_code == 200
    assert response.json()["accepted"] == 3 and len(stored_events(ws)) == 3


def test_a_refused_event_is_kept_once_when_the_first_try_fails(client, p):
    from inventory.activity import Actor
    from inventory.collection import set_auto_provisioning
    from inventory.roles import Role
    from search.models import RejectedEvent

    set_auto_provisioning(p.sub, on=False, actor=Actor.of_user(p.admin), reason="test",
                          role=Role.ADMIN)
    token = make_token(p.sub, user=p.analyst)
    ws = p.sub.workspaces.get(is_default=True)
    url = f"/api/v1/workspaces/{ws.workspace_id}/events?table=Syslog"
    events = [{"TimeGenerated": "2026-12-01T10:00:00Z", "Computer": "vm-new"},
              {"TimeGenerated": "bad", "Computer": "vm-new"}]
    # PostgreSQL: as the refused events are written; SQLite: as a transaction begins.
    at = "search_rejectedevent" if connection.vendor == "postgresql" else None
    with database_fault(times=1, statement=at).active() as fault:
        response = post(client, token, events, url)
    assert fault.failed == 1
    assert response.status_code == 200, response.content
    assert [r["error"]["code"] for r in response.json()["results"]] == ["collection_off",
                                                                        "bad_time"]
    assert sorted(RejectedEvent.objects.values_list("code", flat=True)) == [
        "bad_time", "collection_off"]
