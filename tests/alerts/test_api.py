"""POST/GET /api/v1/alerts and GET /api/v1/alerts/{id}, through the HTTP test client."""

import base64
import json
from datetime import UTC, datetime

import pytest
from django.test import override_settings

from alerts.models import Alert, AlertEntity, RejectedItem
from inventory.models import Activity
from inventory.roles import Scope
from tests.alerts.helpers import JSON, NDJSON, VM1, arm_example, ingest, native, ndjson
from tests.conftest import make_token

URL = "/api/v1/alerts"
RESULT_KEYS = {"index", "status", "type", "id", "error", "warnings"}


@pytest.fixture
def token(p):
    return make_token(p.sub, user=p.analyst)


def post(client, token, body, content_type=JSON, query=""):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL + query, data=data, content_type=content_type, **token.header)


def codes(result):
    return [w["code"] for w in result["warnings"]]


def nothing_stored():
    return (Alert.objects.count(), RejectedItem.objects.count(),
            Activity.objects.filter(verb="alerts.ingest").count()) == (0, 0, 0)


# -- ingest: shapes -----------------------------------------------------------------------------

def test_it_ingests_one_alert(client, p, token):
    response = post(client, token, native("one", severity="Medium"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accepted", "duplicates", "rejected", "results"}
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 0, 0)
    [result] = body["results"]
    assert set(result) == RESULT_KEYS
    alert = Alert.objects.get(subscription=p.sub)
    assert result == {"index": 0, "status": "created", "type": "alert", "id": alert.pk,
                      "error": None, "warnings": []}
    assert (alert.key, alert.severity_word, alert.format) == ("one", "medium", "native")


def test_it_ingests_a_json_array(client, p, token):
    response = post(client, token, [native("arr-1"), native("arr-2"), native("arr-1")])

    body = response.json()
    assert response.status_code == 200
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 0)
    assert [(r["index"], r["status"]) for r in body["results"]] == \
        [(0, "created"), (1, "created"), (2, "duplicate")]
    assert body["results"][2]["id"] == body["results"][0]["id"]
    assert set(Alert.objects.filter(subscription=p.sub).values_list("key", flat=True)) == \
        {"arr-1", "arr-2"}


def test_it_ingests_an_arm_list(client, p, token):
    values = arm_example()["responses"]["200"]["body"]["value"]

    response = post(client, token, {"value": values, "nextLink": None})

    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 0)
    assert [codes(r) for r in body["results"]] == [["incident_without_alerts"]] * 2
    assert sorted(Alert.objects.values_list("key", flat=True)) == sorted(v["name"]
                                                                          for v in values)


def test_it_ingests_ndjson_and_rejects_only_the_bad_line(client, p, token):
    body = ndjson([native("nd-1")]) + b'{"id": "nd-2", "display_name": \n' + \
        ndjson([native("nd-3")])

    response = post(client, token, body, NDJSON)

    result = response.json()
    assert response.status_code == 200
    assert [r["status"] for r in result["results"]] == ["created", "rejected", "created"]
    assert result["results"][1]["error"]["code"] == "invalid_json"
    assert (result["accepted"], result["rejected"]) == (2, 1)
    assert set(Alert.objects.values_list("key", flat=True)) == {"nd-1", "nd-3"}
    assert bytes(RejectedItem.objects.get().body) == b'{"id": "nd-2", "display_name":'


def test_it_rejects_an_item_that_does_not_fit_a_forced_format(client, p, token):
    arm = arm_example()["responses"]["200"]["body"]["value"][0]

    response = post(client, token, [arm, native("forced")], query="?format=arm")

    results = response.json()["results"]
    assert response.status_code == 200
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert results[1]["error"]["code"] == "wrong_format"
    assert list(Alert.objects.values_list("key", flat=True)) == [arm["name"]]
    assert RejectedItem.objects.get().format == "arm"


def test_it_refuses_an_unknown_format_parameter(client, p, token):
    response = post(client, token, native("x"), query="?format=xml")

    assert response.status_code == 400
    assert "error" in response.json()
    assert nothing_stored()


# -- ingest: refusals of the whole request ------------------------------------------------------

@pytest.mark.parametrize("body", [b'{"id": "a", ', b"not json at all", b"   ", b"42",
                                  b'[{"id": "a"}] trailing', b"\xff\xfe{}"])
