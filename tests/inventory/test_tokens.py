import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.activity import Actor
from inventory.models import Activity, ApiToken
from inventory.people import grant_role, remove_member
from inventory.roles import Perm, Scope
from inventory.tokens import TokenError, create_token, revoke_token, token_allows, verify_token
from tests.conftest import SYSTEM, make_token


def test_it_stores_only_a_hash(p):
    text = make_token(p.sub)
    row = ApiToken.objects.get(pk=text.token.pk)
    assert text.startswith("soc_")
    secret = text.split("_", 2)[2]
    assert secret not in row.secret_hash and len(row.secret_hash) == 64
    assert verify_token(text).pk == row.pk


def test_it_refuses_wrong_secrets(p):
    text = make_token(p.sub)
    assert verify_token(text[:-1] + ("A" if text[-1] != "A" else "B")) is None
    assert verify_token("soc_nothing") is None
    assert verify_token("") is None
    assert verify_token("Bearer " + text) is None


def test_it_intersects_scopes_with_the_current_role(p):
    text = make_token(p.sub, user=p.analyst, scopes=[Scope.READ, Scope.ACT])
    token = verify_token(text)
    assert token_allows(token, Perm.VIEW)
    assert token_allows(token, Perm.TRIAGE)
    assert not token_allows(token, Perm.INGEST)      # not in its scopes
    assert not token_allows(token, Perm.LEAD)        # not in the analyst's role


def test_a_demoted_user_loses_rights_at_once(p):
    text = make_token(p.sub, user=p.lead, scopes=[Scope.READ, Scope.ACT])
    assert token_allows(verify_token(text), Perm.LEAD)
    grant_role(subscription=p.sub, user=p.lead, role="analyst", actor=SYSTEM)
    assert not token_allows(verify_token(text), Perm.LEAD)
    assert token_allows(verify_token(text), Perm.TRIAGE)
    remove_member(subscription=p.sub, user=p.lead, actor=SYSTEM)
    assert not token_allows(verify_token(text), Perm.VIEW)


def test_a_service_token_is_limited_to_ingest_and_read(p):
    with pytest.raises(TokenError, match="service identity"):
        create_token(subscription=p.sub, name="svc", scopes=[Scope.ACT], actor=SYSTEM)
    token = verify_token(make_token(p.sub))
    assert token_allows(token, Perm.INGEST) and token_allows(token, Perm.VIEW)
    assert not token_allows(token, Perm.TRIAGE)


def test_revocation_is_immediate_audited_and_idempotent(p):
    text = make_token(p.sub)
    assert revoke_token(text.token, actor=Actor.of_user(p.admin), reason="leaked")
    assert verify_token(text) is None
    assert not revoke_token(text.token, actor=Actor.of_user(p.admin))
    verbs = list(Activity.objects.filter(target_type="api_token").values_list("verb", "reason"))
    assert ("token.revoke", "leaked") in verbs and ("token.create", "") in verbs
    assert len([v for v in verbs if v[0] == "token.revoke"]) == 1


def test_verification_is_one_indexed_query(p):
    text = make_token(p.sub)
    verify_token(text)  # first use records last_used_at
    with CaptureQueriesContext(connection) as ctx:
        assert verify_token(text) is not None
    assert len(ctx.captured_queries) == 1


def test_a_deactivated_user_s_token_stops_working(p):
    text = make_token(p.sub, user=p.analyst, scopes=[Scope.READ])
    p.analyst.is_active = False
    p.analyst.save()
    assert verify_token(text) is None
