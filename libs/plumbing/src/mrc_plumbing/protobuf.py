"""Mappings every service's protobuf adapter needs: timestamps and LGD places."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from mrc.common.v1 import common_pb2
from mrc_kernel.place import Place


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def datetime_from(ts: Timestamp) -> datetime | None:
    """None for an unset timestamp (proto3 has no null)."""
    return ts.ToDatetime(tzinfo=UTC) if ts.seconds or ts.nanos else None


def place_to_proto(place: Place, *, with_village: bool = True) -> common_pb2.LgdLocation:
    """`with_village=False` for events: LGD codes only, nothing a person could be found by."""
    return common_pb2.LgdLocation(
        state_code=place.state_code,
        district_code=place.district_code,
        subdistrict_code=place.subdistrict_code,
        village_name=place.village_name if with_village else "",
    )


def place_from_proto(location: common_pb2.LgdLocation) -> Place:
    return Place(
        state_code=location.state_code.strip(),
        district_code=location.district_code.strip(),
        subdistrict_code=location.subdistrict_code.strip(),
        village_name=location.village_name.strip(),
    )
