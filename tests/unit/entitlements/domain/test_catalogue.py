"""The catalogue as data: every scheme cites a source, every condition reads known facts, mistakes are named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mrc_entitlements.catalogue import starter_document
from mrc_entitlements.domain.catalogue import parse_catalogue
from mrc_entitlements.domain.facts import FACTS, DocumentKind
from mrc_entitlements.domain.schemes import RuleStatus, SchemeKind
from mrc_geography import lgd
from mrc_kernel.errors import InvalidArgument

from .builders import NOW, catalogue


def fields_of(document: Any) -> list[str]:
    with pytest.raises(InvalidArgument) as caught:
        parse_catalogue(document, now=NOW)
    return [v.field for v in caught.value.violations]


def test_the_starter_catalogue_ships_the_schemes_the_issue_asks_for() -> None:
    codes = {scheme.code for scheme in catalogue()}

    assert {
        "e-shram",
        "bocw-welfare-board",
        "onorc-ration-portability",
        "pm-jay",
        "pm-sym",
        "pmjjby",
        "pmsby",
    } <= codes
    states = {s.details.administering_state for s in catalogue() if s.details.kind is SchemeKind.STATE}
    assert {"10", "32"} <= states  # Bihar (a source state) and Kerala (a destination state)


def test_every_scheme_cites_a_public_source_and_says_how_to_get_it() -> None:
    for scheme in catalogue():
        assert scheme.details.citations, scheme.code
        for citation in scheme.details.citations:
            assert citation.title and citation.authority and citation.reference, scheme.code
            assert citation.url.startswith("https://"), scheme.code
        assert scheme.details.benefits and scheme.details.required_documents and scheme.details.where_to_apply


def test_every_condition_reads_known_facts_and_describes_itself() -> None:
    for scheme in catalogue():
        rule = scheme.published_rule
        assert rule is not None and rule.version == 1 and rule.status is RuleStatus.PUBLISHED
        assert rule.note
        for condition in rule.conditions:
            assert condition.reads and set(condition.reads) <= FACTS.keys(), (scheme.code, condition.name)
            assert condition.description, (scheme.code, condition.name)


def test_state_schemes_name_real_lgd_states_and_documents_name_real_kinds() -> None:
    for scheme in catalogue():
        if scheme.details.kind is SchemeKind.STATE:
            assert scheme.details.administering_state in lgd().states
        for document in scheme.details.required_documents:
            assert document.document_kind in {"", *DocumentKind}


def test_a_missing_citation_url_and_a_misspelt_field_are_named_with_their_paths() -> None:
    document = copy.deepcopy(starter_document())
    assert isinstance(document, dict)
    document["schemes"][2]["citations"][0]["url"] = "http://example.org/not-https"
    document["schemes"][4]["benfits"] = []
    del document["schemes"][5]["citations"]

    assert fields_of(document) == [
        "schemes.2.citations.0.url",
        "schemes.4.benfits",
        "schemes.5.citations",
        "schemes.5.citations",
    ]


def test_an_expression_reading_a_fact_its_condition_does_not_list_is_refused() -> None:
    document = copy.deepcopy(starter_document())
    assert isinstance(document, dict)
    conditions = document["schemes"][0]["rule"]["conditions"]
    conditions[0]["expression"] = "age >= 16 && sector == 'construction'"  # reads: [age] only
    conditions[1]["reads"] = ["epfo_member", "esic_member", "salary"]
    conditions[2]["expression"] = "government_employee +"
    conditions[3]["expression"] = "1 + 1"
    conditions[3]["reads"] = ["income_tax_payer"]

    with pytest.raises(InvalidArgument) as caught:
        parse_catalogue(document, now=NOW)

    problems = {v.field: v.description for v in caught.value.violations}
    assert set(problems) == {
        "schemes.0.rule.conditions.0.expression",
        "schemes.0.rule.conditions.1.reads",
        "schemes.0.rule.conditions.2.expression",
        "schemes.0.rule.conditions.3.expression",
    }
    assert "undeclared reference to 'sector'" in problems["schemes.0.rule.conditions.0.expression"]
    assert "salary" in problems["schemes.0.rule.conditions.1.reads"]
    assert "boolean" in problems["schemes.0.rule.conditions.3.expression"]


def test_a_type_mismatch_is_refused_rather_than_silently_false() -> None:
    document = copy.deepcopy(starter_document())
    assert isinstance(document, dict)
    document["schemes"][7]["rule"]["conditions"][0]["expression"] = "home_state == 10"

    assert fields_of(document) == ["schemes.7.rule.conditions.0.expression"]


def test_duplicate_codes_and_bad_state_schemes_are_refused() -> None:
    document = copy.deepcopy(starter_document())
    assert isinstance(document, dict)
    document["schemes"][1]["code"] = "e-shram"
    document["schemes"][8]["administering_state"] = "99"
    document["schemes"][3]["administering_state"] = "10"  # a central scheme

    assert fields_of(document) == [
        "schemes.1.code",
        "schemes.3.administering_state",
        "schemes.8.administering_state",
    ]


def test_an_empty_or_shapeless_document_is_refused() -> None:
    assert fields_of({"schemes": []}) == ["schemes"]
    assert fields_of([]) == ["", "schemes"]
