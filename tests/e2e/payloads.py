"""Request bodies the end-to-end tests send (synthetic people only)."""

import uuid


def worker_body(name: str = "Sunita Devi") -> dict[str, object]:
    return {
        "full_name": name,
        "gender": "female",
        "birth_year": 1992,
        "home": {"state_code": "10", "district_code": "212", "village_name": "Phulwari Sharif"},
        "occupation": "construction",
    }


def new_key() -> str:
    return str(uuid.uuid4())
