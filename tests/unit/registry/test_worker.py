"""The worker aggregate and consent rules, without the service layer."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument, NotFound
from mrc_registry.domain.consent import (
    CaptureMethod,
    Consent,
    ConsentPurpose,
    active_purposes,
    shares_with,
    validate_consent,
)
from mrc_registry.domain.worker import (
    ConsentChanged,
    DocumentKind,
    Gender,
    IdentityDocument,
    Place,
    ProtectedPhone,
    Sector,
    Worker,
    WorkerDetails,
    WorkerErased,
    WorkerRegistered,
    WorkersMerged,
    WorkerStatus,
    WorkerUpdated,
)

from .fakes import NOW, PATNA

LATER = NOW + timedelta(days=1)
PHONE = ProtectedPhone(encrypted="enc:phone:+919876543210", blind_index="bi:phone:+919876543210", last4="3210")
AADHAAR_DOC = IdentityDocument(DocumentKind.AADHAAR, "bi:aadhaar:234567890124", "XXXX XXXX 0124")
VOTER_DOC = IdentityDocument(DocumentKind.VOTER_ID, "bi:voter_id:ABC1234567", "XXXXXX4567", "enc:voter:ABC1234567")


def details(**overrides: object) -> WorkerDetails:
    values: dict[str, object] = {
        "full_name": "  सीता   देवी ",
        "gender": Gender.FEMALE,
        "birth_year": 1994,
        "home": PATNA,
        "occupation": " construction helper ",
        "sector": Sector.CONSTRUCTION,
        "skills": (" plastering ", "", "tiling"),
        "languages": ("HI", " mai"),
        "phone": PHONE,
        "identity_documents": (AADHAAR_DOC,),
        "latin_name": "sita devi",
    }
    values.update(overrides)
    return WorkerDetails(**values)  # type: ignore[arg-type]


def consent(consent_id: str = "c-1", **overrides: object) -> Consent:
    values: dict[str, object] = {
        "consent_id": consent_id,
        "purposes": frozenset({ConsentPurpose.REGISTRATION}),
        "method": CaptureMethod.THUMBPRINT,
        "captured_by_partner_id": "partner-a",
        "captured_at": NOW,
    }
    values.update(overrides)
    return Consent(**values)  # type: ignore[arg-type]


def register(worker_id: str = "w-1", **overrides: object) -> Worker:
    return Worker.register(
        worker_id=worker_id,
        details=details(**overrides),
        consent=consent(),
        registering_partner_id="partner-a",
        now=NOW,
    )


def violated_fields(**overrides: object) -> set[str]:
    with pytest.raises(InvalidArgument) as caught:
        register(**overrides)
    return {v.field for v in caught.value.violations}


def test_registration_normalises_the_details_and_raises_one_event() -> None:
    worker = register()

    assert worker.details.full_name == "सीता देवी"
    assert worker.details.occupation == "construction helper"
    assert worker.details.skills == ("plastering", "tiling")
    assert worker.details.languages == ("hi", "mai")
    assert worker.pending_events == [WorkerRegistered(worker)]
    assert worker.registered_at == worker.updated_at == NOW
    assert worker.status is WorkerStatus.ACTIVE
    assert worker.version == 1
    assert worker.consents == [consent()]


def test_every_invalid_field_is_named() -> None:
    assert violated_fields(full_name="   ") == {"full_name"}
    assert violated_fields(full_name="x" * 201) == {"full_name"}
    assert violated_fields(birth_year=1850) == {"birth_year"}
    assert violated_fields(birth_year=NOW.year - 1) == {"birth_year"}  # a one-year-old is no migrant worker
    assert violated_fields(gender=None) == {"gender"}
    assert violated_fields(home=Place("10", "99")) == {"home.district_code"}
    assert violated_fields(home=Place("77", "212")) == {"home.state_code"}
    assert violated_fields(home=Place("10", "212", "1116")) == {"home.subdistrict_code"}
    assert violated_fields(home=Place("10", "212", village_name="v" * 201)) == {"home.village_name"}
    assert violated_fields(languages=("hindi",)) == {"languages"}
    assert violated_fields(skills=tuple(f"s{n}" for n in range(21))) == {"skills"}
    assert violated_fields(identity_documents=(AADHAAR_DOC, AADHAAR_DOC)) == {"identity_documents"}
    assert violated_fields(full_name="", gender=None, birth_year=1) == {"full_name", "gender", "birth_year"}


def test_violations_found_before_the_domain_are_reported_with_its_own() -> None:
    with pytest.raises(InvalidArgument) as caught:
        Worker.register(
            worker_id="w-1",
            details=details(gender=None),
            consent=consent(),
            registering_partner_id="partner-a",
            now=NOW,
            extra_violations=[FieldViolation("phone", "is not a phone number")],
        )

    assert [v.field for v in caught.value.violations] == ["phone", "gender"]


def test_birth_year_is_optional() -> None:
    assert register(birth_year=None).details.birth_year is None


def test_update_changes_only_what_differs_and_names_it() -> None:
    worker = register()
    worker.pending_events.clear()

    changed = worker.update(replace(worker.details, occupation="tiler", phone=None), LATER)

    assert changed == ("occupation", "phone")
    assert worker.details.occupation == "tiler"
    assert worker.details.phone is None
    assert worker.version == 2
    assert worker.updated_at == LATER
    assert worker.pending_events == [WorkerUpdated(worker, ("occupation", "phone"))]


def test_an_update_that_changes_nothing_raises_no_event() -> None:
    worker = register()
    worker.pending_events.clear()

    assert worker.update(replace(worker.details, full_name=" सीता देवी"), LATER) == ()
    assert worker.version == 1
    assert worker.pending_events == []


def test_update_at_a_stale_version_is_a_conflict() -> None:
    worker = register()
    worker.update(replace(worker.details, occupation="tiler"), LATER)

    with pytest.raises(Conflict):
        worker.update(replace(worker.details, occupation="painter"), LATER, expected_version=1)
    assert worker.update(replace(worker.details, occupation="painter"), LATER, expected_version=2) == ("occupation",)


def test_invalid_corrections_are_refused_and_change_nothing() -> None:
    worker = register()

    with pytest.raises(InvalidArgument):
        worker.update(replace(worker.details, full_name=""), LATER)
    assert worker.details.full_name == "सीता देवी"
    assert worker.version == 1


def test_consent_is_granted_and_revoked_with_events() -> None:
    worker = register()
    worker.pending_events.clear()
    sharing = consent("c-2", purposes=frozenset({ConsentPurpose.PARTNER_SHARING}), captured_at=LATER)

    worker.grant_consent(sharing)
    revoked = worker.revoke_consent("c-2", LATER + timedelta(hours=1))

    assert revoked.revoked_at == LATER + timedelta(hours=1)
    assert worker.consents == [consent(), revoked]
    assert worker.version == 3
    assert worker.pending_events == [ConsentChanged(worker, sharing), ConsentChanged(worker, revoked)]
    assert worker.active_purposes(LATER + timedelta(hours=2)) == {"registration"}


def test_revoking_an_unknown_or_revoked_consent_is_not_found() -> None:
    worker = register()
    worker.revoke_consent("c-1", LATER)

    with pytest.raises(NotFound):
        worker.revoke_consent("c-1", LATER)
    with pytest.raises(NotFound):
        worker.revoke_consent("nope", LATER)


def test_erasure_keeps_only_what_anonymous_counts_need() -> None:
    worker = register(father_or_spouse_name="Ram")
    worker.pending_events.clear()

    worker.erase(LATER)
    worker.erase(LATER)  # twice is once

    assert worker.details == WorkerDetails(
        full_name="", gender=Gender.FEMALE, birth_year=None, home=Place("10", "212"), sector=Sector.CONSTRUCTION
    )
    assert worker.consents == []
    assert worker.status is WorkerStatus.ERASED
    assert worker.pending_events == [WorkerErased("w-1", LATER)]
    assert worker.version == 2


def test_a_merged_worker_takes_no_more_changes() -> None:
    worker = register()
    worker.pending_events.clear()

    worker.merge_into("w-2", LATER)

    assert worker.status is WorkerStatus.MERGED
    assert worker.merged_into == "w-2"
    assert worker.pending_events == [WorkersMerged("w-2", "w-1", LATER)]
    with pytest.raises(NotFound):
        worker.update(worker.details, LATER)
    with pytest.raises(NotFound):
        worker.grant_consent(consent("c-9"))


def test_a_worker_cannot_be_merged_into_itself() -> None:
    with pytest.raises(InvalidArgument) as caught:
        register().merge_into("w-1", LATER)

    assert caught.value.violations[0].field == "surviving_worker_id"


def test_the_survivor_absorbs_consents_documents_and_phone_it_lacked() -> None:
    survivor = register("w-1", phone=None, identity_documents=(AADHAAR_DOC,))
    duplicate = register("w-2", identity_documents=(VOTER_DOC,))
    duplicate.consents = [consent("c-1"), consent("c-b", captured_by_partner_id="partner-b")]
    survivor.pending_events.clear()

    survivor.absorb(duplicate, LATER)

    assert [c.consent_id for c in survivor.consents] == ["c-1", "c-b"]  # the shared consent is not doubled
    assert survivor.details.identity_documents == (AADHAAR_DOC, VOTER_DOC)
    assert survivor.details.phone == PHONE
    assert survivor.version == 2
    assert survivor.pending_events == [WorkerUpdated(survivor, ("consents", "identity_documents", "phone"))]


def test_places_are_the_home_for_data_scoping() -> None:
    assert register().places() == [("10", "212")]


# -- consent rules -------------------------------------------------------------------------------


def consent_violations(**overrides: object) -> set[str]:
    values: dict[str, object] = {
        "purposes": frozenset({ConsentPurpose.REGISTRATION}),
        "method": CaptureMethod.SIGNATURE,
        "witness_name": "",
        "shared_with_partner_ids": frozenset(),
        "expires_at": None,
        "now": NOW,
    }
    values.update(overrides)
    return {v.field for v in validate_consent(**values)}  # type: ignore[arg-type]


def test_consent_rules_name_the_field() -> None:
    assert consent_violations() == set()
    assert consent_violations(purposes=frozenset()) == {"consent.purposes"}
    assert consent_violations(method=None) == {"consent.method"}
    assert consent_violations(method=CaptureMethod.VERBAL_WITH_WITNESS) == {"consent.witness_name"}
    assert consent_violations(method=CaptureMethod.VERBAL_WITH_WITNESS, witness_name="Ramesh, ward member") == set()
    assert consent_violations(purposes=frozenset({ConsentPurpose.PARTNER_SHARING})) == {
        "consent.shared_with_partner_ids"
    }
    assert consent_violations(shared_with_partner_ids=frozenset(f"p{n}" for n in range(51))) == {
        "consent.shared_with_partner_ids"
    }
    assert consent_violations(expires_at=NOW) == {"consent.expires_at"}


def test_expired_and_revoked_consents_stop_counting() -> None:
    expiring = consent("c-1", expires_at=LATER)
    revoked = consent("c-2", purposes=frozenset({ConsentPurpose.GRIEVANCE_FOLLOW_UP})).revoked(NOW)

    assert active_purposes([expiring, revoked], NOW) == {ConsentPurpose.REGISTRATION}
    assert active_purposes([expiring, revoked], LATER) == frozenset()


def test_who_a_consent_shares_with() -> None:
    sharing = consent(
        purposes=frozenset({ConsentPurpose.PARTNER_SHARING}), shared_with_partner_ids=frozenset({"partner-b"})
    )
    government = consent(purposes=frozenset({ConsentPurpose.GOVERNMENT_SHARING}))

    assert shares_with([consent()], "partner-a", "cso", NOW)  # the partner that captured it
    assert not shares_with([consent()], "partner-b", "cso", NOW)
    assert shares_with([sharing], "partner-b", "cso", NOW)
    assert not shares_with([sharing], "partner-c", "cso", NOW)
    assert shares_with([government], "labour-dept", "government", NOW)
    assert not shares_with([government], "partner-b", "cso", NOW)
    assert not shares_with([sharing.revoked(NOW)], "partner-b", "cso", NOW)
