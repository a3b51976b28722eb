"""Free text is stored up to a documented length and lists show a clipped value: one
attacker-chosen field cannot make every page that lists the alert megabytes long."""

import json

import pytest

from alerts.ingest.parse.normalize import (
    MAX_DESCRIPTION,
    MAX_DISPLAY_NAME,
    MAX_ITEMS,
    MAX_SHORT_TEXT,
    MAX_TEXT,
)
from alerts.models import Alert, AlertEntity
from incidents.models import Incident
from tests.conftest import make_token

MiB = 1024 * 1024
PAGE_LIMIT = 200_000
BIG = {"id": "big-1", "display_name": "A" * (MiB - 10), "severity": "low"}


@pytest.fixture
def token(p):
    return make_token(p.sub, user=p.analyst)


def post(client, token, body):
    return client.post("/api/v1/alerts", data=json.dumps(body),
                       content_type="application/json", **token.header)


def truncated(result):
    return {w["field"] for w in result["warnings"] if w["code"] == "truncated"}


def test_it_stores_a_bounded_display_name_and_keeps_the_raw_payload(client, p, token):
    response = post(client, token, BIG)

    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["status"] == "created"
    assert truncated(result) == {"display_name"}
    alert = Alert.objects.get(key="big-1")
    assert alert.display_name == "A" * MAX_DISPLAY_NAME
    assert len(alert.payload.body) > MiB - 10  # nothing is lost
    assert any(w["code"] == "truncated" for w in alert.warnings)


def test_no_list_grows_with_a_one_mebibyte_title(client, p, token, as_user):
    post(client, token, BIG)
    post(client, token, [{"id": f"small-{i}", "display_name": f"Small {i}", "severity": "high"}
                         for i in range(5)])
    alert = Alert.objects.get(key="big-1")
    incident = Incident.objects.get(members__alert=alert)
    browser = as_user(p.analyst)
    clipped = "A" * 199 + "…"

    for url in (f"/s/{p.sub.pk}/queue/", f"/s/{p.sub.pk}/alerts/",
                f"/s/{p.sub.pk}/incidents/{incident.pk}/"):
        response = browser.get(url)
        assert response.status_code == 200
        assert len(response.content) < PAGE_LIMIT, (url, len(response.content))
        body = response.content.decode()
        assert clipped in body, url
        assert "A" * (MAX_DISPLAY_NAME + 1) not in body

    # The alert's own page shows the whole stored title.
    page = browser.get(f"/s/{p.sub.pk}/alerts/{alert.pk}/")
    assert len(page.content) < PAGE_LIMIT
    assert f"<h1>{'A' * MAX_DISPLAY_NAME}</h1>" in page.content.decode()


def test_it_bounds_every_free_text_field_with_a_warning(client, p, token):
    long = "x" * (MiB - 100)
    item = {
        "id": "long-fields", "display_name": "Fine", "severity": "low",
        "description": long, "compromised_entity": long, "alert_uri": long,
        "tactics": ["Execution", "y" * 1000], "techniques": ["T1059", "T" * 1000],
        "remediation_steps": [f"step {i}" for i in range(MAX_ITEMS + 50)] + ["z" * 9000],
        "extended_properties": {"long": long, "k" * 1000: 1,
                                **{f"p{i}": i for i in range(MAX_ITEMS + 5)}},
        "extended_links": [{"href": "https://example.com/" + "a" * 9000, "label": "l" * 900,
                            "category": "c", "type": "t"}],
        "entities": [{"type": "host", "HostName": "h" * 5000, "OSFamily": long}],
    }

    [result] = post(client, token, item).json()["results"]

    assert result["status"] == "created"
    assert truncated(result) >= {
        "description", "compromised_entity", "alert_uri", "tactics[1]", "techniques[1]",
        "remediation_steps", "extended_properties", "extended_properties.long",
        "extended_links[0].href", "extended_links[0].label", "entities[0]"}
    alert = Alert.objects.get(key="long-fields")
    assert len(alert.description) == MAX_DESCRIPTION
    assert len(alert.compromised_entity) == MAX_SHORT_TEXT
    assert len(alert.alert_uri) == MAX_TEXT
    assert max(map(len, alert.tactics)) <= MAX_SHORT_TEXT
    assert max(map(len, alert.techniques)) <= MAX_SHORT_TEXT
    assert len(alert.remediation_steps) == MAX_ITEMS
    assert len(alert.extended_properties) == MAX_ITEMS
    assert all(len(k) <= MAX_SHORT_TEXT and len(str(v)) <= MAX_TEXT
               for k, v in alert.extended_properties.items())
    link = alert.extended_links[0]
    assert (len(link["href"]), len(link["label"])) == (MAX_TEXT, MAX_SHORT_TEXT)
    mention = AlertEntity.objects.get(alert=alert)
    assert len(mention.label) <= 200
    assert all(len(v) <= MAX_TEXT for v in mention.props.values() if isinstance(v, str))
    assert all(len(v) <= MAX_TEXT for v in mention.entity.props.values()
               if isinstance(v, str))


def test_a_field_within_its_length_is_stored_whole_without_a_warning(client, p, token):
    item = {"id": "exact", "display_name": "B" * MAX_DISPLAY_NAME, "severity": "low",
            "description": "d" * MAX_DESCRIPTION}

    [result] = post(client, token, item).json()["results"]

    assert result["warnings"] == []
    alert = Alert.objects.get(key="exact")
    assert (len(alert.display_name), len(alert.description)) == (MAX_DISPLAY_NAME,
                                                                  MAX_DESCRIPTION)
