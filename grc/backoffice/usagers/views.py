"""Citizen records in the backoffice: search, the 360° view, duplicates and their merge.
Access through grc.backoffice.usagers.selectors (NotFound outside one's collectivités); the
merge goes through grc.demarches.services.usagers_merge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grc.backoffice.usagers import selectors, services
from grc.demarches.services.usagers_merge import merge_usagers


@login_required
def usager_list(request):
    query = selectors.clean_query(request.GET.get("q", ""))
    results = selectors.search_usagers(request.user, query) if query else []
    if request.GET.get("q") and not query:
        messages.info(request, _("Saisissez un nom, une adresse e-mail ou un téléphone."))
    return render(
        request,
        "backoffice/usagers/list.html",
        {
            "section": "usagers",
            "query": query,
            "results": results,
            "searched": bool(query),
            "limit": selectors.SEARCH_LIMIT,
        },
    )


@login_required
def usager_detail(request, pk):
    usager = selectors.access_staff_usager(request.user, pk)
    if usager.merged_into_id is not None:
        messages.info(
            request,
            _("Cette fiche a été fusionnée dans celle de %(name)s : voici la fiche gardée.")
            % {"name": usager.merged_into},
        )
        return redirect("backoffice:usager_detail", usager.merged_into_id)
    record = selectors.record_360(request.user, usager)
    services.record_usager_viewed(
        usager=usager, actor=request.user, dossier_ids=[d.pk for d in record.dossiers]
    )
    return render(
        request, "backoffice/usagers/detail.html", {"section": "usagers", "record": record}
    )


def _pair(request, pk, other_pk):
    first = selectors.access_staff_usager(request.user, pk)
    second = selectors.access_staff_usager(request.user, other_pk)
    if first.pk == second.pk or first.collectivite_id != second.collectivite_id:
        raise selectors.NotFound
    return first, second


@login_required
def usager_compare(request, pk, other_pk):
    first, second = _pair(request, pk, other_pk)
    if first.merged_into_id or second.merged_into_id:
        messages.info(request, _("L'une de ces fiches a déjà été fusionnée."))
        return redirect("backoffice:usager_detail", first.pk)
    return render(
        request,
        "backoffice/usagers/compare.html",
        {
            "section": "usagers",
            "records": [first, second],
            "comparison": selectors.comparison(first, second),
        },
    )


@login_required
@require_POST
def usager_merge(request, pk, other_pk):
    first, second = _pair(request, pk, other_pk)
    choice = request.POST.get("kept")
    if choice not in (str(first.pk), str(second.pk)):
        messages.error(request, _("Choisissez la fiche à garder."))
        return redirect("backoffice:usager_compare", first.pk, second.pk)
    kept, merged = (first, second) if choice == str(first.pk) else (second, first)
    try:
        outcome = merge_usagers(kept=kept, merged=merged, actor=request.user)
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, problem)
        return redirect("backoffice:usager_detail", first.pk)
    moved = len(outcome.moved.get("demarches.dossier.usager", []))
    messages.success(
        request,
        _(
            "Les fiches sont fusionnées : %(n)d dossier(s) rattaché(s) à cette fiche ; "
            "l'autre fiche est conservée comme fusionnée."
        )
        % {"n": moved},
    )
    return redirect("backoffice:usager_detail", kept.pk)


@login_required
@require_POST
def usager_dismiss(request, pk, other_pk):
    first, second = _pair(request, pk, other_pk)
    try:
        services.dismiss_duplicate(first=first, second=second, actor=request.user)
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, problem)
    else:
        messages.success(request, _("C'est noté : ces deux fiches ne sont plus signalées."))
    return redirect("backoffice:usager_detail", first.pk)
