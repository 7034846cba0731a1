"""Getting real tokens from the running access service, for each role the tests act as."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx

OPERATOR_CLIENT_ID = "mrc-operator"
OPERATOR_CLIENT_SECRET = "dev-operator-secret"


@dataclass
class Actor:
    """A client of one partner, with its bearer token."""

    role: str
    partner_id: str
    client_id: str
    client_secret: str
    token: str
    employer_id: str = ""
    states: list[str] = field(default_factory=list)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def metadata(self, *extra: tuple[str, str]) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.token}"), *extra]


class AccessClient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def token(self, client_id: str, client_secret: str, audience: str = "") -> str:
        form = {"grant_type": "client_credentials"}
        if audience:
            form["audience"] = audience
        response = self.http.post("/oauth2/token", data=form, auth=(client_id, client_secret))
        response.raise_for_status()
        return str(response.json()["access_token"])

    def operator_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(OPERATOR_CLIENT_ID, OPERATOR_CLIENT_SECRET)}"}

    def partner(self, kind: str, *, states: list[str] | None = None, employer_id: str = "") -> str:
        response = self.http.post(
            "/v1/partners",
            json={
                "name": f"Test {kind} {uuid.uuid4().hex[:6]}",
                "kind": kind,
                "state_codes": states or [],
                "employer_id": employer_id,
            },
            headers={**self.operator_headers(), "Idempotency-Key": str(uuid.uuid4())},
        )
        response.raise_for_status()
        return str(response.json()["partner_id"])

    def actor(
        self,
        role: str,
        partner_id: str,
        *,
        employer_id: str = "",
        states: list[str] | None = None,
        district_codes: list[str] | None = None,
    ) -> Actor:
        """A new client of the partner. With `district_codes`, the client itself is limited to those districts
        (and to `states`); otherwise it covers the partner's geography."""
        body: dict[str, object] = {"roles": [role]}
        if district_codes:
            body |= {"state_codes": states or [], "district_codes": district_codes}
        response = self.http.post(f"/v1/partners/{partner_id}/clients", json=body, headers=self.operator_headers())
        response.raise_for_status()
        body = response.json()
        client_id, secret = (
            body["client"]["client_id"] if "client" in body else body["client_id"],
            body["client_secret"],
        )
        return Actor(role, partner_id, client_id, secret, self.token(client_id, secret), employer_id, states or [])

    def revoke(self, client_id: str) -> None:
        self.http.post(f"/v1/clients/{client_id}:revoke", headers=self.operator_headers()).raise_for_status()
