"""Condition expressions in CEL (Common Expression Language), compiled and type-checked once, evaluated often.

The engine is Google's CEL C++ runtime through `cel-expr-python` (see `bench/cel_engines.py` for the
comparison with the other maintained Python implementations). CEL is not Python: an expression can only
read the facts it is given and call CEL's own functions; it has no I/O, no loops beyond bounded
comprehensions over given lists, and always terminates. Nothing here ever runs Python's `eval`.

Each expression is checked twice when compiled: against only the facts its condition says it reads (so a
condition's `reads` list is exactly what it uses, and what `unknown` outcomes name), and as a boolean.
A fact we do not hold is left out of the activation: reading it is an error, which CEL's `&&` and `||`
absorb only when the other side decides (`false && x`, `x || true`); otherwise the condition is unknown.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel  # type: ignore[import-untyped]  # ships .pyi files without py.typed

from mrc_entitlements.domain.facts import FACTS, FactType

MAX_EXPRESSION_LENGTH = 2000


class ExpressionError(ValueError):
    """The expression cannot be compiled: syntax, an undeclared fact, a type mismatch, not a boolean."""


def _cel_type(fact_type: FactType) -> Any:
    match fact_type:
        case FactType.INT:
            return cel.Type.INT
        case FactType.BOOL:
            return cel.Type.BOOL
        case FactType.STRING:
            return cel.Type.STRING
        case FactType.STRING_LIST:
            return cel.Type.List(cel.Type.STRING)


@functools.cache
def _environment(fact_names: frozenset[str]) -> Any:
    return cel.NewEnv(variables={name: _cel_type(FACTS[name].type) for name in sorted(fact_names)})


def _full_environment() -> Any:
    return _environment(frozenset(FACTS))


def _first_line(error: Exception) -> str:
    message = str(error).strip()
    for prefix in ("INVALID_ARGUMENT: ", "ERROR: <input>:"):
        message = message.removeprefix(prefix)
    return message.splitlines()[0] if message else type(error).__name__


@dataclass(frozen=True, eq=False)
class CompiledExpression:
    source: str
    reads: frozenset[str]
    _program: Any

    def __copy__(self) -> CompiledExpression:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> CompiledExpression:
        return self  # immutable, and the engine's program cannot be copied

    def evaluate(self, activation: Activation) -> bool | None:
        """True or False, or None when the facts given cannot decide it (a fact it needs is unknown)."""
        result = self._program.eval(activation.native)
        value = result.value()
        return value if isinstance(value, bool) else None


@dataclass(frozen=True, eq=False)
class Activation:
    """A facts snapshot bound once for the engine, then shared by every condition evaluated against it."""

    native: Any


def activation(values: Mapping[str, object]) -> Activation:
    return Activation(_full_environment().Activation(dict(values)))


def compile_expression(source: str, reads: Iterable[str]) -> CompiledExpression:
    """The compiled boolean expression, or ExpressionError saying what is wrong with it."""
    declared = frozenset(reads)
    if not source.strip():
        raise ExpressionError("must not be empty")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"must be at most {MAX_EXPRESSION_LENGTH} characters")
    unknown = sorted(declared - FACTS.keys())
    if unknown:
        raise ExpressionError(f"reads facts that are not in the vocabulary: {', '.join(unknown)}")
    try:
        checked = _environment(declared).compile(source)
    except RuntimeError as error:
        raise ExpressionError(
            f"{_first_line(error)} (the expression may read only the facts its condition lists)"
        ) from error
    if checked.return_type() != cel.Type.BOOL:
        raise ExpressionError(f"must be a boolean expression, not {checked.return_type().name()}")
    try:
        program = _full_environment().compile(source)
    except RuntimeError as error:  # pragma: no cover - the narrower environment accepted it
        raise ExpressionError(_first_line(error)) from error
    return CompiledExpression(source=source, reads=declared, _program=program)