def test_it_answers_400_for_an_unparseable_body_and_stores_nothing(client, p, token, body):
    response = post(client, token, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_body"
    assert error["message"]
    assert nothing_stored()


def test_it_answers_401_without_a_token(client, p):
    response = client.post(URL, data=json.dumps(native("x")), content_type=JSON)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert nothing_stored()


@pytest.mark.parametrize("header", ["Bearer soc_000000000000_wrong", "Bearer nonsense",
                                    "Basic dXNlcjpwYXNz"])
def test_it_answers_401_for_a_bad_token(client, p, header):
    response = client.post(URL, data=json.dumps(native("x")), content_type=JSON,
                           HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert nothing_stored()


def test_it_answers_401_for_a_revoked_or_tampered_token(client, p, token):
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.post(URL, data=json.dumps(native("x")), content_type=JSON,
                           HTTP_AUTHORIZATION=f"Bearer {tampered}")

    assert response.status_code == 401
    assert nothing_stored()


def test_it_answers_403_for_a_token_without_the_ingest_scope(client, p):
    for reader in (make_token(p.sub, user=p.analyst, scopes=(Scope.READ,), name="reader"),
                   make_token(p.sub, scopes=(Scope.READ,), name="service reader")):
        response = post(client, reader, native("x"))

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert nothing_stored()


@override_settings(INGEST_MAX_BYTES=2048)
def test_it_answers_413_for_a_body_over_the_limit_and_stores_nothing(client, p, token):
    body = json.dumps([native(f"big-{i}", description="x" * 300) for i in range(8)]).encode()
    assert len(body) > 2048

    response = post(client, token, body)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert nothing_stored()
    small = post(client, token, native("small"))
    assert small.status_code == 200


# -- ingest: per-item rejections ----------------------------------------------------------------

ASSESSMENT = {"id": "/subscriptions/x/providers/Microsoft.Security/assessments/y", "name": "y",
              "type": "Microsoft.Security/assessments",
              "properties": {"status": {"code": "Unhealthy"}, "resourceDetails": {}}}
SECURE_SCORE = {"id": "/subscriptions/x/providers/Microsoft.Security/secureScores/ascScore",
                "name": "ascScore", "type": "Microsoft.Security/secureScores",
                "properties": {"displayName": "ASC score", "weight": 100,
                               "score": {"max": 58, "current": 30.5, "percentage": 0.5259}}}


def test_it_rejects_each_bad_item_with_its_code(client, p, token):
    items = [
        ASSESSMENT,
        SECURE_SCORE,
        {"display_name": "No id", "severity": "high"},
        {"id": "no-name", "severity": "high"},
        {"id": "bad-sev", "display_name": "Bad severity", "severity": "critical"},
        {"id": "bad-type", "display_name": "Wrong type", "severity": "high", "start_time": 5},
        "a string, not an object",
        {"id": "huge", "display_name": "Huge", "severity": "high",
         "description": "x" * (1024 * 1024 + 1)},
        native("fine"),
    ]

    response = post(client, token, items)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["status"], r["error"] and r["error"]["code"]) for r in results] == [
        ("rejected", "not_an_alert"), ("rejected", "not_an_alert"),
        ("rejected", "missing_id"), ("rejected", "missing_display_name"),
        ("rejected", "unknown_severity"), ("rejected", "wrong_type"),
        ("rejected", "wrong_type"), ("rejected", "field_too_large"), ("created", None)]
    assert results[5]["error"]["field"] == "start_time"
    assert results[7]["error"]["field"] == "description"
    assert all(r["id"] is None for r in results[:8])
    assert list(Alert.objects.values_list("key", flat=True)) == ["fine"]
    assert sorted(RejectedItem.objects.values_list("index", flat=True)) == list(range(8))


@pytest.mark.parametrize("number", [b"1e400", b"-1E+999", b"1" + b"0" * 400 + b".5"])
def test_it_rejects_a_number_no_double_holds_as_the_items_fault(client, p, token, number):
    # JSON allows 1e400; Python reads it as infinity, which no JSON column stores: it was
    # refused by the database as `storage_error`, as though the console were at fault.
    body = (b'[{"id": "inf", "display_name": "Inf", "severity": "low", '
            b'"extended_properties": {"score": ' + number + b'}}, '
            b'{"id": "inf-entity", "display_name": "Inf", "severity": "low", '
            b'"entities": [{"type": "host", "HostName": "vm1", "Risk": [' + number + b']}]}, '
            b'{"id": "fine", "display_name": "Fine", "severity": "low", "x": 1e300}]')

    response = post(client, token, body)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "created"]
    assert results[0]["error"]["code"] == results[1]["error"]["code"] == "invalid_value"
    assert results[0]["error"]["field"] == "extended_properties.score"
    assert results[1]["error"]["field"] == "entities[0].Risk[0]"
    assert "out of range" in results[0]["error"]["message"]
    assert sorted(RejectedItem.objects.values_list("code", flat=True)) == ["invalid_value"] * 2


