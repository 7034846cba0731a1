from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from mrc_employer.domain.identifiers import IdentifierKind, OrganisationIdentifier
from mrc_employer.domain.licences import LicenceKind, LicenceStatus
from mrc_employer.domain.organisation import (
    EmployerKind,
    IdentifierInput,
    LicenceRecorded,
    LicenceStatusChanged,
    OrganisationRegistered,
    OrganisationRole,
)
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound

from .support import ARARIA, NOW, RA_CERTIFICATE, RELIANCE_GSTIN, RELIANCE_PAN, licence, organisation


def test_registering_keeps_typed_identifiers_and_licences_and_raises_one_event() -> None:
    org = organisation(legal_name="  Kaveri   Constructions Pvt Ltd ")

    assert org.legal_name == "Kaveri Constructions Pvt Ltd"
    assert org.identifiers == (
        OrganisationIdentifier(IdentifierKind.GSTIN, RELIANCE_GSTIN),
        OrganisationIdentifier(IdentifierKind.PAN, RELIANCE_PAN),
    )
    assert [lic.kind for lic in org.licences] == [LicenceKind.OSH_CONTRACTOR]
    assert org.version == 1
    assert org.pending_events == [OrganisationRegistered(org)]
    assert org.pan == RELIANCE_PAN


def test_every_violation_is_named_with_its_path() -> None:
    with pytest.raises(InvalidArgument) as caught:
        organisation(
            legal_name="",
            roles=set(),
            sector="software",
            location=replace(ARARIA, district_code="79", subdistrict_code=""),
            identifiers=[IdentifierInput(IdentifierKind.GSTIN, "27AAACR5055K1Z8"), IdentifierInput(None, "x")],
            licences=[licence(valid_from="2024-13-01"), licence(number="", issuing_authority="")],
            registration_number="GST 123",
        )

    assert [v.field for v in caught.value.violations] == [
        "legal_name",
        "roles",
        "sector",
        "location.district_code",
        "identifiers.0.value",
        "identifiers.1.kind",
        "licences.0.valid_from",
        "licences.1.number",
        "licences.1.issuing_authority",
        "registration_number",
    ]


def test_gstins_and_the_pan_must_name_one_legal_entity() -> None:
    with pytest.raises(InvalidArgument) as caught:
        organisation(
            identifiers=[
                IdentifierInput(IdentifierKind.GSTIN, RELIANCE_GSTIN),
                IdentifierInput(IdentifierKind.GSTIN, "24AAACG6864F1ZO"),  # another company's
                IdentifierInput(IdentifierKind.PAN, "AAACG6864F"),
                IdentifierInput(IdentifierKind.GSTIN, RELIANCE_GSTIN.lower()),
            ]
        )

    assert [(v.field, v.description.split(",")[0]) for v in caught.value.violations] == [
        ("identifiers.1.value", "is built on PAN AAACG6864F"),
        ("identifiers.2.value", "is built on PAN AAACG6864F"),
        ("identifiers.3.value", "is given twice"),
    ]


def test_one_pan_per_organisation_and_gstins_for_several_states() -> None:
    with pytest.raises(InvalidArgument) as caught:
        organisation(
            identifiers=[
                IdentifierInput(IdentifierKind.PAN, RELIANCE_PAN),
                IdentifierInput(IdentifierKind.PAN, "AAACG6864F"),
            ]
        )
    assert [v.field for v in caught.value.violations] == ["identifiers.1"]

    body = "24" + RELIANCE_PAN + "1Z"
    from mrc_employer.domain.identifiers import gstin_check_character

    second_state = body + gstin_check_character(body)
    org = organisation(
        identifiers=[
            IdentifierInput(IdentifierKind.GSTIN, RELIANCE_GSTIN),
            IdentifierInput(IdentifierKind.GSTIN, second_state),
        ]
    )
    assert len(org.identifiers) == 2


@pytest.mark.parametrize(
    ("roles", "kind"),
    [
        ({OrganisationRole.PRINCIPAL_EMPLOYER, OrganisationRole.CONTRACTOR}, EmployerKind.PRINCIPAL_EMPLOYER),
        ({OrganisationRole.SUB_CONTRACTOR}, EmployerKind.CONTRACTOR),
        ({OrganisationRole.LABOUR_AGENT}, EmployerKind.RECRUITMENT_AGENCY),
        ({OrganisationRole.RECRUITMENT_AGENCY, OrganisationRole.SUB_CONTRACTOR}, EmployerKind.CONTRACTOR),
    ],
)
def test_the_v1_kind_is_projected_from_the_roles(roles: set[OrganisationRole], kind: EmployerKind) -> None:
    assert organisation(roles=roles, licences=[]).legacy_kind is kind


def test_only_licensable_roles_hold_licences_and_only_agents_an_emigration_certificate() -> None:
    with pytest.raises(InvalidArgument) as caught:
        organisation(roles={OrganisationRole.PRINCIPAL_EMPLOYER})
    assert [v.field for v in caught.value.violations] == ["licences.0.kind"]

    with pytest.raises(InvalidArgument) as caught:
        organisation(licences=[licence(kind=LicenceKind.EMIGRATION_RECRUITING_AGENT, number=RA_CERTIFICATE)])
    assert [v.field for v in caught.value.violations] == ["licences.0.kind"]


