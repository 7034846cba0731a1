"""Deduplication lookup at scale, on the registry's own collections.

Workers are loaded straight into ``mrc_registry.workers`` (with the registry's indexes) through pymongo
in batches of 1,000, shaped as the registry stores them; the registry's key -> worker ids collection
``workers__match_keys`` (``{_id: key, ids: [...]}``, every stored match key, as the store's
FerretDB key index keeps it for ``StoredWorkers``) is rebuilt from them at each checkpoint (10k, 100k, 1M workers).
Then, for up to 200 probes (the dedup keys of randomly chosen loaded workers), it times:

* **scan**: the candidate query the registry used before it had ``workers__match_keys``,
  ``{"match_keys": {"$in": keys}, "status": "active"}`` limit 50 on ``workers``, read to the end.
  FerretDB 1.24 on SQLite pushes down only ``_id`` equality, so this reads the whole collection;
* **side _id**: the same keys looked up one ``_id`` equality each in ``workers__match_keys``;
* **registry find_candidates**: ``StoredWorkers.find_candidates`` itself (those lookups, then
  each candidate worker, at most 50, read by ``_id`` and decoded): all a registration reads before scoring;
* **match-key write**: ``StoredWorkers``'s per-registration update of ``workers__match_keys``
  (one ``$addToSet`` upsert per key) for 50 new synthetic workers, against the collection at that size.

Each phase loads for at most ``budget`` seconds and then looks up for at most ``budget`` seconds (the
rebuild may take twice that); a phase that runs out of time reports what it reached, and the larger
checkpoints are then skipped.
"""

from __future__ import annotations

import contextlib
import queue
import random
import sqlite3
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bson
from pymongo import MongoClient
from pymongo.collection import Collection

from bench.report import Report, log, percentile
from bench.synthetic import Population
from bench.worker_docs import (
    CANDIDATE_PROJECTION,
    REGISTRY_DATABASE,
    WORKERS_COLLECTION,
    check_keys,
    registry_document,
)
from mrc_plumbing.store.ferretdb import MAX_IDS_PER_KEY as MAX_WORKERS_PER_KEY

if TYPE_CHECKING:
    from mrc_plumbing.store import KeyIndex
    from mrc_registry.adapters.mongo_repository import StoredWorkers

SECTION = "dedup lookup"
SIDE_COLLECTION = "workers__match_keys"  # the FerretDB strategy's key index of workers.match_keys
BATCH = 1000
PROBES = 200
WRITE_SAMPLES = 50
CANDIDATE_LIMIT = 50
CHECKPOINTS = (10_000, 100_000, 1_000_000)
# The old scan query reads the whole collection (about 6 s at 10k, 12 s at 20k workers on FerretDB):
# it is timed up to this size only, so that the large checkpoints measure the registry's own lookups.
SCAN_MAX_WORKERS = 20_000
SCAN_BUDGET_SECONDS = 60.0
NAME_KEY_PREFIX = "name:"  # stored for search; not used to look up dedup candidates


@dataclass(frozen=True)
class Probe:
    worker_id: str
    keys: tuple[str, ...]  # the dedup (blocking) keys


def checkpoints(total: int) -> list[int]:
    return [c for c in CHECKPOINTS if c < total] + [total]


def _label(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1_000 and count % 1_000 == 0:
        return f"{count // 1_000}k"
    return f"{count:,}"


def registry_repository(mongo_uri: str) -> tuple[StoredWorkers, KeyIndex]:
    """The registry's own repository and its key index, on the store opened as the registry process opens it
    (with the indexes the registry creates on this store)."""
    from mrc_plumbing.settings import InfraSettings
    from mrc_plumbing.store.wiring import open_store
    from mrc_registry.adapters.mongo_repository import MATCH_KEYS_FIELD, StoredWorkers

    store = open_store(InfraSettings(mongo_uri=mongo_uri), REGISTRY_DATABASE)
    repository = StoredWorkers(store)
    repository.ensure_indexes()
    return repository, store.key_index(WORKERS_COLLECTION, MATCH_KEYS_FIELD)


def pushdown_indexes(sqlite_file: Path) -> dict[str, bool]:
    """Per collection, whether the dev stack's FerretDB built its ``_id`` pushdown index (read-only peek)."""
    if not sqlite_file.is_file():
        return {}
    with contextlib.closing(sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True, timeout=5)) as db:
        tables = db.execute("SELECT name, table_name FROM _ferretdb_collections").fetchall()
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return {name: f"{table}__id_pushdown" in indexes for name, table in tables}


