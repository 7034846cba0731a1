"""Naming habits the matcher must see through (and different people it must keep apart)."""

import json
import os
import subprocess
import sys

import pytest

from mrc_registry.domain.identity.matching import (
    CandidateFacts,
    MatchDecision,
    MatchResult,
    blocking_keys,
    rank,
    score,
)
from mrc_registry.domain.identity.name_similarity import (
    coarse_key,
    compare_names,
    compare_own_names,
    loose_key,
    name_codes,
    name_ending_codes,
    word_code,
)
from mrc_registry.domain.identity.transliteration import name_key, name_parts, spelled_letters


def similarity(a: str, b: str) -> float:
    return compare_names(a, b).similarity


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        # Md, Mohd, मो., मोः, महः in front: dropped like a title.
        (["MD. WASIM AKRAM", "Mohd Wasim Akram", "मो. वसीम अकरम", "मोः वसीम अकरम", "Wasim Akram"], "vasim akram"),
        # Sk is Sheikh.
        (["SK ABDUL", "Sheikh Abdul"], "seik abdul"),
        # Ch. is Chandra, Kr. is Kumar.
        (["ANIL CH. MANDAL", "Anil Chandra Mandal"], "anil candra mandal"),
        (["SUBRATA KR. MAJUMDER", "Subrata Kumar Majumder"], "subrata kumar majumdar"),
        # Titles, and "Late" in English and as Hindi writes it.
        (["Smt. Sita Devi", "Sita Devi", "श्रीमती सीता देवी"], "sita devi"),
        (["Late Subodh Chandra Das", "LT. SUBODH CHANDRA DAS"], "subod candra das"),
        (["स्वर्गीय सुबोध चन्द्र दास", "प्रयात सुबोध चन्द्र दास", "मृत सुबोध चन्द्र दास", "स्व. सुबोध चन्द्र दास"], "subod candra das"),
        (["स्वर्गबासी सुबोध चन्द्र दास", "स्वर्गवासी सुबोध चन्द्र दास"], "subod candra das"),
        (["Dr. Bhaskar Sardar", "डॉ भास्कर सरदार", "डाः भास्कर सरदार"], "baskar sardar"),
        (["Adv. Tomy Kallany", "अडव . टोमी कल्लानी"], "tomi kalni"),
        # Initials: one letter each, however written.
        (["K.S. Murugan", "K S MURUGAN", "के. एस. मुरुगन"], "k s murugan"),
        (["क. सुब्रमणि", "K.SUBRAMANI"], "k subramni"),
        (["SHYAMAL CK", "Shyamal C. K."], "syamal c k"),
        # What follows S/o, D/o, W/o goes; so do bracketed aliases.
        (["E.M NIYAS S/o SALEEM BABU", "E M Niyas"], "e m niyas"),
        (["K M SHAJI (MAMBA)", "K. M. Shaji"], "k m saji"),
    ],
)
def test_spellings_share_a_key(spellings: list[str], key: str) -> None:
    assert {name_key(spelling) for spelling in spellings} == {key}


def test_one_akshara_is_an_initial_only_when_bare_or_abbreviated() -> None:
    assert [(p.key, p.initial) for p in name_parts("अरसन क")] == [("arsan", False), ("k", True)]
    assert [(p.key, p.initial) for p in name_parts("मु. रमेश")] == [("m", True), ("rames", False)]
    # With a vowel sign and no full stop it is a word: the Bengali surname De, Singh written सिं.
    assert [(p.key, p.initial) for p in name_parts("सुब्रत दे")] == [("subrat", False), ("de", False)]
    assert name_parts("नित्यलाल सिं")[1].initial is False


