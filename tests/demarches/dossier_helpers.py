"""Filed dossiers for the tests of their life: the citizen's page, messages, notifications."""

from __future__ import annotations

import copy
from typing import Any

from grc.base.models import Channel
from grc.demarches.services.demarches import create_demarche, publish_demarche
from grc.demarches.services.dossiers import attach_file, start_draft, submit_dossier
from grc.demarches.workflow.defaults import default_workflow
from tests.demarches.factories import definition, field
from tests.demarches.helpers import pdf_file

FORM = definition(
    [
        field("objet", required=True),
        field("justificatif", "file", accept=["application/pdf"], max_size_mb=1),
    ]
)


def quiet_workflow(implicit_decision: str = "sva") -> dict[str, Any]:
    """The default workflow without its e-mails to the citizen: the platform's notifications
    are then the only ones."""
    workflow = copy.deepcopy(default_workflow(implicit_decision))
    for step in [*workflow["statuses"], *workflow["transitions"]]:
        step["actions"] = [a for a in step["actions"] if a.get("type") != "email"]
    return workflow


def demarche_for(tenant, *, slug: str = "test", workflow=None, **settings: Any):
    data = {"title": "Démarche de test", "slug": slug, "who_may_file": "anonymous", **settings}
    demarche = create_demarche(
        actor=None,
        collectivite=tenant.collectivite,
        data=data,
        definition=FORM,
        service=tenant.service,
        workflow=workflow,
    )
    publish_demarche(actor=None, demarche=demarche)
    demarche.refresh_from_db()
    return demarche


def file_dossier(
    demarche,
    *,
    account=None,
    contact_email: str = "",
    objet: str = "Banc cassé",
    with_file: bool = False,
):
    """Filed on the web, with `account` or anonymously with `contact_email`; `with_file`:
    a PDF "justificatif.pdf" sent with the form."""
    given = {"objet": objet}
    draft = None
    if with_file:
        draft = start_draft(demarche=demarche, account=account)
        upload = pdf_file("justificatif.pdf")
        attachment = attach_file(dossier=draft, field_key="justificatif", upload=upload)
        given["justificatif"] = [attachment.pk]
    return submit_dossier(
        demarche=demarche,
        answers_given=given,
        channel=Channel.WEB,
        actor=account,
        account=account,
        contact_email=contact_email,
        dossier=draft,
    )
