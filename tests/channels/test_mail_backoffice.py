"""E-mails received in the agents' workspace: the quarantine list and a message's page, its raw
download, taking it out of quarantine (admins and managers), the addresses in failure; each
page answers 404 outside the person's collectivité or services."""

import pytest
from django.db import transaction

from grc.base.models import Event, Role
from grc.channels import inbound
from grc.channels.mail.ingest import ingest
from grc.channels.models import BouncedAddress, InboundEmail, Mailbox
from grc.demarches.models import Dossier
from tests.channels.mails import make_bounce, make_mail
from tests.factories import MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db

HOST = "127.0.0.1"
LIST = "/backoffice/courriels/"


def mailbox_of(tenant, *, service=None, email=None):
    return Mailbox.objects.create(
        collectivite=tenant.collectivite,
        service=service,
        name="Boîte",
        email=email or f"boite{tenant.collectivite.pk}-{service.pk if service else 0}@test.fr",
        host="127.0.0.1",
        username="x",
    )


@pytest.fixture
def throttled(tenant_a, media, settings):
    """A message quarantined in tenant A's shared mailbox (its sender opened too many)."""
    settings.GRC_MAIL_THROTTLE = 0
    return ingest(
        mailbox_of(tenant_a),
        make_mail(subject="Encore une demande", sender="Léa Petit <lea.petit@exemple.fr>"),
    )


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params, HTTP_HOST=HOST)


def test_the_list_shows_quarantine_by_default_and_filters(client, tenant_a, throttled):
    opened = ingest(throttled.mailbox, make_mail(subject="Bonjour", sender="ok@exemple.fr"))
    assert opened.outcome == InboundEmail.Outcome.QUARANTINED  # the throttle is 0 here
    bounce = ingest(throttled.mailbox, make_bounce(failed="lea.petit@exemple.fr"))
    page = get(client, tenant_a.agent, LIST).content.decode()
    assert "Encore une demande" in page and "lea.petit@exemple.fr" in page
    assert "Trop de nouveaux dossiers" in page
    assert f'data-mail="{bounce.pk}"' not in page
    bounces = get(client, tenant_a.agent, LIST, filtre="non-remises").content.decode()
    assert f'data-mail="{bounce.pk}"' in bounces and f'data-mail="{throttled.pk}"' not in bounces
    everything = get(client, tenant_a.agent, LIST, filtre="tous", page="abc").content.decode()
    assert all(f'data-mail="{r.pk}"' in everything for r in (bounce, throttled, opened))
    assert get(client, tenant_a.agent, LIST, filtre="<script>").status_code == 200


def test_the_detail_shows_the_text_and_the_raw_download_is_audited(client, tenant_a, throttled):
    page = get(client, tenant_a.agent, f"{LIST}{throttled.pk}/")
    assert page.status_code == 200
    assert "Bonjour, il y a un trou rue des Lilas." in page.content.decode()
    # An agent sees it but may not release it: no form.
    assert "Sortir de quarantaine</button>" not in page.content.decode()
    raw = get(client, tenant_a.agent, f"{LIST}{throttled.pk}/brut/")
    assert raw["Content-Type"] == "message/rfc822"
    assert "attachment" in raw["Content-Disposition"] and ".eml" in raw["Content-Disposition"]
    assert b"".join(raw.streaming_content) == throttled.raw.open("rb").read()
    text = get(client, tenant_a.agent, f"{LIST}{throttled.pk}/brut/", format="texte")
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert (
        Event.objects.filter(
            action="inbound_email.raw_downloaded", actor=tenant_a.agent, object_id=str(throttled.pk)
        ).count()
        == 2
    )


def test_a_manager_releases_into_a_new_dossier(client, tenant_a, throttled):
    client.force_login(tenant_a.manager)
    page = client.get(f"{LIST}{throttled.pk}/", HTTP_HOST=HOST).content.decode()
    assert "Sortir de quarantaine</button>" in page
    response = client.post(f"{LIST}{throttled.pk}/sortir/", {"mode": "nouveau"}, HTTP_HOST=HOST)
    assert response.status_code == 302
    throttled.refresh_from_db()
    assert throttled.outcome == InboundEmail.Outcome.RELEASED and throttled.dossier
    assert throttled.dossier.usager.email == "lea.petit@exemple.fr"
    assert throttled.message.dossier == throttled.dossier
    event = Event.objects.get(action="inbound_email.released", object_id=str(throttled.pk))
    assert event.actor == tenant_a.manager and event.payload["reason"] == "throttled"
    # Once out, it cannot be released twice.
    again = client.post(f"{LIST}{throttled.pk}/sortir/", {"mode": "nouveau"}, HTTP_HOST=HOST)
    assert again.status_code == 400
    assert Dossier.objects.filter(collectivite=tenant_a.collectivite).count() == 1


