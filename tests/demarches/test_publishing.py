"""Publishing freezes a version; a broken definition is refused with its reasons; a dossier
keeps the version it was filed with."""

import pytest
from django.core.exceptions import ValidationError

from grc.base.models import Channel
from grc.demarches.answers import validate_answers
from grc.demarches.models import DemarcheVersion
from grc.demarches.selectors import summary_rows
from grc.demarches.services.demarches import (
    create_demarche,
    publish_demarche,
    save_definition,
)
from grc.demarches.services.dossiers import submit_dossier
from tests.demarches.factories import definition, field, published

pytestmark = pytest.mark.django_db

BROKEN = [
    (
        "duplicate keys",
        definition([field("nom"), field("nom")]),
        "cet identifiant est utilisé par un autre champ",
    ),
    (
        "choice without options",
        definition([field("genre", "choice", options=[])]),
        "au moins une option",
    ),
    (
        "condition on a missing field",
        definition([field("nom", condition={"op": "equals", "field": "fantome", "value": 1})]),
        "« fantome », qui n'existe pas",
    ),
    (
        "condition on a later field",
        definition([field("a", condition={"op": "is_empty", "field": "b"}), field("b")]),
        "« b », qui vient après",
    ),
    (
        "condition on a later page",
        definition(
            [field("a", condition={"op": "equals", "field": "b", "value": "x"})], [field("b")]
        ),
        "qui vient après",
    ),
    (
        "malformed condition",
        definition([field("a"), field("b", condition={"op": "resembles"})]),
        "opérateur inconnu",
    ),
    ("unknown type", definition([field("a", "hologram")]), "type de champ inconnu"),
    ("invalid key", definition([field("Nom Complet")]), "identifiant invalide"),
    ("empty page", definition([field("a")], []), "la page ne contient aucun champ"),
    (
        "pattern without message",
        definition([field("code", validation={"pattern": "^[0-9]{5}$"})]),
        "un motif doit avoir un message",
    ),
    (
        "block inside a block",
        definition([field("enfants", "block", fields=[field("x", "block", fields=[field("y")])])]),
        "ne peut pas en contenir un autre",
    ),
    (
        "min above max",
        definition([field("n", "integer", validation={"min": 5, "max": 1})]),
        "le minimum dépasse le maximum",
    ),
    (
        "no question at all",
        definition([{"key": "t", "type": "title", "label": "Titre"}]),
        "ne pose aucune question",
    ),
]


@pytest.mark.parametrize(("case", "form", "reason"), BROKEN, ids=[c[0] for c in BROKEN])
def test_publishing_a_broken_definition_is_refused_with_its_reasons(tenant_a, case, form, reason):
    demarche = create_demarche(
        actor=tenant_a.admin,
        collectivite=tenant_a.collectivite,
        data={"title": "T", "slug": "t"},
        definition=form,
        service=tenant_a.service,
    )
    with pytest.raises(ValidationError) as refusal:
        publish_demarche(actor=tenant_a.admin, demarche=demarche)
    assert any(reason in message for message in refusal.value.messages), refusal.value.messages
    demarche.refresh_from_db()
    assert demarche.state == "draft"
    assert not demarche.versions.filter(status="published").exists()


def test_a_démarche_without_service_cannot_be_published(tenant_a):
    demarche = create_demarche(
        actor=tenant_a.admin,
        collectivite=tenant_a.collectivite,
        data={"title": "T", "slug": "t"},
        definition=definition([field("a")]),
    )
    with pytest.raises(ValidationError, match="service chargé"):
        publish_demarche(actor=tenant_a.admin, demarche=demarche)


def test_every_problem_is_listed_at_once(tenant_a):
    form = definition([field("a", "choice", options=[]), field("a")])
    demarche = create_demarche(
        actor=tenant_a.admin,
        collectivite=tenant_a.collectivite,
        data={"title": "T", "slug": "t"},
        definition=form,
        service=tenant_a.service,
    )
    with pytest.raises(ValidationError) as refusal:
        publish_demarche(actor=tenant_a.admin, demarche=demarche)
    assert len(refusal.value.messages) >= 2


def test_a_dossier_filed_on_version_1_still_validates_and_displays_after_version_2(tenant_a):
    v1 = definition(
        [
            field("nom", required=True),
            field("ancienne", "choice", options=[{"value": "x", "label": "Ancien"}]),
        ]
    )
    demarche = published(tenant_a.collectivite, tenant_a.service, v1)
    first = submit_dossier(
        demarche=demarche,
        answers_given={"nom": "Dupont", "ancienne": "x"},
        channel=Channel.WEB,
        actor=None,
        contact_email="a@exemple.test",
    )
    # Version 2 renames, removes and adds questions.
    v2 = definition([field("prenom", required=True), field("nom_complet", required=True)])
    draft, problems = save_definition(actor=tenant_a.admin, demarche=demarche, definition=v2)
    assert problems == [] and draft.number == 2
    publish_demarche(actor=tenant_a.admin, demarche=demarche)
    first.refresh_from_db()
    assert first.version.number == 1
    assert first.version.status == DemarcheVersion.Status.ARCHIVED
    assert first.version.definition == v1  # frozen
    outcome = validate_answers(first.version.definition, first.answers)
    assert outcome.ok and outcome.answers == first.answers
    shown = summary_rows(first.version.definition, first.answers, attachments={})
    assert [row["text"] for row in shown[0]["rows"]] == ["Dupont", "Ancien"]
    # New dossiers use version 2 and its rules.
    with pytest.raises(ValidationError) as refusal:
        submit_dossier(
            demarche=demarche,
            answers_given={"nom": "Dupont"},
            channel=Channel.WEB,
            actor=None,
            contact_email="b@exemple.test",
        )
    assert set(refusal.value.message_dict) == {"prenom", "nom_complet"}
    second = submit_dossier(
        demarche=demarche,
        answers_given={"prenom": "Léa", "nom_complet": "Léa Petit"},
        channel=Channel.WEB,
        actor=None,
        contact_email="b@exemple.test",
    )
    assert second.version.number == 2


def test_editing_a_published_démarche_works_on_a_new_draft(tenant_a):
    demarche = published(tenant_a.collectivite, tenant_a.service, definition([field("a")]))
    online = demarche.versions.get(status="published")
    draft, _ = save_definition(
        actor=tenant_a.admin, demarche=demarche, definition=definition([field("a"), field("b")])
    )
    assert draft.pk != online.pk and draft.status == "draft"
    online.refresh_from_db()
    assert [f["key"] for f in online.definition["pages"][0]["fields"]] == ["a"]


def test_only_the_collectivites_admin_configures_its_démarches(tenant_a, tenant_b):
    from grc.demarches.access import NotFound

    demarche = published(tenant_a.collectivite, tenant_a.service, definition([field("a")]))
    for user in (tenant_b.admin, tenant_a.agent, tenant_a.manager):
        with pytest.raises(NotFound):
            save_definition(actor=user, demarche=demarche, definition=definition([field("x")]))
        with pytest.raises(NotFound):
            publish_demarche(actor=user, demarche=demarche)
