"""Inputs from the security review: none may answer 500 or sink a batch."""

import base64
import json

import pytest

from alerts.models import Alert, Entity
from inventory.models import Resource
from tests.alerts.helpers import ingest
from tests.conftest import make_token
from tests.factories import native_alert


def post(client, token, items):
    return client.post("/api/v1/alerts", json.dumps(items), content_type="application/json",
                       **token.header)


def arm(name, **props):
    return {"id": f"/subscriptions/s/providers/Microsoft.Security/locations/w/alerts/{name}",
            "name": name, "type": "Microsoft.Security/Locations/alerts",
            "properties": {"alertDisplayName": "x", "severity": "Low", **props}}


def test_an_over_long_id_is_refused_and_its_batch_still_lands(p, client):
    token = make_token(p.sub)
    items = [arm("n" * 641), native_alert(id="innocent")]
    for _ in range(2):  # a redelivery must not poison the batch either
        response = post(client, token, items)
        assert response.status_code == 200
        statuses = [r["status"] for r in response.json()["results"]]
        assert statuses[0] == "rejected"
        assert response.json()["results"][0]["error"]["code"] == "wrong_value"
    assert Alert.objects.filter(key="innocent").exists()


def test_odd_values_are_kept_with_warnings_not_500(p, client):
    token = make_token(p.sub)
    long_id = "/subscriptions/s/resourcegroups/r/providers/x/" + "y" * 1100
    items = [
        native_alert(id="t1", start_time="0001-01-01T00:00:00+05:00"),
        native_alert(id="t2", entities=[{"Type": "url", "Url": "http://[::1/x"}]),
        native_alert(id="t3", entities=[{"Type": "k" * 100, "Name": "x"}]),
        native_alert(id="t4", entities=[
            {"$id": "1", "Type": "host", "HostName": "h" * 6000},
            {"Type": "process", "ProcessId": "1", "CreationTimeUtc": "2026-01-01T00:00:00Z",
             "CommandLine": "powershell -enc " + "A" * 6000, "Host": {"$ref": "1"}}]),
        native_alert(id="t5", resource_id=long_id),
        native_alert(id="t6", resource_id=long_id),
    ]
    response = post(client, token, items)
    assert response.status_code == 200, response.content[:300]
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created"] * 6
    assert "bad_time" in [w["code"] for w in results[0]["warnings"]]
    assert Entity.objects.filter(kind="k" * 64).exists()


def test_too_many_entities_and_giant_keys_are_refused(p, client):
    token = make_token(p.sub)
    many = native_alert(id="many", entities=[{"Type": "ip", "Address": f"10.0.{i // 250}.{i % 250}"}
                                             for i in range(1001)])
    giant = native_alert(id="giant", extended_properties={"k" * 1_100_000: "v"})
    codes = [r["error"]["code"] for r in post(client, token, [many, giant]).json()["results"]]
    assert codes == ["too_many_entities", "field_too_large"]


def test_merging_two_stored_entities_keeps_the_losers_facts(p):
    a = "/subscriptions/s/resourcegroups/r/providers/microsoft.compute/virtualmachines/a"
    ingest(p.sub, native_alert(id="m1", start_time="2024-05-01T00:00:00Z", entities=[
        {"Type": "host", "AzureID": a}]))
    ingest(p.sub, native_alert(id="m2", start_time="2024-01-01T00:00:00Z", entities=[
        {"Type": "host", "OMSAgentID": "oms-1", "OSFamily": "Linux"}]))
    assert Entity.objects.filter(kind="host").count() == 2
    ingest(p.sub, native_alert(id="m3", start_time="2024-06-01T00:00:00Z", entities=[
        {"Type": "host", "AzureID": a, "OMSAgentID": "oms-1"}]))
    host = Entity.objects.get(kind="host")
    assert host.props.get("OSFamily") == "Linux"
    assert host.first_seen.year == 2024 and host.first_seen.month == 1


def test_an_alert_naming_several_hosts_teaches_none_of_the_others(p):
    ingest(p.sub, native_alert(id="lateral", compromised_entity="web-x", entities=[
        {"Type": "host", "HostName": "web-x"}, {"Type": "host", "HostName": "db-x"}]))
    report = ingest(p.sub, native_alert(id="sqli", compromised_entity="db-x", entities=[]))
    assert Alert.objects.get(pk=report.results[0].id).resource.name == "db-x"
    assert Resource.objects.filter(subscription=p.sub).count() == 2


@pytest.mark.parametrize("values", [[0, [1], 1], [0, {"a": 1}, 1], [0, 5, 1], [True, "x", 1],
                                    [0, "0001-01-01T00:00:00+05:00", 1]])
def test_crafted_cursors_are_400(p, client, as_user, values):
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    token = make_token(p.sub)
    assert client.get(f"/api/v1/alerts?cursor={cursor}", **token.header).status_code == 400
    assert as_user(p.analyst).get(f"/s/{p.sub.pk}/alerts/?cursor={cursor}").status_code == 400


def test_odd_tokens_and_ids_are_refused_cleanly(p, client, as_user):
    assert client.get("/api/v1/subscriptions",
                      HTTP_AUTHORIZATION="Bearer soc_aaaaaaaaaaa\x00_x").status_code == 401
    admin = as_user(p.admin)
    assert admin.post(f"/s/{p.sub.pk}/settings/members/99999999999999999999999/remove/")\
        .status_code == 404


def test_an_admin_cannot_mint_a_token_for_another_member(p, as_user):
    from inventory.models import ApiToken

    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/tokens/",
                                     {"name": "as analyst", "scopes": ["act"],
                                      "user": p.analyst.pk})
    assert response.status_code == 400
    assert not ApiToken.objects.filter(name="as analyst").exists()


def test_a_time_filter_at_the_calendars_edge_is_400(p, client):
    token = make_token(p.sub)
    response = client.get("/api/v1/alerts?since=0001-01-01T00:00:00%2B05:00", **token.header)
    assert response.status_code == 400


def test_a_database_refusal_refuses_only_the_culprit(p, monkeypatch):
    """If the database refuses a batch, it is stored again item by item."""
    from django.db import IntegrityError

    import alerts.ingest.store as store

    real = store._store_alerts

    def picky(subscription, items, now):
        if any(n.key == "poison" for _, n in items):
            raise IntegrityError("refused")
        return real(subscription, items, now)

    monkeypatch.setattr(store, "_store_alerts", picky)
    report = ingest(p.sub, [native_alert(id="good-1"), native_alert(id="poison"),
                            native_alert(id="good-2")])
    assert [r.status for r in report.results] == ["created", "rejected", "created"]
    assert report.results[1].error["code"] == "storage_error"
    assert Alert.objects.filter(key__in=["good-1", "good-2"]).count() == 2
