"""Included in grc.backoffice.urls (namespace "backoffice")."""

from django.urls import path

from grc.backoffice.usagers import views

urlpatterns = [
    path("usagers/", views.usager_list, name="usager_list"),
    path("usagers/<int:pk>/", views.usager_detail, name="usager_detail"),
    path(
        "usagers/<int:pk>/doublons/<int:other_pk>/",
        views.usager_compare,
        name="usager_compare",
    ),
    path(
        "usagers/<int:pk>/doublons/<int:other_pk>/fusionner/",
        views.usager_merge,
        name="usager_merge",
    ),
    path(
        "usagers/<int:pk>/doublons/<int:other_pk>/ecarter/",
        views.usager_dismiss,
        name="usager_dismiss",
    ),
]
