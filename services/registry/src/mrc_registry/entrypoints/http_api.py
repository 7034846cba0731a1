"""REST API for partners: /v1/workers, consent, erasure, search and the duplicate review queue.

Identifiers (phone, document numbers) travel only in request bodies, never in URLs, so they stay
out of access logs and proxies.
"""

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from mrc_kernel.caller import Caller
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.place import Place
from mrc_kernel.roles import Scope
from mrc_kernel.vocabulary import Gender, Sector
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.http_models import IdempotencyHeader, IfMatchHeader, PlaceBody, StrictModel
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.worker import DocumentKind, Vulnerability, WorkerStatus
from mrc_registry.service_layer.commands import (
    ConsentInput,
    DocumentInput,
    RegisterWorker,
    Search,
    UpdateWorker,
    WorkerInput,
)
from mrc_registry.service_layer.deduplication import MatchKind, PossibleDuplicate, ReviewStatus
from mrc_registry.service_layer.erasure import ErasureRequest, ErasureService, ErasureStatus
from mrc_registry.service_layer.reviews import Decision, ReviewService, ReviewView, Side
from mrc_registry.service_layer.workers import Registration, WorkerService, WorkerView


class DocumentBody(StrictModel):
    kind: DocumentKind
    number: str = Field(min_length=1, max_length=64)


class ConsentBody(StrictModel):
    purposes: list[ConsentPurpose] = Field(min_length=1, max_length=len(ConsentPurpose))
    method: CaptureMethod
    witness_name: str = Field(default="", max_length=200)
    shared_with_partner_ids: list[str] = Field(default_factory=list, max_length=50)
    expires_at: datetime | None = None
    shared_with_state_codes: list[str] = Field(
        default_factory=list,
        max_length=40,
        description="For cross_state_sharing: LGD codes of the states named (e.g. '32'); empty: every state",
    )

    def input(self) -> ConsentInput:
        return ConsentInput(
            purposes=frozenset(self.purposes),
            method=self.method,
            witness_name=self.witness_name,
            shared_with_partner_ids=frozenset(self.shared_with_partner_ids),
            expires_at=self.expires_at,
            shared_with_state_codes=frozenset(code.strip() for code in self.shared_with_state_codes),
        )


class WorkerFields(StrictModel):
    full_name: str = Field(min_length=1, max_length=200, description="As written, in any script")
    gender: Gender
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    home: PlaceBody
    occupation: str = Field(default="", max_length=200)
    sector: Sector | None = None
    skills: list[str] = Field(default_factory=list, max_length=20)
    languages: list[str] = Field(default_factory=list, max_length=20)
    vulnerabilities: list[Vulnerability] = Field(default_factory=list, max_length=10)
    father_or_spouse_name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=32)
    identity_documents: list[DocumentBody] = Field(default_factory=list, max_length=7)


def _worker_input(body: BaseModel, home: Place) -> WorkerInput:
    values = body.model_dump(exclude={"home", "identity_documents", "consent", "expected_version"})
    documents = getattr(body, "identity_documents", None) or []
    return WorkerInput(
        **{
            **values,
            "home": home,
            "skills": tuple(values.get("skills") or ()),
            "languages": tuple(values.get("languages") or ()),
            "vulnerabilities": frozenset(values.get("vulnerabilities") or ()),
            "identity_documents": tuple(DocumentInput(d.kind, d.number) for d in documents),
            "occupation": values.get("occupation") or "",
            "father_or_spouse_name": values.get("father_or_spouse_name") or "",
            "phone": values.get("phone") or "",
            "full_name": values.get("full_name") or "",
        }
    )


class RegisterWorkerBody(WorkerFields):
    consent: ConsentBody


class UpdateWorkerBody(StrictModel):
    """JSON merge-patch of the worker: only the fields present change; `phone: ""` removes the phone."""

    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    gender: Gender | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    home: PlaceBody | None = None
    occupation: str | None = Field(default=None, max_length=200)
    sector: Sector | None = None
    skills: list[str] | None = Field(default=None, max_length=20)
    languages: list[str] | None = Field(default=None, max_length=20)
    vulnerabilities: list[Vulnerability] | None = Field(default=None, max_length=10)
    father_or_spouse_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    identity_documents: list[DocumentBody] | None = Field(default=None, max_length=7)


class SearchBody(StrictModel):
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=32)
    identity_document: DocumentBody | None = None
    district_code: str = Field(default="", pattern=r"^(\d{1,4})?$")
    registering_partner_id: str = Field(default="", max_length=64)
    sector: Sector | None = None
    page_size: int = Field(default=50, ge=1, le=200)
    page_token: str = Field(default="", max_length=200)


class EraseBody(StrictModel):
    reason: str = Field(min_length=1, max_length=500)


