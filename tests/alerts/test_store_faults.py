"""Ingest when the database fails for reasons of its own (a lost connection, a lock held
elsewhere): the batch is tried again whole, or answered 503 with nothing stored; never
`rejected`, which is kept for what an item itself causes."""

import json

import pytest

from alerts.models import Alert, AlertPayload, RejectedItem
from inventory.models import Activity
from tests.conftest import make_token
from tests.faults import database_fault

pytestmark = pytest.mark.django_db(transaction=True)
BATCH = [{"id": f"fault-{i}", "display_name": "Lost connection", "severity": "high",
          "entities": [{"type": "host", "HostName": f"vm{i}"}]} for i in range(3)]


def post(client, token, body, url="/api/v1/alerts"):
    return client.post(url, data=json.dumps(body), content_type="application/json",
                       **token.header)


def test_it_stores_the_batch_on_a_fresh_connection_after_a_lost_one(client, p):
    token = make_token(p.sub, user=p.analyst)

    with database_fault(times=1).active() as fault:
        response = post(client, token, BATCH)

    assert fault.failed == 1  # the fault did hit the first try
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (3, 0)
    assert [r["status"] for r in body["results"]] == ["created"] * 3
    alerts = Alert.objects.filter(subscription=p.sub)
    assert sorted(alerts.values_list("key", flat=True)) == ["fault-0", "fault-1", "fault-2"]
    assert AlertPayload.objects.count() == 3
    assert alerts.get(key="fault-0").occurrence_count == 1
    assert not RejectedItem.objects.exists()
    assert Activity.objects.filter(verb="alerts.ingest").count() == 1


def test_it_answers_503_and_stores_nothing_when_every_try_fails(client, p):
    token = make_token(p.sub, user=p.analyst)

    with database_fault(times=99).active() as fault:
        response = post(client, token, BATCH)

    assert fault.failed == 3  # bounded
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "unavailable" and "nothing was stored" in error["message"]
    assert not Alert.objects.exists()
    assert not RejectedItem.objects.exists()
    assert not Activity.objects.filter(verb="alerts.ingest").exists()
    # The producer sends it again once the database is back: it is created, not duplicate.
    again = post(client, token, BATCH).json()
    assert [r["status"] for r in again["results"]] == ["created"] * 3


def test_a_connection_lost_while_checking_the_token_is_a_503_too(client, p):
    token = make_token(p.sub, user=p.analyst)

    with database_fault(statement='UPDATE "inventory_apitoken"').active():
        response = post(client, token, BATCH)

    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert not Alert.objects.exists()
    assert post(client, token, BATCH).status_code == 200  # on a fresh connection
