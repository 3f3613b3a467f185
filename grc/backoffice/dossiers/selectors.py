"""Reads for the dossier page of the agents' workspace: everything that happened to a dossier in
one timeline, and the choices an agent has on it. A fixed number of queries however long the
dossier's life (each kind of row is read once)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, QuerySet

from grc.backoffice.models import CannedResponse
from grc.base import access as base_access
from grc.base.models import Membership, Service, User
from grc.channels.failures import FailedDelivery, failed_deliveries
from grc.channels.models import BouncedAddress
from grc.channels.replies import reply_channel
from grc.channels.selectors import bounced_addresses
from grc.demarches.models import Attachment, Dossier, Transfer
from grc.demarches.selectors import summary_rows
from grc.demarches.services.assignment import ANNOTATION_KEY, TAG_MAX_LENGTH
from grc.demarches.workflow import definition as wf

# Shown in the page (an <img> or an <iframe>); any other type is offered as a download only.
PREVIEW_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PREVIEW_PDF = "application/pdf"
PREVIEWABLE = PREVIEW_IMAGES | {PREVIEW_PDF}


def status_of(dossier: Dossier, key: str | None = None) -> dict[str, Any]:
    """A status of the dossier's workflow as agents read it (its key when the workflow no
    longer names it)."""
    key = key or dossier.status
    found = wf.status(dossier.version.workflow, key) or {}
    return {
        "key": key,
        "label": found.get("label") or key,
        "colour": found.get("colour") or "#666666",
        "category": found.get("category", ""),
        "terminal": bool(found.get("terminal")),
    }


def field_labels(workflow: dict[str, Any]) -> dict[str, str]:
    """The labels of the transitions' fields, by key: their values land in the annotations."""
    return {
        spec["key"]: spec.get("label") or spec["key"]
        for step in wf.transitions(workflow)
        for spec in step.get("fields") or []
        if isinstance(spec, dict) and spec.get("key")
    }


def _labelled(values: dict[str, Any], labels: dict[str, str]) -> list[tuple[str, Any]]:
    return [(labels.get(key, key), value) for key, value in values.items()]


def service_transitions(dossier: Dossier) -> list[dict[str, Any]]:
    """The transitions the dossier's service may take from its current status; the one that
    asks the citizen for missing pieces is marked."""
    if dossier.closed_at is not None:
        return []
    steps = []
    for step in wf.transitions_from(dossier.version.workflow, dossier.status):
        if step.get("by") != "service":
            continue
        asks_pieces = any(a.get("type") == "request_pieces" for a in step.get("actions") or [])
        steps.append({**step, "asks_pieces": asks_pieces})
    return steps


def service_transition(dossier: Dossier, key: str) -> dict[str, Any] | None:
    return next((t for t in service_transitions(dossier) if t["key"] == key), None)


@dataclass
class DossierPage:
    dossier: Dossier
    status: dict[str, Any]
    sections: list[dict[str, Any]]
    attachments: list[Attachment]
    timeline: list[dict[str, Any]]
    open_piece_request: Any
    transitions: list[dict[str, Any]]
    other_services: list[Service]
    canned_responses: list[CannedResponse]
    annotation: str
    extra_annotations: list[tuple[str, Any]] = field(default_factory=list)
    bounces: list[BouncedAddress] = field(default_factory=list)
    failed_deliveries: list[FailedDelivery] = field(default_factory=list)
    reply_channel: str = "web"


