"""Loading an organisation for a caller through the access policy (`domain.organisation_access`).

Every use case that touches an organisation or its records goes through `OrganisationAccess`, for REST
and gRPC alike. An organisation the caller may not use for the declared purpose is answered exactly as a
missing one ("no such employer", never echoing the id); a refused attempt on a real one is audited.
"""

from __future__ import annotations

import contextlib
import dataclasses

from mrc_employer.domain.organisation import Organisation
from mrc_employer.domain.organisation_access import DEFAULT_PURPOSE, RESOURCE, decide_for
from mrc_employer.service_layer.ports import Organisations
from mrc_kernel.audit import Action, AuditRecorder
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.errors import NotFound, PermissionDenied
from mrc_kernel.policy import Decision, Purpose
from mrc_kernel.roles import Scope

NOT_FOUND = "no such employer"
# Who may record compliance records: employers and operators (employers:write), and the field staff of
# partners and labour departments who document cases (compliance:write).
RECORD_WRITING_SCOPES = (Scope.EMPLOYERS_WRITE, Scope.COMPLIANCE_WRITE)
# Who may read organisations and their compliance: employers:read, and auditors (audit:read).
READING_SCOPES = (Scope.EMPLOYERS_READ, Scope.AUDIT_READ)


def require_any(caller: Caller, scopes: tuple[Scope, ...]) -> None:
    if not any(caller.has(scope) for scope in scopes):
        raise PermissionDenied(f"this operation needs one of the scopes {', '.join(s.value for s in scopes)}")


def with_purpose(caller: Caller, default: Purpose = DEFAULT_PURPOSE) -> Caller:
    """The caller with its declared purpose settled (unknown purposes are refused), for the audit trail too."""
    return dataclasses.replace(caller, purpose=check_purpose(caller.purpose, default.value))


class OrganisationAccess:
    def __init__(self, organisations: Organisations, audit: AuditRecorder) -> None:
        self._organisations = organisations
        self._audit = audit

    def decision(self, organisation: Organisation, caller: Caller) -> Decision:
        return decide_for(caller, organisation, caller.purpose or DEFAULT_PURPOSE)

    def load(self, organisation_id: str, caller: Caller, *, action: Action = Action.READ) -> Organisation:
        """The organisation if the caller may use it for its declared purpose; NotFound otherwise."""
        organisation = self._organisations.get(organisation_id) if organisation_id else None
        if organisation is None:
            raise NotFound(NOT_FOUND)
        if not self.decision(organisation, caller):
            # An attempt on a real record is worth an auditor's attention; the answer is the same whatever
            # the trail says.
            with contextlib.suppress(Exception):
                self._audit.record(
                    caller,
                    action,
                    RESOURCE,
                    organisation_id,
                    allowed=False,
                    state_code=organisation.location.state_code,
                )
            raise NotFound(NOT_FOUND)
        return organisation
