from inventory.models import Activity, ApiToken, Membership
from tests.conftest import make_token


def test_home_goes_to_the_user_s_first_subscription_s_dashboard(p, as_user):
    response = as_user(p.analyst).get("/")
    assert response["Location"] == f"/s/{p.sub.pk}/dashboard/"


def test_a_user_without_subscriptions_is_told_so(p, as_user, django_user_model):
    lonely = django_user_model.objects.create_user("lonely", password="x" * 16)
    response = as_user(lonely).get("/")
    assert response.status_code == 200 and b"No subscriptions yet" in response.content


def test_the_shell_lists_only_the_user_s_subscriptions(p, as_user):
    response = as_user(p.analyst).get(f"/s/{p.sub.pk}/")
    assert b"Contoso" in response.content and b"Fabrikam" not in response.content
    assert b"Analyst" in response.content
    assert b'hx-headers=\'{"X-CSRFToken": "' in response.content
    assert b"<script>" not in response.content  # no inline script


def test_settings_are_for_admins(p, as_user):
    assert as_user(p.analyst).get(f"/s/{p.sub.pk}/settings/").status_code == 403
    assert as_user(p.lead).get(f"/s/{p.sub.pk}/settings/").status_code == 403
    assert as_user(p.admin).get(f"/s/{p.sub.pk}/settings/").status_code == 200


def test_an_admin_creates_a_token_shown_once(p, as_user):
    client = as_user(p.admin)
    response = client.post(f"/s/{p.sub.pk}/settings/tokens/",
                           {"name": "defender export", "scopes": ["ingest", "read"]}, follow=True)
    assert response.redirect_chain[0][1] == 302  # a reload cannot post it again
    token = ApiToken.objects.get(name="defender export")
    assert token.user is None and token.scopes == ["ingest", "read"]
    assert f"soc_{token.prefix}_".encode() in response.content
    assert response["Cache-Control"] == "no-store"
    again = client.get(f"/s/{p.sub.pk}/settings/")
    assert f"soc_{token.prefix}_".encode() + b"\xe2\x80\xa6" in again.content  # prefix only


def test_a_service_token_cannot_act(p, as_user):
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/tokens/",
                                     {"name": "svc", "scopes": ["act"]})
    assert response.status_code == 400 and b"service identity" in response.content
    assert not ApiToken.objects.filter(name="svc").exists()


def test_an_admin_cannot_give_a_token_to_a_non_member(p, as_user):
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/tokens/",
                                     {"name": "x", "scopes": ["read"], "user": p.outsider.pk})
    assert response.status_code == 400
    assert not ApiToken.objects.filter(name="x").exists()


def test_an_analyst_cannot_create_or_revoke_tokens(p, as_user):
    token = make_token(p.sub).token
    client = as_user(p.analyst)
    assert client.post(f"/s/{p.sub.pk}/settings/tokens/", {"name": "x", "scopes": ["read"]})\
        .status_code == 403
    assert client.post(f"/s/{p.sub.pk}/settings/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.is_active


def test_an_admin_revokes_a_token(p, as_user):
    token = make_token(p.sub).token
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/tokens/{token.pk}/revoke/",
                                     {"reason": "rotated"})
    assert response.status_code == 302
    token.refresh_from_db()
    assert not token.is_active
    assert Activity.objects.filter(verb="token.revoke", reason="rotated").exists()


def test_a_token_of_another_subscription_is_404(p, as_user):
    foreign = make_token(p.other).token
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/tokens/{foreign.pk}/revoke/")
    assert response.status_code == 404


def test_an_admin_changes_roles_and_removes_people(p, as_user):
    client = as_user(p.admin)
    response = client.post(f"/s/{p.sub.pk}/settings/members/",
                           {"username": "analyst", "role": "shift_lead", "reason": "promoted"})
    assert response.status_code == 302
    assert Membership.objects.get(user=p.analyst, subscription=p.sub).role == "shift_lead"
    # Not a member: invited, whoever that is (tests/inventory/test_invitations.py).
    assert client.post(f"/s/{p.sub.pk}/settings/members/",
                       {"username": "ghost", "role": "analyst"}).status_code == 302
    assert client.post(f"/s/{p.sub.pk}/settings/members/",
                       {"username": "", "role": "analyst"}).status_code == 400
    assert client.post(f"/s/{p.sub.pk}/settings/members/",
                       {"username": "analyst", "role": "root"}).status_code == 400
    client.post(f"/s/{p.sub.pk}/settings/members/{p.analyst.pk}/remove/")
    assert not Membership.objects.filter(user=p.analyst, subscription=p.sub).exists()
    log = list(Activity.objects.filter(target_type="user", target_id=str(p.analyst.pk))
               .values_list("verb", flat=True))
    assert log[:2] == ["membership.remove", "membership.change"]


def test_an_admin_cannot_remove_themself(p, as_user):
    as_user(p.admin).post(f"/s/{p.sub.pk}/settings/members/{p.admin.pk}/remove/")
    assert Membership.objects.filter(user=p.admin, subscription=p.sub).exists()


def test_the_activity_log_pages_with_a_keyset_cursor(p, as_user):
    for i in range(60):
        make_token(p.sub, name=f"t{i}")
    client = as_user(p.analyst)
    first = client.get(f"/s/{p.sub.pk}/activity/")
    assert first.status_code == 200 and b"Older entries" in first.content
    cursor = first.content.split(b"?cursor=")[1].split(b'"')[0].decode()
    fragment = client.get(f"/s/{p.sub.pk}/activity/?cursor={cursor}", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert b"token.create" in fragment.content
    bad = client.get(f"/s/{p.sub.pk}/activity/?cursor=garbage")
    assert bad.status_code == 400


def test_the_health_check_answers_without_a_login(client, db):
    response = client.get("/healthz", HTTP_HOST="unlisted.example")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_a_forbidden_page_says_why_in_the_layout(p, as_user):
    response = as_user(p.analyst).get(f"/s/{p.sub.pk}/settings/")
    assert response.status_code == 403
    assert b"Your role (Analyst) may not do this." in response.content
    assert b"topbar" in response.content


def test_an_oversized_id_in_a_filter_is_a_400_not_a_500(p, as_user):
    response = as_user(p.analyst).get(f"/s/{p.sub.pk}/alerts/?resource=99999999999999999999999")
    assert response.status_code == 400
