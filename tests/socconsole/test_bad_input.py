"""Ids that are not ASCII digits, and NUL in text: a 400 or a 404, never a 500.

`'¹'.isdigit()` is true and `int('¹')` raises; PostgreSQL refuses NUL in text."""

import json

import pytest

from tests.conftest import make_token
from tests.factories import make_incident

# A superscript one, an Arabic-Indic one (int() accepts it), a full-width one, and
# a number past the 63-bit range.
NOT_IDS = ["¹", "١", "１", "9223372036854775808", "+1", " 1", "1_0", "0x1"]


@pytest.fixture
def client_of(client, p):
    client.raise_request_exception = False
    client.force_login(p.lead)
    return client


@pytest.fixture
def token(p):
    return make_token(p.sub, user=p.lead, scopes=("ingest", "read", "act"))


@pytest.mark.parametrize("ref", NOT_IDS)
def test_it_answers_404_for_a_workspace_ref_that_is_not_an_id(client, p, token, ref):
    from urllib.parse import quote

    client.raise_request_exception = False
    path = f"/api/v1/workspaces/{quote(ref)}"
    responses = [
        client.post(f"{path}/events?table=SecurityEvent", data="[]",
                    content_type="application/json", **token.header),
        client.get(f"{path}/query?query=SecurityEvent", **token.header),
        client.post(f"{path}/query", data=json.dumps({"query": "SecurityEvent"}),
                    content_type="application/json", **token.header),
    ]
    for response in responses:
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("value", NOT_IDS)
def test_the_queue_answers_a_resource_that_is_not_an_id_as_a_name(client_of, p, value):
    response = client_of.get(f"/s/{p.sub.pk}/queue/", {"resource": value})
    assert response.status_code == 200
    assert "No incidents" in response.content.decode() or "queue" in response.content.decode()


@pytest.mark.parametrize("value", NOT_IDS)
def test_search_answers_404_for_a_run_that_is_not_an_id(client_of, p, value):
    response = client_of.get(f"/s/{p.sub.pk}/search/", {"run": value})
    assert response.status_code == 404