@pytest.mark.parametrize(
    ("a", "b", "at_least"),
    [
        # Initials against full names, moved, or dropped.
        ("K.SUBRAMANI", "क. सुब्रमणि", 1.0),
        ("ARASAN K", "अरसन क", 1.0),
        ("Ramu A", "अ.रामू", 0.95),
        ("R. SUDHA", "सुधा", 0.9),
        ("MOHAN P", "मोहन पे", 0.95),
        ("S. KRISHNAVENI", "एस.क्रिश्नावेनी", 0.95),
        # Surname first.
        ("Biswajit Das", "Das Biswajit", 1.0),
        # Bengali and Assamese b/v, s/sh, o/a, w/y, Assamese চ/ছ for s.
        ("Bikash Biswas", "बिकाश बिश्बास", 0.95),
        ("Rajib Biswas", "राजीव विश्वाश", 0.9),
        ("Jibon Chandra Bora", "जीवन चन्द्र बरा", 0.9),
        ("Salim Khan", "চেলিম খান", 0.9),
        ("Islam", "इछलाम", 0.9),
        ("Wahed Ansary", "ओयाहेद आनसारी", 0.75),
        ("Jogesh Roy", "योगेश राय", 0.9),
        ("Nikhil Banerjee", "निखिल ब्य़ानार्ज्जी", 0.9),
        # Nukta and chandrabindu.
        ("Roy", "राय़", 0.9),
        ("Tanti", "ताँती", 1.0),
        ("Zakir", "ज़ाकिर", 1.0),
        # Dravidian vowel length and doubled consonants.
        ("Murugan", "முருகன்", 1.0),
        ("Seetha Raman", "சீதா ராமன்", 0.85),  # Tamil த between vowels is read d: sida (t/d stay apart)
        ("Chellappa", "Chelapa", 1.0),
        ("Kesava Pillai", "केशव पिल्लै", 0.9),
        # Spaces inside names.
        ("K.Naveenkumar", "के. नवीन कुमार", 0.95),
        ("Sujithmon", "सुजित मोन", 0.9),
        ("Ramkumar", "Ram Kumar", 1.0),
        # Final vowel written or not.
        ("Shyamal Dutta", "श्यामल दत्त", 0.95),
    ],
)
def test_renderings_of_one_name_are_alike(a: str, b: str, at_least: float) -> None:
    assert similarity(a, b) >= at_least


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Anil Das", "Sunil Das"),
        ("Rajesh Kumar", "Mahesh Kumar"),
        ("Sita Devi", "Gita Devi"),
        ("K. Murugan", "K. Kannan"),
        ("Abdul Karim", "Abdul Rahim"),
    ],
)
def test_different_first_names_stay_apart(a: str, b: str) -> None:
    assert similarity(a, b) < 0.95
    assert similarity(a, b) < similarity(a, a)


def test_comparison_says_which_words_agreed_and_names_nobody() -> None:
    comparison = compare_names("Das Biswajit K.", "बिस्वजीत दास")
    assert comparison.order_differs
    assert comparison.words_agreeing == comparison.words == 4
    assert comparison.initials_unmatched == 1
    text = comparison.describe()
    assert "word order differs" in text
    for word in ("das", "biswajit", "bisvajit", "k."):
        assert word not in text.lower()
    run_together = compare_names("Naveenkumar", "Naveen Kumar")
    assert run_together.joined == 1


def test_comparison_is_symmetric() -> None:
    names = ["K.S. Murugan", "मुरुगन के एस", "Md. Salim", "Salim Sheikh", "R. SUDHA", "सुधा", "Das Biswajit"]
    for a in names:
        for b in names:
            assert compare_names(a, b) == compare_names(b, a)


def test_loose_keys() -> None:
    assert loose_key("bisvas") == loose_key("visvas") == loose_key("biswas") == "basbas"
    assert loose_key("datta") == loose_key("dat") == "dat"


PERSON_LATIN = CandidateFacts(
    name="MD. RAFIKUL ISLAM", father_or_spouse_name="LATE NOOR MUHAMMAD", birth_year=1975, home_district_code="331"
)
PERSON_DEVANAGARI = CandidateFacts(
    name="मह: रफीकुल इस्लाम", father_or_spouse_name="स्वर्गीय नूर मुहम्मद", birth_year=1975, home_district_code="331"
)


