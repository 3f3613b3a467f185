"""One page of a démarche's form as a Django form: the browser's fields, bound data, errors and
a layout for the templates. Cleaning goes through grc.demarches.answers (conditions, order)."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext as _

from grc.demarches import answers, conditions, fieldkinds
from grc.demarches.definition import FILE_TYPES, has_answer

SEP = "__"  # block items: <block>__<index>__<sub-field>


def item_name(block_key: str, index: int, sub_key: str) -> str:
    return f"{block_key}{SEP}{index}{SEP}{sub_key}"


class PageBoundField(forms.BoundField):
    """aria-describedby names the help and the errors by the ids the field template gives them
    (`<id>_help`, `<id>_errors`), not Django's defaults, which nothing on the page carries."""

    @property
    def aria_describedby(self):
        if self.field.widget.attrs.get("aria-describedby") or not self.auto_id or self.is_hidden:
            return None
        ids = [f"{self.auto_id}_help"] if self.help_text else []
        if self.errors:
            ids.append(f"{self.auto_id}_errors")
        return " ".join(ids)


class PageForm(forms.Form):
    """`answers` are the dossier's stored answers (all pages): they give the initial values of
    this page and the context of its conditions."""

    template_name = "demarches/form/page.html"
    bound_field_class = PageBoundField

    def __init__(
        self,
        *,
        page: dict[str, Any],
        stored: dict[str, Any],
        prefill: dict[str, Any] | None = None,
        known_attachments=None,
        attachments_by_id: dict[int, Any] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.page = page
        self.stored = stored
        self.known_attachments = known_attachments
        self.attachments_by_id = attachments_by_id or {}
        own = answers.page_keys(page)
        self.context = {k: v for k, v in stored.items() if k not in own}
        self.block_counts: dict[str, int] = {}
        for spec in page.get("fields", []):
            if not has_answer(spec):
                continue
            if spec["type"] == "block":
                self._add_block(spec)
                continue
            field = fieldkinds.form_field(spec, known_attachments=known_attachments)
            self.fields[spec["key"]] = field
            initial = stored.get(spec["key"])
            if initial is None and prefill and spec.get("prefill"):
                initial = prefill.get(spec["prefill"])
            if initial is not None:
                self.initial[spec["key"]] = fieldkinds.to_data(spec, initial)

    def _add_block(self, spec: dict[str, Any]) -> None:
        key = spec["key"]
        stored_items = self.stored.get(key) or []
        if self.is_bound:
            try:
                count = int(self.data.get(f"{key}{SEP}count", len(stored_items)))
            except (TypeError, ValueError):
                count = len(stored_items)
        else:
            count = max(len(stored_items), spec.get("min_items", 1))
        count = max(0, min(count, spec.get("max_items", 10)))
        self.block_counts[key] = count
        for index in range(count):
            item = stored_items[index] if index < len(stored_items) else {}
            for sub in spec.get("fields", []):
                if not has_answer(sub):
                    continue
                name = item_name(key, index, sub["key"])
                self.fields[name] = fieldkinds.form_field(
                    sub, known_attachments=self.known_attachments
                )
                if item.get(sub["key"]) is not None:
                    self.initial[name] = fieldkinds.to_data(sub, item[sub["key"]])

    # --- cleaning -----------------------------------------------------------------------------

    def _raw(self, spec: dict[str, Any]) -> Any:
        if spec["type"] == "block":
            items = []
            for index in range(self.block_counts.get(spec["key"], 0)):
                items.append(
                    {
                        sub["key"]: self._value(item_name(spec["key"], index, sub["key"]))
                        for sub in spec.get("fields", [])
                        if has_answer(sub)
                    }
                )
            return items
        return self._value(spec["key"])

    def _value(self, name: str) -> Any:
        field = self.fields[name]
        return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    def full_clean(self):
        self._errors = ErrorDict()
        self.cleaned_data = {}
        if not self.is_bound:
            return
        self.outcome = answers.clean_fields(
            self.page.get("fields", []),
            context=dict(self.context),
            raw=self._raw,
            known_attachments=self.known_attachments,
        )
        for key, messages in self.outcome.errors.items():
            name = key.replace(".", SEP)
            self._errors[name] = self.error_class(messages)
        self.cleaned_data = self.outcome.answers

    def newly_shown(self) -> set[str]:
        """Visible fields the person has not seen yet (no JavaScript: a condition on this page
        turned true on sending). The page is shown again instead of moving on."""
        shown = set(self.data.getlist("_shown")) if hasattr(self.data, "getlist") else set()
        return set(self.outcome.visible) - shown

    # --- layout for the templates -------------------------------------------------------------

    def _visibility(self) -> tuple[set[str], dict[str, Any]]:
        """Visible answer keys and the answers conditions see: from the last cleaning, or,
        before any posting, from the stored answers."""
        if self.is_bound and hasattr(self, "outcome"):
            outcome = self.outcome
        elif hasattr(self, "_initial_outcome"):
            outcome = self._initial_outcome  # layout() and shown_keys() both ask
        else:
            outcome = answers.clean_fields(
                self.page.get("fields", []),
                context=dict(self.context),
                raw=self._initial_raw,
                known_attachments=None,
            )
        if not self.is_bound:
            self._initial_outcome = outcome
        return set(outcome.visible), {**self.context, **outcome.answers}

    def _initial_raw(self, spec):
        if spec["type"] == "block":
            return [
                {
                    sub["key"]: self.initial.get(item_name(spec["key"], i, sub["key"]))
                    for sub in spec.get("fields", [])
                }
                for i in range(self.block_counts.get(spec["key"], 0))
            ]
        return self.initial.get(spec["key"])

    def layout(self) -> list[dict[str, Any]]:
        visible, seen = self._visibility()
        section_shown = True
        rows = []
        for spec in self.page.get("fields", []):
            if spec["type"] == "title":
                section_shown = conditions.evaluate(spec.get("condition"), seen)
            shown_here = section_shown and conditions.evaluate(spec.get("condition"), seen)
            row = {
                "spec": spec,
                "type": spec["type"],
                "condition": json.dumps(spec.get("condition")) if spec.get("condition") else "",
                "hidden": spec["key"] not in visible if has_answer(spec) else not shown_here,
            }
            if spec["type"] == "block":
                row["entries"] = [
                    {
                        "index": i,
                        "fields": [
                            self._bound_row(sub, item_name(spec["key"], i, sub["key"]))
                            for sub in spec.get("fields", [])
                        ],
                    }
                    for i in range(self.block_counts.get(spec["key"], 0))
                ]
                row["count_name"] = f"{spec['key']}{SEP}count"
                row["count"] = self.block_counts.get(spec["key"], 0)
                row["can_add"] = row["count"] < spec.get("max_items", 10)
                row["errors"] = self.errors.get(spec["key"])
            elif has_answer(spec):
                row.update(self._bound_row(spec, spec["key"]))
            rows.append(row)
        return rows

    def _bound_row(self, spec: dict[str, Any], name: str) -> dict[str, Any]:
        row = {
            "spec": spec,
            "type": spec["type"],
            "name": name,
            "condition": json.dumps(spec["condition"]) if spec.get("condition") else "",
        }
        if has_answer(spec):
            row["field"] = self[name]
            if spec["type"] == "file":
                ids = self[name].value() or []
                row["attachments"] = [
                    self.attachments_by_id[int(i)]
                    for i in ids
                    if str(i).isdecimal() and int(i) in self.attachments_by_id
                ]
                row["upload_name"] = f"{name}{SEP}upload"
                row["accept_label"] = file_types_label(spec.get("accept") or list(FILE_TYPES))
        return row

    def condition_context(self) -> dict[str, Any]:
        """The earlier answers this page's conditions read, for the live conditions in the
        browser: only those, not every answer of the dossier."""
        names: set[str] = set()
        for spec in self.page.get("fields", []):
            for item in (spec, *(spec.get("fields") or [])):
                if isinstance(item, dict) and item.get("condition"):
                    names |= conditions.referenced_fields(item["condition"])
        return {k: v for k, v in self.context.items() if k in names}

    def shown_keys(self) -> list[str]:
        return sorted(self._visibility()[0])


def file_types_label(accepted: list[str]) -> str:
    """The accepted file types in words, shown before a file is chosen: "PDF, JPEG ou PNG"."""
    names = [str(FILE_TYPES.get(mime, mime)) for mime in accepted]  # some are lazy translations
    if len(names) < 2:
        return "".join(names)
    return _("%(first)s ou %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


_ITEM = re.compile(rf"^(?P<block>[a-z][a-z0-9_]*){SEP}(?P<index>\d+){SEP}(?P<rest>.+)$")


def apply_block_action(data, fields: list[dict], action: str):
    """The posted data with an item added to a block ("add:<block>") or removed from it
    ("remove:<block>:<index>"), for the blocks among `fields`; an action naming no such block
    or item changes nothing (it comes from a tampered form, not from a button)."""
    verb, _sep, rest = action.partition(":")
    key, _sep, index = rest.partition(":")
    if key not in {s.get("key") for s in fields if s.get("type") == "block"}:
        return data
    count_name = f"{key}{SEP}count"
    try:
        count = max(0, int(data.get(count_name, 0) or 0))
    except ValueError:
        count = 0
    if verb == "add" and not index:
        data[count_name] = str(count + 1)
    elif verb == "remove" and index.isdecimal() and int(index) < count:
        return remove_item(data, key, int(index))
    return data


def remove_item(data, block_key: str, index: int):
    """POST data with item `index` of a block removed and the next ones renumbered (the
    "Retirer" button works without JavaScript)."""
    result = data.copy()
    moved = []
    for name in list(data.keys()):
        match = _ITEM.match(name)
        if match and match["block"] == block_key:
            result.pop(name)
            position = int(match["index"])
            if position != index:
                new_position = position - 1 if position > index else position
                moved.append(
                    (f"{block_key}{SEP}{new_position}{SEP}{match['rest']}", data.getlist(name))
                )
    for name, values in moved:
        result.setlist(name, values)
    count_name = f"{block_key}{SEP}count"
    try:
        count = int(data.get(count_name, 1))
    except (TypeError, ValueError):
        count = 1
    result[count_name] = str(max(0, count - 1))
    return result