def deep(levels):
    value = "bottom"
    for _ in range(levels):
        value = {"nested": value}
    return value


def test_it_rejects_an_item_nested_deeper_than_64_levels(client, p, token):
    body = ndjson([native("shallow"),
                   native("deep", extended_properties={"x": deep(70)}),
                   native("shallow-2")])

    response = post(client, token, body, NDJSON)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "created"]
    assert results[1]["error"]["code"] == "too_deep"
    assert RejectedItem.objects.get().code == "too_deep"


def test_it_never_answers_500_for_deep_nesting_in_a_json_body(client, p, token):
    for levels in (62, 63, 64, 70, 5000):
        nested = '{"n": ' * levels + '"bottom"' + "}" * levels
        body = (f'[{{"id": "deep-{levels}", "display_name": "Deep", "severity": "high", '
                f'"extended_properties": {{"x": {nested}}}}}]').encode()

        response = post(client, token, body)

        assert response.status_code in (200, 400), levels
        result = response.json()
        if response.status_code == 400:
            assert result["error"]["code"] == "bad_body", levels
        else:
            assert result["results"][0]["status"] in ("created", "rejected"), levels


def test_it_accepts_a_batch_of_500_alerts(client, p, token):
    alerts = []
    for i in range(500):
        alerts.append(native(f"bulk-{i}", [
            {"$id": "1", "Type": "host", "HostName": f"vm-{i % 40}", "NTDomain": "CORP"},
            {"$id": "2", "Type": "account", "Name": f"user{i % 25}", "NTDomain": "CORP"},
            {"$id": "3", "Type": "ip", "Address": f"10.0.{i // 200}.{i % 200}"},
            {"$id": "4", "Type": "file", "Name": "tool.exe", "Directory": "C:\\Tools"},
            {"$id": "5", "Type": "process", "ProcessId": str(1000 + i),
             "CommandLine": f"tool.exe --run {i}", "CreationTimeUtc": "2026-11-27T10:00:00Z",
             "Host": {"$ref": "1"}, "Account": {"$ref": "2"}, "ImageFile": {"$ref": "4"}},
            {"$id": "6", "Type": "filehash", "Algorithm": "SHA256", "Value": f"{i:064x}"},
        ]))

    response = post(client, token, alerts)

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (500, 0, 0)
    assert len({r["id"] for r in body["results"]}) == 500
    assert Alert.objects.filter(subscription=p.sub).count() == 500
    assert AlertEntity.objects.filter(alert__subscription=p.sub).count() == 3000


# -- ingest: warnings ---------------------------------------------------------------------------

def test_it_accepts_odd_items_with_warnings(client, p, token):
    cases = [
        ("dangling_reference", native("w-dangling", [
            {"$id": "1", "Type": "process", "ProcessId": "1", "ParentProcess": {"$ref": "99"}}])),
        ("forward_reference", native("w-forward", [
            {"$id": "1", "Type": "process", "ProcessId": "1", "Host": {"$ref": "2"}},
            {"$id": "2", "Type": "host", "HostName": "later"}])),
        ("self_reference", native("w-self", [
            {"$id": "1", "Type": "process", "ProcessId": "1", "ParentProcess": {"$ref": "1"}}])),
        ("reference_cycle", native("w-cycle", [
            {"$id": "1", "Type": "process", "ProcessId": "1", "ParentProcess": {"$ref": "2"}},
            {"$id": "2", "Type": "process", "ProcessId": "2", "ParentProcess": {"$ref": "1"}}])),
        ("duplicate_id", native("w-dup", [
            {"$id": "1", "Type": "host", "HostName": "a"},
            {"$id": "1", "Type": "ip", "Address": "10.0.0.1"}])),
        ("unknown_entity_type", native("w-unknown", [
            {"$id": "1", "Type": "container", "Name": "c1", "Image": "nginx"}])),
        ("unknown_key", native("w-key", colour="red")),
        ("nul_byte", native("w-nul", display_name="Has a \u0000 NUL")),
    ]

    response = post(client, token, [alert for _, alert in cases])

    assert response.status_code == 200
    results = response.json()["results"]
    for (code, alert), result in zip(cases, results, strict=True):
        assert result["status"] == "created", alert["id"]
        assert code in codes(result), (alert["id"], codes(result))
        stored = Alert.objects.get(pk=result["id"])
        assert code in [w["code"] for w in stored.warnings]
    assert Alert.objects.get(key="w-nul").display_name == "Has a  NUL"
    assert [w["field"] for w in results[5]["warnings"]] == ["entities"]
    assert [w["field"] for w in results[6]["warnings"]] == ["colour"]


