"""The workflow every new démarche gets: Déposé → En instruction → (En attente de compléments ⇄
En instruction) → Accepté / Refusé / Classé sans suite, with the citizen told at each visible
step, the implicit decision of SVA/SVR démarches, withdrawal and transfer."""

from __future__ import annotations

import copy
from typing import Any

_SIGNATURE = "\n\n{{ service.name }}\n{{ collectivite.name }}"
_HELLO = (
    "Bonjour{% if usager.last_name %} {{ usager.first_name }} {{ usager.last_name }}"
    "{% endif %},\n\n"
)


def _email(subject: str, body: str) -> dict[str, Any]:
    return {
        "type": "email",
        "to": "citizen",
        "subject": subject,
        "body": _HELLO + body + _SIGNATURE,
    }


def _status(
    key,
    label,
    citizen_label,
    colour,
    category,
    *,
    terminal=False,
    visible=True,
    actions=(),
    timers=(),
):
    return {
        "key": key,
        "label": label,
        "citizen_label": citizen_label,
        "colour": colour,
        "category": category,
        "visible": visible,
        "terminal": terminal,
        "actions": list(actions),
        "timers": list(timers),
    }


def _transition(key, label, origins, to, by, *, comment="none", guard=None, fields=(), actions=()):
    return {
        "key": key,
        "label": label,
        "from": list(origins),
        "to": to,
        "by": by,
        "comment": comment,
        "guard": guard,
        "fields": list(fields),
        "actions": list(actions),
    }


_LINK = "\n\nVous pouvez suivre votre demande {{ dossier.reference }} ici : {{ dossier.url }}"

_STATUSES = [
    _status("depose", "Déposé", "Demande reçue", "#1d4f91", "submitted"),
    _status(
        "instruction",
        "En instruction",
        "En cours de traitement",
        "#6a4c00",
        "in_progress",
        actions=[
            _email(
                "Votre demande {{ dossier.reference }} est en cours de traitement",
                "Votre demande « {{ demarche.title }} » est en cours de traitement par le service "
                "{{ service.name }}." + _LINK,
            )
        ],
    ),
    _status(
        "attente_pieces",
        "En attente de compléments",
        "Pièces à fournir",
        "#a3320b",
        "waiting_citizen",
        actions=[
            _email(
                "Des pièces manquent à votre demande {{ dossier.reference }}",
                "Pour traiter votre demande « {{ demarche.title }} », nous avons besoin des pièces "
                "suivantes :\n{% for piece in pieces.liste %}- {{ piece }}\n{% endfor %}\n"
                "Merci de les fournir avant le {{ pieces.date_limite|date_fr }}"
                "{% if commentaire %} ({{ commentaire }}){% endif %}, depuis la page de votre "
                "demande. En attendant, le délai de traitement est suspendu." + _LINK,
            )
        ],
        timers=[{"after": 10, "unit": "working_days", "transition": "relancer"}],
    ),
    _status(
        "accepte",
        "Accepté",
        "Demande acceptée",
        "#18753c",
        "accepted",
        terminal=True,
        actions=[
            _email(
                "Votre demande {{ dossier.reference }} est acceptée",
                "Bonne nouvelle : votre demande « {{ demarche.title }} » est acceptée."
                "{% if commentaire %}\n\n{{ commentaire }}{% endif %}" + _LINK,
            )
        ],
    ),
    _status(
        "refuse",
        "Refusé",
        "Demande refusée",
        "#ce0500",
        "rejected",
        terminal=True,
        actions=[
            _email(
                "Réponse à votre demande {{ dossier.reference }}",
                "Votre demande « {{ demarche.title }} » ne peut pas être acceptée."
                "{% if commentaire %}\n\nMotif : {{ commentaire }}{% endif %}\n\nVous pouvez "
                "contester cette décision dans un délai de deux mois : par un recours gracieux "
                "auprès de {{ collectivite.name }}, ou devant le tribunal administratif "
                "(www.telerecours.fr)." + _LINK,
            )
        ],
    ),
    _status(
        "classe",
        "Classé sans suite",
        "Demande close",
        "#666666",
        "closed",
        terminal=True,
        actions=[
            _email(
                "Votre demande {{ dossier.reference }} est close",
                "Votre demande « {{ demarche.title }} » est close sans suite."
                "{% if commentaire %}\n\n{{ commentaire }}{% endif %}" + _LINK,
            )
        ],
    ),
    _status(
        "annule",
        "Retirée par l'usager",
        "Demande retirée",
        "#666666",
        "cancelled",
        terminal=True,
        actions=[
            _email(
                "Vous avez retiré votre demande {{ dossier.reference }}",
                "Votre demande « {{ demarche.title }} » est retirée, comme vous l'avez demandé."
                + _LINK,
            )
        ],
    ),
    _status(
        "transmis",
        "Transmis",
        "Transmise à l'administration compétente",
        "#666666",
        "closed",
        terminal=True,
        actions=[
            _email(
                "Votre demande {{ dossier.reference }} a été transmise",
                "Votre demande « {{ demarche.title }} » relève d'une autre administration : nous "
                "la lui avons transmise (article L114-2 du code des relations entre le public et "
                "l'administration). Elle vous enverra son propre accusé de réception."
                "{% if commentaire %}\n\n{{ commentaire }}{% endif %}" + _LINK,
            )
        ],
    ),
]

