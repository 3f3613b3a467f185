from django.urls import path

from grc.portal import citizen, dossiers, legal, views
from grc.portal.filing import drafts as filing_drafts
from grc.portal.filing import live as filing_live
from grc.portal.filing import views as filing

app_name = "portal"
urlpatterns = [
    path("", views.root, name="root"),
    path("c/<slug:slug>/", views.home, name="home"),
    path("c/<slug:slug>/mes-demandes/", citizen.my_dossiers, name="my_dossiers"),
    path("c/<slug:slug>/suivi/", citizen.tracking, name="tracking"),
    # Legal pages: the collectivité's on its host name (else the platform's), and by path.
    path("mentions-legales/", legal.legal_mentions, name="site_legal_mentions"),
    path("donnees-personnelles/", legal.personal_data, name="site_personal_data"),
    path("accessibilite/", legal.accessibility, name="site_accessibility"),
    path("c/<slug:slug>/mentions-legales/", legal.legal_mentions, name="legal_mentions"),
    path("c/<slug:slug>/donnees-personnelles/", legal.personal_data, name="personal_data"),
    path("c/<slug:slug>/accessibilite/", legal.accessibility, name="accessibility"),
    path("c/<slug:slug>/demarches/<slug:demarche>/", filing.demarche, name="demarche"),
    path("c/<slug:slug>/demarches/<slug:demarche>/commencer/", filing.start, name="start"),
    path("c/<slug:slug>/brouillons/<uuid:draft>/recapitulatif/", filing.summary, name="summary"),
    path("c/<slug:slug>/brouillons/<uuid:draft>/<slug:page>/", filing.page, name="page"),
    # "Mes brouillons", and what a page does in the background with JavaScript.
    path("c/<slug:slug>/brouillons/", filing_drafts.drafts, name="drafts"),
    path("c/<slug:slug>/brouillons/<uuid:draft>/", filing_drafts.resume, name="resume_draft"),
    path(
        "c/<slug:slug>/brouillons/supprimer/<uuid:draft>/",
        filing_drafts.delete,
        name="delete_draft",
    ),
    path(
        "c/<slug:slug>/brouillons/<uuid:draft>/<slug:page>/enregistrer/",
        filing_live.autosave,
        name="autosave",
    ),
    path(
        "c/<slug:slug>/brouillons/<uuid:draft>/<slug:page>/fichiers/",
        filing_live.upload,
        name="upload",
    ),
    path(
        "c/<slug:slug>/brouillons/<uuid:draft>/<slug:page>/fichiers/<int:attachment>/retirer/",
        filing_live.detach,
        name="detach",
    ),
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
        "c/<slug:slug>/dossiers/<uuid:dossier>/action/<slug:transition>/",
        dossiers.dossier_action_confirm,
        name="dossier_action_confirm",
    ),
    path(
        "c/<slug:slug>/dossiers/<uuid:dossier>/messages/",
        dossiers.dossier_message,
        name="dossier_message",
    ),
    path(
        "c/<slug:slug>/dossiers/<uuid:dossier>/fichiers/<int:attachment>/",
        dossiers.dossier_attachment,
        name="dossier_attachment",
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
