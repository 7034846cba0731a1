"""Request bodies the end-to-end tests send (synthetic people only)."""

from __future__ import annotations

import random
import uuid


def verhoeff_aadhaar() -> str:
    """A random 12-digit number with a valid Verhoeff check digit (not a real person's Aadhaar)."""
    from mrc_registry.domain.identity.aadhaar import verhoeff_check_digit

    payload = str(random.randint(2, 9)) + "".join(random.choice("0123456789") for _ in range(10))
    return payload + verhoeff_check_digit(payload)


def mobile() -> str:
    return "9" + "".join(random.choice("0123456789") for _ in range(9))


def worker_body(
    name: str = "Sunita Devi", *, purposes: tuple[str, ...] = ("registration", "entitlement_linkage"), **extra: object
) -> dict[str, object]:
    return {
        "full_name": name,
        "gender": "female",
        "birth_year": 1992,
        "home": {"state_code": "10", "district_code": "212", "village_name": "Phulwari Sharif"},
        "occupation": "construction",
        "consent": {"purposes": list(purposes), "method": "thumbprint"},
        **extra,
    }


def grievance_body(worker_id: str = "", summary: str = "Wages unpaid for six weeks at the site") -> dict[str, object]:
    return {
        "worker_id": worker_id,
        "anonymous": not worker_id,
        "category": "wage_theft",
        "channel": "helpline",
        "summary": summary,
        "location": {"state_code": "10", "district_code": "212"},
    }


def new_key() -> str:
    return str(uuid.uuid4())
