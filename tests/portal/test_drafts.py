"""Drafts over HTTP: saving in the background, files sent at once and taken back, "Mes
brouillons" (resume, delete), an expired session in the middle of a form, a double "Envoyer",
the submission rate limit and the attestation before sending."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.defaultfilters import date
from django.urls import reverse
from django.utils import timezone

from grc.base.models import Event
from grc.demarches.models import Attachment, Dossier
from tests.factories import CollectiviteFactory, ServiceFactory, UserFactory
from tests.portal.test_filing import (
    DEMANDE,
    ENFANTS,
    SUITE,
    browser,
    draft_of,
    field_tag,
    file_page,
    follow,
    form_values,
    from_catalogue,
    page_url,
    png_bytes,
    publish,
    start,
    submit,
    summary_url,
    text_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db, media, settings):
    """As in test_filing: a commune and its service; files in the test's folder."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    collectivite = CollectiviteFactory(name="Commune de Beaulieu", reference_prefix="BLU")
    return collectivite, ServiceFactory(collectivite=collectivite, name="Accueil")


EXPIRED = "Votre session a expiré : reconnectez-vous, vos réponses sont conservées."


def autosave_url(dossier, page: str) -> str:
    return reverse("portal:autosave", args=[dossier.collectivite.slug, dossier.uuid, page])


def upload_url(dossier, page: str) -> str:
    return reverse("portal:upload", args=[dossier.collectivite.slug, dossier.uuid, page])


def drafts_url(collectivite) -> str:
    return reverse("portal:drafts", args=[collectivite.slug])