class ResolveBody(StrictModel):
    decision: Decision
    surviving_worker_id: str = Field(default="", max_length=64)


class CodeBody(StrictModel):
    code: str = Field(min_length=4, max_length=12, description="The digits the worker received by SMS")


class DocumentView(BaseModel):
    kind: DocumentKind
    masked_number: str


class ConsentView(BaseModel):
    consent_id: str
    purposes: list[ConsentPurpose]
    method: CaptureMethod
    # Only on the caller's own consents: a witness is a person another partner recorded.
    witness_name: str
    shared_with_partner_ids: list[str]
    captured_by_partner_id: str
    captured_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    shared_with_state_codes: list[str]

    @classmethod
    def of(cls, c: Consent, partner_id: str) -> "ConsentView":
        return cls(
            consent_id=c.consent_id,
            purposes=sorted(c.purposes),
            method=c.method,
            witness_name=c.witness_name if c.captured_by_partner_id == partner_id else "",
            shared_with_partner_ids=sorted(c.shared_with_partner_ids),
            captured_by_partner_id=c.captured_by_partner_id,
            captured_at=c.captured_at,
            expires_at=c.expires_at,
            revoked_at=c.revoked_at,
            shared_with_state_codes=sorted(c.shared_with_state_codes),
        )


class WorkerResponse(BaseModel):
    """A worker as one caller may see it: fields outside its consent purposes are left empty, and
    `visible_fields` lists those shown."""

    worker_id: str
    full_name: str
    latin_name: str
    gender: Gender | None
    birth_year: int | None
    home: PlaceBody | None
    occupation: str
    sector: Sector | None
    skills: list[str]
    languages: list[str]
    vulnerabilities: list[Vulnerability]
    father_or_spouse_name: str
    phone: str
    identity_documents: list[DocumentView]
    consents: list[ConsentView]
    status: WorkerStatus
    merged_into_worker_id: str
    registering_partner_id: str
    registered_at: datetime
    updated_at: datetime
    version: int
    visible_fields: list[str]
    # Set on a read-only copy of a record another state's registry holds (its LGD code): changes, consent
    # and erasure are made there.
    federated_from_state_code: str = ""

    @classmethod
    def of(cls, view: WorkerView, partner_id: str) -> "WorkerResponse":
        worker, d, shown = view.worker, view.worker.details, view.fields

        def field(name: str) -> bool:
            return name in shown

        return cls(
            worker_id=worker.worker_id,
            full_name=d.full_name if field("full_name") else "",
            latin_name=d.latin_name if field("full_name") else "",
            gender=d.gender if field("gender") else None,
            birth_year=d.birth_year if field("birth_year") else None,
            home=PlaceBody.model_construct(**d.home.__dict__) if field("home") else None,
            occupation=d.occupation if field("occupation") else "",
            sector=d.sector if field("sector") else None,
            skills=list(d.skills) if field("skills") else [],
            languages=list(d.languages) if field("languages") else [],
            vulnerabilities=sorted(d.vulnerabilities) if field("vulnerabilities") else [],
            father_or_spouse_name=d.father_or_spouse_name if field("father_or_spouse_name") else "",
            phone=view.phone if field("phone") else "",
            identity_documents=[DocumentView(kind=x.kind, masked_number=x.masked) for x in d.identity_documents]
            if field("identity_documents")
            else [],
            consents=[ConsentView.of(c, partner_id) for c in worker.consents],
            status=worker.status,
            merged_into_worker_id=worker.merged_into,
            registering_partner_id=worker.registering_partner_id,
            registered_at=worker.registered_at,
            updated_at=worker.updated_at,
            version=worker.version,
            visible_fields=sorted(shown),
            federated_from_state_code=worker.foreign.home_state_code if worker.foreign else "",
        )


class PossibleDuplicateView(BaseModel):
    worker_id: str
    score: float
    reasons: list[str]

    @classmethod
    def of(cls, p: PossibleDuplicate) -> "PossibleDuplicateView":
        return cls(worker_id=p.worker_id, score=round(p.score, 3), reasons=list(p.reasons))


class LinkRequestView(BaseModel):
    """The registration matched a record this partner does not reach: nothing of it is shown, and the new
    record is kept apart. Confirm the link with a code sent to the phone on record
    (`POST /v1/match-reviews/{review_id}:send-code`, then `:confirm-code`), or wait for a supervisor of a
    partner holding the record."""

    review_id: str
    can_send_code: bool


