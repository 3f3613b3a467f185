"""Included in grc.backoffice.urls (namespace "backoffice")."""

from django.urls import path

from grc.backoffice.intake import views

urlpatterns = [
    path("saisie/", views.intake_start, name="intake_start"),
    path("saisie/<int:demarche_id>/", views.intake_form, name="intake_form"),
    path("saisie/dossiers/<int:dossier_id>/", views.intake_done, name="intake_done"),
    path(
        "saisie/dossiers/<int:dossier_id>/accuses/<str:kind>.pdf",
        views.acknowledgement_pdf,
        name="intake_acknowledgement_pdf",
    ),
]
