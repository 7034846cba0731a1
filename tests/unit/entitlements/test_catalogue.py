"""Rule versions over the API: drafted, published (with a re-evaluation job), retired; jobs resume and supersede."""

from __future__ import annotations

import pytest

from mrc.entitlements.v1 import events_pb2 as ent_events
from mrc_entitlements.domain.reevaluation import JobStatus
from mrc_entitlements.domain.rules import ConditionSpec
from mrc_entitlements.domain.schemes import RuleStatus, SchemeKind
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from tests.unit.entitlements.fakes import World, caseworker, operator, registered

ANY_AGE_CONSTRUCTION = [
    ConditionSpec("adult", "age >= 18", "Aged 18 or more", ("age",)),
    ConditionSpec("construction", "sector == 'construction'", "Works in construction", ("sector",)),
]


def _finish_jobs(world: World) -> None:
    for job in world.service.jobs.unfinished():
        world.service.runner.run_to_completion(job.job_id)


def test_the_starter_catalogue_is_seeded_once_with_published_rules() -> None:
    world = World()
    schemes = world.service.catalogue.schemes(caseworker())
    assert len(schemes) == 9
    assert all(s.published_rule is not None and s.published_rule.version == 1 for s in schemes)
    assert world.service.catalogue.seed([]) == 0
    states = world.service.catalogue.schemes(caseworker(), kind=SchemeKind.STATE, state_code="32")
    assert [s.code for s in states] == ["kerala-aawaz"]


def test_an_unknown_scheme_is_not_found() -> None:
    with pytest.raises(NotFound):
        World().service.catalogue.get("no-such-scheme", caseworker())


def test_only_operators_draft_publish_and_retire() -> None:
    world = World()
    with pytest.raises(PermissionDenied):
        world.service.catalogue.draft(
            "bocw-welfare-board", ANY_AGE_CONSTRUCTION, note="", expected_version=0, caller=caseworker()
        )


def test_a_bad_condition_is_refused_naming_the_field() -> None:
    world = World()
    bad = [ConditionSpec("adult", "age >= 'x'", "Aged", ("age",))]
    with pytest.raises(InvalidArgument) as refused:
        world.service.catalogue.draft("bocw-welfare-board", bad, note="", expected_version=0, caller=operator())
    assert refused.value.violations[0].field == "conditions.0.expression"


def test_publishing_re_evaluates_every_consenting_worker_and_completes_the_job() -> None:
    world = World()
    world.deliver(registered(), registered(worker_id="w-2", sector="agriculture"))
    _finish_jobs(world)
    assert world.outcomes()["bocw-welfare-board"] == "undetermined"
    world.clear_outboxes()
    rule, _ = world.service.catalogue.draft(
        "bocw-welfare-board", ANY_AGE_CONSTRUCTION, note="test", expected_version=0, caller=operator()
    )
    assert rule.status is RuleStatus.DRAFT
    publication = world.service.catalogue.publish(
        "bocw-welfare-board", rule.version, expected_version=0, caller=operator()
    )
    assert publication.job.job_id == "bocw-welfare-board.v2" and publication.job.status is JobStatus.PENDING
    job = world.service.runner.run_to_completion(publication.job.job_id)
    # Both changed: one outcome, and the other's conditions (another rule, other conditions).
    assert job.status is JobStatus.COMPLETED and job.total == job.processed == 2 and job.changed == 2
    assert world.outcomes()["bocw-welfare-board"] == "eligible"
    assert world.outcomes("w-2")["bocw-welfare-board"] == "not_eligible"
    catalogue_events = world.messages("schemes", (ent_events.RuleVersionPublished,)) + world.messages(
        "reevaluation_jobs", (ent_events.ReevaluationCompleted,)
    )
    assert [type(m).__name__ for m in catalogue_events] == ["RuleVersionPublished", "ReevaluationCompleted"]
    assert catalogue_events[0].job_id == job.job_id
    assert any(c.action.value == "update" and c.resource_type == "rule_version" for c in world.audit.events)
    # Publishing again is a retry: the same job, no second one.
    again = world.service.catalogue.publish("bocw-welfare-board", rule.version, expected_version=0, caller=operator())
    assert again.replayed and again.job.job_id == job.job_id


def test_a_job_resumes_after_its_last_batch_and_skips_workers_already_current() -> None:
    world = World()
    world.service.runner._batch_size = 2
    world.deliver(*(registered(worker_id=f"w-{i}") for i in range(5)))
    _finish_jobs(world)
    rule, _ = world.service.catalogue.draft(
        "bocw-welfare-board", ANY_AGE_CONSTRUCTION, note="", expected_version=0, caller=operator()
    )
    publication = world.service.catalogue.publish(
        "bocw-welfare-board", rule.version, expected_version=0, caller=operator()
    )
    job = world.service.runner.run_batch(publication.job)
    assert job.status is JobStatus.RUNNING and job.processed == 2 and job.cursor == "w-1"
    # A crash: the job is read again from the store and goes on after its cursor.
    stored = world.service.jobs.get(job.job_id)
    assert stored is not None
    finished = world.service.runner.run_to_completion(stored.job_id)
    assert finished.status is JobStatus.COMPLETED and finished.processed == 5 and finished.changed == 5


def test_a_newer_publication_supersedes_an_unfinished_job() -> None:
    world = World()
    world.deliver(registered())
    _finish_jobs(world)
    first, _ = world.service.catalogue.draft(
        "bocw-welfare-board", ANY_AGE_CONSTRUCTION, note="", expected_version=0, caller=operator()
    )
    job = world.service.catalogue.publish(
        "bocw-welfare-board", first.version, expected_version=0, caller=operator()
    ).job
    second, _ = world.service.catalogue.draft(
        "bocw-welfare-board", ANY_AGE_CONSTRUCTION[:1], note="", expected_version=0, caller=operator()
    )
    world.service.catalogue.publish("bocw-welfare-board", second.version, expected_version=0, caller=operator())
    assert world.service.runner.run_batch(job).status is JobStatus.SUPERSEDED


def test_a_stale_expected_version_is_a_conflict() -> None:
    world = World()
    with pytest.raises(Conflict):
        world.service.catalogue.draft("pmsby", ANY_AGE_CONSTRUCTION, note="", expected_version=99, caller=operator())


def test_a_retired_rule_drops_its_determinations_at_the_next_assessment() -> None:
    world = World()
    world.deliver(registered())
    scheme = world.service.catalogue.get("pmsby", operator())
    world.service.catalogue.retire("pmsby", 1, expected_version=scheme.version, caller=operator())
    world.deliver(registered(version=2, birth_year=1990))
    assert "pmsby" not in world.outcomes()


def test_a_published_version_without_a_job_gets_one() -> None:
    world = World()
    started = world.service.catalogue.ensure_jobs()
    assert len(started) == 9
    assert world.service.catalogue.ensure_jobs() == []
