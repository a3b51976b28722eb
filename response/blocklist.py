"""The blocklist: addresses and ranges a subscription's firewalls drop, published as a feed.

Every change is one function here (block, renew, unblock, the never-block list), audited
in the same transaction, and named on the timeline of the alert or incident it came
from. The guardrails:

- a range wider than the whole Internet is never published: a /0 is refused outright,
  and the feed leaves out anything that would cover every address;
- the never-block list (the organisation's own egress, its resolvers) always wins: a
  block overlapping it is refused, and an entry it covers is left out of the feed;
- private, loopback, link-local, multicast and other non-routable ranges, and ranges
  wider than /24 (IPv4) or /48 (IPv6), are held back until a shift lead confirms.
"""

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm, role_allows
from socconsole.lib.net import Network, network_text

from .dispatch import emit
from .models import BlockEntry, Blocklist, NeverBlock

DEFAULT_DAYS = 7
MAX_DAYS = 365
MAX_TEXT = 4000  # a reason or a note, as everywhere in the console
WIDEST = {4: 24, 6: 48}  # wider than these needs a shift lead

# Ranges no firewall of ours should drop without a second look, by name.
HELD_BACK = tuple((ipaddress.ip_network(cidr), name) for cidr, name in (
    ("0.0.0.0/8", "the 'this network' range"),
    ("10.0.0.0/8", "a private range (RFC 1918)"),
    ("100.64.0.0/10", "the carrier-grade NAT range (RFC 6598)"),
    ("127.0.0.0/8", "the loopback range"),
    ("169.254.0.0/16", "the link-local range"),
    ("172.16.0.0/12", "a private range (RFC 1918)"),
    ("192.168.0.0/16", "a private range (RFC 1918)"),
    ("224.0.0.0/4", "the multicast range"),
    ("240.0.0.0/4", "the reserved range"),
    ("::/128", "the unspecified address"),
    ("::1/128", "the loopback address"),
    ("fc00::/7", "a unique local range (private)"),
    ("fe80::/10", "the link-local range"),
    ("ff00::/8", "the multicast range"),
))


class BlockError(Exception):
    """A blocklist change that cannot be made; the message is fit for the user.
    `needs_lead` says a shift lead may make it by confirming."""

    def __init__(self, message, needs_lead=False):
        super().__init__(message)
        self.needs_lead = needs_lead


@dataclass(frozen=True)
class Feed:
    lines: list
    etag: str
    last_modified: datetime

    @property
    def body(self):
        return "".join(f"{line}\n" for line in self.lines)


def parse_network(text: str) -> Network:
    """An address or a CIDR network, canonical; BlockError says what is wrong."""
    text = (text or "").strip()
    if not text:
        raise BlockError("Give an address or a CIDR range to block.")
    if len(text) > 64:
        raise BlockError("That is not an address or a CIDR range (too long).")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise BlockError(f"{text!r} is not an IPv4 or IPv6 address or CIDR range.") \
                from None
        raise BlockError(f"{text} has host bits set: the range is {loose}.") from None
    if network.version == 6 and network.network_address.ipv4_mapped is not None \
            and network.prefixlen >= 96:
        # ::ffff:203.0.113.7 is 203.0.113.7: one entry, in the family firewalls match.
        network = ipaddress.ip_network(
            f"{network.network_address.ipv4_mapped}/{network.prefixlen - 96}")
    return network


def held_back(network: Network) -> str | None:
    """Why a shift lead must confirm blocking `network`, or None."""
    if network.prefixlen < WIDEST[network.version]:
        return (f"{network} is wider than /{WIDEST[network.version]}: it would block "
                f"{network.num_addresses:,} addresses.")
    for reserved, name in HELD_BACK:
        if reserved.version == network.version and network.overlaps(reserved):
            return f"{network} is in {name} ({reserved}): blocking it may cut off your own systems."
    return None


def never_block_hit(subscription_id: int, network: Network) -> NeverBlock | None:
    for entry in NeverBlock.objects.filter(subscription_id=subscription_id):
        other = ipaddress.ip_network(entry.network)
        if other.version == network.version and other.overlaps(network):
            return entry
    return None


def _text(value, what, required=True):
    value = (value or "").strip()
    if required and not value:
        raise BlockError(f"Give a {what}.")
    if len(value) > MAX_TEXT:
        raise BlockError(f"The {what} is at most {MAX_TEXT:,} characters.")
    return value


