"""Who is on the other end of a request: the socket's peer, or, behind trusted proxies, the client they name.

The audit trail records this address and the rate limits key on it, so it must not be something a caller
can choose. `X-Forwarded-For` (REST header, gRPC metadata) is read only when the socket's peer is one of
the configured trusted proxies (`MRC_AUTH_TRUSTED_PROXIES`, a comma-separated list of CIDRs). Each proxy
appends the address it received the request from, so the list is read from the right: trusted proxies
are skipped, and the first address that is not a trusted proxy is the client. Everything to the left of
it was written by the client itself and is ignored. A hop that is not an IP address ends the walk: the
last trusted proxy is then recorded, never the text a client made up.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED_FOR = "x-forwarded-for"
# A chain longer than this is not a deployment of ours; hops past it are not examined.
MAX_HOPS = 16
# Rate limits key IPv6 clients on their /64: one subscriber usually holds a whole /64.
IPV6_LIMIT_PREFIX = 64


def parse_networks(cidrs: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) from a comma-separated string or a list; ValueError names a bad one."""
    items = cidrs.split(",") if isinstance(cidrs, str) else list(cidrs)
    networks: list[IPNetwork] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"not an IP network: {item[:64]!r}") from None
    return tuple(networks)


def parse_address(text: str) -> IPAddress | None:
    """An IP address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`; None otherwise."""
    value = text.strip()
    if value.startswith("["):
        end = value.find("]")
        value = value[1:end] if end > 0 else ""
    elif value.count(":") == 1:  # IPv4 with a port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def grpc_peer_address(peer: str) -> str:
    """The host of a gRPC peer string (`ipv4:1.2.3.4:5678`, `ipv6:[::1]:5678`); the string itself otherwise."""
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        address = parse_address(rest)
        if address is not None:
            return str(address)
    return peer


def limit_key(address: str) -> str:
    """The key rate limits use for an address: itself, or the /64 of an IPv6 address."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_LIMIT_PREFIX}", strict=False))
    return str(parsed) if parsed is not None else address[:64]


class TrustedProxies:
    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self._networks = tuple(networks)

    @classmethod
    def parse(cls, cidrs: str | Iterable[str]) -> TrustedProxies:
        return cls(parse_networks(cidrs))

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self._networks)

    def client_address(self, peer: str, forwarded_for: Sequence[str] = ()) -> str:
        """The client's address: `peer` unless it is a trusted proxy, then the right-most untrusted hop."""
        last = parse_address(peer)
        if not self.trusts(last):
            return str(last) if last is not None else peer
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops[-MAX_HOPS:]):
            address = parse_address(hop)
            if address is None:
                break  # garbage where an address should be: keep the proxy that passed it on
            last = address
            if not self.trusts(address):
                break
        return str(last)
