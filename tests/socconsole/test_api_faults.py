"""Any API request whose database connection fails for reasons of its own before it did
anything (the token check) is answered 503 with Retry-After, never 500: a producer sends
it again. Real faults: the backend terminated (PostgreSQL), the write lock held
elsewhere (SQLite)."""

import json
import sqlite3
from contextlib import contextmanager

import pytest
from django.db import connection

from alerts.models import Alert
from tests.conftest import make_token
from tests.faults import database_fault

pytestmark = pytest.mark.django_db(transaction=True)
ALERT = {"id": "auth-fault-1", "display_name": "Lost connection", "severity": "high"}


@contextmanager
def token_check_fails():
    """The token's lookup (PostgreSQL) or its first-use write (SQLite) fails."""
    if connection.vendor == "postgresql":
        with database_fault(times=99, statement='"inventory_apitoken"').active():
            yield
        return
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")
    lock = sqlite3.connect(connection.settings_dict["NAME"], timeout=5, isolation_level=None)
    try:
        options["timeout"] = 0.2
        connection.close()
        lock.execute("BEGIN IMMEDIATE")
        yield
    finally:
        lock.rollback()
        lock.close()
        options["timeout"] = saved
        connection.close()


def post(client, token):
    return client.post("/api/v1/alerts", data=json.dumps(ALERT),
                       content_type="application/json", **token.header)


def test_it_answers_503_when_the_token_check_loses_the_database(client, p):
    token = make_token(p.sub, user=p.analyst)

    with token_check_fails():
        response = post(client, token)

    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert not Alert.objects.exists()
    # Sent again once the database is back, it is created.
    again = post(client, token)
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["created"]


def test_it_answers_503_on_a_read_that_loses_the_database(client, p):
    token = make_token(p.sub, user=p.analyst)

    with token_check_fails():
        response = client.get("/api/v1/alerts", **token.header)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert client.get("/api/v1/alerts", **token.header).status_code == 200
