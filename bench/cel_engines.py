"""The maintained Python CEL implementations, compared on the expressions our eligibility rules need.

    uv run python -m bench.cel_engines [--seconds 2] [--workers 2000]

The engine the entitlements service ships with (cel-expr-python) is a dependency of the service; to
measure the others too, add them to this one run (nothing is installed into the workspace):

    uv run --with cel-python --with common-expression-language --with celparser python -m bench.cel_engines

Two parts, one line per engine each:
- correctness: every case below (ints, strings, `in` over lists, `has()` on maps, `&&`/`||`, comparisons,
  comprehensions, timestamps) and CEL's error semantics, which the rules engine relies on: a fact we do not
  hold is left out of the activation, so the expression reading it fails (the condition is `unknown`),
  except where `&&`/`||` decide without it (`false && x`, `x || true`), as the CEL spec says they must,
  in either order;
- speed, on one core: conditions evaluated per second over realistic activations (a worker's facts), and
  rule evaluations per second (one rule = one scheme's conditions, 4 on average, against one worker), with
  a compiled program per condition and one activation per worker reused by all its conditions. The
  target is 20,000 rule evaluations per second per core.
No engine ever runs Python `eval`; all are sandboxed interpreters of the CEL grammar.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TARGET_RULES_PER_SECOND = 20_000

# The facts a rule may read, with their CEL types (as the entitlements fact vocabulary declares them).
FACT_TYPES: dict[str, str] = {
    "age": "int",
    "birth_year": "int",
    "gender": "string",
    "sector": "string",
    "occupation": "string",
    "home_state": "string",
    "home_district": "string",
    "documents": "list<string>",
    "vulnerabilities": "list<string>",
    "migration_status": "string",
    "destination_state": "string",
    "destination_district": "string",
    "household_size": "int",
    "household_has_ration_card": "bool",
    "ration_card_state": "string",
    "income_tax_payer": "bool",
    "epfo_member": "bool",
    "esic_member": "bool",
    "nps_member": "bool",
    "monthly_income": "int",
    "bank_account": "bool",
    "construction_days_last_12_months": "int",
    "secc_listed": "bool",
    "extra": "map<string,int>",
    "registered_at": "timestamp",
}

Expected = bool | None  # None: the evaluation must fail (an unknown fact decides it)


@dataclass(frozen=True)
class Case:
    name: str
    expression: str
    activation: Mapping[str, Any]
    expected: Expected


_WORKER: dict[str, Any] = {
    "age": 30,
    "gender": "female",
    "sector": "construction",
    "home_state": "10",
    "documents": ["aadhaar", "voter_id"],
    "vulnerabilities": ["single_woman"],
    "migration_status": "ongoing",
    "destination_state": "32",
    "household_size": 5,
    "extra": {"x": 1},
    "registered_at": datetime(2026, 3, 1, tzinfo=UTC),
}

CASES: tuple[Case, ...] = (
    Case("int range", "age >= 18 && age <= 40", _WORKER, True),
    Case("int range fails", "age >= 41 && age <= 60", _WORKER, False),
    Case("string equality", "sector == 'construction'", _WORKER, True),
    Case("string inequality", "destination_state != home_state", _WORKER, True),
    Case("in list", "'aadhaar' in documents", _WORKER, True),
    Case("not in list", "!('e_shram_uan' in documents)", _WORKER, True),
    Case("value in literal list", "sector in ['construction', 'brick_kiln']", _WORKER, True),
    Case("has() on a map", "has(extra.x) && !has(extra.y)", _WORKER, True),
    Case("size()", "size(vulnerabilities) == 1", _WORKER, True),
    Case("exists()", "vulnerabilities.exists(v, v in ['single_woman', 'disability'])", _WORKER, True),
    Case("all()", "documents.all(d, d != 'pan')", _WORKER, True),
    Case("ternary", "(household_size > 4 ? 'large' : 'small') == 'large'", _WORKER, True),
    Case("string function", "sector.startsWith('constr')", _WORKER, True),
    Case("timestamp compare", "registered_at < timestamp('2026-06-01T00:00:00Z')", _WORKER, True),
    # A fact we do not hold is absent: only `&&`/`||` may decide without it, in either order.
    Case("unknown fact alone", "monthly_income <= 15000", _WORKER, None),
    Case("unknown || true", "secc_listed || age >= 18", _WORKER, True),
    Case("true || unknown", "age >= 18 || secc_listed", _WORKER, True),
    Case("unknown && false", "secc_listed && age >= 70", _WORKER, False),
    Case("false && unknown", "age >= 70 && secc_listed", _WORKER, False),
    Case("unknown || false", "secc_listed || age >= 70", _WORKER, None),
    Case("true && unknown", "age >= 18 && !epfo_member", _WORKER, None),
    Case("unknown in a comparison", "construction_days_last_12_months >= 90", _WORKER, None),
    Case("integer overflow is an error", "age * 9223372036854775807 > 0", _WORKER, None),
    # A rule comparing a string fact with a number is a mistake: refused, not silently false (not eligible).
    Case("type mismatch is caught, not silently false", "home_state == 10", _WORKER, None),
)

# A realistic rule set: the shapes of the shipped catalogue's conditions, grouped into rules.
RULES: tuple[tuple[str, ...], ...] = (
    ("age >= 16 && age <= 59", "!income_tax_payer", "!epfo_member && !esic_member", "!('e_shram_uan' in documents)"),
    ("age >= 18 && age < 60", "sector == 'construction'", "construction_days_last_12_months >= 90"),
    (
        "household_has_ration_card",
        "'aadhaar' in documents",
        "migration_status == 'ongoing' && destination_state != ration_card_state",
    ),
    ("age >= 70 || secc_listed",),
    ("age >= 18 && age <= 40", "monthly_income <= 15000", "!epfo_member && !esic_member && !nps_member"),
    ("age >= 18 && age <= 50", "bank_account"),
    ("age >= 18 && age <= 70", "bank_account"),
    ("home_state == '10'", "migration_status == 'ongoing' && destination_state != '10'", "age >= 18 && age <= 60"),
    (
        "home_state != '32'",
        "migration_status == 'ongoing' && destination_state == '32'",
        "age >= 18 && age <= 60",
        "sector in ['construction', 'hospitality', 'manufacturing', 'fisheries', 'other']",
    ),
)

_STATES = ("10", "20", "21", "19", "9", "32", "27", "33", "7", "24")
_SECTORS = ("construction", "agriculture", "brick_kiln", "domestic_work", "manufacturing", "hospitality")
_DOCUMENTS = ("aadhaar", "e_shram_uan", "ration_card", "voter_id", "job_card", "pan")


def synthetic_workers(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Facts as the registry's events give them: facts we do not hold are simply absent."""
    rng = random.Random(seed)
    workers = []
    for _ in range(count):
        home = rng.choice(_STATES)
        worker: dict[str, Any] = {
            "age": rng.randint(14, 80),
            "gender": rng.choice(("female", "male")),
            "sector": rng.choice(_SECTORS),
            "home_state": home,
            "documents": rng.sample(_DOCUMENTS, rng.randint(0, 4)),
            "vulnerabilities": rng.sample(("single_woman", "disability", "elderly"), rng.randint(0, 1)),
            "migration_status": rng.choice(("none", "ongoing", "ongoing", "returned")),
        }
        if worker["migration_status"] == "ongoing":
            worker["destination_state"] = rng.choice(_STATES)
        if rng.random() < 0.7:
            worker["household_size"] = rng.randint(1, 9)
            worker["household_has_ration_card"] = rng.random() < 0.6
            if worker["household_has_ration_card"]:
                worker["ration_card_state"] = home
        workers.append(worker)
    return workers


