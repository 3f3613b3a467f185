"""E-mails received (quarantine, raw download, release) and addresses in failure
(included by grc/backoffice/urls.py)."""

from django.urls import path

from grc.backoffice.mail import views

urlpatterns = [
    path("courriels/", views.mail_list, name="mail_list"),
    path("courriels/adresses-en-echec/", views.mail_bounces, name="mail_bounces"),
    path("courriels/<int:mail_id>/", views.mail_detail, name="mail_detail"),
    path("courriels/<int:mail_id>/brut/", views.mail_raw, name="mail_raw"),
    path("courriels/<int:mail_id>/sortir/", views.mail_release, name="mail_release"),
]
