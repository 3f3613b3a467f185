"""The workflow editor ("Circuit de traitement"): statuses, transitions, actions and timers of the
draft version edited in forms by a small JavaScript application (grc/static/grc/
workflow-editor.js), with the workflow drawn as a diagram that follows every edit
(grc/static/grc/workflow-diagram.js, also used alone by the read-only diagram page). Without
JavaScript, the page saves the workflow from a plain JSON textarea. The server checks
everything: the editor only helps to write a workflow that can be published."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from grc.backoffice.demarches.builder import CONDITION_OPERATORS
from grc.backoffice.demarches.editing import save_draft
from grc.base.models import Service
from grc.demarches import texts
from grc.demarches.access import access_demarche_admin
from grc.demarches.definition import FIELD_TYPES, empty_definition, has_answer, placed_fields
from grc.demarches.models import Demarche, DemarcheVersion
from grc.demarches.services import demarches as services
from grc.demarches.workflow import definition as wf
from grc.demarches.workflow.defaults import default_workflow

# The types of the fields an agent fills in on a transition (the editor's simple list; any
# other type stays possible through the JSON).
TRANSITION_FIELD_TYPES = ("text", "textarea", "integer", "date", "yesno", "choice")
COMMENT_LABELS = {
    "none": "Pas de commentaire",
    "optional": "Commentaire facultatif",
    "required": "Commentaire obligatoire",
}
TIMER_UNIT_LABELS = {"days": "jours", "working_days": "jours ouvrés"}


class WorkflowForm(forms.Form):
    """The workflow as raw JSON: the editor without JavaScript, and for experts."""

    workflow = forms.CharField(
        label=gettext_lazy("Circuit de traitement (JSON)"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "code wide", "spellcheck": "false"}),
        strip=False,
    )

    def clean_workflow(self) -> Any:
        try:
            return json.loads(self.cleaned_data["workflow"])
        except ValueError as error:
            raise ValidationError(
                _("Ce texte n'est pas du JSON valide : %(e)s.") % {"e": error}
            ) from None


def editing_version(demarche: Demarche) -> tuple[DemarcheVersion, DemarcheVersion | None]:
    """What the editor opens: the draft, or else the latest version (the draft itself is created
    by the first save, never by looking). Returns (the version shown, the draft or None)."""
    draft = demarche.versions.filter(status=DemarcheVersion.Status.DRAFT).first()
    if draft is not None:
        return draft, draft
    latest = demarche.versions.order_by("-number").first()
    if latest is None:
        latest = DemarcheVersion(
            demarche=demarche,
            number=1,
            definition=empty_definition(),
            workflow=default_workflow(demarche.implicit_decision),
        )
    return latest, None


def split_problems(demarche: Demarche, version: DemarcheVersion) -> tuple[list[str], list[str]]:
    """What blocks publication, in two lists: the circuit's own problems, then the others
    (form, settings, texts)."""
    circuit = services.workflow_problems(demarche, version)
    others = services.other_publication_problems(demarche, version)
    return circuit, others


def form_fields(definition: Any) -> list[dict[str, Any]]:
    """The form's answers a guard may name: key, label, type and options."""
    found = []
    for placed in placed_fields(definition if isinstance(definition, dict) else {}):
        field = placed.field
        if not isinstance(field.get("key"), str) or not has_answer(field):
            continue
        item = {
            "key": field["key"],
            "label": field.get("label") or field["key"],
            "type": field.get("type"),
        }
        if isinstance(field.get("options"), list):
            item["options"] = [
                {"value": o.get("value"), "label": o.get("label") or o.get("value")}
                for o in field["options"]
                if isinstance(o, dict)
            ]
        found.append(item)
    return found


def describe(workflow: Any) -> list[str]:
    """The diagram as text: « status → status : transition », one line per way a transition
    can be taken (the same lines as workflow-diagram.js writes under the picture)."""

    def name(item: dict[str, Any], fallback: str) -> str:
        label = item.get("label")
        return label.strip() if isinstance(label, str) and label.strip() else fallback

    names: dict[str, str] = {}
    for item in wf.statuses(workflow):
        if isinstance(item.get("key"), str) and item["key"] not in names:
            names[item["key"]] = name(item, item["key"])
    lines = []
    for item in wf.transitions(workflow):
        origins = item.get("from") if isinstance(item.get("from"), list) else []
        target = item.get("to")
        if not isinstance(target, str) or target not in names:
            continue
        key = item.get("key")
        label = name(item, key if isinstance(key, str) and key else "?")
        for origin in dict.fromkeys(o for o in origins if isinstance(o, str)):
            if origin in names:
                lines.append(f"{names[origin]} → {names[target]} : {label}")
    return lines


def services_names(demarche: Demarche) -> list[str]:
    """The services an "assign" action may name (by name, as the worker looks them up)."""
    if demarche.collectivite_id is None:
        return []
    return list(
        Service.objects.filter(collectivite_id=demarche.collectivite_id, is_active=True)
        .order_by("name")
        .values_list("name", flat=True)
    )