def wait_for_pushdown_indexes(sqlite_file: Path, names: tuple[str, ...], timeout: float = 15.0) -> dict[str, bool]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = pushdown_indexes(sqlite_file)
        except sqlite3.Error:
            found = {}
        if all(found.get(n) for n in names) or time.monotonic() > deadline:
            return {n: bool(found.get(n)) for n in names}
        time.sleep(0.5)


class Loader:
    """Loads workers, remembering each one's match keys (for ``workers__match_keys``) and a probe sample."""

    def __init__(self, collection: Collection[Any], partner_id: str, seed: int = 5) -> None:
        self.collection = collection
        self.partner_id = partner_id
        self.population = Population(seed=seed)
        self.random = random.Random(seed)
        self.side: defaultdict[str, list[str]] = defaultdict(list)
        self.probes: list[Probe] = []
        self.seen = 0  # active workers offered to the probe reservoir
        self.count = 0  # workers in the collection
        self.failure: BaseException | None = None

    def _remember(self, worker_id: str, match_keys: list[str], active: bool = True) -> None:
        for key in match_keys:
            self.side[key].append(worker_id)
        if not active:
            return
        self.seen += 1
        probe = Probe(worker_id, tuple(k for k in match_keys if not k.startswith(NAME_KEY_PREFIX)))
        if len(self.probes) < PROBES:
            self.probes.append(probe)
        else:
            slot = self.random.randrange(self.seen)
            if slot < PROBES:
                self.probes[slot] = probe

    def adopt_existing(self) -> None:
        """Workers already in the collection (registered through REST or imported) keep their keys."""
        for doc in self.collection.find({}, {"match_keys": 1, "status": 1}):
            self._remember(doc["_id"], list(doc.get("match_keys") or []), doc.get("status") == "active")
        self.count = self.collection.count_documents({})

    def new_document(self) -> dict[str, Any]:
        return registry_document(self.population.person(), self.population, self.partner_id, datetime.now(UTC))

    def _batches(self, count: int, out: queue.Queue[list[dict[str, Any]] | None], stop: threading.Event) -> None:
        """Make documents in a thread while the main thread inserts; None marks the end (or a failure)."""
        now = datetime.now(UTC)
        made = 0
        try:
            while made < count and not stop.is_set():
                size = min(BATCH, count - made)
                people = (self.population.person() for _ in range(size))
                out.put([registry_document(p, self.population, self.partner_id, now) for p in people])
                made += size
        except BaseException as e:
            self.failure = e
        finally:
            out.put(None)

    def load_to(self, target: int, deadline: float) -> tuple[int, float]:
        """Insert workers until the collection holds ``target`` or time runs out: (inserted, seconds)."""
        wanted = max(0, target - self.count)
        if not wanted:
            return 0, 0.0
        batches: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(maxsize=4)
        stop = threading.Event()
        maker = threading.Thread(target=self._batches, args=(wanted, batches, stop), daemon=True)
        began = time.perf_counter()
        maker.start()
        inserted = 0
        last_log = began
        finished = False
        try:
            while True:
                batch = batches.get()
                if batch is None:
                    finished = True
                    if self.failure is not None:
                        raise RuntimeError("making worker documents failed") from self.failure
                    break
                self.collection.insert_many(batch, ordered=False)
                inserted += len(batch)
                self.count += len(batch)
                for doc in batch:
                    if self.seen % 997 == 0:
                        name = doc["latin_name"] or doc["full_name"]
                        check_keys(name, doc["home"]["district_code"], doc["birth_year"], doc["phone_index"])
                    self._remember(doc["_id"], doc["match_keys"])
                if time.perf_counter() - last_log > 30:
                    last_log = time.perf_counter()
                    rate = inserted / (last_log - began)
                    log(f"dedup: {self.count:,} workers in the collection ({rate:,.0f} docs/s)")
                if time.perf_counter() > deadline:
                    break
        finally:
            stop.set()
            while not finished and maker.is_alive():  # let the maker finish
                with contextlib.suppress(queue.Empty):
                    finished = batches.get(timeout=1) is None
            maker.join(timeout=10)
        return inserted, time.perf_counter() - began

    def rebuild_side(self, side: Collection[Any], deadline: float) -> tuple[int, float]:
        """``workers__match_keys`` as the registry would hold it for the loaded workers: (keys written, seconds)."""
        side.drop()
        began = time.perf_counter()
        written = 0
        batch: list[dict[str, Any]] = []
        for key, ids in self.side.items():
            batch.append({"_id": key, "ids": ids[:MAX_WORKERS_PER_KEY]})  # the registry caps keys
            if len(batch) == BATCH:
                side.insert_many(batch, ordered=False)
                written += len(batch)
                batch = []
                if time.perf_counter() > deadline:
                    break
        else:
            if batch:
                side.insert_many(batch, ordered=False)
                written += len(batch)
        return written, time.perf_counter() - began

    def largest_key(self) -> tuple[str, int, int]:
        """The key shared by most workers: (key, workers sharing it, BSON bytes of its capped document)."""
        key, ids = max(self.side.items(), key=lambda item: len(item[1]))
        return key, len(ids), len(bson.encode({"_id": key, "ids": ids[:MAX_WORKERS_PER_KEY]}))