def png(name="plan.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


# --- Saving in the background -----------------------------------------------------------------


def test_the_background_save_keeps_valid_answers_and_says_when(place):
    demarche = publish(place, [DEMANDE, SUITE])
    client = browser()
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    form = page.content.decode()
    assert f'data-autosave-url="{autosave_url(draft, "demande")}"' in form
    assert 'id="autosave-status" role="status" aria-live="polite"' in form

    data = {**form_values(page), "nom": ["Durand"], "age": ["douze"], "deja_venu": ["true"]}
    saved = client.post(autosave_url(draft, "demande"), data)
    assert saved.status_code == 200
    body = saved.json()
    assert re.fullmatch(r"Brouillon enregistré à \d{1,2} h \d{2}", body["message"])
    assert datetime.datetime.fromisoformat(body["saved_at"])
    draft.refresh_from_db()
    # What is valid is kept; the wrong age is not an error yet, just not saved.
    assert draft.answers == {"nom": "Durand", "deja_venu": True}

    # The page shows what was saved.
    again = client.get(page_url(draft, "demande"))
    assert form_values(again)["nom"] == ["Durand"]


def test_the_background_save_is_refused_to_others_and_after_sending(place):
    demarche = publish(place, [DEMANDE])
    owner = browser()
    page = follow(owner, start(owner, demarche))
    draft = draft_of(demarche)
    stranger = browser()
    refused = stranger.post(autosave_url(draft, "demande"), {"nom": "Intrus"})
    assert refused.status_code == 404 and refused.json()["errors"]
    assert owner.post(autosave_url(draft, "inconnue"), {"nom": "X"}).status_code == 404
    assert owner.get(autosave_url(draft, "demande")).status_code == 405
    draft.refresh_from_db()
    assert draft.answers == {}

    summary = follow(owner, submit(owner, page, nom="Durand", deja_venu="false"))
    sent = owner.post(
        summary.request["PATH_INFO"], {"attestation": "on", "contact_email": "c@exemple.test"}
    )
    assert sent.status_code == 302
    late = owner.post(autosave_url(draft, "demande"), {"nom": "Changé"})
    assert late.status_code == 404
    assert Dossier.objects.get(pk=draft.pk).answers["nom"] == "Durand"


# --- Files sent at once -----------------------------------------------------------------------


def test_the_limits_of_a_file_field_are_shown_before_choosing(place):
    demarche = publish(place, [file_page(max_size_mb=5)])
    client = browser()
    page = follow(client, start(client, demarche))
    help_text = re.search(r'<p class="help" id="id_photo_help">(.*?)</p>', text_of(page)).group(1)
    assert "Formats acceptés : PNG ou JPEG. 5 Mo maximum par fichier." in help_text
    assert "id_photo_help" in field_tag(page, "input", "id_photo")


def test_a_file_is_sent_alone_checked_and_taken_back(place, media):
    demarche = publish(place, [file_page(multiple=True)])
    client = browser()
    follow(client, start(client, demarche))
    draft = draft_of(demarche)
    url = upload_url(draft, "pieces")

    sent = client.post(url, {"field": "photo", "file": png()})
    assert sent.status_code == 201, sent.content
    body = sent.json()
    attachment = Attachment.objects.get(pk=body["id"])
    assert attachment.dossier == draft and attachment.field_key == "photo"
    assert body["name"] == "plan.png" and body["size"]

    # Checked like any file: its real type, then its size.
    fake = SimpleUploadedFile("photo.png", b"pas une image", content_type="image/png")
    refused = client.post(url, {"field": "photo", "file": fake})
    assert refused.status_code == 400
    assert "n'est pas accepté" in refused.json()["errors"][0]
    big = SimpleUploadedFile("grand.png", png_bytes() + b"0" * (11 * 1024 * 1024))
    refused = client.post(url, {"field": "photo", "file": big})
    assert refused.status_code == 400 and "la limite est de 10 Mo" in refused.json()["errors"][0]
    # Only a file input of this page takes a file.
    assert client.post(url, {"field": "legende", "file": png()}).status_code == 400
    assert client.post(url, {"field": "photo"}).status_code == 400
    assert Attachment.objects.count() == 1

    # The background save records it as the field's answer, like a page sent with it.
    page = client.get(page_url(draft, "pieces"))
    saved = client.post(autosave_url(draft, "pieces"), {**form_values(page), "photo": [body["id"]]})
    assert saved.status_code == 200
    draft.refresh_from_db()
    assert draft.answers["photo"] == [body["id"]]
    page = client.get(page_url(draft, "pieces"))
    assert "plan.png" in text_of(page)

    # Taken back: the file and the answer that named it go.
    removed = client.post(f"{url}{body['id']}/retirer/")
    assert removed.status_code == 200
    draft.refresh_from_db()
    assert draft.answers["photo"] == []
    assert not Attachment.objects.exists()
    assert client.post(f"{url}{body['id']}/retirer/").status_code == 400
    assert browser().post(url, {"field": "photo", "file": png()}).status_code == 404


def test_a_file_of_a_block_item_is_sent_for_its_sub_field(place, media):
    pages = [
        {
            "key": "famille",
            "title": "Famille",
            "fields": [
                {
                    **ENFANTS["fields"][0],
                    "fields": [
                        *ENFANTS["fields"][0]["fields"],
                        {"key": "carnet", "type": "file", "label": "Carnet"},
                    ],
                }
            ],
        }
    ]
    demarche = publish(place, pages)
    client = browser()
    follow(client, start(client, demarche))
    draft = draft_of(demarche)
    url = upload_url(draft, "famille")
    sent = client.post(url, {"field": "enfants__0__carnet", "file": png()})
    assert sent.status_code == 201
    assert Attachment.objects.get().field_key == "carnet"
    for name in ("enfants__0__prenom", "enfants__99__carnet", "enfants__x__carnet", "carnet"):
        assert client.post(url, {"field": name, "file": png()}).status_code == 400


def test_a_refused_file_sent_with_the_page_is_tied_to_its_input(place, media):
    demarche = publish(place, [file_page()])
    client = browser()
    page = follow(client, start(client, demarche))
    fake = SimpleUploadedFile("photo.png", b"pas une image", content_type="image/png")
    refused = submit(client, page, photo__upload=fake)
    assert refused.status_code == 400
    tag = field_tag(refused, "input", "id_photo")
    assert 'aria-invalid="true"' in tag and "id_photo_errors" in tag
    assert "Il y a une erreur" in text_of(refused)


# --- "Mes brouillons" -------------------------------------------------------------------------


def test_an_account_lists_its_drafts_here_resumes_and_deletes_one(place):
    collectivite, _service = place
    demarche = publish(place, [DEMANDE, SUITE], draft_lifespan_days=30)
    other = publish(place, [SUITE], slug="autre")
    user = UserFactory()
    client = browser()
    client.force_login(user)
    page = follow(client, start(client, demarche))
    first = draft_of(demarche)
    submit(client, page, nom="Durand", deja_venu="false")  # page 1 done
    follow(client, start(client, other))
    second = Dossier.objects.get(demarche=other)
    # Someone else's draft, and this person's draft in another collectivité, are not listed.
    stranger = browser()
    stranger.force_login(UserFactory())
    follow(stranger, start(stranger, demarche))
    elsewhere = CollectiviteFactory()
    far = publish((elsewhere, ServiceFactory(collectivite=elsewhere)), [SUITE], slug="loin")
    follow(client, start(client, far))

    listing = client.get(drafts_url(collectivite))
    assert listing.status_code == 200
    text = text_of(listing)
    assert "<title>Mes brouillons – " in text
    resume_first = reverse("portal:resume_draft", args=[collectivite.slug, first.uuid])
    resume_second = reverse("portal:resume_draft", args=[collectivite.slug, second.uuid])
    assert f'href="{resume_first}"' in text and f'href="{resume_second}"' in text
    assert text.count('class="draft"') == 2
    first.refresh_from_db()
    expiry = first.updated_at + datetime.timedelta(days=30)
    assert f"Supprimé automatiquement le {date(timezone.localtime(expiry), 'j F Y')}" in text

    # Resuming goes where answers are missing: nothing is required after page 1, so to the
    # summary.
    assert client.get(resume_first)["Location"] == summary_url(first)
    assert client.get(resume_second)["Location"] == summary_url(second)
    assert stranger.get(resume_first).status_code == 404

    # The démarche's page offers to resume.
    presentation = client.get(reverse("portal:demarche", args=[collectivite.slug, demarche.slug]))
    assert f'href="{resume_first}"' in text_of(presentation)

    # Deleting asks first, then deletes with its files and leaves a trace.
    delete_url = reverse("portal:delete_draft", args=[collectivite.slug, first.uuid])
    confirm = client.get(delete_url)
    assert confirm.status_code == 200 and "Oui, supprimer le brouillon" in text_of(confirm)
    assert stranger.post(delete_url).status_code == 404
    assert browser().post(delete_url).status_code == 302  # asked to log in, nothing deleted
    assert Dossier.objects.filter(pk=first.pk).exists()
    deleted = client.post(delete_url)
    assert deleted["Location"] == drafts_url(collectivite)
    assert not Dossier.objects.filter(pk=first.pk).exists()
    event = Event.objects.get(action="dossier.draft_deleted")
    assert event.actor == user and event.payload["uuid"] == str(first.uuid)
    assert text_of(client.get(drafts_url(collectivite))).count('class="draft"') == 1


def test_resuming_goes_to_the_first_page_with_an_answer_missing(place):
    demarche = publish(place, [SUITE, DEMANDE])
    client = browser()
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    follow(client, submit(client, page, remarques="Rien"))
    resume = reverse("portal:resume_draft", args=[draft.collectivite.slug, draft.uuid])
    assert client.get(resume)["Location"] == page_url(draft, "demande")


def test_anonymous_drafts_are_those_of_this_browser(place):
    collectivite, _service = place
    demarche = publish(place, [DEMANDE])
    mine, theirs = browser(), browser()
    follow(mine, start(mine, demarche))
    draft = draft_of(demarche)
    follow(theirs, start(theirs, demarche))

    listing = text_of(mine.get(drafts_url(collectivite)))
    assert listing.count('class="draft"') == 1
    assert str(draft.uuid) in listing
    assert "ne sont gardées que dans ce navigateur" in listing
    assert browser().get(drafts_url(collectivite)).status_code == 200
    assert 'class="draft"' not in text_of(browser().get(drafts_url(collectivite)))

    delete_url = reverse("portal:delete_draft", args=[collectivite.slug, draft.uuid])
    assert theirs.post(delete_url).status_code == 404
    assert mine.post(delete_url).status_code == 302
    assert not Dossier.objects.filter(pk=draft.pk).exists()
    assert Event.objects.get(action="dossier.draft_deleted").actor is None
    assert 'class="draft"' not in text_of(mine.get(drafts_url(collectivite)))


# --- An expired session -----------------------------------------------------------------------


def test_an_expired_session_keeps_the_answers_until_the_owner_logs_in_again(place):
    demarche = publish(place, [DEMANDE, SUITE])
    user = UserFactory()
    client = browser()
    client.force_login(user)
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    client.logout()  # the session has expired meanwhile

    refused = submit(client, page, nom="Durand", age="42", deja_venu="false")
    assert refused.status_code == 302
    assert refused["Location"] == f"/comptes/connexion/?next={page_url(draft, 'demande')}"
    draft.refresh_from_db()
    assert draft.answers == {}  # nothing applied without the owner

    # Someone else logging in on this browser does not get them applied.
    intruder = UserFactory()
    client.force_login(intruder)
    assert client.get(page_url(draft, "demande")).status_code == 404
    draft.refresh_from_db()
    assert draft.answers == {}
    client.logout()
    submit(client, page, nom="Durand", age="42", deja_venu="false")

    client.force_login(user)
    back = client.get(page_url(draft, "demande"))
    assert back.status_code == 200
    values = form_values(back)
    assert values["nom"] == ["Durand"] and values["age"] == ["42"]
    draft.refresh_from_db()
    assert draft.answers == {"nom": "Durand", "age": 42, "deja_venu": False}
    # Applied once: the stash is gone.
    assert not [key for key, _value in client.session.items() if key.startswith("stash:")]


def test_the_login_page_says_why_and_the_summary_and_background_save_ask_too(place):
    demarche = publish(place, [DEMANDE])
    user = UserFactory()
    client = browser()
    client.force_login(user)
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    follow(client, submit(client, page, nom="Durand", deja_venu="false"))
    client.logout()

    login = client.get(client.post(summary_url(draft), {"attestation": "on"})["Location"])
    assert EXPIRED in text_of(login)
    assert Dossier.objects.get(pk=draft.pk).status == Dossier.DRAFT

    saved = client.post(autosave_url(draft, "demande"), {"nom": "Dupont", "deja_venu": "true"})
    assert saved.status_code == 401
    assert saved.json()["errors"] == [EXPIRED]
    assert saved.json()["login_url"].startswith("/comptes/connexion/?next=")
    client.force_login(user)
    client.get(page_url(draft, "demande"))
    draft.refresh_from_db()
    assert draft.answers["nom"] == "Dupont" and draft.answers["deja_venu"] is True


# --- Sending: attestation, rate limit, twice at once ------------------------------------------


def test_sending_asks_the_attestation_when_the_form_has_none(place):
    demarche = publish(place, [DEMANDE])
    client = browser()
    page = follow(client, start(client, demarche))
    summary = follow(client, submit(client, page, nom="Durand", deja_venu="false"))
    assert 'id="attestation" name="attestation"' in text_of(summary)
    assert "Vos données personnelles" in text_of(summary)

    refused = client.post(summary.request["PATH_INFO"], {"contact_email": "c@exemple.test"})
    assert refused.status_code == 400
    text = text_of(refused)
    assert "Il y a une erreur" in text
    assert '<a href="#attestation">Cochez la case' in text
    tag = field_tag(refused, "input", "attestation")
    assert 'aria-invalid="true"' in tag and 'aria-describedby="attestation_errors"' in tag
    assert 'value="c@exemple.test"' in text  # the address typed is kept
    assert draft_of(demarche).status == Dossier.DRAFT

    sent = client.post(
        summary.request["PATH_INFO"], {"attestation": "on", "contact_email": "c@exemple.test"}
    )
    assert sent.status_code == 302


def test_a_form_with_its_own_attestation_asks_no_second_one(place):
    demarche = from_catalogue(place, "question-contact")
    client = browser()
    follow(client, start(client, demarche))
    summary = client.get(summary_url(draft_of(demarche)))
    assert 'name="attestation"' not in text_of(summary)


def test_too_many_sendings_are_refused_with_the_draft_kept(place, settings):
    settings.GRC_RATE_LIMITS = {**settings.GRC_RATE_LIMITS, "submit": "2/h/ip"}
    demarche = publish(place, [DEMANDE])
    client = browser()
    for _ in range(2):
        page = follow(client, start(client, demarche))
        summary = follow(client, submit(client, page, nom="Durand", deja_venu="false"))
        sent = client.post(
            summary.request["PATH_INFO"], {"attestation": "on", "contact_email": "c@exemple.test"}
        )
        assert sent.status_code == 302
    page = follow(client, start(client, demarche))
    draft = Dossier.objects.drafts().get()
    summary = follow(client, submit(client, page, nom="Martin", deja_venu="false"))
    refused = client.post(
        summary.request["PATH_INFO"], {"attestation": "on", "contact_email": "c@exemple.test"}
    )
    assert refused.status_code == 429
    text = text_of(refused)
    assert "réessayez un peu plus tard" in text and "rien n'est perdu" in text
    assert 'value="c@exemple.test"' in text
    draft.refresh_from_db()
    assert draft.status == Dossier.DRAFT and draft.answers["nom"] == "Martin"
    assert Dossier.objects.filed().count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_sendings_at_once_file_one_dossier(place):
    demarche = publish(place, [DEMANDE])
    first = browser()
    page = follow(first, start(first, demarche))
    summary = follow(first, submit(first, page, nom="Durand", deja_venu="false"))
    url = summary.request["PATH_INFO"]
    second = browser()  # the same browser, a second connection
    for name, cookie in first.cookies.items():
        second.cookies[name] = cookie.value

    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def send(index, client):
        try:
            barrier.wait(timeout=10)
            answers[index] = client.post(
                url, {"attestation": "on", "contact_email": "c@exemple.test"}
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    dossier = Dossier.objects.get(demarche=demarche)
    assert dossier.is_filed and dossier.acknowledgements.count() == 2
    assert Event.objects.filter(action="dossier.submitted").count() == 1
    assert dossier.answers == {"nom": "Durand", "deja_venu": False}


# --- Services and forged posts ----------------------------------------------------------------


def test_only_its_account_may_delete_an_accounts_draft(place):
    from django.core.exceptions import PermissionDenied

    from grc.demarches.services.dossiers import delete_draft, start_draft

    demarche = publish(place, [DEMANDE])
    owner = UserFactory()
    draft = start_draft(demarche=demarche, account=owner)
    for actor in (None, UserFactory()):
        with pytest.raises(PermissionDenied):
            delete_draft(dossier=draft, actor=actor)
    delete_draft(dossier=draft, actor=owner)
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"enfants__count": "99999999999999999999", "enfants__0__prenom": "x" * 10_000},
        {"enfants__count": "-3", "_shown": ["<script>", ""]},
        {"enfants__0__age_enfant": "douze", "field": "../../etc/passwd"},
    ],
)
def test_forged_background_posts_are_answered_normally(place, media, data):
    demarche = publish(place, [ENFANTS])
    client = browser()
    follow(client, start(client, demarche))
    draft = draft_of(demarche)
    assert client.post(autosave_url(draft, "famille"), data).status_code == 200
    sent = client.post(upload_url(draft, "famille"), {**data, "file": png()})
    assert sent.status_code == 400
    assert client.post(f"{upload_url(draft, 'famille')}99999/retirer/").status_code == 400
