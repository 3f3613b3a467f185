from django.urls import path

from grc.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.root, name="root"),
    path("c/<slug:slug>/", views.home, name="home"),
]