def test_one_person_across_scripts_reaches_review_or_certain_and_says_why() -> None:
    result = score(PERSON_LATIN, PERSON_DEVANAGARI)
    assert result.decision is MatchDecision.CERTAIN
    assert result.score >= 0.92
    by_fact = {agreement.fact: agreement for agreement in result.agreements}
    assert by_fact["name"].similarity == 1.0
    assert by_fact["father_or_spouse_name"].similarity is not None
    assert by_fact["birth_year"].detail == "same year"
    assert by_fact["home_district"].detail == "same"
    assert by_fact["home_village"].similarity is None
    assert "word+district" in result.shared_keys
    text = result.explanation() + " ".join(result.reasons) + " ".join(a.detail for a in result.agreements)
    for word in ("rafikul", "islam", "noor", "331", "1975"):
        assert word not in text.lower()


def test_different_people_of_one_surname_year_and_district_are_not_matched() -> None:
    a = CandidateFacts(
        name="Rajib Biswas", father_or_spouse_name="Satish Biswas", birth_year=1980, home_district_code="7"
    )
    b = CandidateFacts(
        name="प्रदीप विश्वास", father_or_spouse_name="हरिपद विश्वास", birth_year=1980, home_district_code="7"
    )
    result = score(a, b)
    assert result.decision is MatchDecision.NONE
    # They still share a blocking key (the surname's): blocking is for recall, scoring decides.
    assert "word+district" in result.shared_keys


def test_blocking_keys_meet_whatever_the_order_initials_or_spacing() -> None:
    def name_keys(name: str) -> set[str]:
        keys = blocking_keys(CandidateFacts(name=name, home_district_code="603", birth_year=1985))
        return {key for key in keys if key.startswith(("name+", "word+"))}

    for a, b in [
        ("Biswajit Das", "दास बिश्वजीत"),
        ("K.Naveenkumar", "के. नवीन कुमार"),
        ("MD. WASIM AKRAM", "वसीम अकरम"),
        ("S. Murugan", "முருகன் எஸ்"),
        ("Bikash Biswas", "বিকাশ বিশ্বাস"),
    ]:
        assert name_keys(a) & name_keys(b), (a, b)
    # Each word's code (coarse consonants: b/v/p, j/l, d/t alike), then the words run together (here the
    # same as the first word's, so not repeated).
    assert name_codes("Biswajit Das") == ("PSLT", "TS")
    assert name_codes("Naveen Kumar") == ("NPN", "KMR", "NPNK")


def test_rank_is_stable_and_best_first() -> None:
    certain = score(PERSON_LATIN, PERSON_DEVANAGARI)
    weaker = MatchResult(MatchDecision.POSSIBLE, 0.8, ())
    same_score = MatchResult(MatchDecision.POSSIBLE, 0.8, ())
    ranked = rank([("w-3", same_score), ("w-2", weaker), ("w-1", certain)])
    assert [worker_id for worker_id, _ in ranked] == ["w-1", "w-2", "w-3"]
    assert rank(reversed(ranked)) == ranked


_DETERMINISM_SCRIPT = """
import json, sys
from mrc_registry.domain.identity.matching import CandidateFacts, blocking_keys, score
from mrc_registry.domain.identity.transliteration import name_key, phonetic_keys
names = json.loads(sys.argv[1])
out = []
for name in names:
    facts = CandidateFacts(name=name, birth_year=1990, home_district_code="212")
    out.append([name_key(name), phonetic_keys(name), sorted(blocking_keys(facts))])
out.append(score(CandidateFacts(name=names[0]), CandidateFacts(name=names[1])).score)
print(json.dumps(out))
"""


def test_keys_are_the_same_in_every_process_whatever_the_hash_seed_or_locale() -> None:
    names = ["MD. WASIM AKRAM", "मो. वसीम अकरम", "K.S. Murugan", "முருகன்", "বিকাশ বিশ্বাস", "ଜଗନ୍ନାଥ ଦାସ", "ਹਰਜੀਤ ਕੌਰ"]
    outputs = set()
    for seed, locale in (("1", "C"), ("12345", "C.UTF-8"), ("random", "POSIX")):
        env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": locale}
        completed = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT, json.dumps(names)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(completed.stdout)
    assert len(outputs) == 1


