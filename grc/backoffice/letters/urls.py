"""Letters in and out (included by grc/backoffice/urls.py, namespace "backoffice")."""

from django.urls import path

from grc.backoffice.letters import views

urlpatterns = [
    path("courrier/", views.letter_list, name="letter_list"),
    path("courrier/nouveau/", views.letter_register, name="letter_register"),
    path("courrier/envoyer/", views.letter_send, name="letter_send"),
    path("courrier/<int:letter_id>/", views.letter_detail, name="letter_detail"),
    path("courrier/<int:letter_id>/fichier/", views.letter_file, name="letter_file"),
]
