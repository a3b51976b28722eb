"""What the alert and incident pages ask of response: the addresses a text names."""

import ipaddress
import re

from django import template

from socconsole.lib.net import network_text

register = template.Library()

# Candidates only: each is checked by ipaddress (an IPv4 dotted quad, or IPv6 with colons).
_CANDIDATE = re.compile(r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?|"
                        r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:/\d{1,3})?)(?![\w:])")


@register.filter
def addresses(text):
    """The IP addresses and CIDR ranges a remediation step names, in order, once each."""
    found = []
    for candidate in _CANDIDATE.findall(str(text or "")[:4096]):
        try:
            network = ipaddress.ip_network(candidate, strict=False)
        except ValueError:
            continue
        value = network_text(network)
        if value not in found:
            found.append(value)
    return found[:5]
