"""Messages from the other channels (social networks, chat, external sites) through their
connectors: POST /api/canaux/webhooks/{collectivite}/{channel}/messages, signed with the
channel's secret (X-GRC-Timestamp, X-GRC-Signature). The contract: docs/channels.md."""

from __future__ import annotations

import json
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from grc.channels.hooks import services, signing

router = Router(tags=["canaux externes"])


class SenderIn(Schema):
    name: str = Field("", description="Nom affiché (« Prénom Nom »)")
    email: str = ""
    phone: str = Field("", description="Numéro, français ou international")
    handle: str = Field("", description="Identifiant sur le réseau (@pseudo)")


class AttachmentIn(Schema):
    filename: str
    content_base64: str


class HookMessageIn(Schema):
    id: str = Field(..., description="Identifiant du message chez l'expéditeur (idempotence)")
    thread: str = Field("", description="Identifiant de la conversation chez l'expéditeur")
    reference: str = Field("", description="Référence d'un dossier (MAIRIE-2026-000123)")
    from_: SenderIn = Field(default_factory=SenderIn, alias="from")
    text: str = Field("", description="Obligatoire sans pièce jointe")
    attachments: list[AttachmentIn] = []
    sent_at: str = Field("", description="Date ISO 8601 avec fuseau horaire")


def _inlined(schema: dict) -> dict:
    """The JSON schema with its $defs written in place: OpenAPI would look for "#/$defs/…" at
    the root of the whole document."""
    defs = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


class AnswerOut(Schema):
    status: Literal["threaded", "opened", "quarantined"]
    dossier: str | None
    duplicate: bool


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] = {}


def _error(status: int, detail: str, errors: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": errors or {}}, status=status)


def _too_big() -> JsonResponse:
    return _error(
        413,
        _("Message trop volumineux : %(n)s Mo au plus, pièces jointes comprises.")
        % {"n": services.MAX_BODY_BYTES // (1024 * 1024)},
    )


@router.post(
    "/{collectivite_slug}/{channel_slug}/messages",
    auth=None,
    url_name="hook_message",
    response={
        200: AnswerOut,
        201: AnswerOut,
        202: AnswerOut,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _inlined(HookMessageIn.model_json_schema())}
            },
        }
    },
    summary="Un message reçu par un canal externe",
    description=(
        "Signé par le secret du canal : X-GRC-Timestamp (heure Unix) et X-GRC-Signature "
        "(sha256=HMAC-SHA256 de « horodatage.corps »). 201 : nouveau dossier ; 200 : ajouté à "
        "un dossier, ou déjà reçu (duplicate) ; 202 : gardé en quarantaine."
    ),
)
def receive_message(request, collectivite_slug: str, channel_slug: str):
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > services.MAX_BODY_BYTES:
        return _too_big()
    hook = services.active_channel(collectivite_slug, channel_slug)
    if hook is None:
        return _error(404, _("Canal inconnu ou inactif."))
    # Read from the stream, not request.body: Django's in-memory limit for bodies is smaller
    # than ours (attachments in base64).
    body = request.read(services.MAX_BODY_BYTES + 1)
    if len(body) > services.MAX_BODY_BYTES:
        return _too_big()
    try:
        signing.verify(
            hook.secret,
            timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
            given=request.headers.get(signing.SIGNATURE_HEADER),
            body=body,
        )
    except signing.BadSignature as error:
        return _error(401, str(error))
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, _("Le corps de la requête n'est pas du JSON valide."))
    try:
        incoming = services.parse_payload(payload)
    except ValidationError as error:
        errors = {name: " ".join(messages) for name, messages in error.message_dict.items()}
        if "__all__" in errors:
            return _error(400, errors["__all__"])
        return _error(422, _("Message invalide."), errors)
    answer = services.receive_message(hook=hook, incoming=incoming, payload=payload)
    return JsonResponse(answer.as_json(), status=answer.http_status)
