"""Posts a browser would never send get an ordinary answer, never a 500 or a hung worker."""

import pytest
from django.test import Client

from grc.demarches.models import Attachment, Dossier
from grc.demarches.services.dossiers import attach_file
from tests.demarches.factories import definition, field, published
from tests.demarches.helpers import pdf_file

pytestmark = pytest.mark.django_db

FORM = definition(
    [
        field("gros", "file", accept=["application/pdf"], max_size_mb=40),
        field("petit", "file", accept=["application/pdf"], max_size_mb=1),
        field(
            "liste",
            "block",
            min_items=0,
            max_items=3,
            item_label="Ligne",
            fields=[field("piece", "file", accept=["application/pdf"])],
        ),
    ]
)


@pytest.fixture
def page(tenant_a, media):
    demarche = published(tenant_a.collectivite, tenant_a.service, FORM)
    browser = Client(HTTP_HOST="127.0.0.1")
    start = browser.post(f"/c/{tenant_a.collectivite.slug}/demarches/{demarche.slug}/commencer/")
    draft = Dossier.objects.get()
    return browser, start.url, draft


def test_a_file_sent_for_one_field_cannot_answer_another(page):
    browser, url, draft = page
    big = attach_file(dossier=draft, field_key="gros", upload=pdf_file("gros.pdf"))
    response = browser.post(url, {"petit": [str(big.pk)], "_shown": ["gros", "petit", "liste"]})
    assert response.status_code == 400
    assert "Pièce jointe inconnue" in response.content.decode()
    draft.refresh_from_db()
    assert "petit" not in draft.answers


@pytest.mark.parametrize(
    "post",
    [
        {"liste__count": "999999999"},
        {"_action": "remove:liste:²"},
        {"_action": "remove:liste"},
        {"_action": "add:inconnu"},
        {"gros": ["²"]},
    ],
)
def test_forged_posts_are_answered_normally(page, post):
    browser, url, _draft = page
    response = browser.post(url, post)
    assert response.status_code in (200, 302, 400)
    assert not Attachment.objects.exists()


def test_an_agents_only_demarche_does_not_send_visitors_to_log_in(tenant_a):
    demarche = published(
        tenant_a.collectivite,
        tenant_a.service,
        definition([field("a")]),
        who_may_file="agents",
        slug="guichet",
    )
    browser = Client(HTTP_HOST="127.0.0.1")
    base = f"/c/{tenant_a.collectivite.slug}/demarches/{demarche.slug}/"
    assert "se fait auprès des services" in browser.get(base).content.decode()
    response = browser.post(base + "commencer/")
    assert response.status_code == 302 and response.url == base
