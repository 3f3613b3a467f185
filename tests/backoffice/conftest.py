import copy

import pytest

from grc.demarches.services.demarches import create_demarche
from tests.conftest import STAFF_HOST as HOST  # noqa: F401 - imported by the tests

VALID_DEFINITION = {
    "schema": 1,
    "pages": [
        {
            "key": "demande",
            "title": "Votre demande",
            "condition": None,
            "fields": [
                {"key": "coordonnees", "type": "title", "label": "Vos coordonnées"},
                {"key": "nom", "type": "text", "label": "Votre nom", "required": True},
                {
                    "key": "motif",
                    "type": "choice",
                    "label": "Motif de la demande",
                    "required": True,
                    "options": [
                        {"value": "naissance", "label": "Acte de naissance"},
                        {"value": "mariage", "label": "Acte de mariage"},
                    ],
                },
                {
                    "key": "precision",
                    "type": "textarea",
                    "label": "Précisez votre demande",
                    "condition": {"op": "equals", "field": "motif", "value": "mariage"},
                },
            ],
        },
        {
            "key": "pieces",
            "title": "Pièces justificatives",
            "condition": None,
            "fields": [{"key": "justificatif", "type": "file", "label": "Justificatif"}],
        },
    ],
}


def valid_definition():
    return copy.deepcopy(VALID_DEFINITION)


def make_demarche(tenant, *, slug="acte", title="Demande d'acte", definition=None, service=True):
    return create_demarche(
        actor=None,
        collectivite=tenant.collectivite if tenant else None,
        data={"title": title, "slug": slug},
        definition=definition or valid_definition(),
        service=tenant.service if tenant and service else None,
    )


@pytest.fixture
def demarche_a(tenant_a):
    return make_demarche(tenant_a)


@pytest.fixture
def demarche_b(tenant_b):
    return make_demarche(tenant_b, slug="acte-b", title="Démarche de B")
