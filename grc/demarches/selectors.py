"""Reads of grc.demarches for the portal and the backoffice."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
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


_SEARCHED_FIELDS = ("title", "summary", "description", "category")
SEARCH_MAX_LENGTH = 100


def search_terms(query: str) -> list[str]:
    """The words of a citizen's search, control characters (NUL breaks PostgreSQL) and
    excess length dropped."""
    cleaned = "".join(c if c.isprintable() else " " for c in query[:SEARCH_MAX_LENGTH])
    return cleaned.split()[:10]


def search_published_demarches(collectivite: Collectivite, query: str) -> QuerySet[Demarche]:
    """The published démarches holding every word of `query` in their title, summary,
    description or category, accents and case ignored (PostgreSQL unaccent)."""
    demarches = published_demarches(collectivite)
    for term in search_terms(query):
        match = Q()
        for name in _SEARCHED_FIELDS:
            match |= Q(**{f"{name}__unaccent__icontains": term})
        demarches = demarches.filter(match)
    return demarches


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
    """What the citizen sees of a filed dossier's life: its status as they name it, the visible
    events in order, the message thread with its files, the documents and acknowledgements,
    what is asked of them and the steps they may take. A fixed number of queries, however
    long the dossier's life."""
    from collections import defaultdict

    from django.db.models import F

    from grc.demarches.models import Acknowledgement, Message, PieceRequest
    from grc.demarches.workflow import definition as wf

    workflow = dossier.version.workflow
    changes = list(dossier.status_changes.all())
    status = _status_as_seen(workflow, dossier.status, changes)
    # Every file the citizen may download (those of internal notes left out), with the message
    # that carried it, if any.
    attachments = list(
        dossier.attachments.exclude(message_link__message__direction=Message.Direction.NOTE)
        .annotate(message_id=F("message_link__message_id"))
        .order_by("uploaded_at", "id")
    )
    files_of_message: dict[int, list] = defaultdict(list)
    files_of_request: dict[str, list] = defaultdict(list)
    for attachment in attachments:
        if attachment.message_id is not None:
            files_of_message[attachment.message_id].append(attachment)
        elif attachment.field_key.startswith("pieces:"):
            files_of_request[attachment.field_key].append(attachment)
    thread = [
        {"message": message, "files": files_of_message.get(message.pk, [])}
        for message in dossier.messages.exclude(direction=Message.Direction.NOTE)
    ]
    requests = list(dossier.piece_requests.all())
    documents = [d for d in dossier.documents.all() if d.visible_to_citizen]
    acknowledgements = list(dossier.acknowledgements.all())

    events: list[dict[str, Any]] = []
    for change in changes:
        step = wf.status(workflow, change.to_status) or {}
        if step.get("visible") and change.from_status != change.to_status:
            events.append(
                {
                    "at": change.at,
                    "kind": "status",
                    "label": step.get("citizen_label") or change.to_status,
                    "comment": change.comment,
                }
            )
    for item in thread:
        message = item["message"]
        events.append({"at": message.created_at, "kind": f"message_{message.direction}", **item})
    for request in requests:
        events.append({"at": request.requested_at, "kind": "pieces_requested", "request": request})
        if request.answered_at is not None:
            events.append(
                {
                    "at": request.answered_at,
                    "kind": "pieces_sent",
                    "request": request,
                    "files": files_of_request.get(f"pieces:{request.pk}", []),
                }
            )
    for document in documents:
        events.append({"at": document.created_at, "kind": "document", "document": document})
    for ack in acknowledgements:
        if ack.status == Acknowledgement.Status.SENT and ack.sent_at:
            events.append({"at": ack.sent_at, "kind": "acknowledgement", "acknowledgement": ack})
    events.sort(key=lambda event: event["at"])

    open_request = next((r for r in requests if r.status == PieceRequest.Status.OPEN), None)
    actions = [
        t
        for t in wf.transitions_from(workflow, dossier.status)
        if t.get("by") == "citizen"
        and t.get("key") != "pieces_recues"  # done by sending the pieces
        # While pieces are awaited the workflow only lets the citizen end the dossier.
        and (open_request is None or (wf.status(workflow, t.get("to")) or {}).get("terminal"))
    ]
    return {
        "status": status,
        "timeline": events,
        "thread": thread,
        "documents": documents,
        "acknowledgements": acknowledgements,
        "attachments": {a.pk: a for a in attachments},
        "piece_request": open_request,
        "actions": actions,
        "closed": dossier.closed_at is not None,
    }


def _status_as_seen(workflow: dict[str, Any], key: str, changes: list) -> dict[str, Any]:
    """The current status, or, while the dossier is in a status the citizen does not see
    (an internal step), the last one they saw."""
    from grc.demarches.workflow import definition as wf

    status = wf.status(workflow, key) or {}
    if status.get("visible"):
        return status
    for change in reversed(changes):
        seen = wf.status(workflow, change.to_status) or {}
        if seen.get("visible"):
            return seen
    return {}


def citizen_attachment(dossier, attachment_id: int):
    """A file of the dossier its citizen may download (any but those of internal notes)."""
    from grc.demarches.models import Message

    return (
        dossier.attachments.exclude(message_link__message__direction=Message.Direction.NOTE)
        .filter(pk=attachment_id)
        .first()
    )
