from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from grc.base import access


@login_required
def home(request):
    """The agents' workspace (queues and dossiers come with the backoffice issue)."""
    return render(
        request,
        "backoffice/home.html",
        {
            "collectivites": access.staff_collectivites(request.user),
            "can_configure": access.can_use_admin(request.user),
        },
    )
