"""Reads of grc.demarches for the portal and the backoffice."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from grc.base.models import Collectivite
from grc.demarches import answers, fieldkinds
from grc.demarches.definition import has_answer
from grc.demarches.models import Demarche


def published_demarches(collectivite: Collectivite) -> QuerySet[Demarche]:
    return (
        Demarche.objects.filter(collectivite=collectivite, state=Demarche.State.PUBLISHED)
        .exclude(who_may_file=Demarche.WhoMayFile.AGENTS)
        .order_by("category", "title")
    )


def demarche_for_portal(collectivite: Collectivite, slug: str) -> Demarche:
    demarche = (
        Demarche.objects.filter(collectivite=collectivite, slug=slug)
        .exclude(state=Demarche.State.DRAFT)
        .select_related("service")
        .first()
    )
    if demarche is None:
        raise Http404
    return demarche


def summary_rows(
    definition: dict[str, Any], given: dict[str, Any], *, attachments: dict[int, Any]
) -> list[dict[str, Any]]:
    """The answers as a person reads them, page by page (summary, dossier page, PDF)."""
    sections = []
    for page in answers.visible_pages(definition, given):
        rows = [
            _row(spec, given, attachments)
            for spec in page.get("fields", [])
            if has_answer(spec) and spec["key"] in given
        ]
        if rows:
            sections.append({"page": page, "rows": rows})
    return sections


def _row(spec, given, attachments):
    value = given.get(spec["key"])
    if spec["type"] == "block":
        items = [
            [
                _row(sub, item, attachments)
                for sub in spec.get("fields", [])
                if has_answer(sub) and sub["key"] in item
            ]
            for item in value or []
        ]
        return {"spec": spec, "entries": items}
    if spec["type"] == "file":
        return {"spec": spec, "files": [attachments[i] for i in value or [] if i in attachments]}
    return {"spec": spec, "text": fieldkinds.display(spec, value)}


def located_errors(definition: dict[str, Any], errors: dict[str, list[str]]) -> list[dict]:
    """Errors of a whole dossier with the question and the page they belong to, so that the
    summary page can send the person to the right place."""
    where = {}
    for page in definition.get("pages", []):
        for spec in page.get("fields", []):
            where[spec.get("key")] = (page, spec)
    located = []
    for key, messages in errors.items():
        top = key.split(".", 1)[0]
        page, spec = where.get(top, (None, None))
        label = spec.get("label") if spec else ""
        if spec and spec.get("type") == "block" and "." in key:
            index, sub_key = key.split(".")[1:3]
            sub = next((s for s in spec.get("fields", []) if s.get("key") == sub_key), {})
            label = f"{spec.get('item_label') or label} {int(index) + 1} – {sub.get('label', '')}"
        located.append({"key": key, "label": label, "page": page, "messages": messages})
    return located


def citizen_view(dossier) -> dict[str, Any]:
    """What the citizen sees of a dossier's life: its status as they name it, the visible steps
    and messages in order, the documents issued, what is asked of them and what they can do."""
    from grc.demarches.models import Message
    from grc.demarches.workflow import definition as wf

    workflow = dossier.version.workflow
    status = wf.status(workflow, dossier.status) or {}
    events = []
    for change in dossier.status_changes.all():
        step = wf.status(workflow, change.to_status) or {}
        if step.get("visible"):
            events.append(
                {
                    "at": change.at,
                    "kind": "status",
                    "label": step.get("citizen_label", change.to_status),
                    "colour": step.get("colour"),
                    "comment": change.comment,
                }
            )
    for message in dossier.messages.exclude(direction=Message.Direction.NOTE):
        events.append({"at": message.created_at, "kind": message.direction, "label": message.body})
    events.sort(key=lambda event: event["at"])
    actions = [
        t
        for t in wf.transitions_from(workflow, dossier.status)
        if t.get("by") == "citizen" and t.get("key") != "pieces_recues"
    ]
    return {
        "status": status,
        "timeline": events,
        "documents": [d for d in dossier.documents.all() if d.visible_to_citizen],
        "piece_request": dossier.piece_requests.filter(status="open").first(),
        "actions": actions,
    }
