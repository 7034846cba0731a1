"""The minimum-wage table: the seed with its caveats, the lookup rules, and rows as versioned data."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest

from mrc_employer.domain.minimum_wage_seed import SEED_FILE, seed_rows
from mrc_employer.domain.minimum_wages import (
    ALL_SCHEDULED_EMPLOYMENTS,
    MinimumWageKey,
    MinimumWageRateRecorded,
    MinimumWageRateSuperseded,
    MinimumWageRateWithdrawn,
    MinimumWageTable,
    RateCaveat,
    RateInput,
    RateStatus,
    RateUnit,
    WageSphere,
)
from mrc_kernel.errors import AlreadyExists, Conflict, InvalidArgument, NotFound

from .support import NOW, seeded, seeded_table

CENTRAL = WageSphere.CENTRAL
STATE = WageSphere.STATE


def central(employment: str, skill: str, area: str) -> MinimumWageKey:
    return MinimumWageKey(CENTRAL, "10", employment, skill, area)


def rate_of(key: MinimumWageKey, on: date, table: MinimumWageTable | None = None) -> Decimal | None:
    found = (table or seeded_table()).applicable(key, on)
    return found.amount if found else None


# -- the seed -----------------------------------------------------------------------------------


def test_every_seed_row_loads_with_its_values_unchanged() -> None:
    rows = seed_rows()
    rates = seeded()
    assert len(rates) == len(rows) == 124
    for (number, row), rate in zip(rows, rates, strict=True):
        assert rate.rate_id == f"mw-seed-{number:03d}"
        assert rate.amount == Decimal(row["total"])
        assert rate.basic == (Decimal(row["basic"]) if row["basic"] else None)
        assert rate.vda == (Decimal(row["vda"]) if row["vda"] else None)
        assert str(rate.effective_from or "") == row["effective_from"]
        assert rate.unit is (RateUnit.PER_DAY if row["rate_unit"] == "INR/day" else RateUnit.PER_MONTH)
        assert rate.notification_ref == row["notification_ref"]
        assert rate.note == row["note"]
        assert rate.value_status == row["value_status"]


def test_the_bundled_file_is_the_shared_table_byte_for_byte() -> None:
    # The hash of the collaborative's shared file, recorded in data/min_wages/PROVENANCE.md.
    bundled = resources.files("mrc_employer").joinpath(*SEED_FILE).read_bytes()
    assert hashlib.sha256(bundled).hexdigest() == "f270d7fc794fe2b310b46e2eb794d43728dc144b94dc9f80f7336e2cd31f4fac"


def test_every_row_with_a_note_or_a_derived_value_carries_a_caveat_or_is_only_informative() -> None:
    informative_notes = ("also:", "non-matric", "graduate+", "monthly ", "previous rate")
    for (_, row), rate in zip(seed_rows(), seeded(), strict=True):
        doubtful = row["value_status"] != "stated" or not row["effective_from"]
        if doubtful or (row["note"] and not row["note"].lower().startswith(informative_notes)):
            assert rate.caveats, (rate.rate_id, row["note"])


@pytest.mark.parametrize(
    ("rate_id", "caveats", "provisional"),
    [
        ("mw-seed-002", set(), False),  # central construction 2019: stated, verified order
        ("mw-seed-017", {RateCaveat.CONFLICTS_WITH_REISSUE}, True),  # Oct 2021: corrected reissue differs
        ("mw-seed-035", {RateCaveat.CONFLICTS_WITH_REISSUE}, True),  # Oct 2021 watch and ward, same order round
        ("mw-seed-071", {RateCaveat.DERIVED_VALUE}, True),  # 2023 highly skilled: basic + VDA computed
        ("mw-seed-074", {RateCaveat.OCR_TRANSCRIPTION}, True),  # 2023 agriculture from a scanned order
        ("mw-seed-085", {RateCaveat.COMPONENT_SPLIT_DERIVED}, False),  # 2024: totals stated
        ("mw-seed-097", {RateCaveat.EFFECTIVE_DATE_UNKNOWN}, False),  # Delhi 2019 announcement
        ("mw-seed-103", {RateCaveat.EFFECTIVE_DATE_INFERRED}, True),  # Delhi April 2023
        ("mw-seed-116", {RateCaveat.EFFECTIVE_DATE_UNKNOWN, RateCaveat.SCHEDULED_EMPLOYMENT_UNSPECIFIED}, False),
    ],
)
def test_caveats_follow_the_rows_and_the_shared_readme(
    rate_id: str, caveats: set[RateCaveat], provisional: bool
) -> None:
    rate = seeded_table().rate(rate_id)
    assert rate.caveats == caveats
    assert rate.provisional is provisional


# -- which row applies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "amount"),
    [
        (date(2019, 9, 30), None),  # before the first row
        (date(2019, 10, 1), Decimal(603)),  # the day a row takes effect, it applies
        (date(2021, 9, 30), Decimal(603)),  # the day before the next row, the previous one still does
        (date(2021, 10, 1), Decimal(654)),
        (date(2023, 3, 31), Decimal(654)),
        (date(2023, 4, 1), Decimal(736)),
        (date(2024, 9, 30), Decimal(736)),
        (date(2024, 10, 1), Decimal(783)),
        (date(2031, 1, 1), Decimal(783)),  # the latest row stays until a newer one is entered
    ],
)
def test_the_latest_row_in_force_on_the_day_applies(on: date, amount: Decimal | None) -> None:
    assert rate_of(central("construction", "unskilled", "a"), on) == amount


@pytest.mark.parametrize(
    ("skill", "area", "amount"),
    [
        ("unskilled", "a", 783),
        ("unskilled", "b", 655),
        ("unskilled", "c", 526),
        ("semi_skilled", "a", 868),  # "Semi-skilled/Unskilled supervisory" answers to each part
        ("unskilled_supervisory", "b", 739),
        ("semi_skilled_unskilled_supervisory", "c", 616),
        ("skilled", "a", 954),
        ("clerical", "b", 868),
        ("highly_skilled", "c", 868),
    ],
)
def test_skill_and_area_pick_the_row(skill: str, area: str, amount: int) -> None:
    assert rate_of(central("construction", skill, area), date(2024, 12, 1)) == Decimal(amount)


def test_a_jurisdiction_with_area_classes_needs_the_area() -> None:
    assert rate_of(central("construction", "unskilled", ""), date(2024, 12, 1)) is None
    assert rate_of(central("construction", "unskilled", "d"), date(2024, 12, 1)) is None
    assert rate_of(central("mines", "unskilled", "below_ground"), date(2022, 1, 1)) == Decimal(546)


def test_the_central_sphere_ignores_the_state_and_the_state_sphere_never_borrows_central_rates() -> None:
    in_bihar = MinimumWageKey(CENTRAL, "10", "construction", "skilled", "b")
    in_delhi = replace(in_bihar, state_code="7")
    assert rate_of(in_bihar, date(2024, 12, 1)) == rate_of(in_delhi, date(2024, 12, 1)) == Decimal(868)

    bihar_state = MinimumWageKey(STATE, "10", "construction", "skilled", "b")
    assert rate_of(bihar_state, date(2024, 12, 1)) is None  # no Bihar row in the seed: no rate, not the central one


def test_a_state_row_for_all_scheduled_employments_covers_any_employment() -> None:
    delhi = MinimumWageKey(STATE, "7", "construction", "unskilled")
    assert rate_of(delhi, date(2023, 11, 1)) == Decimal(17494)
    assert rate_of(replace(delhi, scheduled_employment=ALL_SCHEDULED_EMPLOYMENTS), date(2023, 11, 1)) == Decimal(17494)
    # A row with an area does not match a key without one, but a row without an area matches any area.
    assert rate_of(replace(delhi, area="zone_1"), date(2023, 11, 1)) == Decimal(17494)


def test_a_specific_employment_row_beats_the_all_employments_row() -> None:
    table = seeded_table()
    table.add(
        "delhi-construction",
        _row(
            sphere=STATE, state_code="7", area="", amount="20000", unit=RateUnit.PER_MONTH, effective_from="2023-10-01"
        ),
        NOW,
    )
    delhi = MinimumWageKey(STATE, "7", "construction", "unskilled")
    assert rate_of(delhi, date(2023, 11, 1), table) == Decimal(20000)
    assert rate_of(replace(delhi, scheduled_employment="agriculture"), date(2023, 11, 1), table) == Decimal(17494)
    # Before the specific row takes effect, the general one applies.
    assert rate_of(delhi, date(2023, 9, 1), table) == Decimal(17234)


def test_rows_without_an_effective_date_are_listed_but_never_applied() -> None:
    table = seeded_table()
    rajasthan = MinimumWageKey(STATE, "8", "construction", "unskilled")
    assert rate_of(rajasthan, date(2024, 1, 1), table) is None
    assert {r.rate_id for r in table.rows(state_code="8")} == {
        "mw-seed-112",
        "mw-seed-113",
        "mw-seed-114",
        "mw-seed-115",
    }
    assert all(RateCaveat.EFFECTIVE_DATE_UNKNOWN in r.caveats for r in table.rows(state_code="8"))


def test_an_area_row_beats_a_whole_jurisdiction_row_of_the_same_date() -> None:
    table = MinimumWageTable()
    table.add("whole", _row(area=""), NOW)
    table.add("a", _row(area="A", amount="700"), NOW)
    key = central("construction", "unskilled", "a")
    assert rate_of(key, date(2025, 6, 1), table) == Decimal(700)
    assert rate_of(replace(key, area="b"), date(2025, 6, 1), table) == Decimal(600)


def test_a_monthly_rate_counts_one_twenty_sixth_a_day() -> None:
    delhi = seeded_table().applicable(MinimumWageKey(STATE, "7", "any", "skilled"), date(2024, 1, 1))
    assert delhi is not None and delhi.unit is RateUnit.PER_MONTH
    assert delhi.per_day == Decimal(21215) / 26


def test_effective_until_ends_a_row() -> None:
    table = MinimumWageTable()
    table.add("old", _row(effective_from="2025-01-01", effective_until="2025-03-31"), NOW)
    key = central("construction", "unskilled", "a")
    assert rate_of(key, date(2025, 3, 31), table) == Decimal(600)
    assert rate_of(key, date(2025, 4, 1), table) is None


def test_a_period_is_cut_where_the_rate_changes() -> None:
    spans = seeded_table().spans(central("construction", "unskilled", "a"), date(2024, 9, 16), date(2024, 10, 15))
    assert [(s.start, s.end, s.rate and s.rate.amount) for s in spans] == [
        (date(2024, 9, 16), date(2024, 9, 30), Decimal(736)),
        (date(2024, 10, 1), date(2024, 10, 15), Decimal(783)),
    ]
    before_any = seeded_table().spans(central("construction", "unskilled", "a"), date(2019, 9, 20), date(2019, 10, 5))
    assert [(s.days, s.rate and s.rate.amount) for s in before_any] == [(11, None), (5, Decimal(603))]


# -- rows are data: added, superseded, withdrawn -----------------------------------------------------


def _row(**overrides: object) -> RateInput:
    values: dict[str, object] = {
        "sphere": CENTRAL,
        "state_code": "",
        "scheduled_employment": "Construction",
        "skill_category": "Unskilled",
        "area": "A",
        "unit": RateUnit.PER_DAY,
        "amount": "600",
        "effective_from": "2025-01-01",
        "notification_ref": "CLC(C) Order F.No.1/1(1)/2025-LS-II",
    }
    values.update(overrides)
    return RateInput(**values)  # type: ignore[arg-type]


def test_an_operator_adds_a_row_citing_its_notification() -> None:
    table = MinimumWageTable()
    added = table.add("r1", _row(basic="500", vda="100", source_urls=("https://clc.gov.in/order.pdf",)), NOW)
    assert added.scheduled_employment == "construction" and added.revision == 1 and added.version == 1
    assert table.pending_events == [MinimumWageRateRecorded(added)]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sphere": None}, "sphere"),
        ({"state_code": "10"}, "state_code"),  # a central row names no state
        ({"sphere": STATE, "state_code": "99"}, "state_code"),
        ({"scheduled_employment": " "}, "scheduled_employment"),
        ({"skill_category": ""}, "skill_category"),
        ({"unit": None}, "unit"),
        ({"amount": "0"}, "amount"),
        ({"amount": "6,000"}, "amount"),
        ({"basic": "500", "vda": "90"}, "amount"),
        ({"effective_from": "1.10.2024"}, "effective_from"),
        ({"effective_until": "2024-12-31"}, "effective_until"),
        ({"notification_ref": "", "source_urls": ()}, "notification_ref"),
        ({"source_urls": ("clc.gov.in",)}, "source_urls.0"),
    ],
)
def test_each_bad_field_of_a_row_is_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        MinimumWageTable().add("r", _row(**overrides), NOW)
    assert [v.field for v in caught.value.violations] == [field]


def test_a_second_active_row_for_the_same_key_and_day_is_refused() -> None:
    table = MinimumWageTable()
    table.add("r1", _row(), NOW)
    with pytest.raises(Conflict, match="supersede it instead"):
        table.add("r2", _row(amount="650"), NOW)
    with pytest.raises(AlreadyExists):
        table.add("r1", _row(effective_from="2025-04-01"), NOW)
    table.add("r3", _row(effective_from="2025-04-01", amount="650"), NOW)  # a later date is a new rate


def test_superseding_corrects_a_row_and_keeps_the_old_one_for_the_record() -> None:
    table = seeded_table()
    old, new = table.supersede(
        "mw-seed-026",
        replacement_id="mw-2021-10-hs-a-corrected",
        given=_row(
            skill_category="Highly skilled",
            amount="866",
            effective_from="2021-10-01",
            scheduled_employment_key="construction",
        ),
        reason="corrigendum dated 12.08.2022: VDA for highly skilled, area A",
        now=NOW,
        expected_version=1,
    )
    assert old.status is RateStatus.SUPERSEDED and old.superseded_by == new.rate_id and old.version == 2
    assert new.supersedes == "mw-seed-026" and new.revision == 2 and new.caveats == frozenset()
    assert table.pending_events == [MinimumWageRateSuperseded(old, new)]
    assert rate_of(central("construction", "highly_skilled", "a"), date(2022, 1, 1), table) == Decimal(866)
    assert table.rate("mw-seed-026").amount == Decimal(864)  # the old figure stays readable
    assert "mw-seed-026" not in {r.rate_id for r in table.rows()}
    assert "mw-seed-026" in {r.rate_id for r in table.rows(include_inactive=True)}

    with pytest.raises(Conflict, match="superseded"):
        table.supersede("mw-seed-026", replacement_id="again", given=_row(), reason="x", now=NOW)


def test_dating_an_undated_row_by_superseding_it_makes_it_apply() -> None:
    table = seeded_table()
    _, dated = table.supersede(
        "mw-seed-112",
        replacement_id="rajasthan-2023-unskilled",
        given=_row(
            sphere=STATE,
            state_code="8",
            scheduled_employment="All scheduled employments",
            area="",
            amount="285",
            effective_from="2023-07-01",
            notification_ref="Rajasthan notification (operator-verified)",
        ),
        reason="effective date verified from the gazette notification",
        now=NOW,
    )
    assert rate_of(MinimumWageKey(STATE, "8", "brick_kiln", "unskilled"), date(2024, 1, 1), table) == Decimal(285)
    assert dated.scheduled_employment == ALL_SCHEDULED_EMPLOYMENTS


def test_withdrawing_takes_a_row_out_of_every_lookup() -> None:
    table = seeded_table()
    with pytest.raises(Conflict):
        table.withdraw("mw-seed-085", reason="entered twice", now=NOW, expected_version=7)
    withdrawn = table.withdraw("mw-seed-085", reason="entered twice", now=NOW)
    assert withdrawn.status is RateStatus.WITHDRAWN
    assert table.pending_events == [MinimumWageRateWithdrawn(withdrawn)]
    assert rate_of(central("construction", "unskilled", "a"), date(2024, 12, 1), table) == Decimal(736)
    with pytest.raises(NotFound):
        table.withdraw("no-such-rate", reason="x", now=NOW)
    with pytest.raises(InvalidArgument):
        table.withdraw("mw-seed-061", reason=" ", now=NOW)