def editor_config(demarche: Demarche, definition: Any) -> dict[str, Any]:
    """What workflow-editor.js needs to know, from the tables the server checks with."""
    return {
        "categories": wf.CATEGORIES,
        "who": wf.WHO,
        "comment": COMMENT_LABELS,
        "timerUnits": TIMER_UNIT_LABELS,
        "actionTypes": wf.ACTION_TYPES,
        "emailTargets": {
            "citizen": "l'usager",
            "service": "le service chargé du dossier",
            "agents": "des agents (adresses ci-dessous)",
        },
        "documentKinds": wf.DOCUMENT_KINDS,
        "fieldTypes": {t: FIELD_TYPES[t] for t in TRANSITION_FIELD_TYPES},
        "formFields": form_fields(definition),
        "operators": CONDITION_OPERATORS,
        "variables": {**texts.VARIABLES, **wf.WORKFLOW_VARIABLES},
        "filters": texts.FILTERS,
        "services": services_names(demarche),
        "implicitDecision": demarche.implicit_decision,
        "implicitDecisionLabel": demarche.get_implicit_decision_display(),
        "urls": {
            "save": reverse("backoffice:demarche_workflow_save", args=[demarche.pk]),
            "publish": reverse("backoffice:demarche_publish", args=[demarche.pk]),
            "diagram": reverse("backoffice:demarche_workflow_diagram", args=[demarche.pk]),
        },
    }


def _render_editor(request, demarche: Demarche, form: WorkflowForm | None = None, status=200):
    version, draft = editing_version(demarche)
    workflow = version.workflow
    if form is None:
        form = WorkflowForm(
            initial={"workflow": json.dumps(workflow, ensure_ascii=False, indent=2)}
        )
    problems, other_problems = split_problems(demarche, version)
    return render(
        request,
        "backoffice/demarches/workflow.html",
        {
            "demarche": demarche,
            "workflow": workflow,
            "draft": draft,
            "version": version,
            "statuses": wf.statuses(workflow),
            "transitions": [t for t in wf.transitions(workflow) if isinstance(t.get("from"), list)],
            "description": describe(workflow),
            "problems": problems,
            "other_problems": other_problems,
            "config": editor_config(demarche, version.definition),
            "form": form,
            "heading": _("Circuit de traitement"),
            "tab": "workflow",
        },
        status=status,
    )


@login_required
def workflow_editor(request, demarche_id):
    demarche = access_demarche_admin(request.user, demarche_id)
    return _render_editor(request, demarche)


def _saved_problems(demarche: Demarche, version: DemarcheVersion) -> dict[str, list[str]]:
    """What the editor shows after a save: the circuit's problems, and the others apart."""
    problems, other_problems = split_problems(demarche, version)
    return {"problems": problems, "other_problems": other_problems}


@login_required
@require_POST
def workflow_save(request, demarche_id):
    """JSON in ({"workflow": …}), JSON out ({"saved", "version", "problems", "other_problems"});
    or the no-JavaScript form."""
    demarche = access_demarche_admin(request.user, demarche_id)
    return save_draft(
        request,
        demarche,
        part="workflow",
        form_class=WorkflowForm,
        store=services.save_workflow,
        problems=lambda version, _checked: _saved_problems(demarche, version),
        render_page=lambda form: _render_editor(request, demarche, form=form, status=400),
        saved_messages=(
            _(
                "Circuit enregistré dans le brouillon (version %(n)d), avec des points à "
                "corriger avant de publier."
            ),
            _("Circuit enregistré dans le brouillon (version %(n)d)."),
        ),
        page="backoffice:demarche_workflow",
    )


@login_required
@require_http_methods(["GET", "POST"])
def workflow_reset(request, demarche_id):
    """Replace the draft's workflow with the default one. Asks first: the page's button goes
    here without "confirm" (the editor asks in the browser and sends it)."""
    demarche = access_demarche_admin(request.user, demarche_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        version, _checked = services.save_workflow(
            actor=request.user,
            demarche=demarche,
            workflow=default_workflow(demarche.implicit_decision),
        )
        messages.success(
            request,
            _("Le circuit du brouillon (version %(n)d) est remplacé par le circuit par défaut.")
            % {"n": version.number},
        )
        return redirect("backoffice:demarche_workflow", demarche.pk)
    return render(
        request,
        "backoffice/demarches/workflow_reset.html",
        {"demarche": demarche, "heading": _("Circuit de traitement"), "tab": "workflow"},
    )


@login_required
def workflow_diagram(request, demarche_id):
    """The diagram alone, read only, big: the draft's workflow (or the latest version's), or
    that of the version given by ?version=n."""
    demarche = access_demarche_admin(request.user, demarche_id)
    version, _draft = editing_version(demarche)
    number = request.GET.get("version", "")
    if number.isdigit():
        version = demarche.versions.filter(number=int(number)).first() or version
    return render(
        request,
        "backoffice/demarches/workflow_diagram.html",
        {
            "demarche": demarche,
            "version": version,
            "workflow": version.workflow,
            "description": describe(version.workflow),
        },
    )