def dossier_page(dossier: Dossier) -> DossierPage:
    """What the dossier page shows. `dossier` comes from access_staff_dossier (its démarche,
    version, collectivité, service, usager and assignee joined)."""
    workflow = dossier.version.workflow
    attachments = list(
        dossier.attachments.annotate(
            message_id=F("message_link__message_id"),
            message_direction=F("message_link__message__direction"),
        ).order_by("uploaded_at", "id")
    )
    files_of_message: dict[int, list[Attachment]] = defaultdict(list)
    files_of_request: dict[str, list[Attachment]] = defaultdict(list)
    for attachment in attachments:
        attachment.previewable = attachment.content_type in PREVIEWABLE
        attachment.is_image = attachment.content_type in PREVIEW_IMAGES
        attachment.is_pdf = attachment.content_type == PREVIEW_PDF
        if attachment.message_id is not None:
            files_of_message[attachment.message_id].append(attachment)
        elif attachment.field_key.startswith("pieces:"):
            files_of_request[attachment.field_key].append(attachment)

    labels = field_labels(workflow)
    events: list[dict[str, Any]] = []
    for change in dossier.status_changes.select_related("actor"):
        events.append(
            {
                "at": change.at,
                "kind": "status",
                "change": change,
                "data": _labelled(change.data or {}, labels),
                "from": status_of(dossier, change.from_status) if change.from_status else None,
                "to": status_of(dossier, change.to_status),
            }
        )
    # Every channel the same way: the message, its channel, and how it fared on the way
    # (the e-mail received, the SMS delivered, the reply handed to a channel's connector).
    for message in dossier.messages.select_related(
        "author", "inbound_email", "sms", "hook_delivery__channel", "hook_message__channel"
    ):
        events.append(
            {
                "at": message.created_at,
                "kind": f"message_{message.direction}",
                "message": message,
                "files": files_of_message.get(message.pk, []),
            }
        )
    requests = list(dossier.piece_requests.select_related("requested_by"))
    for request in requests:
        events.append({"at": request.requested_at, "kind": "pieces_requested", "request": request})
        if request.answered_at is not None:
            events.append(
                {
                    "at": request.answered_at,
                    "kind": "pieces_received",
                    "request": request,
                    "files": files_of_request.get(f"pieces:{request.pk}", []),
                }
            )
    for call in dossier.calls.select_related("agent"):
        events.append({"at": call.started_at, "kind": "call", "call": call})
    for document in dossier.documents.all():
        events.append({"at": document.created_at, "kind": "document", "document": document})
    for ack in dossier.acknowledgements.all():
        events.append(
            {"at": ack.sent_at or ack.created_at, "kind": "acknowledgement", "acknowledgement": ack}
        )
    for run in dossier.action_runs.all():
        events.append(
            {
                "at": run.finished_at or run.created_at,
                "kind": "action",
                "run": run,
                "type": (run.spec or {}).get("type", ""),
            }
        )
    for notification in dossier.notifications.all():
        events.append(
            {
                "at": notification.sent_at or notification.created_at,
                "kind": "notification",
                "notification": notification,
            }
        )
    transfers = Transfer.objects.filter(dossier=dossier) | Transfer.objects.filter(
        to_dossier=dossier
    )
    for transfer in transfers.select_related(
        "from_service", "to_service", "from_collectivite", "to_collectivite", "actor", "dossier"
    ):
        events.append(
            {
                "at": transfer.at,
                "kind": "transfer_in" if transfer.to_dossier_id == dossier.pk else "transfer_out",
                "transfer": transfer,
            }
        )
    events.sort(key=lambda event: event["at"])

    annotations = dict(dossier.annotations or {})
    annotation = annotations.pop(ANNOTATION_KEY, "")
    open_request = next((r for r in requests if r.status == r.Status.OPEN), None)
    return DossierPage(
        dossier=dossier,
        status=status_of(dossier),
        sections=summary_rows(
            dossier.version.definition,
            dossier.answers,
            attachments={a.pk: a for a in attachments},
        ),
        attachments=attachments,
        timeline=events,
        open_piece_request=open_request,
        transitions=service_transitions(dossier),
        other_services=list(other_collectivites_services(dossier)) if _may_leave(workflow) else [],
        canned_responses=list(canned_responses_for(dossier)),
        annotation=annotation if isinstance(annotation, str) else str(annotation),
        extra_annotations=_labelled(annotations, labels),
        failed_deliveries=failed_deliveries(dossier),
        reply_channel=reply_channel(dossier),
        bounces=bounced_addresses(
            dossier.collectivite_id,
            [dossier.contact_email, dossier.usager.email if dossier.usager_id else ""],
        ),
    )


def _may_leave(workflow: dict[str, Any]) -> bool:
    # transfer_to_collectivite takes the workflow's "transmettre" transition.
    return wf.transition(workflow, "transmettre") is not None


def collectivite_services(dossier: Dossier) -> QuerySet[Service]:
    return Service.objects.filter(collectivite_id=dossier.collectivite_id, is_active=True).order_by(
        "name"
    )


def other_collectivites_services(dossier: Dossier) -> QuerySet[Service]:
    """Where a dossier may be forwarded when another collectivité of the platform is
    competent (CRPA L114-2)."""
    return (
        Service.objects.filter(is_active=True, collectivite__is_active=True)
        .exclude(collectivite_id=dossier.collectivite_id)
        .select_related("collectivite")
        .order_by("collectivite__name", "name")
    )


def canned_responses_for(dossier: Dossier) -> QuerySet[CannedResponse]:
    if dossier.service_id is None:
        return CannedResponse.objects.none()
    return CannedResponse.objects.filter(service_id=dossier.service_id, is_active=True)


def colleagues(user) -> QuerySet[User]:
    """The active staff of the collectivités where `user` works (bulk assignment)."""
    staff = Membership.objects.filter(
        collectivite__in=base_access.staff_collectivites(user)
    ).values("user_id")
    return User.objects.filter(pk__in=staff, is_active=True).order_by(
        "last_name", "first_name", "email"
    )


def dossier_attachment(dossier: Dossier, attachment_id) -> Attachment | None:
    """Any file of the dossier (form, pieces, messages and notes): staff see them all."""
    try:
        return dossier.attachments.filter(pk=int(attachment_id)).first()
    except (TypeError, ValueError):
        return None


def bulk_choices(user, dossiers) -> dict[str, Any]:
    """What the bulk form of a list offers for `dossiers` (the rows shown): the agents of the
    actor's collectivités and the service transitions of those dossiers' workflows. Two
    queries, however many rows."""
    from grc.demarches.models import DemarcheVersion

    version_ids = {d.version_id for d in dossiers}
    seen: dict[str, str] = {}
    for version in DemarcheVersion.objects.filter(pk__in=version_ids).only("workflow"):
        for step in wf.transitions(version.workflow or {}):
            if step.get("by") == "service" and step.get("key") not in seen:
                seen[step["key"]] = step.get("label") or step["key"]
    return {
        "bulk_agents": list(colleagues(user)),
        "bulk_transitions": sorted(seen.items(), key=lambda item: item[1]),
        "bulk_tag_max_length": TAG_MAX_LENGTH,
    }
