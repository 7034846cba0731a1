from __future__ import annotations

import pytest

from mrc_grievance.domain.triage import (
    FACT_NAMES,
    RULES,
    SeverityRule,
    TriageFacts,
    assess,
    at_least,
    category_in,
    fact,
    rule_violations,
    triage,
)
from mrc_grievance.domain.vocabulary import Category, Severity
from mrc_kernel.errors import InvalidArgument

from .builders import HELPLINE, NOW


def test_the_rule_table_is_sound() -> None:
    assert rule_violations(RULES) == []
    assert len({rule.name for rule in RULES}) == len(RULES)


def test_a_rule_table_with_mistakes_is_reported() -> None:
    broken = (SeverityRule("typo", Severity.HIGH, (fact("held_against_wil"),)), SeverityRule("empty", Severity.LOW, ()))

    assert rule_violations(broken) == [
        "typo: unknown fact 'held_against_wil'",
        "empty: no conditions (it would match every case)",
    ]


@pytest.mark.parametrize(
    "name", ["held_against_will", "child_involved", "injury", "death", "violence", "threat_to_life"]
)
def test_danger_to_life_or_liberty_or_a_child_is_critical_in_any_category(name: str) -> None:
    facts = TriageFacts(**{name: True})  # type: ignore[arg-type]

    for category in Category:
        assessment = assess(category, facts)
        assert assessment.severity is Severity.CRITICAL
        assert name in assessment.matched_rules


def test_every_trafficking_case_is_critical() -> None:
    assert assess(Category.TRAFFICKING, TriageFacts()) == assess(Category.TRAFFICKING, TriageFacts())
    assert assess(Category.TRAFFICKING, TriageFacts()).severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("category", "severity"),
    [
        (Category.WAGE_THEFT, Severity.MEDIUM),
        (Category.RECRUITMENT_FEE, Severity.MEDIUM),
        (Category.DOCUMENT_CONFISCATION, Severity.HIGH),
        (Category.FORCED_LABOUR, Severity.HIGH),
        (Category.TRAFFICKING, Severity.CRITICAL),
        (Category.MISSING_PERSON, Severity.HIGH),
        (Category.VIOLENCE, Severity.HIGH),
        (Category.WORKPLACE_ACCIDENT, Severity.HIGH),
        (Category.UNSAFE_HOUSING, Severity.MEDIUM),
        (Category.ENTITLEMENT_DENIED, Severity.MEDIUM),
        (Category.STRANDED, Severity.HIGH),
        (Category.OTHER, Severity.LOW),
    ],
)
def test_each_category_has_a_floor_without_any_facts(category: Category, severity: Severity) -> None:
    assert assess(category, TriageFacts()).severity is severity


@pytest.mark.parametrize(
    ("facts", "severity"),
    [
        (TriageFacts(workers_affected=9), Severity.LOW),
        (TriageFacts(workers_affected=10), Severity.HIGH),
        (TriageFacts(days_unpaid=29), Severity.LOW),
        (TriageFacts(days_unpaid=30), Severity.MEDIUM),
        (TriageFacts(days_unpaid=60), Severity.HIGH),
        (TriageFacts(documents_withheld=True), Severity.HIGH),
        (TriageFacts(without_food_or_shelter=True), Severity.HIGH),
        (TriageFacts(urgent_medical_need=True), Severity.HIGH),
    ],
)
def test_facts_raise_the_floor(facts: TriageFacts, severity: Severity) -> None:
    assert assess(Category.OTHER, facts).severity is severity


def test_the_highest_matching_rule_wins_and_is_named() -> None:
    assessment = assess(Category.WAGE_THEFT, TriageFacts(workers_affected=40, child_involved=True))

    assert assessment.severity is Severity.CRITICAL
    assert assessment.matched_rules == ("child_involved",)


def test_rules_are_data_a_different_table_gives_a_different_answer() -> None:
    stricter = (
        *RULES,
        SeverityRule(
            "fee_and_debt",
            Severity.HIGH,
            (category_in(Category.RECRUITMENT_FEE), at_least("amount_owed_paise", 5_000_000)),
        ),
    )

    facts = TriageFacts(amount_owed_paise=6_000_000)
    assert assess(Category.RECRUITMENT_FEE, facts).severity is Severity.MEDIUM
    assert assess(Category.RECRUITMENT_FEE, facts, stricter).severity is Severity.HIGH
    assert assess(Category.WAGE_THEFT, facts, stricter).severity is Severity.MEDIUM


def test_every_condition_of_a_rule_must_hold() -> None:
    both = (SeverityRule("both", Severity.CRITICAL, (fact("injury"), category_in(Category.UNSAFE_HOUSING))),)

    assert assess(Category.UNSAFE_HOUSING, TriageFacts(injury=True), both).severity is Severity.CRITICAL
    assert assess(Category.OTHER, TriageFacts(injury=True), both).severity is Severity.LOW


def test_facts_out_of_range_are_refused_by_name() -> None:
    with pytest.raises(InvalidArgument) as caught:
        triage(Category.OTHER, TriageFacts(workers_affected=0, days_unpaid=-1, amount_owed_paise=-5), HELPLINE, NOW)

    assert [v.field for v in caught.value.violations] == [
        "facts.workers_affected",
        "facts.days_unpaid",
        "facts.amount_owed_paise",
    ]


def test_the_facts_are_what_the_rules_can_name() -> None:
    assert "held_against_will" in FACT_NAMES
    assert "name" not in FACT_NAMES  # nothing identifying is a triage fact


def test_a_triage_without_override_has_the_rules_severity() -> None:
    result = triage(Category.STRANDED, TriageFacts(), HELPLINE, NOW)

    assert result.severity is Severity.HIGH
    assert result.override is None
    assert (result.by, result.at) == (HELPLINE, NOW)
