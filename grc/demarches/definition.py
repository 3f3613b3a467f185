"""A démarche's form definition (docs/form-definition.md): what it may contain, and the checks
that publishing runs. Everything here reads plain JSON data; nothing is evaluated as code."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grc.demarches import conditions

SCHEMA_VERSION = 1
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
OPTION_PATTERN = re.compile(r"^[a-z0-9_-]{1,50}$")

# type -> French name shown to staff (form builder palette, error messages)
FIELD_TYPES: dict[str, str] = {
    "title": "Titre de section",
    "explanation": "Texte d'explication",
    "text": "Texte court",
    "textarea": "Texte long",
    "email": "Adresse e-mail",
    "phone": "Téléphone",
    "integer": "Nombre entier",
    "decimal": "Nombre décimal",
    "date": "Date",
    "datetime": "Date et heure",
    "yesno": "Oui / non",
    "checkbox": "Case à cocher",
    "choice": "Choix unique",
    "multiple": "Choix multiple",
    "file": "Pièce jointe",
    "address": "Adresse postale",
    "siret": "SIRET",
    "iban": "IBAN",
    "block": "Bloc répétable",
}
DISPLAY_ONLY = frozenset({"title", "explanation"})
PREFILL_SOURCES: dict[str, str] = {
    "first_name": "Prénom",
    "last_name": "Nom",
    "email": "Adresse e-mail",
    "phone": "Téléphone",
    "birth_date": "Date de naissance",
    "address": "Adresse",
}
PREFILL_TYPES = {
    "first_name": {"text"},
    "last_name": {"text"},
    "email": {"email"},
    "phone": {"phone"},
    "birth_date": {"date"},
    "address": {"address"},
}
# What an attachment may be, checked against the file's content (libmagic), never its name.
FILE_TYPES: dict[str, Any] = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/heic": "HEIC",
    "image/webp": "WebP",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "text/plain": gettext_lazy("Texte"),
}
MAX_FILE_SIZE_MB = 50
MAX_BLOCK_ITEMS = 50

VALIDATION_KEYS = {
    "text": {"min_length", "max_length", "pattern", "pattern_message"},
    "textarea": {"min_length", "max_length"},
    "email": {"max_length"},
    "integer": {"min", "max"},
    "decimal": {"min", "max"},
    "date": {"min", "max"},
    "datetime": {"min", "max"},
}


def empty_definition() -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "pages": [{"key": "page_1", "title": "Votre demande", "condition": None, "fields": []}],
    }


@dataclass(frozen=True)
class Placed:
    """A field where it stands: its page, the section title above it, the block it is in."""

    field: dict[str, Any]
    page: dict[str, Any]
    section: dict[str, Any] | None
    block: dict[str, Any] | None


def placed_fields(definition: dict[str, Any], *, blocks: bool = True) -> Iterator[Placed]:
    """Every field in document order (sub-fields of a block right after the block)."""
    pages = definition.get("pages") if isinstance(definition, dict) else None
    for page in pages if isinstance(pages, list) else []:
        fields = page.get("fields") if isinstance(page, dict) else None
        section = None
        for field in fields if isinstance(fields, list) else []:
            if not isinstance(field, dict):
                continue
            if field.get("type") == "title":
                section = field
            yield Placed(field, page, section, None)
            subfields = field.get("fields")
            if blocks and field.get("type") == "block" and isinstance(subfields, list):
                for sub in subfields:
                    if isinstance(sub, dict):
                        yield Placed(sub, page, section, field)


def fields_by_key(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        p.field["key"]: p.field
        for p in placed_fields(definition)
        if isinstance(p.field.get("key"), str)
    }


def has_answer(field: dict[str, Any]) -> bool:
    return field.get("type") not in DISPLAY_ONLY


class _Checker:
    def __init__(self, definition: Any):
        self.definition = definition
        self.errors: list[str] = []
        self.seen_keys: set[str] = set()
        # Keys a condition may name at this point of the walk, and keys named too early.
        self.earlier: set[str] = set()
        self.all_keys = set(fields_by_key(definition)) if isinstance(definition, dict) else set()

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where} : {message}")

    def run(self) -> list[str]:
        definition = self.definition
        if not isinstance(definition, dict):
            return [_("La définition du formulaire doit être un objet JSON.")]
        if definition.get("schema") != SCHEMA_VERSION:
            self.errors.append(
                _("Version de format inconnue : %(v)s (attendue : %(e)s).")
                % {"v": definition.get("schema"), "e": SCHEMA_VERSION}
            )
        pages = definition.get("pages")
        if not isinstance(pages, list) or not pages:
            self.errors.append(_("Le formulaire doit avoir au moins une page."))
            return self.errors
        page_keys: set[str] = set()
        for number, page in enumerate(pages, start=1):
            self.check_page(number, page, page_keys)
        if not any(
            as_text(p.field.get("type")) in FIELD_TYPES and has_answer(p.field)
            for p in placed_fields(definition)
        ):
            self.errors.append(_("Le formulaire ne pose aucune question."))
        return self.errors

    def check_page(self, number: int, page: Any, page_keys: set[str]) -> None:
        where = _("Page %(n)d") % {"n": number}
        if not isinstance(page, dict):
            self.error(where, _("une page doit être un objet JSON."))
            return
        if as_text(page.get("title")).strip():
            where = _("Page « %(t)s »") % {"t": page["title"]}
        else:
            self.error(where, _("la page n'a pas de titre."))
        key = page.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            self.error(where, _("identifiant de page invalide : « %(k)s ».") % {"k": key})
        elif key in page_keys:
            self.error(
                where, _("l'identifiant « %(k)s » est déjà pris par une autre page.") % {"k": key}
            )
        else:
            page_keys.add(key)
        self.check_condition(where, page.get("condition"), self.earlier)
        fields = page.get("fields")
        if not isinstance(fields, list) or not fields:
            self.error(where, _("la page ne contient aucun champ."))
            return
        for field in fields:
            self.check_field(where, field, block=None)

    def check_field(self, page_where: str, field: Any, *, block: dict | None) -> None:
        if not isinstance(field, dict):
            self.error(page_where, _("un champ doit être un objet JSON."))
            return
        key = as_text(field.get("key"))
        kind = as_text(field.get("type"))
        where = _("%(page)s, champ « %(key)s »") % {"page": page_where, "key": key}
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            self.error(
                where,
                _(
                    "identifiant invalide (lettres minuscules, chiffres et _, "
                    "commençant par une lettre)."
                ),
            )
        elif key in self.seen_keys:
            self.error(where, _("cet identifiant est utilisé par un autre champ."))
        self.seen_keys.add(key)
        if kind not in FIELD_TYPES:
            self.error(where, _("type de champ inconnu : « %(t)s ».") % {"t": kind})
            return
        if kind == "explanation":
            if not (as_text(field.get("text")) or as_text(field.get("label"))).strip():
                self.error(where, _("le texte d'explication est vide."))
        elif not as_text(field.get("label")).strip():
            self.error(where, _("le libellé est vide."))
        for name in ("help", "text"):
            if name in field and not isinstance(field[name], str):
                self.error(where, _("« %(n)s » doit être un texte.") % {"n": name})
        if "required" in field and not isinstance(field["required"], bool):
            self.error(where, _("« required » doit valoir true ou false."))
        self.check_condition(where, field.get("condition"), self.earlier)
        if kind in ("choice", "multiple"):
            self.check_options(where, field)
        if kind == "choice" and field.get("widget", "radio") not in ("radio", "select"):
            self.error(
                where,
                _("présentation inconnue : « %(w)s » (radio ou select).")
                % {"w": field.get("widget")},
            )
        if kind == "file":
            self.check_file(where, field)
        if "validation" in field:
            self.check_validation(where, field)
        prefill = field.get("prefill")
        if prefill and not isinstance(prefill, str):
            self.error(where, _("préremplissage invalide."))
        elif prefill:
            if prefill not in PREFILL_SOURCES:
                self.error(where, _("préremplissage inconnu : « %(p)s ».") % {"p": prefill})
            elif kind not in PREFILL_TYPES[prefill]:
                self.error(
                    where,
                    _("ce type de champ ne peut pas être prérempli par « %(p)s ».")
                    % {"p": PREFILL_SOURCES[prefill]},
                )
        if kind == "block":
            if block is not None:
                self.error(where, _("un bloc répétable ne peut pas en contenir un autre."))
                return
            self.check_block(where, field)
        if has_answer(field) and key:
            self.earlier.add(key)

    def check_condition(self, where: str, condition: Any, allowed: set[str]) -> None:
        if condition is None:
            return
        problems = conditions.check(condition)
        if problems:
            for problem in problems:
                self.error(where, _("condition : %(p)s") % {"p": problem})
            return
        fields = fields_by_key(self.definition)
        for name in sorted(conditions.referenced_fields(condition)):
            if name not in self.all_keys:
                self.error(
                    where, _("la condition porte sur « %(k)s », qui n'existe pas.") % {"k": name}
                )
            elif name not in allowed:
                self.error(
                    where,
                    _(
                        "la condition porte sur « %(k)s », qui vient après "
                        "(une condition ne peut dépendre que d'un champ "
                        "précédent)."
                    )
                    % {"k": name},
                )
            elif not has_answer(fields[name]):
                self.error(
                    where,
                    _("la condition porte sur « %(k)s », qui n'attend pas de réponse.")
                    % {"k": name},
                )

    def check_options(self, where: str, field: dict) -> None:
        options = field.get("options")
        if not isinstance(options, list) or not options:
            self.error(where, _("un champ à choix doit proposer au moins une option."))
            return
        values: set[str] = set()
        for option in options:
            value = option.get("value") if isinstance(option, dict) else None
            if not isinstance(value, str) or not OPTION_PATTERN.match(value):
                self.error(where, _("valeur d'option invalide : « %(v)s ».") % {"v": value})
            elif value in values:
                self.error(where, _("l'option « %(v)s » apparaît deux fois.") % {"v": value})
            else:
                values.add(value)
            if isinstance(option, dict) and not as_text(option.get("label")).strip():
                self.error(where, _("l'option « %(v)s » n'a pas de libellé.") % {"v": value})

    def check_file(self, where: str, field: dict) -> None:
        accept = field.get("accept", list(FILE_TYPES))
        if not isinstance(accept, list) or not accept:
            self.error(where, _("indiquez au moins un type de fichier accepté."))
        else:
            for mime in accept:
                if not isinstance(mime, str) or mime not in FILE_TYPES:
                    self.error(
                        where, _("type de fichier non pris en charge : « %(m)s ».") % {"m": mime}
                    )
        size = field.get("max_size_mb", 10)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_FILE_SIZE_MB:
            self.error(
                where,
                _("la taille maximale doit être un nombre entier de 1 à %(m)d Mo.")
                % {"m": MAX_FILE_SIZE_MB},
            )

    def check_block(self, where: str, field: dict) -> None:
        low, high = field.get("min_items", 1), field.get("max_items", 10)
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (low, high)) or not (
            0 <= low <= high <= MAX_BLOCK_ITEMS
        ):
            self.error(
                where,
                _(
                    "le nombre de répétitions doit aller d'un minimum à un maximum "
                    "compris entre 0 et %(m)d."
                )
                % {"m": MAX_BLOCK_ITEMS},
            )
        subfields = field.get("fields")
        if not isinstance(subfields, list) or not subfields:
            self.error(where, _("le bloc ne contient aucun champ."))
            return
        # Inside the block, conditions may name earlier sub-fields of the same block; after the
        # block, only the block itself (its sub-fields belong to each item).
        outer = set(self.earlier)
        for sub in subfields:
            self.check_field(where, sub, block=field)
        self.earlier = outer

    def check_validation(self, where: str, field: dict) -> None:
        rules = field.get("validation")
        kind = field["type"]
        if rules in (None, {}):
            return
        allowed = VALIDATION_KEYS.get(kind, set())
        if not isinstance(rules, dict):
            self.error(where, _("les règles de validation doivent être un objet JSON."))
            return
        for name in sorted(set(rules) - allowed):
            self.error(
                where, _("règle de validation « %(r)s » impossible pour ce type.") % {"r": name}
            )
        lengths = [rules.get(k) for k in ("min_length", "max_length") if k in rules]
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in lengths):
            self.error(where, _("les longueurs doivent être des nombres entiers positifs."))
        elif len(lengths) == 2 and lengths[0] > lengths[1]:
            self.error(where, _("la longueur minimale dépasse la longueur maximale."))
        if "pattern" in rules:
            try:
                re.compile(rules["pattern"])
            except (re.error, TypeError):
                self.error(
                    where,
                    _("le motif « %(p)s » n'est pas une expression régulière valide.")
                    % {"p": rules["pattern"]},
                )
            if not as_text(rules.get("pattern_message")).strip():
                self.error(
                    where,
                    _(
                        "un motif doit avoir un message pour l'usager (ex. « Format "
                        "attendu : 14h30 »)."
                    ),
                )
        bounds = [rules[k] for k in ("min", "max") if k in rules]
        parsed = [_bound(kind, b) for b in bounds]
        if any(p is None for p in parsed):
            self.error(where, _("les bornes min et max ne conviennent pas à ce type."))
        elif len(parsed) == 2 and parsed[0] > parsed[1]:
            self.error(where, _("le minimum dépasse le maximum."))


def as_text(value: Any) -> str:
    """A string property, or "" when the document put something else there (reported
    separately): the checks never fail on a malformed document."""
    return value if isinstance(value, str) else ""


def _bound(kind: str, value: Any):
    try:
        if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == "decimal" and not isinstance(value, bool):
            return Decimal(str(value))
        if kind == "date":
            return datetime.date.fromisoformat(value)
        if kind == "datetime":
            return datetime.datetime.fromisoformat(value)
    except (ValueError, TypeError, InvalidOperation):
        return None
    return None


def check_definition(definition: Any) -> list[str]:
    """Everything that keeps a definition from being published, as French sentences for staff.
    An empty list means it can be published."""
    return _Checker(definition).run()
