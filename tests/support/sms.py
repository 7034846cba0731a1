"""Reading what the registry would have sent by SMS: with no gateway configured (the embedded default) it keeps
each message in the `sms_outbox` collection of its database, with the link request or erasure request it is
about as `reference`. The tests read the one-time code a worker would receive from there."""

from __future__ import annotations

import re

from pymongo import MongoClient

from tests.support.polling import eventually

REGISTRY_DATABASE = "mrc_registry"
SMS_OUTBOX = "sms_outbox"
CODE = re.compile(r"\b(\d{6})\b")


def texts_sent(mongo_uri: str, reference: str) -> list[str]:
    """The texts kept for `reference`, oldest first."""
    client: MongoClient[dict[str, object]] = MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
    try:
        found = client[REGISTRY_DATABASE][SMS_OUTBOX].find({"reference": reference}).sort("sent_at", 1)
        return [str(doc["text"]) for doc in found]
    finally:
        client.close()


def last_code(mongo_uri: str, reference: str) -> str:
    """The one-time code in the newest text kept for `reference` (waiting briefly for it)."""
    texts = eventually(lambda: texts_sent(mongo_uri, reference), timeout=10)
    match = CODE.search(texts[-1])
    assert match, "the text holds no six-digit code"
    return match.group(1)