# ---------------------------------------------------------------------------------------------
# Round 2: Tamil Nadu, Kerala and Puducherry records


@pytest.mark.parametrize(
    ("a", "b", "at_least"),
    [
        # Tamil writes k/g, t/d, p/b with one letter; Hindi records write either (coarse keys).
        ("Dhanabal", "धनपाल", 0.9),
        ("Kirupairaj", "कीरूबैराज", 0.9),
        ("N.Thangaraj", "न. थनकराज", 0.9),
        # ழ: zh in Latin, ज़ or झ in Devanagari (as often as ल).
        ("Mathiyazhagan", "मथियाझगन", 0.9),
        ("Kayalvizhi", "कायलविज़ी", 0.9),
        # -samy and -swamy; a leading h dropped.
        ("Rangasamy", "रंगास्वामी", 0.9),
        ("Hariharan", "अरिहरन", 0.9),
        # English and French spellings read as said.
        ("Jacob", "जैकब", 0.9),
        ("George Mathew", "जॉर्ज मात्यु", 1.0),
        ("T. Djeamourthy", "टी. जयमूर्ति", 0.9),
        ("V. Cartigueyane", "वी. कार्तिकेयन", 0.9),
        # Initials written out: Tamil syllables (இரா., இல.: R, L), three letters against a spare initial,
        # English letter names run together, a mistranslation.
        ("Muthusamy R", "ईरा मुथुसामी", 1.0),
        ("Kathiresan L", "कथिरसन इला", 0.95),
        ("Venkatesan M", "वेंकटेशन माँ", 1.0),
        ("TVS Gandhi", "टीवीएस गांधी", 1.0),
        ("V.K. Kannan", "वीके कन्नन", 1.0),
        ("RM. Karumanickam", "आरएम करुमाणिक्कम", 0.95),
        ("S. Sathishkumar", "रों.शतीशकुमार", 1.0),
        # A house name one record lacks counts little.
        ("Sarath S Kannattuveli", "सरत एस", 0.9),
        ("Manivasagam Mallar S", "एस मनिवासगम", 0.9),
    ],
)
def test_tamil_nadu_and_kerala_renderings_are_alike(a: str, b: str, at_least: float) -> None:
    assert similarity(a, b) >= at_least


@pytest.mark.parametrize(
    ("a", "b", "below"),
    [
        # Short words agree in coarse consonants too easily: only words of three or more are compared so.
        ("Tanu", "Dina", 0.7),
        ("Raja", "Rala", 0.9),
        # One bare word is as often the surname as the name: the other record's extra word counts in full.
        ("Salim Ali", "Ali", 0.7),
        ("Md. Ali", "Salim Ali", 0.7),
        ("Thenmala Nagarajan", "नागराजन", 0.7),
    ],
)
def test_what_the_new_rules_do_not_merge(a: str, b: str, below: float) -> None:
    assert similarity(a, b) < below


def test_a_name_that_reads_as_letter_names_is_still_a_word() -> None:
    # बीबी spells B. B., but read as letters only when no word pairs with it.
    assert similarity("Amina Bibi", "आमिना बीबी") == 1.0


def test_letter_names_are_read_only_in_indian_scripts() -> None:
    # "Yas" in a Latin record is a name (Yash), not the letter S spelled out.
    assert compare_names("Yas Ali", "S. Ali").initials_agreeing == 0


def test_coarse_keys() -> None:
    assert coarse_key("danbal") == coarse_key("danpal")
    assert coarse_key("matiyalgan") == coarse_key("matiyajgan")
    assert word_code("rangasmi") == word_code("rangasvami") == "RNSM"  # vowels aside, as compared
    assert coarse_key("anbu") == coarse_key("ambu")
    assert coarse_key("harihran") == coarse_key("arihran")
    assert coarse_key("rajan") != coarse_key("ravi")


def test_comparison_counts_words_in_one_record_only() -> None:
    comparison = compare_names("Sarath S Kannattuveli", "सरत एस")
    assert comparison.extra_words == 1
    assert "1 words in one record only" in comparison.describe()
    assert compare_names("Biswajit Das", "Das Biswajit").extra_words == 0


