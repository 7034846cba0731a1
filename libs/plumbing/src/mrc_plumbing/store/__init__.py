"""The document-store port and its strategies (MongoDB, FerretDB, in-memory); see `port`."""

from mrc_plumbing.store.port import (
    APPLIED_EVENTS_FIELD,
    FINGERPRINT_FIELD,
    IDEMPOTENCY_FIELD,
    OUTBOX_FIELD,
    PENDING_FLAG,
    Document,
    DocumentCollection,
    DocumentStore,
    DuplicateDocument,
    IndexSpec,
    InsertReport,
    KeyIndex,
    KeyListing,
    Page,
    RankedId,
    StoreUnavailable,
)

__all__ = [
    "APPLIED_EVENTS_FIELD",
    "FINGERPRINT_FIELD",
    "IDEMPOTENCY_FIELD",
    "OUTBOX_FIELD",
    "PENDING_FLAG",
    "Document",
    "DocumentCollection",
    "DocumentStore",
    "DuplicateDocument",
    "IndexSpec",
    "InsertReport",
    "KeyIndex",
    "KeyListing",
    "Page",
    "RankedId",
    "StoreUnavailable",
]
