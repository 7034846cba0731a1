"""Which failures are outages of a dependency (store, broker) rather than bugs of ours.

An unreachable store or broker answers 503 with Retry-After on REST and UNAVAILABLE on gRPC, so a
client can tell it from a bug and knows to retry. Writes are single-document and idempotent, so a
retry after an outage never doubles an effect, and nothing is published for a write that failed.
"""

from __future__ import annotations

from kafka import errors as kafka_errors
from pymongo import errors as mongo_errors

from mrc_kernel.errors import Unavailable
from mrc_plumbing.store._pymongo import stopping_server

RETRY_AFTER_SECONDS = 5

_STORE_OUTAGES: tuple[type[BaseException], ...] = (
    mongo_errors.ConnectionFailure,  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError...
    mongo_errors.WaitQueueTimeoutError,
    mongo_errors.ExecutionTimeout,
)
_BROKER_OUTAGES: tuple[type[BaseException], ...] = (
    kafka_errors.KafkaTimeoutError,
    kafka_errors.BrokerNotAvailableError,
    kafka_errors.LeaderNotAvailableError,
    kafka_errors.KafkaConnectionError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.RequestTimedOutError,
)


def as_unavailable(error: BaseException) -> Unavailable | None:
    """The `Unavailable` error this failure amounts to, or None when it is not an outage."""
    if isinstance(error, Unavailable):
        return error
    if isinstance(error, _STORE_OUTAGES) or (
        isinstance(error, mongo_errors.OperationFailure) and stopping_server(error)
    ):
        return Unavailable("the data store is unreachable; retry later", RETRY_AFTER_SECONDS)
    if isinstance(error, _BROKER_OUTAGES):
        return Unavailable("the event broker is unreachable; retry later", RETRY_AFTER_SECONDS)
    return None
