"""Text messages to a worker's phone (one-time codes): an SMS gateway over HTTP, or a local outbox.

The local outbox is the embedded default: messages are stored in the registry's `sms_outbox`
collection instead of being sent, so development and the end-to-end tests can read the code a worker
would receive. It keeps only the last four digits of the number.
"""

from __future__ import annotations

import logging
import uuid

import httpx

from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Unavailable
from mrc_plumbing.store import DocumentStore

log = logging.getLogger(__name__)

LOCAL_OUTBOX = "sms_outbox"


class HttpTextMessages:
    """POSTs `{"to": "+91…", "text": "…", "reference": "…"}` as JSON with a bearer token to the gateway.

    The reference doubles as the gateway's idempotency key, so a retried send is not delivered twice.
    """

    def __init__(self, url: str, token: str, *, timeout_seconds: float = 10.0) -> None:
        self._url = url
        self._client = httpx.Client(timeout=timeout_seconds, headers={"Authorization": f"Bearer {token}"})

    def send(self, phone_e164: str, text: str, *, reference: str) -> None:
        try:
            response = self._client.post(
                self._url,
                json={"to": phone_e164, "text": text, "reference": reference},
                headers={"Idempotency-Key": reference},
            )
        except httpx.HTTPError as exc:
            raise Unavailable("the SMS gateway is unreachable; retry later") from exc
        if response.status_code >= 400:
            log.error("SMS gateway refused a message", extra={"status": response.status_code})
            raise Unavailable("the SMS gateway refused the message; retry later")


class LocalTextMessages:
    """Keeps messages in the store instead of sending them (the embedded default)."""

    def __init__(self, store: DocumentStore) -> None:
        self._outbox = store.collection(LOCAL_OUTBOX)

    def send(self, phone_e164: str, text: str, *, reference: str) -> None:
        self._outbox.insert(
            {
                "_id": f"{reference}:{uuid.uuid4()}",
                "reference": reference,
                "to_last4": phone_e164[-4:],
                "text": text,
                "sent_at": utc_now(),
            }
        )
        log.info("text message kept in the local outbox (no SMS gateway configured)", extra={"reference": reference})
