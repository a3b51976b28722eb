"""Publishing the correlation task after an ingest commits, with the broker down."""

import json
import socket
import time
from contextlib import contextmanager

import pytest

from alerts.models import Alert, AwaitingCorrelation
from socconsole.celery import app
from tests.conftest import make_token


def closed_port():
    """A loopback port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def broker_down():
    url = f"redis://127.0.0.1:{closed_port()}/0"
    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    _forget_connections()
    try:
        yield url
    finally:
        app.conf.update(saved)
        _forget_connections()


def _forget_connections():
    app._local.__dict__.pop("backend", None)
    app._pool = None
    app.amqp._producer_pool = None


def post(client, token, body):
    return client.post("/api/v1/alerts", data=json.dumps(body),
                       content_type="application/json", **token.header)


@pytest.mark.django_db(transaction=True)
def test_it_answers_a_stored_batch_while_the_broker_is_down(client, p):
    token = make_token(p.sub, user=p.analyst)
    # The first request of a process loads the API (seconds on a busy machine): not timed.
    post(client, token, {"id": "warm", "display_name": "Warm up", "severity": "low"})
    body = [{"id": f"down-{i}", "display_name": "Broker down", "severity": "low"}
            for i in range(3)]

    with broker_down():
        started = time.monotonic()
        response = post(client, token, body)
        elapsed = time.monotonic() - started

    assert response.status_code == 200, response.content[:500]
    assert response.json()["accepted"] == 3
    assert elapsed < 3, f"the ingest waited {elapsed:.1f}s on the broker"
    ids = set(Alert.objects.filter(subscription=p.sub, key__startswith="down-")
              .values_list("pk", flat=True))
    assert len(ids) == 3
    # The outbox holds them: the minute sweep correlates them once the broker is back.
    assert set(AwaitingCorrelation.objects.values_list("alert_id", flat=True)) == ids
