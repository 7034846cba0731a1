import itertools

import pytest

from mrc_kernel.vocabulary import Gender
from mrc_registry.domain.identity.matching import (
    CandidateFacts,
    MatchDecision,
    MatchThresholds,
    blocking_keys,
    name_similarity,
    score,
)

RAM_HINDI = CandidateFacts(
    name="राम कुमार",
    father_or_spouse_name="श्याम लाल",
    birth_year=1990,
    home_district_code="212",
    home_village="फुलवारी",
    gender=Gender.MALE,
)
RAM_LATIN = CandidateFacts(
    name="Shri Raam Kumar",
    father_or_spouse_name="Shyaam Lal",
    birth_year=1991,
    home_district_code="212",
    home_village="Phulwari",
    gender=Gender.MALE,
)
SITA = CandidateFacts(
    name="Sita Devi",
    father_or_spouse_name="Mohan Prasad",
    birth_year=1988,
    home_district_code="212",
    home_village="Phulwari",
    gender=Gender.FEMALE,
)
GITA = CandidateFacts(
    name="गीता देवी",
    father_or_spouse_name="रमेश यादव",
    birth_year=1992,
    home_district_code="212",
    home_village="फुलवारी",
    gender=Gender.FEMALE,
)


def facts(base: CandidateFacts, **changes: object) -> CandidateFacts:
    fields = {
        "name": base.name,
        "father_or_spouse_name": base.father_or_spouse_name,
        "birth_year": base.birth_year,
        "home_district_code": base.home_district_code,
        "home_village": base.home_village,
        "gender": base.gender,
        "phone_index": base.phone_index,
        "identity_indexes": base.identity_indexes,
    }
    fields.update(changes)
    return CandidateFacts(**fields)  # type: ignore[arg-type]


def test_one_person_in_devanagari_and_in_latin_matches() -> None:
    result = score(RAM_HINDI, RAM_LATIN, MatchThresholds())
    assert result.decision is MatchDecision.CERTAIN
    assert result.score >= 0.92
    assert "name: 1.00" in result.reasons
    assert "birth_year: 0.80" in result.reasons


def test_one_person_with_less_known_is_a_possible_match() -> None:
    sparse = facts(RAM_LATIN, father_or_spouse_name="", birth_year=None)
    result = score(RAM_HINDI, sparse)
    assert result.decision is MatchDecision.POSSIBLE
    assert "father_or_spouse_name: unknown" in result.reasons


def test_two_women_of_one_village_do_not_match() -> None:
    result = score(SITA, GITA)
    assert result.decision is MatchDecision.NONE
    assert result.score < 0.75


def test_brothers_with_one_father_do_not_match() -> None:
    brother = facts(RAM_HINDI, name="श्याम कुमार", birth_year=1994)
    assert score(RAM_LATIN, brother).decision is MatchDecision.NONE


def test_a_shared_personal_document_is_certain_whatever_else_differs() -> None:
    a = facts(SITA, identity_indexes={("aadhaar", "idx-1"), ("ration_card", "rc-1")})
    b = facts(GITA, identity_indexes={("aadhaar", "idx-1")}, gender=Gender.MALE)
    result = score(a, b)
    assert result.decision is MatchDecision.CERTAIN
    assert result.score == 1.0
    assert result.reasons == ("same aadhaar", "gender recorded differently: correct one of the records")


def test_different_aadhaar_numbers_are_different_people() -> None:
    a = facts(RAM_HINDI, identity_indexes={("aadhaar", "idx-1")}, phone_index="p-1")
    b = facts(RAM_LATIN, identity_indexes={("aadhaar", "idx-2")}, phone_index="p-1")
    result = score(a, b)
    assert result.decision is MatchDecision.NONE
    assert result.reasons == ("different aadhaar",)


def test_different_voter_ids_do_not_rule_a_match_out() -> None:
    a = facts(RAM_HINDI, identity_indexes={("voter_id", "v-1")})
    b = facts(RAM_LATIN, identity_indexes={("voter_id", "v-2")})
    assert score(a, b).decision is MatchDecision.CERTAIN


def test_a_shared_phone_alone_is_only_possible() -> None:
    result = score(facts(SITA, phone_index="p-1"), facts(GITA, phone_index="p-1"))
    assert result.decision is MatchDecision.POSSIBLE
    assert result.score == 0.75
    assert result.reasons[0] == "same phone"


def test_a_shared_phone_and_a_similar_name_is_certain() -> None:
    a = facts(SITA, phone_index="p-1")
    b = CandidateFacts(name="सीता देवी", phone_index="p-1")
    result = score(a, b)
    assert result.decision is MatchDecision.CERTAIN
    assert result.score >= 0.92


def test_a_shared_phone_between_generations_is_only_possible() -> None:
    mother = facts(SITA, phone_index="p-1", birth_year=1965)
    daughter = facts(SITA, name="Sunita Devi", phone_index="p-1", birth_year=1990)
    assert name_similarity(mother.name, daughter.name) >= 0.8
    assert score(mother, daughter).decision is MatchDecision.POSSIBLE


