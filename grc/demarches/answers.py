"""Validating answers against a definition, in document order, with the conditions.

One loop serves a page posted by a citizen (raw values from the browser) and a whole dossier's
answers (stored JSON, at submission or any later re-validation). A field whose condition is false,
or whose section or page is hidden, is neither validated nor kept."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from grc.demarches import conditions, fieldkinds
from grc.demarches.definition import has_answer

# raw(spec) -> what the field's clean() takes; for a block, a list of raw item mappings
RawGetter = Callable[[dict[str, Any]], Any]


@dataclass
class Outcome:
    answers: dict[str, Any] = field(default_factory=dict)
    # field key -> messages; "block.2.first_name" for a sub-field of the third item
    errors: dict[str, list[str]] = field(default_factory=dict)
    visible: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def page_visible(page: dict[str, Any], context: Mapping[str, Any]) -> bool:
    return conditions.evaluate(page.get("condition"), context)


def clean_fields(
    specs: list[dict[str, Any]],
    *,
    context: dict[str, Any],
    raw: RawGetter,
    known_attachments: Callable[[str], set[int]] | None = None,
    prefix: str = "",
) -> Outcome:
    """Clean `specs` in order; `context` (earlier answers) grows with each cleaned answer so
    that later conditions see it."""
    outcome = Outcome()
    section_visible = True
    for spec in specs:
        kind = spec.get("type")
        if kind == "title":
            section_visible = conditions.evaluate(spec.get("condition"), context)
            continue
        if not (section_visible and conditions.evaluate(spec.get("condition"), context)):
            continue
        if not has_answer(spec):
            continue
        key = spec["key"]
        outcome.visible.append(key)
        if kind == "block":
            value = _clean_block(
                spec,
                context=context,
                raw=raw,
                outcome=outcome,
                known_attachments=known_attachments,
                prefix=prefix,
            )
        else:
            try:
                cleaned = fieldkinds.form_field(spec, known_attachments=known_attachments).clean(
                    raw(spec)
                )
            except ValidationError as error:
                outcome.errors[prefix + key] = error.messages
                continue
            value = fieldkinds.to_json(spec, cleaned)
        if value is not None:
            outcome.answers[key] = value
            context[key] = value
    return outcome


def _clean_block(spec, *, context, raw, outcome, known_attachments, prefix):
    items = raw(spec) or []
    low, high = spec.get("min_items", 1), spec.get("max_items", 10)
    needed = max(low, 1 if spec.get("required") else 0)
    if len(items) < needed:
        item = (spec.get("item_label") or _("élément")).lower()
        outcome.errors[prefix + spec["key"]] = [
            _("Ajoutez au moins %(n)d %(item)s.") % {"n": needed, "item": item}
        ]
    if len(items) > high:
        outcome.errors[prefix + spec["key"]] = [
            _("Au plus %(n)d %(item)s.")
            % {"n": high, "item": (spec.get("item_label") or _("élément"))}
        ]
    values = []
    for index, item in enumerate(items):
        item_outcome = clean_fields(
            spec.get("fields", []),
            context={**context},
            raw=lambda sub, item=item: item.get(sub["key"]),
            known_attachments=known_attachments,
            prefix=f"{prefix}{spec['key']}.{index}.",
        )
        outcome.errors.update(item_outcome.errors)
        values.append(item_outcome.answers)
    return values or None


def validate_answers(
    definition: dict[str, Any],
    answers: Mapping[str, Any],
    *,
    known_attachments: Callable[[str], set[int]] | None = None,
) -> Outcome:
    """Re-check stored answers as a whole: every visible page, every visible field."""
    context: dict[str, Any] = {}
    total = Outcome()
    for page in definition.get("pages", []):
        if not page_visible(page, context):
            continue
        outcome = clean_fields(
            page.get("fields", []),
            context=context,
            raw=_stored_raw(answers),
            known_attachments=known_attachments,
        )
        total.answers.update(outcome.answers)
        total.errors.update(outcome.errors)
        total.visible.extend(outcome.visible)
    return total


def _stored_raw(answers: Mapping[str, Any]) -> RawGetter:
    def raw(spec):
        stored = answers.get(spec["key"])
        if spec["type"] == "block":
            return [
                {
                    sub["key"]: fieldkinds.to_data(sub, item.get(sub["key"]))
                    for sub in spec.get("fields", [])
                }
                for item in (stored or [])
                if isinstance(item, dict)
            ]
        return fieldkinds.to_data(spec, stored)

    return raw


def visible_pages(definition: dict[str, Any], answers: Mapping[str, Any]) -> list[dict]:
    """The pages a person goes through with these answers (page conditions only name fields of
    earlier pages, so stored answers decide)."""
    return [page for page in definition.get("pages", []) if page_visible(page, answers)]


def page_keys(page: dict[str, Any]) -> set[str]:
    return {spec["key"] for spec in page.get("fields", []) if has_answer(spec)}
