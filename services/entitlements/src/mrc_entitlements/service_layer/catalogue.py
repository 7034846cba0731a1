"""Use cases on the scheme catalogue: read it, and draft, publish and retire rule versions over the API.

Publishing a rule version starts its re-evaluation job (`reevaluation`), named after the version
(`<scheme>.v<version>`), so a retried publication, or the runner finding a published version without a
job after a crash, never starts a second one. Operators change rules this way, never by editing code:
the shipped catalogue only seeds an empty store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mrc_entitlements.domain.reevaluation import ReevaluationJob
from mrc_entitlements.domain.rules import ConditionSpec
from mrc_entitlements.domain.schemes import RuleStatus, RuleVersion, Scheme, SchemeKind
from mrc_entitlements.service_layer.ports import AuditRecorder, JobRepository, SchemeRepository, WorkerRecordRepository
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import NotFound, PermissionDenied
from mrc_kernel.roles import Scope

RULE_RESOURCE = "rule_version"
# Whoever reads eligibility, aggregates or runs the cluster may read the (public) catalogue.
READ_SCOPES = (Scope.ELIGIBILITY_READ, Scope.AGGREGATES_READ, Scope.SCHEMES_ADMIN)
# Rule versions are an operator's work.
WRITE_SCOPE = Scope.SCHEMES_ADMIN


def job_id_of(scheme_code: str, version: int) -> str:
    return f"{scheme_code}.v{version}"


def require_any(caller: Caller, scopes: Sequence[Scope]) -> None:
    if not any(caller.has(scope) for scope in scopes):
        raise PermissionDenied(f"this operation needs one of the scopes {', '.join(s.value for s in scopes)}")


class PublishedRules:
    """The published rules, read again from the store at most every `ttl_seconds` (or when told to)."""

    def __init__(
        self, schemes: SchemeRepository, *, ttl_seconds: float = 2.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._schemes = schemes
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._rules: tuple[RuleVersion, ...] = ()
        self._read_at: float | None = None

    def current(self) -> tuple[RuleVersion, ...]:
        with self._lock:
            now = self._monotonic()
            if self._read_at is None or now - self._read_at >= self._ttl:
                self._load(now)
            return self._rules

    def refresh(self) -> tuple[RuleVersion, ...]:
        with self._lock:
            self._load(self._monotonic())
            return self._rules

    def _load(self, now: float) -> None:
        rules = [s.published_rule for s in self._schemes.all()]
        self._rules = tuple(sorted((r for r in rules if r is not None), key=lambda r: r.scheme_code))
        self._read_at = now


@dataclass(frozen=True)
class Publication:
    rule: RuleVersion
    job: ReevaluationJob
    replayed: bool


class CatalogueService:
    def __init__(
        self,
        schemes: SchemeRepository,
        jobs: JobRepository,
        records: WorkerRecordRepository,
        audit: AuditRecorder,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._schemes = schemes
        self._jobs = jobs
        self._records = records
        self._audit = audit
        self._clock = clock

    def seed(self, schemes: Sequence[Scheme]) -> int:
        """Store the shipped schemes that are not in the catalogue yet; how many were added."""
        return sum(self._schemes.add_if_absent(scheme) for scheme in schemes)

    def schemes(self, caller: Caller, *, kind: SchemeKind | None = None, state_code: str = "") -> list[Scheme]:
        require_any(caller, READ_SCOPES)
        found = []
        for scheme in sorted(self._schemes.all(), key=lambda s: s.code):
            if kind is not None and scheme.details.kind is not kind:
                continue
            if (
                state_code
                and scheme.details.kind is SchemeKind.STATE
                and scheme.details.administering_state != state_code
            ):
                continue
            found.append(scheme)
        return found

    def get(self, code: str, caller: Caller) -> Scheme:
        require_any(caller, READ_SCOPES)
        return self._scheme(code)

    def _scheme(self, code: str) -> Scheme:
        scheme = self._schemes.get(code)
        if scheme is None:
            raise NotFound("no such scheme")
        return scheme

    def draft(
        self, code: str, conditions: Sequence[ConditionSpec], *, note: str, expected_version: int, caller: Caller
    ) -> tuple[RuleVersion, Scheme]:
        caller.require(WRITE_SCOPE)
        scheme = self._scheme(code)
        started_from = scheme.version
        rule = scheme.draft_rule(
            conditions, note=note, by=caller.client_id, now=self._clock(), expected_version=expected_version
        )
        audit = self._audit.event(
            caller, Action.CREATE, RULE_RESOURCE, f"{code}/{rule.version}", ("conditions", "note")
        )
        self._schemes.save(scheme, started_from=started_from, job_ids={}, also_publish=[audit])
        return rule, scheme

    def publish(self, code: str, version: int, *, expected_version: int, caller: Caller) -> Publication:
        """Publish a draft and start its re-evaluation job. Publishing the published version again answers
        with it and its job (a retry), never a second job."""
        caller.require(WRITE_SCOPE)
        scheme = self._scheme(code)
        job_id = job_id_of(code, version)
        current = scheme.rule(version)
        if current.status is RuleStatus.PUBLISHED:
            job = self._jobs.get(job_id) or self._start_job(code, version)
            return Publication(current, job, replayed=True)
        now = self._clock()
        started_from = scheme.version
        rule = scheme.publish(version, by=caller.client_id, now=now, expected_version=expected_version)
        audit = self._audit.event(caller, Action.UPDATE, RULE_RESOURCE, f"{code}/{version}", ("status",))
        self._schemes.save(scheme, started_from=started_from, job_ids={(code, version): job_id}, also_publish=[audit])
        return Publication(rule, self._start_job(code, version), replayed=False)

    def _start_job(self, code: str, version: int) -> ReevaluationJob:
        job = ReevaluationJob.start(
            job_id=job_id_of(code, version),
            scheme_code=code,
            rule_version=version,
            total=0,  # counted by the runner when it starts the job: a count is a scan on FerretDB
            now=self._clock(),
        )
        if not self._jobs.add_if_absent(job):
            found = self._jobs.get(job.job_id)
            assert found is not None
            return found
        return job

    def retire(self, code: str, version: int, *, expected_version: int, caller: Caller) -> RuleVersion:
        caller.require(WRITE_SCOPE)
        scheme = self._scheme(code)
        started_from = scheme.version
        rule = scheme.retire(version, now=self._clock(), expected_version=expected_version)
        audit = self._audit.event(caller, Action.UPDATE, RULE_RESOURCE, f"{code}/{version}", ("status",))
        self._schemes.save(scheme, started_from=started_from, job_ids={}, also_publish=[audit])
        return rule

    def job(self, job_id: str, caller: Caller) -> ReevaluationJob:
        require_any(caller, READ_SCOPES)
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound("no such re-evaluation job")
        return job

    def ensure_jobs(self) -> list[str]:
        """A job for every published version that has none (publication interrupted before its job was stored)."""
        started = []
        for scheme in self._schemes.all():
            rule = scheme.published_rule
            if rule is not None and self._jobs.get(job_id_of(scheme.code, rule.version)) is None:
                started.append(self._start_job(scheme.code, rule.version).job_id)
        return started
