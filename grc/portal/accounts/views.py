"""The citizen's own pages: where a login lands (every request of theirs, across the
collectivités of the platform), and their profile."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from grc.base import access as base_access
from grc.base.services import profiles
from grc.portal.accounts.branding import portal_collectivite
from grc.portal.accounts.forms import ProfileForm
from grc.portal.selectors import citizen_dossiers, dossier_rows


@login_required
def account_home(request):
    """Where a login lands: staff go to their workspace; citizens see their requests, grouped
    by collectivité (each collectivité sees only its own; the person sees all of theirs)."""
    rows = dossier_rows(citizen_dossiers(request.user))
    if not rows and base_access.staff_collectivites(request.user).exists():
        return redirect("backoffice:home")
    groups: dict = {}
    for row in rows:
        groups.setdefault(row.dossier.collectivite, []).append(row)
    return render(
        request,
        "portal/citizen/account_home.html",
        {"groups": groups, "collectivite": portal_collectivite(request)},
    )


@login_required
def profile(request):
    profile = profiles.profile_of(request.user)
    certified = profile.identity_source == profile.IdentitySource.FRANCECONNECT
    initial = ProfileForm.initial_for(request.user, profile)
    form = ProfileForm(request.POST or None, initial=initial, certified=certified)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                profiles.update_profile(
                    actor=request.user, user=request.user, changes=form.changes()
                )
            except ValidationError as refusal:
                for field, errors in getattr(refusal, "error_dict", {"__all__": []}).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not hasattr(refusal, "error_dict"):
                    form.add_error(None, refusal)
            else:
                messages.success(request, _("Votre profil est enregistré."))
                return redirect(request.get_full_path())
        status = 400
    return render(
        request,
        "portal/citizen/profile.html",
        {
            "form": form,
            "groups": form.bound_groups(),
            "profile": profile,
            "certified": certified,
            "collectivite": portal_collectivite(request),
        },
        status=status,
    )
