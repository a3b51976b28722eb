"""GET /api/v1/activity: the page's filters and keyset, for tokens with the read scope."""

import pytest

from inventory.roles import Scope
from tests.conftest import make_token


def test_the_api_filters_and_pages(p, client, log):
    token = make_token(p.sub, scopes=[Scope.READ])
    response = client.get("/api/v1/activity", {"verb": "alert.", "limit": 1}, **token.header)
    assert response.status_code == 200
    body = response.json()
    assert [i["verb"] for i in body["items"]] == ["alert.resolve"]
    assert body["items"][0]["time"] == "2026-11-28T11:00:00Z"
    second = client.get("/api/v1/activity", {"verb": "alert.", "limit": 1,
                                             "cursor": body["next_cursor"]}, **token.header)
    assert [i["actor"] for i in second.json()["items"]] == ["alice"]
    assert second.json()["next_cursor"] is None
    response = client.get("/api/v1/activity", {"actor": "retention",
                                               "since": "2026-11-30"}, **token.header)
    item = response.json()["items"][0]
    assert item["actor_kind"] == "system" and item["target_type"] == "workspace"
    other = client.get("/api/v1/activity", {"actor": "alice"}, **token.header).json()
    assert "Fabrikam's secret alert" not in {i["target_label"] for i in other["items"]}


@pytest.mark.parametrize(("params", "field"), [
    ({"verb": "Not A Verb"}, "verb"),
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-11-29", "until": "2026-11-28"}, "until"),
    ({"cursor": "garbage"}, "cursor"),
    ({"limit": 0}, "limit"),
])
def test_the_api_refuses_bad_filters(p, client, log, params, field):
    token = make_token(p.sub, scopes=[Scope.READ])
    response = client.get("/api/v1/activity", params, **token.header)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_the_api_needs_the_read_scope(p, client, log):
    token = make_token(p.sub, scopes=[Scope.INGEST])
    assert client.get("/api/v1/activity", **token.header).status_code == 403


def test_the_api_changes_no_entry(p, client, log):
    token = make_token(p.sub, scopes=list(Scope), user=p.admin)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/api/v1/activity", **token.header)
        assert response.status_code == 405
