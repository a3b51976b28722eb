"""Times in API filters are ISO 8601 only, as documented: pydantic's Unix times are refused."""

import pytest

from inventory.roles import Scope
from tests.conftest import make_token


@pytest.mark.parametrize("url", ["/api/v1/alerts", "/api/v1/incidents"])
@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", ["0.5", "1700000000", "20261128", "-1", "yesterday", ""])
def test_it_refuses_a_time_that_is_not_iso_8601(p, client, url, name, value):
    token = make_token(p.sub, scopes=[Scope.READ])
    response = client.get(url, {name: value}, **token.header)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["field"] == name, error


@pytest.mark.parametrize("url", ["/api/v1/alerts", "/api/v1/incidents"])
@pytest.mark.parametrize("value", ["2026-11-28", "2026-11-28T10:00:00Z", "2026-11-28T10:00",
                                   "2026-11-28 10:00:00+01:00"])
def test_it_takes_an_iso_date_or_time(p, client, url, value):
    token = make_token(p.sub, scopes=[Scope.READ])
    response = client.get(url, {"since": value, "until": value}, **token.header)
    assert response.status_code == 200, response.content
