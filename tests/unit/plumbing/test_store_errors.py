"""pymongo's failures in the store port's terms: a server that is stopping is an outage (503), not our bug."""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from mrc_plumbing.store import DuplicateDocument, StoreUnavailable
from mrc_plumbing.store._pymongo import translated_errors

FERRETDB_STOPPING = {
    "ok": 0.0,
    "errmsg": "[msg_find.go:344 handler.handleMaxTimeMSError] [collection.go:94 sqlite.(*collection).Query] "
    "context canceled",
    "code": 1,
    "codeName": "InternalError",
}


@pytest.mark.parametrize(
    "error",
    [
        AutoReconnect("connection refused"),
        OperationFailure("context canceled", code=1, details=FERRETDB_STOPPING),
        OperationFailure("interrupted at shutdown", code=11600, details={"code": 11600}),
        OperationFailure("not primary", code=10107, details={"code": 10107}),
    ],
)
def test_a_stopping_or_unreachable_server_is_an_outage(error: Exception) -> None:
    with pytest.raises(StoreUnavailable), translated_errors():
        raise error


def test_other_failures_stay_what_they_are() -> None:
    with pytest.raises(DuplicateDocument), translated_errors():
        raise DuplicateKeyError("E11000", code=11000)
    other = OperationFailure("bad query", code=2, details={"code": 2, "errmsg": "context canceled"})
    with pytest.raises(OperationFailure) as raised, translated_errors():
        raise other
    assert raised.value is other
    internal = OperationFailure("boom", code=1, details={"code": 1, "errmsg": "something else"})
    with pytest.raises(OperationFailure), translated_errors():
        raise internal


def test_a_raw_failure_of_a_stopping_server_reaching_an_entrypoint_is_an_outage() -> None:
    from mrc_plumbing.outages import as_unavailable

    stopping = OperationFailure("context canceled", code=1, details=FERRETDB_STOPPING)
    assert as_unavailable(stopping) is not None
    assert as_unavailable(OperationFailure("bad query", code=2, details={"code": 2})) is None
