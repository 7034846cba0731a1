"""The seed rows of the minimum-wage table, read from the bundled transcription with their caveats.

See `mrc_employer/data/min_wages/PROVENANCE.md` for where the file comes from and why each caveat is
set. Values are taken as written; a row the table's own rules refuse would stop the seed (a test reads
them all), since a silently dropped row is as bad as a silently fixed one.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from importlib import resources

from mrc_employer.domain.minimum_wages import (
    ALL_SCHEDULED_EMPLOYMENTS,
    MinimumWageRate,
    RateCaveat,
    RateInput,
    RateUnit,
    ValueStatus,
    WageSphere,
    build_rate,
)

SEED_FILE = ("data", "min_wages", "india_min_wages_transcribed.csv")
SEED_ID_PREFIX = "mw-seed-"

EMPLOYMENT_KEYS = {
    "Construction/maintenance of roads, runways, building operations": "construction",
    "Agriculture": "agriculture",
    "Mines": "mines",
    "Sweeping and cleaning": "sweeping_and_cleaning",
    "Loading and unloading": "loading_and_unloading",
    "Watch and ward": "watch_and_ward",
    "All scheduled employments": ALL_SCHEDULED_EMPLOYMENTS,
    "(as listed by Simpliance)": "unspecified",
}
STATE_CODES = {"Delhi": "7", "Rajasthan": "8", "Uttarakhand": "5"}  # LGD
UNITS = {"INR/day": RateUnit.PER_DAY, "INR/month": RateUnit.PER_MONTH}
# The shared README: "the Oct 2021 central figures conflict with a corrected reissue".
REISSUED_CENTRAL_ORDERS_FROM = "2021-10-01"
# Delhi's April 2023 rates are dated by a later order that quotes them as the previous ones.
INFERRED_DATES = {("Delhi", "2023-04-01")}


def caveats_of(row: dict[str, str]) -> frozenset[RateCaveat]:
    note = row["note"].lower()
    found: set[RateCaveat] = set()
    if row["value_status"] == ValueStatus.DERIVED:
        found.add(RateCaveat.DERIVED_VALUE)
    if "split derived" in note:
        found.add(RateCaveat.COMPONENT_SPLIT_DERIVED)
    if row["sphere"] == WageSphere.CENTRAL and row["effective_from"] == REISSUED_CENTRAL_ORDERS_FROM:
        found.add(RateCaveat.CONFLICTS_WITH_REISSUE)
    if "ocr" in note:
        found.add(RateCaveat.OCR_TRANSCRIPTION)
    if not row["effective_from"]:
        found.add(RateCaveat.EFFECTIVE_DATE_UNKNOWN)
    if (row["jurisdiction"], row["effective_from"]) in INFERRED_DATES:
        found.add(RateCaveat.EFFECTIVE_DATE_INFERRED)
    if EMPLOYMENT_KEYS[row["scheduled_employment"]] == "unspecified":
        found.add(RateCaveat.SCHEDULED_EMPLOYMENT_UNSPECIFIED)
    return frozenset(found)


def rate_input_of(row: dict[str, str]) -> RateInput:
    sphere = WageSphere(row["sphere"])
    return RateInput(
        sphere=sphere,
        state_code="" if sphere is WageSphere.CENTRAL else STATE_CODES[row["jurisdiction"]],
        scheduled_employment=row["scheduled_employment"],
        scheduled_employment_key=EMPLOYMENT_KEYS[row["scheduled_employment"]],
        skill_category=row["skill_category"],
        area=row["area"],
        unit=UNITS[row["rate_unit"]],
        amount=row["total"],
        basic=row["basic"],
        vda=row["vda"],
        effective_from=row["effective_from"],
        notification_ref=row["notification_ref"],
        source_urls=tuple(url.strip() for url in row["source_url"].split(" ; ") if url.strip()),
        value_status=ValueStatus(row["value_status"]),
        caveats=caveats_of(row),
        note=row["note"],
    )


def seed_rows() -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of the bundled file."""
    text = resources.files("mrc_employer").joinpath(*SEED_FILE).read_text(encoding="utf-8")
    return [(number, row) for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2)]


def seed_rates(now: datetime) -> list[MinimumWageRate]:
    return [build_rate(f"{SEED_ID_PREFIX}{number:03d}", rate_input_of(row), now) for number, row in seed_rows()]
