"""The admin of letter templates (imported by the channels admin): an administrator of a
collectivité writes its templates; nobody sees another collectivité's. Writes go through
grc.channels.letters.services.save_letter_template, which checks the Jinja texts."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from grc.base.admin.scoped import CollectiviteOwnedAdmin, form_changes, form_data
from grc.channels.letters import selectors, services
from grc.channels.models import LetterTemplate
from grc.demarches.texts import FILTERS, VARIABLES


class LetterTemplateForm(forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = ["collectivite", "name", "subject", "body", "signature", "is_active"]

    def clean(self):
        cleaned = super().clean()
        for name, problems in services.check_letter_template(cleaned).items():
            for problem in problems:
                self.add_error(name, problem)
        return cleaned


@admin.register(LetterTemplate)
class LetterTemplateAdmin(CollectiviteOwnedAdmin):
    form = LetterTemplateForm
    visible_to = staticmethod(selectors.templates_visible_to)
    list_display = ["name", "collectivite", "subject", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "subject"]
    list_select_related = ["collectivite"]
    always_readonly = ("variables",)
    fields = ["collectivite", "name", "subject", "body", "signature", "is_active", "variables"]

    @admin.display(description=_("Variables et filtres utilisables"))
    def variables(self, obj=None):
        rows = [(f"{{{{ {name} }}}}", label) for name, label in VARIABLES.items()]
        rows += [(f"|{name}", label) for name, label in FILTERS.items()]
        return format_html_join("", "<div><code>{}</code> : {}</div>", rows)

    def create(self, request, form):
        return services.save_letter_template(
            actor=request.user,
            collectivite=form.cleaned_data["collectivite"],
            data=form_data(form, exclude=("collectivite",)),
        )

    def update(self, request, obj, form):
        original = LetterTemplate.objects.get(pk=obj.pk)
        return services.save_letter_template(
            actor=request.user,
            collectivite=original.collectivite,
            data=form_changes(form, exclude=("collectivite",)),
            template=original,
        )