# --- the engines ------------------------------------------------------------------------------------

Compiled = Callable[[Any], Expected]  # evaluates against a prepared activation


@dataclass
class Engine:
    name: str
    distribution: str
    prepare: Callable[[Mapping[str, Any]], Any]  # a worker's facts -> the engine's activation
    compile: Callable[[str], Compiled]

    @property
    def version(self) -> str:
        return importlib.metadata.version(self.distribution)


def _as_bool(value: Any) -> Expected:
    return value if isinstance(value, bool) else None


def _cel_expr_python() -> Engine:
    """Google's CEL C++ runtime (cel-expr org), with the facts declared and every expression type-checked."""
    from cel_expr_python import cel

    cel_types = {
        "int": cel.Type.INT,
        "string": cel.Type.STRING,
        "bool": cel.Type.BOOL,
        "timestamp": cel.Type.TIMESTAMP,
        "list<string>": cel.Type.List(cel.Type.STRING),
        "map<string,int>": cel.Type.Map(cel.Type.STRING, cel.Type.INT),
    }
    env = cel.NewEnv(variables={name: cel_types[kind] for name, kind in FACT_TYPES.items()})

    def compile_(source: str) -> Compiled:
        try:
            expression = env.compile(source)
        except Exception:  # a type error is found when compiling: it can never succeed
            return lambda _activation: None

        def run(activation: Any) -> Expected:
            try:
                result = expression.eval(activation)
            except Exception:
                return None
            return _as_bool(result.value())

        return run

    return Engine("cel-expr-python (C++)", "cel-expr-python", env.Activation, compile_)


