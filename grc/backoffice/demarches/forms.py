"""Forms of the démarches pages. They shape and label the input; the services validate and
write (their ValidationErrors are put back on the fields they name)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.utils.translation import gettext_lazy as _

from grc.backoffice.demarches import selectors
from grc.backoffice.forms import ServiceChoiceField
from grc.base.models import Channel, Collectivite
from grc.demarches import texts
from grc.demarches.models import Demarche
from grc.demarches.models.demarches import default_channels
from grc.demarches.services.demarches import SETTINGS_FIELDS

# Texts have their own page; the service in charge is chosen among the collectivité's.
SETTINGS_FORM_FIELDS = tuple(name for name in SETTINGS_FIELDS if name != "texts")
# Channels a citizen's request can arrive through (not the platform's own).
FILING_CHANNELS = [
    (value, label) for value, label in Channel.choices if value not in ("admin", "system")
]
MAX_IMPORT_BYTES = 2 * 1024 * 1024
CATALOGUE = ""


def _slug_conflict_message() -> str:
    for constraint in Demarche._meta.constraints:
        if constraint.name == "demarche_slug_unique":
            return str(constraint.violation_error_message)
    return ""


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the fields it names (the slug's uniqueness, reported by the
    model as a whole, belongs to the slug); anything else goes on top of the form, with the
    name of the setting when the form has no field for it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    slug_conflict = _slug_conflict_message()
    for name, errors in error.error_dict.items():
        messages = ValidationError(errors).messages
        if name == NON_FIELD_ERRORS:
            if "slug" in form.fields and slug_conflict in messages:
                form.add_error("slug", slug_conflict)
                messages = [m for m in messages if m != slug_conflict]
            if messages:
                form.add_error(None, messages)
        elif name in form.fields:
            form.add_error(name, messages)
        else:
            label = _field_label(name)
            form.add_error(None, [f"{label} : {m}" for m in messages])


def _field_label(name: str) -> str:
    try:
        return str(Demarche._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:
        return name


def error_lines(error: ValidationError) -> list[str]:
    """Every message of a refusal, each named after its setting when it is about one."""
    if not hasattr(error, "error_dict"):
        return error.messages
    lines = []
    for name, errors in error.error_dict.items():
        for message in ValidationError(errors).messages:
            lines.append(
                message if name == NON_FIELD_ERRORS else f"{_field_label(name)} : {message}"
            )
    return lines


class OwnerFieldsMixin:
    """The collectivité a new démarche belongs to (a select only when the person administers
    several; platform admins may also make a catalogue model) and its service."""

    def add_owner_fields(self, user, *, service_required: bool, allow_catalogue: bool) -> None:
        self.user = user
        collectivites = list(selectors.administered_collectivites(user))
        self.catalogue_allowed = allow_catalogue and user.is_platform_admin
        self.fixed_collectivite: Collectivite | None = None
        if len(collectivites) == 1 and not self.catalogue_allowed:
            self.fixed_collectivite = collectivites[0]
        else:
            choices = [(str(c.pk), c.name) for c in collectivites]
            if self.catalogue_allowed:
                choices.insert(0, (CATALOGUE, _("Catalogue de la plateforme (modèle)")))
            else:
                choices.insert(0, ("", _("— Choisissez —")))
            self.fields["collectivite"] = forms.ChoiceField(
                label=_("Collectivité"), choices=choices, required=not self.catalogue_allowed
            )
        self.collectivites_by_id = {str(c.pk): c for c in collectivites}
        self.fields["service"] = ServiceChoiceField(
            queryset=selectors.administered_services(user),
            required=service_required,
            label=_("Service chargé des dossiers"),
            empty_label=_("— Choisissez —"),
            several_collectivites=len(collectivites) > 1,
            help_text=_("Il figure sur l'accusé de réception. Obligatoire pour publier."),
        )

    def chosen_collectivite(self) -> Collectivite | None:
        if self.fixed_collectivite is not None:
            return self.fixed_collectivite
        return self.collectivites_by_id.get(self.cleaned_data.get("collectivite") or "")

    def clean_owner(self, cleaned: dict[str, Any]) -> None:
        service = cleaned.get("service")
        collectivite = self.chosen_collectivite()
        if "collectivite" in self.fields and service is not None and "collectivite" in cleaned:
            if collectivite is None:
                self.add_error("service", _("Un modèle du catalogue n'a pas de service."))
            elif service.collectivite_id != collectivite.pk:
                self.add_error(
                    "service", _("Ce service n'appartient pas à la collectivité choisie.")
                )


def _settings_fields() -> dict[str, forms.Field]:
    fields = forms.fields_for_model(
        Demarche,
        fields=SETTINGS_FORM_FIELDS,
        widgets={
            "summary": forms.TextInput,
            "description": forms.Textarea(attrs={"rows": 6}),
            "legal_basis": forms.Textarea(attrs={"rows": 3}),
            "data_purpose": forms.Textarea(attrs={"rows": 3}),
            "opens_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "closes_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        },
    )
    fields["channels"] = forms.MultipleChoiceField(
        label=_("Canaux acceptés"),
        choices=FILING_CHANNELS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=default_channels,
        help_text=_("Par où une demande peut arriver (au moins un pour publier)."),
    )
    fields["description"].help_text = _(
        "HTML simple accepté : paragraphes, gras, italique, listes, liens, intertitres."
    )
    for name in ("opens_at", "closes_at"):
        fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"]
    for name, field in fields.items():
        field.label = str(field.label).capitalize() if field.label else name
    return fields


class DemarcheSettingsForm(OwnerFieldsMixin, forms.Form):
    """A new démarche (with its collectivité) or the settings of an existing one."""

    def __init__(self, *args, user, demarche: Demarche | None = None, **kwargs):
        self.demarche = demarche
        if demarche is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(demarche, name) for name in SETTINGS_FORM_FIELDS},
                "service": demarche.service_id,
            }
        super().__init__(*args, **kwargs)
        if demarche is None:
            self.add_owner_fields(user, service_required=False, allow_catalogue=True)
        elif not demarche.is_model:
            self.fields["service"] = ServiceChoiceField(
                queryset=selectors.administered_services(user).filter(
                    collectivite_id=demarche.collectivite_id
                ),
                required=False,
                label=_("Service chargé des dossiers"),
                empty_label=_("— Choisissez —"),
                help_text=_("Il figure sur l'accusé de réception. Obligatoire pour publier."),
            )
        self.fields.update(_settings_fields())
        if demarche is not None:
            # The bound form keeps the order: owner first, then settings.
            self.order_fields(["service", *SETTINGS_FORM_FIELDS])

    def clean(self):
        cleaned = super().clean()
        if self.demarche is None:
            self.clean_owner(cleaned)
        return cleaned

    def settings_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in SETTINGS_FORM_FIELDS}
        data["channels"] = list(data["channels"])
        for name in ("summary", "description", "category", "legal_basis", "data_purpose"):
            data[name] = data[name] or ""
        return data

    GROUPS = (
        (_("Présentation"), ("title", "slug", "summary", "description", "category")),
        (_("Dépôt"), ("service", "who_may_file", "channels", "one_per_citizen")),
        (
            _("Délais et décision"),
            (
                "draft_lifespan_days",
                "implicit_decision",
                "decision_period",
                "decision_period_unit",
                "acknowledgement_required",
            ),
        ),
        (_("Cadre juridique et données"), ("legal_basis", "data_purpose", "retention_months")),
        (_("Ouverture"), ("opens_at", "closes_at")),
    )

    def fieldsets(self) -> list[dict[str, Any]]:
        """The fields grouped for the template (each group a fieldset with a legend)."""
        # A new démarche's service is asked with its collectivité, above these groups.
        skip = {"service"} if self.demarche is None else set()
        return [
            {
                "legend": legend,
                "fields": [
                    self[name] for name in names if name in self.fields and name not in skip
                ],
            }
            for legend, names in self.GROUPS
        ]


def _newlines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


class TextsForm(forms.Form):
    """The acknowledgement texts: each starts from its default; left as is or emptied, the
    default keeps applying (and follows its future improvements)."""

    def __init__(self, *args, demarche: Demarche, **kwargs):
        super().__init__(*args, **kwargs)
        custom = demarche.texts or {}
        for key, default in texts.DEFAULT_TEXTS.items():
            is_subject = key.endswith("_subject")
            widget = (
                forms.TextInput(attrs={"class": "wide"})
                if is_subject
                else forms.Textarea(attrs={"rows": 10, "class": "wide"})
            )
            self.fields[key] = forms.CharField(
                label=texts.TEXT_LABELS[key],
                required=False,
                strip=False,
                widget=widget,
                initial=custom.get(key) or default,
                help_text=_("Laissez vide pour revenir au texte par défaut."),
            )
            self.fields[key].is_custom = bool(custom.get(key))
            self.fields[key].default_text = default

    def texts_data(self) -> dict[str, str]:
        result = {}
        for key, default in texts.DEFAULT_TEXTS.items():
            value = _newlines(self.cleaned_data.get(key) or "")
            if value.strip() and value != default and value.strip() != default.strip():
                result[key] = value
        return result

    def add_texts_errors(self, error: ValidationError) -> None:
        """The service names the text in each message (« label : problem »): put it back on
        that text's field."""
        lines = error.message_dict.get("texts", []) if hasattr(error, "error_dict") else []
        others = error_lines(error) if not lines else []
        for line in lines:
            for key, label in texts.TEXT_LABELS.items():
                prefix = f"{label} : "
                if line.startswith(prefix):
                    self.add_error(key, line[len(prefix) :])
                    break
            else:
                others.append(line)
        if others:
            self.add_error(None, others)


