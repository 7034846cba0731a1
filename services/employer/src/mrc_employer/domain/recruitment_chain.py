"""Who recruits for whom: links from a recruiter to the organisation it brings workers to.

Exploitation usually runs down a chain (principal employer <- contractor <- sub-contractor or labour
agent <- worker), so the links are recorded to trace a worker's recruiter back to the principal
employer. A chain never loops back on itself: an organisation cannot, through others, recruit for
itself; such a link is refused, naming the loop it would close.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime

from mrc_employer.domain.organisation import ENGAGING_ROLES, RECRUITING_ROLES, OrganisationRole
from mrc_employer.domain.recruitment_links import RecruitmentLink, RecruitmentLinkAdded
from mrc_employer.domain.values import check_id, parse_date
from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument

__all__ = ["MAX_CHAIN_DEPTH", "RecruitmentChain", "RecruitmentLink", "RecruitmentLinkAdded"]

# A chain this deep is a data error rather than a supply chain; it also bounds the search.
MAX_CHAIN_DEPTH = 50


class RecruitmentChain:
    """The links known among a set of organisations (at least all those reachable from a new link's client)."""

    def __init__(self, links: Iterable[RecruitmentLink] = ()) -> None:
        self._recruiters_of: dict[str, set[str]] = {}
        for link in links:
            self._recruiters_of.setdefault(link.client_id, set()).add(link.recruiter_id)

    def recruiters_of(self, client_id: str) -> frozenset[str]:
        return frozenset(self._recruiters_of.get(client_id, ()))

    def path_between(self, start: str, goal: str) -> list[str] | None:
        """A path start -> ... -> goal following client -> recruiter, if there is one (breadth first)."""
        previous: dict[str, str] = {start: start}
        frontier = deque([(start, 0)])
        while frontier:
            node, depth = frontier.popleft()
            if node == goal:
                path = [goal]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return list(reversed(path))
            if depth >= MAX_CHAIN_DEPTH:
                continue
            for recruiter in sorted(self._recruiters_of.get(node, ())):
                if recruiter not in previous:
                    previous[recruiter] = node
                    frontier.append((recruiter, depth + 1))
        return None

    def add(
        self,
        *,
        link_id: str,
        recruiter_id: str,
        client_id: str,
        roles: Mapping[str, frozenset[OrganisationRole]],
        since: str,
        until: str = "",
        worksite_id: str = "",
        now: datetime,
    ) -> RecruitmentLink:
        """A validated link with its event; `roles` holds the roles of both organisations.

        Raises InvalidArgument for bad input and Conflict when the link would close a loop
        (the client already recruits, directly or through others, for the recruiter).
        """
        violations: list[FieldViolation] = []
        recruiter_id = check_id("recruiter_id", recruiter_id, violations)
        client_id = check_id("client_id", client_id, violations)
        worksite_id = check_id("worksite_id", worksite_id, violations, required=False)
        start = parse_date("since", since, violations)
        end = parse_date("until", until, violations, required=False)
        if start and end and end < start:
            violations.append(FieldViolation("until", "must not be before since"))
        if recruiter_id and recruiter_id == client_id:
            violations.append(FieldViolation("client_id", "an organisation does not recruit for itself"))
        if recruiter_id and not roles.get(recruiter_id, frozenset()) & RECRUITING_ROLES:
            violations.append(
                FieldViolation(
                    "recruiter_id", "must be a contractor, sub-contractor, recruitment agency or labour agent"
                )
            )
        if client_id and not roles.get(client_id, frozenset()) & ENGAGING_ROLES:
            violations.append(FieldViolation("client_id", "must be a principal employer, contractor or sub-contractor"))
        if violations or start is None:
            raise InvalidArgument(violations)
        if recruiter_id in self.recruiters_of(client_id):
            raise Conflict(f"{recruiter_id} already recruits for {client_id}")
        loop = self.path_between(recruiter_id, client_id)
        if loop is not None:
            closed = " <- ".join([*loop, recruiter_id])
            raise Conflict(f"{recruiter_id} recruiting for {client_id} would close a loop: {closed}")
        link = RecruitmentLink(
            link_id=link_id,
            recruiter_id=recruiter_id,
            client_id=client_id,
            since=start,
            worksite_id=worksite_id,
            until=end,
            recorded_at=now,
        )
        self._recruiters_of.setdefault(client_id, set()).add(recruiter_id)
        link.pending_events.append(RecruitmentLinkAdded(link))
        return link

    def chain_above(self, recruiter_id: str) -> list[str]:
        """Every organisation the recruiter's workers end up with, nearest first (for tracing a worker's
        recruiter up to the principal employer)."""
        clients_of: dict[str, set[str]] = {}
        for client, recruiters in self._recruiters_of.items():
            for recruiter in recruiters:
                clients_of.setdefault(recruiter, set()).add(client)
        seen: list[str] = []
        frontier = deque([recruiter_id])
        while frontier and len(seen) < MAX_CHAIN_DEPTH * 10:
            node = frontier.popleft()
            for client in sorted(clients_of.get(node, ())):
                if client not in seen and client != recruiter_id:
                    seen.append(client)
                    frontier.append(client)
        return seen