def test_an_admin_releases_into_a_dossier_by_reference_with_field_errors(
    client, tenant_a, tenant_b, throttled
):
    with transaction.atomic():
        dossier, _ = inbound.open_dossier(
            collectivite=tenant_a.collectivite,
            demarche=None,
            channel="email",
            sender=inbound.Sender(email="lea.petit@exemple.fr"),
            subject="Première demande",
            body="Texte",
        )
        other, _ = inbound.open_dossier(
            collectivite=tenant_b.collectivite,
            demarche=None,
            channel="email",
            sender=inbound.Sender(email="lea.petit@exemple.fr"),
            subject="Ailleurs",
            body="Texte",
        )
    client.force_login(tenant_a.admin)
    url = f"{LIST}{throttled.pk}/sortir/"
    missing = client.post(url, {"mode": "dossier", "reference": ""}, HTTP_HOST=HOST)
    assert missing.status_code == 400
    assert "Indiquez la référence du dossier." in missing.content.decode()
    foreign = client.post(url, {"mode": "dossier", "reference": other.reference}, HTTP_HOST=HOST)
    assert foreign.status_code == 400
    assert "Aucun dossier de vos services n&#x27;a cette référence." in foreign.content.decode()
    bad_mode = client.post(url, {"mode": "n'importe"}, HTTP_HOST=HOST)
    assert bad_mode.status_code == 400
    done = client.post(url, {"mode": "dossier", "reference": dossier.reference}, HTTP_HOST=HOST)
    assert done.status_code == 302
    throttled.refresh_from_db()
    assert throttled.outcome == InboundEmail.Outcome.RELEASED and throttled.dossier == dossier
    assert dossier.messages.filter(direction="in").count() == 2


def test_an_unreadable_message_cannot_be_released_and_says_why(client, tenant_a, media):
    row = ingest(mailbox_of(tenant_a), b"\x00\x01 pas un courriel")
    assert row.reason == InboundEmail.Reason.UNPARSABLE
    client.force_login(tenant_a.admin)
    page = client.get(f"{LIST}{row.pk}/", HTTP_HOST=HOST).content.decode()
    assert "Le texte n'a pas pu être lu" in page
    response = client.post(f"{LIST}{row.pk}/sortir/", {"mode": "nouveau"}, HTTP_HOST=HOST)
    assert response.status_code == 400 and "illisible" in response.content.decode()


def test_agents_see_their_services_and_shared_mailboxes_only(client, tenant_a, media):
    other_service = ServiceFactory(collectivite=tenant_a.collectivite)
    shared = ingest(mailbox_of(tenant_a), make_mail(subject="Commune"))
    mine = ingest(mailbox_of(tenant_a, service=tenant_a.service), make_mail(subject="Mien"))
    theirs = ingest(mailbox_of(tenant_a, service=other_service), make_mail(subject="Autre"))
    page = get(client, tenant_a.agent, LIST, filtre="tous").content.decode()
    assert "Commune" in page and "Mien" in page and "Autre" not in page
    assert get(client, tenant_a.agent, f"{LIST}{theirs.pk}/").status_code == 404
    assert get(client, tenant_a.agent, f"{LIST}{mine.pk}/").status_code == 200
    assert get(client, tenant_a.agent, f"{LIST}{shared.pk}/").status_code == 200
    admin_page = get(client, tenant_a.admin, LIST, filtre="tous").content.decode()
    assert "Autre" in admin_page


def test_every_page_is_404_for_another_collectivite_and_outsiders(
    client, tenant_a, tenant_b, throttled, platform_admin
):
    BouncedAddress.objects.create(
        collectivite=tenant_a.collectivite,
        email="echec@exemple.fr",
        status="5.1.1",
        last_at=throttled.received_at,
    )
    urls = [
        f"{LIST}{throttled.pk}/",
        f"{LIST}{throttled.pk}/brut/",
    ]
    for user in (tenant_b.admin, tenant_b.manager, tenant_b.agent, platform_admin):
        client.force_login(user)
        for url in urls:
            assert client.get(url, HTTP_HOST=HOST).status_code == 404, (user, url)
        release = client.post(f"{LIST}{throttled.pk}/sortir/", {"mode": "nouveau"}, HTTP_HOST=HOST)
        assert release.status_code == 404, user
        listing = client.get(LIST, {"filtre": "tous"}, HTTP_HOST=HOST)
        assert listing.status_code in (200, 404), user  # B's own (empty) list, or none
        assert "Encore une demande" not in listing.content.decode()
        bounces = client.get(f"{LIST}adresses-en-echec/", HTTP_HOST=HOST)
        assert bounces.status_code in (200, 404), user
        assert "echec@exemple.fr" not in bounces.content.decode()
    # An agent of tenant A may not release (a manager's or an admin's call): 404.
    client.force_login(tenant_a.agent)
    release = client.post(f"{LIST}{throttled.pk}/sortir/", {"mode": "nouveau"}, HTTP_HOST=HOST)
    assert release.status_code == 404
    throttled.refresh_from_db()
    assert throttled.outcome == InboundEmail.Outcome.QUARANTINED
    # A manager of another service of tenant A sees it: it came to the shared mailbox.
    manager = MembershipFactory(
        collectivite=tenant_a.collectivite,
        role=Role.MANAGER,
        service=ServiceFactory(collectivite=tenant_a.collectivite),
    ).user
    client.force_login(manager)
    assert client.get(f"{LIST}{throttled.pk}/", HTTP_HOST=HOST).status_code == 200
    # Anonymous: to the login page.
    client.logout()
    assert client.get(LIST, HTTP_HOST=HOST).status_code == 302


