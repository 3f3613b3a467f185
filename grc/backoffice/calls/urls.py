"""The call log and the incoming-call screen (included by grc/backoffice/urls.py)."""

from django.urls import path

from grc.backoffice.calls import views

urlpatterns = [
    path("appels/", views.call_list, name="call_list"),
    path("appels/noter/", views.call_log, name="call_log"),
    path("appels/entrant/", views.call_incoming, name="call_incoming"),
    path("appels/<int:call_id>/", views.call_edit, name="call_edit"),
]
