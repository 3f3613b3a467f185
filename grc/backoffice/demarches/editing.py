"""What the editors of a draft version share on the server: the form builder (builder.py) and
the workflow editor (workflow.py). Each edits one part of the draft as JSON, saved through one
endpoint that answers the editor's JavaScript in JSON and a plain form (the page without
JavaScript) with the page again or a redirect."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from grc.demarches.models import Demarche, DemarcheVersion


def json_body(request: HttpRequest) -> Any:
    """The request's body as JSON, or None when it is not JSON."""
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None


def save_draft(
    request: HttpRequest,
    demarche: Demarche,
    *,
    part: str,
    form_class: type[forms.Form],
    store: Callable[..., tuple[DemarcheVersion, Any]],
    problems: Callable[[DemarcheVersion, Any], dict[str, list[str]]],
    render_page: Callable[[forms.Form], HttpResponse],
    saved_messages: tuple[str, str],
    page: str,
) -> HttpResponse:
    """An editor's save endpoint, for `part` of the draft ("definition", "workflow"): the key of
    the JSON sent, the name of the plain form's field and of the service's argument.

    - JSON in ({part: …}), from the editor's script: JSON out, {"saved": true, "version": n,
      **problems(version, checked)}, or {"saved": false, "problems": […]} (400) when refused;
    - else the plain form (form_class): refused, the page again with the errors, by
      render_page(form) (400); saved, a message (saved_messages: with problems to correct, and
      without; both with %(n)d for the version) and a redirect to the editor's page (a URL name).

    store(actor=, demarche=, <part>=) is the service that saves the draft; it raises
    ValidationError when it refuses and returns the version saved and what it checked, which
    problems(version, checked) turns into the lists the editor shows, "problems" first.
    """
    if request.content_type == "application/json":
        payload = json_body(request)
        value = payload.get(part) if isinstance(payload, dict) else None
        try:
            version, checked = store(actor=request.user, demarche=demarche, **{part: value})
        except ValidationError as refusal:
            return JsonResponse({"saved": False, "problems": refusal.messages}, status=400)
        return JsonResponse(
            {"saved": True, "version": version.number, **problems(version, checked)}
        )
    form = form_class(request.POST)
    if not form.is_valid():
        return render_page(form)
    try:
        version, checked = store(
            actor=request.user, demarche=demarche, **{part: form.cleaned_data[part]}
        )
    except ValidationError as refusal:
        form.add_error(part, refusal.messages)
        return render_page(form)
    with_problems, without = saved_messages
    if problems(version, checked)["problems"]:
        messages.warning(request, with_problems % {"n": version.number})
    else:
        messages.success(request, without % {"n": version.number})
    return redirect(page, demarche.pk)
