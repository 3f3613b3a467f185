"""The builder's live preview: one page of a definition being edited, rendered by the same
PageForm and template as the citizens' page. A definition being edited is often incomplete:
fields that cannot be shown yet are left out and named, rather than failing the preview."""

from __future__ import annotations

import copy
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from grc.demarches import conditions
from grc.demarches.definition import FIELD_TYPES, has_answer
from grc.demarches.pageform import PageForm


def _render_fields(page: dict[str, Any]) -> str:
    form = PageForm(page=page, stored={})
    return render_to_string("demarches/form/page.html", {"form": form})


def _usable(spec: Any) -> bool:
    return (
        isinstance(spec, dict)
        and isinstance(spec.get("key"), str)
        and spec.get("key") != ""
        and spec.get("type") in FIELD_TYPES
    )


def _clean_spec(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    if spec.get("condition") is not None and conditions.check(spec["condition"]):
        spec["condition"] = None
    if spec.get("type") == "block":
        subs = spec.get("fields") if isinstance(spec.get("fields"), list) else []
        spec["fields"] = [_clean_spec(s) for s in subs if _usable(s) and s.get("type") != "block"]
    return spec


def previewable_page(page: Any) -> tuple[dict[str, Any], list[str]]:
    """The page with what can be shown, and the names of the fields left out."""
    if not isinstance(page, dict):
        return {"key": "page", "title": "", "fields": []}, []
    fields = page.get("fields") if isinstance(page.get("fields"), list) else []
    kept: list[dict[str, Any]] = []
    left_out: list[str] = []
    seen: set[str] = set()
    for spec in fields:
        name = str(spec.get("label") or spec.get("key") or "?") if isinstance(spec, dict) else "?"
        if not _usable(spec) or (has_answer(spec) and spec["key"] in seen):
            left_out.append(name)
            continue
        spec = _clean_spec(spec)
        try:
            _render_fields({"key": "preview", "fields": [spec]})
        except Exception:  # an unchecked definition fails in many ways: not shown yet
            left_out.append(name)
            continue
        seen.add(spec["key"])
        kept.append(spec)
    return {**page, "fields": kept}, left_out


def render_page_fields(page: Any) -> tuple[str, list[str]]:
    """The page's fields as citizens see them (HTML), and the fields that could not be shown.
    Conditions are evaluated against empty answers, as when a citizen opens the page."""
    html = None
    if isinstance(page, dict):
        try:
            html = _render_fields(page)
        except Exception:  # an unchecked definition fails in many ways: not shown yet
            html = None
    if html is not None:
        return html, []
    usable, left_out = previewable_page(page)
    try:
        return _render_fields(usable), left_out
    except Exception:  # an unchecked definition fails in many ways: not shown yet
        return "", left_out or [_("la page")]
