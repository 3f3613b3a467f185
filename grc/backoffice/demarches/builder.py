"""The form builder: a page that works as a small JavaScript application (grc/static/grc/
builder.js) on a definition kept in memory, with three endpoints: save (the draft version),
preview (one page, rendered as citizens see it) and publish (in views.py). Without
JavaScript, the same page saves the definition from a plain textarea."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grc.backoffice.demarches import selectors
from grc.backoffice.demarches.editing import json_body, save_draft
from grc.backoffice.demarches.forms import DefinitionForm
from grc.backoffice.demarches.preview import render_page_fields
from grc.demarches import definition as definitions
from grc.demarches.access import access_demarche_admin
from grc.demarches.models import Demarche
from grc.demarches.services import demarches as services

CONDITION_OPERATORS = {
    "equals": "est égal à",
    "not_equals": "est différent de",
    "lt": "est inférieur à",
    "lte": "est inférieur ou égal à",
    "gt": "est supérieur à",
    "gte": "est supérieur ou égal à",
    "is_empty": "n'est pas rempli",
    "contains": "contient",
    "in": "est l'une des valeurs",
}


def builder_config(demarche: Demarche) -> dict[str, Any]:
    """What builder.js needs to know, from the same tables the server checks with."""
    return {
        "fieldTypes": definitions.FIELD_TYPES,
        "displayOnly": sorted(definitions.DISPLAY_ONLY),
        "prefillSources": definitions.PREFILL_SOURCES,
        "prefillTypes": {k: sorted(v) for k, v in definitions.PREFILL_TYPES.items()},
        "fileTypes": definitions.FILE_TYPES,
        "maxFileSizeMb": definitions.MAX_FILE_SIZE_MB,
        "maxBlockItems": definitions.MAX_BLOCK_ITEMS,
        "validationKeys": {k: sorted(v) for k, v in definitions.VALIDATION_KEYS.items()},
        "operators": CONDITION_OPERATORS,
        "urls": {
            "save": reverse("backoffice:demarche_builder_save", args=[demarche.pk]),
            "preview": reverse("backoffice:demarche_builder_preview", args=[demarche.pk]),
            "publish": reverse("backoffice:demarche_publish", args=[demarche.pk]),
        },
    }


def _outline(definition: Any) -> list[dict[str, Any]]:
    """The pages and fields, as text, for the page without JavaScript."""
    pages = definition.get("pages") if isinstance(definition, dict) else None
    outline = []
    for page in pages if isinstance(pages, list) else []:
        if not isinstance(page, dict):
            continue
        fields = page.get("fields") if isinstance(page.get("fields"), list) else []
        outline.append(
            {
                "title": page.get("title") or page.get("key") or "",
                "fields": [
                    {
                        "name": f.get("label") or f.get("text") or f.get("key") or "?",
                        "type": definitions.FIELD_TYPES.get(f.get("type"), f.get("type")),
                        "key": f.get("key"),
                        "is_title": f.get("type") == "title",
                    }
                    for f in fields
                    if isinstance(f, dict)
                ],
            }
        )
    return outline


def _render_builder(request, demarche: Demarche, form: DefinitionForm | None = None, status=200):
    definition, draft = selectors.editing_definition(demarche)
    if form is None:
        form = DefinitionForm(
            initial={"definition": json.dumps(definition, ensure_ascii=False, indent=2)}
        )
    return render(
        request,
        "backoffice/demarches/builder.html",
        {
            "demarche": demarche,
            "definition": definition,
            "outline": _outline(definition),
            "draft": draft,
            "problems": definitions.check_definition(definition),
            "config": builder_config(demarche),
            "field_types": definitions.FIELD_TYPES,
            "form": form,
            "tab": "builder",
        },
        status=status,
    )


@login_required
def builder(request, demarche_id):
    demarche = access_demarche_admin(request.user, demarche_id)
    return _render_builder(request, demarche)


@login_required
@require_POST
def builder_save(request, demarche_id):
    """JSON in ({"definition": …}), JSON out ({"problems": […]}); or the no-JavaScript form."""
    demarche = access_demarche_admin(request.user, demarche_id)
    return save_draft(
        request,
        demarche,
        part="definition",
        form_class=DefinitionForm,
        store=services.save_definition,
        # save_definition checks the definition itself: its problems are the answer's.
        problems=lambda version, problems: {"problems": problems},
        render_page=lambda form: _render_builder(request, demarche, form=form, status=400),
        saved_messages=(
            _("Brouillon enregistré (version %(n)d), avec des points à corriger avant de publier."),
            _("Brouillon enregistré (version %(n)d)."),
        ),
        page="backoffice:demarche_builder",
    )


@login_required
@require_http_methods(["GET", "POST"])
def builder_preview(request, demarche_id):
    """One page as citizens see it. POST: the definition being edited ({"definition": …,
    "page": key}), for the builder's frame. GET ?page=key: the saved draft, as a page."""
    demarche = access_demarche_admin(request.user, demarche_id)
    if request.method == "POST":
        payload = json_body(request)
        if not isinstance(payload, dict):
            return HttpResponse(_("Le contenu envoyé n'est pas du JSON valide."), status=400)
        definition, page_key = payload.get("definition"), payload.get("page")
        position = payload.get("index")
    else:
        definition, _draft = selectors.editing_definition(demarche)
        page_key, position = request.GET.get("page"), None
    pages = definition.get("pages") if isinstance(definition, dict) else None
    pages = [p for p in pages if isinstance(p, dict)] if isinstance(pages, list) else []
    # The builder sends the page's position too: keys may be duplicated while editing.
    if type(position) is int and 0 <= position < len(pages):
        index = position
    else:
        index = next((i for i, p in enumerate(pages) if p.get("key") == page_key), 0)
    page = pages[index] if pages else {"key": "page", "title": "", "fields": []}
    html, left_out = render_page_fields(page)
    return render(
        request,
        "backoffice/demarches/preview.html",
        {
            "demarche": demarche,
            "page": page,
            "index": index,
            "total": max(len(pages), 1),
            "fields_html": html,
            "left_out": left_out,
        },
    )