def test_an_emigration_certificate_is_valid_for_at_most_five_years() -> None:
    agency = {OrganisationRole.RECRUITMENT_AGENCY}
    ok = licence(
        kind=LicenceKind.EMIGRATION_RECRUITING_AGENT,
        number=RA_CERTIFICATE,
        valid_from="2022-03-01",
        valid_until="2027-03-01",
    )
    assert organisation(roles=agency, licences=[ok]).licences[0].valid_until == date(2027, 3, 1)

    with pytest.raises(InvalidArgument) as caught:
        organisation(roles=agency, licences=[replace(ok, valid_until="2027-03-02")])
    assert [v.field for v in caught.value.violations] == ["licences.0.valid_until"]

    with pytest.raises(InvalidArgument) as caught:
        organisation(licences=[licence(valid_from="2024-01-01", valid_until="2023-12-31")])
    assert caught.value.violations[0].description == "must not be before valid_from"


def test_licence_validity_on_a_day() -> None:
    org = organisation()
    held = org.licences[0]
    assert held.valid_on(date(2024, 1, 1)) and held.valid_on(date(2028, 12, 31))
    assert not held.valid_on(date(2023, 12, 31)) and not held.valid_on(date(2029, 1, 1))
    assert org.licensed_on(date(2025, 6, 1))


def test_recording_a_renewal_bumps_the_version_and_raises_an_event() -> None:
    org = organisation()
    org.pending_events.clear()

    renewal = org.record_licence(
        licence(number="OSH/BR/2029/0042", valid_from="2029-01-01", valid_until="2033-12-31"), NOW, expected_version=1
    )

    assert org.version == 2
    assert org.pending_events == [LicenceRecorded("org-1", renewal, 2, NOW)]
    assert org.licensed_on(date(2030, 1, 1))
    with pytest.raises(Conflict):
        org.record_licence(licence(number="OSH/BR/2029/0042", valid_from="2029-01-01", valid_until="2033-12-31"), NOW)
    with pytest.raises(Conflict):
        org.record_licence(licence(number="X"), NOW, expected_version=1)


def test_a_suspended_licence_does_not_count_and_a_cancelled_one_stays_cancelled() -> None:
    org = organisation()
    org.pending_events.clear()
    number = org.licences[0].number

    suspended = org.change_licence_status(
        number.lower(), LicenceStatus.SUSPENDED, "inspection found bonded labour", NOW
    )

    assert suspended.status is LicenceStatus.SUSPENDED and not org.licensed_on(date(2025, 6, 1))
    assert org.pending_events == [LicenceStatusChanged("org-1", suspended, LicenceStatus.ACTIVE, 2, NOW)]
    assert org.change_licence_status(number, LicenceStatus.SUSPENDED, "again", NOW) is suspended
    assert org.version == 2

    org.change_licence_status(number, LicenceStatus.CANCELLED, "order of the licensing officer", NOW + timedelta(1))
    with pytest.raises(Conflict):
        org.change_licence_status(number, LicenceStatus.ACTIVE, "appeal", NOW + timedelta(2))
    with pytest.raises(NotFound):
        org.change_licence_status("NO/SUCH/1", LicenceStatus.SUSPENDED, "x", NOW)
    with pytest.raises(InvalidArgument):
        org.change_licence_status(number, LicenceStatus.SUSPENDED, "  ", NOW)


def test_public_lookup_keys_leave_the_pan_out_and_include_an_rc_serial() -> None:
    org = organisation(
        roles={OrganisationRole.RECRUITMENT_AGENCY},
        identifiers=[
            IdentifierInput(IdentifierKind.PAN, RELIANCE_PAN),
            IdentifierInput(IdentifierKind.LIN, "1-2345-6789-0"),
        ],
        licences=[
            licence(kind=LicenceKind.EMIGRATION_RECRUITING_AGENT, number=RA_CERTIFICATE, valid_until="2026-12-31")
        ],
    )

    assert org.public_lookup_keys() == {"1234567890", "B1794/PUN/PER/100/5/10094/2022", "B1794"}
    assert org.answers_to("b-1794") and org.answers_to("1 2345 6789 0")
    assert not org.answers_to(RELIANCE_PAN)


@pytest.mark.parametrize(
    ("pan", "may_be_a_person"), [("AAACR5055K", False), ("AAAPL1234C", True), ("AAAHL1234C", True)]
)
def test_whether_the_holder_may_be_a_person_comes_from_the_pan(pan: str, may_be_a_person: bool) -> None:
    assert (
        organisation(identifiers=[IdentifierInput(IdentifierKind.PAN, pan)]).holder_may_be_a_person is may_be_a_person
    )
    assert organisation(identifiers=[]).holder_may_be_a_person
