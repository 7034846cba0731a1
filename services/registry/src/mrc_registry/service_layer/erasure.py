"""Erasure on the worker's request, verified with a one-time code sent to the phone on record.

Erasing is the worker's right, and irreversible: one partner's word is not enough unless it is a
supervisor of the partner that registered the worker (`WorkerService.erase`). Any partner that reaches
the worker may instead file an erasure request; a code goes to the phone on record, and the request is
carried out when the partner reads back the code the worker received. Every erasure is audited with
its evidence.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound
from mrc_kernel.roles import Scope
from mrc_registry.domain.verification import CodeChallenge, new_code
from mrc_registry.domain.worker import WorkerStatus
from mrc_registry.service_layer.ports import Protector, TextMessages
from mrc_registry.service_layer.protection import PHONE_FIELD
from mrc_registry.service_layer.workers import WorkerService

CODE_MESSAGE = "MRC: your code to confirm that your records be erased is {code}. Share it only if you asked for this."
MAX_REASON_LENGTH = 500


class ErasureStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    worker_id: str
    requested_by_partner_id: str
    reason: str
    created_at: datetime
    challenge: CodeChallenge
    status: ErasureStatus = ErasureStatus.PENDING
    completed_at: datetime | None = None


class ErasureRequestRepository(Protocol):
    def add(self, request: ErasureRequest) -> None: ...

    def get(self, request_id: str) -> ErasureRequest | None: ...

    def set_challenge(self, request_id: str, challenge: CodeChallenge, *, previous: CodeChallenge) -> bool: ...

    def complete(self, request_id: str, at: datetime) -> bool: ...


class ErasureService:
    def __init__(
        self,
        workers: WorkerService,
        requests: ErasureRequestRepository,
        protector: Protector,
        messages: TextMessages,
        *,
        clock: Callable[[], datetime] = utc_now,
        code: Callable[[], str] = new_code,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._workers = workers
        self._requests = requests
        self._protector = protector
        self._messages = messages
        self._clock = clock
        self._code = code
        self._new_id = new_id

    def request(self, worker_id: str, reason: str, caller: Caller) -> ErasureRequest:
        caller.require(Scope.WORKERS_WRITE)
        purpose = check_purpose(caller.purpose, "registration")
        reason = reason.strip()
        if not reason:
            raise InvalidArgument.for_field("reason", "say why and on whose request")
        if len(reason) > MAX_REASON_LENGTH:
            raise InvalidArgument.for_field("reason", f"must be at most {MAX_REASON_LENGTH} characters")
        worker, _ = self._workers.access.load(worker_id, caller, purpose)
        worker.require_own("erasure is requested")
        if worker.details.phone is None:
            raise FailedPrecondition(
                "no phone is on record to send a code to: a supervisor of the registering partner must erase"
            )
        now = self._clock()
        request_id = self._new_id()
        code = self._code()
        request = ErasureRequest(
            request_id=request_id,
            worker_id=worker.worker_id,
            requested_by_partner_id=caller.partner_id,
            reason=reason,
            created_at=now,
            challenge=CodeChallenge.first(self._hash(request_id, code), now),
        )
        self._requests.add(request)
        self._send(worker.details.phone.encrypted, code, request_id)
        return request

    def resend(self, request_id: str, caller: Caller) -> ErasureRequest:
        caller.require(Scope.WORKERS_WRITE)
        request = self._own(request_id, caller)
        worker, _ = self._workers.access.load(request.worker_id, caller, check_purpose(caller.purpose, "registration"))
        if worker.details.phone is None:
            raise FailedPrecondition("no phone is on record any more")
        code = self._code()
        challenge = request.challenge.resent(self._hash(request_id, code), self._clock())
        if not self._requests.set_challenge(request_id, challenge, previous=request.challenge):
            raise Conflict("a code was sent meanwhile; use that one")
        self._send(worker.details.phone.encrypted, code, request_id)
        return replace(request, challenge=challenge)

    def confirm(self, request_id: str, code: str, caller: Caller) -> ErasureRequest:
        caller.require(Scope.WORKERS_WRITE)
        request = self._own(request_id, caller)
        worker, _ = self._workers.access.load(request.worker_id, caller, check_purpose(caller.purpose, "registration"))
        code = code.strip()
        if not (code.isascii() and code.isdigit()):
            raise InvalidArgument.for_field("code", "must be the digits the worker received")
        now = self._clock()
        checked, right = request.challenge.checked(self._hash(request_id, code), now)
        if not right:
            self._requests.set_challenge(request_id, checked, previous=request.challenge)
            raise InvalidArgument.for_field("code", "is not the code that was sent")
        if worker.status is WorkerStatus.ACTIVE:
            self._workers.erase_verified(worker, caller, "one_time_code")
        self._requests.complete(request_id, now)
        return replace(request, status=ErasureStatus.COMPLETED, completed_at=now)

    def _own(self, request_id: str, caller: Caller) -> ErasureRequest:
        request = self._requests.get(request_id) if request_id else None
        if request is None or request.requested_by_partner_id != caller.partner_id:
            raise NotFound("no such erasure request")
        if request.status is not ErasureStatus.PENDING:
            raise Conflict("the erasure request was already carried out")
        return request

    def _send(self, encrypted_phone: str, code: str, request_id: str) -> None:
        phone = self._protector.decrypt(PHONE_FIELD, encrypted_phone)
        self._messages.send(phone, CODE_MESSAGE.format(code=code), reference=request_id)

    def _hash(self, request_id: str, code: str) -> str:
        return self._protector.blind_index("one-time-code", f"{request_id}:{code}")
