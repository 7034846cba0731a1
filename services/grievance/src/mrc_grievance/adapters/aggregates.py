"""This state's grievance counts by district and category for the national cluster (mrc.federation.v1
AggregatesPublished, `grievance_categories`, on `mrc.federation.aggregates.v1`): k-anonymous, never a case or an
id (`mrc_kernel.privacy`). A snapshot covers the UTC day it is taken in and is stored in collection
`federation_aggregates` with its event in the same write (the outbox); a later snapshot of the day replaces an
earlier one (same `aggregates_id`, naming this service, so other services' snapshots of the day stay)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, cast

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc_grievance.adapters import protobuf_mapping as mapping
from mrc_grievance.domain.statistics import CaseRow
from mrc_grievance.service_layer.ports import CaseRepository, StatisticsFilter
from mrc_grievance.settings import EVENT_SOURCE
from mrc_kernel.clock import utc_now
from mrc_kernel.events import Event
from mrc_kernel.privacy import suppress_small_cells
from mrc_plumbing.federation import AGGREGATES_TOPIC, store_aggregates
from mrc_plumbing.protobuf import timestamp
from mrc_plumbing.store import DocumentStore


class CategoryAggregates:
    def __init__(
        self,
        cases: CaseRepository,
        store: DocumentStore,
        *,
        own_state_code: str,
        min_cell_size: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._cases = cases
        self._store = store
        self._own = own_state_code
        self._min_cell_size = min_cell_size
        self._clock = clock

    def snapshot(self) -> federation_pb2.AggregatesPublished:
        now = self._clock()
        start = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
        rows = cast(
            list[CaseRow],
            self._cases.statistics_rows(StatisticsFilter(states=frozenset({self._own}), districts=frozenset())),
        )
        counts = Counter((r.state_code, r.district_code, r.category) for r in rows if r.state_code == self._own)
        safe = suppress_small_cells(counts, self._min_cell_size)
        return federation_pb2.AggregatesPublished(
            home_state_code=self._own,
            aggregates_id=f"{self._own}:grievance:{start.date().isoformat()}",
            period_start=timestamp(start),
            period_end=timestamp(start + timedelta(days=1)),
            min_cell_size=self._min_cell_size,
            grievance_categories=[
                federation_pb2.GrievanceCategoryCell(
                    state_code=state,
                    district_code=district,
                    category=mapping.category(category),
                    count=count or 0,
                    suppressed=count is None,
                )
                for (state, district, category), count in sorted(safe.cells.items())
            ],
            published_at=timestamp(now),
        )

    def publish(self) -> federation_pb2.AggregatesPublished:
        message = self.snapshot()
        event = Event.from_message(message, source=EVENT_SOURCE, subject=self._own, topic=AGGREGATES_TOPIC)
        state: dict[str, Any] = {"home_state_code": self._own, "cells": len(message.grievance_categories)}
        store_aggregates(self._store, message.aggregates_id, state, event)
        return message
