"""Letters in the backoffice: registering one received (joining a dossier or filing a new one),
nothing half-saved on bad input, letters sent as PDFs for window envelopes, and nobody outside
the collectivité."""

from __future__ import annotations

import datetime
import html
import io
import re
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from grc.base.calendar import paris_date
from grc.base.models import Channel, Event, Usager
from grc.channels.letters import render, services
from grc.channels.models import Letter, LetterTemplate
from grc.demarches.models import Attachment, Document, Dossier, Message
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.demarches.helpers import pdf_file, png_file

pytestmark = pytest.mark.django_db

REGISTER = "/backoffice/courrier/nouveau/"
MM = 72 / 25.4  # PDF points per millimetre


@pytest.fixture
def demarche_a(tenant_a):
    return demarche_for(tenant_a, channels=["web", "courrier", "counter"])


@pytest.fixture
def dossier_a(demarche_a):
    dossier = file_dossier(demarche_a, contact_email="odile@exemple.test")
    Usager.objects.filter(pk=dossier.usager_id).update(
        first_name="Odile",
        last_name="Garnier",
        address_line1="3 rue des Lilas",
        address_line2="Résidence Les Tilleuls, bâtiment B, appartement 12",
        postal_code="49100",
        city="Angers-sur-Maine",
    )
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def dossier_b(tenant_b):
    demarche = demarche_for(tenant_b, slug="b", channels=["web", "courrier"])
    return file_dossier(demarche, contact_email="b@exemple.test")


def letter_data(**extra) -> dict:
    return {"courrier-received_on": "2026-11-02", "courrier-scan": pdf_file("lettre.pdf"), **extra}


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


# --- registering a letter received ------------------------------------------------------------


def test_a_letter_joins_a_dossier(agent_client, tenant_a, dossier_a, media):
    with_callbacks = agent_client.get(REGISTER)
    assert with_callbacks.status_code == 200
    assert "Référence du dossier" in with_callbacks.text
    response = agent_client.post(
        REGISTER, letter_data(**{"courrier-reference": f" {dossier_a.reference} "})
    )
    assert response.status_code == 302, response.text[:2000]
    letter = Letter.objects.get()
    assert response.url == reverse("backoffice:letter_detail", args=[letter.pk])
    assert (letter.direction, letter.dossier_id) == (Letter.Direction.IN, dossier_a.pk)
    assert letter.usager_id == dossier_a.usager_id  # no sender typed: the dossier's citizen
    assert letter.sender == "Odile Garnier"
    assert letter.registered_by == tenant_a.agent
    assert letter.scan.field_key == "courrier:scan" and letter.scan.dossier_id == dossier_a.pk
    assert Message.objects.filter(
        dossier=dossier_a, channel=Channel.COURRIER, body="Courrier reçu le 2 novembre 2026"
    ).exists()
    event = Event.objects.get(action="letter.received")
    assert event.actor == tenant_a.agent and event.payload["dossier"] == dossier_a.pk
    page = agent_client.get(response.url)
    assert page.status_code == 200 and dossier_a.reference in page.text
    scan = agent_client.get(reverse("backoffice:letter_file", args=[letter.pk]))
    assert scan.status_code == 200 and scan["Content-Type"] == "application/pdf"


def test_the_ocr_job_is_queued_after_commit(
    agent_client, dossier_a, media, django_capture_on_commit_callbacks
):
    from procrastinate.contrib.django.models import ProcrastinateJob

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = agent_client.post(
            REGISTER, letter_data(**{"courrier-reference": dossier_a.reference})
        )
    assert response.status_code == 302
    letter = Letter.objects.get()
    assert len(callbacks) >= 1
    job = ProcrastinateJob.objects.get(task_name="channels.read_letter")
    assert job.args == {"letter_id": letter.pk} and job.queue_name == "ocr"


