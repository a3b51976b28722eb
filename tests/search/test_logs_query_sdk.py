"""The real Azure Monitor query SDK against the console, served over HTTPS.

`LogsQueryClient` refuses to send a bearer token over plain HTTP, so the test puts a
TLS endpoint (a throwaway self-signed certificate) in front of Django's live server.
"""

import socket
import ssl
import subprocess
import threading
from datetime import timedelta

import pytest
from azure.core.credentials import AccessToken
from azure.monitor.query import LogsQueryClient, LogsQueryStatus

from tests.conftest import make_token
from tests.search.factories import default_workspace, ingest

# The certificate is a throwaway, self-signed: the client is told not to verify it.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


class ConsoleToken:
    """A credential whose token is a console API token."""

    def __init__(self, token):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(str(self.token), 2**31 - 1)


def _pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def https_console(live_server, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    backend = live_server.url.removeprefix("http://").split(":")
    stop = threading.Event()
    opened = []

    def serve():
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                client = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            upstream = socket.create_connection((backend[0], int(backend[1])))
            opened.extend((client, upstream))
            threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{port}"
    stop.set()
    listener.close()
    # Closing the connections lets the live server's threads (and their database
    # connections) end before the test database is dropped.
    for s in opened:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def test_the_azure_sdk_gets_the_same_rows_as_the_page(https_console, p, client):
    ws = default_workspace(p.sub)
    ingest(ws, "SecurityEvent", [
        {"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4625, "Account": "CONTOSO\\a",
         "IpAddress": "203.0.113.87", "Computer": "vm-web-01"}] * 3 + [
        {"TimeGenerated": "2026-11-28T10:05:00Z", "EventID": 4624, "Account": "CONTOSO\\a",
         "IpAddress": "203.0.113.87", "Computer": "vm-web-01"}])
    kql = ("SecurityEvent | where IpAddress == '203.0.113.87' "
           "| summarize n = count(), last = max(TimeGenerated) by EventID | sort by EventID asc")
    token = make_token(p.sub, user=p.analyst)
    with LogsQueryClient(ConsoleToken(token), endpoint=https_console + "/api",
                         connection_verify=False) as logs:
        result = logs.query_workspace(str(ws.workspace_id), kql, timespan=None,
                                      include_statistics=True)
    assert result.status == LogsQueryStatus.SUCCESS
    [table] = result.tables
    assert table.columns == ["EventID", "n", "last"]
    assert table.columns_types == ["int", "long", "datetime"]
    sdk_rows = [list(row) for row in table.rows]
    assert [r[:2] for r in sdk_rows] == [[4624, 1], [4625, 3]]
    assert sdk_rows[1][2].isoformat() == "2026-11-28T10:00:00+00:00"
    assert result.statistics["rows"] == 2

    # The page's run of the same query shows the same rows.
    client.force_login(p.analyst)
    client.post(f"/s/{p.sub.pk}/search/run/", {"workspace": ws.pk, "range": "query",
                                                "query": kql})
    from search.models import QueryRun
    page_rows = QueryRun.objects.filter(user=p.analyst).latest("pk").rows
    assert [[r[0], r[1], r[2]] for r in page_rows] == [
        [r[0], r[1], r[2].isoformat().replace("+00:00", "Z")] for r in sdk_rows]


def test_the_sdk_sees_a_bad_query_as_an_error(https_console, p):
    from azure.core.exceptions import HttpResponseError

    ws = default_workspace(p.sub)
    with LogsQueryClient(ConsoleToken(make_token(p.sub, user=p.analyst)),
                         endpoint=https_console + "/api", connection_verify=False) as logs, \
            pytest.raises(HttpResponseError) as raised:
        logs.query_workspace(str(ws.workspace_id), "SecurityEvent | where Nope == 1",
                             timespan=timedelta(days=1))
    assert "Nope" in str(raised.value)
