"""With JavaScript, fields appear and disappear as the person answers, without a reload."""

import pytest

from tests.demarches.factories import definition, field, published
from tests.factories import CollectiviteFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_condition_shows_and_hides_a_field_live(page, settings):
    settings.ALLOWED_HOSTS = ["*"]
    commune = CollectiviteFactory(slug="lussac")
    published(
        commune,
        ServiceFactory(collectivite=commune),
        definition(
            [
                field("association", "yesno", required=True, label="Êtes-vous une association ?"),
                field(
                    "siret",
                    "siret",
                    required=True,
                    label="SIRET de l'association",
                    condition={"op": "equals", "field": "association", "value": True},
                ),
                field("nombre", "integer", label="Nombre de personnes"),
                field(
                    "grand_groupe",
                    "yesno",
                    label="Faut-il des tables ?",
                    condition={"op": "gt", "field": "nombre", "value": 50},
                ),
            ]
        ),
        slug="salle",
    )
    page.goto("/c/lussac/demarches/salle/")
    page.get_by_role("button", name="Commencer la démarche").click()
    siret = page.get_by_label("SIRET de l'association")
    assert siret.is_hidden()
    page.get_by_label("Oui").first.check()
    assert siret.is_visible()
    page.get_by_label("Non").first.check()
    assert siret.is_hidden()
    tables = page.get_by_text("Faut-il des tables ?")
    page.get_by_label("Nombre de personnes").fill("80")
    assert tables.is_visible()
    page.get_by_label("Nombre de personnes").fill("20")
    assert tables.is_hidden()
    # The server agrees: with "Non", the hidden SIRET is not required.
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/recapitulatif/")
    assert "SIRET" not in page.content()
