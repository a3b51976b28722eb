"""The security policy page, the inventory page and the refused-events page."""

import html
from urllib.parse import parse_qs, urlsplit

import pytest

from alerts.models import Alert
from incidents.models import Incident
from inventory.activity import Actor
from inventory.collection import set_auto_provisioning
from inventory.models import Activity, Resource
from inventory.roles import Role
from search.kql import parse as kql_parse
from tests.factories import make_alert, make_incident
from tests.search.factories import default_workspace, ingest


def policy(sub):
    return f"/s/{sub.pk}/settings/policy/"


def resources(sub):
    return f"/s/{sub.pk}/resources/"


def test_the_policy_page_is_for_admins(p, as_user):
    assert as_user(p.admin).get(policy(p.sub)).status_code == 200
    for user in (p.analyst, p.lead):
        assert as_user(user).get(policy(p.sub)).status_code == 403
        assert as_user(user).post(f"{policy(p.sub)}auto-provisioning/",
                                  {"state": "off", "reason": "x"}).status_code == 403
    assert as_user(p.outsider).get(policy(p.sub)).status_code == 404
    assert as_user(p.outsider).post(f"{policy(p.sub)}auto-provisioning/",
                                    {"state": "off", "reason": "x"}).status_code == 404
    p.sub.refresh_from_db()
    assert p.sub.auto_provisioning is True


def test_an_admin_turns_provisioning_off_and_the_page_says_what_still_collects(p, as_user):
    Resource.objects.create(subscription=p.sub, name="vm-1")
    Resource.objects.create(subscription=p.sub, name="vm-2")
    client = as_user(p.admin)
    page = client.get(policy(p.sub)).content.decode()
    assert 'data-confirm="Turn automatic provisioning off' in page
    response = client.post(f"{policy(p.sub)}auto-provisioning/",
                           {"state": "off", "reason": "Agents by hand"}, follow=True)
    assert response.redirect_chain[-1][0] == policy(p.sub)
    page = response.content.decode()
    assert "Automatic provisioning is off." in page
    assert '<strong id="auto-provisioning-state">Off</strong>' in page
    assert "does not stop collection on resources that already collect" in page
    assert "<strong>2</strong> resources collect" in page
    assert "set by admin" in page
    p.sub.refresh_from_db()
    assert p.sub.auto_provisioning is False
    assert Activity.objects.get(verb="subscription.auto_provisioning").reason == "Agents by hand"


def test_the_switch_needs_a_reason_and_a_state(p, as_user):
    client = as_user(p.admin)
    response = client.post(f"{policy(p.sub)}auto-provisioning/", {"state": "off", "reason": ""})
    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    response = client.post(f"{policy(p.sub)}auto-provisioning/", {"state": "maybe",
                                                                   "reason": "x"})
    assert response.status_code == 400
    assert client.get(f"{policy(p.sub)}auto-provisioning/").status_code == 405
    p.sub.refresh_from_db()
    assert p.sub.auto_provisioning is True


def test_the_inventory_page_is_for_every_member_only(p, as_user):
    vm = Resource.objects.create(subscription=p.sub, name="vm-web-01")
    for user in (p.analyst, p.lead, p.admin):
        response = as_user(user).get(resources(p.sub))
        assert response.status_code == 200 and "vm-web-01" in response.content.decode()
    assert as_user(p.outsider).get(resources(p.sub)).status_code == 404
    url = f"{resources(p.sub)}{vm.pk}/collection/"
    assert as_user(p.analyst).post(url, {"state": "off", "reason": "x"}).status_code == 403
    assert as_user(p.lead).post(url, {"state": "off", "reason": "x"}).status_code == 403
    assert as_user(p.outsider).post(url, {"state": "off", "reason": "x"}).status_code == 404
    vm.refresh_from_db()
    assert vm.collecting is True


def test_it_lists_collection_counts_and_last_event(p, as_user):
    ws = default_workspace(p.sub)
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z",
                                  "Computer": "vm-busy"}])
    busy = Resource.objects.get(name="vm-busy")
    quiet = Resource.objects.create(subscription=p.sub, name="vm-quiet", collecting=False,
                                    kind="virtual_machine")
    for i in range(2):
        make_alert(p.sub, id=f"a-{i}", compromised_entity="vm-busy")
    make_incident(p.sub, id="a-2", compromised_entity="vm-busy")
    assert Alert.objects.filter(resource=busy).count() == 3
    incidents = Incident.objects.filter(resource=busy).count()
    assert incidents >= 1
    page = as_user(p.analyst).get(resources(p.sub)).content.decode()
    busy_row = page[page.index(f'data-resource="{busy.pk}"'):]
    busy_row = busy_row[:busy_row.index("</tr>")]
    assert "collecting" in busy_row and "automatically" in busy_row
    assert f'?resource={busy.pk}" aria-label="Alerts of vm-busy">3</a>' in busy_row
    assert f'<td class="right">{incidents}</td>' in busy_row
    assert busy.last_event_at is not None and "never" not in busy_row
    quiet_row = page[page.index(f'data-resource="{quiet.pk}"'):]
    quiet_row = quiet_row[:quiet_row.index("</tr>")]
    assert "not monitored" in quiet_row and "never" in quiet_row
    # Analysts see no by-hand switch.
    assert "Start collecting" not in page


