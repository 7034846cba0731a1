"""Anonymous and confidential reports: a case reference, a follow-up code shown once, and what the reporter sees.

A reporter (a neighbour who suspects trafficking, a worker afraid of the contractor) gets two things:
- the case reference, `GR-XXXXX-XXXXX`: 50 random bits in Crockford base32, easy to read out on a phone
  and not guessable in any useful number of tries (the follow-up also needs the code, and the endpoint is
  rate limited);
- the follow-up code, `XXXX-XXXX-XXXX-XXXX`: 80 random bits, shown once and never stored. Only a scrypt
  hash is kept, with a random salt and parameters from OWASP's password storage table (N=2^14, r=8, p=5:
  16 MiB, about a quarter of a second here), so a stolen database does not open the reports; with 80
  bits of entropy even a fast hash would hold, the slow one is defence in depth. Verification compares
  in constant time, and costs the same when the reference does not exist (`verify_follow_up_code` with
  no stored hash works against a fixed dummy), so timing does not tell which references are real.

With the right code the reporter sees the status in plain words and the messages addressed to them,
nothing else: no category, place, assignee, escalation or notes.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mrc_grievance.domain.case import Case
from mrc_grievance.domain.parties import REPORTER
from mrc_grievance.domain.protected import Sealed
from mrc_grievance.domain.vocabulary import CaseStatus, NoteAudience

# Crockford's base32: no I, L, O or U, so nothing is misread (or rude) when spoken or handwritten.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = {"I": "1", "L": "1", "O": "0"}

REFERENCE_PREFIX = "GR"
REFERENCE_SYMBOLS = 10  # 50 bits
CODE_SYMBOLS = 16  # 80 bits

RandomBytes = Callable[[int], bytes]


def _symbols(count: int, random_bytes: RandomBytes) -> str:
    bits = count * 5
    value = int.from_bytes(random_bytes((bits + 7) // 8), "big") >> ((8 - bits % 8) % 8)
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(count)))


def _groups(symbols: str, size: int) -> str:
    return "-".join(symbols[i : i + size] for i in range(0, len(symbols), size))


def new_reference(random_bytes: RandomBytes = secrets.token_bytes) -> str:
    """A new case reference. References are unique by a store index; the service retries on a clash."""
    return f"{REFERENCE_PREFIX}-{_groups(_symbols(REFERENCE_SYMBOLS, random_bytes), 5)}"


def new_follow_up_code(random_bytes: RandomBytes = secrets.token_bytes) -> str:
    return _groups(_symbols(CODE_SYMBOLS, random_bytes), 4)


def canonical(text: str) -> str:
    """A reference or code as typed (any case, spaces, hyphens, I/L for 1, O for 0) in its canonical symbols."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t")
    return "".join(_READ_AS.get(ch, ch) for ch in cleaned)


def canonical_reference(text: str) -> str:
    symbols = canonical(text).removeprefix(REFERENCE_PREFIX)
    return f"{REFERENCE_PREFIX}-{_groups(symbols, 5)}"


def is_well_formed_reference(text: str) -> bool:
    symbols = canonical(text).removeprefix(REFERENCE_PREFIX)
    return len(symbols) == REFERENCE_SYMBOLS and all(ch in ALPHABET for ch in symbols)


# --- the follow-up code's hash ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScryptParameters:
    log2_n: int = 14
    r: int = 8
    p: int = 5

    def __post_init__(self) -> None:
        # Bounds also protect verification from a tampered stored hash asking for gigabytes.
        if not (10 <= self.log2_n <= 20 and 1 <= self.r <= 32 and 1 <= self.p <= 16):
            raise ValueError("scrypt parameters out of bounds")

    @property
    def memory_bytes(self) -> int:
        return 128 * self.r * (1 << self.log2_n)


OWASP_SCRYPT = ScryptParameters()
_SALT_BYTES = 16
_KEY_BYTES = 32
_SCHEME = "scrypt"


