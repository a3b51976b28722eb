"""The blocklist's domain functions: guardrails, expiry, renewal, the never-block list,
and what the feed publishes."""

import datetime as dt

import pytest
from django.utils import timezone

from inventory.activity import Actor
from inventory.models import Activity
from response.blocklist import (
    BlockError,
    add_never_block,
    block,
    parse_network,
    published,
    remove_never_block,
    renew,
    unblock,
)
from response.models import BlockEntry
from tests.factories import make_alert


def analyst_blocks(p, address, **kwargs):
    return block(p.sub, address, actor=Actor.of_user(p.analyst), role="analyst",
                 reason=kwargs.pop("reason", "seen brute-forcing"), **kwargs)


def lead_blocks(p, address, **kwargs):
    return block(p.sub, address, actor=Actor.of_user(p.lead), role="shift_lead",
                 reason="confirmed by the lead", **kwargs)


def test_it_blocks_an_address_for_seven_days_and_publishes_it(p):
    before = timezone.now()
    entry, created = analyst_blocks(p, " 203.0.113.87 ")

    assert created and entry.network == "203.0.113.87/32" and entry.address == "203.0.113.87"
    assert dt.timedelta(days=7) <= entry.expires_at - before < dt.timedelta(days=7, minutes=1)
    assert published(p.sub.pk).lines == ["203.0.113.87"]
    assert published(p.other.pk).lines == []


@pytest.mark.parametrize("text, message", [
    ("", "Give an address"),
    ("evil.example", "is not an IPv4 or IPv6 address"),
    ("198.51.100.7/24", "host bits set: the range is 198.51.100.0/24"),
    ("1.2.3.4/33", "is not an IPv4"),
    ("x" * 100, "too long"),
])
def test_it_says_what_is_wrong_with_an_address(text, message):
    with pytest.raises(BlockError, match=message):
        parse_network(text)


def test_it_reads_an_ipv4_mapped_address_as_ipv4():
    assert str(parse_network("::ffff:203.0.113.9")) == "203.0.113.9/32"


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.0/24", "172.16.5.0/24",
                                     "127.0.0.1", "169.254.1.1", "224.0.0.5", "100.64.1.1",
                                     "::1", "fe80::1", "fd00::1", "ff02::1",
                                     "198.51.0.0/16", "2001:db8::/32"])
def test_private_special_and_wide_ranges_need_a_shift_lead(p, address):
    with pytest.raises(BlockError, match="A shift lead must confirm") as refused:
        analyst_blocks(p, address, confirm=True)  # an analyst's confirmation is not enough
    assert refused.value.needs_lead
    with pytest.raises(BlockError, match="A shift lead must confirm"):
        lead_blocks(p, address)  # nor a lead's block without confirming

    entry, created = lead_blocks(p, address, confirm=True)

    assert created and entry.confirmed_by == p.lead
    assert published(p.sub.pk).lines == [entry.address]


def test_a_slash_24_and_a_slash_48_are_not_wide(p):
    analyst_blocks(p, "198.51.100.0/24")
    analyst_blocks(p, "2001:db8:1::/48")
    assert published(p.sub.pk).lines == ["198.51.100.0/24", "2001:db8:1::/48"]


@pytest.mark.parametrize("address", ["0.0.0.0/0", "::/0"])
def test_every_address_can_never_be_blocked_even_by_a_confirming_lead(p, address):
    with pytest.raises(BlockError, match="every address"):
        lead_blocks(p, address, confirm=True)
    assert not BlockEntry.objects.exists()


def test_the_never_block_list_always_wins(p):
    add_never_block(p.sub, "198.51.100.0/28", actor=Actor.of_user(p.admin), role="admin",
                    note="our egress NAT")
    for address in ("198.51.100.3", "198.51.100.0/24"):
        with pytest.raises(BlockError, match="never-block list .*our egress NAT"):
            lead_blocks(p, address, confirm=True)
    analyst_blocks(p, "198.51.100.77")  # outside it
    assert published(p.sub.pk).lines == ["198.51.100.77"]


