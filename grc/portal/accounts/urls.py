"""Account pages: allauth's views under French paths, and our own (profile)."""

from allauth.account import views as allauth
from django.urls import include, path, re_path

from grc.portal.accounts import views
from grc.portal.accounts.branding import branded

urlpatterns = [
    path("connexion/", branded(allauth.login), name="account_login"),
    path("deconnexion/", branded(allauth.logout), name="account_logout"),
    path("inactif/", branded(allauth.account_inactive), name="account_inactive"),
    path("inscription/", branded(allauth.signup), name="account_signup"),
    path("reauthentification/", branded(allauth.reauthenticate), name="account_reauthenticate"),
    path("adresses/", branded(allauth.email), name="account_email"),
    path(
        "confirmation/",
        branded(allauth.email_verification_sent),
        name="account_email_verification_sent",
    ),
    re_path(
        r"^confirmation/(?P<key>[-:\w]+)/$",
        branded(allauth.confirm_email),
        name="account_confirm_email",
    ),
    path("mot-de-passe/", branded(allauth.password_change), name="account_change_password"),
    path("mot-de-passe/definir/", branded(allauth.password_set), name="account_set_password"),
    path("mot-de-passe/oubli/", branded(allauth.password_reset), name="account_reset_password"),
    path(
        "mot-de-passe/oubli/envoye/",
        branded(allauth.password_reset_done),
        name="account_reset_password_done",
    ),
    re_path(
        r"^mot-de-passe/nouveau/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        branded(allauth.password_reset_from_key),
        name="account_reset_password_from_key",
    ),
    path(
        "mot-de-passe/nouveau/fait/",
        branded(allauth.password_reset_from_key_done),
        name="account_reset_password_from_key_done",
    ),
    path("", views.account_home, name="account_home"),
    path("profil/", views.profile, name="profile"),
    path("franceconnect/", include("grc.portal.franceconnect.urls")),
]
