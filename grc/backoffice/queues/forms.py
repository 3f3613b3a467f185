"""The queues' filter form (GET): every field optional; a field that does not validate is
dropped from the search and said in a message, never an error page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from grc.backoffice.queues import selectors
from grc.base.models import Channel
from grc.demarches.search import MAX_QUERY_LENGTH, clean_query
from grc.demarches.services.assignment import TAG_MAX_LENGTH

ANY = [("", _("Tous"))]
DEADLINES = [
    ("", _("Toutes")),
    ("depassee", _("Dépassée")),
    ("proche", _("Dans %(n)d jours au plus") % {"n": selectors.DEADLINE_SOON_DAYS}),
    ("aucune", _("Sans échéance")),
]


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        help_text=_(
            "Référence, code de suivi, nom, e-mail ou téléphone de l'usager, texte des "
            "réponses et des messages."
        ),
    )
    demarche = forms.ChoiceField(label=_("Démarche"), required=False)
    status = forms.ChoiceField(label=_("Statut"), required=False)
    channel = forms.ChoiceField(label=_("Canal"), required=False, choices=[*ANY, *Channel.choices])
    service = forms.ChoiceField(label=_("Service"), required=False)
    assignee = forms.ChoiceField(label=_("Agent"), required=False)
    received_from = forms.DateField(
        label=_("Reçu à partir du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_to = forms.DateField(
        label=_("Reçu jusqu'au"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    deadline = forms.ChoiceField(label=_("Échéance"), required=False, choices=DEADLINES)
    tag = forms.CharField(label=_("Étiquette"), required=False, max_length=TAG_MAX_LENGTH)
    sort = forms.ChoiceField(
        label=_("Trier par"),
        required=False,
        choices=[(s.slug, s.label) for s in selectors.SORTS],
    )

    def __init__(self, data, *, choices: dict[str, list[tuple[str, str]]]):
        super().__init__(data)
        self.fields["demarche"].choices = [("", _("Toutes")), *choices["demarche"]]
        self.fields["status"].choices = [*ANY, *choices["status"]]
        self.fields["service"].choices = [*ANY, *choices["service"]]
        self.fields["assignee"].choices = [
            *ANY,
            ("aucun", _("Non attribué")),
            *choices["assignee"],
        ]
        self.fields["q"].widget.attrs.update({"type": "search", "maxlength": MAX_QUERY_LENGTH})

    def clean_q(self) -> str:
        return clean_query(self.cleaned_data.get("q") or "")

    def _plausible(self, name: str):
        day = self.cleaned_data.get(name)
        if day is not None and not 1900 <= day.year <= 2200:
            raise forms.ValidationError(_("Saisissez une date entre 1900 et 2200."))
        return day

    def clean_received_from(self):
        return self._plausible("received_from")

    def clean_received_to(self):
        return self._plausible("received_to")

    def clean_tag(self) -> str:
        return (self.cleaned_data.get("tag") or "").strip()

    def filters(self) -> selectors.Filters:
        """The valid fields only (call after is_valid(), whatever it answered)."""
        data = getattr(self, "cleaned_data", {})
        demarche, service = data.get("demarche"), data.get("service")
        return selectors.Filters(
            demarche=int(demarche) if demarche else None,
            status=data.get("status") or "",
            channel=data.get("channel") or "",
            service=int(service) if service else None,
            assignee=data.get("assignee") or "",
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
            deadline=data.get("deadline") or "",
            tag=data.get("tag") or "",
            q=data.get("q") or "",
        )

    def chosen_sort(self) -> selectors.Sort:
        return selectors.sort_by_slug(getattr(self, "cleaned_data", {}).get("sort") or "")

    def problems(self) -> list[str]:
        """One sentence per field ignored."""
        return [
            _("Filtre « %(label)s » ignoré : %(error)s")
            % {"label": self.fields[name].label, "error": " ".join(errors)}
            for name, errors in self.errors.items()
            if name in self.fields
        ]

    def active(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(name) for name in self.fields if name != "sort")