def test_the_bounced_addresses_page(client, tenant_a, media):
    box = mailbox_of(tenant_a)
    ingest(box, make_bounce(failed="perdu@exemple.fr"))
    ingest(box, make_bounce(failed="revenu@exemple.fr"))
    ingest(box, make_mail(sender="revenu@exemple.fr"))
    page = get(client, tenant_a.agent, f"{LIST}adresses-en-echec/").content.decode()
    assert "perdu@exemple.fr" in page and "revenu@exemple.fr" not in page and "5.1.1" in page
    every = get(client, tenant_a.agent, f"{LIST}adresses-en-echec/", toutes="1").content.decode()
    assert "revenu@exemple.fr" in every


# --- The Django admin of the mailboxes -----------------------------------------------------------


def _mailbox_form(tenant, **overrides):
    data = {
        "collectivite": tenant.collectivite.pk,
        "service": "",
        "name": "Accueil",
        "email": "Accueil@Commune-A.test",
        "is_active": "on",
        "host": "imap.commune-a.test",
        "port": "993",
        "security": "tls",
        "username": "accueil",
        "password": "s3cret-imap",
        "folder": "INBOX",
        "done_folder": "",
        "demarche": "",
    }
    data.update(overrides)
    return data


def test_a_collectivite_admin_adds_a_mailbox_with_a_write_only_password(client, tenant_a, tenant_b):
    from django.test import Client
    from django.urls import reverse

    client.force_login(tenant_a.admin)
    add = reverse("admin:channels_mailbox_add")
    foreign = client.post(add, _mailbox_form(tenant_a, service=tenant_b.service.pk))
    assert foreign.status_code == 200 and not Mailbox.objects.exists()
    response = client.post(add, _mailbox_form(tenant_a))
    assert response.status_code == 302, response.content.decode()[-2000:]
    box = Mailbox.objects.get()
    assert box.email == "accueil@commune-a.test" and box.password == "s3cret-imap"
    event = Event.objects.get(action="mailbox.created")
    assert event.payload["password"] == "***" and "s3cret-imap" not in str(event.payload)
    change = reverse("admin:channels_mailbox_change", args=[box.pk])
    page = client.get(change).content.decode()
    assert "s3cret-imap" not in page and "jamais réaffiché" in page
    # Saved again without a password: the stored one is kept.
    form = _mailbox_form(tenant_a, name="Accueil général", password="")
    form.pop("collectivite")
    assert client.post(change, form).status_code == 302
    box.refresh_from_db()
    assert box.name == "Accueil général" and box.password == "s3cret-imap"
    # Another collectivité's admin does not reach it; an agent has no admin.
    client = Client()
    client.force_login(tenant_b.admin)
    assert client.get(change).status_code == 302
    listing = client.get(reverse("admin:channels_mailbox_changelist")).content.decode()
    assert "Accueil général" not in listing
    client.force_login(tenant_a.agent)
    assert client.get(change).status_code == 302


def test_a_bounce_marks_the_address_for_the_dossier_page_and_the_citizen_record(
    tenant_a, tenant_b, media
):
    from grc.channels.selectors import bounced_addresses

    box = mailbox_of(tenant_a)
    ingest(box, make_mail(subject="Ma demande", sender="lea.petit@exemple.fr"))
    ingest(box, make_bounce(failed="lea.petit@exemple.fr"))
    (bounced,) = bounced_addresses(tenant_a.collectivite.pk, ["Lea.Petit@exemple.fr "])
    assert bounced.status.startswith("5.1.1")
    assert bounced_addresses(tenant_b.collectivite.pk, ["lea.petit@exemple.fr"]) == []
