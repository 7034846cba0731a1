"""The registry's other adapters on the real store, with each strategy: the match review queue per partner and
its conditional writes (one code challenge wins), erasure requests, the local SMS outbox the end-to-end tests
read, households found by member, migration episodes by worker."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from mrc_kernel.errors import Conflict, IdempotencyKeyReused
from mrc_kernel.place import Place
from mrc_plumbing.store import DocumentStore
from mrc_registry.adapters.erasure_requests import StoredErasureRequests
from mrc_registry.adapters.mongo_households import StoredHouseholds, StoredMigrations
from mrc_registry.adapters.mongo_reviews import StoredReviews
from mrc_registry.adapters.text_messages import LOCAL_OUTBOX, LocalTextMessages
from mrc_registry.domain.household import Household, Member, Relationship
from mrc_registry.domain.migration import Location, MigrationEpisode, MigrationStatus, RecruitmentChannel
from mrc_registry.domain.verification import CodeChallenge
from mrc_registry.service_layer.deduplication import MatchKind, MatchReview, ReviewStatus
from mrc_registry.service_layer.erasure import ErasureRequest, ErasureStatus

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


def review(review_id: str, partner_ids: tuple[str, ...] = ("cso-a", "cso-b")) -> MatchReview:
    return MatchReview(
        review_id=review_id,
        worker_id=f"new-{review_id}",
        candidate_id=f"old-{review_id}",
        score=1.0,
        reasons=("same aadhaar",),
        status=ReviewStatus.PENDING,
        created_at=NOW,
        kind=MatchKind.CERTAIN,
        requested_by_partner_id="cso-b",
        partner_ids=partner_ids,
    )


@pytest.fixture
def reviews(store: DocumentStore) -> StoredReviews:
    stored = StoredReviews(store)
    stored.ensure_indexes()
    return stored


def test_reviews_are_queued_once_and_listed_per_partner_in_id_order(reviews: StoredReviews) -> None:
    reviews.add_pending([review("r-2"), review("r-1"), review("r-3", partner_ids=("cso-c",))])
    reviews.add_pending([review("r-1")])  # a retried registration queues the same review again

    assert [r.review_id for r in reviews.pending_for("cso-a", after="", limit=10)] == ["r-1", "r-2"]
    assert [r.review_id for r in reviews.pending_for("cso-a", after="r-1", limit=10)] == ["r-2"]
    assert [r.review_id for r in reviews.pending_for("cso-c", after="", limit=10)] == ["r-3"]
    assert reviews.pending_for("cso-z", after="", limit=10) == []
    assert reviews.get("r-1") == review("r-1")


def test_a_review_is_resolved_once(reviews: StoredReviews) -> None:
    reviews.add_pending([review("r-1")])

    assert reviews.resolve("r-1", ReviewStatus.MERGED, "client-1", NOW, "one_time_code")
    assert not reviews.resolve("r-1", ReviewStatus.KEPT_APART, "client-2", NOW)

    resolved = reviews.get("r-1")
    assert resolved is not None
    assert (resolved.status, resolved.resolved_by, resolved.evidence) == (
        ReviewStatus.MERGED,
        "client-1",
        "one_time_code",
    )
    assert resolved.resolved_at == NOW
    assert reviews.pending_for("cso-a", after="", limit=10) == []


def test_of_two_concurrent_code_challenges_exactly_one_is_stored(reviews: StoredReviews) -> None:
    reviews.add_pending([review("r-1")])
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def send(code_hash: str) -> None:
        barrier.wait(timeout=10)
        results.append(reviews.set_challenge("r-1", CodeChallenge.first(code_hash, NOW), previous=None))

    threads = [threading.Thread(target=send, args=(h,)) for h in ("hash-1", "hash-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, True]
    stored = reviews.get("r-1")
    assert stored is not None and stored.challenge is not None
    # A wrong attempt counted against a challenge replaced meanwhile is refused.
    first = stored.challenge
    resent = first.resent("hash-3", NOW + timedelta(minutes=2))
    assert reviews.set_challenge("r-1", resent, previous=first)
    assert not reviews.set_challenge("r-1", first.checked("x", NOW)[0], previous=first)
    after = reviews.get("r-1")
    assert after is not None and after.challenge == resent


def test_erasure_requests_keep_a_hashed_challenge_and_complete_once(store: DocumentStore) -> None:
    requests = StoredErasureRequests(store)
    challenge = CodeChallenge.first("hash-1", NOW)
    requests.add(ErasureRequest("e-1", "w-1", "cso-b", "asked at our office", NOW, challenge))

    stored = requests.get("e-1")
    assert stored is not None and stored.challenge == challenge and stored.status is ErasureStatus.PENDING
    wrong = challenge.checked("hash-2", NOW)[0]
    assert requests.set_challenge("e-1", wrong, previous=challenge)
    assert not requests.set_challenge("e-1", wrong, previous=challenge)  # the attempt count moved on
    assert requests.complete("e-1", NOW)
    assert not requests.complete("e-1", NOW)
    done = requests.get("e-1")
    assert done is not None and (done.status, done.completed_at) == (ErasureStatus.COMPLETED, NOW)
    assert requests.get("e-9") is None


def test_the_local_sms_outbox_keeps_the_text_by_reference_and_only_the_last_four_digits(
    store: DocumentStore, db: Database[Any]
) -> None:
    messages = LocalTextMessages(store)
    messages.send("+919876543210", "MRC: your code is 123456.", reference="review-1")
    messages.send("+919876543210", "MRC: your code is 654321.", reference="review-1")

    kept = list(db[LOCAL_OUTBOX].find({"reference": "review-1"}).sort("sent_at", 1))
    assert [m["text"] for m in kept] == ["MRC: your code is 123456.", "MRC: your code is 654321."]
    assert {m["to_last4"] for m in kept} == {"3210"}
    assert "9876543210" not in str(kept)


def household(household_id: str, *worker_ids: str) -> Household:
    members = [Member(relationship=Relationship.HEAD, name="Kamla Devi")]
    members += [Member(relationship=Relationship.CHILD, worker_id=w) for w in worker_ids]
    return Household.create(
        household_id=household_id,
        members=members,
        masked_ration_card="",
        ration_card_token="",
        registering_partner_id="cso-a",
        now=NOW,
        home=Place("10", "212"),
    )


def test_households_are_found_by_member_and_replaced_only_at_the_version_read(store: DocumentStore) -> None:
    households = StoredHouseholds(store)
    households.ensure_indexes()
    households.add(household("h-1", "w-1", "w-2"), idempotency_key="k1", fingerprint="f", also_publish=[])
    households.add(household("h-2", "w-2"), idempotency_key="k2", fingerprint="f", also_publish=[])
    households.add(household("h-3", "w-3"), idempotency_key="k3", fingerprint="f", also_publish=[])
    with pytest.raises(IdempotencyKeyReused):
        households.add(household("h-4"), idempotency_key="k1", fingerprint="other", also_publish=[])

    assert sorted(h.household_id for h in households.with_member("w-2")) == ["h-1", "h-2"]
    assert households.with_member("") == []
    first = households.get("h-1")
    assert first is not None and first.home == Place("10", "212")
    assert first.remove_worker("w-1", NOW)
    households.update_members(first, expected_version=1, also_publish=[])
    stale = household("h-1", "w-2")
    stale.replace_members(stale.members, expected_version=1, now=NOW)
    with pytest.raises(Conflict):
        households.update_members(stale, expected_version=1, also_publish=[])
    stored = households.get("h-1")
    assert stored is not None and stored.registered_worker_ids() == ["w-2"] and stored.version == 2


def episode(episode_id: str, worker_id: str, start: str, partner_id: str = "cso-a") -> MigrationEpisode:
    return MigrationEpisode.record(
        episode_id=episode_id,
        worker_id=worker_id,
        origin=Location("10", "212"),
        destination=Location("27", "490"),
        destination_country="",
        sector="construction",
        employer_id="",
        recruitment_channel=RecruitmentChannel.AGENT,
        start_date=start,
        end_date="",
        status=MigrationStatus.ONGOING,
        recorded_by_partner_id=partner_id,
        now=NOW,
    )


def test_episodes_are_listed_by_worker_and_start_date_and_erased_with_the_worker(store: DocumentStore) -> None:
    migrations = StoredMigrations(store)
    migrations.ensure_indexes()
    for episode_id, worker_id, start, partner in (
        ("e-1", "w-1", "2024-03-01", "cso-a"),
        ("e-2", "w-1", "2019-10-15", "cso-b"),
        ("e-3", "w-2", "2022-06-30", "cso-a"),
    ):
        migrations.add(
            episode(episode_id, worker_id, start, partner), idempotency_key=episode_id, fingerprint="f", also_publish=[]
        )
    replay, created = migrations.add(
        episode("e-9", "w-1", "2024-03-01"), idempotency_key="e-1", fingerprint="f", also_publish=[]
    )

    assert not created and replay.episode_id == "e-1"
    assert [e.episode_id for e in migrations.list_for_worker("w-1")] == ["e-2", "e-1"]
    assert migrations.erase_worker("w-1") == 2
    assert migrations.list_for_worker("w-1") == []
    assert [e.episode_id for e in migrations.list_for_worker("w-2")] == ["e-3"]
