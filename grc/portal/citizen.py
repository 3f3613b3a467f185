"""A citizen following their requests: "Mes demandes" on a collectivité's portal, and the
lookup by reference and tracking code for a dossier filed without an account."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from grc.base import ratelimit
from grc.base.selectors import collectivite_or_404
from grc.demarches import access
from grc.portal.selectors import citizen_dossiers, dossier_rows


@login_required
def my_dossiers(request, slug):
    collectivite = collectivite_or_404(request, slug)
    rows = dossier_rows(citizen_dossiers(request.user, collectivite=collectivite))
    return render(
        request,
        "portal/citizen/my_dossiers.html",
        {
            "collectivite": collectivite,
            "open_rows": [r for r in rows if not r.closed],
            "closed_rows": [r for r in rows if r.closed],
        },
    )


class TrackingForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Référence du dossier"),
        max_length=40,
        help_text=gettext_lazy(
            "Elle figure sur l'accusé de réception, par exemple MAIRIE-2026-000123."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    code = forms.CharField(
        label=gettext_lazy("Code de suivi"),
        max_length=20,
        help_text=gettext_lazy(
            "8 lettres, données à l'envoi du dossier et dans l'accusé de réception."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )


@never_cache
def tracking(request, slug):
    """Reference + tracking code → the dossier, in this browser. A wrong code and someone
    else's reference get the very same answer as a reference that does not exist."""
    collectivite = collectivite_or_404(request, slug)
    form = TrackingForm(request.POST or None, initial={"reference": request.GET.get("reference")})
    status = 200
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, "tracking_lookup"):
            return ratelimit.refusal(
                request,
                what=_(
                    "Trop de recherches de dossier en peu de temps depuis votre connexion, "
                    "pour protéger les dossiers de chacun."
                ),
            )
        found = access.grant_tracking_access(
            request,
            collectivite=collectivite,
            reference=form.cleaned_data["reference"],
            code=form.cleaned_data["code"],
        )
        if found is not None:
            return redirect("portal:dossier", collectivite.slug, found.uuid)
        form.add_error(
            None,
            _(
                "Aucun dossier ne correspond à cette référence et à ce code de suivi. "
                "Vérifiez-les sur votre accusé de réception."
            ),
        )
        status = 200  # the same page whether the reference exists or not
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "portal/citizen/tracking.html",
        {"collectivite": collectivite, "form": form},
        status=status,
    )
