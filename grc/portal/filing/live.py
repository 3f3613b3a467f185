"""What a page of a draft does in the background with JavaScript (grc/static/grc/form.js):
save the answers as they are typed, send a chosen file at once, take a file back. Each answers
JSON, goes through the same checks and services as the page sent without JavaScript, and says
in French what went wrong."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grc.base.selectors import collectivite_or_404
from grc.demarches.services import dossiers as dossier_services
from grc.portal.filing.pages import PageFlow
from grc.portal.filing.session import LoginAgain, expired_message, own_draft


def _refusal(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"errors": [message], **extra}, status=status)


def _flow(request, slug, draft, page) -> PageFlow | JsonResponse:
    collectivite = collectivite_or_404(request, slug)
    try:
        dossier = own_draft(request, draft, collectivite, page_key=page)
        return PageFlow(request, dossier, page)
    except LoginAgain:
        page_url = reverse("portal:page", args=[slug, draft, page])
        return _refusal(expired_message(), 401, login_url=redirect_to_login(page_url).url)
    except Http404:
        return _refusal(_("Ce brouillon n'est plus disponible : il a peut-être été envoyé."), 404)


@require_POST
def autosave(request, slug, draft, page):
    """The page's answers saved as they stand (files apart): what is valid is kept, nothing is
    reported as an error (the page does that when it is sent)."""
    flow = _flow(request, slug, draft, page)
    if isinstance(flow, JsonResponse):
        return flow
    try:
        flow.keep(request.POST)
    except ValidationError as refusal:
        return _refusal(" ".join(refusal.messages), 409)
    saved = timezone.localtime(flow.dossier.updated_at)
    time = _("%(hour)d h %(minute)02d") % {"hour": saved.hour, "minute": saved.minute}
    return JsonResponse(
        {
            "saved_at": saved.isoformat(),
            "message": _("Brouillon enregistré à %(time)s") % {"time": time},
        }
    )


@require_POST
def upload(request, slug, draft, page):
    """One file for one file input of the page (`field`: the input's answer name), checked
    and stored like a file sent with the page; its id, name and size."""
    flow = _flow(request, slug, draft, page)
    if isinstance(flow, JsonResponse):
        return flow
    key = flow.file_field_name(request.POST.get("field", ""))
    if key is None:
        return _refusal(_("Ce champ n'attend pas de fichier."), 400)
    chosen = request.FILES.get("file")
    if chosen is None:
        return _refusal(_("Choisissez un fichier."), 400)
    try:
        attachment = dossier_services.attach_file(
            dossier=flow.dossier, field_key=key, upload=chosen, actor=request.user
        )
    except ValidationError as refusal:
        return JsonResponse({"errors": refusal.messages}, status=400)
    return JsonResponse(
        {
            "id": attachment.pk,
            "name": attachment.original_name,
            "size": filesizeformat(attachment.size),
        },
        status=201,
    )


@require_POST
def detach(request, slug, draft, page, attachment):
    """A file the person takes back out of the draft before sending."""
    flow = _flow(request, slug, draft, page)
    if isinstance(flow, JsonResponse):
        return flow
    try:
        dossier_services.detach_file(dossier=flow.dossier, attachment_id=attachment)
    except ValidationError as refusal:
        return JsonResponse({"errors": refusal.messages}, status=400)
    return JsonResponse({"removed": attachment})
