"""Migration episodes: one journey of a worker from a source to a destination, in India or abroad."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from mrc_geography import lgd
from mrc_kernel.errors import FieldViolation, InvalidArgument

EARLIEST_START = date(1950, 1, 1)
MAX_TEXT_LENGTH = 200
MAX_ID_LENGTH = 64
INDIA = "IN"
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

# ISO 3166-1 alpha-2: the 249 officially assigned codes.
_ISO_3166_ALPHA_2 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY
    BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK
    FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR
    IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK
    ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRY_CODES = frozenset(_ISO_3166_ALPHA_2.split())


class RecruitmentChannel(enum.StrEnum):
    CONTRACTOR = "contractor"
    AGENT = "agent"
    SELF = "self"
    FAMILY = "family"


class MigrationStatus(enum.StrEnum):
    PLANNED = "planned"
    ONGOING = "ongoing"
    RETURNED = "returned"
    # The worker cannot be reached at the destination: a trigger for tracing.
    MISSING = "missing"


@dataclass(frozen=True)
class Location:
    """A place in India by LGD codes; the village is free text."""

    state_code: str
    district_code: str
    subdistrict_code: str = ""
    village_name: str = ""


@dataclass(frozen=True)
class MigrationRecorded:
    episode: MigrationEpisode


DomainEvent = MigrationRecorded


@dataclass
class MigrationEpisode:
    episode_id: str
    worker_id: str
    origin: Location
    # Exactly one of the two: a place in India, or a country abroad.
    destination: Location | None
    destination_country: str
    sector: str
    employer_id: str
    recruitment_channel: RecruitmentChannel
    start_date: date
    end_date: date | None
    status: MigrationStatus
    recorded_by_partner_id: str
    recorded_at: datetime
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(
        cls,
        *,
        episode_id: str,
        worker_id: str,
        origin: Location,
        destination: Location | None,
        destination_country: str,
        sector: str,
        employer_id: str,
        recruitment_channel: RecruitmentChannel | None,
        start_date: str,
        end_date: str,
        status: MigrationStatus | None,
        recorded_by_partner_id: str,
        now: datetime,
    ) -> MigrationEpisode:
        """A validated episode with its MigrationRecorded event, or InvalidArgument naming every bad field."""
        violations: list[FieldViolation] = []
        worker_id = worker_id.strip()
        if not worker_id:
            violations.append(FieldViolation("worker_id", "must be set"))
        elif len(worker_id) > MAX_ID_LENGTH:
            violations.append(FieldViolation("worker_id", f"must be at most {MAX_ID_LENGTH} characters"))
        violations += _location_violations("origin", origin)
        country = destination_country.strip().upper()
        if destination is not None and country:
            violations.append(
                FieldViolation("destination_country", "set destination (in India) or destination_country, not both")
            )
        elif destination is not None:
            violations += _location_violations("destination", destination)
        elif not country:
            violations.append(
                FieldViolation("destination", "set destination (in India) or destination_country (abroad)")
            )
        elif country == INDIA:
            violations.append(FieldViolation("destination_country", "for India, give destination by LGD codes"))
        elif country not in ISO_COUNTRY_CODES:
            violations.append(FieldViolation("destination_country", "must be an ISO 3166-1 alpha-2 country code"))
        sector = " ".join(sector.split())
        if not sector:
            violations.append(FieldViolation("sector", "must not be empty"))
        elif len(sector) > MAX_TEXT_LENGTH:
            violations.append(FieldViolation("sector", f"must be at most {MAX_TEXT_LENGTH} characters"))
        employer_id = employer_id.strip()
        if len(employer_id) > MAX_ID_LENGTH:
            violations.append(FieldViolation("employer_id", f"must be at most {MAX_ID_LENGTH} characters"))
        if recruitment_channel is None:
            violations.append(FieldViolation("recruitment_channel", "must be set"))
        if status is None:
            violations.append(FieldViolation("status", "must be set"))
        start = _parse_date("start_date", start_date, violations, required=True)
        end = _parse_date("end_date", end_date, violations, required=False)
        latest_start = _a_year_after(now.date())
        if start is not None and not EARLIEST_START <= start <= latest_start:
            violations.append(
                FieldViolation("start_date", f"must be between {EARLIEST_START} and {latest_start.isoformat()}")
            )
        if start is not None and end is not None and end < start:
            violations.append(FieldViolation("end_date", "must not be before start_date"))
        if status is MigrationStatus.RETURNED and end is None and not any(v.field == "end_date" for v in violations):
            violations.append(FieldViolation("end_date", "must be set when the worker has returned"))
        if violations or start is None or recruitment_channel is None or status is None:
            raise InvalidArgument(violations)
        episode = cls(
            episode_id=episode_id,
            worker_id=worker_id,
            origin=_tidy(origin),
            destination=_tidy(destination) if destination is not None else None,
            destination_country=country,
            sector=sector,
            employer_id=employer_id,
            recruitment_channel=recruitment_channel,
            start_date=start,
            end_date=end,
            status=status,
            recorded_by_partner_id=recorded_by_partner_id,
            recorded_at=now,
        )
        episode.pending_events.append(MigrationRecorded(episode))
        return episode


def _a_year_after(day: date) -> date:
    """Planned journeys can be recorded ahead, but at most a year ahead."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _tidy(location: Location) -> Location:
    return Location(
        state_code=location.state_code.strip(),
        district_code=location.district_code.strip(),
        subdistrict_code=location.subdistrict_code.strip(),
        village_name=" ".join(location.village_name.split()),
    )


def _location_violations(path: str, location: Location) -> list[FieldViolation]:
    tidy = _tidy(location)
    violations = [
        FieldViolation(f"{path}.{name}", problem)
        for name, problem in lgd().location_errors(tidy.state_code, tidy.district_code, tidy.subdistrict_code).items()
    ]
    if len(tidy.village_name) > MAX_TEXT_LENGTH:
        violations.append(FieldViolation(f"{path}.village_name", f"must be at most {MAX_TEXT_LENGTH} characters"))
    return violations


def _parse_date(name: str, value: str, violations: list[FieldViolation], *, required: bool) -> date | None:
    value = value.strip()
    if not value:
        if required:
            violations.append(FieldViolation(name, "must be set (YYYY-MM-DD)"))
        return None
    if not _ISO_DATE.match(value):
        violations.append(FieldViolation(name, "must be a date as YYYY-MM-DD"))
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        violations.append(FieldViolation(name, "is not a calendar date"))
        return None