def test_an_entry_under_a_later_never_block_leaves_the_feed_until_that_is_removed(p):
    entry, _ = analyst_blocks(p, "203.0.113.5")
    guard = add_never_block(p.sub, "203.0.113.0/24", actor=Actor.of_user(p.lead),
                            role="shift_lead", note="our resolvers")
    assert published(p.sub.pk).lines == []

    remove_never_block(guard, actor=Actor.of_user(p.lead), role="shift_lead")

    assert published(p.sub.pk).lines == ["203.0.113.5"]


def test_only_leads_and_admins_keep_the_never_block_list(p):
    with pytest.raises(BlockError, match="Only shift leads and admins"):
        add_never_block(p.sub, "192.0.2.1", actor=Actor.of_user(p.analyst), role="analyst",
                        note="x")


def test_admins_may_not_block(p):
    with pytest.raises(BlockError, match="may not block"):
        block(p.sub, "203.0.113.8", actor=Actor.of_user(p.admin), role="admin", reason="x")


def test_expired_entries_leave_the_feed_and_the_address_can_be_blocked_again(p):
    past = timezone.now() - dt.timedelta(days=10)
    old, _ = analyst_blocks(p, "203.0.113.6", days=2, now=past)
    assert published(p.sub.pk).lines == []
    assert published(p.sub.pk).last_modified >= old.expires_at.replace(microsecond=0)

    again, created = analyst_blocks(p, "203.0.113.6")

    assert created and again.pk != old.pk
    old.refresh_from_db()
    assert old.removed_by_label == "expired"
    assert published(p.sub.pk).lines == ["203.0.113.6"]


def test_blocking_a_blocked_address_again_changes_nothing(p):
    entry, _ = analyst_blocks(p, "203.0.113.7")
    same, created = analyst_blocks(p, "203.0.113.7/32", days=30)
    assert not created and same.pk == entry.pk and same.expires_at == entry.expires_at
    assert Activity.objects.filter(verb="address.block").count() == 1


def test_renew_and_remove_are_audited_and_change_the_feed(p):
    entry, _ = analyst_blocks(p, "203.0.113.10", days=1)
    feed = published(p.sub.pk)

    renew(entry, actor=Actor.of_user(p.analyst), role="analyst", days=30, reason="still active")
    assert entry.expires_at - timezone.now() > dt.timedelta(days=29)
    assert unblock(entry, actor=Actor.of_user(p.lead), role="shift_lead", reason="false alarm")
    assert not unblock(entry, actor=Actor.of_user(p.lead), role="shift_lead")  # idempotent

    after = published(p.sub.pk)
    assert after.lines == [] and after.etag != feed.etag
    assert after.last_modified >= feed.last_modified
    verbs = list(Activity.objects.filter(target_type="block_entry").order_by("id")
                 .values_list("verb", "reason"))
    assert verbs == [("address.block", "seen brute-forcing"), ("address.renew", "still active"),
                     ("address.unblock", "false alarm")]
    with pytest.raises(BlockError, match="no longer on the blocklist"):
        renew(entry, actor=Actor.of_user(p.analyst), role="analyst")


def test_a_block_from_an_alert_is_on_that_alerts_timeline(p):
    alert = make_alert(p.sub)
    analyst_blocks(p, "203.0.113.50", alert=alert)
    row = Activity.objects.get(verb="address.block")
    assert (row.target_type, row.target_id) == ("alert", str(alert.pk))
    assert row.target_label.startswith("203.0.113.50 — ")


@pytest.mark.parametrize("kwargs, message", [
    ({"reason": ""}, "Give a reason"),
    ({"reason": "x" * 4001}, "at most 4,000"),
    ({"days": 0}, "1 to 365 days"),
    ({"days": 366}, "1 to 365 days"),
])
def test_it_refuses_bad_reasons_and_expiries(p, kwargs, message):
    with pytest.raises(BlockError, match=message):
        analyst_blocks(p, "203.0.113.11", **kwargs)


def test_the_feed_is_sorted_one_entry_a_line(p):
    for address in ("203.0.113.20", "2001:db8:5::1", "198.51.100.0/24", "192.0.2.9"):
        analyst_blocks(p, address)
    feed = published(p.sub.pk)
    assert feed.body == "192.0.2.9\n198.51.100.0/24\n203.0.113.20\n2001:db8:5::1\n"