def _scan(collection: Collection[Any], probes: list[Probe], deadline: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    misses = 0
    for probe in probes:
        query = {"match_keys": {"$in": list(probe.keys)}, "status": "active"}
        start = time.perf_counter()
        found = list(collection.find(query, CANDIDATE_PROJECTION).limit(CANDIDATE_LIMIT))
        latencies.append(time.perf_counter() - start)
        misses += not any(doc["_id"] == probe.worker_id for doc in found) and len(found) < CANDIDATE_LIMIT
        if time.perf_counter() > deadline:
            break
    return latencies, misses


def _side_keys(side: Collection[Any], probes: list[Probe], deadline: float) -> list[float]:
    latencies: list[float] = []
    for probe in probes[:10]:  # warm-up
        side.find_one({"_id": probe.keys[0]})
    for probe in probes:
        start = time.perf_counter()
        for key in probe.keys:
            side.find_one({"_id": key})
        latencies.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return latencies


def _find_candidates(repository: StoredWorkers, probes: list[Probe], deadline: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    misses = 0
    for probe in probes:
        start = time.perf_counter()
        found = repository.find_candidates(set(probe.keys), limit=CANDIDATE_LIMIT)
        latencies.append(time.perf_counter() - start)
        misses += all(w.worker_id != probe.worker_id for w in found) and len(found) < CANDIDATE_LIMIT
        if time.perf_counter() > deadline:
            break
    return latencies, misses


def _match_key_writes(keys: KeyIndex, loader: Loader, deadline: float) -> list[float]:
    """The registry's write to ``workers__match_keys`` for new workers (not added to ``workers``)."""
    latencies: list[float] = []
    for _ in range(WRITE_SAMPLES):
        doc = loader.new_document()
        start = time.perf_counter()
        keys.added(doc["_id"], set(doc["match_keys"]))
        latencies.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return latencies


def run(
    mongo_uri: str,
    sqlite_dir: Path,
    partner_id: str,
    workers: int,
    budget: float,
    raw_insert_rate: float | None,
    report: Report,
) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        database = client[REGISTRY_DATABASE]
        collection = database[WORKERS_COLLECTION]
        side = database[SIDE_COLLECTION]
        repository, key_index = registry_repository(mongo_uri)
        loader = Loader(collection, partner_id)
        loader.adopt_existing()
        log(f"dedup: {loader.count:,} workers already in {REGISTRY_DATABASE}.{WORKERS_COLLECTION}")
        phases: list[dict[str, Any]] = []
        for target in checkpoints(workers):
            if loader.count > target:
                continue
            log(f"dedup: loading to {target:,} workers (at most {budget:.0f} s)")
            inserted, seconds = loader.load_to(target, time.perf_counter() + budget)
            reached = loader.count
            label = _label(reached)
            load_rate = inserted / seconds if seconds else None
            short = reached < target
            note = f"{inserted:,} inserted in {seconds:.0f} s, workers__match_keys not maintained" + (
                f"; time cap: {target:,} not reached" if short else ""
            )
            report.add(SECTION, f"load to {label}", load_rate, "docs/s", note)
            if load_rate is not None:
                report.add_ratio(SECTION, f"load to {label} vs raw", load_rate, raw_insert_rate, "raw insert_many")
            log(f"dedup: rebuilding {SIDE_COLLECTION} from {len(loader.side):,} keys")
            side_docs, side_seconds = loader.rebuild_side(side, time.perf_counter() + 2 * budget)
            indexed = wait_for_pushdown_indexes(
                sqlite_dir / f"{REGISTRY_DATABASE}.sqlite", (WORKERS_COLLECTION, SIDE_COLLECTION)
            )
            if not all(indexed.values()):
                log(f"dedup: WARNING _id pushdown index missing: {indexed}")
            hot_key, hot_ids, hot_bytes = loader.largest_key()
            report.add(
                SECTION,
                f"largest match key @{label}",
                hot_ids,
                "workers",
                f"{hot_key}: stores the first {min(hot_ids, MAX_WORKERS_PER_KEY):,}, {hot_bytes / 1024:,.0f} KiB",
            )
            probes = list(loader.probes)
            random.Random(reached).shuffle(probes)
            scan: list[float] = []
            scan_misses = 0
            if reached <= SCAN_MAX_WORKERS:
                scan_budget = min(budget, SCAN_BUDGET_SECONDS)
                log(f"dedup: {len(probes)} scan lookups at {reached:,} workers (at most {scan_budget:.0f} s)")
                scan, scan_misses = _scan(collection, probes, time.perf_counter() + scan_budget)
                scan_note = f"old query, of {len(probes)} probes" + ("; time cap" if len(scan) < len(probes) else "")
                report.add_latencies(SECTION, f"scan $in on workers @{label}", scan, scan_note)
            log(f"dedup: {SIDE_COLLECTION} lookups at {reached:,} workers")
            keys_only = _side_keys(side, probes, time.perf_counter() + budget)
            side_note = f"{SIDE_COLLECTION}: {side_docs:,} keys"
            report.add_latencies(SECTION, f"side _id lookups @{label}", keys_only, side_note)
            found, found_misses = _find_candidates(repository, probes, time.perf_counter() + budget)
            report.add_latencies(SECTION, f"registry find_candidates @{label}", found, "keys + up to 50 workers")
            writes = _match_key_writes(key_index, loader, time.perf_counter() + budget)
            report.add_latencies(SECTION, f"match-key write @{label}", writes, "one new worker's keys")
            phases.append(
                {
                    "target": target,
                    "workers": reached,
                    "inserted": inserted,
                    "load_seconds": seconds,
                    "side_keys": side_docs,
                    "side_build_seconds": side_seconds,
                    "id_pushdown_indexes": indexed,
                    "largest_key": {"key": hot_key, "ids": hot_ids, "bson_bytes": hot_bytes},
                    "scan_lookups": len(scan),
                    "scan_p50_ms": percentile(scan, 50) * 1000,
                    "scan_p99_ms": percentile(scan, 99) * 1000,
                    "scan_probe_not_found": scan_misses,
                    "side_lookups": len(keys_only),
                    "side_p50_ms": percentile(keys_only, 50) * 1000,
                    "side_p99_ms": percentile(keys_only, 99) * 1000,
                    "find_candidates_lookups": len(found),
                    "find_candidates_p50_ms": percentile(found, 50) * 1000,
                    "find_candidates_p99_ms": percentile(found, 99) * 1000,
                    "find_candidates_probe_not_found": found_misses,
                    "match_key_write_p50_ms": percentile(writes, 50) * 1000,
                    "match_key_write_p99_ms": percentile(writes, 99) * 1000,
                }
            )
            report.details["dedup"] = phases
            if scan_misses or found_misses:
                log(f"dedup: WARNING probes not found among candidates: scan {scan_misses}, registry {found_misses}")
            if short:
                log("dedup: load time cap reached; skipping larger checkpoints")
                break
    finally:
        client.close()
