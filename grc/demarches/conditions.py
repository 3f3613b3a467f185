"""The condition language that shows or hides pages and fields (docs/form-definition.md).

The same semantics live in ``grc/static/grc/conditions.js``; both pass the shared vectors of
``condition_vectors.json``, so that what the browser shows is what the server validates.
Conditions are data: they are interpreted here, never ``eval``'d.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["ConditionError", "check", "evaluate", "referenced_fields"]

# Deeper nesting is surely a mistake, and bounding it keeps recursion far from Python's limit.
MAX_DEPTH = 32

# ASCII digits only: Python's \d would also accept other scripts' digits, which JS does not.
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}

# The keys each operator takes besides "op"; any other key is refused, which catches typos
# such as "values" on an "equals".
_KEYS: dict[str, frozenset[str]] = {
    **dict.fromkeys(["equals", "not_equals", "contains", *_ORDER], frozenset({"field", "value"})),
    "is_empty": frozenset({"field"}),
    "in": frozenset({"field", "values"}),
    "and": frozenset({"conditions"}),
    "or": frozenset({"conditions"}),
    "not": frozenset({"condition"}),
}


class ConditionError(ValueError):
    """A condition that does not have the documented shape: evaluating it would be guesswork."""


def evaluate(condition: dict[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for ``answers``; ``None`` means always shown.

    The whole condition is checked first, so a malformed branch raises even when another
    branch would have decided the result.
    """
    if condition is None:
        return True
    problems = [english for _, english in _problems(condition)]
    if problems:
        raise ConditionError("Malformed condition: " + "; ".join(dict.fromkeys(problems)))
    return _evaluate(condition, answers)


def check(condition: Any) -> list[str]:
    """The structural problems of ``condition``, in French for the staff editing the form.

    Whether the named fields exist and come before is for the caller, who knows the form.
    """
    if condition is None:
        return []
    return list(dict.fromkeys(french for french, _ in _problems(condition)))


def referenced_fields(condition: Any) -> set[str]:
    """Every field key named in ``condition``, at any depth.

    Lenient on purpose: on a malformed condition it still returns the names it can find, so
    that staff see missing fields alongside the structural problems reported by ``check``.
    """
    fields: set[str] = set()
    pending = [condition]  # a stack rather than recursion: no nesting can exhaust Python's
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            if isinstance(current.get("field"), str):
                fields.add(current["field"])
            subs = current.get("conditions")
            pending.extend(subs if isinstance(subs, list) else [])
            pending.append(current.get("condition"))
    return fields


def _quote(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)


def _problems(condition: Any, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Yield (French, English) per problem, so that ``check`` and ``evaluate`` always agree."""
    if depth > MAX_DEPTH:
        yield "la condition est trop imbriquée", f"nested deeper than {MAX_DEPTH} levels"
        return
    if not isinstance(condition, dict):
        yield "une condition doit être un objet JSON", "a condition must be a JSON object"
        return
    if "op" not in condition:
        yield "une condition doit avoir un opérateur « op »", "a condition needs an 'op'"
        return
    op = condition["op"]
    if not isinstance(op, str) or op not in _KEYS:
        yield f"opérateur inconnu : « {_quote(op)} »", f"unknown operator {_quote(op)!r}"
        return
    for key in sorted(str(key) for key in condition.keys() - _KEYS[op] - {"op"}):
        yield (
            f"la condition « {op} » n'accepte pas la clé « {key} »",
            f"unexpected key {key!r} in {op!r}",
        )
    field, value = condition.get("field"), condition.get("value")
    if "field" in _KEYS[op] and not (isinstance(field, str) and field):
        yield f"la condition « {op} » doit nommer un champ", f"{op!r} needs a non-empty 'field'"
    if "value" in _KEYS[op] and "value" not in condition:
        yield f"la condition « {op} » doit avoir une valeur", f"{op!r} needs a 'value'"
    elif op in _ORDER and not (_is_number(value) or isinstance(value, str)):
        yield (
            f"la condition « {op} » doit comparer à un nombre ou à un texte",
            f"{op!r} needs a number or string 'value'",
        )
    if op == "in" and not isinstance(condition.get("values"), list):
        yield "la condition « in » doit avoir une liste de valeurs", "'in' needs a list 'values'"
    if op in ("and", "or"):
        subs = condition.get("conditions")
        if not isinstance(subs, list):
            yield (
                f"la condition « {op} » doit avoir une liste de conditions",
                f"{op!r} needs a list 'conditions'",
            )
        else:
            for sub in subs:
                yield from _problems(sub, depth + 1)
    if op == "not":
        if "condition" not in condition:
            yield "la condition « not » doit avoir une condition", "'not' needs a 'condition'"
        else:
            yield from _problems(condition["condition"], depth + 1)


def _evaluate(condition: dict[str, Any], answers: Mapping[str, Any]) -> bool:
    op = condition["op"]
    if op == "and":
        return all(_evaluate(sub, answers) for sub in condition["conditions"])
    if op == "or":
        return any(_evaluate(sub, answers) for sub in condition["conditions"])
    if op == "not":
        return not _evaluate(condition["condition"], answers)
    if condition["field"] not in answers:
        # A missing answer equals nothing, contains nothing and compares to nothing.
        return op in ("not_equals", "is_empty")
    answer = answers[condition["field"]]
    if op == "is_empty":
        empty_container = isinstance(answer, str | list | tuple | dict) and not answer
        return empty_container or answer is None or answer is False
    if op == "in":
        return any(_json_equal(answer, value) for value in condition["values"])
    value = condition["value"]
    if op == "equals":
        return _json_equal(answer, value)
    if op == "not_equals":
        return not _json_equal(answer, value)
    if op == "contains":
        if isinstance(answer, list | tuple):
            return any(_json_equal(item, value) for item in answer)
        return isinstance(answer, str) and isinstance(value, str) and value in answer
    return _compare(op, answer, value)


def _compare(op: str, left: Any, right: Any) -> bool:
    """Order two numbers or two strings; a decimal string meets a number as that number."""
    if _is_number(left) and isinstance(right, str) and _DECIMAL.fullmatch(right):
        right = float(right)
    elif isinstance(left, str) and _is_number(right) and _DECIMAL.fullmatch(left):
        left = float(left)
    both_strings = isinstance(left, str) and isinstance(right, str)
    if both_strings or (_is_number(left) and _is_number(right)):
        return _ORDER[op](left, right)
    return False


def _is_number(value: Any) -> bool:
    """JSON numbers; Python's bool is an int, but JSON's true is not a number."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_equal(left: Any, right: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``true != 1`` (Python's ``==`` says ``True == 1``)."""
    if _is_number(left) and _is_number(right):
        return left == right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, bool | str) or left is None:
        return type(left) is type(right) and left == right
    return False
