"""Delivery reports of the SMS provider: POST /api/canaux/sms/statut with the JSON report
{"id": <the provider's id of the SMS>, "status": "delivered"|"failed", "error": "..."} and the
header X-GRC-Signature: sha256=<HMAC-SHA256 of the body, keyed by the callback secret>."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema

from grc.channels.sms import services

router = Router(tags=["SMS"])


class ReportIn(Schema):
    id: str
    status: str
    error: str = ""


class ReportOut(Schema):
    id: str
    status: str


class ErrorOut(Schema):
    detail: str


@router.post(
    "/statut",
    auth=None,
    response={200: ReportOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ReportIn.model_json_schema()}},
        }
    },
    summary="Accusé de réception d'un SMS",
)
def delivery_report(request):
    try:
        sms = services.record_delivery_report(
            raw=request.body, signature=request.headers.get("X-GRC-Signature", "")
        )
    except services.BadReport as error:
        return JsonResponse({"detail": str(error)}, status=error.status)
    except services.BadSignature:
        return JsonResponse(
            {"detail": _("Signature absente ou fausse, ou SMS inconnu.")}, status=401
        )
    return {"id": sms.provider_id, "status": sms.status}
