"""Evaluating conditions: passed, failed or unknown, never a guess."""

from __future__ import annotations

import pytest

from mrc_entitlements.domain.expressions import ExpressionError, compile_expression
from mrc_entitlements.domain.facts import FactsSnapshot
from mrc_entitlements.domain.rules import (
    ConditionSpec,
    ConditionStatus,
    Evaluation,
    Outcome,
    compile_conditions,
    evaluate_conditions,
    prepare,
)


def evaluate(
    specs: list[tuple[str, tuple[str, ...]]], values: dict[str, object], ages: tuple[int, int] | None = None
) -> Evaluation:
    conditions = compile_conditions(
        [
            ConditionSpec(f"c{index}", expression, "a condition", reads)
            for index, (expression, reads) in enumerate(specs)
        ]
    )
    return evaluate_conditions(conditions, prepare(FactsSnapshot(values, ages)))


@pytest.mark.parametrize(
    ("expression", "values", "status"),
    [
        ("age >= 70 || pmjay_listed", {"age": 75}, ConditionStatus.PASSED),  # true || unknown
        ("pmjay_listed || age >= 70", {"age": 75}, ConditionStatus.PASSED),  # unknown || true
        ("bank_account && age >= 18", {"age": 10}, ConditionStatus.FAILED),  # unknown && false
        ("age >= 70 || pmjay_listed", {"age": 30}, ConditionStatus.UNKNOWN),  # false || unknown
        ("age >= 18 && bank_account", {"age": 30}, ConditionStatus.UNKNOWN),  # true && unknown
        ("bank_account", {"bank_account": False}, ConditionStatus.FAILED),
    ],
)
def test_and_or_decide_without_an_unknown_fact_only_when_the_other_side_does(
    expression: str, values: dict[str, object], status: ConditionStatus
) -> None:
    evaluation = evaluate([(expression, ("age", "bank_account", "pmjay_listed"))], values)

    assert evaluation.conditions[0].status is status


def test_a_failed_condition_decides_over_an_unknown_one() -> None:
    evaluation = evaluate([("age >= 18", ("age",)), ("bank_account", ("bank_account",))], {"age": 10})

    assert evaluation.outcome is Outcome.NOT_ELIGIBLE
    assert evaluation.missing_facts == ()
    assert [c.status for c in evaluation.conditions] == [ConditionStatus.FAILED, ConditionStatus.UNKNOWN]


def test_all_passed_is_eligible_and_unknowns_name_their_facts() -> None:
    eligible = evaluate([("age >= 18", ("age",))], {"age": 30})
    undetermined = evaluate(
        [("age >= 18", ("age",)), ("!epfo_member && !esic_member", ("epfo_member", "esic_member"))],
        {"age": 30, "esic_member": False},
    )

    assert (eligible.outcome, eligible.missing_facts) == (Outcome.ELIGIBLE, ())
    assert (undetermined.outcome, undetermined.missing_facts) == (Outcome.UNDETERMINED, ("epfo_member",))


def test_an_age_boundary_the_birth_year_leaves_open_asks_for_the_date_of_birth() -> None:
    open_boundary = evaluate([("age >= 18", ("age",))], {"age": 18}, ages=(17, 18))
    clear = evaluate([("age >= 18", ("age",))], {"age": 31}, ages=(30, 31))

    assert open_boundary.outcome is Outcome.UNDETERMINED
    assert open_boundary.missing_facts == ("date_of_birth",)
    assert clear.outcome is Outcome.ELIGIBLE
    assert clear.facts_used == {"age": 31}


def test_expressions_are_checked_against_the_facts_they_declare() -> None:
    for source, reads, problem in [
        ("", ("age",), "must not be empty"),
        ("age >", ("age",), "Syntax error"),
        ("sector == 'construction'", ("age",), "undeclared reference to 'sector'"),
        ("age", ("age",), "boolean"),
        ("age >= 18", ("salary",), "not in the vocabulary"),
        ("a" * 2001, ("age",), "at most 2000"),
    ]:
        with pytest.raises(ExpressionError, match=problem):
            compile_expression(source, reads)


def test_expressions_cannot_reach_python() -> None:
    # CEL has no names but the declared facts and its own functions: no builtins, imports or attributes.
    for source in ("__import__('os').system('true')", "age.__class__ == age", "exec('1') == 1"):
        with pytest.raises(ExpressionError):
            compile_expression(source, ("age",))