def test_a_letter_files_a_new_dossier_for_a_typed_sender(agent_client, tenant_a, demarche_a, media):
    url = f"{REGISTER}?demarche={demarche_a.pk}"
    page = agent_client.get(url)
    assert page.status_code == 200
    assert "Référence du dossier" not in page.text and 'name="objet"' in page.text
    response = agent_client.post(
        url,
        {
            **letter_data(**{"courrier-subject": "Élagage"}),
            "_pages": ["page_1"],
            "_shown": ["objet", "justificatif"],
            "objet": "Arbres trop hauts",
            "usager-first_name": "Gérard",
            "usager-last_name": "Lemoine",
            "usager-address_line1": "12 avenue Jean-Jaurès",
            "usager-postal_code": "49000",
            "usager-city": "Testville",
        },
    )
    assert response.status_code == 302, response.text[:3000]
    letter = Letter.objects.get()
    dossier = letter.dossier
    assert dossier.channel == Channel.COURRIER and dossier.demarche_id == demarche_a.pk
    assert paris_date(dossier.received_at) == datetime.date(2026, 11, 2)
    assert dossier.answers["objet"] == "Arbres trop hauts"
    assert (dossier.usager.last_name, dossier.usager.city) == ("Lemoine", "Testville")
    assert letter.usager_id == dossier.usager_id and letter.subject == "Élagage"
    assert letter.scan == dossier.attachments.get(field_key="courrier:scan")


def test_a_new_dossier_for_a_chosen_record(agent_client, tenant_a, demarche_a, media):
    from tests.factories import UsagerFactory

    known = UsagerFactory(collectivite=tenant_a.collectivite, last_name="Roux")
    url = f"{REGISTER}?demarche={demarche_a.pk}&usager={known.pk}"
    assert "Roux" in agent_client.get(url).text
    response = agent_client.post(
        url,
        {
            **letter_data(),
            "_pages": ["page_1"],
            "_shown": ["objet", "justificatif"],
            "objet": "Banc",
        },
    )
    assert response.status_code == 302, response.text[:3000]
    assert Letter.objects.get().dossier.usager_id == known.pk
    assert Usager.objects.filter(collectivite=tenant_a.collectivite).count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"courrier-scan": SimpleUploadedFile("virus.exe", b"MZ\x90\x00" * 100)},
            "courrier-scan",
            "n'est pas accepté",
        ),
        ({"courrier-scan": SimpleUploadedFile("vide.pdf", b"")}, "courrier-scan", "vide"),
        ({"courrier-received_on": "2099-01-01"}, "courrier-received_on", "futur"),
        ({"courrier-received_on": "hier"}, "courrier-received_on", "date"),
        ({"courrier-reference": "INCONNU-2026-000099"}, "courrier-reference", "Aucun dossier"),
        ({"courrier-reference": ""}, "courrier-reference", "obligatoire"),
    ],
)
def test_bad_input_is_said_and_nothing_is_stored(
    agent_client, dossier_a, media, data, field, message
):
    messages_before = Message.objects.count()
    attachments_before = Attachment.objects.count()
    posted = {**letter_data(**{"courrier-reference": dossier_a.reference}), **data}
    response = agent_client.post(REGISTER, posted)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert f'id="id_{field}"' in response.text
    assert not Letter.objects.exists()
    assert Message.objects.count() == messages_before
    assert Attachment.objects.count() == attachments_before
    assert stored_files(media) == []


def test_a_refused_answer_on_a_new_dossier_stores_nothing(agent_client, demarche_a, media):
    url = f"{REGISTER}?demarche={demarche_a.pk}"
    response = agent_client.post(
        url,
        {
            **letter_data(),
            "_pages": ["page_1"],
            "_shown": ["objet", "justificatif"],
            "objet": "",
            "usager-last_name": "Lemoine",
        },
    )
    assert response.status_code == 400
    assert not Dossier.objects.exists() and not Letter.objects.exists()
    assert stored_files(media) == []


