from __future__ import annotations

from datetime import date

import pytest

from mrc_employer.domain.organisation import OrganisationRole
from mrc_employer.domain.recruitment_chain import RecruitmentChain, RecruitmentLink, RecruitmentLinkAdded
from mrc_kernel.errors import Conflict, InvalidArgument

from .support import NOW

ROLES = {
    "builder": frozenset({OrganisationRole.PRINCIPAL_EMPLOYER}),
    "contractor": frozenset({OrganisationRole.CONTRACTOR}),
    "sub": frozenset({OrganisationRole.SUB_CONTRACTOR}),
    "agent": frozenset({OrganisationRole.LABOUR_AGENT}),
    "agency": frozenset({OrganisationRole.RECRUITMENT_AGENCY, OrganisationRole.CONTRACTOR}),
}


def link(chain: RecruitmentChain, recruiter: str, client: str, **more: str) -> RecruitmentLink:
    return chain.add(
        link_id=f"{recruiter}->{client}",
        recruiter_id=recruiter,
        client_id=client,
        roles=ROLES,
        since="2024-06-01",
        now=NOW,
        **more,
    )


def test_a_chain_from_agent_to_principal_employer() -> None:
    chain = RecruitmentChain()
    first = link(chain, "contractor", "builder", worksite_id="site-1")
    link(chain, "sub", "contractor")
    link(chain, "agent", "sub")

    assert first.pending_events == [RecruitmentLinkAdded(first)]
    assert first.since == date(2024, 6, 1) and first.worksite_id == "site-1"
    assert chain.recruiters_of("contractor") == {"sub"}
    assert chain.chain_above("agent") == ["sub", "contractor", "builder"]


def test_a_link_closing_a_loop_is_refused_naming_it() -> None:
    chain = RecruitmentChain()
    link(chain, "contractor", "agency")
    link(chain, "sub", "contractor")
    with pytest.raises(Conflict) as caught:
        link(chain, "agency", "sub")  # the agency would recruit, through others, for itself
    assert "agency <- contractor <- sub <- agency" in caught.value.detail
    assert chain.recruiters_of("sub") == frozenset()


def test_loops_are_found_in_chains_loaded_from_the_store() -> None:
    stored = [
        RecruitmentLink("l1", recruiter_id="sub", client_id="contractor", since=date(2024, 1, 1)),
        RecruitmentLink("l2", recruiter_id="contractor", client_id="agency", since=date(2024, 1, 1)),
    ]
    chain = RecruitmentChain(stored)
    with pytest.raises(Conflict):
        link(chain, "agency", "sub")
    with pytest.raises(Conflict, match="already recruits"):
        link(chain, "sub", "contractor")


@pytest.mark.parametrize(
    ("recruiter", "client", "more", "fields"),
    [
        ("contractor", "contractor", {}, ["client_id"]),  # itself
        ("builder", "contractor", {}, ["recruiter_id"]),  # a principal employer does not supply workers
        ("agent", "agent", {}, ["client_id", "client_id"]),  # itself, and an agent takes on no workers
        ("contractor", "nobody", {}, ["client_id"]),  # not a known organisation
        ("contractor", "builder", {"until": "2024-05-31"}, ["until"]),
        ("", "builder", {}, ["recruiter_id"]),
    ],
)
def test_invalid_links_name_their_fields(recruiter: str, client: str, more: dict[str, str], fields: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        link(RecruitmentChain(), recruiter, client, **more)
    assert sorted(v.field for v in caught.value.violations) == sorted(fields)
