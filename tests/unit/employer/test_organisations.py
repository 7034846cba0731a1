"""Use cases on organisations on the real adapters: registration, reads through the access policy, worksites,
licences, recruitment links, the reference check; events and audit stored with each write."""

from __future__ import annotations

import dataclasses

import pytest

from mrc.audit.v1 import audit_pb2
from mrc.employer.v1 import events_pb2
from mrc_employer.domain.licences import LicenceStatus
from mrc_employer.domain.organisation import EmployerKind, OrganisationRole
from mrc_employer.service_layer.organisations import (
    AddRecruitmentLink,
    ChangeLicenceStatus,
    RecordLicence,
)
from mrc_kernel.audit import Action
from mrc_kernel.errors import (
    AlreadyExists,
    Conflict,
    IdempotencyKeyReused,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

from .fakes import (
    AUDITOR,
    BIHAR_LABOUR,
    BRICK_CO,
    CASEWORKER,
    EMPLOYER,
    HELPLINE,
    IDS,
    OPERATOR,
    OTHER_EMPLOYER,
    PUBLIC,
    PUNE,
    PUNE_AUDITOR,
    PUNE_CASEWORKER,
    licence,
    make_service,
    registration,
    types,
    worksite_command,
)

# -- registration -------------------------------------------------------------------------------------


def test_an_operator_registers_an_organisation_with_its_event_and_audit_in_one_document() -> None:
    service = make_service()
    result = service.organisations.register(registration(), OPERATOR)

    organisation = result.organisation
    assert result.created
    assert organisation.organisation_id == IDS.derive("employer", "operators:org-key-1")
    assert organisation.registering_partner_id == "operators"
    assert types(service.events("employers", organisation.organisation_id)) == ["EmployerRegistered", "DataAccessed"]
    (audit,) = service.audit_messages("employers", organisation.organisation_id)
    assert audit.action == audit_pb2.ACCESS_ACTION_CREATE
    assert audit.state_code == "10"


def test_the_registered_event_carries_no_name_identifier_licence_number_or_village() -> None:
    service = make_service()
    organisation = service.organisations.register(registration(), OPERATOR).organisation

    (event, _) = service.events("employers", organisation.organisation_id)
    assert isinstance(event, events_pb2.EmployerRegistered)
    employer = event.employer
    assert employer.employer_id == organisation.organisation_id
    assert employer.legal_name == ""
    assert not employer.identifiers
    assert employer.registration_number == ""
    assert employer.location.village_name == ""
    assert [lic.number for lic in employer.licences] == [""]
    assert employer.location.district_code == "188"
    payload = event.SerializeToString()
    for secret in (b"Kaveri", b"AAACR5055K", b"OSH/BR", b"Kusiyargaon"):
        assert secret not in payload


def test_an_employer_registers_its_own_organisation_under_the_id_its_token_carries() -> None:
    service = make_service()
    first = service.organisations.register(registration(idempotency_key="a"), EMPLOYER)
    assert first.organisation.organisation_id == BRICK_CO

    with pytest.raises(AlreadyExists):
        service.organisations.register(registration(idempotency_key="b"), EMPLOYER)


def test_an_employer_client_without_an_organisation_registers_nothing() -> None:
    service = make_service()
    with pytest.raises(PermissionDenied):
        service.organisations.register(registration(), dataclasses.replace(EMPLOYER, employer_id=""))


@pytest.mark.parametrize("caller", [CASEWORKER, AUDITOR, PUBLIC, BIHAR_LABOUR])
def test_only_employers_and_operators_register(caller: object) -> None:
    with pytest.raises(PermissionDenied):
        make_service().organisations.register(registration(), caller)  # type: ignore[arg-type]


def test_a_retry_returns_the_first_registration_and_another_request_under_the_key_is_refused() -> None:
    service = make_service()
    first = service.organisations.register(registration(), OPERATOR)
    again = service.organisations.register(registration(), OPERATOR)

    assert not again.created
    assert again.organisation.organisation_id == first.organisation.organisation_id
    assert len(service.outbox("employers", first.organisation.organisation_id)) == 2
    with pytest.raises(IdempotencyKeyReused):
        service.organisations.register(registration(legal_name="Another Name Pvt Ltd"), OPERATOR)


def test_a_gstin_or_licence_another_organisation_holds_is_refused() -> None:
    service = make_service()
    service.organisations.register(registration(), OPERATOR)

    with pytest.raises(AlreadyExists) as caught:
        service.organisations.register(registration(idempotency_key="other"), OPERATOR)
    assert "identifiers.0.value" in caught.value.detail
    assert "licences.0.number" in caught.value.detail


def test_the_v1_kind_alone_becomes_the_one_role() -> None:
    service = make_service()
    command = registration(roles=frozenset(), kind=EmployerKind.RECRUITMENT_AGENCY, licences=(), identifiers=())
    organisation = service.organisations.register(command, OPERATOR).organisation
    assert organisation.roles == {OrganisationRole.RECRUITMENT_AGENCY}


def test_a_registration_outside_the_callers_geography_is_refused_naming_the_field() -> None:
    service = make_service()
    bihar_operator = dataclasses.replace(OPERATOR, states=frozenset({"10"}))
    with pytest.raises(InvalidArgument) as caught:
        service.organisations.register(registration(location=PUNE, identifiers=()), bihar_operator)
    assert [v.field for v in caught.value.violations] == ["location.state_code"]


# -- reads through the access policy -------------------------------------------------------------------


@pytest.mark.parametrize("caller", [OPERATOR, CASEWORKER, HELPLINE, AUDITOR, BIHAR_LABOUR, EMPLOYER])
def test_those_admitted_read_an_organisation_and_the_read_is_audited(caller: object) -> None:
    service = make_service()
    organisation = service.organisations.register(registration(idempotency_key="k"), EMPLOYER).organisation
    view = service.organisations.get(organisation.organisation_id, caller)  # type: ignore[arg-type]

    assert view.organisation.legal_name == "Kaveri Constructions Pvt Ltd"
    assert not view.risk_flag.raised
    (record,) = service.audit.records
    assert (record.action, record.resource_id, record.allowed, record.state_code) == (
        Action.READ,
        BRICK_CO,
        True,
        "10",
    )


@pytest.mark.parametrize("caller", [OTHER_EMPLOYER, PUNE_CASEWORKER, PUNE_AUDITOR])
def test_out_of_reach_answers_exactly_like_missing_and_the_attempt_is_audited(caller: object) -> None:
    service = make_service()
    organisation = service.organisations.register(registration(), OPERATOR).organisation

    with pytest.raises(NotFound) as refused:
        service.organisations.get(organisation.organisation_id, caller)  # type: ignore[arg-type]
    with pytest.raises(NotFound) as missing:
        service.organisations.get("00000000-0000-4000-8000-000000000000", caller)  # type: ignore[arg-type]
    assert refused.value.detail == missing.value.detail == "no such employer"
    assert organisation.organisation_id not in refused.value.detail
    (attempt,) = service.audit.records
    assert not attempt.allowed


def test_an_undeclared_purpose_is_refused_and_one_not_granted_answers_not_found() -> None:
    service = make_service()
    organisation_id = service.organisations.register(registration(), OPERATOR).organisation.organisation_id
    with pytest.raises(InvalidArgument):
        service.organisations.get(organisation_id, dataclasses.replace(CASEWORKER, purpose="curiosity"))
    with pytest.raises(NotFound):  # an employer's own client reads for compliance only
        service.organisations.get(BRICK_CO, dataclasses.replace(EMPLOYER, purpose="audit"))
    with pytest.raises(NotFound):
        service.organisations.get(organisation_id, dataclasses.replace(CASEWORKER, purpose="audit"))


def test_a_worksite_in_a_state_brings_the_organisation_into_that_states_reach() -> None:
    service = make_service()
    organisation_id = service.organisations.register(registration(), OPERATOR).organisation.organisation_id
    with pytest.raises(NotFound):
        service.organisations.get(organisation_id, PUNE_AUDITOR)

    service.organisations.add_worksite(worksite_command(organisation_id, location=PUNE), OPERATOR)
    assert service.organisations.get(organisation_id, PUNE_AUDITOR).organisation.organisation_id == organisation_id


def test_the_reference_check_answers_not_found_for_missing_and_out_of_reach_alike() -> None:
    service = make_service()
    organisation_id = service.organisations.register(registration(), OPERATOR).organisation.organisation_id

    checked = service.organisations.check_reference(organisation_id, HELPLINE)
    assert checked.organisation_id == organisation_id
    assert service.audit.records[-1].caller.purpose == "grievance_follow_up"
    for caller, wanted in ((PUNE_CASEWORKER, organisation_id), (HELPLINE, "missing")):
        with pytest.raises(NotFound) as caught:
            service.organisations.check_reference(wanted, caller)
        assert caught.value.detail == "no such employer"


# -- worksites, licences, links ------------------------------------------------------------------------


def test_a_worksite_is_added_once_with_its_event_and_audit() -> None:
    service = make_service()
    organisation_id = service.organisations.register(registration(), OPERATOR).organisation.organisation_id
    worksite, created = service.organisations.add_worksite(worksite_command(organisation_id), OPERATOR)
    again, created_again = service.organisations.add_worksite(worksite_command(organisation_id), OPERATOR)

    assert created and not created_again
    assert again == worksite
    assert types(service.events("employers", organisation_id)) == [
        "EmployerRegistered",
        "DataAccessed",
        "WorksiteAdded",
        "DataAccessed",
    ]
    added = service.events("employers", organisation_id)[2]
    assert isinstance(added, events_pb2.WorksiteAdded)
    assert added.worksite.location.village_name == ""
    with pytest.raises(IdempotencyKeyReused):
        service.organisations.add_worksite(worksite_command(organisation_id, name="Another site"), OPERATOR)


def test_a_worksite_names_every_bad_field_including_an_unset_sphere() -> None:
    service = make_service()
    organisation_id = service.organisations.register(registration(), OPERATOR).organisation.organisation_id
    command = worksite_command(organisation_id, sphere=None, scheduled_employment="Building Work!", kind=None)
    with pytest.raises(InvalidArgument) as caught:
        service.organisations.add_worksite(command, OPERATOR)
    assert {v.field for v in caught.value.violations} == {
        "wage_basis.sphere",
        "kind",
        "wage_basis.scheduled_employment",
    }


def test_an_employer_adds_worksites_to_its_own_organisation_only() -> None:
    service = make_service()
    service.organisations.register(registration(), EMPLOYER)
    other = service.organisations.register(registration(identifiers=(), licences=()), OTHER_EMPLOYER).organisation

    service.organisations.add_worksite(worksite_command(BRICK_CO), EMPLOYER)
    with pytest.raises(NotFound):
        service.organisations.add_worksite(worksite_command(other.organisation_id), EMPLOYER)


def test_a_worksite_outside_the_callers_geography_is_refused() -> None:
    service = make_service()
    organisation_id = service.organisations.register(registration(), OPERATOR).organisation.organisation_id
    with pytest.raises(InvalidArgument) as caught:
        service.organisations.add_worksite(
            worksite_command(organisation_id, location=PUNE), dataclasses.replace(OPERATOR, states=frozenset({"10"}))
        )
    assert caught.value.violations[0].field == "location.state_code"


def test_licences_are_recorded_and_only_operators_record_an_authoritys_decision() -> None:
    service = make_service()
    organisation_id = service.organisations.register(registration(), OPERATOR).organisation.organisation_id
    renewal = licence(number="OSH/BR/2029/0001", valid_from="2029-01-01", valid_until="2030-12-31")

    recorded = service.organisations.record_licence(RecordLicence(organisation_id, renewal), OPERATOR)
    replay = service.organisations.record_licence(RecordLicence(organisation_id, renewal), OPERATOR)
    assert recorded.created and not replay.created
    assert len(recorded.organisation.licences) == 2
    with pytest.raises(Conflict):  # a stale version
        service.organisations.record_licence(
            RecordLicence(organisation_id, licence(number="X-1"), expected_version=1), OPERATOR
        )

    suspend = ChangeLicenceStatus(organisation_id, "OSH/BR/2024/0042", LicenceStatus.SUSPENDED, "inspection report")
    with pytest.raises(PermissionDenied):
        service.organisations.change_licence_status(suspend, EMPLOYER)
    changed = service.organisations.change_licence_status(suspend, OPERATOR)
    assert changed.licences[0].status is LicenceStatus.SUSPENDED
    assert "LicenceStatusChanged" in types(service.events("employers", organisation_id))


def test_recruitment_links_trace_the_chain_and_a_loop_is_refused() -> None:
    service = make_service()
    principal = service.organisations.register(
        registration(
            roles=frozenset({OrganisationRole.PRINCIPAL_EMPLOYER}), identifiers=(), licences=(), idempotency_key="p"
        ),
        OPERATOR,
    ).organisation
    contractor = service.organisations.register(
        registration(identifiers=(), licences=(), idempotency_key="c"), OPERATOR
    ).organisation
    sub = service.organisations.register(
        registration(
            roles=frozenset({OrganisationRole.SUB_CONTRACTOR}), identifiers=(), licences=(), idempotency_key="s"
        ),
        OPERATOR,
    ).organisation

    link, created = service.organisations.add_recruitment_link(
        AddRecruitmentLink(contractor.organisation_id, principal.organisation_id, "2024-04-01", idempotency_key="l1"),
        OPERATOR,
    )
    assert created and link.recruiter_id == contractor.organisation_id
    service.organisations.add_recruitment_link(
        AddRecruitmentLink(sub.organisation_id, contractor.organisation_id, "2024-05-01", idempotency_key="l2"),
        OPERATOR,
    )
    assert service.repository.get(contractor.organisation_id).recruited_by == {sub.organisation_id}  # type: ignore[union-attr]
    assert "RecruitmentLinkAdded" in types(service.events("employers", contractor.organisation_id))

    with pytest.raises(Conflict) as loop:  # the contractor recruiting for its own sub-contractor
        service.organisations.add_recruitment_link(
            AddRecruitmentLink(contractor.organisation_id, sub.organisation_id, "2024-06-01", idempotency_key="l3"),
            OPERATOR,
        )
    assert "loop" in loop.value.detail
    with pytest.raises(InvalidArgument):  # an unknown client
        service.organisations.add_recruitment_link(
            AddRecruitmentLink(contractor.organisation_id, "nobody", "2024-06-01", idempotency_key="l4"), OPERATOR
        )
