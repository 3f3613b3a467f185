"""FranceConnect's pages, under /comptes/franceconnect/ (grc/portal/accounts/urls.py). The
return and logout addresses are those registered with FranceConnect for each portal host."""

from django.urls import path

from grc.portal.franceconnect import views

urlpatterns = [
    path("connexion/", views.start, name="franceconnect_login"),
    path("retour/", views.callback, name="franceconnect_callback"),
    path("relier/", views.link, name="franceconnect_link"),
    path("deconnexion/", views.logout, name="franceconnect_logout"),
    path("deconnexion/fin/", views.logout_done, name="franceconnect_logout_done"),
]
