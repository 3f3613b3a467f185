"""The model démarches: valid, exchangeable, and each filed end to end through the services
(the channels' "courriel" model is filed by the mail gateway: tests/channels/test_inbound.py)."""

import json

import pytest

from grc.base.models import Channel
from grc.demarches.definition import check_definition
from grc.demarches.models import Acknowledgement, Demarche
from grc.demarches.services.demarches import adopt_demarche, publish_demarche
from grc.demarches.services.dossiers import known_attachments, start_draft, submit_dossier
from grc.demarches.services.exchange import (
    CATALOGUE_DIR,
    export_demarche,
    import_demarche,
    load_catalogue,
)
from tests.demarches.helpers import fill
from tests.factories import CollectiviteFactory, ServiceFactory, UserFactory

MODELS = sorted(path.stem for path in CATALOGUE_DIR.glob("*.json"))
FILED_ONLINE = [slug for slug in MODELS if slug != "courriel"]


def test_the_catalogue_has_the_six_models_the_issue_asks_for_and_the_channels_one():
    assert MODELS == [
        "acte-etat-civil",
        "courriel",
        "inscription-scolaire",
        "question-contact",
        "reclamation",
        "reservation-salle",
        "signalement-voirie",
    ]


@pytest.mark.parametrize("slug", MODELS)
def test_each_model_definition_passes_the_publishing_checks(slug):
    document = json.loads((CATALOGUE_DIR / f"{slug}.json").read_text())
    assert check_definition(document["definition"]) == []


@pytest.fixture
def catalogue(db):
    return {model.slug: model for model in load_catalogue(actor=None)}


def test_loading_the_catalogue_twice_changes_nothing(catalogue):
    versions = {slug: m.versions.count() for slug, m in catalogue.items()}
    again = {m.slug: m for m in load_catalogue(actor=None)}
    assert {slug: m.pk for slug, m in again.items()} == {s: m.pk for s, m in catalogue.items()}
    assert {slug: m.versions.count() for slug, m in again.items()} == versions
    assert all(m.state == Demarche.State.PUBLISHED and m.is_model for m in again.values())


@pytest.mark.parametrize("slug", MODELS)
def test_export_then_import_gives_an_identical_definition(catalogue, slug):
    model = catalogue[slug]
    exported = export_demarche(model)
    commune = CollectiviteFactory()
    service = ServiceFactory(collectivite=commune)
    imported = import_demarche(
        actor=None, collectivite=commune, raw=json.dumps(exported).encode(), service=service
    )
    assert export_demarche(imported) == exported
    original = json.loads((CATALOGUE_DIR / f"{slug}.json").read_text())
    assert exported["definition"] == original["definition"]
    assert exported["demarche"] == original["demarche"]


@pytest.mark.parametrize("slug", FILED_ONLINE)
def test_each_model_is_filed_end_to_end(
    catalogue, slug, tenant_a, media, django_capture_on_commit_callbacks
):
    demarche = adopt_demarche(
        actor=tenant_a.admin,
        model=catalogue[slug],
        collectivite=tenant_a.collectivite,
        service=tenant_a.service,
    )
    publish_demarche(actor=tenant_a.admin, demarche=demarche)
    citizen = UserFactory(email="camille@exemple.test")
    account = citizen if demarche.who_may_file == Demarche.WhoMayFile.ACCOUNT else None
    draft = start_draft(demarche=demarche, channel=Channel.WEB, account=account)
    given = fill(draft.version.definition, dossier=draft)
    with django_capture_on_commit_callbacks() as callbacks:
        dossier = submit_dossier(
            demarche=demarche,
            answers_given=given,
            channel=Channel.WEB,
            actor=account,
            dossier=draft,
            account=account,
            contact_email="" if account else "anonyme@exemple.test",
        )
    assert dossier.is_filed
    assert (
        dossier.reference == f"{tenant_a.collectivite.reference_prefix}-"
        f"{dossier.received_at.year}-000001"
    )
    assert dossier.usager.collectivite == tenant_a.collectivite
    assert bool(dossier.tracking_code) is (account is None)
    assert (dossier.expected_decision_date is None) is (demarche.implicit_decision == "none")
    kinds = {a.kind: a.status for a in dossier.acknowledgements.all()}
    expected_are = (
        Acknowledgement.Status.PENDING
        if demarche.acknowledgement_required
        else Acknowledgement.Status.NOT_REQUIRED
    )
    assert kinds == {"aee": Acknowledgement.Status.PENDING, "are": expected_are}
    assert len(callbacks) == (2 if demarche.acknowledgement_required else 1)
    # What was kept is exactly what the version validates.
    from grc.demarches.answers import validate_answers

    outcome = validate_answers(
        dossier.version.definition,
        dossier.answers,
        known_attachments=known_attachments(dossier),
    )
    assert outcome.ok and outcome.answers == dossier.answers
