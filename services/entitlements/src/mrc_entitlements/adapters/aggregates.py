"""This state's entitlement funnel for the national cluster (mrc.federation.v1 AggregatesPublished, on
`mrc.federation.aggregates.v1`): k-anonymous counts only, never a record or an id. A snapshot covers the UTC day
it is taken in and is stored in collection `federation_aggregates` with its event in the same write (the
outbox); a later snapshot of the same day replaces an earlier one (same `aggregates_id`, which names this
service, so the registry's snapshot of the day is not replaced)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from mrc.entitlements.v1 import funnel_pb2
from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc_entitlements.service_layer.funnel import FunnelService
from mrc_entitlements.settings import EVENT_SOURCE
from mrc_kernel.clock import utc_now
from mrc_kernel.events import Event
from mrc_plumbing.federation import AGGREGATES_TOPIC, store_aggregates
from mrc_plumbing.protobuf import timestamp
from mrc_plumbing.store import DocumentStore


class FunnelAggregates:
    def __init__(
        self,
        funnel: FunnelService,
        store: DocumentStore,
        *,
        own_state_code: str,
        min_cell_size: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._funnel = funnel
        self._store = store
        self._own = own_state_code
        self._min_cell_size = min_cell_size
        self._clock = clock

    def snapshot(self) -> federation_pb2.AggregatesPublished:
        now = self._clock()
        start = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
        safe = self._funnel.national_funnel(self._own)
        cells = [
            funnel_pb2.FunnelCell(
                state_code=cell.state_code,
                district_code=cell.district_code,
                scheme_code=cell.scheme_code,
                stage=funnel_pb2.FunnelStage.Value(f"FUNNEL_STAGE_{cell.stage.value.upper()}"),
                count=count or 0,
                suppressed=count is None,
            )
            for cell, count in sorted(
                safe.cells.items(), key=lambda item: (item[0].district_code, item[0].scheme_code, item[0].stage)
            )
        ]
        return federation_pb2.AggregatesPublished(
            home_state_code=self._own,
            aggregates_id=f"{self._own}:entitlements:{start.date().isoformat()}",
            period_start=timestamp(start),
            period_end=timestamp(start + timedelta(days=1)),
            min_cell_size=self._min_cell_size,
            entitlement_funnel=cells,
            published_at=timestamp(now),
        )

    def publish(self) -> federation_pb2.AggregatesPublished:
        message = self.snapshot()
        event = Event.from_message(message, source=EVENT_SOURCE, subject=self._own, topic=AGGREGATES_TOPIC)
        state: dict[str, Any] = {"home_state_code": self._own, "cells": len(message.entitlement_funnel)}
        store_aggregates(self._store, message.aggregates_id, state, event)
        return message
