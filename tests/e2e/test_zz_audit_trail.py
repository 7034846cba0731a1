"""Runs last (by name): every successful read of personal or case data made by this suite left an
audit record that an auditor can find, naming the client that read it."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import SENSITIVE_READS
from tests.support.access import Actor
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


def test_every_sensitive_read_in_the_suite_is_in_the_audit_trail(
    http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    auditor = actors["auditor"].headers()
    # Make sure at least one read happened even when this file runs alone.
    registrar = actors["registrar"]
    created = http["registry"].post(
        "/v1/workers",
        json={
            "full_name": "Audit Trail Check",
            "gender": "male",
            "home": {"state_code": "10", "district_code": "212"},
            "consent": {"purposes": ["registration"], "method": "signature"},
        },
        headers=registrar.headers(),
    )
    assert (
        http["registry"].get(f"/v1/workers/{created.json()['worker_id']}", headers=registrar.headers()).status_code
        == 200
    )
    reads = {(r.resource_type, r.resource_id, r.client_id) for r in SENSITIVE_READS}
    assert reads

    def missing() -> list[tuple[str, str, str]]:
        absent = []
        for resource_type, resource_id, client_id in sorted(reads):
            page = http["access"].get(
                "/v1/audit-records",
                params={"resource_type": resource_type, "resource_id": resource_id, "page_size": 200},
                headers=auditor,
            )
            assert page.status_code == 200, page.text
            if not any(
                r["action"] == "read" and r["outcome"] == "allowed" and r["actor"]["client_id"] == client_id
                for r in page.json()["records"]
            ):
                absent.append((resource_type, resource_id, client_id))
        return absent

    eventually(lambda: not missing(), timeout=30, interval=1)