class DefinitionForm(forms.Form):
    """The form definition as raw JSON: the builder without JavaScript, and for experts."""

    definition = forms.CharField(
        label=_("Définition du formulaire (JSON)"),
        widget=forms.Textarea(attrs={"rows": 20, "class": "code wide", "spellcheck": "false"}),
        strip=False,
    )

    def clean_definition(self) -> Any:
        try:
            return json.loads(self.cleaned_data["definition"])
        except ValueError as error:
            raise ValidationError(
                _("Ce texte n'est pas du JSON valide : %(e)s.") % {"e": error}
            ) from None


class AdoptForm(forms.Form):
    """Adopting a catalogue model: the service in charge says which collectivité adopts."""

    slug = forms.CharField(
        label=_("Identifiant court"),
        max_length=80,
        required=False,
        help_text=_(
            "Utilisé dans l'adresse de la démarche. Gardez celui du modèle, sauf si votre "
            "collectivité l'utilise déjà."
        ),
    )

    def __init__(self, *args, user, model: Demarche, **kwargs):
        kwargs.setdefault("initial", {"slug": model.slug})
        super().__init__(*args, **kwargs)
        several = selectors.administered_collectivites(user).count() > 1
        self.fields["service"] = ServiceChoiceField(
            queryset=selectors.administered_services(user),
            label=_("Service chargé des dossiers"),
            empty_label=_("— Choisissez —"),
            several_collectivites=several,
            help_text=_("Il figure sur l'accusé de réception."),
        )
        self.order_fields(["service", "slug"])