# -- GET /alerts --------------------------------------------------------------------------------

def at(day, hour=0):
    return datetime(2026, 11, day, hour, tzinfo=UTC).isoformat()


def seed_ranked(p):
    """Alerts of several severities and times; returns their ids by key."""
    specs = [("h1", "high", at(1)), ("h2", "high", at(2)), ("h3", "high", at(2)),
             ("m1", "medium", at(3)), ("l1", "low", at(4)), ("i1", "informational", at(5)),
             ("m2", "medium", at(1)), ("h4", "high", at(3))]
    report = ingest(p.sub, [native(k, severity=s.capitalize(), start_time=t)
                            for k, s, t in specs])
    return {k: r.id for (k, _, _), r in zip(specs, report.results, strict=True)}


def keys(response):
    assert response.status_code == 200, response.content
    return [item["key"] for item in response.json()["items"]]


def test_it_lists_alerts_ranked_by_severity_then_time(client, p, token):
    seed_ranked(p)

    response = client.get(URL, **token.header)

    assert keys(response) == ["h4", "h3", "h2", "h1", "m1", "m2", "l1", "i1"]
    first = response.json()["items"][0]
    assert first["severity"] == "high"
    assert first["time"].startswith("2026-11-03T00:00:00")
    assert response.json()["next_cursor"] is None


def test_it_filters_the_list_by_severity(client, p, token):
    seed_ranked(p)

    assert keys(client.get(URL, {"severity": "medium"}, **token.header)) == ["m1", "m2"]
    assert keys(client.get(URL, {"severity": ["low", "informational"]}, **token.header)) == \
        ["l1", "i1"]
    assert client.get(URL, {"severity": "critical"}, **token.header).status_code == 400


def test_it_filters_the_list_by_status(client, p, token):
    ingest(p.sub, [native("active-1"), native("dismissed-1", status="dismissed"),
                   native("resolved-1", status="resolved")])

    assert keys(client.get(URL, {"status": "dismissed"}, **token.header)) == ["dismissed-1"]
    assert sorted(keys(client.get(URL, {"status": ["active", "resolved"]}, **token.header))) \
        == ["active-1", "resolved-1"]
    assert client.get(URL, {"status": "open"}, **token.header).status_code == 400


def test_it_filters_the_list_by_resource(client, p, token):
    report = ingest(p.sub, [native("on-vm1", resource_id=VM1),
                            native("on-vm2", resource_id=VM1[:-1] + "2"),
                            native("on-vm1-again", resource_id=VM1, start_time=at(28))])
    vm1 = Alert.objects.get(pk=report.results[0].id).resource_id

    response = client.get(URL, {"resource": vm1}, **token.header)

    assert keys(response) == ["on-vm1-again", "on-vm1"]
    assert {item["resource"]["id"] for item in response.json()["items"]} == {vm1}


def test_it_filters_the_list_by_time(client, p, token):
    seed_ranked(p)

    assert keys(client.get(URL, {"since": at(3)}, **token.header)) == ["h4", "m1", "l1", "i1"]
    assert keys(client.get(URL, {"until": at(2)}, **token.header)) == ["h1", "m2"]
    assert keys(client.get(URL, {"since": at(2), "until": at(4)}, **token.header)) == \
        ["h4", "h3", "h2", "m1"]


def test_it_walks_every_page_without_duplicates_or_misses(client, p, token):
    specs = []
    for i in range(23):
        severity = ("High", "Medium", "Low", "Informational")[i % 4]
        specs.append(native(f"page-{i:02}", severity=severity, start_time=at(1 + i % 3)))
    ingest(p.sub, specs)
    everything = keys(client.get(URL, {"limit": 500}, **token.header))
    assert len(everything) == 23

    for size in (1, 4, 5, 22, 23):
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": size} | ({"cursor": cursor} if cursor else {})
            response = client.get(URL, params, **token.header)
            page = keys(response)
            assert len(page) <= size
            seen += page
            pages += 1
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == everything, size
        assert pages == -(-23 // size), size


def _cursor(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "garbage!!", "%%%", _cursor([1, 2]), _cursor({"a": 1}), _cursor(["x", "y", "z"]),
    _cursor([0, "not a time", 1]), _cursor([0, "2026-11-01T00:00:00+00:00", "abc"]),
    _cursor([None, None, None]), _cursor("just a string")])