def test_a_refusal_after_the_scan_was_stored_deletes_it(monkeypatch, tenant_a, dossier_a, media):
    """The letter's row fails after the scan was written: the file goes with the rollback."""

    def broken(**kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(services, "record_event", broken)
    with pytest.raises(RuntimeError):
        services.register_letter(
            actor=tenant_a.agent,
            scan=png_file("lettre.png"),
            received_at=timezone.now(),
            dossier=dossier_a,
        )
    assert not Letter.objects.exists()
    assert not Attachment.objects.filter(field_key="courrier:scan").exists()
    assert stored_files(media) == []


# --- scope ------------------------------------------------------------------------------------


def test_another_collectivites_dossier_cannot_be_joined(agent_client, dossier_b, media):
    response = agent_client.post(
        REGISTER, letter_data(**{"courrier-reference": dossier_b.reference})
    )
    assert response.status_code == 400
    assert "Aucun dossier de vos services" in response.text
    assert not Letter.objects.exists()
    assert not dossier_b.attachments.exists()


def test_other_collectivites_letters_and_demarches_are_not_found(
    agent_client, tenant_b, dossier_b, media
):
    letter = services.register_letter(
        actor=tenant_b.agent, scan=pdf_file(), received_at=timezone.now(), dossier=dossier_b
    )
    for name in ("letter_detail", "letter_file"):
        assert agent_client.get(reverse(f"backoffice:{name}", args=[letter.pk])).status_code == 404
    assert agent_client.get(f"{REGISTER}?demarche={dossier_b.demarche_id}").status_code == 404
    send = reverse("backoffice:letter_send")
    assert agent_client.get(send, {"dossier": dossier_b.pk}).status_code == 404
    assert agent_client.get(send, {"dossier": "x"}).status_code == 404
    listing = agent_client.get(reverse("backoffice:letter_list"))
    assert listing.status_code == 200 and dossier_b.reference not in listing.text
    # A record of the other collectivité is not taken as the sender.
    page = agent_client.get(f"{REGISTER}?usager={dossier_b.usager_id}")
    assert page.status_code == 200 and "introuvable" in page.text


def test_an_agent_of_another_service_does_not_see_the_letter(client, tenant_a, dossier_a, media):
    from grc.base.models import Role
    from tests.factories import MembershipFactory

    letter = services.register_letter(
        actor=tenant_a.agent, scan=pdf_file(), received_at=timezone.now(), dossier=dossier_a
    )
    outsider = MembershipFactory(collectivite=tenant_a.collectivite, role=Role.AGENT).user
    client.force_login(outsider)
    client.defaults["HTTP_HOST"] = HOST
    assert client.get(reverse("backoffice:letter_detail", args=[letter.pk])).status_code == 404
    send = reverse("backoffice:letter_send")
    assert client.get(send, {"dossier": dossier_a.pk}).status_code == 404
    response = client.post(REGISTER, letter_data(**{"courrier-reference": dossier_a.reference}))
    assert response.status_code == 400 and Letter.objects.count() == 1


# --- letters sent -----------------------------------------------------------------------------


@pytest.fixture
def template_a(tenant_a):
    return services.save_letter_template(
        actor=tenant_a.admin,
        collectivite=tenant_a.collectivite,
        data={
            "name": "Réponse élagage",
            "subject": "Votre demande {{ dossier.reference }}",
            "body": (
                "{{ usager.first_name }} {{ usager.last_name }},\n\n"
                "Nous avons bien reçu votre demande « {{ demarche.title }} » le "
                "{{ dossier.received_at|date_fr }}.\n\nL'élagage sera fait en janvier."
            ),
            "signature": "Le service {{ service.name }}",
        },
    )


def test_a_letter_is_previewed_then_sent_as_a_pdf(
    agent_client, tenant_a, dossier_a, template_a, media
):
    url = reverse("backoffice:letter_send")
    page = agent_client.get(url, {"dossier": dossier_a.pk})
    assert page.status_code == 200 and "Réponse élagage" in page.text
    preview = agent_client.get(url, {"dossier": dossier_a.pk, "template": template_a.pk})
    assert preview.status_code == 200
    assert f"Votre demande {dossier_a.reference}" in preview.text
    assert "49100 ANGERS-SUR-MAINE" in preview.text
    assert not Document.objects.exists()  # a preview stores nothing

    response = agent_client.post(
        f"{url}?dossier={dossier_a.pk}",
        {
            "template": template_a.pk,
            "subject": f"Votre demande {dossier_a.reference}",
            "body": "Odile Garnier,\n\nL'élagage des platanes sera fait en janvier.",
        },
    )
    assert response.status_code == 302, response.text[:3000]
    letter = Letter.objects.get(direction=Letter.Direction.OUT)
    document = letter.document
    assert (document.kind, document.visible_to_citizen) == ("courrier", True)
    assert document.dossier_id == dossier_a.pk
    assert letter.recipient_address.splitlines()[-1] == "49100 ANGERS-SUR-MAINE"
    assert Message.objects.filter(
        dossier=dossier_a,
        direction=Message.Direction.OUT,
        channel=Channel.COURRIER,
        body=f"Courrier envoyé : Votre demande {dossier_a.reference}",
    ).exists()
    assert Event.objects.filter(action="letter.sent", object_id=str(letter.pk)).exists()

    pdf = agent_client.get(reverse("backoffice:letter_file", args=[letter.pk]))
    assert pdf.status_code == 200
    data = b"".join(pdf.streaming_content)
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / MM), round(float(box.height) / MM)) == (210, 297)
    text = reader.pages[0].extract_text()
    assert "Odile Garnier" in text and "3 rue des Lilas" in text
    assert "49100 ANGERS-SUR-MAINE" in text
    assert "Objet : Votre demande" in text and "platanes" in text
    today = paris_date(timezone.now())
    assert f"À Testville, le {render.format_date_fr(today)}" in text