def test_blocking_codes_meet_across_tamil_spellings() -> None:
    # Coarse start codes: voicing ignored.
    assert name_codes("Dhanabal") == name_codes("धनपाल")
    # A word misspelled near its start still ends alike (its last three coarse consonants, of words of
    # four or more).
    assert not set(name_codes("Anbuselvan")) & set(name_codes("अब्बुसेल्वन"))
    assert name_ending_codes("Anbuselvan") == name_ending_codes("अब्बुसेल्वन") == ("LPN",)
    assert set(name_ending_codes("Anbalagan")) & set(name_ending_codes("अब्बलगन"))
    assert name_ending_codes("Murugan") == ("RKN",)
    assert name_ending_codes("Ravi") == ()  # three consonants or fewer: the start code is the whole word
    # An initial run into the next word: V. Jayan is Vijayan.
    assert set(name_codes("Vijayan K")) & set(name_codes("के. वी. जयान"))


def test_blocking_keys_meet_on_a_word_whose_end_one_record_dropped() -> None:
    # Murugesan written मुरुगन: start codes MRKS and MRKN, endings KSN and RKN; the first three consonants
    # meet, with birth year and district only.
    def keys(name: str, year: int = 1970) -> set[str]:
        return blocking_keys(CandidateFacts(name=name, birth_year=year, home_district_code="7"))

    assert keys("MURUGESAN") & keys("मुरुगन") == {"start+birth_year+district:MRK:1970:7"}
    assert not keys("MURUGESAN") & keys("मुरुगन", year=1971)


def test_blocking_keys_meet_on_the_father_or_the_first_initial() -> None:
    def name_keys(name: str, father: str) -> set[str]:
        facts = CandidateFacts(name=name, father_or_spouse_name=father, birth_year=1970, home_district_code="7")
        return {key for key in blocking_keys(facts) if not key.startswith(("phone:", "aadhaar:"))}

    # The name machine-translated into Hindi words, the father's name intact.
    shared = name_keys("NIRMALA DEVI", "MADANAGOPAL") & name_keys("तुम चाहिए", "मदनगोपाल")
    assert {key.split(":", 1)[0] for key in shared} == {"father+district"}
    # Name garbled and the father's name missing: the first initial with birth year and district.
    shared = name_keys("S NITHYA", "SENTHILKUMAR") & name_keys("रों सनातन", "")
    assert shared == {"initial+birth_year+district:s:1970:7"}
    # No initial, no such key.
    assert not any(key.startswith("initial+") for key in name_keys("Nithya", ""))


def test_different_people_of_one_tamil_family_and_place_stay_apart() -> None:
    # Same initials, birth year and district, different given names and fathers.
    a = CandidateFacts(name="K. Murugan", father_or_spouse_name="Kandasamy", birth_year=1975, home_district_code="9")
    b = CandidateFacts(name="क. कण्णन", father_or_spouse_name="करुप्पुसामी", birth_year=1975, home_district_code="9")
    assert score(a, b).decision is MatchDecision.NONE
    # Voicing alike but other people (different fathers): not a match.
    c = CandidateFacts(name="Bindu Das", father_or_spouse_name="Ram Das", birth_year=1990, home_district_code="9")
    d = CandidateFacts(name="पिंटू दास", father_or_spouse_name="हरि दास", birth_year=1990, home_district_code="9")
    assert score(c, d).decision is MatchDecision.NONE


def test_a_tamil_script_record_says_nothing_about_voicing() -> None:
    # தீபா is read "tiba" (த first is t, ப between vowels is b); she writes Deepa. Short words too.
    assert similarity("Deepa", "தீபா") >= 0.95
    assert similarity("Jothi", "ஜோதி") >= 0.95
    # In Devanagari t and d are different letters: Deepa and टीबा stay only loosely alike.
    assert similarity("Deepa", "टीबा") < 0.9