def _days(days):
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise BlockError(f"An expiry is 1 to {MAX_DAYS} days.")
    return timedelta(days=days)


def _touch(subscription_id, now):
    """Mark the feed changed (its Last-Modified), whatever changed it."""
    Blocklist.objects.update_or_create(subscription_id=subscription_id,
                                       defaults={"changed_at": now})


def _log(entry, *, actor, verb, reason="", before=None, after=None):
    """Audit a change of `entry` against what it came from, so it is on that incident's
    or alert's timeline; an entry added on the blocklist page is its own target."""
    if entry.incident_id:
        target = ("incident", entry.incident_id, str(entry.incident))
    elif entry.alert_id:
        target = ("alert", entry.alert_id, entry.alert.display_name)
    else:
        target = ("block_entry", entry.pk, entry.network)
    activity.record(actor=actor, verb=verb, target_type=target[0], target_id=target[1],
                    target_label=f"{entry.address} — {target[2]}"[:200],
                    subscription_id=entry.subscription_id, reason=reason,
                    before=before, after=after)


def block(subscription: Subscription, address: str, *, actor: Actor, role, reason: str,
          days: int = DEFAULT_DAYS, alert=None, incident=None, confirm: bool = False,
          now: datetime | None = None) -> tuple[BlockEntry, bool]:
    """Put `address` on the blocklist for `days`; returns (entry, created). An address
    already blocked is left as it is (created False)."""
    if not role_allows(role, Perm.RESPOND):
        raise BlockError("Your role may not block addresses.")
    network = parse_network(address)
    reason = _text(reason, "reason")
    span = _days(days)
    if network.prefixlen == 0:
        raise BlockError(f"{network} is every address: it can never be blocked.")
    hit = never_block_hit(subscription.pk, network)
    if hit is not None:
        raise BlockError(f"{network} overlaps {hit.network} on the never-block list "
                         f"({hit.note}): the never-block list always wins.")
    concern = held_back(network)
    if concern and not (confirm and role_allows(role, Perm.LEAD)):
        raise BlockError(f"{concern} A shift lead must confirm this block.", needs_lead=True)
    now = now or timezone.now()
    with transaction.atomic():
        live = (BlockEntry.objects.select_for_update()
                .filter(subscription=subscription, network=str(network), removed_at__isnull=True)
                .first())
        if live is not None and live.expires_at > now:
            return live, False
        if live is not None:  # expired: closed, and a new entry starts
            BlockEntry.objects.filter(pk=live.pk).update(removed_at=live.expires_at,
                                                         removed_by_label="expired")
        try:
            with transaction.atomic():
                entry = BlockEntry.objects.create(
                    subscription=subscription, network=str(network), reason=reason,
                    alert=alert, incident=incident, created_by=actor.user,
                    created_by_label=actor.label[:200],
                    confirmed_by=actor.user if concern else None,
                    created_at=now, expires_at=now + span, changed_at=now)
        except IntegrityError:  # someone blocked it at the same moment
            return BlockEntry.objects.get(subscription=subscription, network=str(network),
                                          removed_at__isnull=True), False
        _touch(subscription.pk, now)
        _log(entry, actor=actor, verb="address.block", reason=reason,
             after={"network": entry.network, "expires_at": entry.expires_at.isoformat(),
                    "confirmed_by_lead": bool(concern)})
        emit(subscription.pk, "address.blocked", [
            {"address": entry.address, "network": entry.network, "reason": reason,
             "expires_at": entry.expires_at.isoformat(), "alert_id": entry.alert_id,
             "incident_id": entry.incident_id, "by": actor.label}])
    return entry, True


def renew(entry: BlockEntry, *, actor: Actor, role, days: int = DEFAULT_DAYS,
          reason: str = "", now: datetime | None = None) -> BlockEntry:
    """Extend a live entry to `days` from now (an expired one is blocked again)."""
    if not role_allows(role, Perm.RESPOND):
        raise BlockError("Your role may not change the blocklist.")
    span = _days(days)
    reason = _text(reason, "reason", required=False)
    now = now or timezone.now()
    with transaction.atomic():
        before = entry.expires_at
        changed = BlockEntry.objects.filter(pk=entry.pk, removed_at__isnull=True).update(
            expires_at=now + span, changed_at=now)
        if not changed:
            raise BlockError(f"{entry.address} is no longer on the blocklist: block it again.")
        entry.refresh_from_db()
        _touch(entry.subscription_id, now)
        _log(entry, actor=actor, verb="address.renew", reason=reason,
             before={"expires_at": before.isoformat()},
             after={"expires_at": entry.expires_at.isoformat()})
    return entry