class RegistrationResponse(WorkerResponse):
    linked_to_existing: bool
    possible_duplicates: list[PossibleDuplicateView]
    link_request: LinkRequestView | None

    @classmethod
    def of_registration(cls, registration: Registration, partner_id: str) -> "RegistrationResponse":
        link = registration.link_request
        return cls(
            **WorkerResponse.of(registration.view, partner_id).model_dump(),
            linked_to_existing=registration.linked_to_existing,
            possible_duplicates=[PossibleDuplicateView.of(p) for p in registration.possible_duplicates],
            link_request=LinkRequestView(review_id=link.review_id, can_send_code=link.can_send_code) if link else None,
        )


class SearchResponse(BaseModel):
    workers: list[WorkerResponse]
    next_page_token: str


class ReviewResponse(BaseModel):
    """A match review as one partner sees it: the id of a record it does not reach is left empty."""

    review_id: str
    kind: MatchKind
    side: Side
    worker_id: str
    candidate_id: str
    score: float
    reasons: list[str]
    status: ReviewStatus
    created_at: datetime
    resolved_by: str
    resolved_at: datetime | None
    evidence: str
    code_sent: bool
    code_expires_at: datetime | None

    @classmethod
    def of(cls, view: ReviewView) -> "ReviewResponse":
        review = view.review
        challenge = review.challenge
        return cls(
            review_id=review.review_id,
            kind=review.kind,
            side=view.side,
            worker_id=view.worker_id,
            candidate_id=view.candidate_id,
            score=round(review.score, 3),
            reasons=list(review.reasons),
            status=review.status,
            created_at=review.created_at,
            resolved_by=review.resolved_by,
            resolved_at=review.resolved_at,
            evidence=review.evidence,
            code_sent=challenge is not None,
            code_expires_at=challenge.expires_at if challenge else None,
        )


class ErasureRequestBody(StrictModel):
    reason: str = Field(min_length=1, max_length=500)


class ErasureRequestResponse(BaseModel):
    request_id: str
    worker_id: str
    status: ErasureStatus
    code_expires_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, request: ErasureRequest) -> "ErasureRequestResponse":
        return cls(
            request_id=request.request_id,
            worker_id=request.worker_id,
            status=request.status,
            code_expires_at=request.challenge.expires_at,
            completed_at=request.completed_at,
        )


def _version(if_match: str) -> int:
    value = if_match.strip().strip('"').removeprefix("W/").strip('"')
    if not value:
        return 0
    if not value.isdigit():
        raise InvalidArgument.for_field("If-Match", 'must be the worker\'s version, e.g. "3"')
    return int(value)