def test_a_word_only_one_record_has_counts_less_only_beside_agreeing_initials_or_two_words() -> None:
    # Initials that agree with nothing do not make "Ata" more than a bare word.
    assert compare_names("Kavini Ata", "ओज आता").extra_words == 0
    assert compare_names("Sarath S Kannattuveli", "सरत एस").extra_words == 1


def test_yash_is_a_name_not_the_letter_s() -> None:
    assert spelled_letters("yas") == ""
    assert compare_names("Yash Mala", "S. Mala").initials_agreeing == 0


def kerala(name: str, father: str, year: int = 1975) -> CandidateFacts:
    return CandidateFacts(name=name, father_or_spouse_name=father, birth_year=year, home_district_code="KL-7")


def test_sons_of_one_father_who_carry_his_name_as_surname_stay_apart() -> None:
    # Shaji Joseph and Sunny Joseph, both sons of Joseph, born the same year in one district: the shared
    # surname is their father's name, which the fathers' names already compare. Only the given names count.
    shaji, sunny = kerala("Shaji Joseph", "Joseph"), kerala("सण्णि जोसफ", "जोसफ")
    assert score(shaji, sunny).decision is MatchDecision.NONE
    own = compare_own_names("Shaji Joseph", "Joseph", "सण्णि जोसफ", "जोसफ")
    assert own.family_words == 2
    assert "2 family words (in the record's other name too) counted less" in own.describe()
    assert own.similarity < compare_names("Shaji Joseph", "सण्णि जोसफ").similarity
    # Bengal: the family's surname in both the son's and the father's name (Das), other given names.
    sukanta = CandidateFacts("Sukanta Das", "Late Bholanath Das", birth_year=1970, home_district_code="WB-3")
    susen = CandidateFacts("सुसेन दास", "सनत दास", birth_year=1970, home_district_code="WB-3")
    assert score(sukanta, susen).decision is MatchDecision.NONE


def test_one_man_who_carries_his_fathers_name_as_surname_still_matches() -> None:
    shaji = kerala("Shaji Joseph", "Joseph")
    assert score(shaji, kerala("शाजी जोसफ", "जोसफ")).decision is not MatchDecision.NONE
    # One record without the father, or without the surname: nothing to tell the family's word by, or
    # nothing of it to miss.
    assert score(shaji, kerala("शाजी जोसफ", "")).decision is not MatchDecision.NONE
    assert score(shaji, kerala("शाजी", "जोसफ")).decision is not MatchDecision.NONE
    assert compare_own_names("Shaji Joseph", "Joseph", "शाजी", "जोसफ").similarity == 1.0
    # The surname and the father's surname agreeing: the same person, certain.
    kundu = CandidateFacts("Preetam Kundu", "Late Pinaki Kundu", birth_year=1980, home_district_code="WB-3")
    hindi = CandidateFacts("प्रीतम कुंडू", "स्वर्गीय पिनाकि कुंडू", birth_year=1980, home_district_code="WB-3")
    assert score(kundu, hindi).decision is MatchDecision.CERTAIN


def test_a_word_is_the_familys_only_when_each_record_with_another_name_has_it_there() -> None:
    # श्याम is the father's name of the Hindi record only: Raam against श्याम is two given names, counted.
    own = compare_own_names("Raam Kumar", "Shyaam Lal", "श्याम कुमार", "श्याम लाल")
    assert own.family_words == 0
    assert own == compare_names("Raam Kumar", "श्याम कुमार")
    # Nothing else left in one name (Joseph, son of Joseph): the whole names are compared.
    assert compare_own_names("Joseph", "Joseph", "जोसफ", "जोसफ") == compare_names("Joseph", "जोसफ")
    # Without the other names it is `compare_names`; and it is symmetric.
    assert compare_own_names("Shaji Joseph", "", "सण्णि जोसफ", "") == compare_names("Shaji Joseph", "सण्णि जोसफ")
    assert compare_own_names("Shaji Joseph", "Joseph", "सण्णि जोसफ", "जोसफ") == compare_own_names(
        "सण्णि जोसफ", "जोसफ", "Shaji Joseph", "Joseph"
    )


