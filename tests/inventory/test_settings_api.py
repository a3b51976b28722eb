"""GET /api/v1/subscriptions, GET/PATCH /api/v1/subscriptions/{id}/settings, and the plan's
effect on POST /api/v1/alerts."""

import json

from alerts.models import Alert, RejectedItem
from inventory.models import Activity, Subscription
from inventory.roles import Scope
from tests.alerts.helpers import export_alert, native
from tests.conftest import make_token


def url(sub):
    return f"/api/v1/subscriptions/{sub.pk}/settings"


def patch(client, token, sub, body):
    return client.patch(url(sub), json.dumps(body), content_type="application/json",
                        **token.header)


def admin_token(p):
    return make_token(p.sub, user=p.admin, scopes=[Scope.ADMIN, Scope.INGEST, Scope.READ])


def test_the_list_shows_both_settings(p, client):
    items = client.get("/api/v1/subscriptions", **make_token(p.sub).header).json()["items"]
    assert (items[0]["defender_plan"], items[0]["auto_provisioning"]) == ("on", "on")
    # An admin-only token sees the subscription it administers.
    token = make_token(p.sub, user=p.admin, scopes=[Scope.ADMIN])
    assert client.get("/api/v1/subscriptions", **token.header).json()["items"][0]["id"] == \
        p.sub.pk


def test_it_turns_the_plan_off_and_ingestion_refuses_then_accepts(p, client):
    token = admin_token(p)
    response = patch(client, token, p.sub, {"defender_plan": "off", "reason": "trial over"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["defender_plan"], body["changed"]) == ("off", ["defender_plan"])
    assert body["defender_plan_changed_by"] == "token test token (admin)"
    assert body["defender_plan_off_periods"][0]["on_at"] is None
    row = Activity.objects.get(verb="subscription.defender_plan")
    assert (row.actor_kind, row.reason, row.after) == ("token", "trial over",
                                                      {"defender_plan": "off"})

    sent = client.post("/api/v1/alerts", json.dumps([export_alert(), native("siem-1")]),
                       content_type="application/json", **token.header).json()
    assert [r["status"] for r in sent["results"]] == ["rejected", "created"]
    assert sent["results"][0]["error"]["code"] == "defender_plan_off"
    assert RejectedItem.objects.get().code == "defender_plan_off"

    assert patch(client, token, p.sub, {"defender_plan": "on", "reason": "renewed"})\
        .json()["changed"] == ["defender_plan"]
    again = client.post("/api/v1/alerts", json.dumps([export_alert()]),
                        content_type="application/json", **token.header).json()
    assert again["results"][0]["status"] == "created"
    settings = client.get(url(p.sub), **token.header).json()
    assert settings["defender_plan"] == "on"
    assert settings["defender_plan_off_periods"][0]["reason_on"] == "renewed"


def test_a_patch_is_idempotent(p, client):
    token = admin_token(p)
    patch(client, token, p.sub, {"defender_plan": "off", "reason": "x"})
    response = patch(client, token, p.sub, {"defender_plan": "off", "reason": "x"})
    assert (response.status_code, response.json()["changed"]) == (200, [])
    assert Activity.objects.filter(verb="subscription.defender_plan").count() == 1


def test_a_patch_validates(p, client):
    token = admin_token(p)
    for body, field in [({"defender_plan": "maybe", "reason": "x"}, "defender_plan"),
                        ({"defender_plan": "off"}, "reason"),
                        ({"defender_plan": "off", "reason": "   "}, "reason"),
                        ({"defender_plan": "off", "reason": "x", "defender": "off"},
                         "defender"),
                        ({"defender_plan": True, "reason": "x"}, "defender_plan")]:
        response = patch(client, token, p.sub, body)
        assert response.status_code == 400, body
        assert response.json()["error"]["field"] == field, body
    assert Subscription.objects.get(pk=p.sub.pk).defender_plan is True


def test_analysts_shift_leads_and_tokens_without_admin_get_403(p, client):
    tokens = [make_token(p.sub, user=p.analyst, scopes=list(Scope)),
              make_token(p.sub, user=p.lead, scopes=list(Scope)),
              make_token(p.sub, user=p.admin, scopes=[Scope.READ, Scope.ACT]),
              make_token(p.sub)]
    for token in tokens:
        assert client.get(url(p.sub), **token.header).status_code == 403
        assert patch(client, token, p.sub, {"defender_plan": "off", "reason": "x"})\
            .status_code == 403
    assert Subscription.objects.get(pk=p.sub.pk).defender_plan is True


def test_another_subscription_is_404(p, client):
    token = admin_token(p)
    for sub in (p.other, Subscription(pk=10**12)):
        assert client.get(url(sub), **token.header).status_code == 404
        assert patch(client, token, sub, {"defender_plan": "off", "reason": "x"})\
            .status_code == 404
    assert Subscription.objects.get(pk=p.other.pk).defender_plan is True


def test_the_alerts_refused_with_the_plan_off_are_not_stored(p, client):
    token = admin_token(p)
    patch(client, token, p.sub, {"defender_plan": "off", "reason": "x"})
    client.post("/api/v1/alerts", json.dumps(export_alert()), content_type="application/json",
                **token.header)
    assert not Alert.objects.exists()


def test_it_turns_automatic_provisioning_off_and_on(p, client):
    token = admin_token(p)
    response = patch(client, token, p.sub, {"auto_provisioning": "off", "reason": "by hand"})
    assert response.status_code == 200, response.content
    assert (response.json()["auto_provisioning"], response.json()["changed"]) == \
        ("off", ["auto_provisioning"])
    p.sub.refresh_from_db()
    assert not p.sub.auto_provisioning
    assert Activity.objects.get(verb="subscription.auto_provisioning").reason == "by hand"
    both = patch(client, token, p.sub, {"auto_provisioning": "on", "defender_plan": "off",
                                        "reason": "both at once"})
    assert sorted(both.json()["changed"]) == ["auto_provisioning", "defender_plan"]
    analyst = make_token(p.sub, user=p.analyst, scopes=[Scope.ADMIN])
    assert patch(client, analyst, p.sub, {"auto_provisioning": "off",
                                          "reason": "x"}).status_code == 403
