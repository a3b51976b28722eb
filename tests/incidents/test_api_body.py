"""Request bodies of the incident actions: what is not JSON, resolving without a comment."""

import json

import pytest

from alerts.models import Alert
from incidents.models import Incident
from inventory.models import Activity
from inventory.roles import Scope
from tests.conftest import make_token
from tests.factories import make_alert, make_incident

ACT = [Scope.READ, Scope.ACT]


def raw_post(client, url, token, body):
    return client.post(url, body, content_type="application/json", **token.header)


@pytest.mark.parametrize("body, words", [
    (b'{"verdict":', "not valid JSON: Expecting value at line 1, column 12."),
    (b'{"verdict": "false_positive",}', "not valid JSON"),
    (b"\xff\xfe{}", "not valid UTF-8 (byte 0)"),
    (b'{"verdict": NaN}', "not valid JSON"),
    (b"[" * 100_000, "deeper than 64 levels"),
])
@pytest.mark.parametrize("action", ["dismiss", "resolve", "comment", "assign", "escalate",
                                    "acknowledge"])
def test_it_answers_bad_body_for_a_body_that_is_not_json(p, client, action, body, words):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    response = raw_post(client, f"/api/v1/incidents/{incident.pk}/{action}", token, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_body" and words in error["message"], error
    assert error["field"] is None
    assert not Activity.objects.filter(target_type="incident").exists()


def test_it_answers_bad_body_on_alerts_and_searches_too(p, client):
    alert = make_alert(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    for url in (f"/api/v1/alerts/{alert.pk}/dismiss", "/api/v1/workspaces/1/query"):
        response = raw_post(client, url, token, b'{"verdict":')
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] == "bad_body", url


def test_it_skips_a_byte_order_mark_as_ingestion_does(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    response = raw_post(client, f"/api/v1/incidents/{incident.pk}/dismiss", token,
                        b'\xef\xbb\xbf{"verdict": "false_positive"}')
    assert response.status_code == 200 and response.json()["status"] == "dismissed"


@pytest.mark.parametrize("body", [b"[]", b'"dismiss"', b"3", b'[{"to": "me"}]'])
@pytest.mark.parametrize("action", ["comment", "assign", "acknowledge"])
def test_it_answers_bad_body_for_json_that_is_not_an_object(p, client, body, action):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    response = raw_post(client, f"/api/v1/incidents/{incident.pk}/{action}", token, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == {
        "code": "bad_body", "message": "The request body must be a JSON object.",
        "field": None}


@pytest.mark.parametrize("path", ["incidents/{incident}/dismiss", "incidents/{incident}/resolve",
                                  "incidents/{incident}/activate", "incidents/{incident}/comment",
                                  "incidents/{incident}/assign", "incidents/{incident}/escalate",
                                  "incidents/{incident}/acknowledge", "alerts/{alert}/dismiss",
                                  "alerts/{alert}/resolve", "alerts/{alert}/activate",
                                  "alerts/{alert}/comment"])
def test_it_takes_a_null_body_for_no_body(p, client, path):
    """The schema says an optional body is the object or null: null answers as no body."""
    incident = make_incident(p.sub)
    incident.escalated = True
    incident.save(update_fields=["escalated"])
    url = "/api/v1/" + path.format(incident=incident.pk, alert=make_alert(p.sub).pk)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    none = raw_post(client, url, token, b"")
    null = raw_post(client, url, token, b"null")
    assert null.status_code == none.status_code, null.content
    if none.status_code == 400:
        assert null.json() == none.json()
        assert null.json()["error"]["code"] == "invalid"
    else:
        assert null.status_code == 200


def test_it_reads_a_null_query_body_as_an_empty_one(p, client):
    token = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    url = f"/api/v1/workspaces/{p.sub.workspaces.get(is_default=True).pk}/query"
    null = raw_post(client, url, token, b"null")
    assert null.status_code == 400
    assert null.json() == raw_post(client, url, token, b"{}").json()
    assert "Type a query" in null.json()["error"]["message"]


def test_it_refuses_a_key_the_body_does_not_have(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.lead, scopes=ACT)
    response = raw_post(client, f"/api/v1/incidents/{incident.pk}/assign", token,
                        json.dumps({"to": "me", "reson": "typo"}))
    assert response.status_code == 400 and response.json()["error"]["field"] == "reson"
    assert not Activity.objects.filter(target_type="incident").exists()


def test_it_needs_a_comment_to_resolve_an_incident(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    url = f"/api/v1/incidents/{incident.pk}/resolve"
    for body in ({}, {"comment": ""}, {"comment": "   "}):
        response = raw_post(client, url, token, json.dumps(body))
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["code"] == "invalid" and error["field"] == "comment", error
    assert Incident.objects.get(pk=incident.pk).status == "active"
    ok = raw_post(client, url, token, json.dumps({"comment": "contained"}))
    assert ok.status_code == 200 and ok.json()["status"] == "resolved"


def test_it_needs_a_comment_to_resolve_an_alert(p, client):
    alert = make_alert(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    url = f"/api/v1/alerts/{alert.pk}/resolve"
    response = raw_post(client, url, token, "{}")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "comment"
    assert Alert.objects.get(pk=alert.pk).status == "active"
    assert raw_post(client, url, token, json.dumps({"comment": "fixed"})).status_code == 200


def test_it_names_the_verdict_when_dismissing_without_one(p, client):
    incident = make_incident(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    response = raw_post(client, f"/api/v1/incidents/{incident.pk}/dismiss", token,
                        json.dumps({"comment": "a comment, but no verdict"}))
    assert response.status_code == 400 and response.json()["error"]["field"] == "verdict"


def test_it_answers_too_large_for_a_body_over_the_request_limit(p, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    alert = make_alert(p.sub)
    token = make_token(p.sub, user=p.analyst, scopes=ACT)
    body = json.dumps({"verdict": "false_positive", "comment": "a" * 5000})
    response = raw_post(client, f"/api/v1/alerts/{alert.pk}/dismiss", token, body)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and "4096" in error["message"], error
    assert Alert.objects.get(pk=alert.pk).status == "active"
