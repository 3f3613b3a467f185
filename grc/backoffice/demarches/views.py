"""Démarches in the backoffice: list, creation and settings, texts, publication, catalogue,
export and import. Views are thin: access through grc.demarches.access, writes through the
services of grc.demarches, which validate everything."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grc.backoffice.demarches import selectors
from grc.backoffice.demarches.forms import (
    AdoptForm,
    DemarcheSettingsForm,
    ImportForm,
    TextsForm,
    add_service_errors,
    error_lines,
)
from grc.demarches import texts
from grc.demarches.access import access_demarche_admin
from grc.demarches.services import demarches as services
from grc.demarches.services.exchange import export_demarche, import_demarche


def wants_json(request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


@login_required
def demarche_list(request):
    selectors.require_demarche_admin(request.user)
    demarches = list(selectors.demarches_for_list(request.user))
    rows = [{"demarche": d, "versions": selectors.version_numbers(d)} for d in demarches]
    several = request.user.is_platform_admin or len({d.collectivite_id for d in demarches}) > 1
    return render(
        request,
        "backoffice/demarches/list.html",
        {"rows": rows, "show_collectivite": several},
    )


@login_required
def demarche_create(request):
    selectors.require_demarche_admin(request.user)
    form = DemarcheSettingsForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            demarche = services.create_demarche(
                actor=request.user,
                collectivite=form.chosen_collectivite(),
                data=form.settings_data(),
                service=form.cleaned_data.get("service"),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("La démarche « %(t)s » est créée, en brouillon.") % {"t": demarche}
            )
            return redirect("backoffice:demarche_builder", demarche.pk)
    return render(request, "backoffice/demarches/create.html", {"form": form})


@login_required
def demarche_overview(request, demarche_id, problems=None):
    demarche = access_demarche_admin(request.user, demarche_id)
    versions = demarche.versions.select_related("published_by").order_by("-number")
    draft = next((v for v in versions if v.status == v.Status.DRAFT), None)
    if problems is None and draft is not None:
        problems = services.publication_problems(demarche, draft)
    return render(
        request,
        "backoffice/demarches/overview.html",
        {
            "demarche": demarche,
            "versions": versions,
            "draft": draft,
            "problems": problems or [],
            "tab": "overview",
        },
    )


@login_required
def demarche_settings(request, demarche_id):
    demarche = access_demarche_admin(request.user, demarche_id)
    form = DemarcheSettingsForm(request.POST or None, user=request.user, demarche=demarche)
    if request.method == "POST" and form.is_valid():
        changes = form.settings_data()
        if "service" in form.fields:
            changes["service"] = form.cleaned_data.get("service")
        try:
            services.update_demarche(actor=request.user, demarche=demarche, changes=changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Les réglages sont enregistrés."))
            return redirect("backoffice:demarche_settings", demarche.pk)
    return render(
        request,
        "backoffice/demarches/settings.html",
        {"demarche": demarche, "form": form, "tab": "settings"},
    )


@login_required
def demarche_texts(request, demarche_id):
    demarche = access_demarche_admin(request.user, demarche_id)
    form = TextsForm(request.POST or None, demarche=demarche)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_demarche(
                actor=request.user, demarche=demarche, changes={"texts": form.texts_data()}
            )
        except ValidationError as error:
            form.add_texts_errors(error)
        else:
            messages.success(request, _("Les textes sont enregistrés."))
            return redirect("backoffice:demarche_texts", demarche.pk)
    samples = {}
    if request.method != "POST":
        context = texts.sample_context()
        for key, default in texts.DEFAULT_TEXTS.items():
            try:
                samples[key] = texts.render_text(
                    (demarche.texts or {}).get(key) or default, context
                )
            except texts.TemplateRenderError as error:
                samples[key] = str(error)
    rows = [{"field": form[key], "sample": samples.get(key)} for key in texts.DEFAULT_TEXTS]
    return render(
        request,
        "backoffice/demarches/texts.html",
        {
            "demarche": demarche,
            "form": form,
            "rows": rows,
            "variables": texts.VARIABLES,
            "filters": texts.FILTERS,
            "tab": "texts",
        },
    )


@login_required
@require_POST
def demarche_publish(request, demarche_id):
    demarche = access_demarche_admin(request.user, demarche_id)
    try:
        version = services.publish_demarche(actor=request.user, demarche=demarche)
    except ValidationError as refusal:
        if wants_json(request):
            return JsonResponse({"published": False, "problems": refusal.messages}, status=400)
        messages.error(request, _("La publication est refusée :"))
        return demarche_overview(request, demarche.pk, problems=refusal.messages)
    message = _("Version %(n)d publiée : elle s'applique aux nouveaux dossiers.") % {
        "n": version.number
    }
    if wants_json(request):
        return JsonResponse({"published": True, "version": version.number, "message": message})
    messages.success(request, message)
    return redirect("backoffice:demarche_overview", demarche.pk)


@login_required
@require_POST
def demarche_close(request, demarche_id):
    demarche = access_demarche_admin(request.user, demarche_id)
    try:
        services.close_demarche(actor=request.user, demarche=demarche)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(request, _("La démarche est fermée : plus aucun dépôt n'est possible."))
    return redirect("backoffice:demarche_overview", demarche.pk)


@login_required
def demarche_export(request, demarche_id):
    demarche = access_demarche_admin(request.user, demarche_id)
    document = export_demarche(demarche)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{demarche.slug}.json"'
    return response


@login_required
def demarche_import(request):
    selectors.require_demarche_admin(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        # Nothing is created unless the whole file is sound (the service checks it all).
        try:
            demarche = import_demarche(
                actor=request.user,
                collectivite=form.chosen_collectivite(),
                raw=form.document(),
                service=form.cleaned_data.get("service"),
            )
        except ValidationError as error:
            problems = error_lines(error)
        else:
            messages.success(
                request,
                _("La démarche « %(t)s » est importée, en brouillon.") % {"t": demarche},
            )
            return redirect("backoffice:demarche_overview", demarche.pk)
    status = 400 if problems else 200
    return render(
        request,
        "backoffice/demarches/import.html",
        {"form": form, "problems": problems},
        status=status,
    )


@login_required
def catalogue(request):
    selectors.require_demarche_admin(request.user)
    adopted = selectors.adopted_model_ids(request.user)
    models = [
        {"model": model, "adopted": model.pk in adopted} for model in selectors.catalogue_models()
    ]
    return render(request, "backoffice/demarches/catalogue.html", {"models": models})


@login_required
def catalogue_adopt(request, model_id):
    model = selectors.access_catalogue_model(request.user, model_id)
    form = AdoptForm(request.POST or None, user=request.user, model=model)
    if request.method == "POST" and form.is_valid():
        service = form.cleaned_data["service"]
        try:
            demarche = services.adopt_demarche(
                actor=request.user,
                model=model,
                collectivite=service.collectivite,
                service=service,
                slug=form.cleaned_data.get("slug") or None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "La démarche « %(t)s » est adoptée, en brouillon : vérifiez ses réglages "
                    "avant de la publier."
                )
                % {"t": demarche},
            )
            return redirect("backoffice:demarche_settings", demarche.pk)
    return render(request, "backoffice/demarches/adopt.html", {"model": model, "form": form})
