from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from grc.base import access
from grc.base.admin.scoped import CollectiviteOwnedAdmin, ScopedAdmin, form_changes, form_data
from grc.base.models import Collectivite, Service
from grc.base.services import collectivites as services


class CollectiviteForm(forms.ModelForm):
    # "ville.fr" typed as the website means https://ville.fr.
    website = forms.URLField(label=_("site web"), required=False, assume_scheme="https")
    hosts_text = forms.CharField(
        label=_("noms d'hôte"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Un par ligne (ex. demarches.ville.fr). Sans nom d'hôte, le portail reste "
            "joignable à l'adresse /c/<identifiant court>/."
        ),
    )

    class Meta:
        model = Collectivite
        fields = [
            "name", "kind", "slug", "reference_prefix", "siren", "is_active", "address_line1",
            "address_line2", "postal_code", "city", "country", "email", "phone", "website", "logo",
            "primary_colour", "secondary_colour", "legal_mentions", "dpo_name", "dpo_email",
            "dpo_address", "publication_director", "accessibility_status", "accessibility_rate",
            "accessibility_audit_date", "accessibility_auditor", "accessibility_non_compliances",
            "accessibility_derogations", "accessibility_contact", "accessibility_multiyear_plan",
            "accessibility_action_plan",
        ]  # fmt: skip
        localized_fields = ["accessibility_rate"]  # "64,5" as typed in French

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["hosts_text"].initial = "\n".join(
                self.instance.hosts.values_list("host", flat=True)
            )

    def clean_hosts_text(self):
        hosts = services.normalize_hosts(self.cleaned_data["hosts_text"].splitlines())
        services.check_hosts_free(hosts, collectivite_id=self.instance.pk)
        return hosts


@admin.register(Collectivite)
class CollectiviteAdmin(ScopedAdmin):
    form = CollectiviteForm
    visible_to = staticmethod(access.administered_collectivites)
    list_display = ["name", "kind", "slug", "siren", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug", "siren"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "kind",
                    "slug",
                    "reference_prefix",
                    "siren",
                    "is_active",
                    "staff_2fa_required",
                ]
            },
        ),
        (
            _("Coordonnées"),
            {
                "fields": [
                    "address_line1",
                    "address_line2",
                    "postal_code",
                    "city",
                    "country",
                    "email",
                    "phone",
                    "website",
                ]
            },
        ),
        (_("Portail"), {"fields": ["hosts_text", "logo", "primary_colour", "secondary_colour"]}),
        (_("Mentions légales"), {"fields": ["publication_director", "legal_mentions"]}),
        (_("Données personnelles"), {"fields": ["dpo_name", "dpo_email", "dpo_address"]}),
        (
            _("Déclaration d'accessibilité"),
            {
                "description": _(
                    "Publiée sur la page « Accessibilité » du portail ; l'état de conformité "
                    "figure en pied de chaque page. Sans audit, le portail est non conforme."
                ),
                "fields": [
                    "accessibility_status",
                    "accessibility_rate",
                    "accessibility_audit_date",
                    "accessibility_auditor",
                    "accessibility_non_compliances",
                    "accessibility_derogations",
                    "accessibility_contact",
                    "accessibility_multiyear_plan",
                    "accessibility_action_plan",
                ],
            },
        ),
    ]

    def has_add_permission(self, request):
        return access.can_create_collectivite(request.user)

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff and (
            obj is None or access.can_administer(request.user, obj.pk)
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not access.is_platform_admin(request.user):
            return sorted(services.PLATFORM_ONLY_FIELDS)
        return []

    def get_prepopulated_fields(self, request, obj=None):
        return {} if "slug" in self.get_readonly_fields(request, obj) else self.prepopulated_fields

    def create(self, request, form):
        return services.create_collectivite(
            actor=request.user, data=form_data(form), hosts=form.cleaned_data["hosts_text"]
        )

    def update(self, request, obj, form):
        return services.update_collectivite(
            actor=request.user,
            collectivite=obj,
            changes=form_changes(form),
            hosts=form.cleaned_data["hosts_text"],
        )


@admin.register(Service)
class ServiceAdmin(CollectiviteOwnedAdmin):
    visible_to = staticmethod(access.services_visible_to)
    list_display = ["name", "collectivite", "email", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "collectivite__name"]
    list_select_related = ["collectivite"]
    fields = [
        "collectivite",
        "name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        "opening_hours",
        "is_active",
    ]

    def get_queryset(self, request):
        return access.services_visible_to(request.user).filter(
            collectivite__in=access.administered_collectivites(request.user)
        )

    def create(self, request, form):
        data = form_data(form, exclude=("collectivite",))
        return services.create_service(
            actor=request.user, collectivite=form.cleaned_data["collectivite"], data=data
        )

    def update(self, request, obj, form):
        return services.update_service(actor=request.user, service=obj, changes=form_changes(form))
