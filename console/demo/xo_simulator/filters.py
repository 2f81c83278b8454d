"""The part of XO's filter syntax (complex-matcher) that the fake XO understands.

A filter is whitespace-separated terms, all of which must match:
- `key:value`: a string property containing `value` (case-insensitive), a number equal to it, a boolean
  `true`/`false`, or an array with an element that matches;
- `key:>N`, `key:>=N`, `key:<N`, `key:<=N`: numeric comparisons;
- `key:length:>N` (and the other comparisons or a bare number): on an array's or string's length;
- `!term`: negation; a bare `word`: any string property contains it;
- `"quoted value"` for values with spaces.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_COMPARISON = re.compile(r"^(>=|<=|>|<)(-?\d+(?:\.\d+)?)$")


class FilterError(ValueError):
    """The filter string cannot be parsed."""


def _number_test(spec: str) -> Callable[[Any], bool] | None:
    match = _COMPARISON.match(spec)
    if match:
        op, bound = match.group(1), float(match.group(2))
        ops: dict[str, Callable[[float], bool]] = {
            ">": lambda x: x > bound, ">=": lambda x: x >= bound, "<": lambda x: x < bound, "<=": lambda x: x <= bound,
        }
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and ops[op](v)
    return None


def _value_test(spec: str) -> Callable[[Any], bool]:
    number = _number_test(spec)
    if number is not None:
        return number
    lowered = spec.lower()

    def test(value: Any) -> bool:
        if isinstance(value, list):
            return any(test(item) for item in value)
        if isinstance(value, bool):
            return lowered == str(value).lower()
        if isinstance(value, int | float):
            try:
                return float(spec) == value
            except ValueError:
                return False
        if isinstance(value, str):
            return lowered in value.lower()
        return False

    return test


def _term(term: str) -> Predicate:
    if term.startswith("!"):
        inner = _term(term[1:])
        return lambda obj: not inner(obj)
    key, sep, spec = term.partition(":")
    if not sep:
        word = term.lower()
        return lambda obj: any(isinstance(v, str) and word in v.lower() for v in obj.values())
    if not key:
        raise FilterError(f"filter term {term!r} has no property name")
    if spec.startswith("length:"):
        rest = spec[len("length:") :]
        test = _number_test(rest) or (lambda n: str(n) == rest)
        return lambda obj: isinstance(obj.get(key), list | str) and test(len(obj[key]))
    value_test = _value_test(spec)
    return lambda obj: key in obj and value_test(obj[key])


def compile_filter(text: str) -> Predicate:
    """A predicate on objects; an empty filter matches everything."""
    try:
        terms = shlex.split(text)
    except ValueError as exc:
        raise FilterError(f"bad filter {text!r}: {exc}") from None
    predicates = [_term(term) for term in terms]
    return lambda obj: all(p(obj) for p in predicates)
