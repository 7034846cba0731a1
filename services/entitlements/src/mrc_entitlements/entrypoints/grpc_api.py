"""gRPC API: mrc.entitlements.v1.EntitlementsService, the same use cases as REST, the same access policy.

Every RPC needs `authorization: Bearer <token>` metadata with the RPC's scope, and reads of a worker's
records may declare `x-purpose`. DomainErrors become status codes in `mrc_plumbing.grpc_server`.
"""

from __future__ import annotations

import grpc

from mrc.entitlements.v1 import eligibility_pb2
from mrc.entitlements.v1 import entitlements_service_pb2 as pb
from mrc.entitlements.v1 import entitlements_service_pb2_grpc as pb_grpc
from mrc_entitlements.adapters import protobuf_mapping as mapping
from mrc_entitlements.adapters.federation_mapping import home_status_message
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_entitlements.service_layer.applications import ApplicationService, NewApplication, NewDelivery
from mrc_entitlements.service_layer.catalogue import READ_SCOPES, WRITE_SCOPE, CatalogueService
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_entitlements.service_layer.funnel import FunnelFilter, FunnelService
from mrc_kernel.caller import Caller
from mrc_kernel.errors import InvalidArgument, PermissionDenied
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.grpc import GrpcAuth

MAX_ID = 80


def _eligibility(record: WorkerRecord) -> eligibility_pb2.Eligibility:
    """The eligibility view, with the home state's read-only status for a copy of another state's worker."""
    message = mapping.eligibility(record)
    if record.home_state_status is not None and record.federated_from:
        message.home_state_status.CopyFrom(home_status_message(record.home_state_status))
    return message


def _id(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "must be set")
    if len(value) > MAX_ID:
        raise InvalidArgument.for_field(field, f"must be at most {MAX_ID} characters")
    return value


