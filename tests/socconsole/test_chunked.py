"""A chunked request body is read where the server decodes it (gunicorn), and refused with
411 where it does not, never taken for an empty body."""

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from wsgiref.util import setup_testing_defaults

import pytest

from alerts.models import Alert
from inventory.roles import Scope
from socconsole.wsgi import application
from tests.conftest import make_token
from tests.factories import make_alert
from tests.test_worker import database_url, own_events_url

LIMIT = 4096


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "socconsole.settings_test",
           "DATABASE_URL": database_url(), "INGEST_MAX_BYTES": str(LIMIT),
           "EVENTS_URL": own_events_url()}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "socconsole.wsgi:application", "--workers", "1",
         "--bind", f"127.0.0.1:{port}"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {server.stdout.read().decode()}")
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


def post_chunked(port, path, token, chunks):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    # An iterable body without a Content-Length is sent with Transfer-Encoding: chunked.
    connection.request("POST", path, body=iter(chunks), encode_chunked=True, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.status, json.loads(response.read())
    connection.close()
    return answer


def test_it_reads_a_chunked_body_under_gunicorn(p, gunicorn):
    ingest = make_token(p.sub, scopes=[Scope.INGEST])
    status, answer = post_chunked(gunicorn, "/api/v1/alerts", ingest, [
        b'[{"id": "chunked-1", "display_name": "Sent in ', b'chunks", "severity": "low"}]'])
    assert status == 200, answer
    assert answer["accepted"] == 1
    assert Alert.objects.get(key="chunked-1").display_name == "Sent in chunks"

    alert = make_alert(p.sub)
    act = make_token(p.sub, user=p.analyst, scopes=[Scope.ACT])
    status, answer = post_chunked(gunicorn, f"/api/v1/alerts/{alert.pk}/dismiss", act, [
        b'{"verdict": "false_', b'positive"}'])
    assert status == 200 and answer["status"] == "dismissed", answer

    status, answer = post_chunked(gunicorn, "/api/v1/alerts", ingest, [b" " * LIMIT, b"[]"])
    assert status == 413 and answer["error"]["code"] == "too_large", answer


def test_it_refuses_a_chunked_body_a_server_cannot_read(p):
    """`make run`'s server hands the chunks undecoded and does not end the stream."""
    token = make_token(p.sub, scopes=[Scope.INGEST])
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/alerts",
               "HTTP_TRANSFER_ENCODING": "chunked", "HTTP_AUTHORIZATION": f"Bearer {token}",
               "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(b"5\r\n[{}]\r\n")}
    setup_testing_defaults(environ)
    environ.pop("wsgi.input_terminated", None)
    statuses = []
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["411 Length Required"]
    assert json.loads(body)["error"]["code"] == "length_required"
    assert not Alert.objects.exists()
