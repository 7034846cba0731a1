"""Intake: partners and the helpline desk file cases; anyone files a report and follows it up by code; the
IVR and SMS gateways open cases from signed deliveries.

A filing names a registry worker or describes a person, and an employer-service organisation or an
unregistered employer, contractor or agent; both references are checked with the owning service on the
caller's behalf (`Parties`). Writes outside the caller's geography are refused naming the field. A report
answers with the case reference and a follow-up code, shown once: only a slow salted hash is stored. With
an Idempotency-Key the code is derived from it (a keyed HMAC), so a retried report gets the same answer
instead of a lost code; without one it is random.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from mrc_grievance.domain.access import CASE_RESOURCE
from mrc_grievance.domain.case import Case
from mrc_grievance.domain.intake_webhook import (
    DeliveryReplayed,
    parse_intake_message,
    replay_record,
    verify_delivery,
)
from mrc_grievance.domain.parties import Actor, Reporter, UnregisteredPerson
from mrc_grievance.domain.reports import (
    OWASP_SCRYPT,
    ScryptParameters,
    hash_follow_up_code,
    new_follow_up_code,
    new_reference,
)
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import Category, Confidentiality, IntakeChannel, ReporterRelation
from mrc_grievance.service_layer import protection as sealed_fields
from mrc_grievance.service_layer.cases import authorize
from mrc_grievance.service_layer.parties import Parties, ReporterInput, RespondentInput, SubjectInput
from mrc_grievance.service_layer.ports import AccessRecorder, CaseRepository, Forwarded, References, Replays
from mrc_grievance.service_layer.protection import Protection
from mrc_grievance.service_layer.views import CaseView, case_view, written_fields
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import FieldViolation, InvalidArgument, PermissionDenied, Unavailable
from mrc_kernel.idempotency import IdDeriver, request_fingerprint, scoped_key
from mrc_kernel.place import Place
from mrc_kernel.policy import require_in_geography
from mrc_kernel.roles import Role, Scope

PARTNER_CHANNELS = frozenset({IntakeChannel.HELPLINE, IntakeChannel.FIELD, IntakeChannel.PARTNER_API})
REFERENCE_ATTEMPTS = 5


@dataclass(frozen=True)
class FileCase:
    category: Category | None
    channel: IntakeChannel | None
    summary: str
    location: Place
    subject: SubjectInput = field(default_factory=SubjectInput)
    respondent: RespondentInput | None = None
    reporter: ReporterInput | None = None
    facts: TriageFacts = field(default_factory=TriageFacts)
    recording_ref: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class Filing:
    view: CaseView
    created: bool


@dataclass(frozen=True)
class Receipt:
    """What a reporter (or a gateway) is told: the reference and the follow-up code, once."""

    grievance_id: str
    reference: str
    follow_up_code: str
    created: bool


@dataclass(frozen=True)
class IntakeLine:
    """The IVR/SMS gateways' configuration: their secrets, the helpline partner, the default place."""

    secrets: Sequence[bytes] = ()
    partner_id: str = ""
    default_place: Place | None = None


@dataclass(frozen=True)
class Delivery:
    body: bytes
    message_id: str
    timestamp: str
    signature: str


