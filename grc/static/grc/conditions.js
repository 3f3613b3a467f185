/*
 * The condition language that shows or hides pages and fields (docs/form-definition.md).
 *
 * Mirror of grc/demarches/conditions.py: both pass the shared vectors of
 * grc/demarches/condition_vectors.json, so that what the browser shows is what the server
 * validates. Plain script, no build step: window.GrcConditions in the browser,
 * module.exports under node.
 */
(function (root, factory) {
  "use strict";
  const api = factory();
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  } else {
    root.GrcConditions = api;
  }
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  // Deeper nesting is surely a mistake; the same bound as the Python evaluator.
  const MAX_DEPTH = 32;
  const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;
  const ORDER = {
    lt: (c) => c < 0,
    lte: (c) => c <= 0,
    gt: (c) => c > 0,
    gte: (c) => c >= 0,
  };
  // The keys each operator takes besides "op"; any other key is refused.
  const KEYS = {
    equals: ["field", "value"],
    not_equals: ["field", "value"],
    lt: ["field", "value"],
    lte: ["field", "value"],
    gt: ["field", "value"],
    gte: ["field", "value"],
    is_empty: ["field"],
    contains: ["field", "value"],
    in: ["field", "values"],
    and: ["conditions"],
    or: ["conditions"],
    not: ["condition"],
  };

  class ConditionError extends Error {
    constructor(message) {
      super(message);
      this.name = "ConditionError";
    }
  }

  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
  const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
  const isNumber = (value) => typeof value === "number";
  const quote = (value) => (typeof value === "string" ? value : JSON.stringify(value));

  /* Throw on the first structural problem, so that a malformed branch always raises. */
  function validate(condition, depth) {
    const fail = (message) => {
      throw new ConditionError("Malformed condition: " + message);
    };
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    if (!isObject(condition)) fail("a condition must be a JSON object");
    if (!has(condition, "op")) fail("a condition needs an 'op'");
    const op = condition.op;
    if (typeof op !== "string" || !has(KEYS, op)) fail(`unknown operator '${quote(op)}'`);
    for (const key of Object.keys(condition)) {
      if (key !== "op" && !KEYS[op].includes(key)) fail(`unexpected key '${key}' in '${op}'`);
    }
    if (KEYS[op].includes("field") && !(typeof condition.field === "string" && condition.field)) {
      fail(`'${op}' needs a non-empty 'field'`);
    }
    if (KEYS[op].includes("value")) {
      if (!has(condition, "value")) fail(`'${op}' needs a 'value'`);
      const value = condition.value;
      if (has(ORDER, op) && !isNumber(value) && typeof value !== "string") {
        fail(`'${op}' needs a number or string 'value'`);
      }
    }
    if (op === "in" && !Array.isArray(condition.values)) fail("'in' needs a list 'values'");
    if (op === "and" || op === "or") {
      if (!Array.isArray(condition.conditions)) fail(`'${op}' needs a list 'conditions'`);
      for (const sub of condition.conditions) validate(sub, depth + 1);
    }
    if (op === "not") {
      if (!has(condition, "condition")) fail("'not' needs a 'condition'");
      validate(condition.condition, depth + 1);
    }
  }

  /* JSON equality: 1 equals 1.0, true does not equal 1, arrays and objects compare deeply. */
  function jsonEqual(left, right) {
    if (Array.isArray(left) || Array.isArray(right)) {
      return (
        Array.isArray(left) &&
        Array.isArray(right) &&
        left.length === right.length &&
        left.every((item, i) => jsonEqual(item, right[i]))
      );
    }
    if (isObject(left) && isObject(right)) {
      const keys = Object.keys(left);
      return (
        keys.length === Object.keys(right).length &&
        keys.every((key) => has(right, key) && jsonEqual(left[key], right[key]))
      );
    }
    return left === right;
  }

  /* Compare strings by code point, as Python does (JS's < compares UTF-16 code units). */
  function compareStrings(left, right) {
    if (!/[\ud800-\udfff]/.test(left + right)) return left < right ? -1 : left > right ? 1 : 0;
    const a = Array.from(left, (c) => c.codePointAt(0));
    const b = Array.from(right, (c) => c.codePointAt(0));
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a[i] !== b[i]) return a[i] - b[i];
    }
    return a.length - b.length;
  }

  /* Order two numbers or two strings; a decimal string meets a number as that number. */
  function compare(op, left, right) {
    if (isNumber(left) && typeof right === "string" && DECIMAL.test(right)) {
      right = Number(right);
    } else if (typeof left === "string" && isNumber(right) && DECIMAL.test(left)) {
      left = Number(left);
    }
    if (isNumber(left) && isNumber(right)) {
      // NaN orders with nothing, as in Python.
      if (Number.isNaN(left) || Number.isNaN(right)) return false;
      return ORDER[op](left < right ? -1 : left > right ? 1 : 0);
    }
    if (typeof left === "string" && typeof right === "string") {
      return ORDER[op](compareStrings(left, right));
    }
    return false;
  }

  function run(condition, answers) {
    const op = condition.op;
    if (op === "and") return condition.conditions.every((sub) => run(sub, answers));
    if (op === "or") return condition.conditions.some((sub) => run(sub, answers));
    if (op === "not") return !run(condition.condition, answers);
    const field = condition.field;
    if (!has(answers, field) || answers[field] === undefined) {
      // A missing answer equals nothing, contains nothing and compares to nothing.
      return op === "not_equals" || op === "is_empty";
    }
    const answer = answers[field];
    switch (op) {
      case "is_empty":
        return (
          answer === null ||
          answer === false ||
          answer === "" ||
          (Array.isArray(answer) && answer.length === 0) ||
          (isObject(answer) && Object.keys(answer).length === 0)
        );
      case "in":
        return condition.values.some((value) => jsonEqual(answer, value));
      case "equals":
        return jsonEqual(answer, condition.value);
      case "not_equals":
        return !jsonEqual(answer, condition.value);
      case "contains":
        if (Array.isArray(answer)) return answer.some((item) => jsonEqual(item, condition.value));
        return (
          typeof answer === "string" &&
          typeof condition.value === "string" &&
          answer.includes(condition.value)
        );
      default:
        return compare(op, answer, condition.value);
    }
  }

  /* Whether condition holds for answers; null (or undefined) means always shown. */
  function evaluate(condition, answers) {
    if (condition === null || condition === undefined) return true;
    validate(condition, 0);
    return run(condition, answers || {});
  }

  /* Every field key named in condition, at any depth; lenient on malformed conditions. */
  function referencedFields(condition, into) {
    const fields = into || new Set();
    if (!isObject(condition)) return fields;
    if (typeof condition.field === "string") fields.add(condition.field);
    if (Array.isArray(condition.conditions)) {
      for (const sub of condition.conditions) referencedFields(sub, fields);
    }
    referencedFields(condition.condition, fields);
    return fields;
  }

  return {
    evaluate,
    referencedFields: (condition) => referencedFields(condition),
    ConditionError,
  };
});
