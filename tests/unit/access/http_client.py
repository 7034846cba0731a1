"""The access service's REST app over fakes, for TestClient."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.testclient import TestClient

from mrc_access.entrypoints.http_api import create_access_http_app
from tests.unit.access.fakes import OPERATOR_ID, OPERATOR_SECRET, Platform


def http_client(platform: Platform, *, address: str = "198.51.100.7", **limits: Any) -> TestClient:
    """`address` is the socket peer the app sees; `limits`: `guard`, `token_limits`, `listings`."""
    app = create_access_http_app(
        administration=platform.administration,
        tokens=platform.tokens,
        key_ring=platform.key_ring,
        audit_trail=platform.audit_trail,
        verifier=platform.verifier,
        **limits,
    )
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def basic(client_id: str = OPERATOR_ID, secret: str = OPERATOR_SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