def _common_expression_language() -> Engine:
    """Rust `cel` crate bindings (hardbyte): dynamic types, no type checking."""
    import cel

    def compile_(source: str) -> Compiled:
        program = cel.compile(source)

        def run(activation: Any) -> Expected:
            try:
                return _as_bool(program.execute(activation))
            except Exception:
                return None

        return run

    return Engine("common-expression-language (Rust)", "common-expression-language", cel.Context, compile_)


def _cel_python() -> Engine:
    """cloud-custodian's celpy: pure Python (lark parser), dynamic types."""
    import logging

    import celpy

    logging.getLogger("celpy").setLevel(logging.WARNING)
    env = celpy.Environment()

    def prepare(facts: Mapping[str, Any]) -> Any:
        converted = {}
        for name, value in facts.items():
            if isinstance(value, datetime):
                converted[name] = celpy.celtypes.TimestampType(value)
            else:
                converted[name] = celpy.json_to_cel(value)
        return converted

    def compile_(source: str) -> Compiled:
        program = env.program(env.compile(source))

        def run(activation: Any) -> Expected:
            try:
                result = program.evaluate(activation)
            except Exception:
                return None
            return bool(result) if isinstance(result, celpy.celtypes.BoolType) else None

        return run

    return Engine("cel-python / celpy (pure Python)", "cel-python", prepare, compile_)


def _celparser() -> Engine:
    """celparser: a small pure-Python parser and tree-walking evaluator."""
    import celparser

    def compile_(source: str) -> Compiled:
        program = celparser.compile(source, allow_undeclared_vars=False)

        def run(activation: Any) -> Expected:
            try:
                return _as_bool(program(activation))
            except Exception:
                return None

        return run

    return Engine("celparser (pure Python)", "celparser", dict, compile_)


ENGINES: tuple[Callable[[], Engine], ...] = (_cel_expr_python, _common_expression_language, _cel_python, _celparser)


# --- measuring --------------------------------------------------------------------------------------


def correctness(engine: Engine) -> list[str]:
    """The cases the engine gets wrong (empty: all right)."""
    wrong = []
    for case in CASES:
        try:
            got = engine.compile(case.expression)(engine.prepare(case.activation))
        except Exception as error:  # a compile failure of a valid expression
            wrong.append(f"{case.name}: raised {type(error).__name__}")
            continue
        if got != case.expected:
            wrong.append(f"{case.name}: {got!r}, expected {case.expected!r}")
    return wrong


@dataclass(frozen=True)
class Speed:
    conditions_per_second: float
    rules_per_second: float
    microseconds_per_condition: float