def test_the_address_sits_in_the_envelope_window(tenant_a, dossier_a, template_a, tmp_path):
    rendered = services.preview_letter(actor=tenant_a.agent, dossier=dossier_a, template=template_a)
    assert len(rendered.recipient) <= 6
    assert all(len(line) <= 38 for line in rendered.recipient)
    pdf = tmp_path / "courrier.pdf"
    pdf.write_bytes(rendered.pdf)
    bbox = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    words = [
        (float(x0) / MM, float(y0) / MM, float(x1) / MM, float(y1) / MM, word)
        for x0, y0, x1, y1, word in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
            bbox,
        )
    ]
    address_words = {w for line in rendered.recipient for w in line.split()}
    # Above the body (it starts below 95 mm and its salutation repeats the name).
    placed = [w for w in words if w[4] in address_words and w[1] < 110]
    assert {w[4] for w in placed} >= {"Odile", "Garnier", "Lilas", "49100", "ANGERS-SUR-MAINE"}
    for x0, y0, x1, y1, word in placed:
        # The block: 110 mm from the left, 50 mm from the top, 90 × 40 mm.
        assert x0 >= 110 - 0.5 and x1 <= 200, word
        assert y0 >= 50 - 0.5 and y1 <= 90, word


def test_recipient_lines_follow_la_poste(tenant_a):
    usager = Usager(
        first_name="Marie-Hélène",
        last_name="de La Tour d'Auvergne-Lauraguais",
        address_line1="128 boulevard du Maréchal Jean-Marie-Joseph de Lattre de Tassigny",
        address_line2="Bâtiment C",
        postal_code="49000",
        city="Saint-Aubin-sur-Loire",
    )
    lines = render.recipient_lines(usager)
    assert len(lines) <= 6 and all(len(line) <= 38 for line in lines)
    assert lines[-1] == "49000 SAINT-AUBIN-SUR-LOIRE"
    assert render.recipient_lines(Usager(first_name="Sans", last_name="Adresse")) is None


