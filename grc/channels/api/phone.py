"""The telephony system (CTI) tells us of calls on a line of the collectivité:
POST /api/canaux/telephonie/lignes/{line_id}/appels with `Authorization: Bearer <secret of the
line>` and a JSON event. The answer names the citizen records with the caller's number and
their open dossiers, and the address of the agents' incoming-call screen, so that the
telephony's own screen can link to it."""

from __future__ import annotations

import datetime
import json
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import ValidationError as SchemaError

from grc.base.access import NotFound
from grc.base.validators import normalize_phone
from grc.channels import calls

router = Router(tags=["téléphonie"])


class CallEventIn(Schema):
    call_id: str = Field(..., min_length=1, max_length=200, description="Identifiant de l'appel")
    event: Literal["ringing", "answered", "ended", "missed"]
    from_: str = Field("", alias="from", max_length=40, description="Numéro appelant")
    to: str = Field("", max_length=40, description="Numéro appelé")
    agent: str = Field("", max_length=254, description="E-mail de l'agent qui décroche")
    at: datetime.datetime
    duration: int | None = Field(None, ge=0, description="Durée en secondes")
    direction: Literal["in", "out"] = "in"


class DossierOut(Schema):
    id: int
    reference: str
    demarche: str
    status: str
    status_label: str


class UsagerOut(Schema):
    id: int
    name: str
    dossiers: list[DossierOut]


class CallOut(Schema):
    call: int
    status: str
    usagers: list[UsagerOut]
    screen_url: str


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] = {}


def _error(status: int, detail: str, errors: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": errors or {}}, status=status)


def _bearer(request) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _field_errors(error: SchemaError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "body"
        found.setdefault(name, _("valeur manquante ou invalide (%(m)s)") % {"m": item["msg"]})
    return found


@router.post(
    "/lignes/{line_id}/appels",
    auth=None,
    response={200: CallOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CallEventIn.model_json_schema()}},
        }
    },
    summary="Un événement d'appel sur une ligne",
)
def call_event(request, line_id: int):
    try:
        line = calls.access_line(line_id, _bearer(request))
    except NotFound:
        return _error(404, _("Ligne inconnue ou inactive."))
    if line is None:
        return _error(401, _("Authentification refusée : secret de la ligne absent ou faux."))
    try:
        raw = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return _error(400, _("Le corps de la requête n'est pas du JSON valide."))
    if not isinstance(raw, dict):
        return _error(400, _("Le corps de la requête doit être un objet JSON."))
    try:
        data = CallEventIn.model_validate(raw)
    except SchemaError as error:
        return _error(422, _("Événement invalide."), _field_errors(error))
    if data.at.tzinfo is None:
        return _error(422, _("Événement invalide."), {"at": _("précisez le fuseau horaire")})
    citizen = data.to if data.direction == "out" else data.from_
    number = ""
    if citizen.strip() and citizen.strip().lower() not in ("anonymous", "private", "masque"):
        try:
            number = normalize_phone(citizen)
        except ValidationError as error:
            field = "to" if data.direction == "out" else "from"
            return _error(422, _("Numéro invalide."), {field: " ".join(error.messages)})
    call = calls.report_call_event(
        line=line,
        event=calls.CallEvent(
            call_id=data.call_id,
            event=data.event,
            number=number,
            at=data.at,
            direction=data.direction,
            agent_email=data.agent,
            duration=data.duration,
        ),
    )
    matches = calls.matching_records(line.collectivite_id, call.number, linked=call.usager)
    return {
        "call": call.pk,
        "status": call.status,
        "usagers": [
            {"id": m.usager.pk, "name": str(m.usager), "dossiers": m.dossiers} for m in matches
        ],
        "screen_url": (settings.GRC_BASE_URL or request.build_absolute_uri("/")).rstrip("/")
        + reverse("backoffice:call_incoming"),
    }
