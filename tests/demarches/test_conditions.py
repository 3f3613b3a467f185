"""The condition language: both evaluators against the shared vectors, plus check().

The Python and JavaScript evaluators must agree, or a field shown in the browser would be
refused (or silently dropped) by the server; the shared vectors are what keeps them in step.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from grc.demarches import conditions
from grc.demarches.conditions import ConditionError, check, evaluate, referenced_fields

ROOT = Path(__file__).resolve().parents[2]
JS_FILE = ROOT / "grc" / "static" / "grc" / "conditions.js"
VECTORS_FILE = Path(conditions.__file__).with_name("condition_vectors.json")
DATA = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = DATA["vectors"]
MALFORMED: list[dict[str, Any]] = DATA["malformed"]
OPERATORS = {"equals", "not_equals", "lt", "lte", "gt", "gte", "is_empty", "contains", "in"}
OPERATORS |= {"and", "or", "not"}

# Runs the JS evaluator over the vectors file, then over extra conditions given as JSON in argv,
# and prints one JSON document of outcomes. An outcome is the boolean result, or the error.
NODE_SCRIPT = r"""
const [jsFile, vectorsFile, extraJson] = process.argv.slice(1);
const c = require(jsFile);
const data = require(vectorsFile);
const outcome = (condition, answers) => {
  try {
    return { result: c.evaluate(condition, answers) };
  } catch (e) {
    return { error: String(e && e.message), isError: e instanceof Error };
  }
};
const fields = (condition) => [...c.referencedFields(condition)].sort();
const extra = JSON.parse(extraJson);
process.stdout.write(JSON.stringify({
  vectors: data.vectors.map((v) => outcome(v.condition, v.answers)),
  malformed: data.malformed.map((v) => outcome(v.condition, {})),
  referenced: [...data.vectors, ...data.malformed].map((v) => fields(v.condition)),
  extra: extra.map((v) => outcome(v.condition, v.answers)),
  hasGlobal: typeof globalThis.GrcConditions !== "undefined",
}));
"""


def _operators(condition: Any) -> set[str]:
    if not isinstance(condition, dict):
        return set()
    subs = [*condition.get("conditions", []), condition.get("condition")]
    return {condition["op"]}.union(*(_operators(sub) for sub in subs))


def _nested_not(depth: int) -> dict[str, Any]:
    condition: dict[str, Any] = {"op": "is_empty", "field": "a"}
    for _ in range(depth):
        condition = {"op": "not", "condition": condition}
    return condition


# Conditions not in the vectors file but that both evaluators must treat alike.
EXTRA = [
    {"condition": _nested_not(conditions.MAX_DEPTH), "answers": {}, "expected": True},
    {"condition": _nested_not(conditions.MAX_DEPTH + 1), "answers": {}, "error": True},
]


@pytest.fixture(scope="module")
def node_results() -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is needed to test grc/static/grc/conditions.js"
    completed = subprocess.run(
        [node, "-e", NODE_SCRIPT, str(JS_FILE), str(VECTORS_FILE), json.dumps(EXTRA)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_vectors_cover_the_language() -> None:
    """The vectors are the contract between the evaluators: keep them broad."""
    assert len(VECTORS) >= 60
    names = [v["name"] for v in VECTORS + MALFORMED]
    assert len(names) == len(set(names)), "vector names must be unique"
    assert set().union(*(_operators(v["condition"]) for v in VECTORS)) == OPERATORS
    assert {v["expected"] for v in VECTORS} == {True, False}
    assert all(v["error"] is True for v in MALFORMED)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_python_vector(vector: dict[str, Any]) -> None:
    assert evaluate(vector["condition"], vector["answers"]) is vector["expected"]


@pytest.mark.parametrize("index", range(len(VECTORS)), ids=[v["name"] for v in VECTORS])
def test_js_vector(node_results: dict[str, Any], index: int) -> None:
    assert node_results["vectors"][index] == {"result": VECTORS[index]["expected"]}


@pytest.mark.parametrize("vector", MALFORMED, ids=[v["name"] for v in MALFORMED])
def test_python_malformed_raises(vector: dict[str, Any]) -> None:
    with pytest.raises(ConditionError, match="Malformed condition"):
        evaluate(vector["condition"], {"a": 1})


@pytest.mark.parametrize("index", range(len(MALFORMED)), ids=[v["name"] for v in MALFORMED])
def test_js_malformed_throws(node_results: dict[str, Any], index: int) -> None:
    outcome = node_results["malformed"][index]
    assert outcome.get("isError") is True, outcome
    assert outcome["error"].startswith("Malformed condition")


@pytest.mark.parametrize("vector", MALFORMED, ids=[v["name"] for v in MALFORMED])
def test_check_reports_malformed(vector: dict[str, Any]) -> None:
    assert check(vector["condition"])


def test_check_accepts_every_vector() -> None:
    assert [v["name"] for v in VECTORS if check(v["condition"])] == []


def test_condition_error_is_a_value_error() -> None:
    """Callers validating a whole definition catch ValueError alike."""
    assert issubclass(ConditionError, ValueError)


def test_extra_conditions_agree(node_results: dict[str, Any]) -> None:
    for case, outcome in zip(EXTRA, node_results["extra"], strict=True):
        answers = case["answers"]
        if case.get("error"):
            with pytest.raises(ConditionError, match="nested deeper"):
                evaluate(case["condition"], answers)
            assert "nested deeper" in outcome["error"]
        else:
            assert evaluate(case["condition"], answers) is case["expected"]
            assert outcome == {"result": case["expected"]}


def test_js_exports_through_module_not_global(node_results: dict[str, Any]) -> None:
    assert node_results["hasGlobal"] is False


def test_js_referenced_fields_agree(node_results: dict[str, Any]) -> None:
    expected = [sorted(referenced_fields(v["condition"])) for v in VECTORS + MALFORMED]
    assert node_results["referenced"] == expected


def test_python_reads_answers_from_any_mapping() -> None:
    """Answers may come as any mapping (a tuple stands for a list), never mutated."""
    from types import MappingProxyType

    answers = MappingProxyType({"aides": ("cantine",), "ok": True})
    assert evaluate({"op": "contains", "field": "aides", "value": "cantine"}, answers)
    assert evaluate({"op": "equals", "field": "aides", "value": ["cantine"]}, answers)
    assert not evaluate({"op": "equals", "field": "ok", "value": 1}, answers)


class TestReferencedFields:
    def test_none_and_leaf(self) -> None:
        assert referenced_fields(None) == set()
        assert referenced_fields({"op": "equals", "field": "a", "value": 1}) == {"a"}

    def test_nested(self) -> None:
        condition = {
            "op": "and",
            "conditions": [
                {"op": "in", "field": "a", "values": ["x"]},
                {"op": "or", "conditions": [{"op": "gt", "field": "b", "value": 1}]},
                {"op": "not", "condition": {"op": "is_empty", "field": "c"}},
                {"op": "not", "condition": {"op": "contains", "field": "a", "value": "y"}},
            ],
        }
        assert referenced_fields(condition) == {"a", "b", "c"}

    def test_empty_combinators(self) -> None:
        assert referenced_fields({"op": "and", "conditions": []}) == set()

    def test_lenient_on_malformed(self) -> None:
        """Staff see unknown fields even while the structure is still wrong."""
        condition = {"op": "or", "conditions": [{"op": "bogus", "field": "a"}, None, 3, "x"]}
        assert referenced_fields(condition) == {"a"}
        assert referenced_fields({"op": "and", "conditions": "nope"}) == set()
        assert referenced_fields({"op": "equals", "field": 3, "value": 1}) == set()

    def test_deep_nesting_does_not_recurse(self) -> None:
        assert referenced_fields(_nested_not(5000)) == {"a"}


class TestCheck:
    def test_valid(self) -> None:
        assert check(None) == []
        assert check({"op": "equals", "field": "a", "value": None}) == []
        assert check({"op": "not", "condition": {"op": "or", "conditions": []}}) == []

    def test_unknown_operator(self) -> None:
        assert check({"op": "foo"}) == ["opérateur inconnu : « foo »"]
        assert check({"op": 3}) == ["opérateur inconnu : « 3 »"]

    def test_not_an_object(self) -> None:
        assert check("equals") == ["une condition doit être un objet JSON"]
        assert check({"field": "a"}) == ["une condition doit avoir un opérateur « op »"]

    def test_field(self) -> None:
        assert check({"op": "equals", "value": 1}) == [
            "la condition « equals » doit nommer un champ"
        ]
        assert check({"op": "is_empty", "field": ""}) == [
            "la condition « is_empty » doit nommer un champ"
        ]

    def test_value(self) -> None:
        assert check({"op": "contains", "field": "a"}) == [
            "la condition « contains » doit avoir une valeur"
        ]
        assert check({"op": "gt", "field": "a", "value": True}) == [
            "la condition « gt » doit comparer à un nombre ou à un texte"
        ]
        assert check({"op": "in", "field": "a", "values": "x"}) == [
            "la condition « in » doit avoir une liste de valeurs"
        ]

    def test_unexpected_key(self) -> None:
        assert check({"op": "equals", "field": "a", "values": [1]}) == [
            "la condition « equals » n'accepte pas la clé « values »",
            "la condition « equals » doit avoir une valeur",
        ]

    def test_combinators(self) -> None:
        assert check({"op": "and"}) == ["la condition « and » doit avoir une liste de conditions"]
        assert check({"op": "not"}) == ["la condition « not » doit avoir une condition"]
        assert check({"op": "not", "condition": None}) == ["une condition doit être un objet JSON"]

    def test_reports_every_problem_once(self) -> None:
        """All problems at once, so staff fix a condition in one pass; repeats are merged."""
        condition = {
            "op": "or",
            "conditions": [{"op": "foo"}, {"op": "gt", "field": "a"}, {"op": "foo"}],
        }
        assert check(condition) == [
            "opérateur inconnu : « foo »",
            "la condition « gt » doit avoir une valeur",
        ]

    def test_too_deep(self) -> None:
        assert check(_nested_not(conditions.MAX_DEPTH)) == []
        assert check(_nested_not(conditions.MAX_DEPTH + 1)) == ["la condition est trop imbriquée"]

    def test_error_message_is_english(self) -> None:
        with pytest.raises(ConditionError, match="unknown operator 'foo'"):
            evaluate({"op": "foo"}, {})
