from django import forms
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from grc.base import access
from grc.base.admin.scoped import ScopedAdmin, form_changes
from grc.base.models import Collectivite, Membership, Role, Service, User
from grc.base.services import accounts as services
from grc.base.validators import normalize_email


class PasswordFields(forms.Form):
    password1 = forms.CharField(
        label=_("nouveau mot de passe"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Laissez vide pour ne pas le changer. Au moins 10 caractères."),
    )
    password2 = forms.CharField(
        label=_("confirmation du mot de passe"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class AccountForm(forms.ModelForm):
    password1 = PasswordFields.base_fields["password1"]
    password2 = PasswordFields.base_fields["password2"]
    # Add form only: the role given to the new person, so that a collectivité admin never creates
    # an account they cannot see afterwards.
    collectivite = forms.ModelChoiceField(
        label=_("collectivité"), queryset=Collectivite.objects.none(), required=False
    )
    role = forms.ChoiceField(
        label=_("rôle"), choices=[("", "---------"), *Role.choices], required=False
    )
    service = forms.ModelChoiceField(
        label=_("service"), queryset=Service.objects.none(), required=False
    )

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "is_active", "is_platform_admin"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        if self.instance.pk:
            for name in ("collectivite", "role", "service"):
                del self.fields[name]
        else:
            self.fields["collectivite"].queryset = access.administered_collectivites(actor)
            self.fields["service"].queryset = Service.objects.filter(
                collectivite__in=access.administered_collectivites(actor)
            ).select_related("collectivite")
            must_grant = not access.is_platform_admin(actor)
            self.fields["collectivite"].required = must_grant
            self.fields["role"].required = must_grant

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                _(
                    "Un compte existe déjà avec cette adresse. Pour lui donner un rôle, utilisez "
                    "« Rôles des agents »."
                ),
            )
        return email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first or second:
            if first != second:
                self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
            else:
                try:
                    validate_password(first, self.instance)
                except ValidationError as error:
                    self.add_error("password1", error)
        if cleaned.get("role"):
            membership = Membership(
                collectivite=cleaned.get("collectivite"),
                service=cleaned.get("service"),
                role=cleaned["role"],
            )
            try:
                membership.full_clean(exclude=["user"], validate_unique=False)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(User)
class AccountAdmin(ScopedAdmin):
    form = AccountForm
    visible_to = staticmethod(access.accounts_visible_to)
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_platform_admin",
        "last_login",
    ]
    list_filter = ["is_active", "is_platform_admin"]
    search_fields = ["email", "first_name", "last_name"]
    ordering = ["email"]

    def get_fieldsets(self, request, obj=None):
        identity = ["email", "first_name", "last_name", "is_active", "is_platform_admin"]
        sets = [
            (None, {"fields": identity}),
            (_("Mot de passe"), {"fields": ["password1", "password2"]}),
        ]
        if obj is None:
            sets.append(
                (_("Rôle dans une collectivité"), {"fields": ["collectivite", "role", "service"]})
            )
        return sets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        actor = request.user

        class BoundAccountForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=actor, **kw)

        return BoundAccountForm

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined"]
        if not access.is_platform_admin(request.user):
            readonly.append("is_platform_admin")
        return readonly

    def has_add_permission(self, request):
        return access.can_create_account(request.user)

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff and (
            obj is None or access.can_change_account(request.user, obj)
        )

    def create(self, request, form):
        data = form.cleaned_data
        user = services.create_user(
            actor=request.user,
            email=data["email"],
            password=data.get("password1") or None,
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            is_platform_admin=bool(data.get("is_platform_admin")),
        )
        if data.get("role"):
            services.grant_role(
                actor=request.user,
                user=user,
                collectivite=data["collectivite"],
                role=data["role"],
                service=data.get("service"),
            )
        return user

    def update(self, request, obj, form):
        user = services.update_user(
            actor=request.user,
            user=obj,
            changes=form_changes(form, exclude=("password1", "password2")),
        )
        if form.cleaned_data.get("password1"):
            services.set_password(
                actor=request.user, user=user, password=form.cleaned_data["password1"]
            )
        return user


class MembershipForm(forms.ModelForm):
    user_email = forms.EmailField(
        label=_("adresse e-mail du compte"),
        help_text=_("Le compte doit exister (créez-le dans « Comptes » sinon)."),
    )

    class Meta:
        model = Membership
        fields = ["collectivite", "service", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["user_email"]

    def clean_user_email(self):
        email = normalize_email(self.cleaned_data["user_email"])
        user = User.objects.filter(email=email, is_active=True).first()
        if user is None:
            raise ValidationError(_("Aucun compte actif n'a cette adresse e-mail."))
        self.instance.user = user
        return email

    def clean(self):
        cleaned = super().clean()
        duplicate = (
            self.instance.pk is None
            and self.instance.user_id
            and cleaned.get("role")
            and Membership.objects.filter(
                user=self.instance.user,
                collectivite=cleaned.get("collectivite"),
                service=cleaned.get("service"),
                role=cleaned["role"],
            ).exists()
        )
        if duplicate:
            raise ValidationError(_("Cette personne a déjà ce rôle."))
        return cleaned


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    form = MembershipForm
    visible_to = staticmethod(access.memberships_visible_to)
    list_display = ["user", "role", "collectivite", "service", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__last_name", "service__name"]
    list_select_related = ["user", "collectivite", "service", "service__collectivite"]

    def get_fields(self, request, obj=None):
        return (
            ["user", "collectivite", "service", "role"]
            if obj
            else ["user_email", "collectivite", "service", "role"]
        )

    def get_readonly_fields(self, request, obj=None):
        return ["user", "collectivite"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        administered = access.administered_collectivites(request.user)
        if db_field.name == "collectivite":
            kwargs["queryset"] = administered
        elif db_field.name == "service":
            kwargs["queryset"] = Service.objects.filter(
                collectivite__in=administered
            ).select_related("collectivite")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return access.administered_collectivites(request.user).exists()

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff and (
            obj is None or access.can_grant(request.user, collectivite_id=obj.collectivite_id)
        )

    has_delete_permission = has_change_permission

    def create(self, request, form):
        data = form.cleaned_data
        return services.grant_role(
            actor=request.user,
            user=form.instance.user,
            collectivite=data["collectivite"],
            role=data["role"],
            service=data.get("service"),
        )

    def update(self, request, obj, form):
        return services.update_role(actor=request.user, membership=obj, changes=form_changes(form))

    def delete_model(self, request, obj):
        services.revoke_role(actor=request.user, membership=obj)

    def delete_queryset(self, request, queryset):
        # Each role is revoked on its own: a refused one (one's own admin role) is reported and
        # the others are still revoked.
        for membership in queryset.select_related("user"):
            try:
                services.revoke_role(actor=request.user, membership=membership)
            except ValidationError as error:
                messages.error(request, f"{membership.user} : {' '.join(error.messages)}")