@pytest.mark.parametrize("value", NOT_IDS)
def test_search_ignores_a_workspace_that_is_not_an_id(client_of, p, value):
    response = client_of.get(f"/s/{p.sub.pk}/search/", {"workspace": value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", NOT_IDS)
def test_bulk_ignores_ids_that_are_not_ids(client_of, p, value):
    incident = make_incident(p.sub)
    response = client_of.post(f"/s/{p.sub.pk}/queue/bulk/",
                              {"ids": [value, str(incident.pk)], "action": "activate"})
    assert response.status_code == 302
    incident.refresh_from_db()


@pytest.mark.parametrize("value", NOT_IDS)
def test_assign_refuses_a_user_that_is_not_an_id(client_of, p, value):
    incident = make_incident(p.sub)
    response = client_of.post(f"/s/{p.sub.pk}/incidents/{incident.pk}/assign/",
                              {"user": value}, follow=True)
    assert response.status_code == 200
    assert "Choose whom to assign it to." in response.content.decode()
    incident.refresh_from_db()
    assert incident.assigned_to is None


def test_assign_takes_an_ascii_id(client_of, p):
    incident = make_incident(p.sub)
    client_of.post(f"/s/{p.sub.pk}/incidents/{incident.pk}/assign/", {"user": str(p.analyst.pk)})
    incident.refresh_from_db()
    assert incident.assigned_to == p.analyst


@pytest.mark.parametrize("path", ["/api/v1/alerts/{}", "/api/v1/incidents/{}",
                                  "/api/v1/incidents/{}/graph"])
@pytest.mark.parametrize("value", ["¹", "١", "+1", "1_0", "9223372036854775808"])
def test_the_api_answers_400_for_a_path_id_that_is_not_ascii_digits(client, token, path,
                                                                    value):
    from urllib.parse import quote

    response = client.get(path.format(quote(value)), **token.header)
    assert response.status_code in (400, 404), response.content
    assert response.json()["error"]["code"] in ("invalid", "not_found")


@pytest.mark.parametrize("value", ["¹", "١", "+1", " 1", "1.0"])
def test_the_api_refuses_a_resource_filter_that_is_not_an_id(client, token, value):
    for path in ("/api/v1/alerts", "/api/v1/incidents"):
        response = client.get(path, {"resource": value}, **token.header)
        assert response.status_code == 400, (path, response.content)
        assert response.json()["error"]["field"] == "resource"


@pytest.mark.parametrize("value", ["١", "+1", "1.0"])
def test_pages_refuse_an_id_filter_that_is_not_ascii_digits(client_of, p, value):
    assert client_of.get(f"/s/{p.sub.pk}/alerts/", {"resource": value}).status_code == 400
    assert client_of.get(f"/s/{p.sub.pk}/queue/", {"subscription": value}).status_code == 400


def test_ids_in_urls_are_ascii_digits_within_bigint(client_of, p):
    assert client_of.get(f"/s/{p.sub.pk}/queue/").status_code == 200
    for sub in ("%D9%A1", "9223372036854775808", "0"):
        assert client_of.get(f"/s/{sub}/queue/").status_code == 404


# NUL: PostgreSQL refuses it in text ("A string literal cannot contain NUL (0x00)
# characters"), so each of these was a 500 there.

def test_the_api_refuses_nul_in_a_query_parameter(client, token):
    for path in ("/api/v1/incidents?q=a%00b", "/api/v1/alerts?cursor=a%00b",
                 "/api/v1/incidents?q%00=a"):
        response = client.get(path, **token.header)
        assert response.status_code == 400, (path, response.content)
        error = response.json()["error"]
        assert error["code"] == "invalid" and "NUL" in error["message"]
    assert client.get("/api/v1/incidents?q=a%00b", **token.header).json()["error"]["field"] \
        == "q"


def test_the_query_api_refuses_nul(client, p, token):
    ws = p.sub.workspaces.get(is_default=True)
    response = client.get(f"/api/v1/workspaces/{ws.workspace_id}/query",
                          {"query": "SecurityEvent | where Account == 'a\x00b'"}, **token.header)
    assert response.status_code == 400


@pytest.mark.parametrize("action,body", [
    ("comment", {"comment": "a\x00b"}),
    ("dismiss", {"verdict": "false_positive", "comment": "a\x00b"}),
    ("assign", {"to": "me", "reason": "a\x00b"}),
    ("escalate", {"to": "shift_leads", "note": "a\x00b"}),
    ("assign", {"to": "le\x00ad"}),
])
def test_the_api_refuses_nul_in_a_body(client, p, token, action, body):
    incident = make_incident(p.sub)
    response = client.post(f"/api/v1/incidents/{incident.pk}/{action}", data=json.dumps(body),
                           content_type="application/json", **token.header)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "bad_body" and "NUL" in error["message"]
    incident.refresh_from_db()
    assert incident.assigned_to is None and incident.status == "active"


def test_the_api_takes_an_escaped_backslash_u_as_text(client, p, token):
    incident = make_incident(p.sub)
    response = client.post(f"/api/v1/incidents/{incident.pk}/comment",
                           data='{"comment": "C:\\\\u0000dir"}', content_type="application/json",
                           **token.header)
    assert response.status_code == 200, response.content


def test_pages_refuse_nul_in_filters(client_of, p):
    for path in (f"/s/{p.sub.pk}/queue/?q=a%00b", f"/s/{p.sub.pk}/queue/?resource=a%00b",
                 f"/s/{p.sub.pk}/alerts/?cursor=a%00b", f"/s/{p.sub.pk}/activity/?cursor=%00",
                 f"/s/{p.sub.pk}/search/?query=%00"):
        response = client_of.get(path)
        assert response.status_code == 400, path
        assert "NUL" in response.content.decode() or "Bad filter" in response.content.decode()


def test_pages_refuse_nul_in_posted_text(client_of, p):
    incident = make_incident(p.sub)
    base = f"/s/{p.sub.pk}/incidents/{incident.pk}"
    posts = [
        (f"{base}/assign/", {"user": str(p.analyst.pk), "comment": "a\x00b"}),
        (f"{base}/escalate/", {"to": "shift_leads", "note": "a\x00b"}),
        (f"{base}/comment/", {"comment": "a\x00b"}),
        (f"/s/{p.sub.pk}/queue/handover/", {"text": "a\x00b"}),
        (f"/s/{p.sub.pk}/queue/bulk/", {"ids": str(incident.pk), "action": "dismiss",
                                        "verdict": "false_positive", "comment": "a\x00b"}),
    ]
    for path, data in posts:
        response = client_of.post(path, data)
        assert response.status_code == 400, path
        assert "NUL characters" in response.content.decode()
    incident.refresh_from_db()
    assert incident.assigned_to is None and incident.status == "active"
    from incidents.models import HandoverNote

    assert not HandoverNote.objects.exists()