def test_it_filters_by_kind_and_not_monitored(p, as_user):
    Resource.objects.create(subscription=p.sub, name="db-1", kind="sql_database")
    Resource.objects.create(subscription=p.sub, name="vm-on", kind="virtual_machine")
    Resource.objects.create(subscription=p.sub, name="vm-off", kind="virtual_machine",
                            collecting=False)
    client = as_user(p.analyst)
    page = client.get(resources(p.sub), {"kind": "virtual_machine"}).content.decode()
    assert "vm-on" in page and "vm-off" in page and "db-1" not in page
    page = client.get(resources(p.sub), {"not_monitored": "on"}).content.decode()
    assert "vm-off" in page and "vm-on" not in page and "db-1" not in page
    assert client.get(resources(p.sub), {"kind": "toaster"}).status_code == 400
    assert client.get(resources(p.sub), {"cursor": "garbage"}).status_code == 400


def test_it_pages_by_keyset_with_a_fixed_number_of_queries(p, as_user,
                                                           django_assert_max_num_queries):
    Resource.objects.bulk_create([Resource(subscription=p.sub, name=f"vm-{i:03}")
                                  for i in range(120)])
    client = as_user(p.analyst)
    client.get(resources(p.sub))  # warm the session
    with django_assert_max_num_queries(12):
        page = client.get(resources(p.sub)).content.decode()
    assert "vm-049" in page and "vm-050" not in page
    cursor = html.unescape(page).split("cursor=")[1].split('"')[0]
    partial = client.get(resources(p.sub), {"cursor": cursor}, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert "vm-050" in text and "vm-099" in text and "vm-100" not in text
    assert "<html" not in text


@pytest.mark.parametrize("name", ['vm "evil"\\ & <b>x</b>', "vm\n| take 1", "vm\x01é"])
def test_the_events_link_is_a_kql_query_for_the_name_escaped(p, as_user, name):
    Resource.objects.create(subscription=p.sub, name=name)
    page = as_user(p.analyst).get(resources(p.sub)).content.decode()
    assert "<b>x</b>" not in page
    href = next(part.split('"')[0] for part in page.split('href="')
                if "/search/?" in part.split('"')[0])
    url = urlsplit(html.unescape(href))
    query = parse_qs(url.query)["query"][0]
    assert query.startswith("SecurityEvent | where Computer == ")
    assert kql_parse(query).operators[0].expr.right.value == name
    search = as_user(p.analyst).get(f"{url.path}?{url.query}")
    assert search.status_code == 200
    assert html.escape(query) in search.content.decode()  # prefilled


def test_an_admin_turns_one_resource_on_by_hand(p, as_user):
    vm = Resource.objects.create(subscription=p.sub, name="vm-new", collecting=False)
    client = as_user(p.admin)
    page = client.get(resources(p.sub)).content.decode()
    assert 'data-confirm="Turn data collection on for vm-new?"' in page
    url = f"{resources(p.sub)}{vm.pk}/collection/"
    response = client.post(url, {"state": "on", "reason": "Agent installed",
                                 "next": f"{resources(p.sub)}?not_monitored=on"})
    assert response.status_code == 302
    assert response["Location"] == f"{resources(p.sub)}?not_monitored=on"
    vm.refresh_from_db()
    assert (vm.collecting, vm.collection_by, vm.collection_changed_by) == (True, "by_hand",
                                                                            p.admin)
    assert Activity.objects.get(verb="resource.collection").reason == "Agent installed"
    # No reason: nothing changes; an outside `next` is not followed.
    response = client.post(url, {"state": "off", "reason": "", "next": "//evil.example/"})
    assert response["Location"] == resources(p.sub)
    vm.refresh_from_db()
    assert vm.collecting is True


def test_a_resource_of_another_subscription_is_404(p, as_user):
    theirs = Resource.objects.create(subscription=p.other, name="theirs")
    response = as_user(p.admin).post(f"{resources(p.sub)}{theirs.pk}/collection/",
                                     {"state": "off", "reason": "x"})
    assert response.status_code == 404


def test_refused_events_are_listed_for_admins(p, as_user):
    set_auto_provisioning(p.sub, on=False, actor=Actor.of_user(p.admin), reason="x",
                          role=Role.ADMIN)
    ingest(default_workspace(p.sub), "SecurityEvent", [
        {"TimeGenerated": "2026-11-28T10:00:00Z", "Computer": "<script>vm</script>"}])
    url = f"/s/{p.sub.pk}/settings/refused-events/"
    page = as_user(p.admin).get(url).content.decode()
    assert "collection_off" in page and "not monitored" in page
    assert "<script>vm" not in page and "&lt;script&gt;vm" in page
    for user in (p.analyst, p.lead):
        assert as_user(user).get(url).status_code == 403
    assert as_user(p.outsider).get(url).status_code == 404
    assert as_user(p.admin).get(url, {"resource": "x"}).status_code == 400
