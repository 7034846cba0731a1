"""The repository adapter over an in-memory collection: the summary is stored encrypted, read back in clear.

The real field cipher (in-memory key store) runs here, so these are the tokens the service stores.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrc_grievance.adapters.mongo_repository import SUMMARY_FIELD, FieldCipher, MongoGrievanceRepository
from mrc_grievance.domain.grievance import GrievanceCategory, GrievanceStatus
from mrc_grievance.entrypoints.http_api import grievances_router
from mrc_grievance.service_layer.filing import FilingService
from mrc_grievance.service_layer.worker_events import ERASED_SUMMARY, WorkerEventsService
from mrc_kernel.errors import NotFound
from mrc_plumbing.crypto import DecryptionError, is_token, token_info
from mrc_plumbing.http_app import create_http_app
from tests.support.auth import RecordingAudit, bearer, http_auth, role_tokens

from .fake_mongo import FakeCollection
from .fakes import CASEWORKER, HELPLINE, IN_MAHARASHTRA, NOW, CountingNotifier, FakeCipher, command, real_cipher

SUMMARY = "Contractor has not paid wages for six weeks; ठेकेदार ने पैसे नहीं दिए."


class Store:
    def __init__(self, cipher: FieldCipher | None = None) -> None:
        self.cipher = cipher or real_cipher()
        self.collection, self.erased_workers = FakeCollection(), FakeCollection()
        self.repository = MongoGrievanceRepository(
            self.cipher,
            self.collection,  # type: ignore[arg-type]
            self.erased_workers,  # type: ignore[arg-type]
        )
        ids = itertools.count(1)
        self.audit = RecordingAudit(service="grievance")
        self.filing = FilingService(
            self.repository, CountingNotifier(), self.audit, clock=lambda: NOW, new_id=lambda: f"id-{next(ids)}"
        )
        self.worker_events = WorkerEventsService(self.repository, clock=lambda: NOW)

    def file(self, **overrides: Any) -> str:
        values: dict[str, Any] = {"summary": SUMMARY, "idempotency_key": f"key-{len(self.collection.documents)}"}
        values.update(overrides)
        return self.filing.file(command(**values), HELPLINE).grievance.grievance_id

    def raw(self, grievance_id: str) -> dict[str, Any]:
        return copy.deepcopy(self.collection.documents[grievance_id])


@pytest.fixture
def store() -> Store:
    return Store()


def contains_text(value: object, text: str) -> bool:
    """Whether `text` appears anywhere in a stored value, as a string or in bytes (outbox event data)."""
    if isinstance(value, str):
        return text in value
    if isinstance(value, bytes):
        return text.encode() in value
    if isinstance(value, dict):
        return any(contains_text(v, text) for v in value.values())
    if isinstance(value, list):
        return any(contains_text(v, text) for v in value)
    return False


def test_the_stored_document_holds_no_summary_in_clear(store: Store) -> None:
    grievance_id = store.file()

    doc = store.raw(grievance_id)

    for text in (SUMMARY, "six weeks", "ठेकेदार"):
        assert not contains_text(doc, text)
    assert is_token(doc["summary"])
    assert token_info(doc["summary"]).state_code == "10"  # the data key of the grievance's state
    assert doc["outbox"], "the GrievanceFiled event waits in the document"


def test_the_token_opens_only_as_a_grievance_summary(store: Store) -> None:
    token = store.raw(store.file())["summary"]

    assert store.cipher.decrypt(SUMMARY_FIELD, token) == SUMMARY
    with pytest.raises(DecryptionError):
        store.cipher.decrypt("registry.notes", token)


def test_reads_return_the_decrypted_summary(store: Store) -> None:
    grievance_id = store.file()

    assert store.repository.get(grievance_id).summary == SUMMARY  # type: ignore[union-attr]
    assert store.filing.get(grievance_id, CASEWORKER).summary == SUMMARY


def test_a_retried_filing_returns_the_first_grievance_decrypted(store: Store) -> None:
    first = store.filing.file(command(summary=SUMMARY, idempotency_key="k"), HELPLINE)
    retry = store.filing.file(command(summary=SUMMARY, idempotency_key="k"), HELPLINE)

    assert not retry.created
    assert retry.grievance == first.grievance
    assert retry.grievance.summary == SUMMARY


def test_the_adapter_calls_its_cipher_port_with_the_state_and_field() -> None:
    cipher = FakeCipher()
    store = Store(cipher)

    grievance_id = store.file()

    assert cipher.encrypted == [("10", SUMMARY_FIELD)]
    assert store.raw(grievance_id)["summary"].startswith("fake:10:grievance.summary:")
    assert store.filing.get(grievance_id, CASEWORKER).summary == SUMMARY


def test_over_rest_an_allowed_caller_reads_the_summary_and_others_do_not(store: Store) -> None:
    app = create_http_app(service="grievance", title="MRC Grievance (test)")
    tokens = role_tokens()
    app.include_router(grievances_router(store.filing, http_auth(tokens)))
    client = TestClient(app)
    body = {
        "worker_id": "worker-1",
        "category": "wage_theft",
        "channel": "helpline",
        "summary": SUMMARY,
        "location": {"state_code": "10", "district_code": "188", "subdistrict_code": "1116"},
    }

    created = client.post("/v1/grievances", json=body, headers={"Idempotency-Key": "k", **bearer("helpline_agent")})
    location = created.headers["Location"]
    read = client.get(location, headers=bearer("caseworker"))

    assert created.status_code == 201
    assert read.status_code == 200
    assert read.json()["summary"] == SUMMARY
    assert not contains_text(store.raw(created.json()["grievance_id"]), SUMMARY)
    assert client.get(location, headers=bearer("employer")).status_code == 403


def test_a_caller_outside_the_geography_never_gets_the_summary(store: Store) -> None:
    grievance_id = store.file()

    with pytest.raises(NotFound) as caught:
        store.filing.get(grievance_id, IN_MAHARASHTRA)

    assert SUMMARY not in str(caught.value)


def test_anonymising_a_worker_keeps_only_what_counts_need(store: Store) -> None:
    mine = [store.file(), store.file(category=GrievanceCategory.UNSAFE_WORK)]
    other = store.file(worker_id="worker-2")
    anonymous = store.file(worker_id="", anonymous=True)
    before = {g: store.raw(g) for g in (other, anonymous)}

    assert store.worker_events.worker_erased("worker-1") == 2

    for grievance_id in mine:
        doc = store.raw(grievance_id)
        assert doc["worker_id"] == ""
        assert not contains_text(doc, "six weeks")
        assert is_token(doc["summary"])
        grievance = store.filing.get(grievance_id, CASEWORKER)
        assert (grievance.worker_id, grievance.summary) == ("", ERASED_SUMMARY)
        assert grievance.status is GrievanceStatus.OPEN
        assert grievance.location.district_code == "188"
    assert store.filing.get(mine[1], CASEWORKER).category is GrievanceCategory.UNSAFE_WORK
    assert {g: store.raw(g) for g in (other, anonymous)} == before


def test_anonymising_again_changes_nothing(store: Store) -> None:
    grievance_id = store.file()
    store.worker_events.worker_erased("worker-1")
    after_first = store.raw(grievance_id)

    assert store.worker_events.worker_erased("worker-1") == 0
    assert store.raw(grievance_id) == after_first


def test_an_empty_worker_id_touches_no_anonymous_grievance(store: Store) -> None:
    anonymous = store.file(worker_id="", anonymous=True)
    before = store.raw(anonymous)

    assert store.repository.anonymise_worker("", ERASED_SUMMARY) == 0
    assert store.repository.rekey_worker("", "worker-9") == 0
    assert store.raw(anonymous) == before


def test_rekeying_moves_the_merged_workers_grievances_once(store: Store) -> None:
    dup = [store.file(worker_id="worker-dup"), store.file(worker_id="worker-dup")]
    own = store.file(worker_id="worker-1")

    assert store.worker_events.workers_merged("worker-dup", "worker-1") == 2
    assert store.worker_events.workers_merged("worker-dup", "worker-1") == 0

    assert [store.raw(g)["worker_id"] for g in [*dup, own]] == ["worker-1"] * 3
    assert store.filing.get(dup[0], CASEWORKER).summary == SUMMARY


def test_an_erased_worker_is_remembered_once_by_id_and_time_only(store: Store) -> None:
    assert store.repository.remember_erased("worker-1", at=NOW) is True
    assert store.repository.remember_erased("worker-1", at=NOW.replace(year=2026)) is False  # redelivered

    assert store.erased_workers.documents == {"worker-1": {"_id": "worker-1", "erased_at": NOW}}
    assert store.repository.is_erased("worker-1")
    assert not store.repository.is_erased("worker-2")


def test_a_merge_into_an_erased_worker_anonymises_instead_of_moving(store: Store) -> None:
    dup = store.file(worker_id="worker-dup")
    store.worker_events.worker_erased("worker-1")

    assert store.worker_events.workers_merged("worker-dup", "worker-1") == 1
    assert store.worker_events.workers_merged("worker-dup", "worker-1") == 0

    doc = store.raw(dup)
    assert doc["worker_id"] == ""
    assert not contains_text(doc, "six weeks")
    assert store.filing.get(dup, CASEWORKER).summary == ERASED_SUMMARY
    assert set(store.erased_workers.documents) == {"worker-1", "worker-dup"}
