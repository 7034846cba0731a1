"""Each shipped scheme: an eligible, a not-eligible and an undetermined worker, from the scheme's cited criteria.

The worker is a 30-year-old construction worker from Patna (Bihar) unless a case says otherwise; facts
the registry does not hold are `declared`, as a caseworker would record them from the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mrc_entitlements.domain.facts import WorkerProfile
from mrc_entitlements.domain.rules import Outcome

from .builders import (
    BIHAR,
    JHARKHAND,
    KERALA,
    MAHARASHTRA,
    UNORGANISED,
    determination,
    household,
    profile,
    published_rule,
    statuses,
)


@dataclass(frozen=True)
class Case:
    scheme: str
    label: str
    worker: WorkerProfile
    outcome: Outcome
    missing: tuple[str, ...] = ()
    failed: tuple[str, ...] = field(default=())


def case(
    scheme: str,
    label: str,
    outcome: Outcome,
    missing: tuple[str, ...] = (),
    failed: tuple[str, ...] = (),
    **worker: object,
) -> Case:
    return Case(scheme, label, profile(**worker), outcome, missing, failed)  # type: ignore[arg-type]


E, N, U = Outcome.ELIGIBLE, Outcome.NOT_ELIGIBLE, Outcome.UNDETERMINED
NOT_TAX_PAYER = {"income_tax_payer": False}

CASES = [
    # e-Shram: Code on Social Security 2020 s.113 and the portal's criteria (16-59, not EPFO/ESIC, no income tax).
    case("e-shram", "an unorganised worker of 30 who pays no income tax", E, declared={**UNORGANISED, **NOT_TAX_PAYER}),
    case(
        "e-shram",
        "a worker of 62",
        N,
        failed=("aged_16_to_59",),
        birth_year=1963,
        declared={**UNORGANISED, **NOT_TAX_PAYER},
    ),
    case(
        "e-shram",
        "an EPFO member",
        N,
        failed=("not_epfo_or_esic_member",),
        declared={**UNORGANISED, "epfo_member": True},
    ),
    case(
        "e-shram",
        "nothing declared",
        U,
        missing=("epfo_member", "esic_member", "government_employee", "income_tax_payer"),
    ),
    case(
        "e-shram",
        "born in 2010: 15 or 16, the date of birth decides",
        U,
        missing=("date_of_birth",),
        birth_year=2010,
        declared={**UNORGANISED, **NOT_TAX_PAYER},
    ),
    case(
        "e-shram",
        "born in 2010 and 16 by the declared date of birth",
        E,
        birth_year=2010,
        declared={**UNORGANISED, **NOT_TAX_PAYER, "date_of_birth": "2010-06-15"},
    ),
    # BOCW Act 1996 s.12(1): 18 to under 60, 90 days of building or construction work in the last 12 months.
    case(
        "bocw-welfare-board",
        "a construction worker of 30 with 120 days of work",
        E,
        declared={"construction_days_last_12_months": 120},
    ),
    case(
        "bocw-welfare-board",
        "an agricultural worker",
        N,
        failed=("building_or_construction_worker",),
        sector="agriculture",
    ),
    case(
        "bocw-welfare-board",
        "a construction worker of 61",
        N,
        failed=("aged_18_to_59",),
        birth_year=1964,
        declared={"construction_days_last_12_months": 200},
    ),
    case(
        "bocw-welfare-board",
        "60 days of work",
        N,
        failed=("ninety_days_in_last_twelve_months",),
        declared={"construction_days_last_12_months": 60},
    ),
    case("bocw-welfare-board", "days of work not known", U, missing=("construction_days_last_12_months",)),
    # NFSA 2013 with ONORC: an NFSA card drawn in another state than the one that issued it.
    case(
        "onorc-ration-portability",
        "a Bihar NFSA card holder working in Kerala",
        E,
        migrating_to=KERALA,
        home_household=household(card_state=BIHAR),
        declared={"nfsa_ration_card": True},
    ),
    case(
        "onorc-ration-portability",
        "not working away",
        N,
        failed=("working_away_from_card_state",),
        home_household=household(card_state=BIHAR),
        declared={"nfsa_ration_card": True},
    ),
    case(
        "onorc-ration-portability",
        "working in the card's own state",
        N,
        failed=("working_away_from_card_state",),
        migrating_to=BIHAR,
        home_household=household(card_state=BIHAR),
        declared={"nfsa_ration_card": True},
    ),
    case(
        "onorc-ration-portability",
        "no ration card in the household",
        N,
        failed=("household_holds_ration_card",),
        migrating_to=KERALA,
        home_household=household(ration_card=False),
    ),
    case(
        "onorc-ration-portability",
        "card category not known",
        U,
        missing=("nfsa_ration_card",),
        migrating_to=KERALA,
        home_household=household(card_state=BIHAR),
    ),
    case(
        "onorc-ration-portability",
        "no household recorded",
        U,
        missing=("household_has_ration_card", "nfsa_ration_card", "ration_card_state"),
        migrating_to=KERALA,
    ),
    # PM-JAY: the SECC-based beneficiary database, or 70 and over (Cabinet, 11 September 2024).
    case("pm-jay", "a family in the beneficiary database", E, declared={"pmjay_listed": True}),
    case("pm-jay", "a worker of 75, whatever the database says", E, birth_year=1950),
    case(
        "pm-jay",
        "a worker of 30 whose family is not in the database",
        N,
        failed=("listed_family_or_aged_70",),
        declared={"pmjay_listed": False},
    ),
    case("pm-jay", "a worker of 30, database not checked", U, missing=("pmjay_listed",)),
    case("pm-jay", "born in 1956: 69 or 70", U, missing=("date_of_birth", "pmjay_listed"), birth_year=1956),
    # PM-SYM: entry age 18-40, income up to Rs 15,000 a month, not EPFO/ESIC/NPS, no income tax, a savings account.
    case(
        "pm-sym",
        "a worker of 30 earning Rs 12,000",
        E,
        declared={**UNORGANISED, **NOT_TAX_PAYER, "monthly_income": 12000, "bank_account": True},
    ),
    case("pm-sym", "a worker of 45", N, failed=("entry_age_18_to_40",), birth_year=1980),
    case(
        "pm-sym", "earning Rs 20,000", N, failed=("monthly_income_at_most_15000",), declared={"monthly_income": 20000}
    ),
    case(
        "pm-sym",
        "only the income declared",
        U,
        missing=("bank_account", "epfo_member", "esic_member", "income_tax_payer", "nps_member"),
        declared={"monthly_income": 9000},
    ),
    # PMJJBY: 18 to 50 with a savings account.
    case("pmjjby", "a worker of 30 with a bank account", E, declared={"bank_account": True}),
    case("pmjjby", "a worker of 55", N, failed=("aged_18_to_50",), birth_year=1970, declared={"bank_account": True}),
    case("pmjjby", "bank account not known", U, missing=("bank_account",)),
    # PMSBY: 18 to 70 with a savings account.
    case("pmsby", "a worker of 65 with a bank account", E, birth_year=1960, declared={"bank_account": True}),
    case(
        "pmsby", "a worker without a bank account", N, failed=("has_savings_account",), declared={"bank_account": False}
    ),
    case("pmsby", "a worker of 75", N, failed=("aged_18_to_70",), birth_year=1950),
    case("pmsby", "bank account not known", U, missing=("bank_account",)),
    # Bihar Migrant Labour Accident Grant Rules 2008: a Bihar labourer in the unorganised sector in another state.
    case(
        "bihar-migrant-accident-grant",
        "a Bihar worker in Kerala, unorganised",
        E,
        migrating_to=KERALA,
        declared=UNORGANISED,
    ),
    case(
        "bihar-migrant-accident-grant",
        "a Jharkhand worker in Kerala",
        N,
        failed=("from_bihar",),
        home_state=JHARKHAND,
        home_district="",
        migrating_to=KERALA,
        declared=UNORGANISED,
    ),
    case(
        "bihar-migrant-accident-grant",
        "a Bihar worker at home",
        N,
        failed=("working_in_another_state",),
        declared=UNORGANISED,
    ),
    case(
        "bihar-migrant-accident-grant",
        "a Bihar worker in Maharashtra, sector of employment not known",
        U,
        missing=("epfo_member", "esic_member"),
        migrating_to=MAHARASHTRA,
    ),
    # Kerala Aawaz: inter-state migrant workers of 18 to 60 working in Kerala.
    case("kerala-aawaz", "a Bihar worker of 30 in Kerala", E, migrating_to=KERALA),
    case(
        "kerala-aawaz",
        "a Bihar worker of 30 in Maharashtra",
        N,
        failed=("inter_state_worker_in_kerala",),
        migrating_to=MAHARASHTRA,
    ),
    case(
        "kerala-aawaz",
        "a Kerala worker at home",
        N,
        failed=("inter_state_worker_in_kerala",),
        home_state=KERALA,
        home_district="540",
    ),
    case(
        "kerala-aawaz", "a worker in Kerala of 65", N, failed=("aged_18_to_60",), birth_year=1961, migrating_to=KERALA
    ),
    case(
        "kerala-aawaz",
        "a worker in Kerala born in 2008: 17 or 18",
        U,
        missing=("date_of_birth",),
        birth_year=2008,
        migrating_to=KERALA,
    ),
    case(
        "kerala-aawaz",
        "a worker in Kerala whose birth year is not known",
        U,
        missing=("age",),
        birth_year=0,
        migrating_to=KERALA,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.scheme}: {c.label}" for c in CASES])
def test_the_scheme_decides_as_its_criteria_say(case: Case) -> None:
    found = determination(case.scheme, case.worker)

    assert found.outcome is case.outcome, statuses(found)
    assert found.missing_facts == case.missing
    failed = tuple(name for name, status in statuses(found).items() if status == "failed")
    assert failed == case.failed
    assert found.rule_version == 1


def test_every_shipped_scheme_has_all_three_outcomes_covered() -> None:
    covered: dict[str, set[Outcome]] = {}
    for c in CASES:
        covered.setdefault(c.scheme, set()).add(c.outcome)
    from .builders import catalogue

    assert {scheme.code for scheme in catalogue()} == set(covered)
    assert all(outcomes == {E, N, U} for outcomes in covered.values()), covered


def test_an_undetermined_determination_names_only_the_unknown_conditions_facts() -> None:
    found = determination("bocw-welfare-board", profile())

    assert statuses(found) == {
        "aged_18_to_59": "passed",
        "building_or_construction_worker": "passed",
        "ninety_days_in_last_twelve_months": "unknown",
    }
    unknown = next(c for c in found.conditions if c.status.value == "unknown")
    assert unknown.missing_facts == ("construction_days_last_12_months",)


def test_the_snapshot_keeps_only_the_facts_the_rule_read() -> None:
    found = determination("kerala-aawaz", profile(migrating_to=KERALA))

    assert found.facts_snapshot == {
        "age": 30,
        "birth_year": 1996,
        "destination_state": KERALA,
        "interstate_migrant": True,
    }
    assert "occupation" not in found.facts_snapshot
    assert published_rule("kerala-aawaz").reads == {"age", "destination_state", "interstate_migrant"}