def test_an_initial_split_from_or_run_into_a_word_is_part_of_it() -> None:
    # V. Jayan is Vijayan, एस.वी.विन is S. Vivin: the initial that begins the other record's word.
    for latin, hindi in (("VIJAYAN.K", "के.वी.जयान"), ("Vijayan", "वी. जयान"), ("S.Vivin", "एस.वी.विन")):
        comparison = compare_names(latin, hindi)
        assert comparison.similarity >= 0.9, (latin, hindi)
        assert comparison.joined == 1
        assert comparison.initials_unmatched == 0
    # Only with a word that begins with the initial's letter: A. Mani is not Salaman.
    assert compare_names("A. Mani", "सलामन").joined == 0
    assert compare_names("Salaman", "ए. मनी").joined == 0


def test_v_jayan_with_another_father_is_not_vijayan() -> None:
    def tamil(name: str, father: str) -> CandidateFacts:
        return CandidateFacts(name=name, father_or_spouse_name=father, birth_year=1980, home_district_code="TN-5")

    assert score(tamil("Vijayan K", "Kandasamy"), tamil("के.वी.जयान", "")).decision is not MatchDecision.NONE
    assert score(tamil("V. Jayan", "Velu"), tamil("विजयन के", "कंदसामी")).decision is MatchDecision.NONE


def test_an_initial_costs_nothing_against_a_record_that_writes_none() -> None:
    # The Hindi record dropped the initials altogether: the initial says nothing against it.
    assert similarity("A.PARANTHAMAN", "बारंदामन") == similarity("Paranthaman", "बारंदामन")
    assert compare_names("A.PARANTHAMAN", "बारंदामन").initials_unmatched == 1
    # Another initial written instead still counts against.
    assert similarity("A.PARANTHAMAN", "बी. बारंदामन") < similarity("A.PARANTHAMAN", "बारंदामन")


def test_the_fathers_initial_in_both_names_stands_for_a_missing_fathers_name_a_little() -> None:
    def tamil(name: str, father: str) -> CandidateFacts:
        return CandidateFacts(name=name, father_or_spouse_name=father, birth_year=1980, home_district_code="TN-5")

    def father(result: MatchResult) -> float | None:
        return next(a.similarity for a in result.agreements if a.fact == "father_or_spouse_name")

    # R. Saravanan, son of Rajamanickam; the Hindi record has no father's name, but his initial R.
    result = score(tamil("R.Saravanan", "Rajamanickam"), tamil("आर.सरवन", ""))
    assert result.decision is MatchDecision.POSSIBLE
    assert father(result) == 0.75
    # Not when only one name carries the initial, nor when the father's name begins otherwise.
    assert father(score(tamil("Saravanan", "Rajamanickam"), tamil("आर.सरवन", ""))) is None
    assert father(score(tamil("R.Saravanan", "Kandasamy"), tamil("आर.सरवन", ""))) is None
    assert score(tamil("Saravanan", "Rajamanickam"), tamil("आर.सरवन", "")).decision is MatchDecision.NONE


def test_brothers_whose_given_names_differ_in_their_first_sound_stay_apart() -> None:
    def assam(name: str, father: str) -> CandidateFacts:
        return CandidateFacts(name=name, father_or_spouse_name=father, birth_year=1975, home_district_code="AS-2")

    # Rafiqul and Shafiqul (छफिकुल: Assam writes s with छ) Islam, one record without the father's name.
    assert score(assam("RAFIQUL ISLAM", "LATE SHER ALI"), assam("छफिकुल इछलाम", "")).decision is MatchDecision.NONE
    assert score(assam("SHAFIQUL ISLAM", "LATE SHER ALI"), assam("छफिकुल इछलाम", "")).decision is (
        MatchDecision.POSSIBLE
    )
    # Only beside another pair of words: a name of one word keeps its words' similarity.
    given, surname = similarity("Rafiqul", "छफिकुल"), similarity("Islam", "इछलाम")
    assert given > 0.85
    assert similarity("Rafiqul Islam", "छफिकुल इछलाम") == pytest.approx((0.95 * given + surname) / 2, abs=1e-4)
