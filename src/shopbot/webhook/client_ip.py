"""The real source address of a request, trusting forwarded headers only from our proxies."""

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address


class AddressSet:
    def __init__(self, entries: Iterable[str]) -> None:
        self._networks = [ip_network(entry.strip(), strict=False) for entry in entries]

    def __contains__(self, address: IPAddress) -> bool:
        return any(address in network for network in self._networks)


def _parse(value: str | None) -> IPAddress | None:
    if not value:
        return None
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


def client_ip(
    peer: str | None, headers: Mapping[str, str], trusted_proxies: AddressSet
) -> IPAddress | None:
    """The peer address, unless the peer is a trusted proxy: then CF-Connecting-IP, or the
    nearest X-Forwarded-For entry that is not itself a trusted proxy."""
    address = _parse(peer)
    if address is None or address not in trusted_proxies:
        return address
    cloudflare = _parse(headers.get("cf-connecting-ip"))
    if cloudflare is not None:
        return cloudflare
    forwarded = [part for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    for hop in reversed(forwarded):
        hop_address = _parse(hop)
        if hop_address is None:
            return None  # a garbled chain is not evidence of anything
        if hop_address not in trusted_proxies:
            return hop_address
    return address
