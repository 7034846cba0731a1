"""What the grievance service asks: was this worker refused a scheme they are eligible for?

A refusal counts when the application stands rejected and the worker was determined eligible for the
scheme, either when the decision was recorded or now (under the rule in force). Undetermined is not
eligible: such a refusal is for a caseworker to look into, not evidence of a wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mrc_entitlements.domain.applications import Application
from mrc_entitlements.domain.determinations import WorkerEligibility
from mrc_entitlements.domain.rules import Outcome


@dataclass(frozen=True)
class RefusalOfEligible:
    application_id: str
    scheme_code: str
    refused_at: datetime
    reason: str
    outcome_at_refusal: Outcome | None
    outcome_now: Outcome | None
    rule_version_now: int  # 0 when the scheme is not determined now


def refusals_of_eligible(
    applications: Iterable[Application], eligibility: WorkerEligibility | None
) -> list[RefusalOfEligible]:
    found = []
    for application in applications:
        refusal = application.refused()
        if refusal is None:
            continue
        now = eligibility.determinations.get(application.scheme_code) if eligibility is not None else None
        outcome_now = now.outcome if now is not None else None
        if Outcome.ELIGIBLE not in (refusal.eligibility_outcome, outcome_now):
            continue
        found.append(
            RefusalOfEligible(
                application_id=application.application_id,
                scheme_code=application.scheme_code,
                refused_at=refusal.at,
                reason=refusal.reason,
                outcome_at_refusal=refusal.eligibility_outcome,
                outcome_now=outcome_now,
                rule_version_now=now.rule_version if now is not None else 0,
            )
        )
    return sorted(found, key=lambda r: (r.refused_at, r.application_id))