def test_a_broken_template_or_a_missing_address_is_said(
    agent_client, tenant_a, dossier_a, template_a, media
):
    LetterTemplate.objects.filter(pk=template_a.pk).update(body="{{ dossier.inconnu }")
    url = reverse("backoffice:letter_send")
    response = agent_client.get(url, {"dossier": dossier_a.pk, "template": template_a.pk})
    assert response.status_code == 400 and "error-summary" in response.text
    Usager.objects.filter(pk=dossier_a.usager_id).update(address_line1="")
    LetterTemplate.objects.filter(pk=template_a.pk).update(body="Bonjour")
    response = agent_client.get(url, {"dossier": dossier_a.pk, "template": template_a.pk})
    assert response.status_code == 400 and "adresse postale" in response.text
    other = LetterTemplate.objects.create(
        collectivite=dossier_a.collectivite, name="Inactif", body="x", is_active=False
    )
    response = agent_client.get(url, {"dossier": dossier_a.pk, "template": other.pk})
    assert response.status_code == 400
    assert not Document.objects.exists() and not Letter.objects.exists()


def test_templates_are_checked_and_kept_per_collectivite(tenant_a, tenant_b):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.save_letter_template(
            actor=tenant_a.admin,
            collectivite=tenant_a.collectivite,
            data={"name": "Cassé", "body": "{{ dossier.reference "},
        )
    assert "body" in refused.value.message_dict
    with pytest.raises(Exception):  # noqa: B017 - the refusal of the services (PermissionDenied)
        services.save_letter_template(
            actor=tenant_a.admin,
            collectivite=tenant_b.collectivite,
            data={"name": "x", "body": "y"},
        )
    assert not LetterTemplate.objects.exists()


def test_the_admin_of_templates_is_scoped_to_the_collectivite(rf, tenant_a, tenant_b):
    from django.contrib import admin

    import grc.channels.admin_letters  # noqa: F401 - registers (the lead imports it)

    for tenant in (tenant_a, tenant_b):
        services.save_letter_template(
            actor=tenant.admin,
            collectivite=tenant.collectivite,
            data={"name": f"Modèle {tenant.collectivite.name}", "body": "Bonjour"},
        )
    model_admin = admin.site._registry[LetterTemplate]
    request = rf.get("/admin/")
    request.user = tenant_a.admin
    names = set(model_admin.get_queryset(request).values_list("name", flat=True))
    assert names == {"Modèle Commune A"}
    form_class = model_admin.get_form(request)
    form = form_class(
        data={
            "collectivite": tenant_a.collectivite.pk,
            "name": "Cassé",
            "subject": "",
            "body": "{{ dossier.reference ",
            "signature": "",
            "is_active": "on",
        }
    )
    assert not form.is_valid() and "body" in form.errors and "subject" not in form.errors
    form = form_class(
        data={"collectivite": tenant_b.collectivite.pk, "name": "Ailleurs", "body": "Bonjour"}
    )
    assert not form.is_valid() and "collectivite" in form.errors


def test_the_dossier_partial_links_to_the_letters(agent_client, tenant_a, dossier_a, media):
    from django.template.loader import render_to_string

    letter = services.register_letter(
        actor=tenant_a.agent, scan=pdf_file(), received_at=timezone.now(), dossier=dossier_a
    )
    html_ = render_to_string("backoffice/letters/_dossier_letters.html", {"dossier": dossier_a})
    assert reverse("backoffice:letter_detail", args=[letter.pk]) in html_
    assert f"?dossier={dossier_a.pk}" in html_
    page = agent_client.get(REGISTER, {"reference": dossier_a.reference})
    assert f'value="{dossier_a.reference}"' in page.text
