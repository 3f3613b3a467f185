"""Account pages: allauth's views under French paths, and our own (profile)."""

from allauth.account import views as allauth
from django.urls import path, re_path

from grc.portal.accounts import views

urlpatterns = [
    path("connexion/", allauth.login, name="account_login"),
    path("deconnexion/", allauth.logout, name="account_logout"),
    path("inactif/", allauth.account_inactive, name="account_inactive"),
    path("inscription/", allauth.signup, name="account_signup"),
    path("reauthentification/", allauth.reauthenticate, name="account_reauthenticate"),
    path("adresses/", allauth.email, name="account_email"),
    path("confirmation/", allauth.email_verification_sent, name="account_email_verification_sent"),
    re_path(
        r"^confirmation/(?P<key>[-:\w]+)/$", allauth.confirm_email, name="account_confirm_email"
    ),
    path("mot-de-passe/", allauth.password_change, name="account_change_password"),
    path("mot-de-passe/definir/", allauth.password_set, name="account_set_password"),
    path("mot-de-passe/oubli/", allauth.password_reset, name="account_reset_password"),
    path(
        "mot-de-passe/oubli/envoye/",
        allauth.password_reset_done,
        name="account_reset_password_done",
    ),
    re_path(
        r"^mot-de-passe/nouveau/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        allauth.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    path(
        "mot-de-passe/nouveau/fait/",
        allauth.password_reset_from_key_done,
        name="account_reset_password_from_key_done",
    ),
    path("", views.account_home, name="account_home"),
    path("profil/", views.profile, name="profile"),
]