class IntakeService:
    def __init__(
        self,
        cases: CaseRepository,
        references: References,
        audit: AccessRecorder,
        protection: Protection,
        parties: Parties,
        ids: IdDeriver,
        replays: Replays,
        *,
        line: IntakeLine | None = None,
        sla_scale: float = 1.0,
        code_parameters: ScryptParameters = OWASP_SCRYPT,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._cases = cases
        self._references = references
        self._audit = audit
        self._protection = protection
        self._parties = parties
        self._ids = ids
        self._replays = replays
        self._line = line or IntakeLine()
        self._sla_scale = sla_scale
        self._code_parameters = code_parameters
        self._clock = clock
        self._new_id = new_id

    # -- partners and the helpline desk ----------------------------------------------------------------

    def file(self, command: FileCase, caller: Caller, forwarded: Forwarded | None) -> Filing:
        caller = authorize(caller, Scope.GRIEVANCES_WRITE)
        if not caller.partner_id:
            raise PermissionDenied("this client acts for no partner, so it cannot file grievances")
        if command.channel is not None and command.channel not in PARTNER_CHANNELS:
            allowed = ", ".join(sorted(c.value for c in PARTNER_CHANNELS))
            raise InvalidArgument.for_field(
                "channel", f"must be one of {allowed} (reports and gateways have their own)"
            )
        require_in_geography(caller, command.location.state_code, command.location.district_code, prefix="location")
        case, created = self._open(command, caller, forwarded, filed_by=Actor(caller.client_id, caller.partner_id))
        return Filing(case_view(self._protection, case, confidential=True), created)

    # -- anonymous and confidential reports --------------------------------------------------------------

    def file_report(self, command: FileCase, caller: Caller) -> Receipt:
        if Role.EMPLOYER in caller.roles:
            raise PermissionDenied("employers have no access to grievances")
        if Role.PUBLIC not in caller.roles and not caller.has(Scope.GRIEVANCES_WRITE):
            raise PermissionDenied("reports are filed through a public or a case-handling client")
        if not caller.partner_id:
            raise PermissionDenied("this client acts for no partner, so nobody would receive the report")
        caller = authorize_purpose(caller)
        require_in_geography(caller, command.location.state_code, command.location.district_code, prefix="location")
        reporter = command.reporter or ReporterInput(ReporterRelation.THIRD_PARTY, Confidentiality.ANONYMOUS)
        report = FileCase(
            category=command.category or Category.OTHER,
            channel=IntakeChannel.PUBLIC_REPORT,
            summary=command.summary,
            location=command.location,
            subject=command.subject,
            respondent=command.respondent,
            reporter=reporter,
            facts=command.facts,
            idempotency_key=command.idempotency_key,
        )
        code = self._code(caller.partner_id, command.idempotency_key)
        case, created = self._open(
            report,
            caller,
            None,
            filed_by=Actor(caller.client_id, caller.partner_id),
            follow_up_code_hash=hash_follow_up_code(code, self._code_parameters),
        )
        return Receipt(case.grievance_id, case.reference, code, created)

    def _code(self, partner_id: str, idempotency_key: str) -> str:
        if not idempotency_key:
            return new_follow_up_code()
        seed = self._ids.derive("follow-up-code", scoped_key(partner_id, idempotency_key))
        digest = hashlib.sha256(seed.encode()).digest()
        return new_follow_up_code(lambda n: digest[:n])

    # -- IVR and SMS gateways --------------------------------------------------------------------------

    def receive_message(self, delivery: Delivery) -> Receipt:
        line = self._line
        if not line.secrets or not line.partner_id:
            raise Unavailable("the intake line is not configured")
        now = self._clock()
        verified = verify_delivery(
            body=delivery.body,
            message_id=delivery.message_id,
            timestamp=delivery.timestamp,
            signature=delivery.signature,
            secrets=line.secrets,
            now=now,
        )
        message = parse_intake_message(delivery.body, verified)
        place = message.place or line.default_place
        if place is None:
            raise InvalidArgument.for_field("district_code", "the message names no place and the line has none")
        gateway = Caller(
            client_id=f"gateway:{message.channel.value}",
            partner_id=line.partner_id,
            partner_kind="",
            roles=frozenset(),
            scopes=frozenset(),
            purpose="grievance_follow_up",
        )
        command = FileCase(
            category=Category.OTHER,
            channel=message.channel,
            summary=message.text,
            recording_ref=message.recording_ref,
            location=place,
            reporter=ReporterInput(ReporterRelation.SELF, Confidentiality.CONFIDENTIAL, phone=message.caller_number),
            idempotency_key=f"intake:{message.message_id}",
        )
        code = self._code(line.partner_id, command.idempotency_key)
        case, _ = self._open(
            command,
            gateway,
            None,
            filed_by=Actor(gateway.client_id, line.partner_id),
            follow_up_code_hash=hash_follow_up_code(code, self._code_parameters),
            fingerprint_extra={"language": message.language},
        )
        record = replay_record(verified)
        if not self._replays.remember(record.key, record.forget_after):
            raise DeliveryReplayed(message.message_id)
        return Receipt(case.grievance_id, case.reference, code, True)

    # -- shared ---------------------------------------------------------------------------------------

    def _open(
        self,
        command: FileCase,
        caller: Caller,
        forwarded: Forwarded | None,
        *,
        filed_by: Actor,
        follow_up_code_hash: str = "",
        fingerprint_extra: dict[str, str] | None = None,
    ) -> tuple[Case, bool]:
        state = command.location.state_code
        violations: list[FieldViolation] = []
        summary = command.summary.strip()
        if len(summary) > 4000:
            violations.append(FieldViolation("summary", "must be at most 4000 characters"))
        if len(command.recording_ref) > 500:
            violations.append(FieldViolation("recording_ref", "must be at most 500 characters"))
        if command.category is None:
            violations.append(FieldViolation("category", "must be set"))
        if command.channel is None:
            violations.append(FieldViolation("channel", "must be set"))
        if not summary and not command.recording_ref.strip():
            violations.append(FieldViolation("summary", "an account of what happened (text or a recording) is needed"))
        # The place first: sealing needs a valid state's data key.
        if place_violations := command.location.violations("location"):
            raise InvalidArgument(place_violations)
        subject = self._parties.subject(state, command.subject, caller, forwarded, violations)
        respondent = self._parties.respondent(state, command.respondent, caller, forwarded, violations)
        reporter: Reporter | None = self._parties.reporter(state, command.reporter, violations)
        if violations:
            raise InvalidArgument(violations)
        key = command.idempotency_key or self._new_id()
        scoped = scoped_key(caller.partner_id, key)
        grievance_id = self._ids.derive("grievance", scoped)
        payload = asdict(command)
        payload.pop("idempotency_key")
        payload.update(fingerprint_extra or {})
        fingerprint = request_fingerprint(payload)
        now = self._clock()
        reference = new_reference()
        # A reference leads to this case and no other: reporters follow up by reference and code, staff find
        # a case by the reference quoted on the phone (`CaseService.by_reference`).
        for _ in range(REFERENCE_ATTEMPTS):
            if self._references.claim(reference, grievance_id):
                break
            reference = new_reference()
        else:
            raise Unavailable("no free case reference could be drawn; retry")
        case = Case.file(
            grievance_id=grievance_id,
            reference=reference,
            category=command.category,
            channel=command.channel,
            subject=subject,
            respondent=respondent,
            reporter=reporter,
            summary=self._protection.seal(state, sealed_fields.SUMMARY, summary),
            recording_ref=self._protection.seal(state, sealed_fields.RECORDING_REF, command.recording_ref),
            location=command.location,
            facts=command.facts,
            filed_by=filed_by,
            now=now,
            follow_up_code_hash=follow_up_code_hash,
            sla_scale=self._sla_scale,
        )
        audit = self._audit.event(
            caller, Action.CREATE, CASE_RESOURCE, grievance_id, written_fields(case), state_code=state
        )
        stored, created = self._cases.add(case, idempotency_key=scoped, fingerprint=fingerprint, also_publish=[audit])
        if not created and stored.reference != reference:
            self._references.release(reference, grievance_id)
        return stored, created


def authorize_purpose(caller: Caller) -> Caller:
    from dataclasses import replace

    return replace(caller, purpose=check_purpose(caller.purpose, "grievance_follow_up"))


def random_code() -> str:
    return new_follow_up_code(secrets.token_bytes)


__all__ = ["Delivery", "FileCase", "Filing", "IntakeLine", "IntakeService", "Receipt", "UnregisteredPerson"]