def test_a_shared_ration_card_is_household_evidence_not_proof() -> None:
    a = facts(SITA, identity_indexes={("ration_card", "rc-1")})
    b = facts(GITA, identity_indexes={("ration_card", "rc-1")})
    assert score(a, b).decision is MatchDecision.POSSIBLE
    same = facts(SITA, name="सीता देवी", identity_indexes={("ration_card", "rc-1")})
    assert score(a, same).decision is MatchDecision.CERTAIN


def test_gender_mismatch_is_never_a_match() -> None:
    result = score(RAM_HINDI, facts(RAM_LATIN, gender=Gender.FEMALE, phone_index="p"))
    assert result.decision is MatchDecision.NONE
    assert result.reasons == ("different gender",)


def test_undisclosed_or_unknown_gender_does_not_block() -> None:
    assert score(RAM_HINDI, facts(RAM_LATIN, gender=Gender.UNDISCLOSED)).decision is MatchDecision.CERTAIN
    assert score(RAM_HINDI, facts(RAM_LATIN, gender=None)).decision is MatchDecision.CERTAIN


def test_gender_may_be_given_by_value() -> None:
    assert CandidateFacts(name="x", gender="female").gender is Gender.FEMALE
    assert CandidateFacts(name="x", gender="").gender is None
    with pytest.raises(ValueError, match="'unknown' is not a valid Gender"):
        CandidateFacts(name="x", gender="unknown")


@pytest.mark.parametrize(("gap", "expected"), [(0, "1.00"), (1, "0.80"), (2, "0.50"), (3, "0.00"), (30, "0.00")])
def test_birth_year_distance(gap: int, expected: str) -> None:
    result = score(RAM_HINDI, facts(RAM_HINDI, birth_year=1990 + gap))
    assert f"birth_year: {expected}" in result.reasons


def test_a_village_of_the_same_name_in_another_district_counts_for_nothing() -> None:
    result = score(RAM_HINDI, facts(RAM_LATIN, home_district_code="213"))
    assert "home_district: 0.00" in result.reasons
    assert "home_village: 0.00" in result.reasons
    # Same name, father and age but another home district: common names make that another person.
    assert result.decision is MatchDecision.NONE
    assert result.score == pytest.approx(0.40 + 0.20 + 0.15 * 0.8)


def test_thresholds_are_configurable_and_checked() -> None:
    strict = MatchThresholds(certain=0.99, possible=0.98)
    assert score(RAM_HINDI, RAM_LATIN, strict).decision is MatchDecision.NONE
    lenient = MatchThresholds(certain=0.5, possible=0.3)
    assert score(SITA, GITA, lenient).decision is MatchDecision.CERTAIN
    with pytest.raises(ValueError, match="possible <= certain"):
        MatchThresholds(certain=0.7, possible=0.8)
    with pytest.raises(ValueError, match="<= 1"):
        MatchThresholds(certain=1.2)


def test_scoring_is_symmetric() -> None:
    people = [
        RAM_HINDI,
        RAM_LATIN,
        SITA,
        GITA,
        facts(SITA, phone_index="p-1"),
        facts(GITA, phone_index="p-1"),
        facts(RAM_LATIN, birth_year=None, home_village=""),
    ]
    for a, b in itertools.combinations(people, 2):
        assert score(a, b) == score(b, a)


def test_reasons_name_nobody() -> None:
    result = score(facts(RAM_HINDI, phone_index="p-1"), facts(RAM_LATIN, phone_index="p-1"))
    text = " ".join(result.reasons).lower()
    for word in ("ram", "kumar", "shyam", "lal", "phulwari", "p-1"):
        assert word not in text


def test_blocking_keys_bring_spellings_of_one_person_together() -> None:
    shared = blocking_keys(RAM_HINDI) & blocking_keys(facts(RAM_LATIN, birth_year=1990))
    assert shared == {
        "name+district:RM:212",
        "name+birth_year:RM:1990",
        # Each word's consonant code, and the words run together.
        "word+district:RM:212",
        "word+district:KMR:212",
        "word+district:RMKM:212",
        "word+birth_year:RM:1990",
        "word+birth_year:KMR:1990",
        "word+birth_year:RMKM:1990",
        # The father's first name, with the district.
        "father+district:SM:212",
        # The first three consonants of the words run together, with birth year and district.
        "start+birth_year+district:RMK:1990:212",
    }


def test_blocking_keys_include_indexes_and_skip_initials() -> None:
    worker = CandidateFacts(
        name="Thiru S. Murugan",
        birth_year=1985,
        home_district_code="603",
        phone_index="p-1",
        identity_indexes={("aadhaar", "a-1"), ("ration_card", "r-1")},
    )
    assert blocking_keys(worker) == {
        "aadhaar:a-1",
        "ration_card:r-1",
        "phone:p-1",
        "name+district:MRKN:603",
        "name+birth_year:MRKN:1985",
        # Coarse consonants (g and k alike): the word, the initial run into it (S. Murugan as Smurugan).
        "word+district:MRKN:603",
        "word+birth_year:MRKN:1985",
        "word+district:SMRK:603",
        "word+birth_year:SMRK:1985",
        # The word's last three consonants; the first initial with birth year and district.
        "end+district:RKN:603",
        "initial+birth_year+district:s:1985:603",
        # The start codes cut to three consonants, with birth year and district.
        "start+birth_year+district:MRK:1985:603",
        "start+birth_year+district:SMR:1985:603",
    }
    assert blocking_keys(CandidateFacts(name="")) == set()
