"""A démarche's workflow (docs/workflows.md): statuses, transitions, actions, timers, as JSON
data versioned with the form; the checks that publishing runs; the default workflows."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from grc.demarches import conditions, texts
from grc.demarches.definition import KEY_PATTERN, as_text, fields_by_key, has_answer

SCHEMA_VERSION = 1
CATEGORIES: dict[str, str] = {
    "submitted": "Déposé",
    "in_progress": "En cours",
    "waiting_citizen": "En attente de l'usager",
    "accepted": "Accepté",
    "rejected": "Refusé",
    "closed": "Classé sans suite",
    "cancelled": "Annulé",
}
WHO: dict[str, str] = {
    "service": "les agents du service chargé du dossier",
    "agents": "tous les agents de la collectivité",
    "citizen": "l'usager",
    "system": "le système (délais, décision implicite)",
}
COMMENT = ("none", "optional", "required")
TIMER_UNITS = ("days", "working_days")
ACTION_TYPES: dict[str, str] = {
    "email": "Envoyer un e-mail",
    "sms": "Envoyer un SMS",
    "message": "Publier un message pour l'usager",
    "note": "Ajouter une note interne",
    "assign": "Attribuer",
    "request_pieces": "Demander des pièces",
    "document": "Produire un document",
    "set_fields": "Renseigner des champs privés",
    "webhook": "Appeler un webhook",
}
EMAIL_TARGETS = ("citizen", "service", "agents")
DOCUMENT_KINDS: dict[str, str] = {
    "attestation_acceptation": "Attestation d'acceptation",
    "attestation_refus": "Attestation de refus",
    "decision": "Lettre de décision",
    "autre": "Autre document",
}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Variables of workflow texts, beside those of the acknowledgements (texts.VARIABLES).
WORKFLOW_VARIABLES: dict[str, str] = {
    "statut.libelle": "Libellé du nouveau statut, tel que l'usager le voit",
    "transition.libelle": "Libellé de l'action de l'agent",
    "commentaire": "Commentaire saisi par l'agent (peut être vide)",
    "reponses": "Réponses du formulaire, par identifiant de champ (ex. reponses.objet)",
    "annotations": "Champs privés du dossier, par identifiant",
    "pieces.liste": "Pièces demandées (liste)",
    "pieces.date_limite": "Date limite pour fournir les pièces",
}
TEMPLATE_NAMES = {
    *texts.CONTEXT_NAMES,
    "statut",
    "transition",
    "commentaire",
    "reponses",
    "annotations",
    "pieces",
}


def statuses(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    value = workflow.get("statuses") if isinstance(workflow, dict) else None
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


def transitions(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    value = workflow.get("transitions") if isinstance(workflow, dict) else None
    return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []


def status(workflow: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((s for s in statuses(workflow) if s.get("key") == key), None)


def transition(workflow: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((t for t in transitions(workflow) if t.get("key") == key), None)


def transitions_from(workflow: dict[str, Any], status_key: str) -> list[dict[str, Any]]:
    return [t for t in transitions(workflow) if status_key in _list(t.get("from"))]


def check_text(source: str) -> list[str]:
    return texts.check_template(
        source,
        TEMPLATE_NAMES,
        documented={**texts.VARIABLES, **WORKFLOW_VARIABLES},
        open_names=("reponses", "annotations"),
    )


class _Checker:
    def __init__(self, workflow: Any, form: dict[str, Any]):
        self.workflow = workflow
        self.form_fields = fields_by_key(form) if isinstance(form, dict) else {}
        self.errors: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where} : {message}")

    def run(self) -> list[str]:
        workflow = self.workflow
        if not isinstance(workflow, dict):
            return [_("Le circuit de traitement doit être un objet JSON.")]
        if workflow.get("schema") != SCHEMA_VERSION:
            self.errors.append(
                _("Version de format du circuit inconnue : %(v)s.") % {"v": workflow.get("schema")}
            )
        items = statuses(workflow)
        if not items:
            self.errors.append(_("Le circuit doit avoir au moins un statut."))
            return self.errors
        keys = self.check_statuses(items)
        initial = workflow.get("initial")
        if not _among(initial, keys):
            self.errors.append(_("Le statut initial « %(k)s » n'existe pas.") % {"k": initial})
        transition_keys = self.check_transitions(keys)
        self.check_graph(keys, initial)
        implicit = workflow.get("implicit", {})
        if not isinstance(implicit, dict):
            self.errors.append(_("« implicit » doit être un objet JSON."))
        else:
            for name in ("accept", "reject"):
                key = implicit.get(name)
                if key is not None and not _among(key, transition_keys):
                    self.errors.append(
                        _("La transition de décision implicite « %(k)s » n'existe pas.")
                        % {"k": key}
                    )
                elif key is not None and transition(workflow, key).get("by") != "system":
                    self.errors.append(
                        _(
                            "La transition de décision implicite « %(k)s » doit être déclenchée "
                            "par le système."
                        )
                        % {"k": key}
                    )
        for item in statuses(workflow):
            for action in self.listed(f"statut « {item.get('key')} »", item, "actions"):
                self.check_action(f"statut « {item.get('key')} »", action, fields=())
        for item in transitions(workflow):
            own = [f.get("key") for f in _list(item.get("fields")) if isinstance(f, dict)]
            for action in self.listed(f"transition « {item.get('key')} »", item, "actions"):
                self.check_action(f"transition « {item.get('key')} »", action, fields=own)
        return self.errors

    def listed(self, where: str, item: dict, name: str) -> list:
        value = item.get(name)
        if value is not None and not isinstance(value, list):
            self.error(where, _("« %(n)s » doit être une liste.") % {"n": name})
        return _list(value)

    def check_statuses(self, items: list[dict]) -> set[str]:
        keys: set[str] = set()
        for item in items:
            key = item.get("key")
            where = _("Statut « %(k)s »") % {"k": key}
            if not isinstance(key, str) or not KEY_PATTERN.match(key):
                self.error(where, _("identifiant invalide."))
                continue
            if key in keys:
                self.error(where, _("cet identifiant est pris par un autre statut."))
            keys.add(key)
            for name in ("label", "citizen_label"):
                if not isinstance(item.get(name), str) or not item[name].strip():
                    self.error(where, _("le libellé « %(n)s » est vide.") % {"n": name})
            if as_text(item.get("category")) not in CATEGORIES:
                self.error(
                    where, _("catégorie inconnue : « %(c)s ».") % {"c": item.get("category")}
                )
            if not isinstance(item.get("colour"), str) or not _COLOUR.match(item["colour"]):
                self.error(where, _("couleur invalide (format #RRVVBB)."))
            for name in ("visible", "terminal"):
                if not isinstance(item.get(name), bool):
                    self.error(where, _("« %(n)s » doit valoir true ou false.") % {"n": name})
            timers = item.get("timers") or []
            if not isinstance(timers, list):
                self.error(where, _("les délais doivent être une liste."))
                continue
            for timer in timers:
                self.check_timer(where, key, timer)
        return keys

    def check_timer(self, where: str, status_key: str, timer: Any) -> None:
        if not isinstance(timer, dict):
            self.error(where, _("un délai doit être un objet JSON."))
            return
        after = timer.get("after")
        if isinstance(after, bool) or not isinstance(after, int) or after < 1:
            self.error(where, _("un délai compte au moins un jour."))
        if timer.get("unit") not in TIMER_UNITS:
            self.error(where, _("unité de délai inconnue : « %(u)s ».") % {"u": timer.get("unit")})
        target = transition(self.workflow, timer.get("transition") or "")
        if target is None:
            self.error(
                where,
                _("le délai déclenche la transition « %(t)s », qui n'existe pas.")
                % {"t": timer.get("transition")},
            )
        elif status_key not in _list(target.get("from")):
            self.error(
                where,
                _("la transition « %(t)s » ne part pas de ce statut.") % {"t": target.get("key")},
            )
        elif target.get("by") != "system":
            self.error(
                where,
                _("la transition « %(t)s » d'un délai doit être déclenchée par le système.")
                % {"t": target.get("key")},
            )

    def check_transitions(self, status_keys: set[str]) -> set[str]:
        keys: set[str] = set()
        for item in transitions(self.workflow):
            key = item.get("key")
            where = _("Transition « %(k)s »") % {"k": key}
            if not isinstance(key, str) or not KEY_PATTERN.match(key):
                self.error(where, _("identifiant invalide."))
                continue
            if key in keys:
                self.error(where, _("cet identifiant est pris par une autre transition."))
            keys.add(key)
            if not isinstance(item.get("label"), str) or not item["label"].strip():
                self.error(where, _("le libellé est vide."))
            origins = item.get("from")
            if not isinstance(origins, list) or not origins:
                self.error(where, _("indiquez au moins un statut de départ."))
                origins = []
            for origin in origins:
                if not _among(origin, status_keys):
                    self.error(
                        where, _("le statut de départ « %(s)s » n'existe pas.") % {"s": origin}
                    )
            if not _among(item.get("to"), status_keys):
                self.error(
                    where, _("le statut d'arrivée « %(s)s » n'existe pas.") % {"s": item.get("to")}
                )
            if item.get("by") == "system" and (
                item.get("comment") == "required"
                or any(isinstance(f, dict) and f.get("required") for f in _list(item.get("fields")))
            ):
                self.error(
                    where,
                    _(
                        "le système ne peut pas remplir de commentaire ni de champ "
                        "obligatoire : cette transition ne serait jamais prise."
                    ),
                )
            if as_text(item.get("by")) not in WHO:
                self.error(
                    where,
                    _("qui peut la déclencher ? « %(w)s » est inconnu.") % {"w": item.get("by")},
                )
            if item.get("comment", "none") not in COMMENT:
                self.error(where, _("le commentaire doit être none, optional ou required."))
            self.check_guard(where, item.get("guard"), item)
            fields = item.get("fields") or []
            if not isinstance(fields, list):
                self.error(where, _("les champs à remplir doivent être une liste."))
            else:
                from grc.demarches.definition import check_definition

                page = {"schema": 1, "pages": [{"key": "t", "title": "t", "fields": fields}]}
                if fields:
                    for problem in check_definition(page):
                        self.error(where, _("champ à remplir — %(p)s") % {"p": problem})
        return keys

    def check_guard(self, where: str, guard: Any, item: dict) -> None:
        if guard is None:
            return
        problems = conditions.check(guard)
        for problem in problems:
            self.error(where, _("condition : %(p)s") % {"p": problem})
        if problems:
            return
        own = {
            f["key"]
            for f in _list(item.get("fields"))
            if isinstance(f, dict) and isinstance(f.get("key"), str)
        }
        for name in sorted(conditions.referenced_fields(guard)):
            spec = self.form_fields.get(name)
            if name in own:
                continue
            if spec is None:
                self.error(
                    where,
                    _("la condition porte sur « %(k)s », qui n'existe pas dans le formulaire.")
                    % {"k": name},
                )
            elif not has_answer(spec):
                self.error(
                    where,
                    _("la condition porte sur « %(k)s », qui n'attend pas de réponse.")
                    % {"k": name},
                )

    def check_graph(self, status_keys: set[str], initial: Any) -> None:
        """Every status reachable from the initial one; every non-terminal one with a way out."""
        edges: dict[str, set[str]] = {key: set() for key in status_keys}
        for item in transitions(self.workflow):
            for origin in _list(item.get("from")):
                if _among(origin, edges) and _among(item.get("to"), status_keys):
                    edges[origin].add(item["to"])
        seen, todo = set(), [initial] if _among(initial, status_keys) else []
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(edges[key] - seen)
        for item in statuses(self.workflow):
            key = item.get("key")
            if not _among(key, status_keys):
                continue
            where = _("Statut « %(k)s »") % {"k": key}
            if _among(initial, status_keys) and key not in seen:
                self.error(where, _("aucune transition n'y mène depuis le statut initial."))
            if item.get("terminal") is False and not edges.get(key):
                self.error(where, _("ce statut n'est pas final mais aucune transition n'en part."))
            if item.get("terminal") is True and edges.get(key):
                self.error(where, _("ce statut est final : aucune transition ne doit en partir."))

    def check_action(self, where: str, action: Any, *, fields) -> None:
        if not isinstance(action, dict):
            self.error(where, _("une action doit être un objet JSON."))
            return
        kind = as_text(action.get("type"))
        where = f"{where}, action « {ACTION_TYPES.get(kind, kind)} »"
        if kind not in ACTION_TYPES:
            self.error(where, _("type d'action inconnu."))
            return
        for name in ("subject", "body", "message", "template", "title"):
            source = action.get(name)
            if source is None:
                continue
            if not isinstance(source, str):
                self.error(where, _("« %(n)s » doit être un texte.") % {"n": name})
                continue
            for problem in check_text(source):
                self.error(where, f"{name} : {problem}")
        if kind in ("email", "sms", "message", "note") and not action.get("body"):
            self.error(where, _("le texte est vide."))
        if kind == "email":
            if action.get("to") not in EMAIL_TARGETS:
                self.error(where, _("destinataire inconnu : « %(t)s ».") % {"t": action.get("to")})
            agents = action.get("agents")
            if action.get("to") == "agents" and not (
                isinstance(agents, list) and agents and all(isinstance(a, str) for a in agents)
            ):
                self.error(where, _("indiquez les adresses e-mail des agents."))
            if not action.get("subject"):
                self.error(where, _("l'objet est vide."))
        if kind == "request_pieces":
            # A fixed list, or the agent's own list typed in a field of the transition.
            items = action.get("items")
            fixed = (
                isinstance(items, list)
                and bool(items)
                and all(isinstance(i, str) and i.strip() for i in items)
            )
            if not fixed and not isinstance(action.get("items_field"), str):
                self.error(where, _("indiquez les pièces demandées."))
            for name in ("items_field", "deadline_field"):
                if action.get(name) is not None and action[name] not in fields:
                    self.error(
                        where,
                        _("« %(f)s » n'est pas un champ que cette transition fait remplir.")
                        % {"f": action[name]},
                    )
            days = action.get("deadline_days")
            if days is None and action.get("deadline_field") is None:
                self.error(where, _("indiquez le délai pour répondre."))
            elif days is not None and (
                isinstance(days, bool) or not isinstance(days, int) or days < 1
            ):
                self.error(where, _("le délai pour répondre compte au moins un jour."))
        if kind == "document":
            if as_text(action.get("kind")) not in DOCUMENT_KINDS:
                self.error(where, _("type de document inconnu."))
            if not action.get("template") or not action.get("title"):
                self.error(where, _("le titre et le contenu du document sont obligatoires."))
        if kind == "assign" and not (action.get("service") or action.get("agent")):
            self.error(where, _("indiquez un service ou un agent."))
        if kind == "set_fields":
            values = action.get("values")
            if not isinstance(values, dict) or not values:
                self.error(where, _("indiquez les valeurs à renseigner."))
            else:
                for key, value in values.items():
                    if not isinstance(key, str) or not KEY_PATTERN.match(key):
                        self.error(
                            where, _("identifiant de champ invalide : « %(k)s ».") % {"k": key}
                        )
                    if isinstance(value, str):
                        for problem in check_text(value):
                            self.error(where, f"{key} : {problem}")
        if kind == "webhook":
            if not _webhook_url_ok(action.get("url")):
                self.error(
                    where,
                    _(
                        "l'adresse du webhook doit commencer par https:// "
                        "(http:// seulement pour une adresse locale)."
                    ),
                )
            if not isinstance(action.get("secret"), str) or len(action.get("secret", "")) < 16:
                self.error(where, _("le secret de signature compte au moins 16 caractères."))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _among(value: Any, keys) -> bool:
    """`value in keys` for a document that may hold lists or objects where keys belong."""
    return isinstance(value, str) and value in keys


def _webhook_url_ok(url: Any) -> bool:
    """https, or plain http to this machine (a receiver beside the platform: the worker still
    calls private addresses only when GRC_WEBHOOK_ALLOW_PRIVATE says so)."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")


def check_workflow(workflow: Any, form: dict[str, Any]) -> list[str]:
    """Everything that keeps a workflow from being published, as French sentences for staff."""
    return _Checker(workflow, form).run()
