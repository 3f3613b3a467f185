"""submit_dossier and the attachments: the rules, and bad input that changes nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grc.base.models import Channel, Event, Usager
from grc.demarches.models import Attachment, Dossier, ReferenceCounter
from grc.demarches.services.demarches import close_demarche
from grc.demarches.services.dossiers import attach_file, start_draft, submit_dossier
from tests.demarches.factories import definition, field, published
from tests.demarches.helpers import pdf_file, png_file
from tests.factories import UsagerFactory, UserFactory

pytestmark = pytest.mark.django_db

FORM = definition(
    [
        field("nom", required=True, validation={"max_length": 20}),
        field("age", "integer", required=True, validation={"min": 0, "max": 120}),
        field("courriel", "email"),
        field("association", "yesno", required=True),
        field(
            "siret",
            "siret",
            required=True,
            condition={"op": "equals", "field": "association", "value": True},
        ),
        field(
            "enfants",
            "block",
            min_items=1,
            max_items=3,
            item_label="Enfant",
            fields=[field("prenom", required=True), field("ne_le", "date", required=True)],
        ),
        field("piece", "file", accept=["application/pdf"], max_size_mb=1),
    ]
)
GOOD = {
    "nom": "Dupont",
    "age": 40,
    "association": False,
    "enfants": [{"prenom": "Léa", "ne_le": "2018-04-02"}],
}


@pytest.fixture
def demarche(tenant_a):
    return published(
        tenant_a.collectivite, tenant_a.service, FORM, channels=["web", "counter", "courrier"]
    )


def submit(demarche, answers, **kwargs):
    options = {"channel": Channel.WEB, "actor": None, "contact_email": "a@exemple.test"}
    return submit_dossier(demarche=demarche, answers_given=answers, **{**options, **kwargs})


def test_invalid_answers_are_refused_field_by_field_and_nothing_is_saved(demarche):
    bad = {
        "nom": "x" * 30,
        "age": 200,
        "courriel": "pas-une-adresse",
        "association": True,
        "siret": "123",
        "enfants": [{"prenom": "", "ne_le": "31/02/2019"}],
    }
    with pytest.raises(ValidationError) as refusal:
        submit(demarche, bad)
    errors = refusal.value.message_dict
    assert set(errors) == {"nom", "age", "courriel", "siret", "enfants.0.prenom", "enfants.0.ne_le"}
    assert "20 caractères" in errors["nom"][0]
    assert "120" in errors["age"][0]
    assert "SIRET" in errors["siret"][0]
    assert not Dossier.objects.exists() and not Usager.objects.exists()
    assert not Event.objects.filter(action="dossier.submitted").exists()
    assert not ReferenceCounter.objects.exists()


def test_hidden_fields_are_neither_validated_nor_kept(demarche):
    dossier = submit(demarche, {**GOOD, "siret": "n'importe quoi"})  # association: False
    assert "siret" not in dossier.answers
    assert dossier.answers == {**GOOD, "enfants": [{"prenom": "Léa", "ne_le": "2018-04-02"}]}


def test_a_repeatable_block_needs_its_minimum(demarche):
    with pytest.raises(ValidationError) as refusal:
        submit(demarche, {**GOOD, "enfants": []})
    assert refusal.value.message_dict["enfants"] == ["Ajoutez au moins 1 enfant."]


def test_anonymous_filing_needs_an_email_address(demarche):
    with pytest.raises(ValidationError) as refusal:
        submit(demarche, GOOD, contact_email="")
    assert "contact_email" in refusal.value.message_dict


def test_the_citizen_record_is_found_or_created_and_linked(demarche, tenant_a):
    known = UsagerFactory(collectivite=tenant_a.collectivite, email="a@exemple.test")
    dossier = submit(demarche, GOOD, contact_email="A@Exemple.test")
    assert dossier.usager == known
    assert dossier.contact_email == "a@exemple.test"
    event = Event.objects.get(action="dossier.submitted")
    assert (
        event.payload["reference"] == dossier.reference
        and event.collectivite_id == tenant_a.collectivite.pk
    )


def test_a_draft_sent_twice_is_filed_once(demarche):
    draft = start_draft(demarche=demarche)
    first = submit(demarche, GOOD, dossier=draft)
    again = submit(demarche, GOOD, dossier=draft)
    assert again.pk == first.pk and again.reference == first.reference
    assert Dossier.objects.filed().count() == 1


def test_one_dossier_per_citizen_when_the_démarche_says_so(tenant_a):
    demarche = published(
        tenant_a.collectivite, tenant_a.service, FORM, one_per_citizen=True, who_may_file="account"
    )
    citizen = UserFactory()
    submit(demarche, GOOD, actor=citizen, account=citizen)
    with pytest.raises(ValidationError, match="une seule est possible"):
        submit(demarche, GOOD, actor=citizen, account=citizen)


def test_who_may_file_and_channels_are_enforced(tenant_a, tenant_b):
    account_only = published(
        tenant_a.collectivite, tenant_a.service, FORM, who_may_file="account", slug="compte"
    )
    with pytest.raises(PermissionDenied, match="Connectez-vous"):
        submit(account_only, GOOD)
    agents_only = published(
        tenant_a.collectivite,
        tenant_a.service,
        FORM,
        who_may_file="agents",
        slug="agents",
        channels=["web", "counter"],
    )
    with pytest.raises(PermissionDenied):
        submit(agents_only, GOOD)
    assert submit(agents_only, GOOD, channel=Channel.COUNTER, actor=tenant_a.agent).reference
    with pytest.raises(ValidationError, match="par ce canal"):
        submit(agents_only, GOOD, channel=Channel.PHONE, actor=tenant_a.agent)
    # An agent of another collectivité cannot take in for this one.
    with pytest.raises(PermissionDenied):
        submit(agents_only, GOOD, channel=Channel.COUNTER, actor=tenant_b.agent)


def test_a_closed_or_not_yet_open_démarche_refuses_new_dossiers(demarche, tenant_a):
    demarche.opens_at = timezone.now() + datetime.timedelta(days=1)
    demarche.save()
    with pytest.raises(ValidationError, match="en ce moment"):
        submit(demarche, GOOD)
    demarche.opens_at = None
    demarche.save()
    close_demarche(actor=tenant_a.admin, demarche=demarche)
    with pytest.raises(ValidationError, match="pas ouverte"):
        submit(demarche, GOOD)


def test_a_letter_keeps_its_received_date_but_not_a_future_one(demarche, tenant_a):
    received = timezone.now() - datetime.timedelta(days=3)
    dossier = submit(
        demarche, GOOD, channel=Channel.COURRIER, actor=tenant_a.agent, received_at=received
    )
    assert dossier.received_at == received and dossier.submitted_by == tenant_a.agent
    with pytest.raises(ValidationError) as refusal:
        submit(
            demarche,
            GOOD,
            channel=Channel.COURRIER,
            actor=tenant_a.agent,
            received_at=timezone.now() + datetime.timedelta(days=1),
        )
    assert "received_at" in refusal.value.message_dict


def test_attachments_are_checked_by_content_and_size_before_storage(demarche, media):
    draft = start_draft(demarche=demarche)
    stored = attach_file(dossier=draft, field_key="piece", upload=pdf_file("facture.pdf"))
    assert stored.content_type == "application/pdf" and stored.original_name == "facture.pdf"
    assert "facture" not in stored.file.name  # the citizen's file name is not in the path
    disguised = SimpleUploadedFile(
        "faux.pdf", b"just some text, not a PDF", content_type="application/pdf"
    )
    with pytest.raises(ValidationError, match="n'est pas accepté"):
        attach_file(dossier=draft, field_key="piece", upload=disguised)
    with pytest.raises(ValidationError, match="n'est pas accepté"):
        attach_file(dossier=draft, field_key="piece", upload=png_file())
    big = SimpleUploadedFile("gros.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10))
    with pytest.raises(ValidationError, match="la limite est de 1 Mo"):
        attach_file(dossier=draft, field_key="piece", upload=big)
    assert list(Attachment.objects.values_list("original_name", flat=True)) == ["facture.pdf"]
    assert [p.name for p in (media / "dossiers").rglob("*") if p.is_file()] == [
        stored.file.name.rsplit("/", 1)[1]
    ]


def test_an_answer_cannot_name_another_dossiers_attachment(demarche, media):
    other = start_draft(demarche=demarche)
    foreign = attach_file(dossier=other, field_key="piece", upload=pdf_file())
    draft = start_draft(demarche=demarche)
    with pytest.raises(ValidationError) as refusal:
        submit(demarche, {**GOOD, "piece": [foreign.pk]}, dossier=draft)
    assert refusal.value.message_dict["piece"] == ["Pièce jointe inconnue."]


def test_attachments_of_fields_that_ended_hidden_are_dropped(tenant_a, media):
    form = definition(
        [
            field("envoyer", "yesno", required=True),
            field(
                "piece",
                "file",
                accept=["application/pdf"],
                condition={"op": "equals", "field": "envoyer", "value": True},
            ),
        ]
    )
    demarche = published(tenant_a.collectivite, tenant_a.service, form)
    draft = start_draft(demarche=demarche)
    attachment = attach_file(dossier=draft, field_key="piece", upload=pdf_file())
    dossier = submit(demarche, {"envoyer": False, "piece": [attachment.pk]}, dossier=draft)
    assert "piece" not in dossier.answers and not dossier.attachments.exists()


def test_drafts_untouched_past_their_lifespan_are_purged_with_their_files(
    demarche, media, django_capture_on_commit_callbacks
):
    import os

    from grc.demarches.services.dossiers import purge_expired_drafts

    old = start_draft(demarche=demarche)
    path = attach_file(dossier=old, field_key="piece", upload=pdf_file()).file.path
    recent = start_draft(demarche=demarche)
    filed = submit(demarche, GOOD, dossier=start_draft(demarche=demarche))
    lifespan = datetime.timedelta(days=demarche.draft_lifespan_days)
    Dossier.objects.filter(pk__in=[old.pk, filed.pk]).update(
        updated_at=timezone.now() - lifespan - datetime.timedelta(hours=1)
    )
    assert os.path.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_expired_drafts() == 1
    assert set(Dossier.objects.values_list("pk", flat=True)) == {recent.pk, filed.pk}
    assert not os.path.exists(path)
    assert Event.objects.filter(action="dossier.draft_purged").count() == 1


def test_date_and_time_bounds_are_enforced(tenant_a):
    form = definition(
        [
            field(
                "rdv",
                "datetime",
                required=True,
                validation={"min": "2026-01-01T08:00", "max": "2026-12-31T18:00"},
            )
        ]
    )
    demarche = published(tenant_a.collectivite, tenant_a.service, form, slug="rdv")
    with pytest.raises(ValidationError) as refusal:
        submit(demarche, {"rdv": "2025-06-01T10:00:00+02:00"})
    assert refusal.value.message_dict["rdv"] == ["La date doit être le 01/01/2026 08:00 ou après."]
    assert (
        submit(demarche, {"rdv": "2026-06-01T10:00:00+02:00"})
        .answers["rdv"]
        .startswith("2026-06-01T10:00")
    )
