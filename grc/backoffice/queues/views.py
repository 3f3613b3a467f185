"""The queues' page: one list per queue, with filters, search, sort and keyset pagination.
Bad input (a date that does not parse, an edited cursor) gives the normal page and a message."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from grc.backoffice.dossiers.selectors import bulk_choices
from grc.backoffice.queues import selectors
from grc.backoffice.queues.forms import QueueFilterForm

# Query-string parameters that are not filters: kept out of the links that rebuild the list.
PAGING_PARAMETERS = ("apres", "avant", "page")


@login_required
def queue(request, queue_slug: str = selectors.DEFAULT_QUEUE):
    scope = selectors.staff_scope(request.user)
    current = selectors.queue_by_slug(scope, queue_slug)
    form = QueueFilterForm(request.GET, choices=selectors.filter_choices(scope))
    form.is_valid()
    problems = form.problems()
    page_number = request.GET.get("page", "")
    if page_number not in ("", "1"):
        # Pages are reached by "Page suivante" (keyset): there are no page numbers.
        problems.append(
            _(
                "Cette page n'existe pas : la liste se parcourt avec « Page suivante ». Voici "
                "la première page."
            )
        )
    dossiers = selectors.apply_filters(selectors.queue_dossiers(scope, current), form.filters())
    page = selectors.paginate(
        dossiers,
        form.chosen_sort(),
        after=request.GET.get("apres", ""),
        before=request.GET.get("avant", ""),
    )
    for problem in [*problems, *page.problems]:
        messages.warning(request, problem)
    kept = [
        (name, value)
        for name, value in request.GET.items()
        if name not in PAGING_PARAMETERS and value and name in form.fields
    ]
    dossiers_shown = [row["dossier"] for row in page.rows]
    return render(
        request,
        "backoffice/queues/queue.html",
        {
            **(bulk_choices(request.user, dossiers_shown) if dossiers_shown else {}),
            "section": "dossiers",
            "queues": selectors.queues_for(scope),
            "queue": current,
            "form": form,
            "filtered": form.active(),
            "page": page,
            "next_query": urlencode([*kept, ("apres", page.next_cursor)]),
            "previous_query": urlencode([*kept, ("avant", page.previous_cursor)]),
            "filters_query": urlencode(kept),
            "show_collectivite": len(scope.collectivite_ids) > 1,
            # The filters an export of this list takes (grc.backoffice.exports).
            "export_params": [("file", current.slug), *kept],
        },
    )