def test_it_answers_400_for_a_garbage_cursor(client, p, token, cursor):
    seed_ranked(p)

    response = client.get(URL, {"cursor": cursor}, **token.header)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_cursor"


def test_it_bounds_the_page_size(client, p, token):
    seed_ranked(p)

    for limit in (0, -1, 501, "many"):
        response = client.get(URL, {"limit": limit}, **token.header)
        assert response.status_code == 400, limit
        assert "error" in response.json()
    assert len(keys(client.get(URL, {"limit": 1}, **token.header))) == 1
    assert len(keys(client.get(URL, {"limit": 500}, **token.header))) == 8


def test_it_lists_only_the_tokens_subscription(client, p, token):
    seed_ranked(p)
    ingest(p.other, native("theirs"))

    assert "theirs" not in keys(client.get(URL, {"limit": 500}, **token.header))
    other = make_token(p.other, user=p.outsider)
    assert keys(client.get(URL, **other.header)) == ["theirs"]


# -- GET /alerts/{id} ---------------------------------------------------------------------------

def test_it_shows_an_alert_with_entities_relations_warnings_and_raw(client, p, token):
    entities = [
        {"$id": "1", "Type": "host", "HostName": "web-7", "NTDomain": "CORP", "OSFamily": "Linux"},
        {"$id": "2", "Type": "process", "ProcessId": "0x10", "CommandLine": "curl evil",
         "CreationTimeUtc": "2026-11-27T10:00:00Z", "Host": {"$ref": "1"},
         "ParentProcess": {"$ref": "9"}},
    ]
    body = ('{"id": "detail-1",  "display_name": "D\u00e9tail",\n "severity": "low", '
            '"entities": ' + json.dumps(entities) + "}").encode()
    ingest(p.sub, native("earlier", [{"$id": "1", "Type": "host", "HostName": "WEB-7",
                                      "NTDomain": "corp", "AzureID": VM1}]))
    created = post(client, token, body).json()["results"][0]

    response = client.get(f"{URL}/{created['id']}", **token.header)

    assert response.status_code == 200
    alert = response.json()
    assert (alert["id"], alert["key"], alert["display_name"]) == \
        (created["id"], "detail-1", "D\u00e9tail")
    assert alert["raw"] == body.decode("utf-8")
    assert [w["code"] for w in alert["warnings"]] == ["dangling_reference"]
    assert [(e["position"], e["kind"], e["props"]) for e in alert["entities"]] == \
        [(0, "host", entities[0]), (1, "process", entities[1])]
    host = alert["entities"][0]
    assert host["matched_by"] == "strong"
    merged = AlertEntity.objects.get(alert__key="earlier").entity
    assert host["entity"]["id"] == merged.pk
    assert host["entity"]["kind"] == "host"
    assert host["entity"]["props"]["AzureID"] == VM1
    assert host["entity"]["props"]["OSFamily"] == "Linux"
    assert "AzureID" not in host["props"]
    assert sorted((r["type"], r["prop"], r["source"], r["target"], r["target_ref"],
                   r["in_cycle"]) for r in alert["relations"]) == [
        ("parent", "ParentProcess", 1, None, "9", False),
        ("runs_on", "Host", 1, 0, "1", False)]


def test_it_answers_404_for_an_alert_of_another_subscription(client, p, token):
    theirs = ingest(p.other, native("theirs")).results[0].id
    mine = ingest(p.sub, native("mine")).results[0].id

    response = client.get(f"{URL}/{theirs}", **token.header)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get(f"{URL}/{mine}", **token.header).status_code == 200
    assert client.get(f"{URL}/{theirs + mine + 1000}", **token.header).status_code == 404
    other = make_token(p.other, user=p.outsider)
    assert client.get(f"{URL}/{mine}", **other.header).status_code == 404


def test_it_lets_a_service_token_ingest_and_read(client, p):
    service = make_token(p.sub, name="collector")
    assert service.token.user is None

    created = post(client, service, native("svc-1")).json()
    alert_id = created["results"][0]["id"]

    assert created["accepted"] == 1
    assert keys(client.get(URL, **service.header)) == ["svc-1"]
    assert client.get(f"{URL}/{alert_id}", **service.header).json()["key"] == "svc-1"
    activity = Activity.objects.get(verb="alerts.ingest")
    assert (activity.actor_kind, activity.actor_token_id) == ("token", service.token.pk)
    assert RejectedItem.objects.count() == 0
