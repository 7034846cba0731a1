"""REST API for partners: /v1/households and /v1/workers/{worker_id}/migrations."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from mrc_kernel.caller import Caller
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth
from mrc_registry.domain.household import MAX_MEMBERS, Household, Member, Relationship
from mrc_registry.domain.migration import Location, MigrationEpisode, MigrationStatus, RecruitmentChannel
from mrc_registry.service_layer.households import CreateHousehold, HouseholdService, ReplaceMembers
from mrc_registry.service_layer.migrations import MigrationService, RecordMigration

IdempotencyHeader = Annotated[str, Header(alias="Idempotency-Key", max_length=128)]
HouseholdId = Annotated[str, Path(min_length=1, max_length=64)]
WorkerId = Annotated[str, Path(min_length=1, max_length=64)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MemberBody(StrictModel):
    worker_id: str = Field(default="", max_length=64, description="Set when the member is a registered worker")
    name: str = Field(default="", max_length=200, description="For members who are not registered")
    relationship: Relationship = Field(description="Relationship to the head of the household")
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    left_behind: bool = Field(default=False, description="Stays at the source while others migrate")
    in_school: bool = False

    def to_domain(self) -> Member:
        return Member(
            worker_id=self.worker_id,
            name=self.name,
            relationship=self.relationship,
            birth_year=self.birth_year,
            left_behind=self.left_behind,
            in_school=self.in_school,
        )

    @classmethod
    def of(cls, member: Member) -> "MemberBody":
        return cls.model_construct(
            worker_id=member.worker_id,
            name=member.name,
            relationship=member.relationship,
            birth_year=member.birth_year,
            left_behind=member.left_behind,
            in_school=member.in_school,
        )


class CreateHouseholdBody(StrictModel):
    members: list[MemberBody] = Field(min_length=1, max_length=MAX_MEMBERS)
    ration_card_number: str = Field(default="", max_length=40, description="Stored encrypted; shown only masked")


class ReplaceMembersBody(StrictModel):
    members: list[MemberBody] = Field(min_length=1, max_length=MAX_MEMBERS)
    expected_version: int = Field(ge=1, description="The version you read; a stale one gets 409")


class HouseholdView(BaseModel):
    household_id: str
    members: list[MemberBody]
    masked_ration_card: str
    registering_partner_id: str
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, household: Household) -> "HouseholdView":
        return cls(
            household_id=household.household_id,
            members=[MemberBody.of(m) for m in household.members],
            masked_ration_card=household.masked_ration_card,
            registering_partner_id=household.registering_partner_id,
            updated_at=household.updated_at,
            version=household.version,
        )


class LocationBody(StrictModel):
    state_code: str = Field(max_length=3, description="LGD state code")
    district_code: str = Field(max_length=4, description="LGD district code")
    subdistrict_code: str = Field(default="", max_length=6, description="LGD sub-district code")
    village_name: str = Field(default="", max_length=200)

    def to_domain(self) -> Location:
        return Location(**self.model_dump())

    @classmethod
    def of(cls, location: Location) -> "LocationBody":
        return cls.model_construct(**location.__dict__)


class RecordMigrationBody(StrictModel):
    origin: LocationBody
    destination: LocationBody | None = Field(default=None, description="For migration within India")
    destination_country: str = Field(
        default="", max_length=2, description="ISO 3166-1 alpha-2, for migration abroad instead of destination"
    )
    sector: str = Field(max_length=200)
    employer_id: str = Field(default="", max_length=64)
    recruitment_channel: RecruitmentChannel
    start_date: str = Field(max_length=10, description="YYYY-MM-DD")
    end_date: str = Field(default="", max_length=10, description="YYYY-MM-DD")
    status: MigrationStatus


class MigrationView(BaseModel):
    episode_id: str
    worker_id: str
    origin: LocationBody
    destination: LocationBody | None
    destination_country: str
    sector: str
    employer_id: str
    recruitment_channel: RecruitmentChannel
    start_date: str
    end_date: str
    status: MigrationStatus
    recorded_by_partner_id: str
    recorded_at: datetime

    @classmethod
    def of(cls, episode: MigrationEpisode) -> "MigrationView":
        return cls(
            episode_id=episode.episode_id,
            worker_id=episode.worker_id,
            origin=LocationBody.of(episode.origin),
            destination=LocationBody.of(episode.destination) if episode.destination else None,
            destination_country=episode.destination_country,
            sector=episode.sector,
            employer_id=episode.employer_id,
            recruitment_channel=episode.recruitment_channel,
            start_date=episode.start_date.isoformat(),
            end_date=episode.end_date.isoformat() if episode.end_date else "",
            status=episode.status,
            recorded_by_partner_id=episode.recorded_by_partner_id,
            recorded_at=episode.recorded_at,
        )


class MigrationList(BaseModel):
    episodes: list[MigrationView]


def households_router(households: HouseholdService, migrations: MigrationService, auth: HttpAuth) -> APIRouter:
    # Local aliases need annotations evaluated at definition time: this module does not postpone them.
    Reader = Annotated[Caller, auth.requires(Scope.WORKERS_READ)]  # noqa: N806 - a type alias
    Writer = Annotated[Caller, auth.requires(Scope.WORKERS_WRITE)]  # noqa: N806
    router = APIRouter(tags=["households"])

    @router.post("/v1/households", status_code=201, response_model=HouseholdView)
    def create_household(
        body: CreateHouseholdBody, response: Response, caller: Writer, idempotency_key: IdempotencyHeader = ""
    ) -> HouseholdView:
        result = households.create(
            caller,
            CreateHousehold(
                members=tuple(m.to_domain() for m in body.members),
                ration_card_number=body.ration_card_number,
                idempotency_key=idempotency_key,
            ),
        )
        response.headers["Location"] = f"/v1/households/{result.household.household_id}"
        if not result.created:
            response.headers["Idempotent-Replayed"] = "true"
        return HouseholdView.of(result.household)

    @router.get("/v1/households/{household_id}", response_model=HouseholdView)
    def get_household(household_id: HouseholdId, caller: Reader) -> HouseholdView:
        return HouseholdView.of(households.get(caller, household_id))

    @router.put("/v1/households/{household_id}/members", response_model=HouseholdView)
    def replace_members(household_id: HouseholdId, body: ReplaceMembersBody, caller: Writer) -> HouseholdView:
        household = households.replace_members(
            caller,
            ReplaceMembers(
                household_id=household_id,
                members=tuple(m.to_domain() for m in body.members),
                expected_version=body.expected_version,
            ),
        )
        return HouseholdView.of(household)

    @router.post("/v1/workers/{worker_id}/migrations", status_code=201, response_model=MigrationView)
    def record_migration(
        worker_id: WorkerId,
        body: RecordMigrationBody,
        response: Response,
        caller: Writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> MigrationView:
        result = migrations.record(
            caller,
            RecordMigration(
                worker_id=worker_id,
                origin=body.origin.to_domain(),
                destination=body.destination.to_domain() if body.destination else None,
                destination_country=body.destination_country,
                sector=body.sector,
                employer_id=body.employer_id,
                recruitment_channel=body.recruitment_channel,
                start_date=body.start_date,
                end_date=body.end_date,
                status=body.status,
                idempotency_key=idempotency_key,
            ),
        )
        if not result.created:
            response.headers["Idempotent-Replayed"] = "true"
        return MigrationView.of(result.episode)

    @router.get("/v1/workers/{worker_id}/migrations", response_model=MigrationList)
    def list_migrations(worker_id: WorkerId, caller: Reader) -> MigrationList:
        return MigrationList(episodes=[MigrationView.of(e) for e in migrations.list_for_worker(caller, worker_id)])

    return router