def speed(engine: Engine, workers: Sequence[Mapping[str, Any]], seconds: float) -> Speed:
    rules = [[engine.compile(source) for source in rule] for rule in RULES]
    conditions_per_worker = sum(len(rule) for rule in rules)
    evaluated_workers = 0
    started = time.process_time()
    deadline = started + seconds
    while time.process_time() < deadline:
        for facts in workers:
            activation = engine.prepare(facts)
            for rule in rules:
                for condition in rule:
                    condition(activation)
            evaluated_workers += 1
    elapsed = time.process_time() - started
    conditions = evaluated_workers * conditions_per_worker
    return Speed(
        conditions_per_second=conditions / elapsed,
        rules_per_second=evaluated_workers * len(rules) / elapsed,
        microseconds_per_condition=elapsed / conditions * 1e6,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU seconds of evaluation per engine")
    parser.add_argument("--workers", type=int, default=2000, help="synthetic workers (activations)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):  # one core, as the target is per core
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    workers = synthetic_workers(args.workers)
    conditions = sum(len(rule) for rule in RULES)
    print(f"{len(CASES)} correctness cases; {len(RULES)} rules of {conditions} conditions over {len(workers)} workers")
    print(f"target: {TARGET_RULES_PER_SECOND:,} rule evaluations/s/core (CPU time of this process, one core)\n")
    header = f"{'engine':36} {'version':9} {'correct':>8} {'conditions/s':>13} {'rules/s':>10} {'us/cond':>8}"
    print(header)
    print("-" * len(header))
    notes = []
    for factory in ENGINES:
        try:
            engine = factory()
        except ImportError as missing:
            print(
                f"{factory.__name__.strip('_').replace('_', '-'):36} not installed (module {missing.name}); see --help"
            )
            continue
        wrong = correctness(engine)
        try:
            measured = speed(engine, workers, args.seconds)
        except Exception as error:
            print(
                f"{engine.name:36} {engine.version:9} {len(CASES) - len(wrong):>4}/{len(CASES):<3} "
                f"cannot run the rule set: {type(error).__name__}"
            )
            notes += [f"  {engine.name}: {line}" for line in wrong]
            continue
        verdict = "ok" if measured.rules_per_second >= TARGET_RULES_PER_SECOND else "below target"
        print(
            f"{engine.name:36} {engine.version:9} {len(CASES) - len(wrong):>4}/{len(CASES):<3} "
            f"{measured.conditions_per_second:>13,.0f} {measured.rules_per_second:>10,.0f} "
            f"{measured.microseconds_per_condition:>8.1f}  {verdict}"
        )
        notes += [f"  {engine.name}: {line}" for line in wrong]
    if notes:
        print("\nwrong answers:")
        print("\n".join(notes))
    domain_speed(workers, args.seconds)


def domain_speed(workers: Sequence[Mapping[str, Any]], seconds: float) -> None:
    """The service's own evaluation: the shipped catalogue's published rules against facts snapshots,
    with the engine binding, the age open by a year (evaluated twice) and unknown facts included."""
    try:
        from mrc_entitlements.catalogue import starter_catalogue
        from mrc_entitlements.domain.determinations import determine
        from mrc_entitlements.domain.facts import FACTS, FactsSnapshot
    except ImportError:
        print("\nmrc_entitlements is not importable here: run with `uv run` from the repository")
        return
    now = datetime.now(UTC)
    rules = [rule for scheme in starter_catalogue(now) if (rule := scheme.published_rule) is not None]
    snapshots = []
    for facts in workers:
        values = {name: value for name, value in facts.items() if name in FACTS}
        values["interstate_migrant"] = facts.get("destination_state", facts["home_state"]) != facts["home_state"]
        snapshots.append(FactsSnapshot(values, (facts["age"] - 1, facts["age"])))
    evaluated = 0
    started = time.process_time()
    deadline = started + seconds
    while time.process_time() < deadline:
        for index, snapshot in enumerate(snapshots):
            determine(f"w-{index}", rules, snapshot, now)
            evaluated += 1
    elapsed = time.process_time() - started
    rate = evaluated * len(rules) / elapsed
    verdict = "ok" if rate >= TARGET_RULES_PER_SECOND else "below target"
    conditions = sum(len(rule.conditions) for rule in rules)
    print(
        f"\nentitlements domain (cel-expr-python), {len(rules)} shipped rules of {conditions} conditions: "
        f"{rate:,.0f} rule evaluations/s/core, {evaluated / elapsed:,.0f} workers/s  {verdict}"
    )


if __name__ == "__main__":
    main()
