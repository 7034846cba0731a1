"""The caller's address: the socket's peer, or behind trusted proxies the right-most untrusted hop."""

from __future__ import annotations

import pytest

from mrc_plumbing.auth.client_address import TrustedProxies, grpc_peer_address, limit_key, parse_address
from mrc_plumbing.settings import AuthSettings

PROXIES = TrustedProxies.parse("10.0.0.0/8, 192.168.1.1, fd00::/8")


def test_without_trusted_proxies_forwarded_for_is_ignored() -> None:
    assert TrustedProxies().client_address("198.51.100.7", ["203.0.113.66"]) == "198.51.100.7"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    # The attack of issue 8: a caller names someone else's address.
    assert PROXIES.client_address("198.51.100.7", ["203.0.113.66"]) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() -> None:
    assert PROXIES.client_address("10.1.2.3", ["198.51.100.7"]) == "198.51.100.7"
    # The client prepended a made-up hop; the proxies appended the real one and themselves.
    assert PROXIES.client_address("10.1.2.3", ["203.0.113.66, 198.51.100.7, 192.168.1.1"]) == "198.51.100.7"
    # Several headers are one list, in order.
    assert PROXIES.client_address("10.1.2.3", ["203.0.113.66", "198.51.100.7"]) == "198.51.100.7"


def test_garbage_in_the_chain_stops_at_the_last_trusted_proxy() -> None:
    assert PROXIES.client_address("10.1.2.3", ["198.51.100.7, not-an-ip"]) == "10.1.2.3"
    assert PROXIES.client_address("10.1.2.3", ["198.51.100.7, 192.168.1.1, x" * 3]) == "10.1.2.3"


def test_a_chain_of_proxies_only_names_the_left_most() -> None:
    assert PROXIES.client_address("10.1.2.3", ["10.9.9.9, 192.168.1.1"]) == "10.9.9.9"
    assert PROXIES.client_address("10.1.2.3", []) == "10.1.2.3"


def test_ports_brackets_and_mapped_addresses() -> None:
    assert PROXIES.client_address("10.1.2.3", ["198.51.100.7:4711"]) == "198.51.100.7"
    assert PROXIES.client_address("fd00::1", ["[2001:db8::5]:443"]) == "2001:db8::5"
    assert str(parse_address("::ffff:10.0.0.1")) == "10.0.0.1"
    assert parse_address("999.1.1.1") is None


def test_grpc_peers() -> None:
    assert grpc_peer_address("ipv4:127.0.0.1:50123") == "127.0.0.1"
    assert grpc_peer_address("ipv6:[::1]:50123") == "::1"
    assert grpc_peer_address("unix:/tmp/socket") == "unix:/tmp/socket"


def test_limits_count_ipv6_clients_by_their_64() -> None:
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert limit_key("198.51.100.7") == "198.51.100.7"


def test_settings_refuse_a_bad_cidr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRC_AUTH_TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.0/33")
    with pytest.raises(ValueError, match=r"10\.0\.0\.0/33"):
        AuthSettings()
    monkeypatch.setenv("MRC_AUTH_TRUSTED_PROXIES", "10.0.0.0/8, 172.16.0.0/12")
    assert AuthSettings().proxies.client_address("172.16.5.5", ["198.51.100.7"]) == "198.51.100.7"
