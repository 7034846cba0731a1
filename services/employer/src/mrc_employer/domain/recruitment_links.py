"""A recruitment link: a recruiter brings workers to a client organisation (`recruitment_chain` checks them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class RecruitmentLinkAdded:
    link: RecruitmentLink


@dataclass
class RecruitmentLink:
    link_id: str
    recruiter_id: str  # the contractor, sub-contractor, agency or agent who brings the workers
    client_id: str  # the organisation they bring them to
    since: date
    worksite_id: str = ""  # where, when the link is for one worksite
    until: date | None = None
    recorded_at: datetime | None = None
    pending_events: list[RecruitmentLinkAdded] = field(default_factory=list, repr=False, compare=False)