_OPEN = ["depose", "instruction", "attente_pieces"]

_TRANSITIONS = [
    _transition("instruire", "Commencer l'instruction", ["depose"], "instruction", "service"),
    _transition(
        "demander_pieces",
        "Demander des pièces",
        ["depose", "instruction"],
        "attente_pieces",
        "service",
        comment="optional",
        fields=[
            {
                "key": "pieces_demandees",
                "type": "textarea",
                "required": True,
                "label": "Pièces demandées (une par ligne)",
            },
            {
                "key": "delai_pieces",
                "type": "integer",
                "required": True,
                "label": "Délai pour les fournir (jours)",
                "validation": {"min": 1, "max": 90},
            },
        ],
        actions=[
            {
                "type": "request_pieces",
                "items_field": "pieces_demandees",
                "deadline_field": "delai_pieces",
                "deadline_days": 15,
                "message": "Pièces demandées pour votre demande {{ dossier.reference }}.",
            }
        ],
    ),
    _transition(
        "pieces_recues", "J'ai fourni les pièces", ["attente_pieces"], "instruction", "citizen"
    ),
    _transition(
        "reprendre",
        "Reprendre l'instruction (pièces reçues)",
        ["attente_pieces"],
        "instruction",
        "service",
        comment="optional",
    ),
    _transition(
        "relancer",
        "Relancer l'usager",
        ["attente_pieces"],
        "attente_pieces",
        "system",
        actions=[
            _email(
                "Rappel : des pièces manquent à votre demande {{ dossier.reference }}",
                "Nous attendons toujours des pièces pour traiter votre demande « "
                "{{ demarche.title }} ». Vous pouvez les fournir depuis la page de votre demande."
                + _LINK,
            )
        ],
    ),
    _transition("accepter", "Accepter", ["instruction"], "accepte", "service", comment="optional"),
    _transition("refuser", "Refuser", ["instruction"], "refuse", "service", comment="required"),
    _transition("classer", "Classer sans suite", _OPEN, "classe", "service", comment="required"),
    _transition("retirer", "Retirer ma demande", _OPEN, "annule", "citizen", comment="optional"),
    _transition(
        "transmettre",
        "Transmettre à l'administration compétente",
        _OPEN,
        "transmis",
        "service",
        comment="required",
    ),
]

_IMPLICIT_ACCEPT = _transition(
    "accepter_implicitement",
    "Acceptation implicite (silence vaut acceptation)",
    ["depose", "instruction"],
    "accepte",
    "system",
    actions=[
        {
            "type": "document",
            "kind": "attestation_acceptation",
            "title": "Attestation d'acceptation implicite",
            "template": (
                "Le {{ decision.date|date_fr }}, la demande « {{ demarche.title }} » "
                "(référence {{ dossier.reference }}) déposée le {{ dossier.received_at|date_fr }} "
                "par {{ usager.first_name }} {{ usager.last_name }} a fait l'objet d'une décision "
                "implicite d'acceptation, faute de réponse de l'administration dans le délai de "
                "{{ decision.period_label }} (article L231-1 du code des relations entre le public "
                "et l'administration).\n\nLa présente attestation est délivrée en application de "
                "l'article L232-3 du même code."
            ),
        }
    ],
)
_IMPLICIT_REJECT = _transition(
    "rejeter_implicitement",
    "Rejet implicite (silence vaut rejet)",
    ["depose", "instruction"],
    "refuse",
    "system",
)


def default_workflow(implicit_decision: str = "none") -> dict[str, Any]:
    """A fresh copy: every démarche owns and edits its own."""
    workflow = {
        "schema": 1,
        "initial": "depose",
        "statuses": copy.deepcopy(_STATUSES),
        "transitions": copy.deepcopy(_TRANSITIONS),
        "implicit": {},
    }
    if implicit_decision == "sva":
        workflow["transitions"].append(copy.deepcopy(_IMPLICIT_ACCEPT))
        workflow["implicit"] = {"accept": "accepter_implicitement"}
    elif implicit_decision == "svr":
        workflow["transitions"].append(copy.deepcopy(_IMPLICIT_REJECT))
        workflow["implicit"] = {"reject": "rejeter_implicitement"}
    return workflow
