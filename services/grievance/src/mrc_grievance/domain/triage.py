"""Triage: how severe a case is, from declarative rules over the facts the intake records.

The rules are data (a tuple of `SeverityRule`), not branches: each names the facts it needs and the
severity they call for; a case takes the highest severity any matching rule gives, and every case is at
least LOW. Adding or changing a rule is a change to `RULES` alone, reviewed like policy. A supervisor may
override the result, always with a reason, which is recorded.

Why these rules (sources in the service's report):
- held against their will, a child involved, an injury, a death, violence or a threat to life, and every
  trafficking case are CRITICAL: the issue says so, a child must be before a Child Welfare Committee
  within 24 hours (Juvenile Justice Act 2015, s. 31), and bonded-labour SOPs ask for rescue within
  24-48 hours of the information (e.g. Delhi's 2018 SOP);
- forced or bonded labour, violence, missing persons, accidents, confiscated documents, stranded workers
  and anyone without food or shelter are at least HIGH: each can turn into the former within days;
- groups of ten or more workers are HIGH (one employer, many victims; also how bonded labour shows up);
- wage theft, fees, housing and entitlements start MEDIUM, anything else LOW.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from mrc_grievance.domain.parties import Actor
from mrc_grievance.domain.protected import Sealed
from mrc_grievance.domain.vocabulary import Category, Severity
from mrc_kernel.errors import FieldViolation, InvalidArgument

MAX_COUNT = 100_000
MAX_AMOUNT_PAISE = 10**12  # ten thousand crore rupees: anything above is a typing error


@dataclass(frozen=True)
class TriageFacts:
    """What the intake learned that bears on urgency; non-identifying, so it may be stored in the clear."""

    held_against_will: bool = False
    child_involved: bool = False
    injury: bool = False
    death: bool = False
    violence: bool = False
    threat_to_life: bool = False
    documents_withheld: bool = False
    without_food_or_shelter: bool = False
    urgent_medical_need: bool = False
    workers_affected: int = 1
    days_unpaid: int = 0
    amount_owed_paise: int = 0

    def violations(self, prefix: str = "facts") -> list[FieldViolation]:
        found: list[FieldViolation] = []
        if not 1 <= self.workers_affected <= MAX_COUNT:
            found.append(FieldViolation(f"{prefix}.workers_affected", f"must be between 1 and {MAX_COUNT}"))
        if not 0 <= self.days_unpaid <= MAX_COUNT:
            found.append(FieldViolation(f"{prefix}.days_unpaid", f"must be between 0 and {MAX_COUNT}"))
        if not 0 <= self.amount_owed_paise <= MAX_AMOUNT_PAISE:
            found.append(FieldViolation(f"{prefix}.amount_owed_paise", f"must be between 0 and {MAX_AMOUNT_PAISE}"))
        return found


FACT_NAMES = frozenset(f.name for f in fields(TriageFacts))


class Comparison(enum.StrEnum):
    IS_TRUE = "is_true"  # a yes/no fact is yes
    AT_LEAST = "at_least"  # a count is at least the threshold


@dataclass(frozen=True)
class Condition:
    """One test on the case: a fact (`fact`, `comparison`, `threshold`) or, with `categories`, the category."""

    fact: str = ""
    comparison: Comparison = Comparison.IS_TRUE
    threshold: int = 0
    categories: frozenset[Category] = frozenset()

    def holds(self, category: Category, facts: TriageFacts) -> bool:
        if self.categories:
            return category in self.categories
        value = getattr(facts, self.fact)
        if self.comparison is Comparison.IS_TRUE:
            return bool(value)
        return int(value) >= self.threshold


def fact(name: str) -> Condition:
    return Condition(fact=name)


def at_least(name: str, threshold: int) -> Condition:
    return Condition(fact=name, comparison=Comparison.AT_LEAST, threshold=threshold)


def category_in(*categories: Category) -> Condition:
    return Condition(categories=frozenset(categories))


@dataclass(frozen=True)
class SeverityRule:
    """If every condition holds, the case is at least `severity`."""

    name: str
    severity: Severity
    when: tuple[Condition, ...]


RULES: tuple[SeverityRule, ...] = (
    SeverityRule("held_against_will", Severity.CRITICAL, (fact("held_against_will"),)),
    SeverityRule("child_involved", Severity.CRITICAL, (fact("child_involved"),)),
    SeverityRule("injury", Severity.CRITICAL, (fact("injury"),)),
    SeverityRule("death", Severity.CRITICAL, (fact("death"),)),
    SeverityRule("violence", Severity.CRITICAL, (fact("violence"),)),
    SeverityRule("threat_to_life", Severity.CRITICAL, (fact("threat_to_life"),)),
    SeverityRule("trafficking", Severity.CRITICAL, (category_in(Category.TRAFFICKING),)),
    SeverityRule(
        "category_at_least_high",
        Severity.HIGH,
        (
            category_in(
                Category.FORCED_LABOUR,
                Category.VIOLENCE,
                Category.MISSING_PERSON,
                Category.WORKPLACE_ACCIDENT,
                Category.DOCUMENT_CONFISCATION,
                Category.STRANDED,
            ),
        ),
    ),
    SeverityRule("documents_withheld", Severity.HIGH, (fact("documents_withheld"),)),
    SeverityRule("without_food_or_shelter", Severity.HIGH, (fact("without_food_or_shelter"),)),
    SeverityRule("urgent_medical_need", Severity.HIGH, (fact("urgent_medical_need"),)),
    SeverityRule("group_of_ten_or_more", Severity.HIGH, (at_least("workers_affected", 10),)),
    SeverityRule("unpaid_for_two_months", Severity.HIGH, (at_least("days_unpaid", 60),)),
    SeverityRule(
        "category_at_least_medium",
        Severity.MEDIUM,
        (
            category_in(
                Category.WAGE_THEFT, Category.RECRUITMENT_FEE, Category.UNSAFE_HOUSING, Category.ENTITLEMENT_DENIED
            ),
        ),
    ),
    SeverityRule("unpaid_for_a_month", Severity.MEDIUM, (at_least("days_unpaid", 30),)),
)


def rule_violations(rules: Iterable[SeverityRule]) -> list[str]:
    """Mistakes in a rule table (an unknown fact, a rule without conditions); empty when sound."""
    problems: list[str] = []
    for rule in rules:
        if not rule.when:
            problems.append(f"{rule.name}: no conditions (it would match every case)")
        for condition in rule.when:
            if not condition.categories and condition.fact not in FACT_NAMES:
                problems.append(f"{rule.name}: unknown fact {condition.fact!r}")
    return problems


@dataclass(frozen=True)
class Assessment:
    severity: Severity
    matched_rules: tuple[str, ...]  # names of the rules that gave that severity (for the timeline)


def assess(category: Category, facts: TriageFacts, rules: Iterable[SeverityRule] = RULES) -> Assessment:
    severity = Severity.LOW
    matched: list[tuple[Severity, str]] = []
    for rule in rules:
        if all(condition.holds(category, facts) for condition in rule.when):
            matched.append((rule.severity, rule.name))
            if rule.severity.rank > severity.rank:
                severity = rule.severity
    return Assessment(severity, tuple(name for rule_severity, name in matched if rule_severity is severity))


@dataclass(frozen=True)
class SeverityOverride:
    """A supervisor's decision that the rules got it wrong; the reason (sealed: it may name people) is mandatory."""

    severity: Severity
    reason: Sealed
    by: Actor
    at: datetime


@dataclass(frozen=True)
class Triage:
    """The current assessment of a case: the facts, what the rules made of them, and any override."""

    facts: TriageFacts
    assessment: Assessment
    by: Actor
    at: datetime
    override: SeverityOverride | None = None

    @property
    def severity(self) -> Severity:
        return self.override.severity if self.override is not None else self.assessment.severity


def triage(category: Category, facts: TriageFacts, by: Actor, now: datetime) -> Triage:
    if violations := facts.violations():
        raise InvalidArgument(violations)
    return Triage(facts, assess(category, facts), by, now)
