"""Synthetic migrant workers: realistic origins, genders and names, no real people.

* Origin -> destination state pairs are drawn in proportion to the Census 2011 inter-state flow matrix
  (``census2011-migration/OutputMatrixStates__Sheet1.csv``: destination census code, origin state name,
  migrants, males, females); the gender follows that flow's male/female split.
* The home district is drawn uniformly from the LGD districts of the origin state (``mrc_geography.lgd()``);
  2011's Andhra Pradesh and Jammu & Kashmir include today's Telangana and Ladakh, Dadra & Nagar Haveli and
  Daman & Diu are today's LGD state 38.
* Names: a random first name from ``names/parlikar_indian_first_names_en_hi.tsv`` (Latin, or Devanagari
  for about one in six people) and a common surname. Phones are random, valid Indian mobile numbers.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers

from mrc_geography import lgd

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
FLOWS_CSV = SHARED_DATA / "census2011-migration" / "OutputMatrixStates__Sheet1.csv"
NAMES_TSV = SHARED_DATA / "names" / "parlikar_indian_first_names_en_hi.tsv"

# Common surnames among interstate migrant workers (Latin, Devanagari).
SURNAMES: tuple[tuple[str, str], ...] = (
    ("Kumar", "कुमार"),
    ("Singh", "सिंह"),
    ("Yadav", "यादव"),
    ("Sharma", "शर्मा"),
    ("Das", "दास"),
    ("Mandal", "मंडल"),
    ("Paswan", "पासवान"),
    ("Prasad", "प्रसाद"),
    ("Mahto", "महतो"),
    ("Ram", "राम"),
    ("Gupta", "गुप्ता"),
    ("Verma", "वर्मा"),
    ("Mishra", "मिश्रा"),
    ("Patel", "पटेल"),
    ("Sah", "साह"),
    ("Rai", "राय"),
    ("Khan", "खान"),
    ("Ansari", "अंसारी"),
    ("Chauhan", "चौहान"),
    ("Nishad", "निषाद"),
    ("Manjhi", "मांझी"),
    ("Rajbhar", "राजभर"),
    ("Kushwaha", "कुशवाहा"),
    ("Pal", "पाल"),
    ("Sahu", "साहू"),
    ("Oraon", "उरांव"),
    ("Munda", "मुंडा"),
    ("Tudu", "टुडू"),
    ("Soren", "सोरेन"),
    ("Murmu", "मुर्मू"),
    ("Naik", "नायक"),
    ("Behera", "बेहरा"),
    ("Pradhan", "प्रधान"),
    ("Jena", "जेना"),
    ("Sheikh", "शेख"),
    ("Thakur", "ठाकुर"),
)
DEVANAGARI_SHARE = 1 / 6
BIRTH_YEARS = (1965, 2006)  # ages about 18 to 60

# Census 2011 origin names that are not LGD state names once normalised.
_ORIGIN_ALIASES: dict[str, tuple[str, ...]] = {
    "nct of delhi": ("7",),
    "dadra and nagar haveli": ("38",),
    "daman and diu": ("38",),
    "andhra pradesh": ("28", "36"),  # with Telangana (2014)
    "jammu and kashmir": ("1", "37"),  # with Ladakh (2019)
}
# Census 2011 destination codes that LGD merged.
_DESTINATION_ALIASES = {"25": "38", "26": "38"}


def _normalise(name: str) -> str:
    return " ".join(name.lower().replace("&", "and").split())


@dataclass(frozen=True)
class Flow:
    origin_state_codes: tuple[str, ...]
    destination_state_code: str
    migrants: int
    male_share: float


@dataclass(frozen=True)
class Person:
    full_name: str
    gender: str
    birth_year: int
    home_state_code: str
    home_district_code: str
    destination_state_code: str
    phone: str  # 10-digit Indian mobile number

    def registration_body(self) -> dict[str, Any]:
        """The body of POST /v1/workers."""
        return {
            "full_name": self.full_name,
            "gender": self.gender,
            "birth_year": self.birth_year,
            "home": {"state_code": self.home_state_code, "district_code": self.home_district_code},
            "consent": {"purposes": ["registration"], "method": "thumbprint"},
            "phone": self.phone,
        }

    def import_row(self) -> dict[str, str]:
        """A row of the bulk import CSV (see IMPORT_COLUMNS)."""
        return {
            "full_name": self.full_name,
            "gender": self.gender,
            "birth_year": str(self.birth_year),
            "home_state_code": self.home_state_code,
            "home_district_code": self.home_district_code,
            "phone": self.phone,
            "consent_purposes": "registration",
            "consent_method": "thumbprint",
        }


IMPORT_COLUMNS = (
    "full_name",
    "gender",
    "birth_year",
    "home_state_code",
    "home_district_code",
    "phone",
    "consent_purposes",
    "consent_method",
)


def load_flows(path: Path = FLOWS_CSV) -> list[Flow]:
    geography = lgd()
    by_name: dict[str, tuple[str, ...]] = {_normalise(s.name): (s.code,) for s in geography.states.values()}
    by_name.update(_ORIGIN_ALIASES)
    by_census = {s.census_2011_code: s.code for s in geography.states.values() if s.census_2011_code != "00"}
    flows: list[Flow] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            migrants = int(row["TotalMigrants"] or 0)
            if migrants <= 0:
                continue
            origin = by_name.get(_normalise(row["OriginState"]))
            census = row["StateCode"].strip().zfill(2)
            destination = _DESTINATION_ALIASES.get(census) or by_census.get(census)
            if origin is None or destination is None:
                raise ValueError(f"cannot map flow {row['OriginState']!r} -> {row['DestinationState']!r} to LGD")
            flows.append(Flow(origin, destination, migrants, int(row["Males"] or 0) / migrants))
    return flows


def load_first_names(path: Path = NAMES_TSV) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [(r["english"].strip(), r["hindi"].strip()) for r in rows if r["english"].strip()]


class Population:
    """Draws synthetic people; deterministic for a given seed."""

    def __init__(self, seed: int = 2011) -> None:
        self.random = random.Random(seed)
        self.flows = load_flows()
        self._cumulative = list(itertools.accumulate(f.migrants for f in self.flows))
        geography = lgd()
        self._districts: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        for flow in self.flows:
            if flow.origin_state_codes not in self._districts:
                self._districts[flow.origin_state_codes] = sorted(
                    (d.state_code, d.code)
                    for d in geography.districts.values()
                    if d.state_code in flow.origin_state_codes
                )
        self.first_names = load_first_names()

    def flow(self) -> Flow:
        point = self.random.random() * self._cumulative[-1]
        return self.flows[bisect.bisect_right(self._cumulative, point)]

    def name(self) -> str:
        latin, devanagari = self.random.choice(self.first_names)
        surname_latin, surname_devanagari = self.random.choice(SURNAMES)
        if devanagari and self.random.random() < DEVANAGARI_SHARE:
            return f"{devanagari} {surname_devanagari}"
        return f"{latin} {surname_latin}"

    def phone(self) -> str:
        while True:
            number = f"{self.random.choice('6789')}{self.random.randrange(10**9):09d}"
            if phonenumbers.is_valid_number(phonenumbers.parse(number, "IN")):
                return number

    def person(self) -> Person:
        flow = self.flow()
        state_code, district_code = self.random.choice(self._districts[flow.origin_state_codes])
        return Person(
            full_name=self.name(),
            gender="male" if self.random.random() < flow.male_share else "female",
            birth_year=self.random.randint(*BIRTH_YEARS),
            home_state_code=state_code,
            home_district_code=district_code,
            destination_state_code=flow.destination_state_code,
            phone=self.phone(),
        )

    def token(self, chars: int = 32) -> str:
        """Random base64url text, standing in for blind indexes and ciphertext."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return "".join(self.random.choices(alphabet, k=chars))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))