class ImportForm(OwnerFieldsMixin, forms.Form):
    file = forms.FileField(
        label=_("Fichier d'export (JSON)"),
        help_text=_("Un fichier obtenu par « Exporter (JSON) » sur cette plateforme ou une autre."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/json,.json"}),
    )
    slug = forms.CharField(
        label=_("Nouvel identifiant court (facultatif)"),
        max_length=80,
        required=False,
        help_text=_("À indiquer si l'identifiant du fichier est déjà utilisé."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_owner_fields(user, service_required=False, allow_catalogue=True)
        self.order_fields(["file", "collectivite", "service", "slug"])

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(
                _("Ce fichier est trop gros pour un export de démarche (2 Mo au plus).")
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        self.clean_owner(cleaned)
        return cleaned

    def file_content(self) -> bytes:
        upload = self.cleaned_data["file"]
        upload.seek(0)
        return upload.read()

    def document(self) -> bytes | dict:
        """The file's content; with a new slug, the parsed document carrying it (a file that
        is not JSON goes as is to the service, which says why)."""
        raw = self.file_content()
        slug = self.cleaned_data.get("slug")
        if not slug:
            return raw
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return raw
        if isinstance(document, dict) and isinstance(document.get("demarche"), dict):
            document["demarche"]["slug"] = slug
        return document
