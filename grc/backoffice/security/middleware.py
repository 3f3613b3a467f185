"""Two-factor authentication in front of the staff areas (the backoffice and the admin).

A person with a confirmed device must give a code once per session before anything else
there; a person without one, in a collectivité that makes it mandatory, must add one first.
Runs after django_otp's OTPMiddleware (request.user.is_verified)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from grc.backoffice.security.services import two_factor_state


class StaffTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        redirect_to = self.check(request)
        if redirect_to is not None:
            return redirect_to
        return self.get_response(request)

    def check(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        path = request.path_info
        staff_areas = (reverse("backoffice:home"), reverse("admin:index"))
        if not path.startswith(staff_areas):
            return None
        is_verified = getattr(user, "is_verified", None)
        if is_verified is not None and is_verified():
            return None
        verify_url = reverse("backoffice:security_verify")
        enrol_url = reverse("backoffice:security")
        has_device, required = two_factor_state(user)
        if has_device:
            if path == verify_url:
                return None
            return redirect(f"{verify_url}?{urlencode({'next': request.get_full_path()})}")
        if required and path != enrol_url:
            messages.warning(
                request,
                _(
                    "Votre collectivité demande la double authentification : ajoutez une "
                    "application d'authentification pour continuer."
                ),
            )
            return redirect(enrol_url)
        return None
