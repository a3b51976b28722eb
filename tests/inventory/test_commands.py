from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from inventory.models import ApiToken, Membership, Subscription
from inventory.tokens import token_allows, verify_token


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_three_commands(db):
    run("create_subscription", "Northwind", "--external-id",
        "20ff7fc3-e762-44dd-bd96-b71116dcdc23")
    sub = Subscription.objects.get(name="Northwind")
    assert str(sub.external_id) == "20ff7fc3-e762-44dd-bd96-b71116dcdc23"
    assert sub.workspaces.get().is_default
    out, _ = run("grant_role", "--subscription", "Northwind", "--user", "erin",
                 "--role", "shift_lead")
    erin = get_user_model().objects.get(username="erin")
    assert not erin.has_usable_password()
    assert "erin is shift_lead in Northwind." in out
    assert "http://127.0.0.1:8000/set-password/" in out
    erin.set_password("correct horse battery staple")
    erin.save()
    out, _ = run("grant_role", "--subscription", "Northwind", "--user", "erin",
                 "--role", "shift_lead")
    assert "set-password" not in out
    assert Membership.objects.get(user=erin).role == "shift_lead"
    out, _ = run("create_api_token", "--subscription", "Northwind", "--name", "export")
    token = verify_token(out.strip())
    assert token.user is None and token.scopes == ["ingest", "read"]
    out, _ = run("create_api_token", "--subscription", "Northwind", "--name", "erin cli",
                 "--user", "erin", "--scopes", "read,act")
    token = verify_token(out.strip())
    assert token_allows(token, "lead") and not token_allows(token, "ingest")


@pytest.mark.parametrize("args, message", [
    (("create_subscription", "X", "--external-id", "nope"), "not a subscription GUID"),
    (("grant_role", "--subscription", "Nowhere", "--user", "u", "--role", "analyst"),
     "No subscription"),
    (("create_api_token", "--subscription", "Contoso", "--name", "t", "--scopes", "act"),
     "service identity"),
    (("create_api_token", "--subscription", "Contoso", "--name", "t", "--scopes", "root"),
     "Unknown scope"),
    (("create_api_token", "--subscription", "Contoso", "--name", "t", "--user", "ghost"),
     "No user"),
])
def test_bad_input_is_a_clear_error(p, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ApiToken.objects.filter(name="t").exists()


def test_a_duplicate_subscription_is_refused(p):
    with pytest.raises(CommandError, match="already exists"):
        run("create_subscription", "Contoso")
