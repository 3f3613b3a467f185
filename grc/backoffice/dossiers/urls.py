"""The dossier page and its actions, the bulk actions (included by grc/backoffice/urls.py)."""

from django.urls import path

from grc.backoffice.dossiers import views

urlpatterns = [
    path("dossiers/lot/", views.bulk_action, name="bulk"),
    path("dossiers/<int:pk>/", views.dossier_page, name="dossier"),
    path("dossiers/<int:pk>/action/", views.dossier_transition, name="dossier_transition"),
    path("dossiers/<int:pk>/attribuer/", views.dossier_assign, name="dossier_assign"),
    path("dossiers/<int:pk>/transmettre/", views.dossier_transfer, name="dossier_transfer"),
    path("dossiers/<int:pk>/repondre/", views.dossier_reply, name="dossier_reply"),
    path("dossiers/<int:pk>/note/", views.dossier_note, name="dossier_note"),
    path("dossiers/<int:pk>/annotations/", views.dossier_annotations, name="dossier_annotations"),
    path(
        "dossiers/<int:pk>/fichiers/<int:attachment_id>/",
        views.dossier_attachment,
        name="dossier_attachment",
    ),
    path(
        "dossiers/<int:pk>/documents/<int:document_id>/",
        views.dossier_document,
        name="dossier_document",
    ),
    path(
        "dossiers/<int:pk>/accuses/<str:kind>/",
        views.dossier_acknowledgement,
        name="dossier_acknowledgement",
    ),
]
