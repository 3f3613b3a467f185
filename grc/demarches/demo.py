"""Demo dossiers, so that a fresh `make run` shows a citizen's requests at different stages
(and agents a queue to work on). Filed through the services, like real ones. Idempotent: a
démarche that already has dossiers is left alone."""

from __future__ import annotations

from django.db import transaction

from grc.base.models import Channel, Collectivite, Role, User
from grc.demarches.models import Demarche, Dossier
from grc.demarches.services.dossiers import submit_dossier
from grc.demarches.workflow.services import apply_transition

ADDRESS = {
    "address_line1": "12 rue des Tilleuls",
    "address_line2": "",
    "postal_code": "49250",
    "city": "Saint-Aubin-sur-Loire",
    "country": "FR",
}

# (démarche slug, answers, the steps an agent then takes: (transition, comment, data))
STORIES = [
    (
        "signalement-voirie",
        {
            "type_probleme": "nid_de_poule",
            "danger_immediat": False,
            "lieu_adresse": {**ADDRESS, "address_line1": "Devant le 3 rue du Port"},
            "description": "Un trou d'une vingtaine de centimètres sur la chaussée.",
            "attestation_exactitude": True,
        },
        [("instruire", "", {})],
    ),
    (
        "question-contact",
        {
            "sujet": "etat_civil",
            "message": "Quels sont les horaires pour déposer un dossier de mariage ?",
            "contact_prenom": "Marie",
            "contact_nom": "Dubois",
            "mode_reponse": "email",
            "attestation_exactitude": True,
        },
        [],
    ),
    (
        "reclamation",
        {
            "service_concerne": "accueil",
            "date_faits": "2026-10-12",
            "objet": "Attente au guichet",
            "description": "Plus d'une heure d'attente au guichet le lundi matin.",
            "resultat_attendu": "Un rendez-vous possible en ligne.",
            "deja_contacte": False,
            "attestation_exactitude": True,
        },
        [
            ("instruire", "", {}),
            (
                "demander_pieces",
                "",
                {"pieces_demandees": "Ticket d'attente ou courrier reçu", "delai_pieces": 15},
            ),
        ],
    ),
]


@transaction.atomic
def load_demo_dossiers(*, collectivite: Collectivite, citizen: User) -> int:
    """File the demo stories for `citizen` in `collectivite`; returns how many were filed."""
    filed = 0
    for slug, answers, steps in STORIES:
        demarche = Demarche.objects.filter(
            collectivite=collectivite, slug=slug, state=Demarche.State.PUBLISHED
        ).first()
        if demarche is None or Dossier.objects.filed().filter(demarche=demarche).exists():
            continue
        dossier = submit_dossier(
            demarche=demarche,
            answers_given=answers,
            channel=Channel.WEB,
            actor=citizen,
            account=citizen,
        )
        agent = _staff_of(demarche)
        for transition, comment, data in steps:
            # The agent of the démarche's service when there is one (who may act on it).
            apply_transition(dossier, transition, actor=agent, comment=comment, data=data)
            dossier.refresh_from_db()
        filed += 1
    return filed


def _staff_of(demarche: Demarche) -> User | None:
    """Someone who may act on the démarche's dossiers: an agent of its service, else an
    administrator of the collectivité."""
    return (
        User.objects.filter(
            memberships__service=demarche.service_id,
            memberships__role__in=(Role.AGENT, Role.MANAGER),
        ).first()
        or User.objects.filter(
            memberships__collectivite=demarche.collectivite_id, memberships__role=Role.ADMIN
        ).first()
    )
