from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from mrc.entitlements.v1 import eligibility_pb2, events_pb2
from mrc_entitlements.domain.eligibility import Eligibility, EligibilityRecorded, EligibilityStatus
from mrc_entitlements.settings import ELIGIBILITY_TOPIC, EVENT_SOURCE
from mrc_kernel.events import Event

# Only usable records are ever published or returned: `awaiting_consent` and `consent_withdrawn` read as missing.
STATUS_TO_PROTO = {
    EligibilityStatus.PENDING_ASSESSMENT: eligibility_pb2.ELIGIBILITY_STATUS_PENDING_ASSESSMENT,
    EligibilityStatus.ASSESSED: eligibility_pb2.ELIGIBILITY_STATUS_ASSESSED,
}


def _timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def eligibility_to_proto(eligibility: Eligibility) -> eligibility_pb2.Eligibility:
    return eligibility_pb2.Eligibility(
        worker_id=eligibility.worker_id,
        status=STATUS_TO_PROTO[eligibility.status],
        eligible_scheme_codes=eligibility.eligible_scheme_codes,
        recorded_at=_timestamp(eligibility.recorded_at),
        source_event_id=eligibility.source_event_id,
    )


def to_envelope(event: EligibilityRecorded) -> Event:
    message = events_pb2.EligibilityRecorded(eligibility=eligibility_to_proto(event.eligibility))
    return Event.from_message(
        message, source=EVENT_SOURCE, subject=event.eligibility.worker_id, topic=ELIGIBILITY_TOPIC
    )
