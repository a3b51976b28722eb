"""Workspaces on the settings page: add one, change its retention; admins only."""

from inventory.models import Activity, Workspace


def url(p, tail=""):
    return f"/s/{p.sub.pk}/settings/workspaces/{tail}"


def test_the_settings_page_lists_workspaces_with_their_ids(p, as_user):
    page = as_user(p.admin).get(f"/s/{p.sub.pk}/settings/").content.decode()
    ws = p.sub.workspaces.get()
    assert str(ws.workspace_id) in page and "90" in page


def test_an_admin_adds_a_workspace(p, as_user):
    response = as_user(p.admin).post(url(p), {"name": "soc-archive", "retention_days": 365})
    assert response.status_code == 302
    ws = Workspace.objects.get(subscription=p.sub, name="soc-archive")
    assert (ws.retention_days, ws.is_default) == (365, False)
    assert Activity.objects.filter(verb="workspace.create", target_id=str(ws.pk)).exists()


def test_a_duplicate_name_is_a_form_error(p, as_user):
    client = as_user(p.admin)
    client.post(url(p), {"name": "dup", "retention_days": 30})
    response = client.post(url(p), {"name": "dup", "retention_days": 30})
    assert response.status_code == 400
    assert b"already has a workspace named" in response.content


def test_an_admin_changes_retention_with_a_reason(p, as_user):
    ws = p.sub.workspaces.get()
    response = as_user(p.admin).post(url(p, f"{ws.pk}/retention/"),
                                     {"retention_days": 30, "reason": "cost"})
    assert response.status_code == 302
    ws.refresh_from_db()
    assert ws.retention_days == 30
    audit = Activity.objects.get(verb="workspace.retention")
    assert (audit.before, audit.after, audit.reason) == (
        {"retention_days": 90}, {"retention_days": 30}, "cost")


def test_bad_retention_changes_nothing(p, as_user):
    ws = p.sub.workspaces.get()
    for value in ("0", "99999", "ten", ""):
        as_user(p.admin).post(url(p, f"{ws.pk}/retention/"), {"retention_days": value})
    ws.refresh_from_db()
    assert ws.retention_days == 90
    assert not Activity.objects.filter(verb="workspace.retention").exists()


def test_an_analyst_may_not_change_workspaces(p, as_user):
    ws = p.sub.workspaces.get()
    client = as_user(p.analyst)
    assert client.post(url(p), {"name": "x", "retention_days": 1}).status_code == 403
    assert client.post(url(p, f"{ws.pk}/retention/"),
                       {"retention_days": 1}).status_code == 403


def test_another_subscriptions_workspace_is_a_404(p, as_user):
    theirs = p.other.workspaces.get()
    response = as_user(p.admin).post(url(p, f"{theirs.pk}/retention/"), {"retention_days": 1})
    assert response.status_code == 404


def test_get_is_not_allowed(p, as_user):
    ws = p.sub.workspaces.get()
    assert as_user(p.admin).get(url(p, f"{ws.pk}/retention/")).status_code == 405
