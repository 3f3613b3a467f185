from django.urls import path

from grc.portal import views
from grc.portal.filing import views as filing

app_name = "portal"
urlpatterns = [
    path("", views.root, name="root"),
    path("c/<slug:slug>/", views.home, name="home"),
    path("c/<slug:slug>/demarches/<slug:demarche>/", filing.demarche, name="demarche"),
    path("c/<slug:slug>/demarches/<slug:demarche>/commencer/", filing.start, name="start"),
    path("c/<slug:slug>/brouillons/<uuid:draft>/recapitulatif/", filing.summary, name="summary"),
    path("c/<slug:slug>/brouillons/<uuid:draft>/<slug:page>/", filing.page, name="page"),
    path("c/<slug:slug>/dossiers/<uuid:dossier>/", filing.dossier, name="dossier"),
    path(
        "c/<slug:slug>/dossiers/<uuid:dossier>/accuse-<str:kind>.pdf",
        filing.acknowledgement_pdf,
        name="acknowledgement_pdf",
    ),
]
