"""The registry's counts for the national cluster, from the document store, and their outbox: each snapshot
is stored in collection `federation_aggregates` with its `AggregatesPublished` event in the same write."""

from __future__ import annotations

from typing import Any

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc_plumbing.federation import store_aggregates
from mrc_plumbing.protobuf import timestamp
from mrc_plumbing.store import DocumentStore
from mrc_registry.adapters.federation_mapping import aggregates_event
from mrc_registry.domain.worker import WorkerStatus
from mrc_registry.service_layer.aggregates import AggregatesSnapshot, FlowKey, SectorKey


class StoredRegistryCounts:
    """Scans (a background job a few times a day: fine on FerretDB too)."""

    def __init__(self, store: DocumentStore) -> None:
        self._workers = store.collection("workers")
        self._episodes = store.collection("migration_episodes")

    def migration_flows(self) -> dict[FlowKey, int]:
        workers: dict[FlowKey, set[str]] = {}
        for doc in self._episodes.scan(fields=["worker_id", "origin", "destination"]):
            origin, destination = doc.get("origin") or {}, doc.get("destination") or {}
            if not destination:
                continue  # abroad: no district to count
            key = (
                origin.get("state_code", ""),
                origin.get("district_code", ""),
                destination.get("state_code", ""),
                destination.get("district_code", ""),
            )
            workers.setdefault(key, set()).add(str(doc["worker_id"]))
        return {key: len(ids) for key, ids in workers.items()}

    def workers_by_sector(self) -> dict[SectorKey, int]:
        counts: dict[SectorKey, int] = {}
        for doc in self._workers.scan({"status": WorkerStatus.ACTIVE.value}, fields=["home", "sector", "foreign"]):
            if doc.get("foreign"):
                continue
            home = doc.get("home") or {}
            key = (home.get("state_code", ""), home.get("district_code", ""), doc.get("sector") or "unknown")
            counts[key] = counts.get(key, 0) + 1
        return counts


def aggregates_message(snapshot: AggregatesSnapshot) -> federation_pb2.AggregatesPublished:
    return federation_pb2.AggregatesPublished(
        home_state_code=snapshot.home_state_code,
        aggregates_id=snapshot.aggregates_id,
        period_start=timestamp(snapshot.period_start),
        period_end=timestamp(snapshot.period_end),
        min_cell_size=snapshot.min_cell_size,
        migration_flows=[
            federation_pb2.MigrationFlowCell(
                origin_state_code=c.key[0],
                origin_district_code=c.key[1],
                destination_state_code=c.key[2],
                destination_district_code=c.key[3],
                count=c.count,
                suppressed=c.suppressed,
            )
            for c in snapshot.migration_flows
        ],
        sectors=[
            federation_pb2.SectorCell(
                state_code=c.key[0], district_code=c.key[1], sector=c.key[2], count=c.count, suppressed=c.suppressed
            )
            for c in snapshot.sectors
        ],
        published_at=timestamp(snapshot.published_at),
    )


class StoredAggregatesOutbox:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def publish(self, snapshot: AggregatesSnapshot) -> None:
        event = aggregates_event(aggregates_message(snapshot))
        state: dict[str, Any] = {
            "home_state_code": snapshot.home_state_code,
            "period_start": snapshot.period_start,
            "published_at": snapshot.published_at,
            "cells": len(snapshot.migration_flows) + len(snapshot.sectors),
        }
        store_aggregates(self._store, snapshot.aggregates_id, state, event)