class EntitlementsServicer(pb_grpc.EntitlementsServiceServicer):
    def __init__(
        self,
        catalogue: CatalogueService,
        eligibility: EligibilityService,
        applications: ApplicationService,
        funnel: FunnelService,
        auth: GrpcAuth,
    ) -> None:
        self._catalogue = catalogue
        self._eligibility = eligibility
        self._applications = applications
        self._funnel = funnel
        self._auth = auth

    def _any(self, context: grpc.ServicerContext, scopes: tuple[Scope, ...]) -> Caller:
        for scope in scopes[:-1]:
            try:
                return self._auth.require(context, scope)
            except PermissionDenied:
                continue
        return self._auth.require(context, scopes[-1])

    def GetEligibility(  # noqa: N802 - the name is the RPC's
        self, request: pb.GetEligibilityRequest, context: grpc.ServicerContext
    ) -> pb.GetEligibilityResponse:
        caller = self._auth.require(context, Scope.ELIGIBILITY_READ)
        record = self._eligibility.get(_id(request.worker_id, "worker_id"), caller)
        return pb.GetEligibilityResponse(eligibility=_eligibility(record))

    def ListSchemes(self, request: pb.ListSchemesRequest, context: grpc.ServicerContext) -> pb.ListSchemesResponse:  # noqa: N802
        caller = self._any(context, READ_SCOPES)
        found = self._catalogue.schemes(
            caller, kind=mapping.scheme_kind_from(request.kind), state_code=request.state_code[:3]
        )
        return pb.ListSchemesResponse(schemes=[mapping.scheme(s) for s in found])

    def GetScheme(self, request: pb.GetSchemeRequest, context: grpc.ServicerContext) -> pb.GetSchemeResponse:  # noqa: N802
        caller = self._any(context, READ_SCOPES)
        return pb.GetSchemeResponse(
            scheme=mapping.scheme(self._catalogue.get(_id(request.scheme_code, "scheme_code"), caller))
        )

    def DraftRuleVersion(  # noqa: N802
        self, request: pb.DraftRuleVersionRequest, context: grpc.ServicerContext
    ) -> pb.DraftRuleVersionResponse:
        caller = self._auth.require(context, WRITE_SCOPE)
        rule, scheme = self._catalogue.draft(
            _id(request.scheme_code, "scheme_code"),
            [mapping.condition_spec(c) for c in request.conditions],
            note=request.note,
            expected_version=request.expected_version,
            caller=caller,
        )
        return pb.DraftRuleVersionResponse(rule_version=mapping.rule_version(rule), scheme_version=scheme.version)

    def PublishRuleVersion(  # noqa: N802
        self, request: pb.PublishRuleVersionRequest, context: grpc.ServicerContext
    ) -> pb.PublishRuleVersionResponse:
        caller = self._auth.require(context, WRITE_SCOPE)
        published = self._catalogue.publish(
            _id(request.scheme_code, "scheme_code"),
            request.version,
            expected_version=request.expected_version,
            caller=caller,
        )
        return pb.PublishRuleVersionResponse(
            rule_version=mapping.rule_version(published.rule), job=mapping.job(published.job)
        )

    def RetireRuleVersion(  # noqa: N802
        self, request: pb.RetireRuleVersionRequest, context: grpc.ServicerContext
    ) -> pb.RetireRuleVersionResponse:
        caller = self._auth.require(context, WRITE_SCOPE)
        rule = self._catalogue.retire(
            _id(request.scheme_code, "scheme_code"),
            request.version,
            expected_version=request.expected_version,
            caller=caller,
        )
        return pb.RetireRuleVersionResponse(rule_version=mapping.rule_version(rule))

    def GetReevaluationJob(  # noqa: N802
        self, request: pb.GetReevaluationJobRequest, context: grpc.ServicerContext
    ) -> pb.GetReevaluationJobResponse:
        caller = self._any(context, READ_SCOPES)
        return pb.GetReevaluationJobResponse(
            job=mapping.job(self._catalogue.job(_id(request.job_id, "job_id"), caller))
        )

    def CreateApplication(  # noqa: N802
        self, request: pb.CreateApplicationRequest, context: grpc.ServicerContext
    ) -> pb.CreateApplicationResponse:
        caller = self._auth.require(context, Scope.ELIGIBILITY_WRITE)
        application, _ = self._applications.create(
            NewApplication(
                worker_id=_id(request.worker_id, "worker_id"),
                scheme_code=_id(request.scheme_code, "scheme_code"),
                state_code=request.state_code[:3],
                district_code=request.district_code[:4],
                reason=request.reason,
                idempotency_key=request.idempotency_key[:128],
            ),
            caller,
        )
        return pb.CreateApplicationResponse(application=mapping.application(application))

    def GetApplication(  # noqa: N802
        self, request: pb.GetApplicationRequest, context: grpc.ServicerContext
    ) -> pb.GetApplicationResponse:
        caller = self._auth.require(context, Scope.ELIGIBILITY_READ)
        application = self._applications.get(_id(request.application_id, "application_id"), caller)
        return pb.GetApplicationResponse(application=mapping.application(application))

    def TransitionApplication(  # noqa: N802
        self, request: pb.TransitionApplicationRequest, context: grpc.ServicerContext
    ) -> pb.TransitionApplicationResponse:
        caller = self._auth.require(context, Scope.ELIGIBILITY_WRITE)
        application, _ = self._applications.transition(
            _id(request.application_id, "application_id"),
            mapping.application_status_from(request.to_status),
            caller,
            reason=request.reason,
            expected_version=request.expected_version,
        )
        return pb.TransitionApplicationResponse(application=mapping.application(application))

    def RecordDelivery(  # noqa: N802
        self, request: pb.RecordDeliveryRequest, context: grpc.ServicerContext
    ) -> pb.RecordDeliveryResponse:
        caller = self._auth.require(context, Scope.ELIGIBILITY_WRITE)
        application, replayed = self._applications.record_delivery(
            _id(request.application_id, "application_id"),
            NewDelivery(
                external_reference=request.external_reference[:129],
                kind=mapping.delivery_kind_from(request.kind),
                delivered_on=mapping.parse_date(request.delivered_on, "delivered_on"),
                amount_paise=request.amount_paise,
                quantity=request.quantity[:101],
                state_code=request.state_code[:3],
                district_code=request.district_code[:4],
            ),
            caller,
        )
        return pb.RecordDeliveryResponse(application=mapping.application(application), replayed=replayed)

    def GetFunnel(self, request: pb.GetFunnelRequest, context: grpc.ServicerContext) -> pb.GetFunnelResponse:  # noqa: N802
        caller = self._auth.require(context, Scope.AGGREGATES_READ)
        counts = self._funnel.funnel(
            FunnelFilter(request.state_code[:3], request.district_code[:4], request.scheme_code[:40]), caller
        )
        return pb.GetFunnelResponse(
            cells=mapping.funnel_cells(counts),
            total=counts.total or 0,
            total_suppressed=counts.total is None,
            min_cell_size=counts.min_cell_size,
        )

    def ListRefusalsOfEligible(  # noqa: N802
        self, request: pb.ListRefusalsOfEligibleRequest, context: grpc.ServicerContext
    ) -> pb.ListRefusalsOfEligibleResponse:
        caller = self._auth.require(context, Scope.ELIGIBILITY_READ)
        found = self._eligibility.refusals(_id(request.worker_id, "worker_id"), caller, request.scheme_code[:40])
        return pb.ListRefusalsOfEligibleResponse(
            refused_while_eligible=bool(found.refusals),
            refusals=[
                pb.RefusalOfEligible(
                    application_id=r.application_id,
                    scheme_code=r.scheme_code,
                    refused_at=mapping.timestamp(r.refused_at),
                    outcome_at_refusal=mapping.outcome(r.outcome_at_refusal),
                    outcome_now=mapping.outcome(r.outcome_now),
                    rule_version_now=r.rule_version_now,
                )
                for r in found.refusals
            ],
        )

    def DeclareFacts(self, request: pb.DeclareFactsRequest, context: grpc.ServicerContext) -> pb.DeclareFactsResponse:  # noqa: N802
        caller = self._auth.require(context, Scope.ELIGIBILITY_WRITE)
        facts = {name[:64]: mapping.fact_from_proto(value) for name, value in request.facts.items()}
        record = self._eligibility.declare_facts(_id(request.worker_id, "worker_id"), facts, caller)
        return pb.DeclareFactsResponse(eligibility=_eligibility(record))
