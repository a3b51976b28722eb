"""GET /api/v1/resources and PATCH /api/v1/resources/{id}."""

import json

import pytest

from inventory.models import Activity, Resource
from inventory.roles import Scope
from tests.conftest import make_token


@pytest.fixture
def admin_token(p):
    return make_token(p.sub, user=p.admin, scopes=(Scope.READ, Scope.ADMIN))


def patch(client, token, pk, body):
    return client.patch(f"/api/v1/resources/{pk}", data=json.dumps(body),
                        content_type="application/json", **token.header)


def test_it_lists_resources_with_their_collection_state_by_keyset(client, p):
    Resource.objects.bulk_create(
        [Resource(subscription=p.sub, name=f"vm-{i:02}", kind="virtual_machine",
                  collecting=i % 2 == 0) for i in range(5)])
    Resource.objects.create(subscription=p.other, name="theirs")
    token = make_token(p.sub, user=p.analyst, scopes=(Scope.READ,))
    answer = client.get("/api/v1/resources", {"limit": 2}, **token.header).json()
    assert [r["name"] for r in answer["items"]] == ["vm-00", "vm-01"]
    item = answer["items"][1]
    assert (item["collecting"], item["collection_by"], item["kind"]) == (
        False, "automatic", "virtual_machine")
    assert item["collecting_since"].endswith("Z") or "+00:00" in item["collecting_since"]
    names = [r["name"] for r in answer["items"]]
    while answer["next_cursor"]:
        answer = client.get("/api/v1/resources", {"limit": 2, "cursor": answer["next_cursor"]},
                            **token.header).json()
        names += [r["name"] for r in answer["items"]]
    assert names == [f"vm-{i:02}" for i in range(5)]
    off = client.get("/api/v1/resources", {"collecting": "false"}, **token.header).json()
    assert [r["name"] for r in off["items"]] == ["vm-01", "vm-03"]


@pytest.mark.parametrize("params", [{"cursor": "garbage"}, {"kind": "toaster"},
                                    {"limit": 0}, {"collecting": "maybe"}])
def test_bad_filters_are_400(client, p, params):
    token = make_token(p.sub, user=p.analyst, scopes=(Scope.READ,))
    response = client.get("/api/v1/resources", params, **token.header)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "field"}


def test_listing_needs_read(client, p):
    token = make_token(p.sub, scopes=(Scope.INGEST,))
    assert client.get("/api/v1/resources", **token.header).status_code == 403


def test_an_admin_token_turns_collection_off_with_a_reason(client, p, admin_token):
    vm = Resource.objects.create(subscription=p.sub, name="vm")
    response = patch(client, admin_token, vm.pk, {"collecting": False,
                                                  "reason": "Decommissioned"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["collecting"], body["collection_by"], body["changed_by"]) == (
        False, "by_hand", "admin")
    vm.refresh_from_db()
    assert vm.collecting is False
    row = Activity.objects.get(verb="resource.collection")
    assert row.actor_token == admin_token.token and row.reason == "Decommissioned"
    # Again: nothing changes, nothing more is written.
    assert patch(client, admin_token, vm.pk, {"collecting": False, "reason": "x"}).json()[
        "collecting"] is False
    assert Activity.objects.filter(verb="resource.collection").count() == 1


@pytest.mark.parametrize("body", [{"collecting": False}, {"collecting": False, "reason": " "},
                                  {"collecting": "no", "reason": "x"},
                                  {"reason": "x"}, {"collecting": False, "reason": "x" * 501}])
def test_a_bad_body_is_400(client, p, admin_token, body):
    vm = Resource.objects.create(subscription=p.sub, name="vm")
    response = patch(client, admin_token, vm.pk, body)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "field"}
    vm.refresh_from_db()
    assert vm.collecting is True


def test_only_an_admin_may_patch(client, p):
    vm = Resource.objects.create(subscription=p.sub, name="vm")
    body = {"collecting": False, "reason": "x"}
    lead_token = make_token(p.sub, user=p.lead, scopes=(Scope.READ, Scope.ACT, Scope.ADMIN))
    assert patch(client, lead_token, vm.pk, body).status_code == 403
    read_only = make_token(p.sub, user=p.admin, scopes=(Scope.READ,))
    assert patch(client, read_only, vm.pk, body).status_code == 403
    service = make_token(p.sub, scopes=(Scope.INGEST, Scope.READ))
    assert patch(client, service, vm.pk, body).status_code == 403
    vm.refresh_from_db()
    assert vm.collecting is True


def test_another_subscriptions_resource_is_404(client, p, admin_token):
    theirs = Resource.objects.create(subscription=p.other, name="theirs")
    response = patch(client, admin_token, theirs.pk, {"collecting": False, "reason": "x"})
    assert response.status_code == 404
    assert patch(client, admin_token, 0, {"collecting": False, "reason": "x"}).status_code in (
        400, 404)
