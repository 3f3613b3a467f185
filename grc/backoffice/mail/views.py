"""E-mails received, in the agents' workspace: the list (quarantine first), a message with its
text and raw download, taking it out of quarantine, the addresses in failure. Every URL reaches
the message through selectors.access_inbound_email (404 outside the person's scope)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from grc.backoffice.files import file_response
from grc.backoffice.forms import add_service_errors
from grc.backoffice.mail import selectors, services
from grc.base.access import NotFound
from grc.channels.models import InboundEmail

PER_PAGE = 50


class ReleaseForm(forms.Form):
    mode = forms.ChoiceField(
        label=gettext_lazy("Destination"),
        choices=[
            ("nouveau", gettext_lazy("Ouvrir un nouveau dossier")),
            ("dossier", gettext_lazy("Ajouter au dossier dont la référence suit")),
        ],
        widget=forms.RadioSelect,
        initial="nouveau",
    )
    reference = forms.CharField(
        label=gettext_lazy("Référence du dossier"),
        required=False,
        max_length=60,
        help_text=gettext_lazy("Par exemple SAB-2026-000123."),
    )

    def clean(self):
        data = super().clean()
        if data.get("mode") == "dossier" and not (data.get("reference") or "").strip():
            self.add_error("reference", _("Indiquez la référence du dossier."))
        if data.get("mode") == "nouveau":
            data["reference"] = ""
        return data


@login_required
def mail_list(request):
    if not selectors.may_see_mail(request.user):
        raise NotFound
    filtre = request.GET.get("filtre", "quarantaine")
    if filtre not in selectors.FILTERS:
        filtre = "quarantaine"
    page = Paginator(selectors.listed(request.user, filtre), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "backoffice/mail/list.html",
        {
            "section": "mail",
            "filtre": filtre,
            "filters": [
                ("quarantaine", _("En quarantaine")),
                ("tous", _("Tous")),
                ("non-remises", _("Avis de non-remise")),
            ],
            "page": page,
        },
    )


def _detail(request, inbound_email, *, form=None, status=200):
    may_release = (
        inbound_email.outcome == InboundEmail.Outcome.QUARANTINED
        and selectors.can_release(request.user, inbound_email)
    )
    return render(
        request,
        "backoffice/mail/detail.html",
        {
            "section": "mail",
            "mail": inbound_email,
            "may_release": may_release,
            "form": form or (ReleaseForm() if may_release else None),
        },
        status=status,
    )


@login_required
def mail_detail(request, mail_id):
    return _detail(request, selectors.access_inbound_email(request.user, mail_id))


@login_required
def mail_raw(request, mail_id):
    inbound_email = selectors.access_inbound_email(request.user, mail_id)
    try:
        handle = inbound_email.raw.open("rb")
    except (FileNotFoundError, ValueError):
        raise NotFound from None
    services.record_raw_download(actor=request.user, inbound_email=inbound_email)
    as_text = request.GET.get("format") == "texte"
    return file_response(
        handle,
        name=f"courriel-{inbound_email.pk}.{'txt' if as_text else 'eml'}",
        content_type="text/plain; charset=utf-8" if as_text else "message/rfc822",
    )


@login_required
@require_POST
def mail_release(request, mail_id):
    inbound_email = selectors.access_inbound_email(request.user, mail_id)
    if not selectors.can_release(request.user, inbound_email):
        raise NotFound
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            released = services.release_from_quarantine(
                actor=request.user,
                inbound_email=inbound_email,
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Le courriel est sorti de quarantaine : dossier %(ref)s.")
                % {"ref": released.dossier.reference},
            )
            return redirect("backoffice:mail_detail", mail_id=released.pk)
    return _detail(request, inbound_email, form=form, status=400)


@login_required
def mail_bounces(request):
    if not selectors.may_see_mail(request.user):
        raise NotFound
    rows = selectors.bounces_visible_to(request.user).select_related("collectivite")
    if request.GET.get("toutes") != "1":
        rows = rows.filter(cleared_at__isnull=True)
    page = Paginator(rows.order_by("-last_at", "-pk"), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/mail/bounces.html",
        {"section": "mail", "page": page, "all": request.GET.get("toutes") == "1"},
    )
