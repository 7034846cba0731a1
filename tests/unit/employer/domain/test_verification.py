"""The public verification answers about licences and standing, never with personal data."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.licences import LicenceKind, LicenceStatus
from mrc_employer.domain.organisation import IdentifierInput, OrganisationRole
from mrc_employer.domain.verification import PublicVerification, verify

from .support import NOW, RA_CERTIFICATE, RELIANCE_GSTIN, RELIANCE_PAN, licence, organisation

ON = date(2025, 6, 1)
# Every field the public answer may carry; a new field must be added here deliberately.
PUBLIC_FIELDS = {
    "query",
    "found",
    "checked_on",
    "holder_name",
    "roles",
    "needs_licence",
    "licensed",
    "licences",
    "risk_flag_raised",
    "in_good_standing",
}
LICENCE_FIELDS = {"kind", "issuing_authority", "valid_from", "valid_until", "status", "valid_on_day", "matches_query"}


def agent(pan: str = "AAAPL1234C") -> object:
    return organisation(
        legal_name="Ramesh Kumar",  # a proprietor: a person's name
        roles={OrganisationRole.LABOUR_AGENT, OrganisationRole.RECRUITMENT_AGENCY},
        identifiers=[IdentifierInput(IdentifierKind.PAN, pan), IdentifierInput(IdentifierKind.LIN, "1-0042-0042-7")],
        licences=[
            licence(
                kind=LicenceKind.EMIGRATION_RECRUITING_AGENT,
                number=RA_CERTIFICATE,
                issuing_authority="Protector General of Emigrants",
                valid_from="2022-03-01",
                valid_until="2027-02-28",
                issuing_state_code="",
            )
        ],
    )


def test_the_answer_carries_only_public_fields() -> None:
    answer = verify(RA_CERTIFICATE, agent(), risk_flag_raised=False, on=ON)  # type: ignore[arg-type]
    assert {f.name for f in dataclasses.fields(PublicVerification)} == PUBLIC_FIELDS
    assert {f.name for f in dataclasses.fields(answer.licences[0])} == LICENCE_FIELDS


def test_a_proprietor_agent_is_verified_without_its_name_pan_or_licence_numbers() -> None:
    org = agent()
    answer = verify("b-1794", org, risk_flag_raised=False, on=ON)  # type: ignore[arg-type]

    assert answer.found and answer.licensed and answer.in_good_standing
    assert answer.holder_name == ""
    assert answer.roles == ("labour_agent", "recruitment_agency")
    assert answer.licences[0].matches_query and answer.licences[0].valid_on_day
    text = repr(answer)
    for personal in ("Ramesh", "Kumar", "AAAPL1234C", "1004200427", "Kusiyargaon", "188"):
        assert personal not in text


def test_a_company_is_named() -> None:
    company = organisation(legal_name="Kaveri Constructions Pvt Ltd")
    answer = verify(RELIANCE_GSTIN.lower(), company, risk_flag_raised=False, on=ON)
    assert answer.holder_name == "Kaveri Constructions Pvt Ltd"
    # The GSTIN asked about embeds the PAN; nothing else in the answer does.
    assert RELIANCE_PAN not in repr(dataclasses.replace(answer, query=""))


def test_a_pan_is_not_a_public_query() -> None:
    company = organisation()
    assert not verify(RELIANCE_PAN, company, risk_flag_raised=False, on=ON).found


def test_unknown_identifiers_say_only_not_found() -> None:
    answer = verify("B-9999", None, risk_flag_raised=False, on=ON)
    assert answer == PublicVerification(query="B9999", found=False, checked_on=ON)


@pytest.mark.parametrize(
    ("on", "flag", "licensed", "good"),
    [
        (date(2025, 6, 1), False, True, True),
        (date(2025, 6, 1), True, True, False),  # an active risk flag
        (date(2027, 3, 1), False, False, False),  # the certificate has expired
        (date(2022, 2, 28), False, False, False),  # not yet valid
    ],
)
def test_good_standing_needs_a_valid_licence_and_no_risk_flag(on: date, flag: bool, licensed: bool, good: bool) -> None:
    answer = verify(RA_CERTIFICATE, agent(), risk_flag_raised=flag, on=on)  # type: ignore[arg-type]
    assert (answer.licensed, answer.in_good_standing, answer.risk_flag_raised) == (licensed, good, flag)


def test_a_suspended_licence_is_shown_as_such() -> None:
    org = agent()
    org.change_licence_status(RA_CERTIFICATE, LicenceStatus.SUSPENDED, "complaints under inquiry", NOW)  # type: ignore[attr-defined]
    answer = verify(RA_CERTIFICATE, org, risk_flag_raised=False, on=ON)  # type: ignore[arg-type]
    assert answer.licences[0].status is LicenceStatus.SUSPENDED
    assert not answer.licensed and not answer.in_good_standing


def test_a_principal_employer_needs_no_licence_to_be_in_good_standing() -> None:
    employer = organisation(roles={OrganisationRole.PRINCIPAL_EMPLOYER}, licences=[])
    answer = verify(RELIANCE_GSTIN, employer, risk_flag_raised=False, on=ON)
    assert not answer.needs_licence and not answer.licensed and answer.in_good_standing
