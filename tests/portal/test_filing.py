"""Filing a démarche on the portal, over HTTP, as a browser without JavaScript does it: the
pages, their conditions and blocks, files, the summary, the sending, the confirmation and the
acknowledgements, and who may see a draft or a dossier."""

from __future__ import annotations

import io
import re
import uuid
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from grc.demarches.acknowledgements.delivery import deliver
from grc.demarches.models import Acknowledgement, Attachment, Dossier
from grc.demarches.services.demarches import create_demarche, publish_demarche
from grc.demarches.services.exchange import import_demarche
from tests.factories import CollectiviteFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

HOST = "127.0.0.1"
CATALOGUE = Path(__file__).resolve().parents[2] / "grc" / "demarches" / "catalogue"


# --- A browser without JavaScript -------------------------------------------------------------


class FormReader(HTMLParser):
    """The name/value pairs a browser sends for the form whose class is `css_class`: text and
    hidden inputs as they are (a field hidden by a condition is sent too: `hidden` does not
    stop a browser), ticked boxes and radios only, the selected option (or the first), the text
    of a textarea. Buttons and file inputs are the test's business."""

    def __init__(self, css_class: str):
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self._select: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = self.css_class in (a.get("class") or "").split()
            return
        if not self.inside or "disabled" in a:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            name = a.get("name")
            if not name or kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value") or "on"))
                return
            self.pairs.append((name, a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a:
                self._select["selected"] = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"]
            value = chosen if chosen is not None else self._select["first"]
            if value is not None:
                self.pairs.append((self._select["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the line break that follows <textarea>.
            self.pairs.append((self._textarea["name"], self._textarea["text"].removeprefix("\n")))
            self._textarea = None


def form_values(response, css_class: str = "demarche-form") -> dict[str, list[str]]:
    reader = FormReader(css_class)
    reader.feed(response.content.decode())
    values: dict[str, list[str]] = {}
    for name, value in reader.pairs:
        values.setdefault(name, []).append(value)
    return values


def submit(client, response, action: str = "next", **answers):
    """Post the page's form as displayed, with `answers` typed over it (None clears a field, a
    list gives several values, an uploaded file goes to a file input) and the button `action`
    pressed."""
    data: dict = form_values(response)
    for name, value in answers.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    data["_action"] = [action]
    return client.post(response.request["PATH_INFO"], data)


def follow(client, response):
    assert response.status_code == 302, text_of(response)[:3000]
    return client.get(response["Location"])


def text_of(response) -> str:
    return unescape(response.content.decode())


def error_summary(response) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', text_of(response), re.S)
    return found.group(0) if found else ""


def browser() -> Client:
    return Client(HTTP_HOST=HOST)


def shown(response) -> list[str]:
    return form_values(response).get("_shown", [])


def field_tag(response, tag: str, element_id: str) -> str:
    """The opening tag of the element `tag` whose id is `element_id`."""
    found = re.search(rf'<{tag}\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', text_of(response))
    assert found, f"no <{tag} id={element_id}>"
    return found.group(0)


def described_by(tag: str) -> list[str]:
    found = re.search(r'aria-describedby="([^"]*)"', tag)
    return found.group(1).split() if found else []


def assert_error_tied(response, key: str, message: str, *, tag: str = "input") -> None:
    """An error is in the summary at the top (a link to the field), next to the field, and
    named by the field's aria-describedby (on the input, or on the fieldset of a group)."""
    page = text_of(response)
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', page, re.S)
    assert summary, "no error summary"
    assert re.search(rf'href="#id_{key}">[^<]* : {re.escape(message)}', summary.group(0))
    assert f'id="id_{key}"' in page, "the summary's link leads nowhere"
    errors = re.search(rf'<ul class="errors" id="id_{key}_errors">(.*?)</ul>', page, re.S)
    assert errors and message in errors.group(1)
    if tag == "fieldset":
        holder = re.search(
            rf"<fieldset[^>]*>\s*<legend>[^<]*(?:<span[^>]*>[^<]*</span>)?</legend>\s*"
            rf'(?:<p class="help"[^>]*>[^<]*</p>\s*)?<ul class="errors" id="id_{key}_errors"',
            page,
        )
        assert holder, f"no fieldset around the errors of {key}"
        assert f"id_{key}_errors" in described_by(holder.group(0))
    else:
        assert f"id_{key}_errors" in described_by(field_tag(response, tag, f"id_{key}"))


# --- Démarches --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def files_and_mail(media, settings):
    """Files (attachments, acknowledgement PDFs) go to the test's own folder (`media`, from
    conftest); e-mail stays in mail.outbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def stored_files(media) -> list[Path]:
    return [p for p in Path(media).rglob("*") if p.is_file()] if Path(media).exists() else []


@pytest.fixture
def place(db):
    collectivite = CollectiviteFactory(name="Commune de Beaulieu", reference_prefix="BLU")
    service = ServiceFactory(collectivite=collectivite, name="Accueil", phone="0241000000")
    return collectivite, service


def publish(place, pages, *, slug="essai", who="anonymous", **settings):
    collectivite, service = place
    demarche = create_demarche(
        actor=None,
        collectivite=collectivite,
        data={"title": "Démarche d'essai", "slug": slug, "who_may_file": who, **settings},
        definition={"schema": 1, "pages": pages},
        service=service,
    )
    publish_demarche(actor=None, demarche=demarche)
    demarche.refresh_from_db()
    return demarche


def from_catalogue(place, name: str):
    collectivite, service = place
    demarche = import_demarche(
        actor=None,
        collectivite=collectivite,
        raw=(CATALOGUE / f"{name}.json").read_bytes(),
        service=service,
    )
    publish_demarche(actor=None, demarche=demarche)
    demarche.refresh_from_db()
    return demarche


def start(client, demarche):
    """The démarche's page, then its "Commencer" button."""
    slug = demarche.collectivite.slug
    assert client.get(reverse("portal:demarche", args=[slug, demarche.slug])).status_code == 200
    return client.post(reverse("portal:start", args=[slug, demarche.slug]))


def draft_of(demarche) -> Dossier:
    return Dossier.objects.get(demarche=demarche)


def summary_url(dossier) -> str:
    return reverse("portal:summary", args=[dossier.collectivite.slug, dossier.uuid])


def page_url(dossier, page: str) -> str:
    return reverse("portal:page", args=[dossier.collectivite.slug, dossier.uuid, page])


def dossier_url(dossier) -> str:
    return reverse("portal:dossier", args=[dossier.collectivite.slug, dossier.uuid])


def pdf_url(dossier, kind: str = "are") -> str:
    return reverse(
        "portal:acknowledgement_pdf", args=[dossier.collectivite.slug, dossier.uuid, kind]
    )


DEMANDE = {
    "key": "demande",
    "title": "Votre demande",
    "fields": [
        {"key": "nom", "type": "text", "label": "Nom", "required": True},
        {
            "key": "age",
            "type": "integer",
            "label": "Âge",
            "help": "En années.",
            "validation": {"min": 0, "max": 130},
        },
        {"key": "courriel", "type": "email", "label": "Adresse e-mail de contact"},
        {"key": "deja_venu", "type": "yesno", "label": "Êtes-vous déjà venu ?", "required": True},
        {
            "key": "date_visite",
            "type": "date",
            "label": "Date de la visite",
            "required": True,
            "condition": {"op": "equals", "field": "deja_venu", "value": True},
        },
    ],
}
SUITE = {
    "key": "suite",
    "title": "La suite",
    "fields": [{"key": "remarques", "type": "textarea", "label": "Remarques"}],
}
ENFANTS = {
    "key": "famille",
    "title": "Votre famille",
    "fields": [
        {
            "key": "enfants",
            "type": "block",
            "label": "Vos enfants",
            "item_label": "Enfant",
            "min_items": 1,
            "max_items": 3,
            "fields": [
                {"key": "prenom", "type": "text", "label": "Prénom", "required": True},
                {"key": "age_enfant", "type": "integer", "label": "Âge"},
            ],
        }
    ],
}


def file_page(**spec):
    return {
        "key": "pieces",
        "title": "Pièces",
        "fields": [
            {
                "key": "photo",
                "type": "file",
                "label": "Photo du lieu",
                "accept": ["image/png", "image/jpeg"],
                **spec,
            },
            {
                "key": "legende",
                "type": "text",
                "label": "Légende",
                "validation": {"max_length": 20},
            },
        ],
    }


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def fill_demande(client, demarche):
    """Start a draft of a DEMANDE démarche and answer its first page; the next response."""
    page = follow(client, start(client, demarche))
    return submit(client, page, nom="Durand", deja_venu="false")


def to_summary(client, demarche):
    """A DEMANDE-only draft filled in and its summary page."""
    answered = fill_demande(client, demarche)
    assert answered["Location"] == summary_url(draft_of(demarche))
    return client.get(answered["Location"])


# --- 1. The whole way, anonymous, without JavaScript ------------------------------------------


def test_anonymous_filing_of_a_catalogue_demarche_from_start_to_confirmation(place):
    demarche = from_catalogue(place, "signalement-voirie")
    client = browser()

    # Page 1: an "Éclairage public en panne" with no immediate danger.
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    assert draft.status == Dossier.DRAFT and draft.draft_token
    assert page.request["PATH_INFO"] == page_url(draft, "probleme")
    assert "Étape 1 sur 4" in text_of(page)
    assert shown(page) == ["danger_immediat", "type_probleme"]
    page = follow(client, submit(client, page, type_probleme="eclairage", danger_immediat="false"))

    # Page 2: the place.
    assert page.request["PATH_INFO"] == page_url(draft, "lieu")
    page = follow(
        client,
        submit(
            client,
            page,
            lieu_adresse_0="12 rue des Lilas",
            lieu_adresse_2="49170",
            lieu_adresse_3="Beaulieu",
            lieu_precisions="Devant l'école",
        ),
    )

    # Page 3: the lamp post's number is asked for a lighting problem (earlier page's answer).
    assert page.request["PATH_INFO"] == page_url(draft, "description_photos")
    assert "numero_lampadaire" in shown(page)
    page = follow(
        client, submit(client, page, numero_lampadaire="L-42", description="La rue est noire.")
    )
    draft.refresh_from_db()
    assert draft.answers["numero_lampadaire"] == "L-42"

    # Page 4, then the summary.
    assert page.request["PATH_INFO"] == page_url(draft, "validation")
    summary = follow(client, submit(client, page, attestation_exactitude="on"))
    assert summary.request["PATH_INFO"] == summary_url(draft)
    assert "L-42" in text_of(summary)

    # Back to the first page ("Modifier"): it is a pothole after all.
    assert f'href="{page_url(draft, "probleme")}"' in summary.content.decode()
    page = client.get(page_url(draft, "probleme"))
    page = follow(client, submit(client, page, type_probleme="nid_de_poule"))
    page = follow(client, submit(client, page))  # the place, as it was
    # The lamp post's question is hidden now; its input still holds "L-42" and is sent.
    assert 'data-key="numero_lampadaire"' in page.content.decode()
    assert "numero_lampadaire" not in shown(page)
    assert form_values(page)["numero_lampadaire"] == ["L-42"]
    page = follow(client, submit(client, page))
    draft.refresh_from_db()
    assert "numero_lampadaire" not in draft.answers
    summary = follow(client, submit(client, page))  # the box is still ticked
    assert summary.status_code == 200
    assert "L-42" not in text_of(summary)
    assert "Nid de poule ou chaussée abîmée" in text_of(summary)

    # Sending, with the e-mail address an anonymous person must give.
    assert 'name="contact_email"' in summary.content.decode()
    sent = client.post(summary_url(draft), {"contact_email": "camille@exemple.test"})
    assert sent.status_code == 302
    assert sent["Location"] == dossier_url(draft)

    filed = Dossier.objects.get(pk=draft.pk)
    assert filed.is_filed
    assert filed.reference.startswith("BLU-") and filed.tracking_code
    assert filed.contact_email == "camille@exemple.test"
    assert filed.usager is not None and filed.usager.email == "camille@exemple.test"
    assert filed.draft_token == ""
    assert filed.answers == {
        "type_probleme": "nid_de_poule",
        "danger_immediat": False,
        "lieu_adresse": {
            "address_line1": "12 rue des Lilas",
            "address_line2": "",
            "postal_code": "49170",
            "city": "Beaulieu",
            "country": "FR",
        },
        "lieu_precisions": "Devant l'école",
        "description": "La rue est noire.",
        "attestation_exactitude": True,
    }

    confirmation = client.get(sent["Location"])
    assert confirmation.status_code == 200
    text = text_of(confirmation)
    assert f"Votre demande {filed.reference}" in text
    assert filed.tracking_code in text
    assert "Nid de poule ou chaussée abîmée" in text and "L-42" not in text
    # The draft's pages are closed once it is sent.
    assert client.get(page_url(draft, "probleme")).status_code == 404


ANIMAL_PAGES = [
    {
        "key": "choix",
        "title": "Votre foyer",
        "fields": [
            {"key": "a_animal", "type": "yesno", "label": "Avez-vous un animal ?", "required": True}
        ],
    },
    {
        "key": "animal",
        "title": "Votre animal",
        "condition": {"op": "equals", "field": "a_animal", "value": True},
        "fields": [{"key": "nom_animal", "type": "text", "label": "Son nom", "required": True}],
    },
    SUITE,
]


def test_a_page_hidden_by_an_earlier_answer_is_skipped_and_its_answers_not_sent(place):
    demarche = publish(place, ANIMAL_PAGES)
    client = browser()
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    page = follow(client, submit(client, page, a_animal="true"))
    assert page.request["PATH_INFO"] == page_url(draft, "animal")
    assert "Étape 2 sur 3" in text_of(page)
    page = follow(client, submit(client, page, nom_animal="Rex"))
    assert page.request["PATH_INFO"] == page_url(draft, "suite")

    # "Non" after all: the animal's page is skipped and cannot be opened any more.
    page = client.get(page_url(draft, "choix"))
    moved = submit(client, page, a_animal="false")
    assert moved["Location"] == page_url(draft, "suite")
    assert client.get(page_url(draft, "animal")).status_code == 404
    page = client.get(moved["Location"])
    assert "Étape 2 sur 2" in text_of(page)
    summary = follow(client, submit(client, page, remarques="Rien à ajouter."))
    assert "Rex" not in text_of(summary) and "Votre animal" not in text_of(summary)

    sent = client.post(
        summary_url(draft), {"attestation": "on", "contact_email": "camille@exemple.test"}
    )
    assert sent.status_code == 302
    filed = Dossier.objects.get(pk=draft.pk)
    assert filed.is_filed
    assert filed.answers == {"a_animal": False, "remarques": "Rien à ajouter."}


def test_the_summary_links_to_what_is_missing_and_refuses_to_send_it(place):
    demarche = publish(place, [DEMANDE, SUITE])
    client = browser()
    follow(client, start(client, demarche))
    draft = draft_of(demarche)
    summary = client.get(summary_url(draft))  # straight from the first page's address
    assert summary.status_code == 200
    found = error_summary(summary)
    assert f'href="{page_url(draft, "demande")}">Nom : Ce champ est obligatoire.' in found
    assert "Êtes-vous déjà venu ? : Ce champ est obligatoire." in found

    refused = client.post(
        summary_url(draft), {"attestation": "on", "contact_email": "camille@exemple.test"}
    )
    assert refused.status_code == 400
    draft.refresh_from_db()
    assert draft.status == Dossier.DRAFT and draft.reference == ""
    assert not Acknowledgement.objects.exists()
    # Everything to fix is said at once: the missing e-mail address too, and the count.
    refused = client.post(summary_url(draft))
    found = error_summary(refused)
    assert "Il y a 4 erreurs" in found
    assert '<a href="#contact_email">Indiquez votre adresse e-mail.</a>' in found
    assert '<a href="#attestation">Cochez la case' in found


# --- 2. A condition on the same page, without JavaScript --------------------------------------


def test_a_required_question_revealed_on_the_same_page_is_asked_before_moving_on(place):
    demarche = publish(place, [DEMANDE, SUITE])
    client = browser()
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    assert "date_visite" not in shown(page)
    assert re.search(r'<div[^>]*data-key="date_visite"[^>]*\bhidden>', page.content.decode())

    # "Oui" reveals the date of the visit: without JavaScript the person never saw it.
    again = submit(client, page, nom="Durand", deja_venu="true")
    assert again.status_code == 200
    assert again.request["PATH_INFO"] == page_url(draft, "demande")
    assert "Votre réponse fait apparaître de nouvelles questions sur cette page." in text_of(again)
    assert 'role="alert"' not in again.content.decode()  # not an error: a new question
    assert not re.search(r'<div[^>]*data-key="date_visite"[^>]*\bhidden>', again.content.decode())
    assert "date_visite" in shown(again)
    assert form_values(again)["nom"] == ["Durand"]  # what was typed is still there

    moved = submit(client, again, date_visite="2024-05-02")
    assert moved.status_code == 302
    assert moved["Location"] == page_url(draft, "suite")
    draft.refresh_from_db()
    assert draft.answers == {"nom": "Durand", "deja_venu": True, "date_visite": "2024-05-02"}


def test_a_revealed_question_already_on_screen_moves_on_at_once(place):
    """With JavaScript the date appears as "Oui" is clicked and `_shown` names it."""
    demarche = publish(place, [DEMANDE, SUITE])
    client = browser()
    page = follow(client, start(client, demarche))
    moved = submit(
        client,
        page,
        nom="Durand",
        deja_venu="true",
        date_visite="02/05/2024",
        _shown=[*shown(page), "date_visite"],
    )
    assert moved.status_code == 302
    assert moved["Location"] == page_url(draft_of(demarche), "suite")
    assert draft_of(demarche).answers["date_visite"] == "2024-05-02"


# --- 3. Invalid answers -----------------------------------------------------------------------


def test_invalid_answers_come_back_with_linked_french_messages_and_the_valid_ones_kept(place):
    demarche = publish(place, [DEMANDE, SUITE])
    client = browser()
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)

    refused = submit(client, page, nom="Durand", age="douze", courriel="pas-une-adresse")
    assert refused.status_code == 400
    assert refused.request["PATH_INFO"] == page_url(draft, "demande")
    assert "<title>Erreur – " in text_of(refused)
    assert "Il y a 3 erreurs" in text_of(refused)
    assert_error_tied(refused, "age", "Saisissez un nombre entier.")
    assert_error_tied(refused, "courriel", "Saisissez une adresse de courriel valide.")
    assert_error_tied(refused, "deja_venu", "Ce champ est obligatoire.", tag="fieldset")
    # The help text stays named too.
    assert described_by(field_tag(refused, "input", "id_age")) == ["id_age_help", "id_age_errors"]
    assert 'id="id_age_help"' in refused.content.decode()
    # Nothing typed is lost: the wrong answers are shown again to be corrected...
    values = form_values(refused)
    assert values["age"] == ["douze"] and values["courriel"] == ["pas-une-adresse"]
    assert values["nom"] == ["Durand"]
    # ...and the right ones are kept in the draft.
    draft.refresh_from_db()
    assert draft.answers == {"nom": "Durand"}

    # Coming back to the page later shows the kept answer.
    assert form_values(client.get(page_url(draft, "demande")))["nom"] == ["Durand"]

    corrected = submit(
        client, refused, age="42", courriel="Camille@Exemple.TEST", deja_venu="false"
    )
    assert corrected.status_code == 302
    draft.refresh_from_db()
    assert draft.answers == {
        "nom": "Durand",
        "age": 42,
        "courriel": "camille@exemple.test",
        "deja_venu": False,
    }


def test_an_out_of_range_answer_is_refused_and_replaces_the_kept_one(place):
    demarche = publish(place, [DEMANDE, SUITE])
    client = browser()
    page = follow(client, start(client, demarche))
    follow(client, submit(client, page, nom="Durand", age="40", deja_venu="false"))
    page = client.get(page_url(draft_of(demarche), "demande"))
    assert form_values(page)["age"] == ["40"]
    refused = submit(client, page, age="200")
    assert refused.status_code == 400
    assert_error_tied(
        refused, "age", "Assurez-vous que cette valeur est inférieure ou égale à 130."
    )
    assert draft_of(demarche).answers == {"nom": "Durand", "deja_venu": False}


# --- 4. Repeatable blocks without JavaScript --------------------------------------------------


def block_count(response, key: str = "enfants") -> int:
    return int(form_values(response)[f"{key}__count"][0])


def test_items_of_a_block_are_added_and_removed_without_javascript(place):
    demarche = publish(place, [ENFANTS, SUITE])
    client = browser()
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    assert block_count(page) == 1  # min_items
    assert 'value="add:enfants"' in page.content.decode()

    page = submit(
        client, page, "add:enfants", enfants__0__prenom="Alice", enfants__0__age_enfant="7"
    )
    assert page.status_code == 200
    assert block_count(page) == 2
    assert 'role="alert"' not in page.content.decode()  # the empty new item is not an error
    assert form_values(page)["enfants__0__prenom"] == ["Alice"]
    assert form_values(page)["enfants__1__prenom"] == [""]

    page = submit(
        client, page, "add:enfants", enfants__1__prenom="Bruno", enfants__1__age_enfant="5"
    )
    assert block_count(page) == 3
    assert 'value="add:enfants"' not in page.content.decode()  # max_items reached
    assert "Enfant 3" in text_of(page)

    page = submit(
        client, page, "remove:enfants:1", enfants__2__prenom="Chloé", enfants__2__age_enfant="3"
    )
    assert page.status_code == 200
    assert block_count(page) == 2
    values = form_values(page)
    assert values["enfants__0__prenom"] == ["Alice"] and values["enfants__0__age_enfant"] == ["7"]
    assert values["enfants__1__prenom"] == ["Chloé"] and values["enfants__1__age_enfant"] == ["3"]
    assert "enfants__2__prenom" not in values
    assert "Bruno" not in text_of(page)
    draft.refresh_from_db()
    assert draft.answers == {}  # adding and removing are not a sending

    moved = submit(client, page)
    assert moved.status_code == 302 and moved["Location"] == page_url(draft, "suite")
    draft.refresh_from_db()
    assert draft.answers == {
        "enfants": [{"prenom": "Alice", "age_enfant": 7}, {"prenom": "Chloé", "age_enfant": 3}]
    }

    # Removing the first item moves the second one up, with its own answers.
    page = client.get(page_url(draft, "famille"))
    assert block_count(page) == 2
    page = submit(client, page, "remove:enfants:0")
    assert block_count(page) == 1
    assert form_values(page)["enfants__0__prenom"] == ["Chloé"]
    assert form_values(page)["enfants__0__age_enfant"] == ["3"]


def test_a_block_below_its_minimum_is_refused_with_a_french_message(place):
    demarche = publish(place, [ENFANTS, SUITE])
    client = browser()
    page = follow(client, start(client, demarche))
    page = submit(client, page, "remove:enfants:0")
    assert block_count(page) == 0
    refused = submit(client, page)
    assert refused.status_code == 400
    assert "Ajoutez au moins 1 enfant." in text_of(refused)
    page = text_of(refused)
    assert 'href="#id_enfants">Vos enfants : Ajoutez au moins 1 enfant.' in page
    assert 'id="id_enfants"' in page
    fieldset = re.search(r'<fieldset class="block"[^>]*>', page).group(0)
    assert "id_enfants_errors" in described_by(fieldset)
    assert 'id="id_enfants_errors"' in page

    # An item's own error names the item's field.
    page = submit(client, refused, "add:enfants")
    refused = submit(client, page, enfants__0__age_enfant="3")
    assert refused.status_code == 400
    assert_error_tied(refused, "enfants__0__prenom", "Ce champ est obligatoire.")
    assert form_values(refused)["enfants__0__age_enfant"] == ["3"]


def test_a_tampered_block_action_changes_nothing(place):
    demarche = publish(place, [ENFANTS, SUITE])
    client = browser()
    page = follow(client, start(client, demarche))
    for action in ("remove:enfants:abc", "remove:enfants", "remove:enfants:5", "add:inconnu"):
        response = submit(client, page, action, enfants__0__prenom="Alice")
        assert response.status_code == 200, action
        assert block_count(response) == 1, action
        assert form_values(response)["enfants__0__prenom"] == ["Alice"], action
    response = submit(client, page, "add:enfants", enfants__count="beaucoup")
    assert response.status_code == 200 and block_count(response) == 1


# --- 5. Attachments ---------------------------------------------------------------------------


def test_a_real_png_is_stored_and_listed_on_the_summary(place, media):
    demarche = publish(place, [file_page(required=True, max_size_mb=1)])
    client = browser()
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    upload = SimpleUploadedFile("photo.png", png_bytes(), content_type="application/octet-stream")
    sent = submit(client, page, photo__upload=upload)
    assert sent.status_code == 302 and sent["Location"] == summary_url(draft)

    attachment = Attachment.objects.get(dossier=draft)
    assert attachment.content_type == "image/png"  # what the file is, not what it claimed
    assert attachment.original_name == "photo.png" and attachment.field_key == "photo"
    assert len(stored_files(media)) == 1
    draft.refresh_from_db()
    assert draft.answers == {"photo": [attachment.pk]}
    summary = client.get(sent["Location"])
    assert "photo.png" in text_of(summary)

    # Sent along with an answer to correct, a file is kept all the same: nothing is lost.
    page = client.get(page_url(draft, "pieces"))
    second = SimpleUploadedFile("autre.png", png_bytes((4, 4)), content_type="image/png")
    refused = submit(client, page, photo__upload=second, legende="x" * 30)
    assert refused.status_code == 400
    other = Attachment.objects.get(dossier=draft, original_name="autre.png")
    assert form_values(refused)["photo"] == [str(attachment.pk), str(other.pk)]
    assert_error_tied(refused, "photo", "Un seul fichier est attendu ici.")
    draft.refresh_from_db()
    assert draft.answers == {}  # neither answer of the page is valid as it is
    corrected = submit(client, refused, photo=str(attachment.pk), legende="Le trottoir")
    assert corrected.status_code == 302
    draft.refresh_from_db()
    assert draft.answers == {"photo": [attachment.pk], "legende": "Le trottoir"}

    # Back on the page, the file is listed (ticked) and kept without sending it again.
    page = client.get(page_url(draft, "pieces"))
    assert form_values(page)["photo"] == [str(attachment.pk)]
    assert "photo.png" in text_of(page)
    assert submit(client, page).status_code == 302
    draft.refresh_from_db()
    assert draft.answers == {"photo": [attachment.pk], "legende": "Le trottoir"}


def test_a_text_file_named_like_a_picture_is_refused_and_not_stored(place, media):
    demarche = publish(place, [file_page(required=False, max_size_mb=1)])
    client = browser()
    page = follow(client, start(client, demarche))
    upload = SimpleUploadedFile("photo.png", b"Ceci n'est pas une image.\n" * 20, "image/png")
    refused = submit(client, page, photo__upload=upload)
    assert refused.status_code == 400
    assert "Le fichier « photo.png » n'est pas accepté" in text_of(refused)
    assert_error_tied(refused, "photo", "Le fichier « photo.png » n'est pas accepté", tag="input")
    assert not Attachment.objects.exists()
    assert stored_files(media) == []
    assert draft_of(demarche).answers == {}


def test_a_file_over_the_size_limit_is_refused_with_its_size_and_not_stored(place, media):
    demarche = publish(place, [file_page(required=True, max_size_mb=1)])
    client = browser()
    page = follow(client, start(client, demarche))
    big = png_bytes() + b"\0" * (1_153_434 - len(png_bytes()))  # a PNG of 1.1 MB
    refused = submit(client, page, photo__upload=SimpleUploadedFile("grande.png", big, "image/png"))
    assert refused.status_code == 400
    assert "Le fichier « grande.png » fait 1,1 Mo : la limite est de 1 Mo." in text_of(refused)
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_a_file_left_out_of_the_dossier_is_not_kept_on_disk(
    place, media, django_capture_on_commit_callbacks
):
    demarche = publish(place, [file_page(required=False, max_size_mb=1)])
    client = browser()
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    upload = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    page = submit(client, page, "save", photo__upload=upload)  # "Enregistrer le brouillon"
    assert page.status_code == 200 and len(stored_files(media)) == 1
    # The person unticks the file, then sends.
    summary = follow(client, submit(client, page, photo=None))
    assert "photo.png" not in text_of(summary)
    with django_capture_on_commit_callbacks(execute=True):  # files go once committed
        sent = client.post(
            summary_url(draft), {"attestation": "on", "contact_email": "camille@exemple.test"}
        )
    assert sent.status_code == 302
    assert not Attachment.objects.filter(dossier=draft).exists()
    assert stored_files(media) == []


# --- 6. Sending without an e-mail address -----------------------------------------------------


def test_sending_anonymously_without_an_email_address_is_refused_on_that_field(place):
    demarche = publish(place, [DEMANDE])
    client = browser()
    summary = to_summary(client, demarche)
    assert 'id="contact_email"' in summary.content.decode()

    refused = client.post(
        summary.request["PATH_INFO"], {"attestation": "on", "contact_email": "  "}
    )
    assert refused.status_code == 400
    page = text_of(refused)
    message = "Indiquez votre adresse e-mail : elle sert à vous envoyer l'accusé de réception"
    assert message in page
    assert re.search(r'<div class="error-summary" role="alert".*?href="#contact_email"', page, re.S)
    tag = field_tag(refused, "input", "contact_email")
    assert 'aria-invalid="true"' in tag
    assert "contact_email_errors" in described_by(tag)
    errors = re.search(r'id="contact_email_errors"[^>]*>(.*?)</', page, re.S)
    assert errors and message in errors.group(1)

    draft = draft_of(demarche)
    assert draft.status == Dossier.DRAFT and draft.reference == ""
    assert not Acknowledgement.objects.exists()
    assert not Dossier.objects.filed().exists()


def test_sending_with_a_malformed_email_address_is_refused_on_that_field(place):
    demarche = publish(place, [DEMANDE])
    client = browser()
    summary = to_summary(client, demarche)
    refused = client.post(
        summary.request["PATH_INFO"], {"attestation": "on", "contact_email": "pas-une-adresse"}
    )
    assert refused.status_code == 400
    message = "« pas-une-adresse » n'est pas une adresse e-mail valide."
    errors = re.search(r'id="contact_email_errors"[^>]*>(.*?)</ul>', text_of(refused), re.S)
    assert errors and message in errors.group(1)
    assert 'value="pas-une-adresse"' in refused.content.decode()  # to be corrected, not retyped
    assert draft_of(demarche).status == Dossier.DRAFT
    assert not Acknowledgement.objects.exists()


# --- 7. Sending twice -------------------------------------------------------------------------


def test_sending_the_summary_twice_files_one_dossier(place):
    demarche = publish(place, [DEMANDE])
    client = browser()
    summary = to_summary(client, demarche)
    url = summary.request["PATH_INFO"]
    first = client.post(url, {"attestation": "on", "contact_email": "camille@exemple.test"})
    second = client.post(url, {"attestation": "on", "contact_email": "camille@exemple.test"})
    # The second click lands on the dossier filed by the first, not on an error.
    assert first.status_code == 302
    assert second.status_code == 302 and second["Location"] == first["Location"]

    filed = Dossier.objects.filter(demarche=demarche)
    assert filed.count() == 1
    dossier = filed.get()
    assert dossier.is_filed
    assert Dossier.objects.exclude(reference="").count() == 1
    assert Acknowledgement.objects.filter(dossier=dossier).count() == 2
    assert client.get(first["Location"]).status_code == 200


# --- 8. Privacy -------------------------------------------------------------------------------


def test_another_browser_cannot_reach_an_anonymous_draft_or_dossier(place):
    demarche = publish(place, [DEMANDE, SUITE])
    owner, stranger = browser(), browser()
    page = follow(owner, start(owner, demarche))
    draft = draft_of(demarche)

    for url in (page_url(draft, "demande"), page_url(draft, "suite"), summary_url(draft)):
        assert stranger.get(url).status_code == 404
        assert stranger.post(url, {"nom": "Intrus", "_action": "next"}).status_code == 404
    draft.refresh_from_db()
    assert draft.answers == {}

    page = follow(owner, submit(owner, page, nom="Durand", deja_venu="false"))
    summary = follow(owner, submit(owner, page))
    assert (
        owner.post(
            summary.request["PATH_INFO"], {"attestation": "on", "contact_email": "c@exemple.test"}
        ).status_code
        == 302
    )
    for ack in Acknowledgement.objects.filter(dossier=draft):
        deliver(ack.pk)
    assert owner.get(dossier_url(draft)).status_code == 200
    assert owner.get(pdf_url(draft)).status_code == 200

    for url in (dossier_url(draft), pdf_url(draft), pdf_url(draft, "aee"), summary_url(draft)):
        assert stranger.get(url).status_code == 404


def test_a_citizen_account_cannot_reach_another_accounts_draft(place):
    demarche = publish(place, [DEMANDE, SUITE])
    alice, bruno = browser(), browser()
    alice.force_login(UserFactory())
    bruno.force_login(UserFactory())
    follow(alice, start(alice, demarche))
    draft = draft_of(demarche)
    assert draft.account is not None and draft.draft_token == ""

    assert alice.get(page_url(draft, "demande")).status_code == 200
    for url in (page_url(draft, "demande"), summary_url(draft)):
        assert bruno.get(url).status_code == 404
        # Nor anyone without an account: asked to log in (the owner's session may have
        # expired), shown nothing of the draft.
        anonymous = browser().get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/comptes/connexion/?next=")


def test_a_random_draft_or_dossier_id_is_the_same_not_found(place):
    demarche = publish(place, [DEMANDE])
    client = browser()
    follow(client, start(client, demarche))
    slug = demarche.collectivite.slug
    unknown = uuid.uuid4()
    for url in (
        reverse("portal:page", args=[slug, unknown, "demande"]),
        reverse("portal:summary", args=[slug, unknown]),
        reverse("portal:dossier", args=[slug, unknown]),
        reverse("portal:acknowledgement_pdf", args=[slug, unknown, "are"]),
    ):
        response = client.get(url)
        assert response.status_code == 404
    # The owner's own draft on another collectivité's address is not found either.
    other = CollectiviteFactory()
    draft = draft_of(demarche)
    assert (
        client.get(reverse("portal:page", args=[other.slug, draft.uuid, "demande"])).status_code
        == 404
    )
    assert client.get(page_url(draft, "demande")).status_code == 200


# --- 9. Démarches for account holders ---------------------------------------------------------


IDENTITE = {
    "key": "identite",
    "title": "Qui êtes-vous ?",
    "fields": [
        {
            "key": "prenom",
            "type": "text",
            "label": "Prénom",
            "required": True,
            "prefill": "first_name",
        },
        {
            "key": "nom_famille",
            "type": "text",
            "label": "Nom",
            "required": True,
            "prefill": "last_name",
        },
        {"key": "email", "type": "email", "label": "E-mail", "required": True, "prefill": "email"},
        {"key": "telephone", "type": "phone", "label": "Téléphone", "prefill": "phone"},
    ],
}


def test_an_account_demarche_sends_anonymous_people_to_log_in_then_prefills_the_profile(place):
    demarche = publish(place, [IDENTITE], who="account")
    client = browser()
    slug = demarche.collectivite.slug
    refused = start(client, demarche)
    assert refused.status_code == 302
    assert refused["Location"] == f"/comptes/connexion/?next=/c/{slug}/demarches/{demarche.slug}/"
    assert not Dossier.objects.exists()

    user = UserFactory(
        first_name="Camille", last_name="Durand", email="camille.durand@exemple.test"
    )
    client.force_login(user)
    page = follow(client, start(client, demarche))
    draft = draft_of(demarche)
    assert draft.account == user and draft.draft_token == ""
    values = form_values(page)
    assert values["prenom"] == ["Camille"]
    assert values["nom_famille"] == ["Durand"]
    assert values["email"] == ["camille.durand@exemple.test"]
    assert values["telephone"] == [""]

    # A prefilled answer is a proposal: the person may change it.
    summary = follow(client, submit(client, page, prenom="Camille-Marie"))
    assert 'name="contact_email"' not in summary.content.decode()  # the account's address
    sent = client.post(summary.request["PATH_INFO"], {"attestation": "on"})
    assert sent.status_code == 302, error_summary(sent)
    filed = Dossier.objects.get(pk=draft.pk)
    assert filed.is_filed
    assert filed.account == user and filed.contact_email == "camille.durand@exemple.test"
    assert filed.answers["prenom"] == "Camille-Marie"
    assert filed.tracking_code == ""  # the account follows the dossier
    assert client.get(sent["Location"]).status_code == 200


# --- 10. Acknowledgements ---------------------------------------------------------------------


def test_sending_defers_both_acknowledgements_which_mail_the_are_with_its_pdf(
    place, django_capture_on_commit_callbacks
):
    from procrastinate.contrib.django.models import ProcrastinateJob

    demarche = publish(place, [DEMANDE])
    client = browser()
    summary = to_summary(client, demarche)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent = client.post(
            summary.request["PATH_INFO"],
            {"attestation": "on", "contact_email": "camille@exemple.test"},
        )
    assert sent.status_code == 302
    dossier = Dossier.objects.get(demarche=demarche)

    acks = {a.kind: a for a in dossier.acknowledgements.all()}
    assert set(acks) == {"aee", "are"}
    assert {a.status for a in acks.values()} == {Acknowledgement.Status.PENDING}
    assert {a.recipient for a in acks.values()} == {"camille@exemple.test"}
    assert len(callbacks) >= 2
    jobs = ProcrastinateJob.objects.filter(task_name="demarches.deliver_acknowledgement")
    assert sorted(j.args["acknowledgement_id"] for j in jobs) == sorted(a.pk for a in acks.values())
    assert mail.outbox == []  # the worker sends, not the request

    # What the worker does with each job.
    for ack in acks.values():
        deliver(ack.pk)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert message.to == ["camille@exemple.test"]
        assert dossier.reference in message.subject + message.body
        # Filed without an account: the code to follow it is in both acknowledgements.
        assert dossier.tracking_code and dossier.tracking_code in message.body
    with_pdf = [m for m in mail.outbox if m.attachments]
    assert len(with_pdf) == 1
    name, content, mimetype = with_pdf[0].attachments[0]
    assert name == f"accuse-reception-{dossier.reference}.pdf"
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    for ack in dossier.acknowledgements.all():
        assert ack.status == Acknowledgement.Status.SENT and ack.sent_at and ack.message_id

    page = client.get(sent["Location"])
    assert f'href="{pdf_url(dossier)}"' in page.content.decode()
    assert "Envoyé" in text_of(page)
    download = client.get(pdf_url(dossier))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # The e-mail-only acknowledgement has no document to download.
    assert client.get(pdf_url(dossier, "aee")).status_code == 404