def workers_router(
    workers: WorkerService, reviews: ReviewService, erasures: ErasureService, auth: HttpAuth
) -> APIRouter:
    router = APIRouter(tags=["workers"])

    @router.post("/v1/workers", status_code=201, response_model=RegistrationResponse)
    def register_worker(
        body: RegisterWorkerBody,
        response: Response,
        idempotency_key: IdempotencyHeader = "",
        caller: Caller = auth.requires(Scope.WORKERS_WRITE),
    ) -> RegistrationResponse:
        registration = workers.register(
            RegisterWorker(_worker_input(body, body.home.place()), body.consent.input(), idempotency_key), caller
        )
        worker = registration.view.worker
        response.headers["Location"] = f"/v1/workers/{worker.worker_id}"
        response.headers["ETag"] = f'"{worker.version}"'
        if not registration.created:
            response.headers["Idempotent-Replayed"] = "true"
        if registration.linked_to_existing:
            response.status_code = 200
        return RegistrationResponse.of_registration(registration, caller.partner_id)

    @router.post("/v1/workers:search", response_model=SearchResponse)
    def search_workers(body: SearchBody, caller: Caller = auth.requires(Scope.WORKERS_READ)) -> SearchResponse:
        found, token = workers.search(
            Search(
                name=body.name,
                phone=body.phone,
                document=DocumentInput(body.identity_document.kind, body.identity_document.number)
                if body.identity_document
                else None,
                district_code=body.district_code,
                registering_partner_id=body.registering_partner_id,
                sector=body.sector,
                page_size=body.page_size,
                page_token=body.page_token,
            ),
            caller,
        )
        return SearchResponse(workers=[WorkerResponse.of(v, caller.partner_id) for v in found], next_page_token=token)

    @router.get("/v1/workers/{worker_id}", response_model=WorkerResponse)
    def get_worker(
        worker_id: str, response: Response, caller: Caller = auth.requires(Scope.WORKERS_READ)
    ) -> WorkerResponse:
        view = workers.get(worker_id, caller)
        response.headers["ETag"] = f'"{view.worker.version}"'
        return WorkerResponse.of(view, caller.partner_id)

    @router.patch("/v1/workers/{worker_id}", response_model=WorkerResponse)
    def update_worker(
        worker_id: str,
        body: UpdateWorkerBody,
        response: Response,
        if_match: IfMatchHeader = "",
        caller: Caller = auth.requires(Scope.WORKERS_WRITE),
    ) -> WorkerResponse:
        paths = frozenset(body.model_fields_set)
        home = body.home.place() if body.home else Place("", "")
        view = workers.update(UpdateWorker(worker_id, _worker_input(body, home), paths, _version(if_match)), caller)
        response.headers["ETag"] = f'"{view.worker.version}"'
        return WorkerResponse.of(view, caller.partner_id)

    @router.post("/v1/workers/{worker_id}/consents", status_code=201, response_model=WorkerResponse)
    def grant_consent(
        worker_id: str,
        body: ConsentBody,
        idempotency_key: IdempotencyHeader = "",
        caller: Caller = auth.requires(Scope.CONSENT_WRITE),
    ) -> WorkerResponse:
        view = workers.grant_consent(worker_id, body.input(), idempotency_key, caller)
        return WorkerResponse.of(view, caller.partner_id)

    @router.post("/v1/workers/{worker_id}/consents/{consent_id}:revoke", response_model=None)
    def revoke_consent(
        worker_id: str, consent_id: str, caller: Caller = auth.requires(Scope.CONSENT_WRITE)
    ) -> WorkerResponse | Response:
        view = workers.revoke_consent(worker_id, consent_id, caller)
        # Revoking its last consent leaves the partner nothing it may see: no body.
        return WorkerResponse.of(view, caller.partner_id) if view else Response(status_code=204)

    @router.post("/v1/workers/{worker_id}:erase", status_code=204)
    def erase_worker(worker_id: str, body: EraseBody, caller: Caller = auth.requires(Scope.WORKERS_ERASE)) -> Response:
        workers.erase(worker_id, body.reason, caller)
        return Response(status_code=204)

    @router.post("/v1/workers/{worker_id}/erasure-requests", status_code=202, response_model=ErasureRequestResponse)
    def request_erasure(
        worker_id: str, body: ErasureRequestBody, caller: Caller = auth.requires(Scope.WORKERS_WRITE)
    ) -> "ErasureRequestResponse":
        return ErasureRequestResponse.of(erasures.request(worker_id, body.reason, caller))

    @router.post("/v1/erasure-requests/{request_id}:resend-code", response_model=ErasureRequestResponse)
    def resend_erasure_code(
        request_id: str, caller: Caller = auth.requires(Scope.WORKERS_WRITE)
    ) -> "ErasureRequestResponse":
        return ErasureRequestResponse.of(erasures.resend(request_id, caller))

    @router.post("/v1/erasure-requests/{request_id}:confirm", response_model=ErasureRequestResponse)
    def confirm_erasure(
        request_id: str, body: CodeBody, caller: Caller = auth.requires(Scope.WORKERS_WRITE)
    ) -> "ErasureRequestResponse":
        return ErasureRequestResponse.of(erasures.confirm(request_id, body.code, caller))

    @router.get("/v1/match-reviews", response_model=list[ReviewResponse])
    def pending_reviews(
        page_size: int = 50, after: str = "", caller: Caller = auth.requires(Scope.WORKERS_MERGE)
    ) -> list[ReviewResponse]:
        if not 1 <= page_size <= 200:
            raise InvalidArgument.for_field("page_size", "must be between 1 and 200")
        return [ReviewResponse.of(r) for r in reviews.pending(caller, page_size=page_size, after=after)]

    @router.get("/v1/match-reviews/{review_id}", response_model=ReviewResponse)
    def get_review(review_id: str, caller: Caller = auth.requires(Scope.WORKERS_WRITE)) -> "ReviewResponse":
        return ReviewResponse.of(reviews.get(review_id, caller))

    @router.post("/v1/match-reviews/{review_id}:resolve", response_model=ReviewResponse)
    def resolve_review(
        review_id: str, body: ResolveBody, caller: Caller = auth.requires(Scope.WORKERS_WRITE)
    ) -> "ReviewResponse":
        return ReviewResponse.of(reviews.resolve(review_id, body.decision, body.surviving_worker_id, caller))

    @router.post("/v1/match-reviews/{review_id}:send-code", status_code=202, response_model=ReviewResponse)
    def send_code(review_id: str, caller: Caller = auth.requires(Scope.WORKERS_WRITE)) -> "ReviewResponse":
        return ReviewResponse.of(reviews.send_code(review_id, caller))

    @router.post("/v1/match-reviews/{review_id}:confirm-code", response_model=ReviewResponse)
    def confirm_code(
        review_id: str, body: CodeBody, caller: Caller = auth.requires(Scope.WORKERS_WRITE)
    ) -> "ReviewResponse":
        return ReviewResponse.of(reviews.confirm_code(review_id, body.code, caller))

    return router
