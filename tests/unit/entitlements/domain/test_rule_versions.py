"""Rule versions: drafted, published (superseding the last), retired; a published version never changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mrc_entitlements.domain.rules import ConditionSpec
from mrc_entitlements.domain.schemes import (
    RuleStatus,
    RuleVersionDrafted,
    RuleVersionPublished,
    RuleVersionRetired,
    Scheme,
)
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound

from .builders import NOW, catalogue

LATER = NOW + timedelta(days=30)
PMSBY_2027 = [
    ConditionSpec("aged_18_to_70", "age >= 18 && age <= 70", "Aged 18 to 70", ("age",)),
    ConditionSpec("has_savings_account", "bank_account", "Holds a savings account", ("bank_account",)),
    ConditionSpec("aadhaar_seeded", "'aadhaar' in documents", "Aadhaar is the account's KYC", ("documents",)),
]


def pmsby() -> Scheme:
    scheme = next(s for s in catalogue() if s.code == "pmsby")
    scheme.pending_events.clear()
    return scheme


def test_a_new_draft_supersedes_the_published_version_when_published() -> None:
    scheme = pmsby()
    draft = scheme.draft_rule(PMSBY_2027, note="Aadhaar seeding made a condition", by="op-1", now=LATER)

    assert (draft.version, draft.status) == (2, RuleStatus.DRAFT)
    assert scheme.published_rule is not None and scheme.published_rule.version == 1

    published = scheme.publish(2, by="op-2", now=LATER)

    assert (published.status, published.published_by, published.published_at) == (RuleStatus.PUBLISHED, "op-2", LATER)
    old = scheme.rule(1)
    assert (old.status, old.retired_at, old.superseded_by) == (RuleStatus.RETIRED, LATER, 2)
    assert scheme.published_rule == published
    assert [type(e) for e in scheme.pending_events] == [RuleVersionDrafted, RuleVersionPublished]
    event = scheme.pending_events[-1]
    assert isinstance(event, RuleVersionPublished)
    assert (event.version, event.superseded_version) == (2, 1)


def test_a_published_version_keeps_its_conditions_when_another_is_drafted() -> None:
    scheme = pmsby()
    before = scheme.rule(1)

    scheme.draft_rule(PMSBY_2027, note="", by="op-1", now=LATER)
    scheme.publish(2, by="op-1", now=LATER)

    assert scheme.rule(1).conditions == before.conditions
    assert [c.name for c in scheme.rule(2).conditions] == ["aged_18_to_70", "has_savings_account", "aadhaar_seeded"]


@pytest.mark.parametrize("status", ["published", "retired"])
def test_only_a_draft_can_be_published_and_the_conflict_names_the_state(status: str) -> None:
    scheme = pmsby()
    if status == "retired":
        scheme.retire(1, now=LATER)

    with pytest.raises(Conflict) as caught:
        scheme.publish(1, by="op-1", now=LATER)

    assert f"is {status}" in caught.value.detail
    assert "only a draft" in caught.value.detail


def test_an_older_draft_cannot_supersede_a_newer_published_version() -> None:
    scheme = pmsby()
    scheme.draft_rule(PMSBY_2027, note="", by="op-1", now=LATER)
    scheme.draft_rule(PMSBY_2027[:2], note="", by="op-1", now=LATER)
    scheme.publish(3, by="op-1", now=LATER)

    with pytest.raises(Conflict, match="older than the published version 3"):
        scheme.publish(2, by="op-1", now=LATER)


def test_retiring_the_published_version_leaves_the_scheme_without_a_rule() -> None:
    scheme = pmsby()

    scheme.retire(1, now=LATER)

    assert scheme.published_rule is None
    assert isinstance(scheme.pending_events[-1], RuleVersionRetired)
    with pytest.raises(Conflict, match="already retired"):
        scheme.retire(1, now=LATER)


def test_a_draft_with_bad_conditions_is_refused_naming_each_field() -> None:
    scheme = pmsby()
    bad = [
        ConditionSpec("Aged", "age >= 18", "", ("age",)),
        ConditionSpec("aged", "age >= 18", "Aged 18", ()),
        ConditionSpec("banked", "bank_account == 'yes'", "Banked", ("bank_account",)),
    ]

    with pytest.raises(InvalidArgument) as caught:
        scheme.draft_rule(bad, note="", by="op-1", now=LATER)

    assert [v.field for v in caught.value.violations] == [
        "conditions.0.name",
        "conditions.0.description",
        "conditions.1.reads",
        "conditions.2.expression",
    ]
    assert len(scheme.rule_versions) == 1
    assert scheme.pending_events == []
    with pytest.raises(InvalidArgument, match="at least one condition"):
        scheme.draft_rule([], note="", by="op-1", now=LATER)


def test_a_stale_expected_version_is_a_conflict_and_unknown_versions_are_not_found() -> None:
    scheme = pmsby()
    seen = scheme.version
    scheme.draft_rule(PMSBY_2027, note="", by="op-1", now=LATER, expected_version=seen)

    with pytest.raises(Conflict, match=f"not {seen}"):
        scheme.publish(2, by="op-1", now=LATER, expected_version=seen)
    with pytest.raises(NotFound):
        scheme.publish(9, by="op-1", now=LATER)
