"""Who is on the other end: the client's address, believing X-Forwarded-For only from the
proxies named in TRUSTED_PROXIES."""

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and CIDRs ("10.0.0.5", "172.18.0.0/16"); ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an address or a CIDR network") from None
    return tuple(networks)


def network_text(network: Network) -> str:
    """A network as firewall lists write it: a lone address without its /32 or /128."""
    return str(network.network_address) if network.prefixlen == network.max_prefixlen \
        else str(network)


def _address(value: str | None):
    try:
        return ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None


def is_trusted(value: str | None, proxies: tuple[Network, ...]) -> bool:
    address = _address(value)
    return address is not None and any(address in network for network in proxies)


def client_address(request, proxies: tuple[Network, ...] = ()) -> str | None:
    """The client's address: the connection's peer, unless that peer is a trusted proxy;
    then the X-Forwarded-For hop before it, walking left past trusted proxies only. A hop
    that is not an address ends the walk at the last address we could believe."""
    address = request.META.get("REMOTE_ADDR") or None
    if not is_trusted(address, proxies):
        return address
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed(hops):
        if _address(hop) is None:
            break
        address = str(_address(hop))
        if not is_trusted(address, proxies):
            break
    return address
