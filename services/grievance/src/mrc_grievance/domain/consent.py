"""What the registry's consent changes mean for the cases and traces that name a worker.

A case (or trace) names a registry worker only while a consent of theirs lets the partner holding the link
follow their grievances up: the registry checked exactly that when the case was filed or linked. When the
worker withdraws that consent (or it expires), the registry publishes `ConsentChanged` with the grants of
the consents still active; a link none of them covers any more is ended: the case keeps the complaint and
loses the worker (see `Case.unlink_worker`). A later new consent does not restore it: a caseworker links the
case again at triage, which asks the registry again.

A change is judged against the link it could end: the registry version of the change must be newer than
the version the link was checked at, so a redelivered or older event never ends a link made after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mrc_grievance.domain.parties import RegisteredWorker, Subject
from mrc_grievance.domain.vocabulary import UnlinkReason
from mrc_kernel.policy import Grant, Purpose


@dataclass(frozen=True)
class ConsentChange:
    """A worker's consents after a change, as the registry published them."""

    worker_id: str
    registry_version: int  # the worker's version after the change (0: not told)
    grants: tuple[Grant, ...]  # of every consent still active
    expired: bool = False  # the change was a consent reaching its expiry

    @property
    def reason(self) -> UnlinkReason:
        return UnlinkReason.CONSENT_EXPIRED if self.expired else UnlinkReason.CONSENT_WITHDRAWN

    def covers(self, partner_id: str, partner_kind: str) -> bool:
        """Whether an active consent still lets this partner follow the worker's grievances up (a grant naming
        the partner, or one to every partner of its kind), as the registry's access policy would decide."""
        for grant in self.grants:
            if Purpose.GRIEVANCE_FOLLOW_UP not in grant.purposes:
                continue
            if grant.partner_id:
                if grant.partner_id == partner_id:
                    return True
            elif grant.partner_kind and grant.partner_kind == partner_kind:
                return True
        return False

    def ends(self, subject: Subject, holder_partner_id: str) -> bool:
        """Whether this change ends the link of `subject` (a case's or a trace's; `holder_partner_id` is the
        partner holding the record, whose consent a link recorded before its partner was kept is judged by)."""
        if not isinstance(subject, RegisteredWorker) or not self.worker_id or subject.worker_id != self.worker_id:
            return False
        if subject.registry_version and self.registry_version and self.registry_version <= subject.registry_version:
            return False  # the link was checked at this version or a later one: it already saw this change
        return not self.covers(subject.consent_partner_id or holder_partner_id, subject.consent_partner_kind)
