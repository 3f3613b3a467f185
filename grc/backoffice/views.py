from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from grc.backoffice.queues import selectors as queues
from grc.base import access


@login_required
def home(request):
    """The agents' workspace: how many dossiers wait in each queue, and the configuration for
    those who may change it."""
    try:
        scope = queues.staff_scope(request.user)
    except access.NotFound:
        counts = []  # no role in any collectivité: nothing to work on (platform admins too)
    else:
        counts = queues.queue_counts(scope)
    return render(
        request,
        "backoffice/home.html",
        {
            "section": "home",
            "collectivites": access.staff_collectivites(request.user),
            "can_configure": access.can_use_admin(request.user),
            "queue_counts": counts,
            "count_cap": queues.COUNT_CAP,
        },
    )
