"""Documents shaped like the registry stores workers (``mrc_registry.adapters.mongo_repository``).

Match keys come from the registry's own functions (``blocking_keys`` and ``phonetic_keys``), so the
documents are found exactly as registered ones are. Phone blind indexes and ciphertext are random
text of the real lengths: nothing here is encrypted, and no real number is stored.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime
from typing import Any

import bson

from bench.synthetic import Person, Population
from mrc_registry.domain.identity.matching import CandidateFacts, blocking_keys
from mrc_registry.domain.identity.transliteration import phonetic_keys, to_latin

WORKERS_COLLECTION = "workers"
REGISTRY_DATABASE = "mrc_registry"
# What StoredWorkers.find_candidates leaves out of the documents it reads.
CANDIDATE_PROJECTION = {"outbox": 0, "request_fingerprint": 0, "match_keys": 0}
RAW_DOCUMENT_BYTES = 1024


NAME_CACHE = 1_000_000  # distinct full names: ~8,700 first names x 36 surnames x 2 scripts


@functools.lru_cache(maxsize=NAME_CACHE)
def latin_name(full_name: str) -> str:
    return to_latin(full_name) if full_name.strip() else ""


@functools.lru_cache(maxsize=NAME_CACHE)
def _name_keys(name: str) -> frozenset[str]:
    return frozenset(f"name:{k}" for k in phonetic_keys(name))


@functools.lru_cache(maxsize=NAME_CACHE)
def _facts_keys(name: str, district_code: str, birth_year: int | None) -> frozenset[str]:
    """The blocking keys of a name, district and birth year (the slow part: cached)."""
    return frozenset(blocking_keys(CandidateFacts(name=name, birth_year=birth_year, home_district_code=district_code)))


def dedup_keys_exact(name: str, district_code: str, birth_year: int | None, phone_index: str) -> set[str]:
    """The blocking keys the registry looks candidates up with (``Deduplicator.assess``)."""
    facts = CandidateFacts(name=name, birth_year=birth_year, home_district_code=district_code, phone_index=phone_index)
    return blocking_keys(facts)


def dedup_keys(name: str, district_code: str, birth_year: int | None, phone_index: str) -> set[str]:
    """``dedup_keys_exact`` with the name's keys cached; ``check_keys`` compares the two."""
    keys = set(_facts_keys(name, district_code, birth_year))
    if phone_index:
        keys.add(f"phone:{phone_index}")
    return keys


def check_keys(name: str, district_code: str, birth_year: int | None, phone_index: str) -> None:
    fast = dedup_keys(name, district_code, birth_year, phone_index)
    exact = dedup_keys_exact(name, district_code, birth_year, phone_index)
    if fast != exact:
        raise RuntimeError(f"bench dedup keys differ from the registry's: {sorted(fast)} != {sorted(exact)}")


def stored_keys(name: str, district_code: str, birth_year: int | None, phone_index: str) -> set[str]:
    """The ``match_keys`` the registry stores with a worker (``Deduplicator.keys``)."""
    return dedup_keys(name, district_code, birth_year, phone_index) | _name_keys(name)


def registry_document(person: Person, population: Population, partner_id: str, now: datetime) -> dict[str, Any]:
    """A worker as ``StoredWorkers.add`` stores it once the relay has published its events."""
    worker_id = population.uuid()
    latin = latin_name(person.full_name)
    phone_index = population.token(32)
    keys = stored_keys(latin or person.full_name, person.home_district_code, person.birth_year, phone_index)
    idempotency = f"{partner_id}:{population.uuid()}"
    return {
        "_id": worker_id,
        "full_name": person.full_name,
        "latin_name": latin,
        "gender": person.gender,
        "birth_year": person.birth_year,
        "home": {
            "state_code": person.home_state_code,
            "district_code": person.home_district_code,
            "subdistrict_code": "",
            "village_name": "",
        },
        "occupation": "",
        "sector": None,
        "skills": [],
        "languages": [],
        "vulnerabilities": [],
        "father_or_spouse_name": "",
        "phone": {
            "encrypted": f"enc:v1:{person.home_state_code}:1:{population.token(55)}",
            "blind_index": phone_index,
            "last4": person.phone[-4:],
        },
        "phone_index": phone_index,
        "identity_documents": [],
        "document_indexes": [],
        "consents": [
            {
                "consent_id": population.uuid(),
                "purposes": ["registration"],
                "method": "thumbprint",
                "captured_by_partner_id": partner_id,
                "captured_at": now,
                "shared_with_partner_ids": [],
                "witness_name": "",
                "expires_at": None,
                "revoked_at": None,
            }
        ],
        "status": "active",
        "merged_into": "",
        "registering_partner_id": partner_id,
        "registered_at": now,
        "updated_at": now,
        "version": 1,
        "match_keys": sorted(keys),
        "idempotency_key": idempotency,
        "request_fingerprint": hashlib.sha256(idempotency.encode()).hexdigest(),
        "outbox": [],
    }


def raw_document(person: Person, population: Population, now: datetime) -> dict[str, Any]:
    """A worker-like document of exactly RAW_DOCUMENT_BYTES of BSON, for the raw store baseline."""
    document: dict[str, Any] = {
        "_id": population.uuid(),
        "full_name": person.full_name,
        "gender": person.gender,
        "birth_year": person.birth_year,
        "home": {"state_code": person.home_state_code, "district_code": person.home_district_code},
        "phone": {"encrypted": population.token(80), "blind_index": population.token(32), "last4": person.phone[-4:]},
        "status": "active",
        "registered_at": now,
        "padding": "",
    }
    missing = RAW_DOCUMENT_BYTES - len(bson.encode(document))
    document["padding"] = population.token(max(0, missing))
    return document
