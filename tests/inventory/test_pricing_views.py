"""The Pricing and settings page, its confirmation, and the banner of a plan that is off."""

from alerts.models import RejectedItem
from inventory.models import Activity, Subscription
from inventory.people import grant_role
from inventory.plans import set_defender_plan
from tests.alerts.helpers import export_alert, ingest
from tests.conftest import SYSTEM, make_subscription

HOSTILE = "<script>alert(1)</script>"


def pricing(sub):
    return f"/s/{sub.pk}/pricing/"


def change(sub):
    return f"/s/{sub.pk}/pricing/defender-plan/"


def off(sub, reason="trial over"):
    set_defender_plan(sub, on=False, actor=SYSTEM, reason=reason)


def test_it_lists_the_subscriptions_the_admin_administers(p, as_user):
    third = make_subscription("Northwind")
    grant_role(subscription=third, user=p.admin, role="admin", actor=SYSTEM)
    grant_role(subscription=p.other, user=p.admin, role="analyst", actor=SYSTEM)
    off(third, reason=HOSTILE)
    response = as_user(p.admin).get(pricing(p.sub))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="plan-{p.sub.pk}"' in html and f'id="plan-{third.pk}"' in html
    assert f'id="plan-{p.other.pk}"' not in html  # an analyst there
    assert "Defender plan Off" in html and "changed last by tests" in html
    assert "still off" in html
    assert HOSTILE not in html and "&lt;script&gt;" in html


def test_analysts_and_shift_leads_get_403_outsiders_404(p, as_user):
    for user, status in ((p.analyst, 403), (p.lead, 403), (p.outsider, 404)):
        client = as_user(user)
        assert client.get(pricing(p.sub)).status_code == status
        assert client.get(change(p.sub) + "?plan=off").status_code == status
        assert client.post(change(p.sub), {"plan": "off", "reason": "x"}).status_code == status
    assert Subscription.objects.get(pk=p.sub.pk).defender_plan is True


def test_it_asks_for_confirmation_then_changes_with_the_reason(p, as_user):
    client = as_user(p.admin)
    confirm = client.get(change(p.sub) + "?plan=off")
    assert confirm.status_code == 200
    assert b"refused" in confirm.content and b'name="reason"' in confirm.content
    assert Subscription.objects.get(pk=p.sub.pk).defender_plan is True  # a GET changes nothing
    response = client.post(change(p.sub), {"plan": "off", "reason": "trial over"})
    assert response.status_code == 302
    assert response["Location"] == f"{pricing(p.sub)}#plan-{p.sub.pk}"
    row = Activity.objects.get(verb="subscription.defender_plan")
    assert (row.actor_label, row.reason, row.after) == ("admin", "trial over",
                                                       {"defender_plan": "off"})
    client.post(change(p.sub), {"plan": "off", "reason": "again"})  # idempotent
    assert Activity.objects.filter(verb="subscription.defender_plan").count() == 1


def test_it_refuses_a_change_without_a_reason_or_a_bad_plan(p, as_user):
    client = as_user(p.admin)
    response = client.post(change(p.sub), {"plan": "off", "reason": "  "})
    assert response.status_code == 400
    assert b"a reason is required" in response.content
    assert client.post(change(p.sub), {"plan": "maybe", "reason": "x"}).status_code == 400
    assert client.get(change(p.sub) + "?plan=maybe").status_code == 400
    assert client.put(change(p.sub)).status_code == 405
    assert Subscription.objects.get(pk=p.sub.pk).defender_plan is True


def test_the_queue_and_alert_pages_show_the_banner_while_off(p, as_user, client):
    off(p.sub)
    pages = [f"/s/{p.sub.pk}/queue/", f"/s/{p.sub.pk}/alerts/"]
    for user in (p.analyst, p.admin):
        client.force_login(user)
        for url in pages:
            html = client.get(url).content.decode()
            assert "Defender plan is off since" in html, url
            assert "Microsoft alerts and custom detections are not accepted" in html
    set_defender_plan(p.sub, on=True, actor=SYSTEM, reason="back")
    html = client.get(pages[0]).content.decode()
    assert "Defender plan is off" not in html
    assert "The Defender plan was off from" in html
    client.force_login(p.outsider)  # another subscription, its plan on
    assert "Defender plan" not in client.get(f"/s/{p.other.pk}/queue/").content.decode()


def test_the_rejected_items_filter_by_code(p, as_user):
    off(p.sub)
    ingest(p.sub, [export_alert(), {"id": "x", "display_name": "y", "severity": "bad"}])
    assert RejectedItem.objects.count() == 2
    client = as_user(p.admin)
    html = client.get(f"/s/{p.sub.pk}/settings/rejected/?code=defender_plan_off")\
        .content.decode()
    assert html.count("<code>defender_plan_off</code> The Defender plan") == 1
    assert "unknown_severity" not in html
    assert client.get(f"/s/{p.sub.pk}/settings/rejected/?code=a%26b").status_code == 400


def test_the_next_page_of_rejected_items_keeps_the_code(p, as_user):
    from tests.factories import make_rejected

    item = make_rejected(p.sub)
    item.code = "defender_plan_off"
    for _ in range(51):  # a page is 50
        item.pk = None
        item.save()
    body = as_user(p.admin).get(f"/s/{p.sub.pk}/settings/rejected/?code=defender_plan_off")\
        .content.decode()
    assert 'href="?token=&amp;code=defender_plan_off&amp;cursor=' in body