def _derive(code: str, salt: bytes, params: ScryptParameters) -> bytes:
    return hashlib.scrypt(
        canonical(code).encode(),
        salt=salt,
        n=1 << params.log2_n,
        r=params.r,
        p=params.p,
        maxmem=2 * params.memory_bytes,
        dklen=_KEY_BYTES,
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def hash_follow_up_code(
    code: str, params: ScryptParameters = OWASP_SCRYPT, random_bytes: RandomBytes = secrets.token_bytes
) -> str:
    """`scrypt$ln=14,r=8,p=5$<salt>$<key>`: self-describing, so the parameters can be raised later."""
    salt = random_bytes(_SALT_BYTES)
    key = _derive(code, salt, params)
    return f"{_SCHEME}$ln={params.log2_n},r={params.r},p={params.p}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[ScryptParameters, bytes, bytes]:
    try:
        scheme, settings, salt, key = stored.split("$")
        values = dict(item.split("=", 1) for item in settings.split(","))
        params = ScryptParameters(int(values["ln"]), int(values["r"]), int(values["p"]))
        if scheme != _SCHEME:
            raise ValueError(scheme)
        return params, _unb64(salt), _unb64(key)
    except (ValueError, KeyError) as error:
        raise ValueError("not a follow-up code hash made by hash_follow_up_code") from error


# Verified against when there is no stored hash (an unknown reference), so the answer takes as long.
_DUMMY_HASH = (
    f"{_SCHEME}$ln={OWASP_SCRYPT.log2_n},r={OWASP_SCRYPT.r},p={OWASP_SCRYPT.p}"
    f"${_b64(bytes(_SALT_BYTES))}${_b64(bytes(_KEY_BYTES))}"
)


def is_well_formed_code(text: str) -> bool:
    symbols = canonical(text)
    return len(symbols) == CODE_SYMBOLS and all(ch in ALPHABET for ch in symbols)


def verify_follow_up_code(code: str, stored: str | None) -> bool:
    """Whether `code` opens the report whose stored hash is `stored` (None or empty: no such report).

    Every path costs one scrypt: an unknown reference or a malformed code is checked against the dummy.
    """
    usable = bool(stored) and is_well_formed_code(code)
    params, salt, expected = _parse(stored if stored else _DUMMY_HASH)
    actual = _derive(code[:64], salt, params)
    return hmac.compare_digest(actual, expected) and usable


# --- what the reporter sees -------------------------------------------------------------------------------


class ReporterStatus(enum.StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    AWAITING_YOUR_REPLY = "awaiting_your_reply"
    WITH_AN_AUTHORITY = "with_an_authority"
    RESOLVED = "resolved"
    CLOSED = "closed"


_REPORTER_STATUS = {
    CaseStatus.NEW: ReporterStatus.RECEIVED,
    CaseStatus.TRIAGED: ReporterStatus.RECEIVED,
    CaseStatus.ASSIGNED: ReporterStatus.IN_PROGRESS,
    CaseStatus.IN_PROGRESS: ReporterStatus.IN_PROGRESS,
    CaseStatus.REOPENED: ReporterStatus.IN_PROGRESS,
    CaseStatus.AWAITING_COMPLAINANT: ReporterStatus.AWAITING_YOUR_REPLY,
    CaseStatus.REFERRED: ReporterStatus.WITH_AN_AUTHORITY,
    CaseStatus.RESOLVED: ReporterStatus.RESOLVED,
    CaseStatus.CLOSED: ReporterStatus.CLOSED,
}


@dataclass(frozen=True)
class ReporterMessage:
    at: datetime
    text: Sealed  # the service layer opens it for the reporter who gave the right code
    from_reporter: bool


@dataclass(frozen=True)
class ReporterView:
    reference: str
    status: ReporterStatus
    updated_at: datetime
    messages: tuple[ReporterMessage, ...]


def reporter_view(case: Case) -> ReporterView:
    return ReporterView(
        reference=case.reference,
        status=_REPORTER_STATUS[case.status],
        updated_at=case.updated_at or case.filed_at,
        messages=tuple(
            ReporterMessage(note.written_at, note.text, from_reporter=note.author == REPORTER)
            for note in case.notes
            if note.audience is NoteAudience.REPORTER
        ),
    )
