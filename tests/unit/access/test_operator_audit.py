"""Operators' changes are audited like every other write (a DataAccessed event stored with the change,
leaving through the outbox); auditors see their states' records; the APIs record the real caller address,
cap concurrent listings, and publish their security and problem responses."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from mrc.audit.v1 import audit_pb2
from mrc_access.entrypoints.http_api import audit_listings
from mrc_kernel.events import Event
from mrc_plumbing.auth.client_address import TrustedProxies
from mrc_plumbing.auth.guard import CallerGuard
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.events import EventDecoder
from tests.unit.access.fakes import Platform, access_record
from tests.unit.access.http_client import bearer, http_client

PARTNER = {"name": "Aajeevika Bureau", "kind": "cso", "state_codes": ["10"]}


def decoded(events: Sequence[Event]) -> list[audit_pb2.DataAccessed]:
    messages = [EventDecoder().decode(e) for e in events if e.topic == "mrc.audit.v1"]
    assert all(isinstance(m, audit_pb2.DataAccessed) for m in messages)
    return messages  # type: ignore[return-value]


def test_every_operator_change_stores_its_audit_event_with_the_change() -> None:
    platform = Platform()
    platform.partners.audited.clear()
    platform.clients.audited.clear()
    platform.key_store.audited.clear()
    http = http_client(platform)
    operator = {**bearer(platform.operator_token()), "X-Request-Id": "req-42"}

    partner_id = http.post("/v1/partners", json=PARTNER, headers=operator).json()["partner_id"]
    issued = http.post(f"/v1/partners/{partner_id}/clients", json={"roles": ["caseworker"]}, headers=operator).json()
    http.post(f"/v1/clients/{issued['client_id']}:revoke", headers=operator)
    kid = http.post("/v1/signing-keys:rotate", headers=operator).json()["kid"]

    [created_partner] = decoded(platform.partners.audited)
    created_client, revoked = decoded(platform.clients.audited)
    [rotated] = decoded(platform.key_store.audited)
    assert (created_partner.resource_type, created_partner.resource_id) == ("partner", partner_id)
    assert created_partner.action == audit_pb2.ACCESS_ACTION_CREATE
    assert "state_codes" in created_partner.fields
    assert (created_client.resource_type, created_client.resource_id) == ("client", issued["client_id"])
    assert (revoked.action, list(revoked.fields)) == (audit_pb2.ACCESS_ACTION_UPDATE, ["revoked", "revoked_at"])
    assert (rotated.resource_type, rotated.resource_id) == ("signing_key", kid)
    for message in (created_partner, created_client, revoked, rotated):
        assert message.actor.client_id == "mrc-operator"
        assert message.service == "access"
        assert message.remote_address == "198.51.100.7"
        assert message.request_id == "req-42"
        assert message.purpose == "operations"
        assert message.outcome == audit_pb2.ACCESS_OUTCOME_ALLOWED


def test_a_replayed_partner_creation_is_not_audited_twice() -> None:
    platform = Platform()
    platform.partners.audited.clear()
    http = http_client(platform)
    headers = {**bearer(platform.operator_token()), "Idempotency-Key": "k-1"}
    http.post("/v1/partners", json=PARTNER, headers=headers)
    http.post("/v1/partners", json=PARTNER, headers=headers)
    assert len(decoded(platform.partners.audited)) == 1


def test_the_bootstrap_operator_is_audited_as_the_system() -> None:
    platform = Platform()
    [partner] = decoded(platform.partners.audited)
    [client] = decoded(platform.clients.audited)
    [first_key] = decoded(platform.key_store.audited)
    assert {partner.actor.client_id, client.actor.client_id, first_key.actor.client_id} == {"mrc-access"}
    platform.administration.ensure_bootstrap_operator("mrc-operator", "a-new-secret")
    changed = decoded(platform.clients.audited)[-1]
    assert (changed.action, list(changed.fields)) == (audit_pb2.ACCESS_ACTION_UPDATE, ["secret_hash"])


def test_the_caller_address_is_the_peer_unless_a_trusted_proxy_names_another() -> None:
    platform = Platform()
    spoofed = {**bearer(platform.operator_token()), "X-Forwarded-For": "203.0.113.66"}
    platform.partners.audited.clear()
    http_client(platform).post("/v1/partners", json=PARTNER, headers=spoofed)
    proxied = http_client(
        platform, address="10.0.0.2", guard=CallerGuard(RateLimiter(0, 1), proxies=TrustedProxies.parse("10.0.0.0/8"))
    )
    proxied.post("/v1/partners", json=PARTNER, headers=spoofed)
    assert [m.remote_address for m in decoded(platform.partners.audited)] == ["198.51.100.7", "203.0.113.66"]


def auditor_token(platform: Platform, states: list[str]) -> str:
    http = http_client(platform)
    operator = bearer(platform.operator_token())
    partner = {"name": "Audit cell", "kind": "auditor", "state_codes": states}
    partner_id = http.post("/v1/partners", json=partner, headers=operator).json()["partner_id"]
    issued = http.post(f"/v1/partners/{partner_id}/clients", json={"roles": ["auditor"]}, headers=operator).json()
    return platform.tokens.issue(issued["client_id"], issued["client_secret"]).access_token


def test_an_auditor_of_state_9_does_not_see_state_10s_records() -> None:
    platform = Platform()
    for n in range(3):
        platform.audit_trail.record(access_record(n, state_code="10"))
    platform.audit_trail.record(access_record(9, resource_id="w-9", state_code="9"))
    http = http_client(platform)

    def listed(token: str, **params: str) -> list[str]:
        page = http.get("/v1/audit-records", params=params, headers=bearer(token))
        assert page.status_code == 200, page.text
        return [r["resource_id"] for r in page.json()["records"]]

    up, bihar = auditor_token(platform, ["9"]), auditor_token(platform, ["10"])
    assert listed(up) == ["w-9"]
    assert listed(up, resource_id="w-1") == []
    assert sorted(listed(bihar)) == ["w-1", "w-1", "w-1"]


def test_a_burst_of_listings_is_refused_at_once_beyond_the_cap() -> None:
    platform = Platform()
    listings = audit_listings(total=3, per_caller=1)
    http = http_client(platform, listings=listings)
    tokens = [auditor_token(platform, ["10"]) for _ in range(4)]
    release, entered = threading.Event(), threading.Semaphore(0)
    page = platform.audit_store.page

    def slow_page(*args: object, **kwargs: object) -> object:
        entered.release()
        release.wait(10)
        return page(*args, **kwargs)  # type: ignore[arg-type]

    results: list[int] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(platform.audit_store, "page", slow_page)
        running = [
            threading.Thread(
                target=lambda t=t: results.append(http.get("/v1/audit-records", headers=bearer(t)).status_code)
            )
            for t in tokens[:3]
        ]
        for thread in running:
            thread.start()
        for _ in range(3):
            assert entered.acquire(timeout=10)
        # The caller already listing gets 429, anyone else 503, both at once.
        same = http.get("/v1/audit-records", headers=bearer(tokens[0]))
        other = http.get("/v1/audit-records", headers=bearer(tokens[3]))
        assert (same.status_code, other.status_code) == (429, 503)
        assert same.headers["Retry-After"] == other.headers["Retry-After"] == "1"
        release.set()
        for thread in running:
            thread.join(10)
    assert results == [200, 200, 200]
    assert http.get("/v1/audit-records", headers=bearer(tokens[3])).status_code == 200


def test_the_access_openapi_document_publishes_security_and_problems() -> None:
    document = http_client(Platform()).get("/openapi.json").json()
    flow = document["components"]["securitySchemes"]["oauth2ClientCredentials"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth2/token"
    listing = document["paths"]["/v1/audit-records"]["get"]
    assert listing["security"] == [{"bearerAuth": []}, {"oauth2ClientCredentials": ["audit:read"]}]
    assert {"401", "403", "404", "409", "413", "422", "429", "503"} <= set(listing["responses"])
    partners = document["paths"]["/v1/partners"]["post"]
    assert partners["security"][1] == {"oauth2ClientCredentials": ["partners:admin"]}
    token = document["paths"]["/oauth2/token"]["post"]
    assert "security" not in token
    assert token["responses"]["401"]["content"]["application/json"]["schema"]["required"] == ["error"]
    assert "application/problem+json" in token["responses"]["429"]["content"]