def unblock(entry: BlockEntry, *, actor: Actor, role, reason: str = "",
            now: datetime | None = None) -> bool:
    """Take an entry off the blocklist; idempotent (False when it was off already)."""
    if not role_allows(role, Perm.RESPOND):
        raise BlockError("Your role may not change the blocklist.")
    reason = _text(reason, "reason", required=False)
    now = now or timezone.now()
    with transaction.atomic():
        changed = BlockEntry.objects.filter(pk=entry.pk, removed_at__isnull=True).update(
            removed_at=now, removed_by_label=actor.label[:200], changed_at=now)
        if not changed:
            return False
        entry.refresh_from_db()
        _touch(entry.subscription_id, now)
        _log(entry, actor=actor, verb="address.unblock", reason=reason,
             before={"network": entry.network}, after={"removed": True})
    return True


def add_never_block(subscription: Subscription, address: str, *, actor: Actor, role,
                    note: str) -> NeverBlock:
    if not role_allows(role, Perm.LEAD) and not role_allows(role, Perm.ADMINISTER):
        raise BlockError("Only shift leads and admins keep the never-block list.")
    network = parse_network(address)
    note = _text(note, "note saying what it is")[:200]
    now = timezone.now()
    with transaction.atomic():
        entry, created = NeverBlock.objects.get_or_create(
            subscription=subscription, network=str(network),
            defaults={"note": note, "created_by_label": actor.label[:200]})
        if created:
            _touch(subscription.pk, now)
            activity.record(actor=actor, verb="never_block.add", target_type="never_block",
                            target_id=entry.pk, target_label=entry.network,
                            subscription=subscription, reason=note)
    return entry


def remove_never_block(entry: NeverBlock, *, actor: Actor, role) -> None:
    if not role_allows(role, Perm.LEAD) and not role_allows(role, Perm.ADMINISTER):
        raise BlockError("Only shift leads and admins keep the never-block list.")
    with transaction.atomic():
        deleted, _ = NeverBlock.objects.filter(pk=entry.pk).delete()
        if deleted:
            _touch(entry.subscription_id, timezone.now())
            activity.record(actor=actor, verb="never_block.remove", target_type="never_block",
                            target_id=entry.pk, target_label=entry.network,
                            subscription_id=entry.subscription_id)


def live_entries(subscription_id: int, now: datetime | None = None):
    now = now or timezone.now()
    return BlockEntry.objects.filter(subscription_id=subscription_id, removed_at__isnull=True,
                                     expires_at__gt=now)


def published(subscription_id: int, now: datetime | None = None) -> Feed:
    """What the feed serves now: live, unexpired entries the never-block list does not
    cover, one a line, sorted by address; with its ETag and Last-Modified."""
    now = now or timezone.now()
    guarded = [ipaddress.ip_network(n) for n in
               NeverBlock.objects.filter(subscription_id=subscription_id)
               .values_list("network", flat=True)]
    networks = []
    for entry in live_entries(subscription_id, now).only("network"):
        network = ipaddress.ip_network(entry.network)
        if network.prefixlen == 0 or any(g.version == network.version and g.overlaps(network)
                                         for g in guarded):
            continue
        networks.append(network)
    networks.sort(key=lambda n: (n.version, n.network_address, n.prefixlen))
    lines = [network_text(n) for n in networks]
    # An entry leaving by expiry changes the feed with no row changing: its expiry
    # counts as a change.
    changed = Blocklist.objects.filter(subscription_id=subscription_id)\
        .values_list("changed_at", flat=True).first()
    expired = BlockEntry.objects.filter(subscription_id=subscription_id,
                                        expires_at__lte=now).aggregate(m=Max("expires_at"))["m"]
    moments = [m for m in (changed, expired) if m is not None]
    last_modified = max(moments) if moments else datetime(2000, 1, 1, tzinfo=now.tzinfo)
    body = "".join(f"{line}\n" for line in lines).encode()
    return Feed(lines, f'"{hashlib.sha256(body).hexdigest()[:32]}"',
                last_modified.replace(microsecond=0))
