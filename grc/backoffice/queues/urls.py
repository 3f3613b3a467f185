"""The queues (included by grc/backoffice/urls.py). Queue names are spelled out, so that they
never shadow the dossier pages' URLs under /backoffice/dossiers/."""

from django.urls import path, re_path

from grc.backoffice.queues import selectors, views

_SLUGS = "|".join(queue.slug for queue in selectors.QUEUES)

urlpatterns = [
    path("dossiers/", views.queue, name="queues"),
    re_path(rf"^dossiers/(?P<queue_slug>{_SLUGS})/$", views.queue, name="queue"),
]
