"""What arrives by a channel lands on a dossier (grc.channels.inbound): a new message opens a
dossier of the collectivité's "Courriel" démarche (adopted and published the first time), a
reply joins its dossier, files are kept or named, references are the collectivité's own."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from grc.base.models import Event, Usager
from grc.channels import inbound
from grc.demarches.models import Acknowledgement, Demarche, Message

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _open(tenant, **kwargs):
    with transaction.atomic():
        return inbound.open_dossier(
            collectivite=tenant.collectivite,
            demarche=None,
            channel="email",
            sender=kwargs.pop(
                "sender", inbound.Sender(email="Jeanne.Martin@exemple.fr", last_name="Martin")
            ),
            subject=kwargs.pop("subject", "Bruit de la salle des fêtes"),
            body=kwargs.pop("body", "Bonjour, la salle des fêtes est bruyante la nuit."),
            **kwargs,
        )


def test_a_new_message_opens_a_dossier_of_the_courriel_demarche(tenant_a):
    dossier, message = _open(
        tenant_a,
        files=[
            inbound.IncomingFile("plan.pdf", PDF),
            inbound.IncomingFile("../../virus.exe", b"MZ\x90\x00" + b"\x00" * 64),
        ],
    )
    demarche = Demarche.objects.get(collectivite=tenant_a.collectivite, slug="courriel")
    assert demarche.state == Demarche.State.PUBLISHED
    assert dossier.demarche == demarche and dossier.channel == "email"
    assert dossier.reference.startswith(tenant_a.collectivite.reference_prefix)
    assert dossier.answers["objet"] == "Bruit de la salle des fêtes"
    assert dossier.usager.email == "jeanne.martin@exemple.fr"
    assert message.direction == Message.Direction.IN and message.channel == "email"
    assert [a.attachment.original_name for a in message.attachment_links.all()] == ["plan.pdf"]
    note = dossier.messages.get(direction=Message.Direction.NOTE)
    assert "virus.exe" in note.body and "n'est pas accepté" in note.body
    assert Acknowledgement.objects.filter(dossier=dossier).exists()
    # The second message reuses the démarche and the citizen record.
    second, _ = _open(tenant_a, subject="Autre chose")
    assert second.demarche == demarche and second.usager == dossier.usager
    assert Usager.objects.filter(collectivite=tenant_a.collectivite).count() == 1


def test_a_reply_joins_its_dossier_even_closed_with_a_note(tenant_a):
    dossier, _ = _open(tenant_a)
    with transaction.atomic():
        message = inbound.append_message(dossier=dossier, channel="email", body="Merci !")
    assert message.dossier == dossier and message.direction == Message.Direction.IN
    assert Event.objects.filter(action="dossier.message_received", object_id=str(dossier.pk))
    dossier.closed_at = dossier.received_at
    dossier.save(update_fields=["closed_at"])
    with transaction.atomic():
        inbound.append_message(dossier=dossier, channel="email", body="Encore une question")
    assert "après la clôture" in dossier.messages.filter(direction="note").last().body


def test_references_are_found_only_for_their_own_collectivite(tenant_a, tenant_b):
    dossier, _ = _open(tenant_a)
    ref = dossier.reference
    assert inbound.find_dossier_by_reference(tenant_a.collectivite, f"Re: [{ref}] ok") == dossier
    assert inbound.find_dossier_by_reference(tenant_a.collectivite, f"re: {ref.lower()}") == dossier
    assert inbound.find_dossier_by_reference(tenant_b.collectivite, f"Re: [{ref}]") is None
    assert inbound.find_dossier_by_reference(tenant_a.collectivite, f"X{ref}1") is None
    assert inbound.find_dossier_by_reference(tenant_a.collectivite, "Re: bonjour") is None


def test_a_collectivite_without_contact_details_cannot_receive(tenant_a):
    tenant_a.service.phone = ""
    tenant_a.service.save()
    with pytest.raises(ValidationError):
        _open(tenant_a)
    assert not Demarche.objects.filter(collectivite=tenant_a.collectivite, slug="courriel")
