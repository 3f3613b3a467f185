"""The AEE e-mail and the ARE document: every mention of CRPA R112-11-1 must be in the PDF."""

import io
import unicodedata
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from grc.demarches.acknowledgements.render import render_aee, render_are
from grc.demarches.legal import implicit_decision_date
from grc.demarches.texts import sample_context

ISSUED_AT = datetime(2023, 5, 16, 8, 0, tzinfo=UTC)


def make_context(kind: str) -> dict:
    context = sample_context()
    received_at = context["dossier"]["received_at"]  # 15 May 2023, 14:05 in Paris
    context["decision"] = {
        "kind": kind,
        "date": (
            implicit_decision_date(received_at, period=2, unit="months") if kind != "none" else None
        ),
        "period_label": "2 mois" if kind != "none" else "",
    }
    return context


def pdf_text(pdf: bytes) -> str:
    """The text layer, with ligatures, line breaks and non-breaking spaces flattened."""
    reader = PdfReader(io.BytesIO(pdf))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", raw).split())


@pytest.fixture(scope="module")
def rendered():
    return {
        kind: render_are(make_context(kind), {}, issued_at=ISSUED_AT)
        for kind in ("sva", "svr", "none")
    }


def assert_common_mentions(text: str) -> None:
    # (1) date of receipt
    assert "Date de réception de votre demande : 15 mai 2023" in text
    # (2) service in charge, its address (postal or e-mail) and phone
    assert "Service chargé du dossier : Service urbanisme" in text
    assert "3 rue des Écoles" in text
    assert "urbanisme@saint-exemple.fr" in text
    assert "Téléphone : 01 23 45 67 00" in text
    # Letterhead, recipient, reference, démarche
    assert "Commune de Saint-Exemple" in text
    assert "Accusé de réception" in text
    assert "Lucie Durand" in text
    assert "12 rue des Lilas" in text
    assert "OCC-2023-000042" in text
    assert "Demande d'autorisation d'occupation du domaine public" in text
    # L114-5: incomplete file
    assert "pièces et informations manquantes" in text
    # Data-protection contact in the footer
    assert "dpo@saint-exemple.fr" in text


def test_sva_mentions(rendered):
    text = pdf_text(rendered["sva"].pdf)
    assert_common_mentions(text)
    assert "décision implicite d'acceptation" in text
    assert "réputée acceptée le 16 juillet 2023" in text
    assert "sous réserve que votre dossier soit complet" in text
    assert "sur simple demande, une attestation d'acceptation implicite" in text
    assert "L232-3" in text
    assert "ne court alors qu'à compter de la réception" in text
    assert "tribunal administratif" not in text


def test_svr_mentions(rendered):
    text = pdf_text(rendered["svr"].pdf)
    assert_common_mentions(text)
    assert "décision implicite de rejet" in text
    assert "réputée rejetée le 16 juillet 2023" in text
    assert "sous réserve que votre dossier soit complet" in text
    assert "Délais et voies de recours" in text
    assert "recours gracieux" in text
    assert "recours hiérarchique" in text
    assert "tribunal administratif" in text
    assert "deux mois" in text
    assert "R421-1" in text
    assert "www.telerecours.fr" in text
    assert "prolonge le délai de recours contentieux" in text
    assert "suspendu" in text
    assert "L232-3" not in text


def test_none_mentions(rendered):
    text = pdf_text(rendered["none"].pdf)
    assert_common_mentions(text)
    assert "n'est pas susceptible de donner lieu à une décision implicite" in text
    assert "réponse explicite" in text
    assert "réputée" not in text


@pytest.mark.parametrize("kind", ["sva", "svr", "none"])
def test_pdf_is_tagged_pdf_ua_with_title_and_language(rendered, kind):
    reader = PdfReader(io.BytesIO(rendered[kind].pdf))
    assert reader.metadata.title == "Accusé de réception – demande OCC-2023-000042"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "fr"
    assert "/StructTreeRoot" in root
    xmp = root["/Metadata"].get_object().get_data()
    assert b"pdfuaid" in xmp
    assert b'pdfuaid:part="1"' in xmp


def test_are_mail_and_html(rendered):
    are = rendered["sva"]
    assert are.subject == "Accusé de réception de votre demande OCC-2023-000042"
    assert "ci-joint l'accusé de réception" in are.body
    assert '<html lang="fr">' in are.html
    assert "<h1>Accusé de réception</h1>" in are.html


def test_staff_texts_are_escaped_and_keep_line_breaks():
    texts = {
        "are_intro": "Première ligne <script>alert(1)</script>\nDeuxième ligne",
        "are_closing": "",  # empty: falls back to the default
    }
    are = render_are(make_context("sva"), texts, issued_at=ISSUED_AT)
    assert "<script>" not in are.html
    assert "&lt;script&gt;" in are.html
    assert "Première ligne &lt;script&gt;alert(1)&lt;/script&gt;<br>Deuxième ligne" in are.html
    assert "salutations distinguées" in are.html


def test_service_without_address_falls_back_to_the_collectivite():
    context = make_context("sva")
    context["service"].update(address="", email="", phone="")
    text = pdf_text(render_are(context, {}, issued_at=ISSUED_AT).pdf)
    assert "Service chargé du dossier : Service urbanisme" in text
    assert "1 place de la Mairie" in text
    assert "contact@saint-exemple.fr" in text
    assert "Téléphone : 01 23 45 67 89" in text


def test_implicit_decision_without_date_is_refused():
    context = make_context("svr")
    context["decision"]["date"] = None
    with pytest.raises(ValueError):
        render_are(context, {})


def test_aee():
    context = make_context("sva")
    mail = render_aee(context, {"aee_subject": "Demande\n{{ dossier.reference }} reçue"})
    assert mail.subject == "Demande OCC-2023-000042 reçue"
    assert "enregistrée le 15 mai 2023 à 14 h 05" in mail.body
    assert "https://demarches.saint-exemple.fr/suivi/OCC-2023-000042/" in mail.body
