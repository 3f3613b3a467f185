"""Texts that staff edit: the acknowledgement e-mails and the free paragraphs of the ARE.

Staff write Jinja templates in a sandbox: they can use the documented variables and the two
date filters, nothing else. ``check_template`` reports problems in French before a text is
saved; ``render_text`` raises ``TemplateRenderError`` (in French) rather than sending a half
rendered or wrong message. The legal mentions of the ARE are NOT here: they are fixed in the
Django template, so that no edit can remove a mention the CRPA requires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from grc.demarches.legal import PARIS, format_date_fr, format_datetime_fr


class TemplateRenderError(Exception):
    """A staff text could not be rendered; ``str(error)`` is a French message for staff."""


# --- The sandbox ------------------------------------------------------------------------------

# Bounds on what one expression may build: the sandbox already blocks attribute tricks, but
# ``'x' * 10**10`` or ``9 ** 9 ** 9`` would still exhaust memory or CPU of a worker.
_MAX_SEQUENCE_LENGTH = 100_000
_MAX_EXPONENT = 100


class _TooCostly(SecurityError):
    """An expression that would build a huge string or number."""


class _FilterValueError(ValueError):
    """A filter received a value it cannot format; the message is French."""


class _TextEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
            raise _TooCostly("exponent too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > _MAX_SEQUENCE_LENGTH
                ):
                    raise _TooCostly("sequence too long")
        return super().call_binop(context, operator, left, right)


def _date_fr(value: date | datetime | None) -> str:
    # None renders as nothing: decision.date is None for démarches without implicit decision,
    # and a text shared by several démarches must not fail to send because of that.
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date() if value.tzinfo else value.date()
    if not isinstance(value, date):
        raise _FilterValueError(f"le filtre date_fr s'applique à une date, pas à « {value} »")
    return format_date_fr(value)


def _datetime_fr(value: date | datetime | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return format_datetime_fr(value)
    if isinstance(value, date):
        return format_date_fr(value)
    raise _FilterValueError(f"le filtre datetime_fr s'applique à une date, pas à « {value} »")


env = _TextEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
env.filters["date_fr"] = _date_fr
env.filters["datetime_fr"] = _datetime_fr

FILTERS: dict[str, str] = {
    "date_fr": (
        "Écrit une date en français : {{ decision.date|date_fr }} donne « 16 juillet 2023 »."
    ),
    "datetime_fr": (
        "Écrit une date et une heure en français : {{ dossier.received_at|datetime_fr }} "
        "donne « 15 mai 2023 à 14 h 05 »."
    ),
}


# --- What staff may use -----------------------------------------------------------------------

VARIABLES: dict[str, str] = {
    "collectivite.name": "Nom de la collectivité",
    "collectivite.address": "Adresse postale de la collectivité (sur plusieurs lignes)",
    "collectivite.email": "Adresse électronique de la collectivité",
    "collectivite.phone": "Téléphone de la collectivité",
    "collectivite.website": "Site internet de la collectivité",
    "collectivite.dpo_name": "Nom du délégué à la protection des données",
    "collectivite.dpo_email": "Adresse électronique du délégué à la protection des données",
    "service.name": "Nom du service chargé du dossier",
    "service.address": "Adresse postale du service (peut être vide)",
    "service.email": "Adresse électronique du service (peut être vide)",
    "service.phone": "Téléphone du service (peut être vide)",
    "service.opening_hours": "Horaires d'accueil du service",
    "demarche.title": "Intitulé de la démarche",
    "demarche.legal_basis": "Fondement juridique de la démarche",
    "dossier.reference": "Référence du dossier",
    "dossier.tracking_code": "Code de suivi du dossier (peut être vide)",
    "dossier.received_at": (
        "Date et heure de réception de la demande (avec le filtre date_fr ou datetime_fr)"
    ),
    "dossier.channel_label": "Canal par lequel la demande a été reçue",
    "dossier.url": "Adresse de la page de suivi du dossier",
    "usager.civility_label": "Civilité de l'usager (« Madame » ou « Monsieur », peut être vide)",
    "usager.first_name": "Prénom de l'usager",
    "usager.last_name": "Nom de l'usager",
    "usager.email": "Adresse électronique de l'usager",
    "usager.address": "Adresse postale de l'usager (peut être vide)",
    "decision.kind": (
        "Décision implicite possible : « sva » (acceptation), « svr » (rejet) ou « none » (aucune)"
    ),
    "decision.date": "Date à laquelle naît la décision implicite (vide s'il n'y en a pas)",
    "decision.period_label": "Délai de la décision implicite, par exemple « 2 mois »",
}

CONTEXT_NAMES: frozenset[str] = frozenset(name.split(".", 1)[0] for name in VARIABLES)

TEXT_LABELS: dict[str, str] = {
    "aee_subject": "Accusé d'enregistrement : objet du courriel",
    "aee_body": "Accusé d'enregistrement : texte du courriel",
    "are_subject": "Accusé de réception : objet du courriel",
    "are_body": "Accusé de réception : texte du courriel (le document PDF est joint)",
    "are_intro": "Accusé de réception : paragraphe d'introduction du document",
    "are_closing": "Accusé de réception : paragraphe de conclusion du document",
}

_SIGNATURE = "{{ service.name }}\n{{ collectivite.name }}\n"

DEFAULT_TEXTS: dict[str, str] = {
    "aee_subject": "Votre demande {{ dossier.reference }} a bien été enregistrée",
    "aee_body": (
        "Bonjour{% if usager.last_name %} {{ usager.first_name }} "
        "{{ usager.last_name }}{% endif %},\n"
        "\n"
        "Votre demande « {{ demarche.title }} » a bien été enregistrée le "
        "{{ dossier.received_at|datetime_fr }}, sous la référence {{ dossier.reference }}.\n"
        "\n"
        "Ce message est un accusé d'enregistrement : il confirme que votre demande nous est "
        "bien parvenue. Un accusé de réception vous sera adressé séparément ; il indiquera "
        "le service chargé de votre dossier, ses coordonnées et, le cas échéant, la date à "
        "laquelle une décision implicite pourra naître.\n"
        "\n"
        "Vous pouvez suivre votre demande à tout moment à l'adresse suivante :\n"
        "{{ dossier.url }}\n"
        "{% if dossier.tracking_code %}Votre code de suivi : {{ dossier.tracking_code }}\n"
        "{% endif %}"
        "\n"
        "Pensez à rappeler la référence {{ dossier.reference }} dans vos échanges avec nous.\n"
        "\n"
        "Bien cordialement,\n"
        "\n" + _SIGNATURE
    ),
    "are_subject": "Accusé de réception de votre demande {{ dossier.reference }}",
    "are_body": (
        "Bonjour{% if usager.last_name %} {{ usager.first_name }} "
        "{{ usager.last_name }}{% endif %},\n"
        "\n"
        "Vous trouverez ci-joint l'accusé de réception de votre demande "
        "« {{ demarche.title }} », reçue le {{ dossier.received_at|date_fr }} et enregistrée "
        "sous la référence {{ dossier.reference }}.\n"
        "\n"
        "Ce document indique le service chargé de votre dossier et ses coordonnées"
        "{% if decision.kind == 'sva' %}, ainsi que la date à laquelle votre demande sera "
        "réputée acceptée si nous ne vous avons pas répondu d'ici là"
        "{% elif decision.kind == 'svr' %}, ainsi que la date à laquelle votre demande sera "
        "réputée rejetée si nous ne vous avons pas répondu d'ici là, et les recours possibles"
        "{% endif %}. Nous vous conseillons de le conserver.\n"
        "\n"
        "Vous pouvez suivre votre demande à tout moment à l'adresse suivante :\n"
        "{{ dossier.url }}\n"
        "{% if dossier.tracking_code %}Votre code de suivi : {{ dossier.tracking_code }}\n"
        "{% endif %}"
        "\n"
        "Bien cordialement,\n"
        "\n" + _SIGNATURE
    ),
    "are_intro": (
        "{{ usager.civility_label or 'Madame, Monsieur' }},\n"
        "\n"
        "Nous avons bien reçu votre demande « {{ demarche.title }} » et nous vous en "
        "remercions. Elle est enregistrée sous la référence {{ dossier.reference }} et sera "
        "examinée par le service indiqué ci-dessous, qui reste à votre disposition pour toute "
        "question.\n"
    ),
    "are_closing": (
        "Vous pouvez suivre l'avancement de votre demande et nous écrire à l'adresse "
        "{{ dossier.url }}"
        "{% if dossier.tracking_code %} (code de suivi : {{ dossier.tracking_code }}){% endif %}."
        " Merci de rappeler la référence {{ dossier.reference }} dans tous vos échanges.\n"
        "\n"
        "Nous vous prions d'agréer, {{ usager.civility_label or 'Madame, Monsieur' }}, "
        "l'expression de nos salutations distinguées.\n"
        "\n" + _SIGNATURE
    ),
}


def sample_context() -> dict[str, Any]:
    """A realistic context, for previews in the editor and for tests."""
    received_at = datetime(2023, 5, 15, 14, 5, tzinfo=PARIS)
    return {
        "collectivite": {
            "name": "Commune de Saint-Exemple",
            "address": "Hôtel de ville\n1 place de la Mairie\n12345 Saint-Exemple",
            "email": "contact@saint-exemple.fr",
            "phone": "01 23 45 67 89",
            "website": "https://www.saint-exemple.fr",
            "dpo_name": "Claire Martin",
            "dpo_email": "dpo@saint-exemple.fr",
        },
        "service": {
            "name": "Service urbanisme",
            "address": "Centre administratif\n3 rue des Écoles\n12345 Saint-Exemple",
            "email": "urbanisme@saint-exemple.fr",
            "phone": "01 23 45 67 00",
            "opening_hours": "Du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h",
        },
        "demarche": {
            "title": "Demande d'autorisation d'occupation du domaine public",
            "legal_basis": "Code général de la propriété des personnes publiques, art. L2122-1",
        },
        "dossier": {
            "reference": "OCC-2023-000042",
            "tracking_code": "BCDFGHJK",
            "received_at": received_at,
            "channel_label": "Formulaire en ligne",
            "url": "https://demarches.saint-exemple.fr/suivi/OCC-2023-000042/",
        },
        "usager": {
            "civility_label": "Madame",
            "first_name": "Lucie",
            "last_name": "Durand",
            "email": "lucie.durand@example.org",
            "address": "12 rue des Lilas\n12345 Saint-Exemple",
        },
        "decision": {
            "kind": "sva",
            "date": date(2023, 7, 16),
            "period_label": "2 mois",
        },
    }


# --- Rendering --------------------------------------------------------------------------------

_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")
_UNDEFINED_ATTR = re.compile(r"has no attribute '([^']+)'$")


def _undefined_message(exc: UndefinedError) -> str:
    text = str(exc)
    if match := _UNDEFINED_NAME.match(text):
        return f"La variable « {match[1]} » n'existe pas."
    if match := _UNDEFINED_ATTR.search(text):
        return f"L'information « {match[1]} » n'existe pas pour cette variable."
    return f"Le texte utilise une variable qui n'existe pas ({text})."


def render_text(source: str, context: Mapping[str, Any]) -> str:
    """Render a staff text; every failure becomes a ``TemplateRenderError`` in French."""
    try:
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(_syntax_message(exc)) from exc
    try:
        return template.render(context)
    except _TooCostly as exc:
        raise TemplateRenderError(
            "Le texte contient un calcul trop volumineux pour être produit."
        ) from exc
    except SecurityError as exc:
        # Checked before UndefinedError: the sandbox reports a blocked attribute that way.
        raise TemplateRenderError(
            "Le texte tente d'accéder à une information interdite "
            "(seules les variables documentées sont autorisées)."
        ) from exc
    except UndefinedError as exc:
        raise TemplateRenderError(_undefined_message(exc)) from exc
    except TemplateError as exc:
        raise TemplateRenderError(f"Le texte n'a pas pu être produit ({exc}).") from exc
    except _FilterValueError as exc:
        raise TemplateRenderError(f"Le texte n'a pas pu être produit : {exc}.") from exc
    except Exception as exc:
        # A filter given the wrong kind of value, a division by zero…: staff wrote something the
        # data cannot satisfy; they need to know, the mail must not go out half rendered.
        raise TemplateRenderError(
            f"Le texte n'a pas pu être produit : erreur dans une expression ({exc})."
        ) from exc


# --- Checking before saving -------------------------------------------------------------------

# Jinja's parser speaks English; the most frequent mistakes get a French explanation.
_SYNTAX_TRANSLATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^unexpected end of template"), "le texte se termine avant la fin d'un bloc"),
    (re.compile(r"^Unexpected end of template"), "le texte se termine avant la fin d'un bloc"),
    (re.compile(r"^unexpected '(.+)'$"), "caractère inattendu « {0} »"),
    (re.compile(r"^unexpected char '(.+)'"), "caractère inattendu « {0} »"),
    (re.compile(r"^No filter named '(.+)'"), "le filtre « {0} » n'existe pas"),
    (re.compile(r"^No test named '(.+)'"), "le test « {0} » n'existe pas"),
    (re.compile(r"^Encountered unknown tag '(.+?)'"), "l'instruction « {0} » est inconnue"),
    (re.compile(r"^expected token '(.+?)', got '(.+?)'"), "« {0} » attendu, « {1} » trouvé"),
    (re.compile(r"^unexpected end of (?:print statement|block)"), "expression incomplète"),
    (re.compile(r"^Expected an expression, got '(.+)'"), "une expression est attendue"),
)


def _syntax_message(exc: TemplateSyntaxError) -> str:
    detail = exc.message or str(exc)
    for pattern, french in _SYNTAX_TRANSLATIONS:
        if match := pattern.search(detail):
            detail = french.format(*match.groups())
            break
    else:
        # Untranslated: Jinja's own words are still better than nothing.
        detail = f"texte non reconnu ({detail})"
    line = f" à la ligne {exc.lineno}" if exc.lineno else ""
    return f"Erreur de syntaxe{line} : {detail}."


def _assigned_names(ast: nodes.Template) -> set[str]:
    # {% set x = … %} or {% for x in … %} shadows a context name; its attributes are the
    # author's own business.
    return {node.name for node in ast.find_all(nodes.Name) if node.ctx in ("store", "param")}


def _undocumented_attributes(
    ast: nodes.Template, names: Iterable[str], documented: Mapping[str, str]
) -> list[str]:
    known = set(names) - _assigned_names(ast)
    found: list[str] = []
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in known:
            dotted = f"{node.node.name}.{node.attr}"
            if dotted not in documented and dotted not in found:
                found.append(dotted)
    # dossier["reference"] is the same as dossier.reference.
    for node in ast.find_all(nodes.Getitem):
        if (
            isinstance(node.node, nodes.Name)
            and node.node.name in known
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            dotted = f"{node.node.name}.{node.arg.value}"
            if dotted not in documented and dotted not in found:
                found.append(dotted)
    return found


def check_template(
    source: str,
    names: Iterable[str] | None = None,
    *,
    documented: Mapping[str, str] | None = None,
    open_names: Iterable[str] = (),
) -> list[str]:
    """French messages describing what is wrong with a staff text; empty when it is sound.

    ``names`` are the top-level variables the text will receive (by default, every documented
    one); ``documented`` the dotted names that exist (by default VARIABLES); the attributes of
    ``open_names`` (answers keyed by field) are not checked. Attribute checks are best effort:
    they see ``dossier.reference`` but not attributes reached through a loop variable.
    """
    available = frozenset(names) if names is not None else CONTEXT_NAMES
    try:
        ast = env.parse(source)
        # Compiling as well catches unknown filters and tests, which parsing lets through.
        env.from_string(source)
    except TemplateSyntaxError as exc:
        return [_syntax_message(exc)]

    errors: list[str] = []
    listed = ", ".join(sorted(available))
    for name in sorted(meta.find_undeclared_variables(ast) - available):
        errors.append(f"La variable « {name} » n'existe pas. Variables disponibles : {listed}.")
    checked = available - frozenset(open_names)
    for dotted in _undocumented_attributes(ast, checked, documented or VARIABLES):
        errors.append(
            f"« {dotted} » n'est pas une variable connue. "
            "Consultez la liste des variables disponibles."
        )
    return errors


__all__ = [
    "CONTEXT_NAMES",
    "DEFAULT_TEXTS",
    "FILTERS",
    "TEXT_LABELS",
    "VARIABLES",
    "TemplateRenderError",
    "check_template",
    "env",
    "render_text",
    "sample_context",
]
