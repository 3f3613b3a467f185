from django.urls import path

from grc.portal import dossiers, views
from grc.portal.filing import views as filing

app_name = "portal"
urlpatterns = [
    path("", views.root, name="root"),
    path("c/<slug:slug>/", views.home, name="home"),
    path("c/<slug:slug>/demarches/<slug:demarche>/", filing.demarche, name="demarche"),
    path("c/<slug:slug>/demarches/<slug:demarche>/commencer/", filing.start, name="start"),
    path("c/<slug:slug>/brouillons/<uuid:draft>/recapitulatif/", filing.summary, name="summary"),
    path("c/<slug:slug>/brouillons/<uuid:draft>/<slug:page>/", filing.page, name="page"),
    path("c/<slug:slug>/dossiers/<uuid:dossier>/", dossiers.dossier_page, name="dossier"),
    path(
        "c/<slug:slug>/dossiers/<uuid:dossier>/pieces/",
        dossiers.dossier_pieces,
        name="dossier_pieces",
    ),
    path(
        "c/<slug:slug>/dossiers/<uuid:dossier>/action/",
        dossiers.dossier_action,
        name="dossier_action",
    ),
    path(
        "c/<slug:slug>/dossiers/<uuid:dossier>/documents/<int:document>.pdf",
        dossiers.document_pdf,
        name="document_pdf",
    ),
    path(
        "c/<slug:slug>/dossiers/<uuid:dossier>/accuse-<str:kind>.pdf",
        dossiers.acknowledgement_pdf,
        name="acknowledgement_pdf",
    ),
]
