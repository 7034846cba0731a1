"""Eligibility rules: named conditions in CEL, and what evaluating them against a worker's facts yields.

A rule is a list of conditions that must all hold. Each condition is `passed`, `failed` or `unknown`
(it reads a fact we do not hold, or the birth year leaves an age boundary open); the outcome is
`not_eligible` when any condition failed, else `undetermined` when any is unknown (naming the facts that
would decide it), else `eligible`. Nothing is guessed: an unknown fact is never taken as true or false.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mrc_entitlements.domain.expressions import (
    Activation,
    CompiledExpression,
    ExpressionError,
    activation,
    compile_expression,
)
from mrc_entitlements.domain.facts import DATE_OF_BIRTH, FACTS, FactsSnapshot, unknown_facts
from mrc_kernel.errors import FieldViolation, InvalidArgument

CONDITION_NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
MAX_CONDITIONS = 30
MAX_DESCRIPTION_LENGTH = 500
AGE = "age"


class ConditionStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Outcome(enum.StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True)
class ConditionSpec:
    """A condition as an operator writes it, before it is checked."""

    name: str
    expression: str
    description: str
    reads: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Condition:
    name: str
    expression: str
    description: str
    reads: tuple[str, ...]
    compiled: CompiledExpression = field(repr=False, compare=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return (self.name, self.expression, self.description, self.reads) == (
            other.name,
            other.expression,
            other.description,
            other.reads,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.expression, self.description, self.reads))

    @property
    def spec(self) -> ConditionSpec:
        return ConditionSpec(self.name, self.expression, self.description, self.reads)


def compile_conditions(specs: Sequence[ConditionSpec], prefix: str = "conditions") -> tuple[Condition, ...]:
    """Checked, compiled conditions, or InvalidArgument naming every bad field (`conditions.2.expression`)."""
    violations: list[FieldViolation] = []
    compiled: list[Condition] = []
    if not specs:
        violations.append(FieldViolation(prefix, "a rule has at least one condition"))
    elif len(specs) > MAX_CONDITIONS:
        violations.append(FieldViolation(prefix, f"a rule has at most {MAX_CONDITIONS} conditions"))
    seen: set[str] = set()
    for index, spec in enumerate(specs[:MAX_CONDITIONS]):
        path = f"{prefix}.{index}"
        found_before = len(violations)
        name = spec.name.strip()
        if not CONDITION_NAME.match(name):
            violations.append(FieldViolation(f"{path}.name", "lower-case letters, digits and '_', 2 to 63 long"))
        elif name in seen:
            violations.append(FieldViolation(f"{path}.name", f"another condition is already named {name!r}"))
        seen.add(name)
        description = " ".join(spec.description.split())
        if not description:
            violations.append(FieldViolation(f"{path}.description", "say in words what the condition checks"))
        elif len(description) > MAX_DESCRIPTION_LENGTH:
            violations.append(
                FieldViolation(f"{path}.description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
            )
        reads = tuple(sorted({r.strip() for r in spec.reads}))
        unknown = [r for r in reads if r not in FACTS]
        if not reads:
            violations.append(FieldViolation(f"{path}.reads", "list the facts the expression reads"))
        elif unknown:
            violations.append(FieldViolation(f"{path}.reads", f"not facts of the vocabulary: {', '.join(unknown)}"))
        else:
            try:
                program = compile_expression(spec.expression, reads)
            except ExpressionError as error:
                violations.append(FieldViolation(f"{path}.expression", str(error)))
            else:
                if len(violations) == found_before:
                    compiled.append(Condition(name, spec.expression.strip(), description, reads, program))
    if violations:
        raise InvalidArgument(violations)
    return tuple(compiled)


@dataclass(frozen=True)
class ConditionResult:
    name: str
    status: ConditionStatus
    # For unknown conditions: the facts that would decide it.
    missing_facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    outcome: Outcome
    conditions: tuple[ConditionResult, ...]
    missing_facts: tuple[str, ...]
    # The facts the rule read, as they were (a fact we did not hold is absent).
    facts_used: dict[str, object]


@dataclass(frozen=True, eq=False)
class PreparedFacts:
    """A facts snapshot bound for the engine once per worker, shared by every rule evaluated on it.

    When the birth year leaves the age open by one year, `younger` holds the same facts with the lower age.
    """

    snapshot: FactsSnapshot
    oldest: Activation
    younger: Activation | None


def prepare(snapshot: FactsSnapshot) -> PreparedFacts:
    values = dict(snapshot.values)
    younger = None
    if snapshot.age_range is not None:
        youngest, oldest = snapshot.age_range
        values[AGE] = oldest
        if youngest != oldest:
            younger = activation({**values, AGE: youngest})
    return PreparedFacts(snapshot, activation(values), younger)


def _evaluate_condition(condition: Condition, facts: PreparedFacts) -> ConditionResult:
    result = condition.compiled.evaluate(facts.oldest)
    age_decides = facts.younger is not None and AGE in condition.reads
    if age_decides and facts.younger is not None and condition.compiled.evaluate(facts.younger) != result:
        missing = (*unknown_facts(facts.snapshot, condition.reads), DATE_OF_BIRTH)
        return ConditionResult(condition.name, ConditionStatus.UNKNOWN, tuple(sorted(set(missing))))
    if result is None:
        return ConditionResult(condition.name, ConditionStatus.UNKNOWN, unknown_facts(facts.snapshot, condition.reads))
    return ConditionResult(condition.name, ConditionStatus.PASSED if result else ConditionStatus.FAILED)


def evaluate_conditions(conditions: Iterable[Condition], facts: PreparedFacts) -> Evaluation:
    listed = tuple(conditions)
    results = tuple(_evaluate_condition(condition, facts) for condition in listed)
    statuses = {r.status for r in results}
    missing: tuple[str, ...]
    if ConditionStatus.FAILED in statuses:
        outcome, missing = Outcome.NOT_ELIGIBLE, ()
    elif ConditionStatus.UNKNOWN in statuses:
        outcome = Outcome.UNDETERMINED
        missing = tuple(sorted({fact for r in results for fact in r.missing_facts}))
    else:
        outcome, missing = Outcome.ELIGIBLE, ()
    reads = {fact for condition in listed for fact in condition.reads}
    if AGE in reads:
        reads.add("birth_year")  # age is derived: the snapshot keeps what it came from
    return Evaluation(outcome, results, missing, facts.snapshot.subset(reads))
