from django.urls import path

from grc.backoffice import views
from grc.backoffice.calls import urls as calls_urls
from grc.backoffice.dashboard import views as dashboard
from grc.backoffice.demarches import builder, workflow
from grc.backoffice.demarches import views as demarches
from grc.backoffice.dossiers import urls as dossiers_urls
from grc.backoffice.exports import views as exports
from grc.backoffice.intake import urls as intake_urls
from grc.backoffice.letters import urls as letters_urls
from grc.backoffice.mail import urls as mail_urls
from grc.backoffice.queues import urls as queues_urls
from grc.backoffice.security import views as security
from grc.backoffice.usagers import urls as usagers_urls

app_name = "backoffice"
urlpatterns = [
    path("", views.home, name="home"),
    path("demarches/", demarches.demarche_list, name="demarche_list"),
    path("demarches/nouvelle/", demarches.demarche_create, name="demarche_create"),
    path("demarches/importer/", demarches.demarche_import, name="demarche_import"),
    path("demarches/catalogue/", demarches.catalogue, name="catalogue"),
    path(
        "demarches/catalogue/<int:model_id>/adopter/",
        demarches.catalogue_adopt,
        name="catalogue_adopt",
    ),
    path("demarches/<int:demarche_id>/", demarches.demarche_overview, name="demarche_overview"),
    path(
        "demarches/<int:demarche_id>/reglages/",
        demarches.demarche_settings,
        name="demarche_settings",
    ),
    path("demarches/<int:demarche_id>/textes/", demarches.demarche_texts, name="demarche_texts"),
    path("demarches/<int:demarche_id>/formulaire/", builder.builder, name="demarche_builder"),
    path(
        "demarches/<int:demarche_id>/formulaire/enregistrer/",
        builder.builder_save,
        name="demarche_builder_save",
    ),
    path(
        "demarches/<int:demarche_id>/formulaire/apercu/",
        builder.builder_preview,
        name="demarche_builder_preview",
    ),
    path(
        "demarches/<int:demarche_id>/circuit/", workflow.workflow_editor, name="demarche_workflow"
    ),
    path(
        "demarches/<int:demarche_id>/circuit/enregistrer/",
        workflow.workflow_save,
        name="demarche_workflow_save",
    ),
    path(
        "demarches/<int:demarche_id>/circuit/reinitialiser/",
        workflow.workflow_reset,
        name="demarche_workflow_reset",
    ),
    path(
        "demarches/<int:demarche_id>/circuit/schema/",
        workflow.workflow_diagram,
        name="demarche_workflow_diagram",
    ),
    path(
        "demarches/<int:demarche_id>/publier/", demarches.demarche_publish, name="demarche_publish"
    ),
    path("demarches/<int:demarche_id>/fermer/", demarches.demarche_close, name="demarche_close"),
    path("demarches/<int:demarche_id>/export/", demarches.demarche_export, name="demarche_export"),
    path("tableau-de-bord/", dashboard.dashboard, name="dashboard"),
    path("exports/", exports.export_list, name="export_list"),
    path("exports/<int:export_id>/telecharger/", exports.export_download, name="export_download"),
    path("securite/", security.security, name="security"),
    path("securite/verifier/", security.verify, name="security_verify"),
]
urlpatterns += intake_urls.urlpatterns  # intake on the citizen's behalf
urlpatterns += usagers_urls.urlpatterns  # citizen records (360°), duplicates, merge
urlpatterns += dossiers_urls.urlpatterns  # the dossier page, bulk actions
urlpatterns += queues_urls.urlpatterns  # the queues: /backoffice/dossiers/
urlpatterns += mail_urls.urlpatterns  # e-mails received, quarantine, bounces
urlpatterns += calls_urls.urlpatterns  # the call log, the incoming-call screen
urlpatterns += letters_urls.urlpatterns  # letters in and out
