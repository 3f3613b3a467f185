"""The letter read by Tesseract: a scanned French letter registered by an agent through the
backoffice, read by the worker, then found by the queue's search on its words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grc.base.models import Channel
from grc.channels.models import Letter
from grc.demarches.models import Dossier, Message
from tests.backoffice.conftest import HOST
from tests.demarches.dossier_helpers import demarche_for, file_dossier

SCAN = Path(__file__).parent / "data" / "lettre-scannee.png"


def scan_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("lettre-scannee.png", SCAN.read_bytes(), content_type="image/png")


def queue_ids(client, query: str) -> set[int]:
    """The dossiers the queue lists for this search (links to their pages)."""
    response = client.get(reverse("backoffice:queue", args=["mes-services"]), {"q": query})
    assert response.status_code == 200
    return {int(pk) for pk in re.findall(r'href="/backoffice/dossiers/(\d+)/"', response.text)}


@pytest.mark.django_db(transaction=True)
def test_a_scanned_letter_is_read_and_its_words_find_the_dossier(client, tenant_a, media, run_jobs):
    demarche = demarche_for(tenant_a, channels=["web", "courrier"])
    dossier = file_dossier(demarche, contact_email="gerard.lemoine@exemple.test", objet="Voirie")
    other = file_dossier(demarche, contact_email="autre@exemple.test", objet="Voirie")
    client.force_login(tenant_a.agent)
    client.defaults["HTTP_HOST"] = HOST

    response = client.post(
        reverse("backoffice:letter_register"),
        {
            "courrier-received_on": "2026-11-03",
            "courrier-scan": scan_upload(),
            "courrier-reference": dossier.reference.lower(),
            "courrier-subject": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    letter = Letter.objects.get()
    assert letter.dossier_id == dossier.pk
    assert letter.ocr_status == Letter.OcrStatus.PENDING
    assert letter.scan.dossier_id == dossier.pk
    assert letter.received_on.isoformat() == "2026-11-03"
    received = Message.objects.get(dossier=dossier, channel=Channel.COURRIER)
    assert received.direction == Message.Direction.IN
    assert received.body == "Courrier reçu le 3 novembre 2026"

    # Nothing is searchable before the worker has read the scan.
    assert queue_ids(client, "voirie") == {dossier.pk, other.pk}  # the page lists dossiers
    assert dossier.pk not in queue_ids(client, "platanes")

    run_jobs(["ocr"])
    letter.refresh_from_db()
    assert letter.ocr_status == Letter.OcrStatus.DONE, letter.ocr_error
    assert "élagage" in letter.ocr_text
    assert "Jean-Jaurès" in letter.ocr_text

    assert queue_ids(client, "platanes") == {dossier.pk}
    assert queue_ids(client, "branches elagage") == {dossier.pk}  # accents ignored
    assert queue_ids(client, "lampadaire") == set()

    listing = client.get(reverse("backoffice:letter_list")).content.decode()
    assert "Texte lu" in listing and dossier.reference in listing
    assert Dossier.objects.get(pk=dossier.pk).search is not None


@pytest.mark.django_db(transaction=True)
def test_an_unreadable_scan_is_marked_failed_with_its_reason(client, tenant_a, media, run_jobs):
    demarche = demarche_for(tenant_a, channels=["web", "courrier"])
    dossier = file_dossier(demarche, contact_email="gerard.lemoine@exemple.test")
    client.force_login(tenant_a.agent)
    client.defaults["HTTP_HOST"] = HOST
    # A PDF without any page poppler can draw: accepted as a file, unreadable as a letter.
    broken = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    response = client.post(
        reverse("backoffice:letter_register"),
        {
            "courrier-received_on": "2026-11-03",
            "courrier-scan": SimpleUploadedFile("casse.pdf", broken, "application/pdf"),
            "courrier-reference": dossier.reference,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    run_jobs(["ocr"])
    letter = Letter.objects.get()
    assert letter.ocr_status == Letter.OcrStatus.FAILED
    assert "PDF" in letter.ocr_error
    listing = client.get(reverse("backoffice:letter_list"))
    assert listing.status_code == 200
    assert "Lecture impossible" in listing.content.decode()
    assert letter.ocr_error in listing.content.decode().replace("&#x27;", "'")


def test_a_scanned_pdf_is_rasterised_and_read(tmp_path):
    from PIL import Image

    from grc.channels.letters import ocr

    pdf = tmp_path / "scan.pdf"
    with Image.open(SCAN) as image:
        image.convert("RGB").save(pdf, "PDF", resolution=200)
    text = ocr.read_text(pdf, "application/pdf")
    assert "platanes" in text and "Jean-Jaurès" in text


def test_a_pdf_with_a_text_layer_is_read_without_tesseract(tmp_path, monkeypatch):
    import weasyprint

    from grc.channels.letters import ocr

    pdf = tmp_path / "texte.pdf"
    pdf.write_bytes(
        weasyprint.HTML(string="<p>Les branches des platanes gênent les riverains.</p>").write_pdf()
    )

    def no_tesseract(*args, **kwargs):
        raise AssertionError("Tesseract must not run on a PDF with text")

    monkeypatch.setattr(ocr.pytesseract, "image_to_string", no_tesseract)
    assert "platanes gênent" in ocr.read_text(pdf, "application/pdf")


def test_a_missing_tesseract_is_said(tmp_path, monkeypatch):
    from grc.channels.letters import ocr

    monkeypatch.setattr(ocr.pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(ocr.OcrUnavailable, match="Tesseract n'est pas installé"):
        ocr.read_text(SCAN, "image/png")
    with pytest.raises(ocr.OcrError, match="illisible"):
        broken = tmp_path / "casse.png"
        broken.write_bytes(b"\x89PNG\r\n\x1a\nrien")
        ocr.read_text(broken, "image/png")
