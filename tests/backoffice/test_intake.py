"""Intake on the citizen's behalf: counter, phone, letter; the acknowledgements by the
citizen's channel; nothing half-saved on bad input; nobody outside the collectivité."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from grc.base.calendar import paris_date
from grc.base.models import Channel, Role, Usager
from grc.demarches import legal
from grc.demarches.acknowledgements import delivery
from grc.demarches.models import Acknowledgement, Attachment, Dossier
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier
from tests.demarches.helpers import pdf_file, png_file
from tests.factories import MembershipFactory, ServiceFactory, UsagerFactory, UserFactory


@pytest.fixture
def demarche_a(tenant_a):
    return demarche_for(tenant_a)


def form_url(demarche, channel=Channel.COUNTER, **params) -> str:
    from urllib.parse import urlencode

    query = urlencode({"canal": channel, **params})
    return f"{reverse('backoffice:intake_form', args=[demarche.pk])}?{query}"


PAGES = {"_pages": ["page_1"], "_shown": ["objet", "justificatif"]}


def new_person(**extra) -> dict:
    return {
        "usager-first_name": "Odile",
        "usager-last_name": "Garnier",
        "usager-email": "",
        "usager-phone": "02 41 00 10 20",
        "usager-address_line1": "3 rue des Lilas",
        "usager-postal_code": "49000",
        "usager-city": "Angers",
        **extra,
    }


# --- choosing the démarche and the channel ----------------------------------------------------


def test_start_lists_the_demarches_open_to_agents(agent_client, tenant_a, demarche_a):
    web_only = demarche_for(tenant_a, slug="web-seulement", title="Web seulement", channels=["web"])
    page = agent_client.get(reverse("backoffice:intake_start")).content.decode()
    assert demarche_a.title in page
    assert web_only.title not in page
    response = agent_client.get(
        reverse("backoffice:intake_start"), {"demarche": demarche_a.pk, "canal": "courrier"}
    )
    assert response.status_code == 302
    assert response.url == form_url(demarche_a, Channel.COURRIER)


def test_a_channel_the_demarche_refuses_is_said(agent_client, tenant_a):
    counter_only = demarche_for(tenant_a, slug="guichet", channels=["counter", "web"])
    response = agent_client.get(
        reverse("backoffice:intake_start"), {"demarche": counter_only.pk, "canal": "phone"}
    )
    assert response.status_code == 200
    assert "accepte" in response.content.decode()
    response = agent_client.get(form_url(counter_only, "phone"))
    assert response.status_code == 302


@pytest.mark.parametrize("params", [{"demarche": "x", "canal": "??"}, {"demarche": "999999"}])
def test_bad_start_parameters_give_the_normal_page(agent_client, demarche_a, params):
    assert agent_client.get(reverse("backoffice:intake_start"), params).status_code == 200


# --- counter and phone ------------------------------------------------------------------------


def test_counter_intake_for_a_new_citizen_with_email(agent_client, tenant_a, demarche_a):
    response = agent_client.post(
        form_url(demarche_a),
        {**PAGES, **new_person(**{"usager-email": "Odile.Garnier@Exemple.test"}), "objet": "Banc"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    dossier = Dossier.objects.get()
    assert response.url == reverse("backoffice:intake_done", args=[dossier.pk])
    assert dossier.channel == Channel.COUNTER
    assert dossier.submitted_by == tenant_a.agent
    assert dossier.answers["objet"] == "Banc"
    usager = dossier.usager
    assert (usager.first_name, usager.last_name) == ("Odile", "Garnier")
    assert usager.email == "odile.garnier@exemple.test"
    assert usager.phones == ["+33241001020"]
    assert usager.city == "Angers"
    assert usager.created_channel == Channel.COUNTER
    acks = {a.kind: a.status for a in dossier.acknowledgements.all()}
    assert acks == {"aee": "pending", "are": "pending"}  # e-mailed by the worker
    page = agent_client.get(response.url).content.decode()
    assert dossier.reference in page
    assert "envoyés par courriel à odile.garnier@exemple.test" in page


def test_phone_intake_for_an_existing_citizen(agent_client, tenant_a, demarche_a):
    known = UsagerFactory(collectivite=tenant_a.collectivite, first_name="Rémi", last_name="Roux")
    page = agent_client.get(form_url(demarche_a, Channel.PHONE, q="remi roux")).content.decode()
    assert f"usager={known.pk}" in page
    url = form_url(demarche_a, Channel.PHONE, usager=known.pk)
    page = agent_client.get(url).content.decode()
    assert "Rémi Roux" in page and "usager-last_name" not in page
    response = agent_client.post(url, {**PAGES, "objet": "Lampadaire"})
    assert response.status_code == 302
    dossier = Dossier.objects.get()
    assert dossier.usager_id == known.pk and dossier.channel == Channel.PHONE
    assert Usager.objects.count() == 1


def test_a_new_person_with_a_known_email_reuses_their_record(agent_client, tenant_a, demarche_a):
    known = UsagerFactory(collectivite=tenant_a.collectivite, email="odile@exemple.test")
    response = agent_client.post(
        form_url(demarche_a),
        {**PAGES, **new_person(**{"usager-email": "odile@exemple.test"}), "objet": "Banc"},
    )
    assert response.status_code == 302
    assert Dossier.objects.get().usager_id == known.pk


def test_a_merged_record_is_replaced_by_the_kept_one(agent_client, tenant_a, demarche_a):
    kept = UsagerFactory(collectivite=tenant_a.collectivite)
    merged = UsagerFactory(collectivite=tenant_a.collectivite, merged_into=kept)
    response = agent_client.post(form_url(demarche_a, usager=merged.pk), {**PAGES, "objet": "Banc"})
    assert response.status_code == 302
    assert Dossier.objects.get().usager_id == kept.pk


def test_the_forms_file_field_is_taken(agent_client, demarche_a, media):
    response = agent_client.post(
        form_url(demarche_a),
        {
            **PAGES,
            **new_person(),
            "objet": "Banc",
            "justificatif__upload": pdf_file("justificatif.pdf"),
        },
    )
    assert response.status_code == 302
    dossier = Dossier.objects.get()
    attachment = Attachment.objects.get(dossier=dossier, field_key="justificatif")
    assert dossier.answers["justificatif"] == [attachment.pk]


def test_a_refused_file_leaves_nothing(agent_client, demarche_a, media):
    response = agent_client.post(
        form_url(demarche_a),
        {**PAGES, **new_person(), "objet": "Banc", "justificatif__upload": png_file()},
    )
    assert response.status_code == 400
    assert "pas accepté" in response.content.decode()
    assert not Dossier.objects.exists() and not Usager.objects.exists()
    assert not Attachment.objects.exists()
    assert not any(media.rglob("*.png"))


# --- letters ----------------------------------------------------------------------------------


def test_letter_with_received_date_and_scan(agent_client, demarche_a, media):
    day = paris_date(timezone.now()) - datetime.timedelta(days=10)
    response = agent_client.post(
        form_url(demarche_a, Channel.COURRIER),
        {
            **PAGES,
            **new_person(),
            "objet": "Demande par courrier",
            "courrier-received_on": day.isoformat(),
            "courrier-scan": pdf_file("courrier.pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    dossier = Dossier.objects.get()
    assert dossier.channel == Channel.COURRIER
    assert paris_date(dossier.received_at) == day
    expected = legal.legal_decision_date(
        received_at=dossier.received_at,
        period=dossier.decision_period,
        unit=dossier.decision_period_unit,
        kind=dossier.implicit_decision,
        today=paris_date(timezone.now()),
    )
    assert dossier.expected_decision_date == expected
    today_filed = file_dossier(demarche_a, contact_email="web@exemple.test")
    assert dossier.expected_decision_date < today_filed.expected_decision_date
    scan = Attachment.objects.get(dossier=dossier, field_key="courrier:scan")
    assert scan.content_type == "application/pdf"


def test_a_letter_from_the_future_is_refused_on_its_field(agent_client, demarche_a, media):
    tomorrow = paris_date(timezone.now()) + datetime.timedelta(days=1)
    response = agent_client.post(
        form_url(demarche_a, Channel.COURRIER),
        {
            **PAGES,
            **new_person(),
            "objet": "Demande",
            "courrier-received_on": tomorrow.isoformat(),
            "courrier-scan": pdf_file("courrier.pdf"),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "ne peut pas être dans le futur" in page
    assert 'href="#id_courrier-received_on"' in page
    assert not Dossier.objects.exists() and not Usager.objects.exists()


@pytest.mark.parametrize(
    "letter",
    [
        {"courrier-received_on": "hier"},
        {"courrier-received_on": "2026-02-31"},
        {"courrier-received_on": "2026-01-10"},  # no scan
    ],
)
def test_a_letter_needs_a_date_and_a_scan(agent_client, demarche_a, letter):
    response = agent_client.post(
        form_url(demarche_a, Channel.COURRIER),
        {**PAGES, **new_person(), "objet": "Demande", **letter},
    )
    assert response.status_code == 400
    assert not Dossier.objects.exists() and not Usager.objects.exists()


def test_a_letter_scan_that_is_not_a_document_is_refused(agent_client, demarche_a, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = agent_client.post(
        form_url(demarche_a, Channel.COURRIER),
        {
            **PAGES,
            **new_person(),
            "objet": "Demande",
            "courrier-received_on": "2026-01-10",
            "courrier-scan": SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf"),
        },
    )
    assert response.status_code == 400
    assert "pas accepté" in response.content.decode()
    assert not Dossier.objects.exists()


# --- bad input --------------------------------------------------------------------------------


def test_bad_input_gives_field_errors_and_saves_nothing(agent_client, demarche_a):
    response = agent_client.post(
        form_url(demarche_a),
        {
            **PAGES,
            **new_person(**{"usager-email": "pas-une-adresse", "usager-last_name": ""}),
            "objet": "",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error-summary"' in page
    assert 'href="#id_usager-last_name"' in page
    assert 'href="#id_usager-email"' in page
    assert 'href="#id_objet"' in page
    assert 'value="Odile"' in page  # what was typed is kept
    assert not Dossier.objects.exists() and not Usager.objects.exists()


def test_service_refusal_rolls_the_new_record_back(agent_client, tenant_a, demarche_a):
    demarche_a.one_per_citizen = True
    demarche_a.save()
    known = UsagerFactory(collectivite=tenant_a.collectivite)
    url = form_url(demarche_a, usager=known.pk)
    assert agent_client.post(url, {**PAGES, "objet": "Un"}).status_code == 302
    response = agent_client.post(url, {**PAGES, "objet": "Deux"})
    assert response.status_code == 400
    assert "une seule est possible" in response.content.decode()
    assert Dossier.objects.count() == 1


# --- acknowledgements -------------------------------------------------------------------------


def test_without_email_the_acknowledgements_are_to_print(agent_client, demarche_a, media):
    response = agent_client.post(form_url(demarche_a), {**PAGES, **new_person(), "objet": "Banc"})
    dossier = Dossier.objects.get()
    acks = {a.kind: a for a in dossier.acknowledgements.all()}
    assert {a.status for a in acks.values()} == {Acknowledgement.Status.TO_PRINT}
    pdf_url = reverse("backoffice:intake_acknowledgement_pdf", args=[dossier.pk, "are"])
    page = agent_client.get(response.url).content.decode()
    assert "remettez-lui ou postez-lui" in page
    assert "en préparation" in page
    # Not rendered yet: the agent is told, not sent an error.
    assert agent_client.get(pdf_url).status_code == 302
    for ack in acks.values():  # what the worker does
        delivery.deliver(ack.pk)
    page = agent_client.get(response.url).content.decode()
    assert pdf_url in page
    download = agent_client.get(pdf_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert (
        agent_client.get(
            reverse("backoffice:intake_acknowledgement_pdf", args=[dossier.pk, "xyz"])
        ).status_code
        == 404
    )


# --- who may do it ----------------------------------------------------------------------------


@pytest.fixture
def filed(agent_client, demarche_a, media):
    agent_client.post(form_url(demarche_a), {**PAGES, **new_person(), "objet": "Banc"})
    dossier = Dossier.objects.get()
    for ack in dossier.acknowledgements.all():
        delivery.deliver(ack.pk)
    agent_client.logout()
    return dossier


@pytest.mark.parametrize(
    "who", ["agent_b", "admin_b", "platform_admin", "citizen", "other_service"]
)
def test_every_intake_url_is_not_found_outside_ones_scope(
    client, tenant_a, tenant_b, platform_admin, demarche_a, filed, who
):
    users = {
        "agent_b": tenant_b.agent,
        "admin_b": tenant_b.admin,
        "platform_admin": platform_admin,
        "citizen": UserFactory(),
        "other_service": MembershipFactory(
            collectivite=tenant_a.collectivite,
            role=Role.AGENT,
            service=ServiceFactory(collectivite=tenant_a.collectivite),
        ).user,
    }
    client.force_login(users[who])
    private = [
        reverse("backoffice:intake_done", args=[filed.pk]),
        reverse("backoffice:intake_acknowledgement_pdf", args=[filed.pk, "are"]),
    ]
    for url in private:
        assert client.get(url, HTTP_HOST=HOST).status_code == 404, (who, url)
    if who == "other_service":
        return  # staff of the collectivité: may take requests in for any of its démarches
    before = Dossier.objects.count()
    assert client.get(form_url(demarche_a), HTTP_HOST=HOST).status_code == 404
    response = client.post(
        form_url(demarche_a), {**PAGES, **new_person(), "objet": "x"}, HTTP_HOST=HOST
    )
    assert response.status_code == 404
    assert Dossier.objects.count() == before
    start = client.get(reverse("backoffice:intake_start"), HTTP_HOST=HOST).content.decode()
    assert demarche_a.title not in start


def test_an_agent_of_another_service_follows_their_own_intake(client, tenant_a, demarche_a, media):
    other = MembershipFactory(
        collectivite=tenant_a.collectivite,
        role=Role.AGENT,
        service=ServiceFactory(collectivite=tenant_a.collectivite),
    ).user
    client.force_login(other)
    response = client.post(
        form_url(demarche_a), {**PAGES, **new_person(), "objet": "Banc"}, HTTP_HOST=HOST
    )
    assert response.status_code == 302
    assert client.get(response.url, HTTP_HOST=HOST).status_code == 200


def test_anonymous_visitors_are_sent_to_login(client, demarche_a, filed):
    for url in (
        reverse("backoffice:intake_start"),
        form_url(demarche_a),
        reverse("backoffice:intake_done", args=[filed.pk]),
        reverse("backoffice:intake_acknowledgement_pdf", args=[filed.pk, "are"]),
    ):
        response = client.get(url, HTTP_HOST=HOST)
        assert response.status_code == 302 and "/comptes/connexion/" in response.url


def test_questions_that_appear_are_asked_not_reported(agent_client, tenant_a):
    from tests.demarches.factories import definition, field, published

    form = definition(
        [field("motif", "choice", required=True)],
        [field("detail", required=True)],
    )
    form["pages"][1]["condition"] = {"op": "equals", "field": "motif", "value": "b"}
    demarche = published(tenant_a.collectivite, tenant_a.service, form, slug="conditions")
    page = agent_client.get(form_url(demarche)).content.decode()
    assert 'name="motif"' in page and 'name="detail"' not in page
    sent = {"_pages": ["page_1"], "_shown": ["motif"], **new_person(), "motif": "b"}
    response = agent_client.post(form_url(demarche), sent)
    assert response.status_code == 200
    page = response.content.decode()
    assert "nouvelles questions" in page and 'name="detail"' in page
    assert "error-summary" not in page
    assert not Dossier.objects.exists() and not Usager.objects.exists()
    sent = {**sent, "_pages": ["page_1", "page_2"], "_shown": ["motif", "detail"]}
    assert agent_client.post(form_url(demarche), {**sent, "detail": "Précision"}).status_code == 302
    assert Dossier.objects.get().answers == {"motif": "b", "detail": "Précision"}


def test_adding_an_item_to_a_block_is_not_a_submission(agent_client, tenant_a):
    from tests.demarches.factories import definition, field, published

    block = field("enfants", "block", fields=[field("prenom", required=True)], max_items=3)
    demarche = published(tenant_a.collectivite, tenant_a.service, definition([block]), slug="blocs")
    response = agent_client.post(
        form_url(demarche),
        {
            "_pages": ["page_1"],
            "_shown": ["enfants"],
            **new_person(**{"usager-last_name": ""}),
            "enfants__count": "1",
            "_action": "add:enfants",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="enfants__1__prenom"' in page
    assert "error-summary" not in page
    assert not Dossier.objects.exists()
