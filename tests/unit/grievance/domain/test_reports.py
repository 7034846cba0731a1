from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest

from mrc_grievance.domain.reports import (
    ALPHABET,
    OWASP_SCRYPT,
    ReporterStatus,
    ScryptParameters,
    canonical_reference,
    hash_follow_up_code,
    is_well_formed_code,
    is_well_formed_reference,
    new_follow_up_code,
    new_reference,
    reporter_view,
    verify_follow_up_code,
)
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import CaseStatus, NoteAudience, ReferralTarget

from .builders import CASEWORKER, HELPLINE, NOW, SUPERVISOR, anonymous_report, sealed

# Cheap enough for many tests; the OWASP parameters are exercised once below.
FAST = ScryptParameters(log2_n=10, r=8, p=1)
SYMBOL = f"[{ALPHABET}]"


def counting_bytes() -> Callable[[int], bytes]:
    counter = iter(range(1, 1_000_000))
    return lambda n: bytes(next(counter) % 256 for _ in range(n))


def test_a_reference_is_easy_to_read_out_and_carries_50_random_bits() -> None:
    reference = new_reference()

    assert re.fullmatch(rf"GR-{SYMBOL}{{5}}-{SYMBOL}{{5}}", reference)
    assert is_well_formed_reference(reference)
    assert len({new_reference() for _ in range(500)}) == 500


def test_a_follow_up_code_carries_80_random_bits_in_four_groups() -> None:
    code = new_follow_up_code()

    assert re.fullmatch(rf"{SYMBOL}{{4}}(-{SYMBOL}{{4}}){{3}}", code)
    assert is_well_formed_code(code)


def test_references_and_codes_come_from_the_random_source_given() -> None:
    assert new_reference(lambda n: bytes(n)) == "GR-00000-00000"
    assert new_follow_up_code(lambda n: b"\xff" * n) == "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    assert new_follow_up_code(counting_bytes()) == new_follow_up_code(counting_bytes())


def test_what_people_type_is_read_the_way_they_meant_it() -> None:
    assert canonical_reference(" gr 7k3m9 qxd2a ") == "GR-7K3M9-QXD2A"
    assert canonical_reference("GR-7K3M9-QXDZA") == "GR-7K3M9-QXDZA"
    # O, I and L are not in the alphabet: read as 0 and 1.
    assert canonical_reference("gr-oil00-00000") == "GR-01100-00000"
    assert not is_well_formed_reference("GR-7K3M9-QXD2")
    assert not is_well_formed_reference("GR-7K3M9-QXD2U")


def test_a_code_is_stored_only_as_a_salted_scrypt_hash_that_opens_with_it() -> None:
    code = new_follow_up_code()

    stored = hash_follow_up_code(code, FAST)

    assert stored.startswith("scrypt$ln=10,r=8,p=1$")
    assert code not in stored and code.replace("-", "") not in stored
    assert verify_follow_up_code(code, stored)
    assert verify_follow_up_code(code.lower().replace("-", " "), stored)
    assert hash_follow_up_code(code, FAST) != stored  # a fresh salt each time


def test_a_wrong_code_a_malformed_one_and_an_unknown_report_are_all_refused() -> None:
    code = new_follow_up_code()
    stored = hash_follow_up_code(code, FAST)

    assert not verify_follow_up_code(new_follow_up_code(), stored)
    assert not verify_follow_up_code(code[:-1], stored)
    assert not verify_follow_up_code("", stored)
    assert not verify_follow_up_code(code, None)
    assert not verify_follow_up_code(code, "")


def test_the_default_parameters_are_owasps_and_work() -> None:
    assert (OWASP_SCRYPT.log2_n, OWASP_SCRYPT.r, OWASP_SCRYPT.p) == (14, 8, 5)
    assert OWASP_SCRYPT.memory_bytes == 16 * 1024 * 1024
    code = new_follow_up_code()

    assert verify_follow_up_code(code, hash_follow_up_code(code))


@pytest.mark.parametrize(
    "stored",
    [
        "bcrypt$ln=10,r=8,p=1$AAAA$AAAA",
        "scrypt$ln=10,r=8$AAAA$AAAA",
        "scrypt$ln=30,r=8,p=1$AAAA$AAAA",  # a tampered hash asking for gigabytes
        "scrypt$ln=10,r=8,p=1$!!!$AAAA",
        "not a hash",
    ],
)
def test_a_corrupted_stored_hash_is_an_error_not_a_match(stored: str) -> None:
    with pytest.raises(ValueError, match="not a follow-up code hash"):
        verify_follow_up_code(new_follow_up_code(), stored)


def test_parameters_out_of_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="out of bounds"):
        ScryptParameters(log2_n=9)


# --- what the reporter sees ---------------------------------------------------------------------------------


def test_the_reporter_sees_the_status_in_plain_words_and_only_messages_meant_for_them() -> None:
    report = anonymous_report()
    report.triage(TriageFacts(), HELPLINE, NOW)
    report.add_note("n-1", sealed("INTERNAL"), NoteAudience.INTERNAL, CASEWORKER, NOW)
    report.add_note("n-2", sealed("TO-REPORTER"), NoteAudience.REPORTER, CASEWORKER, NOW)
    report.add_reporter_message("n-3", sealed("FROM-REPORTER"), NOW)
    report.refer("r-1", ReferralTarget.ANTI_HUMAN_TRAFFICKING_UNIT, "partner-ahtu", SUPERVISOR, NOW)

    view = reporter_view(report)

    assert (view.reference, view.status, view.updated_at) == ("GR-7K3M9-QXD2A", ReporterStatus.WITH_AN_AUTHORITY, NOW)
    assert [(m.text, m.from_reporter) for m in view.messages] == [
        (sealed("TO-REPORTER"), False),
        (sealed("FROM-REPORTER"), True),
    ]
    # Nothing else: no category, place, assignee, escalation or the authority's name.
    assert set(vars(view)) == {"reference", "status", "updated_at", "messages"}


@pytest.mark.parametrize(
    ("status", "seen_as"),
    [
        (CaseStatus.NEW, ReporterStatus.RECEIVED),
        (CaseStatus.TRIAGED, ReporterStatus.RECEIVED),
        (CaseStatus.ASSIGNED, ReporterStatus.IN_PROGRESS),
        (CaseStatus.IN_PROGRESS, ReporterStatus.IN_PROGRESS),
        (CaseStatus.AWAITING_COMPLAINANT, ReporterStatus.AWAITING_YOUR_REPLY),
        (CaseStatus.REFERRED, ReporterStatus.WITH_AN_AUTHORITY),
        (CaseStatus.RESOLVED, ReporterStatus.RESOLVED),
        (CaseStatus.REOPENED, ReporterStatus.IN_PROGRESS),
        (CaseStatus.CLOSED, ReporterStatus.CLOSED),
    ],
)
def test_every_status_has_a_plain_word_for_the_reporter(status: CaseStatus, seen_as: ReporterStatus) -> None:
    report = anonymous_report()
    report.status = status

    assert reporter_view(report).status is seen_as


def test_random_source_default_is_the_os_csprng() -> None:
    # The defaults must be the secrets module's, never `random`.
    assert new_reference.__defaults__ == (secrets.token_bytes,)
    assert new_follow_up_code.__defaults__ == (secrets.token_bytes,)
